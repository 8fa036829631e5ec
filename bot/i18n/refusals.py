"""Refused input as sentences: a filter's syntax error, a backup attribute's bad value,
an OPML file that cannot be read.

``FilterSyntaxError`` carries a stable code and a 1-based position, ``OpmlError`` a
kind; only here do they become words, so a Chinese chat never gets the parser's
English inside a Chinese sentence. A code this table does not know (a newer
parser's) gets the generic sentence with its position.
"""

from __future__ import annotations

from bot.filters import FilterSyntaxError
from bot.filters.syntax import MAX_EXPRESSION_CHARS, MAX_REGEX_CHARS, MAX_TERMS
from bot.i18n import plain
from bot.i18n.texts import EN
from bot.i18n.values import LABEL_UNITS, shown
from bot.opml import OpmlError
from bot.opml_options import Refusal

_LIMITS = {
    "too_long": MAX_EXPRESSION_CHARS,
    "too_many_terms": MAX_TERMS,
    "regex_too_long": MAX_REGEX_CHARS,
}


def filter_failure_text(lang: str, error: FilterSyntaxError) -> str:
    """Why a filter expression was refused, in ``lang``, as plain text (see ``plain``)."""
    key = f"filter_error_{error.code}"
    if key not in EN:
        return plain(lang, "filter_error", position=error.position)
    return plain(lang, key, position=error.position, limit=_LIMITS.get(error.code, 0))


def refusal_text(lang: str, refusal: Refusal) -> str:
    """Why a backup attribute's value was not restored, in ``lang``, as plain text.

    The value is shown cleaned and cut short (``LABEL_UNITS``): it came from a file.
    """
    if refusal.filter_error is not None:
        return filter_failure_text(lang, refusal.filter_error)
    value = shown(refusal.value, LABEL_UNITS)
    expected = plain(lang, "restore_separator").join(refusal.expected)
    return plain(lang, "restore_bad_value", value=value, expected=expected)


def opml_failure_text(lang: str, error: OpmlError) -> str:
    """Why an OPML file cannot be read, in ``lang``, as plain text (see ``plain``)."""
    return plain(lang, f"opml_{error.kind.value}", detail=str(error))
