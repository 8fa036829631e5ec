"""Cutting text to a UTF-16 budget where a reader expects it to stop.

Preference, within the last half of what fits: the end of a sentence (``. ! ?``
followed by a space, or their full-width CJK forms anywhere, closing quotes kept with it), then a
space (Latin words), then any character -- never inside a surrogate pair, a ZWJ
emoji sequence, a combining mark or a flag. An ellipsis marks every cut; spans are
clipped at the cut and empty ones vanish.
"""

from __future__ import annotations

import re
import unicodedata

from bot.render.rich import Rich, clip, utf16_len

ELLIPSIS = "…"
# Sentence ends: ASCII ones before a space; ideographic full stop and full-width ! ? anywhere;
# closing quotes and brackets stay with their sentence.
_SENTENCE = re.compile(
    "(?:[.!?\u2026](?=\\s)|[\u3002\uff01\uff1f])[\u300d\u300f\u201d\u2019\"')\uff09]*|\n\n"
)
_SPACE = re.compile(r"\s")
# Punctuation that must not dangle before the ellipsis (ASCII and full-width forms).
_TRAILING = " \t\n,;:(-\u3001\uff0c\uff1b\uff1a\uff08\u300c\u300e\u201c\u2018\u2013\u2014"


def _flag_half(text: str, at: int) -> bool:
    """True when ``at`` falls inside a regional-indicator pair (a flag)."""
    run = 0
    while at - run > 0 and 0x1F1E6 <= ord(text[at - run - 1]) <= 0x1F1FF:
        run += 1
    return run % 2 == 1 and 0x1F1E6 <= ord(text[at]) <= 0x1F1FF


def _glued(text: str, at: int) -> bool:
    """True when cutting before ``text[at]`` would break one visible character."""
    code = ord(text[at])
    return (
        code == 0x200D
        or ord(text[at - 1]) == 0x200D
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or unicodedata.combining(text[at]) != 0
        or _flag_half(text, at)
    )


def fit(text: str, budget: int) -> int:
    """The longest prefix length (code points) of ``text`` within ``budget`` UTF-16 units."""
    if utf16_len(text) <= budget:
        return len(text)
    # every code point is one or two units, so the answer lies in [budget // 2, budget]
    low, high = budget // 2, min(budget, len(text))
    while low < high:
        middle = (low + high + 1) // 2
        if utf16_len(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def _boundary(text: str, hard: int) -> int:
    """Where to cut at or before ``hard``: sentence, else word, else a safe character."""
    floor = hard // 2
    window = text[floor:hard]
    sentence = None
    for match in _SENTENCE.finditer(window):
        sentence = match.end()
    if sentence is not None:
        return floor + sentence
    space = max((m.start() for m in _SPACE.finditer(window, max(len(window) - 200, 0))), default=-1)
    if space > 0:
        return floor + space
    at = hard
    while 0 < at < len(text) and _glued(text, at):
        at -= 1
    return at if at > 0 else hard


def cut(rich: Rich, budget: int) -> Rich:
    """``rich`` within ``budget`` UTF-16 units, ending in an ellipsis if anything was dropped."""
    text = rich.text
    if utf16_len(text) <= budget:
        return rich
    if budget < 1:
        return Rich()
    hard = fit(text, budget - 1)
    at = _boundary(text, hard)
    head = text[:at].rstrip(_TRAILING)
    if not head:
        return Rich(ELLIPSIS)
    return Rich(head + ELLIPSIS, clip(rich.spans, len(head)))


def cut_plain(text: str, budget: int) -> str:
    """Plain text within ``budget`` UTF-16 units, cut the same way."""
    return cut(Rich(text), budget).text
