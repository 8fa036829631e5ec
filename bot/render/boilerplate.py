"""Blocks a feed repeats in every entry (mirror footers, copyright lines), found and cut.

A body is split into blocks at block-level tags (p, div, hr, headings, lists,
tables...). A block is boilerplate when it sits among the first or last three
blocks of at least two entries *and* of more than half of the entries that have a
body: a statistical rule, learned from the feed's own entries, with no list of
known footers.

One entry cannot vote, so two structural rules apply to every entry on their own:

- a trailing block after the last ``<hr>`` that is short (at most 300 characters)
  and mostly link text -- the shape of "更多RSS: https://feedx.net ..." or "Read
  more on ..." footers -- is dropped, unless it is all the body there is;
- a leading block that is nothing but an ISO-8601 timestamp (feedx's date line) is
  dropped: the header already shows the entry's time;
- a line repeated next to each of ``REPEATS`` or more pictures in one entry (a
  forum's "此主题相关图片如下：" before each of eight photos, a CMS's "Click to
  enlarge") is kept once: its first occurrence stays. Only a line of its own
  counts (line breaks, block edges or pictures on both sides; outside tables,
  lists and code) with a letter in it: a speaker's name before each turn of a
  dialogue or a bold "Advantages:" before each product's list is content.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import unescape
from itertools import pairwise

from bot.models import Entry
from bot.render.html import MAX_HTML, html_to_plain

_EDGE = 3
_LONGEST = 1000
_FOOTER = 300
_WINDOW = 32_768
_CACHED = 65_536
_BOUNDARY = re.compile(
    r"<(?:/?(?:p|div|h[1-6]|ul|ol|li|blockquote|table|section|article|aside|figure|pre"
    r"|header|footer|center|dl)\b|hr\b)[^<>]{0,2000}>",
    re.I,
)
# Bounded repeats: an unclosed tag repeated a million times must not make these quadratic.
_HR = re.compile(r"<hr\b[^<>]{0,500}>", re.I)
_ANCHOR = re.compile(r"<a\b[^<>]{0,2000}>(.{0,2000}?)</a\s*>", re.I | re.S)
REPEATS = 3
_REPEAT_WINDOW = 32_768
_MIN_LINE = 4
_NEAR = 3
_TAG_SPLIT = re.compile(r"(<[^<>]{0,2000}>)")
_TEXT_NODE = re.compile(r">([^<]{4,})")
_LINE_EDGE = re.compile(
    r"</?(?:br|p|div|h[1-6]|hr|img|figure|figcaption|section|article|header|footer|center"
    r"|blockquote|ul|ol|li|table|tr|td|th|dl|dt|dd)\b",
    re.I,
)
_CONTAINER = re.compile(
    r"<(/?)(?:table|ul|ol|dl|pre|code|select|textarea|kbd|samp|tt|blockquote)\b", re.I
)
_TIMESTAMP = re.compile(
    r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"
)


@dataclass(frozen=True, slots=True)
class Boilerplate:
    """The block texts (whitespace-folded) a feed repeats at the start or end of entries."""

    leading: frozenset[str] = frozenset()
    trailing: frozenset[str] = frozenset()


def _blocks(html: str) -> tuple[tuple[int, int], ...]:
    """Block ranges near both ends of ``html``; the middle of a long body is one big block.

    Bodies up to ``_CACHED`` characters are remembered: ``detect_boilerplate`` splits
    every body of a feed, and rendering the feed's entries right after splits the
    same bodies again.
    """
    return _cached_blocks(html) if len(html) <= _CACHED else _split_blocks(html)


def _split_blocks(html: str) -> tuple[tuple[int, int], ...]:
    size = len(html)
    edges = [(0, size)] if size <= 2 * _WINDOW else [(0, _WINDOW), (size - _WINDOW, size)]
    cuts = [0]
    for a, b in edges:
        cuts += [m.start() for m in _BOUNDARY.finditer(html, a, b)]
    cuts.append(size)
    return tuple((a, b) for a, b in pairwise(cuts) if b > a)


_cached_blocks = functools.lru_cache(maxsize=256)(_split_blocks)


@functools.lru_cache(maxsize=2048)
def _block_text(html: str, start: int, end: int) -> str:
    """The words of one block; remembered, as detection and stripping read the same blocks."""
    return html_to_plain(html[start:end])


def _edge_texts(html: str, blocks: Sequence[tuple[int, int]]) -> tuple[list[str], list[str]]:
    """Texts of the first and the last few non-empty blocks; a block near both goes to one."""

    def take(order: Sequence[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for index in order:
            a, b = blocks[index]
            if b - a > _LONGEST * 8:
                break
            text = _block_text(html, a, b)
            if text:
                found[index] = text
                if len(found) == _EDGE:
                    break
        return found

    count = len(blocks)
    first, last = take(range(count)), take(range(count - 1, -1, -1))
    for index in first.keys() & last.keys():
        del (first if index * 2 >= count else last)[index]
    return list(first.values()), list(last.values())


def detect_boilerplate(entries: Sequence[Entry]) -> Boilerplate:
    """Learn the feed's repeated leading and trailing blocks from its own entries."""
    leading: Counter[str] = Counter()
    trailing: Counter[str] = Counter()
    bodies = 0
    for entry in entries:
        html = entry.content_html[:MAX_HTML]
        if not html.strip():
            continue
        bodies += 1
        first, last = _edge_texts(html, _blocks(html))
        leading.update({t for t in first if len(t) <= _LONGEST})
        trailing.update({t for t in last if len(t) <= _LONGEST})

    def common(counts: Counter[str]) -> frozenset[str]:
        return frozenset(t for t, n in counts.items() if n >= 2 and n * 2 > bodies)

    return Boilerplate(common(leading), common(trailing))


