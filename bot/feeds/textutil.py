"""Small pure helpers shared by the XML and JSON feed readers."""

from __future__ import annotations

import hashlib
import html
import re
from urllib.parse import urljoin, urlsplit

_TAG = re.compile(r"<[^>]*>")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
# Elements whose content is code or metadata, never text a reader sees (HTML spec, "rendering").
_HIDDEN = re.compile(
    r"<(script|style|noscript|template|title|head)\b[^<>]{0,2000}>.*?(?:</\1\s*>|\Z)", re.S | re.I
)
_SPACE = re.compile(r"\s+")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})

DEFAULT_PORTS = {"http": 80, "https": 443}
"""The port each scheme means when a URL names none (RFC 9110 4.2)."""


def plain_text(markup: str) -> str:
    """HTML to one line of the text a browser shows: tags, comments and scripts dropped.

    Entities are decoded and whitespace collapsed; the content of script, style,
    noscript, template, title and head elements is not text, nor is a comment's.
    """
    visible = _HIDDEN.sub(" ", _COMMENT.sub(" ", markup))
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", visible))).strip()


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


ICON_MAX = 80
"""Pixels: a picture declared at most this wide *and* high is an icon, badge or avatar."""
SLIVER_MAX = 10
"""Pixels: a picture declared this thin either way is a spacer or a tracking pixel."""


def _pixels(value: str) -> int | None:
    text = value.strip().lower().removesuffix("px").strip()
    return int(text) if text.isdigit() and len(text) < 6 else None


def is_icon_sized(width: str, height: str) -> bool:
    """Whether declared width/height (HTML attributes, media:content) say "not a photo".

    Icons are 16-64 px, tracking pixels and spacers 0-1 px in one direction; a
    news thumbnail (BBC's 106×60) is a photo. A size not given, or a percentage,
    says nothing.
    """
    sizes = [size for size in (_pixels(width), _pixels(height)) if size is not None]
    if not sizes:
        return False
    return min(sizes) <= SLIVER_MAX or max(sizes) <= ICON_MAX
