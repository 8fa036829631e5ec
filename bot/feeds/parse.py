"""Feed bytes to a ParsedFeed: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed by hand.

Safety: feedparser only ever sees an in-memory stream (given bytes it would try
``open()`` on them as a file name, and given a str that looks like a URL it
would fetch it), and only after the DOCTYPE internal subset and any stray
entity declaration are removed, because its loose parser expands entities
that expat refused and a small "billion laughs" feed then takes gigabytes.

Bytes become text in ``bot.feeds.encoding`` (feedparser then reads UTF-8 and is
told so), dates are read in ``bot.feeds.dates``, and entry keys are made stable
across fetches in ``bot.feeds.identity``. Of an item's bodies (content:encoded,
description, itunes:summary...) the richest is kept; items with nothing to show
are left out.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

import feedparser

from bot.feeds.dates import local_zone, parse_date
from bot.feeds.encoding import decode_document
from bot.feeds.identity import assign_keys
from bot.feeds.jsonfeed import NotAJsonFeed, looks_like_json, parse_json_feed
from bot.feeds.textutil import (
    absolute_http,
    entry_key,
    is_html_type,
    is_icon_sized,
    one_line,
    plain_text,
    text_to_html,
)
from bot.models import Entry, ParsedFeed

_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w:.-]*)")
_FEED_ROOTS = frozenset({b"rss", b"feed", b"rdf:rdf", b"rdf", b"channel"})
_PROLOG_SKIP = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_DOCTYPE_HEAD = re.compile(rb"<!DOCTYPE(?:[^\[>\"']|\"[^\"]*\"|'[^']*')*", re.IGNORECASE)
_SUBSET_TOKEN = re.compile(rb"[\"'\]]|<!--")
_SUBSET_CLOSER = {b'"': b'"', b"'": b"'", b"<!--": b"-->"}
_IMG = re.compile(r"<img\b", re.IGNORECASE)
_PICTURE_WORTH = 80
_XML_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]{0,300}?\?>")
_UTF8_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
_UTF8_TYPE = "application/xml; charset=utf-8"
# C0 controls XML 1.0 forbids. No ASCII-compatible multibyte encoding (UTF-8, GB18030,
# Big5, Shift_JIS) uses these bytes inside a character, so deleting them is safe there.
_FORBIDDEN_CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


class NotAFeed(Exception):  # noqa: N818 -- the name the callers use; it reads as the verdict
    """The document is not a feed; ``str(error)`` is one line fit to show a user."""


def is_html_page(body: bytes, content_type: str | None) -> bool:
    """Whether the document is a web page (to look for feed links in) rather than a feed.

    The root element decides when it is recognisable, since servers often label
    feeds text/html and pages text/xml; the content type decides otherwise.
    """
    head = body[:65536]
    match = _FIRST_ELEMENT.search(head)
    if match is not None:
        name = match.group(1).lower()
        if name in _FEED_ROOTS:
            return False
        if name == b"html" or b"<!doctype html" in head.lower():
            return True
    if looks_like_json(body):
        return False
    return (content_type or "").split(";", 1)[0].strip().lower() in (
        "text/html",
        "application/xhtml+xml",
    )


def _doctype_end(data: bytes, start: int) -> tuple[int, bytes]:
    """End of the DOCTYPE at start, and the declaration without its internal subset."""
    head = _DOCTYPE_HEAD.match(data, start)
    if head is None:  # the pattern matches at least "<!DOCTYPE"; kept for the type checker
        raise NotAFeed("not a feed: broken DOCTYPE")
    pos = head.end()
    if data[pos : pos + 1] == b"[":
        pos += 1
        while True:
            token = _SUBSET_TOKEN.search(data, pos)
            if token is None:
                raise NotAFeed("not a feed: unterminated DOCTYPE")
            if token.group() == b"]":
                pos = token.end()
                break
            closer = _SUBSET_CLOSER[token.group()]
            close = data.find(closer, token.end())
            if close < 0:
                raise NotAFeed("not a feed: unterminated DOCTYPE")
            pos = close + len(closer)
    close = data.find(b">", pos)
    if close < 0:
        raise NotAFeed("not a feed: unterminated DOCTYPE")
    return close + 1, head.group().rstrip() + b">"


def defuse(body: bytes) -> bytes:
    """The document without internal DTD subset, prolog entity declarations or forbidden controls.

    Character and predefined entities still work; references to removed ones
    are left as unknown entities, which costs a bozo flag rather than memory.
    """
    # A stray control byte makes expat give up and feedparser parse the whole
    # document a second time with its slower loose parser.
    data = body.translate(None, _FORBIDDEN_CONTROLS)
    kept: list[bytes] = []
    pos = 0
    if data.startswith(codecs.BOM_UTF8):
        kept.append(codecs.BOM_UTF8)
        pos = len(codecs.BOM_UTF8)
    while pos < len(data):
        skip = _PROLOG_SKIP.match(data, pos)
        if skip is not None:
            kept.append(skip.group())
            pos = skip.end()
        elif data[pos : pos + 9].upper() == b"<!DOCTYPE":
            pos, declaration = _doctype_end(data, pos)
            kept.append(declaration)
        elif data.startswith(b"<!", pos) and not data.startswith(b"<![CDATA[", pos):
            close = data.find(b">", pos)  # a stray <!ENTITY ...> outside any DOCTYPE
            pos = len(data) if close < 0 else close + 1
        else:
            break
    return b"".join(kept) + data[pos:]


def _title(detail: Any, fallback: str) -> str:
    if isinstance(detail, dict) and is_html_type(detail.get("type")):
        return plain_text(str(detail.get("value", "")))
    return one_line(fallback)


def _as_html(detail: Any) -> str:
    value = str(detail.get("value", ""))
    return value.strip() if is_html_type(detail.get("type")) else text_to_html(value)


def _richness(html: str) -> int:
    """How much a body gives a reader: its characters of text, a picture counting as a line."""
    return len(plain_text(html)) + _PICTURE_WORTH * min(len(_IMG.findall(html)), 3)


def _body(entry: Any) -> str:
    """The richest of the entry's bodies: content:encoded, description, itunes:summary…

    feedparser keeps the first summary-like element as ``summary`` and turns a
    second one into ``content`` (an ``itunes:summary`` one-liner after show notes
    in ``description``), so neither field is the richest by position.
    """
    details = [d for d in entry.get("content") or [] if isinstance(d, dict)]
    summary = entry.get("summary_detail")
    if isinstance(summary, dict):
        details.append(summary)
    elif entry.get("summary"):
        details.append({"value": str(entry.get("summary")), "type": "text/html"})
    bodies = [body for body in (_as_html(d) for d in details) if body]
    if len(bodies) < 2:
        return bodies[0] if bodies else ""
    return max(bodies, key=_richness)  # max keeps the first of equals: content before summary


def _small(media: Any) -> bool:
    """Whether a declared picture says it is an icon, spacer or pixel (``is_icon_sized``)."""
    return is_icon_sized(str(media.get("width") or ""), str(media.get("height") or ""))


def _images(entry: Any, base: str) -> tuple[str, ...]:
    """Declared pictures: image enclosures and media:content first, then media:thumbnail."""
    found = [
        str(enclosure.get("href", ""))
        for enclosure in entry.get("enclosures") or []
        if str(enclosure.get("type", "")).lower().startswith("image/")
    ]
    for media in entry.get("media_content") or []:
        kind = str(media.get("type", "")).lower()
        if (media.get("medium") == "image" or kind.startswith("image/")) and not _small(media):
            found.append(str(media.get("url", "")))
    found.extend(
        str(thumb.get("url", ""))
        for thumb in entry.get("media_thumbnail") or []
        if not _small(thumb)
    )
    absolute = (absolute_http(u, base) for u in found)
    return tuple(dict.fromkeys(u for u in absolute if u))


def _tags(entry: Any) -> tuple[str, ...]:
    terms = (one_line(str(t.get("term") or t.get("label") or "")) for t in entry.get("tags") or [])
    return tuple(dict.fromkeys(t for t in terms if t))


def _date(raw: Any, local: tzinfo | None) -> datetime | None:
    """The entry's publication date, else its update date (see ``bot.feeds.dates``)."""
    for field in ("published", "updated"):
        # dict.get: FeedParserDict.get("updated_parsed") falls back with a DeprecationWarning.
        text = dict.get(raw, field)
        if text:
            found = parse_date(str(text), local=local, fallback=dict.get(raw, f"{field}_parsed"))
            if found is not None:
                return found
    return None


