"""Fetch failures as sentences: one per ``FetchErrorKind``, in the chat's language.

The bot acts on kinds; only here does a kind become words, so a Chinese chat never
gets the fetcher's English detail inside a Chinese sentence.
"""

from __future__ import annotations

from http import HTTPStatus

from bot.feeds.failure import HOST_KINDS, FetchError, FetchErrorKind, human_size
from bot.i18n import plain


def _number(value: float) -> int | float:
    """20.0 -> 20: whole numbers read as such in a sentence."""
    return int(value) if value == int(value) else value


def _values(error: FetchError) -> dict[str, object] | None:
    """What the kind's sentence names, or None when the error lacks it."""
    kind = error.kind
    if kind in HOST_KINDS:
        return {"host": error.host} if error.host else None
    if kind is FetchErrorKind.HTTP_STATUS:
        if error.status is None:
            return None
        try:
            phrase = HTTPStatus(error.status).phrase
        except ValueError:
            phrase = ""
        return {"status": error.status, "phrase": phrase}
    if kind in (FetchErrorKind.TIMEOUT, FetchErrorKind.TOO_MANY_REDIRECTS):
        return None if error.limit is None else {"count": _number(error.limit)}
    if kind is FetchErrorKind.TOO_BIG:
        return None if error.limit is None else {"size": human_size(error.limit)}
    return {}


def fetch_failure_text(lang: str, error: FetchError) -> str:
    """One line in ``lang`` saying why a feed could not be read, as plain text.

    Not HTML-escaped: pass it as a value to ``t``, which escapes it once. An error
    that lacks the value its sentence names gets the generic sentence.
    """
    values = _values(error)
    if values is None:
        return plain(lang, "fetch_failed")
    return plain(lang, f"fetch_{error.kind.value}", **values).rstrip()


def stored_error_text(lang: str, stored: str) -> str:
    """A feed's stored last error in ``lang``, plain text: a ``FetchError.code`` worded,
    older free text as it was."""
    error = FetchError.from_code(stored)
    return stored if error is None else fetch_failure_text(lang, error)