def _footer_after_rule(html: str) -> str:
    """Drop a short, mostly-links block after the last <hr>, if text precedes the rule."""
    rules = list(_HR.finditer(html, max(len(html) - _WINDOW, 0)))
    if not rules:
        return html
    found = rules[-1]
    tail = html[found.end() :]
    text = html_to_plain(tail)
    if not text or len(text) > _FOOTER:
        return html
    linked = sum(len(html_to_plain(m.group(1))) for m in _ANCHOR.finditer(tail))
    if linked * 2 < len(text.replace(" ", "")) or not html_to_plain(html[: found.start()]):
        return html
    return html[: found.start()]


def _free_lines(parts: list[str]) -> list[int]:
    """Indexes of the text parts (even indexes) that are lines of their own.

    A line of its own has a line break, block edge or picture on both sides (not a
    link, bold or span: "Advantages:" in bold before each product's list is
    content), and stands outside tables, lists and code.
    """
    free: list[int] = []
    depth = 0
    last = len(parts) - 1
    for index, part in enumerate(parts):
        if index % 2:
            tag = _CONTAINER.match(part)
            if tag is not None:
                depth = max(depth + (-1 if tag.group(1) else 1), 0)
        elif (
            depth == 0
            and len(part) >= _MIN_LINE
            and (index == 0 or _LINE_EDGE.match(parts[index - 1]))
            and (index == last or _LINE_EDGE.match(parts[index + 1]))
        ):
            free.append(index)
    return free


def _repeated_once(html: str) -> str:
    """``html`` with later copies of a line of its own repeated ``REPEATS`` times cut."""
    head = html[:_REPEAT_WINDOW]
    nodes = _TEXT_NODE.findall(head)
    if len(set(nodes)) + REPEATS - 1 > len(nodes):
        return html  # most bodies: no text comes back often enough (checked in C)
    repeated = {
        text.strip()
        for text, n in Counter(nodes).items()
        if n >= REPEATS and len(text.strip()) >= _MIN_LINE and _has_letter(text)
    }
    if not repeated:
        return html
    parts = _TAG_SPLIT.split(head)  # text, tag, text, tag, ..., text
    free = [
        index
        for index in _free_lines(parts)
        if parts[index].strip() in repeated and _by_a_picture(parts, index)
    ]
    counts = Counter(parts[index].strip() for index in free)
    seen: set[str] = set()
    for index in free:
        text = parts[index].strip()
        if counts[text] >= REPEATS:
            if text in seen:
                parts[index] = ""
            seen.add(text)
    return "".join(parts) + html[_REPEAT_WINDOW:]


def _by_a_picture(parts: list[str], index: int) -> bool:
    """Whether a picture is among the few tags on either side of the text at ``index``."""
    near = (
        parts[max(index - 2 * _NEAR + 1, 0) : index : 2] + parts[index + 1 : index + 2 * _NEAR : 2]
    )
    return any(tag[:4].lower() == "<img" for tag in near)


def _has_letter(text: str) -> bool:
    return any(c.isalpha() for c in unescape(text))


def strip_boilerplate(html: str, boilerplate: Boilerplate | None = None) -> str:
    """``html`` without the feed's repeated blocks, its footer after <hr> and a bare date line."""
    known = boilerplate or Boilerplate()
    html = html[:MAX_HTML]
    blocks = _blocks(html)
    end = len(html)
    for a, b in reversed(blocks[-_EDGE * 4 :]):
        text = _block_text(html, a, b)
        if text in known.trailing:
            end = a
        elif text:
            break
    start = 0
    for a, b in blocks[: _EDGE * 4]:
        if b > end:
            break
        text = _block_text(html, a, b)
        if text in known.leading or _TIMESTAMP.fullmatch(text):
            start = b
        elif text:
            break
    return _repeated_once(_footer_after_rule(html[start:end]))


def clear_caches() -> None:
    """Forget the remembered block splits and block texts (see ``bot.render.clear_caches``)."""
    _cached_blocks.cache_clear()
    _block_text.cache_clear()
