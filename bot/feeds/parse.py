"""Feed bytes to a ParsedFeed: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed by hand.

Safety: feedparser only ever sees an in-memory stream (given bytes it would try
``open()`` on them as a file name, and given a str that looks like a URL it
would fetch it), and only after the DOCTYPE internal subset and any stray
entity declaration are removed, because its loose parser expands entities
that expat refused and a small "billion laughs" feed then takes gigabytes.

Entry keys are ``id:<guid>``, else ``link:<url>``, else ``hash:<sha256 of title
and body>``. Feeds repeat guids and links for distinct items, so a key that
several different items share gets ``#<content hash>`` appended on every one
of them (keeping the keys independent of item order), while an item repeated
verbatim is kept once.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.feeds.jsonfeed import NotAJsonFeed, looks_like_json, parse_json_feed
from bot.feeds.textutil import (
    absolute_http,
    content_hash,
    entry_key,
    is_html_type,
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
_DECLARES_UTF8 = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']utf-?8["']""", re.IGNORECASE)
_XML_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
# C0 controls XML 1.0 forbids. No ASCII-compatible multibyte encoding (UTF-8, GB18030,
# Big5, Shift_JIS) uses these bytes inside a character, so deleting them is safe there.
_FORBIDDEN_CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE_PATTERNS = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)


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


def _widen_to_utf8(body: bytes) -> bytes | None:
    """UTF-16/32 documents re-encoded as UTF-8, so the DOCTYPE scan below can see them."""
    codec = next((c for bom, c in _WIDE_BOMS if body.startswith(bom)), None)
    if codec is None:
        codec = next((c for pat, c in _WIDE_PATTERNS if body.startswith(pat)), None)
    if codec is None:
        return None
    text = body.decode(codec, errors="replace").removeprefix("\ufeff")
    return _XML_ENCODING.sub(r"\1\2utf-8\2", text, count=1).encode("utf-8")


def _repair_utf8(data: bytes) -> bytes:
    """A document declared UTF-8 with a few broken bytes (often a cut-off last character).

    feedparser would otherwise try other encodings until one "works" and turn the
    whole feed into mojibake. Many broken bytes mean the declaration lies, and
    feedparser's own detection is the better guess then.
    """
    if not _DECLARES_UTF8.match(data):
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        broken = text.count("\ufffd") - data.count("\ufffd".encode())
        if broken <= max(4, len(data) // 2000):
            return text.encode("utf-8")
    return data


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
    data = (_widen_to_utf8(body) or _repair_utf8(body)).translate(None, _FORBIDDEN_CONTROLS)
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


def _utc(parsed: Any) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime; None for impossible dates."""
    if parsed is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in parsed[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _title(detail: Any, fallback: str) -> str:
    if isinstance(detail, dict) and is_html_type(detail.get("type")):
        return plain_text(str(detail.get("value", "")))
    return one_line(fallback)


def _body(entry: Any) -> str:
    content = entry.get("content") or []
    detail = content[0] if content else entry.get("summary_detail")
    value = str(entry.get("summary", "")) if detail is None else str(detail.get("value", ""))
    if detail is None or is_html_type(detail.get("type")):
        return value.strip()
    return text_to_html(value)


def _images(entry: Any, base: str) -> tuple[str, ...]:
    found = [
        str(enclosure.get("href", ""))
        for enclosure in entry.get("enclosures") or []
        if str(enclosure.get("type", "")).lower().startswith("image/")
    ]
    for media in entry.get("media_content") or []:
        kind = str(media.get("type", "")).lower()
        if media.get("medium") == "image" or kind.startswith("image/"):
            found.append(str(media.get("url", "")))
    found.extend(str(thumb.get("url", "")) for thumb in entry.get("media_thumbnail") or [])
    absolute = (absolute_http(u, base) for u in found)
    return tuple(dict.fromkeys(u for u in absolute if u))


def _tags(entry: Any) -> tuple[str, ...]:
    terms = (one_line(str(t.get("term") or t.get("label") or "")) for t in entry.get("tags") or [])
    return tuple(dict.fromkeys(t for t in terms if t))


def _entry(raw: Any, base: str) -> Entry:
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
        # dict.get: FeedParserDict.get("updated_parsed") falls back with a DeprecationWarning.
        published=_utc(dict.get(raw, "published_parsed")) or _utc(dict.get(raw, "updated_parsed")),
        images=_images(raw, base),
    )


def _fingerprint(entry: Entry) -> str:
    published = entry.published.isoformat() if entry.published else ""
    return content_hash(entry.title, entry.link, entry.content_html, published)[:16]


def unique_keys(entries: tuple[Entry, ...]) -> tuple[Entry, ...]:
    """Make keys unique within one document, as the module docstring describes."""
    versions: dict[str, set[str]] = {}
    fingerprints = [_fingerprint(entry) for entry in entries]
    for entry, fingerprint in zip(entries, fingerprints, strict=True):
        versions.setdefault(entry.key, set()).add(fingerprint)
    result: list[Entry] = []
    seen: set[str] = set()
    for entry, fingerprint in zip(entries, fingerprints, strict=True):
        key = entry.key if len(versions[entry.key]) == 1 else f"{entry.key}#{fingerprint}"
        if key not in seen:
            seen.add(key)
            result.append(entry if key == entry.key else replace(entry, key=key))
    return tuple(result)


def _parse_xml(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    headers = {"content-location": url}
    if content_type and content_type.split(";", 1)[0].strip():
        headers["content-type"] = content_type
    result = feedparser.parse(
        io.BytesIO(defuse(body)),
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers=headers,
    )
    feed = result.get("feed", {})
    title = _title(feed.get("title_detail"), str(feed.get("title", "")))
    raw_entries = result.get("entries") or []
    if not raw_entries and not (title and result.get("version")):
        raise NotAFeed("not a feed: no entries and no title")
    link = absolute_http(str(feed.get("link", "")), url)
    entries = tuple(_entry(raw, url) for raw in raw_entries)
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
    elif is_html_page(body, content_type):
        raise NotAFeed("not a feed (looks like an HTML page)")
    else:
        parsed = _parse_xml(body, url, content_type)
    return replace(parsed, entries=unique_keys(parsed.entries))
