"""What a reply shows of a user- or feed-supplied string: cleaned like delivered text, bounded.

A feed's owner chooses its title and its entries' titles, and a user chooses the
arguments the bot echoes back; either may be 10,000 characters long or carry a
right-to-left override (U+202E) that garbles or spoofs what the chat shows. Every
such string in a reply, a keyboard's button label or a button's notice goes
through ``shown``: the renderer's own hygiene (``bot.render.rich.fold``: control
and bidi characters out, whitespace runs folded to one space) and its own cut at
a sentence or word boundary with an ellipsis (``bot.render.cut.cut_plain``).
``bot.i18n.t`` does this to every template value, so a template cannot forget it;
code that builds reply lines or button labels itself calls ``shown``.

Limits are UTF-16 code units, Telegram's measure: a title or label is read at a
glance, a URL must stay recognisable, a filter expression should be shown whole.
"""

from __future__ import annotations

from bot.render.cut import cut_plain
from bot.render.rich import fold

TITLE_UNITS = 200
"""A feed's or an entry's title."""
URL_UNITS = 300
"""A feed's URL, or an argument echoed back."""
LONG_UNITS = 1000
"""A filter expression and its description in words."""
LABEL_UNITS = 60
"""An inline keyboard button's label."""
NOTICE_UNITS = 200
"""A button press's notice (answerCallbackQuery allows 0-200 characters)."""

_BY_NAME = {"title": TITLE_UNITS, "expr": LONG_UNITS, "words": LONG_UNITS}
"""Template placeholders that deserve another limit than ``URL_UNITS``."""


def shown(text: str, limit: int) -> str:
    """``text`` as one clean line of at most ``limit`` UTF-16 units, ``…`` marking a cut."""
    return cut_plain(fold(text), limit)


def bounded(name: str, value: object) -> object:
    """A template value as shown: strings through ``shown`` with the placeholder's limit.

    Numbers and other values pass unchanged; ``name`` is the placeholder (``title``
    gets ``TITLE_UNITS``, ``expr`` and ``words`` ``LONG_UNITS``, any other string
    ``URL_UNITS``).
    """
    if isinstance(value, str):
        return shown(value, _BY_NAME.get(name, URL_UNITS))
    return value
