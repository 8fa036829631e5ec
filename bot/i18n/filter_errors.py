"""A refused filter as one line in the chat's language: where, and why.

The parser raises codes with values (``bot.filters.syntax.FilterSyntaxError``);
only here do they become words, so a Chinese chat never gets English from the
parser or from RE2 inside a Chinese sentence.
"""

from __future__ import annotations

import unicodedata

from bot.filters import FilterSyntaxError
from bot.i18n import plain, t


def filter_error_reason(lang: str, error: FilterSyntaxError) -> str:
    """Why the filter was refused, in ``lang``, as plain text (``t`` escapes it)."""
    values = dict(error.details)
    code = error.code
    if code == "dangling_operator" and unicodedata.normalize("NFKC", str(values["operator"])) == (
        "NOT"
    ):
        code = "dangling_not"
    if code == "bad_regex":
        problem = plain(lang, f"filter_regex_{values['problem']}", **values)
        return plain(lang, "filter_error_bad_regex", problem=problem)
    return plain(lang, f"filter_error_{code}", **values)


def filter_error_text(lang: str, error: FilterSyntaxError) -> str:
    """The whole reply to a refused filter, Telegram HTML: the character where the
    problem starts (as the user sees characters) and the reason."""
    return t(lang, "filter_bad", position=error.position, reason=filter_error_reason(lang, error))