def _entry(raw: Any, base: str, local: tzinfo | None) -> Entry:
    title = _title(raw.get("title_detail"), str(raw.get("title", "")))
    link = absolute_http(str(raw.get("link", "")), base)
    content = _body(raw)
    return Entry(
        key=entry_key(str(raw.get("id", "")), link, title, content),
        title=title,
        link=link,
        content_html=content,
        author=one_line(plain_text(str(raw.get("author", "")))),
        tags=_tags(raw),
        published=_date(raw, local),
        images=_images(raw, base),
    )


def has_something(entry: Entry) -> bool:
    """Whether an entry has anything to show: a link, a picture, or words in title or body.

    An item with none (only a date, an author, tags, or a body of punctuation) would
    be a message saying nothing.
    """
    if entry.link or entry.images or _IMG.search(entry.content_html):
        return True
    return any(char.isalnum() for char in entry.title + plain_text(entry.content_html))


def as_utf8(text: str) -> bytes:
    """Decoded document text as UTF-8 bytes whose XML declaration (if any) says UTF-8."""
    text = _XML_DECLARATION.sub(_UTF8_DECLARATION, text.removeprefix("\ufeff"), count=1)
    return text.encode("utf-8", errors="replace")


MAX_ENTRIES = 500
"""Entries read from one document, in document order (newest first in nearly every feed).

feedparser costs about 0.2 ms of CPU per item, on the event loop every chat shares: a
hostile 9 MB document of 110,000 tiny items held the bot for a minute. Real feeds carry
10-100 items; podcast archives a few thousand, whose oldest nobody is waiting for."""
_ENTRY_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")
_ENTRY_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\s*>")


