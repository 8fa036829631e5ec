"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read.

Real JSON feeds bend the spec: WordPress puts HTML entities in titles, some give
RFC 822 dates, ids may be numbers, author may be a string. Each field is read
defensively; a field of the wrong type counts as absent, never as an error.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from bot.feeds.textutil import absolute_http, entry_key, one_line, text_to_html
from bot.models import Entry, ParsedFeed

MAX_ITEMS = 500
"""Items read from one document, as ``bot.feeds.parse.MAX_ENTRIES`` for XML (first ones)."""


class NotAJsonFeed(ValueError):  # noqa: N818 -- reads as the condition it reports, like NotAFeed
    """The bytes are not JSON, or JSON that is not a JSON Feed."""


def _str(value: Any) -> str:
    """Strings as they are, numbers as text (some feeds number their ids), the rest as ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _date(value: Any) -> datetime | None:
    text = _str(value).strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _authors(item: dict[str, Any], feed: dict[str, Any]) -> str:
    for source in (item, feed):
        people = source.get("authors")
        if not isinstance(people, list):
            people = [source.get("author")]
        names = [one_line(_str(p.get("name")) if isinstance(p, dict) else _str(p)) for p in people]
        names = [n for n in names if n]
        if names:
            return ", ".join(names)
    return ""


def _images(item: dict[str, Any], base: str) -> tuple[str, ...]:
    found: list[str] = [_str(item.get("image")), _str(item.get("banner_image"))]
    attachments = item.get("attachments")
    if isinstance(attachments, list):
        found.extend(
            _str(a.get("url"))
            for a in attachments
            if isinstance(a, dict) and _str(a.get("mime_type")).lower().startswith("image/")
        )
    absolute = (absolute_http(u, base) for u in found)
    return tuple(dict.fromkeys(u for u in absolute if u))


def _entry(item: dict[str, Any], feed: dict[str, Any], base: str) -> Entry:
    title = one_line(html.unescape(_str(item.get("title"))))
    link = absolute_http(_str(item.get("url")), base) or absolute_http(
        _str(item.get("external_url")), base
    )
    content = _str(item.get("content_html"))
    if not content.strip():
        text = _str(item.get("content_text")) or _str(item.get("summary"))
        content = text_to_html(text) if text.strip() else ""
    key = entry_key(_str(item.get("id")), link, title, content)
    tags = item.get("tags")
    tag_list = [one_line(_str(t)) for t in tags] if isinstance(tags, list) else []
    return Entry(
        key=key,
        title=title,
        link=link,
        content_html=content,
        author=_authors(item, feed),
        tags=tuple(dict.fromkeys(t for t in tag_list if t)),
        published=_date(item.get("date_published")) or _date(item.get("date_modified")),
        images=_images(item, base),
    )


def looks_like_json(body: bytes) -> bool:
    """Whether the document starts like a JSON object (after a BOM and whitespace)."""
    return body.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{"


def parse_json_feed(body: bytes, *, url: str) -> ParsedFeed:
    """A JSON Feed document as a ParsedFeed; entry keys are not yet made unique."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise NotAJsonFeed("not valid JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise NotAJsonFeed("JSON without a list of items")
    if not _str(data.get("version")).startswith("https://jsonfeed.org/version/"):
        raise NotAJsonFeed("JSON without a jsonfeed.org version")
    home = absolute_http(_str(data.get("home_page_url")), url)
    base = url or home
    items = data["items"][:MAX_ITEMS]
    entries = tuple(_entry(item, data, base) for item in items if isinstance(item, dict))
    return ParsedFeed(
        title=one_line(html.unescape(_str(data.get("title")))),
        link=home,
        entries=entries,
        language=_str(data.get("language")).strip(),
    )
