"""Reply texts in English and Simplified Chinese.

Templates are Telegram HTML: every value put into them is cleaned, bounded
(``bot.i18n.values``) and escaped by ``t``, so feed titles and user input can never
break the markup, garble the text or make a reply too long. Failures the bot acts on
by kind (a feed that cannot be read) become sentences here, in the chat's
language, in ``bot.i18n.failures``.
"""

from __future__ import annotations

from html import escape

from bot.i18n.texts import TEXTS, Plural
from bot.i18n.values import bounded

LANGUAGES = ("en", "zh")


def pick_language(chat_language: str | None, user_language: str | None) -> str:
    """The chat's choice wins; otherwise the user's Telegram language; else English."""
    for candidate in (chat_language, user_language):
        if candidate:
            code = candidate.split("-")[0].lower()
            if code in LANGUAGES:
                return code
    return "en"


def t(lang: str, key: str, /, **values: object) -> str:
    """The reply ``key`` in ``lang`` (falling back to English), values shown and HTML-escaped.

    Each string value is cleaned and cut as ``bot.i18n.values.bounded`` says. A
    plural template picks its form by the ``count`` value. Raises KeyError for an
    unknown key or a value the template names but was not given.
    """
    escaped = {
        name: escape(str(bounded(name, value)), quote=False) for name, value in values.items()
    }
    return _template(lang, key, values).format(**escaped)


def plain(lang: str, key: str, /, **values: object) -> str:
    """Like ``t`` but nothing is escaped: for a markup-free phrase (a reason) that goes
    into another template, whose ``t`` escapes it once, or onto a terminal."""
    return _template(lang, key, values).format(**values)


def _template(lang: str, key: str, values: dict[str, object]) -> str:
    table = TEXTS.get(lang, TEXTS["en"])
    template = table.get(key) or TEXTS["en"][key]
    if isinstance(template, Plural):
        return template.one if values["count"] == 1 else template.other
    return template
