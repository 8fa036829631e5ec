"""The keyword filter language: parse an expression once, match entries fast.

See `bot.filters.match` for the rules, `bot.filters.syntax` for the grammar,
`bot.filters.canonical` for the stored spelling and `bot.filters.legacy` for
filters stored before operators existed.
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
