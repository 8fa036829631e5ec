"""The render stage: one entry in, one Telegram message (text + entities) out; pure."""

from bot.render import boilerplate, links
from bot.render.boilerplate import Boilerplate, detect_boilerplate
from bot.render.html import html_to_plain
from bot.render.layout import render_entry
from bot.render.rich import utf16_len
from bot.render.terminal import format_for_terminal


def clear_caches() -> None:
    """Forget the render stage's memos (block splits, block texts, checked links).

    They only save work when a feed's entries are detected and rendered in a row;
    a benchmark calls this between rounds so that each round starts cold.
    """
    boilerplate.clear_caches()
    links.clear_caches()


__all__ = [
    "Boilerplate",
    "clear_caches",
    "detect_boilerplate",
    "format_for_terminal",
    "html_to_plain",
    "render_entry",
    "utf16_len",
]
