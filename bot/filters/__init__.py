"""The keyword filter language: parse an expression once, match entries fast.

See `bot.filters.match` for the rules and `bot.filters.syntax` for the grammar.
"""

from bot.filters.match import (
    CompiledFilter,
    FilterFields,
    FilterResult,
    PreparedFields,
    compile_filter,
    match_all,
    prepare,
)
from bot.filters.syntax import FilterSyntaxError

__all__ = [
    "CompiledFilter",
    "FilterFields",
    "FilterResult",
    "FilterSyntaxError",
    "PreparedFields",
    "compile_filter",
    "match_all",
    "prepare",
]
