"""A message as a terminal shows it, for ``newsrelay preview``.

Styles become ANSI SGR codes (bold, italic, underline, strikethrough, dim for
code/pre, a bar for quotes); a text link keeps its text, underlined, followed by
the URL in dim brackets. Pictures come first as ``🖼 URL`` lines, as the chat
would show them above the caption. Escape characters already in the text are
removed, so a feed cannot drive the terminal.
"""

from __future__ import annotations

import re
from itertools import pairwise

from bot.models import MessageEntity, OutgoingMessage

_SGR = {
    "bold": "1",
    "italic": "3",
    "underline": "4",
    "strikethrough": "9",
    "code": "2",
    "pre": "2",
    "text_link": "4;34",
    "spoiler": "7",
    "blockquote": "36",
    "expandable_blockquote": "36",
}
_ESCAPES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_RESET = "\x1b[0m"


def _index(text: str) -> list[int]:
    """Code-point index of every UTF-16 unit position (the end included)."""
    index: list[int] = []
    for i, char in enumerate(text):
        index.append(i)
        if ord(char) > 0xFFFF:
            index.append(i)
    index.append(len(text))
    return index


def _styled(text: str, entities: tuple[MessageEntity, ...]) -> str:
    units = _index(text)

    def at(unit: int) -> int:
        return units[min(max(unit, 0), len(units) - 1)]

    ranges = [(at(e.offset), at(e.offset + e.length), e) for e in entities if e.type in _SGR]
    cuts = sorted({0, len(text), *(a for a, _, _ in ranges), *(b for _, b, _ in ranges)})
    out: list[str] = []
    for a, b in pairwise(cuts):
        active = [e for s, t, e in ranges if s <= a and b <= t]
        codes = ";".join(_SGR[e.type] for e in active)
        out.append(f"\x1b[{codes}m{text[a:b]}{_RESET}" if codes else text[a:b])
        out.extend(f" \x1b[2m<{_ESCAPES.sub('', e.url or '')}>{_RESET}"
                   for s, t, e in ranges if t == b and e.type == "text_link")  # fmt: skip
    return "".join(out)


def format_for_terminal(message: OutgoingMessage) -> str:
    """The message as it would reach a chat: pictures and caption, else text."""
    if message.photo_urls:
        pictures = [f"🖼 {_ESCAPES.sub('', url)}" for url in message.photo_urls]
        body = _styled(_ESCAPES.sub("", message.caption), message.caption_entities)
        return "\n".join([*pictures, body]) if message.caption else "\n".join(pictures)
    return _styled(_ESCAPES.sub("", message.text), message.entities)
