"""A reply cut into messages Telegram accepts, at line boundaries, never breaking its HTML.

Replies are Telegram HTML in which every line is balanced: each template closes
on its line every tag it opens there, and every value in it is escaped
(``bot.i18n.t``), so a reply may be cut after any line. Telegram's limits
(Bot API, sendMessage): the text after entity parsing holds 1-4096 characters,
and about 100 entities count; this module measures the parsed text in UTF-16
code units (Telegram counts characters, so this is the safe side) and the
entities as opening tags. A single line too long for one message loses its
markup and is cut at a word boundary with an ellipsis. At most ``MAX_PARTS``
messages go out for one reply; what does not fit is counted so the caller can
say how many lines were left out.
"""

from __future__ import annotations

import re
from html import escape

from bot.render.cut import cut_plain
from bot.render.rich import utf16_len

MAX_TEXT_UNITS = 4096
MAX_ENTITIES = 100
MAX_PARTS = 3
"""Messages per reply: a group's replies go out 3.2 s apart (``bot.ratelimit``) and a
reply may wait 8 s for its slot (``bot.replies``), so a fourth would be dropped."""
NOTICE_ROOM = 100
"""UTF-16 units kept free in the last message for the caller's "N more lines" notice."""

_TAG = re.compile(r"<[^>]*>")
_OPENING_TAG = re.compile(r"<[A-Za-z]")
_REFERENCE = re.compile(r"&(lt|gt|amp|quot);")
_DECODED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _plain(line: str) -> str:
    """What Telegram shows of an HTML line: tags dropped, ``escape``'s references decoded."""
    return _REFERENCE.sub(lambda match: _DECODED[match.group(1)], _TAG.sub("", line))


def text_units(line: str) -> int:
    """UTF-16 units of ``line``'s text once Telegram has parsed its HTML."""
    return utf16_len(_plain(line))


def entity_count(line: str) -> int:
    """Entities ``line``'s HTML makes: one per opening tag."""
    return len(_OPENING_TAG.findall(line))


def _fitted(line: str) -> str:
    """``line`` as is when one message holds it, else its plain text cut to fit."""
    if text_units(line) < MAX_TEXT_UNITS - NOTICE_ROOM and entity_count(line) <= MAX_ENTITIES:
        return line
    return escape(cut_plain(_plain(line), MAX_TEXT_UNITS - NOTICE_ROOM), quote=False)


def _pack(lines: list[str], room: int) -> tuple[list[str], list[str]]:
    """The leading ``lines`` one message of ``room`` units holds, and the rest."""
    units = entities = 0
    for index, line in enumerate(lines):
        units += text_units(line) + 1  # the newline joining it to the next
        entities += entity_count(line)
        if index > 0 and (units > room or entities > MAX_ENTITIES):
            return lines[:index], lines[index:]
    return lines, []


def split_reply(html: str, max_parts: int = MAX_PARTS) -> tuple[list[str], int]:
    """``html`` as at most ``max_parts`` messages, and how many of its lines were left out.

    When lines are left out, the last message has ``NOTICE_ROOM`` units to spare.
    Messages that would show nothing are skipped (Telegram refuses empty text).
    """
    rest = [_fitted(line) for line in html.split("\n")]
    chunks: list[list[str]] = []
    while rest:
        last = len(chunks) == max_parts - 1
        chunk, remainder = _pack(rest, MAX_TEXT_UNITS)
        if last and remainder:
            chunk, remainder = _pack(rest, MAX_TEXT_UNITS - NOTICE_ROOM)
            chunks.append(chunk)
            rest = remainder
            break
        chunks.append(chunk)
        rest = remainder
    parts = ["\n".join(chunk) for chunk in chunks]
    return [part for part in parts if _plain(part).strip()], len(rest)
