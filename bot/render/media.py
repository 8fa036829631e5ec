"""Which pictures an entry brings: feed-declared images first, then the body's large <img>.

Declared pictures are image enclosures and ``media:content``, then ``media:thumbnail``
(see ``bot.feeds.parse``); after them, the body's pictures in order. A picture is good
when Telegram can fetch it (absolute http/https) and it is worth a photo: not a data:
URI or SVG, not declared icon-sized or a sliver (``is_icon_sized``: 1×1 tracking
pixels, spacers, 16-64 px icons), and not at a path that names an icon, emoji,
smiley, avatar, badge, button, spacer, file-type glyph or tracking pixel (WordPress
s.w.org emoji, twemoji, Gravatar, a forum's ``skins/default/filetype/jpg.gif``,
feed-counter badges). Lazy-loading markup (``data-src``/``data-original`` next to a
placeholder ``src``) is followed. Image proxies (weserv, feedx) are real pictures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import unescape

from bot.feeds.textutil import is_icon_sized
from bot.models import Entry
from bot.render.links import resolve_web

MAX_ALBUM = 10
_IMG = re.compile(r"<img\b([^<>]{0,4000})>", re.I)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_ICONISH = re.compile(
    r"(?:\.svg|\.ico|/favicon|/emoji/|twemoji|s\.w\.org/images/core/emoji"
    r"|feeds\.feedburner\.com/~|/pixel\b|/stat\?|gravatar\.com/avatar|/avatars?[/_.-]"
    r"|/filetypes?/|/file_?icons?/|/icons?/|[/_-]icons?[_.-]|/smil(?:ey|ies|e)s?/"
    r"|/emoticons?/|/emotions?/|/face/\d|spacer\.|blank\.gif|clear\.gif|transparent\.(?:gif|png)"
    r"|pixel\.(?:gif|png)|1x1\.|/beacon|pixel\.wp\.com|stats\.wordpress\.com|/badges?/"
    r"|/buttons?/|/share[_-]?(?:icons?|buttons?)/)",
    re.I,
)
_SOURCE_ATTRS = ("data-src", "data-original", "data-lazy-src", "src")


def good_image(url: str, base: str = "") -> str | None:
    """The absolute URL of a usable picture, or None."""
    found = resolve_web(url, base)
    if found is None or _ICONISH.search(found) or found.lower().split("?")[0].endswith(".svg"):
        return None
    return found


def _tiny(attrs: dict[str, str]) -> bool:
    """Whether the tag's declared size says icon, spacer or pixel (``is_icon_sized``)."""
    return is_icon_sized(attrs.get("width", ""), attrs.get("height", ""))


def content_images(html: str, base: str = "", *, limit: int = MAX_ALBUM) -> list[str]:
    """The body's good <img> pictures, in order, at most ``limit``."""
    found: list[str] = []
    for tag in _IMG.finditer(html):
        attrs: dict[str, str] = {}
        for m in _ATTR.finditer(tag.group(1)):
            attrs.setdefault(m.group(1).lower(), m.group(2) or m.group(3) or m.group(4) or "")
        if _tiny(attrs):
            continue
        for name in _SOURCE_ATTRS:
            value = attrs.get(name, "")
            url = good_image(unescape(value), base) if value else None
            if url is not None:
                found.append(url)
                break
        if len(found) >= limit:
            break
    return found


def pick_images(entry: Entry, html: str, *, limit: int = MAX_ALBUM) -> tuple[str, ...]:
    """The entry's pictures, declared ones first, without repeats."""
    chosen: list[str] = []
    declared: Iterable[str | None] = (good_image(u, entry.link) for u in entry.images)
    for url in declared:
        if url is not None and url not in chosen:
            chosen.append(url)
            if len(chosen) >= limit:
                return tuple(chosen)
    if not chosen or limit > 1:
        for url in content_images(html, entry.link, limit=limit):
            if url not in chosen:
                chosen.append(url)
                if len(chosen) >= limit:
                    break
    return tuple(chosen)