def first_entries(body: bytes, limit: int = MAX_ENTRIES) -> bytes:
    """The XML document without its items or entries past the first ``limit``.

    The bytes from the ``limit + 1``-th item or entry start tag to the end of the last
    item or entry are left out, so the document keeps its closing tags and stays
    well-formed (feedparser's strict parser reads it as it would read the whole).
    Documents with at most ``limit`` entries come back unchanged.
    """
    cut = next((m.start() for n, m in enumerate(_ENTRY_TAG.finditer(body)) if n == limit), None)
    if cut is None:
        return body
    last_end = max((m.end() for m in _ENTRY_END.finditer(body, cut)), default=None)
    if last_end is None:
        return body[:cut]  # no end tag after the cut: nothing better to keep
    return body[:cut] + body[last_end:]


def _parse_xml(body: bytes, url: str) -> ParsedFeed:
    """Parse UTF-8 bytes (see ``as_utf8``) with feedparser, told so by the header it reads."""
    result = feedparser.parse(
        io.BytesIO(first_entries(defuse(body))),
        sanitize_html=False,
        resolve_relative_uris=False,
        # Our bytes are UTF-8 whatever the server said: without a charset here feedparser
        # would fall back to its own guesses (ISO-8859-1 with no Content-Type at all).
        response_headers={"content-location": url, "content-type": _UTF8_TYPE},
    )
    feed = result.get("feed", {})
    title = _title(feed.get("title_detail"), str(feed.get("title", "")))
    raw_entries = (result.get("entries") or [])[:MAX_ENTRIES]
    if not raw_entries and not (title and result.get("version")):
        raise NotAFeed("not a feed: no entries and no title")
    link = absolute_http(str(feed.get("link", "")), url)
    local = local_zone(str(feed.get("language", "")), url)
    entries = tuple(e for e in (_entry(raw, url, local) for raw in raw_entries) if has_something(e))
    return ParsedFeed(
        title=title, link=link, entries=entries, language=one_line(str(feed.get("language", "")))
    )


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse one feed document fetched from url (the base for relative links)."""
    if not body.strip():
        raise NotAFeed("not a feed: the document is empty")
    if looks_like_json(body):
        try:
            parsed = parse_json_feed(body, url=url)
        except NotAJsonFeed as exc:
            raise NotAFeed(f"not a feed: {exc}") from exc
    else:
        data = as_utf8(decode_document(body, content_type).text)
        if is_html_page(data, content_type):
            raise NotAFeed("not a feed (looks like an HTML page)")
        parsed = _parse_xml(data, url)
    return replace(parsed, entries=assign_keys(parsed.entries))
