"""Refused input as sentences: a backup attribute's bad value, an OPML file that cannot
be read.

``OpmlError`` carries a kind, a backup ``Refusal`` the words it expected or the
filter parser's error; only here do they become words (the filter's through
``bot.i18n.filter_errors``, as /filter words them), so a Chinese chat never gets
English inside a Chinese sentence.
"""

from __future__ import annotations

from bot.durations import duration_text
from bot.i18n import plain
from bot.i18n.filter_errors import filter_error_reason
from bot.i18n.values import LABEL_UNITS, shown
from bot.opml import OpmlError
from bot.opml_options import INTERVAL, TIME_ZONE, Refusal


def refusal_text(lang: str, refusal: Refusal) -> str:
    """Why a backup attribute's value was not restored, in ``lang``, as plain text.

    The value is shown cleaned and cut short (``LABEL_UNITS``): it came from a file.
    """
    error = refusal.filter_error
    if error is not None:
        reason = filter_error_reason(lang, error)
        return plain(lang, "restore_filter_bad", position=error.position, reason=reason)
    value = shown(refusal.value, LABEL_UNITS)
    if refusal.bounds is not None:
        low, high = (duration_text(lang, seconds) for seconds in refusal.bounds)
        if value.isdecimal() and len(value) < 12:  # seconds, as the attribute holds them
            value = duration_text(lang, int(value))
        return plain(lang, "restore_interval_bounds", value=value, low=low, high=high)
    if refusal.attribute == INTERVAL:
        return plain(lang, "restore_interval_bad", value=value)
    if refusal.attribute == TIME_ZONE:
        return plain(lang, "restore_time_zone_bad", value=value)
    expected = plain(lang, "restore_separator").join(refusal.expected)
    return plain(lang, "restore_bad_value", value=value, expected=expected)


def opml_failure_text(lang: str, error: OpmlError) -> str:
    """Why an OPML file cannot be read, in ``lang``, as plain text (see ``plain``)."""
    return plain(lang, f"opml_{error.kind.value}", detail=str(error))
