"""Small pure helpers shared by the XML and JSON feed readers."""

from __future__ import annotations

import hashlib
import html
import re
from urllib.parse import urljoin, urlsplit

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})


def plain_text(markup: str) -> str:
    """HTML to one line of text: tags dropped, entities decoded, whitespace collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def one_line(text: str) -> str:
    """Plain text with runs of whitespace (CDATA padding, newlines) collapsed."""
    return _SPACE.sub(" ", text).strip()


def is_html_type(media_type: str | None) -> bool:
    """Whether a content type from a feed means the value is markup."""
    return (media_type or "").split(";", 1)[0].strip().lower() in _HTML_TYPES


def text_to_html(text: str) -> str:
    """Plain text as HTML that shows the same characters and line breaks."""
    return html.escape(text.strip(), quote=False).replace("\n", "<br>\n")


def absolute_http(url: str, base: str) -> str:
    """The URL made absolute against base, or "" unless it is http(s) with a host."""
    url = url.strip()
    if not url:
        return ""
    try:
        joined = urljoin(base, url)
        parts = urlsplit(joined)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return joined


def content_hash(*parts: str) -> str:
    """A stable hex SHA-256 of several strings, unambiguous about where one ends."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def entry_key(ident: str, link: str, title: str, content_html: str) -> str:
    """The dedupe key with its fallbacks: "id:<guid>", else "link:<url>", else "hash:<sha256>"."""
    ident = one_line(ident)
    if ident:
        return "id:" + ident
    if link:
        return "link:" + link
    return "hash:" + content_hash(title, content_html)
