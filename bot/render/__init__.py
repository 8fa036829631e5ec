"""The render stage: one entry in, one Telegram message (text + entities) out; pure."""

from bot.render.boilerplate import Boilerplate, detect_boilerplate
from bot.render.html import html_to_plain
from bot.render.layout import render_entry
from bot.render.rich import utf16_len
from bot.render.terminal import format_for_terminal

__all__ = [
    "Boilerplate",
    "detect_boilerplate",
    "format_for_terminal",
    "html_to_plain",
    "render_entry",
    "utf16_len",
]
