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
# Checked with set lookups on the address's parts, not one big regex: a picture's
# URL is checked on every render, and a 30-way case-insensitive alternation costs 14 µs.
_ICON_MARKS = (
    "twemoji", "s.w.org/images/core/emoji", "feeds.feedburner.com/~", "gravatar.com/avatar",
    "pixel.wp.com", "stats.wordpress.com", "/stat?", "/favicon", "/beacon",
)  # fmt: skip
_ICON_DIRS = frozenset(
    {"filetype", "filetypes", "fileicon", "fileicons", "file_icons", "icon", "icons", "smiley",
     "smileys", "smilies", "smile", "smiles", "emoticon", "emoticons", "emotion", "emotions",
     "emoji", "badge", "badges", "button", "buttons", "share-icons", "share_icons",
     "share-buttons", "share_buttons", "pixel"}
)  # fmt: skip
_ICON_NAMES = frozenset(
    {"icon", "icons", "spacer", "blank", "clear", "transparent", "pixel", "1x1", "favicon"}
)
_NAME_SEPARATORS = str.maketrans("._-", "   ")
_SOURCE_ATTRS = ("data-src", "data-original", "data-lazy-src", "src")


def iconish(url: str) -> bool:
    """Whether an absolute picture URL names an icon, emoji, avatar, spacer, pixel or badge."""
    low = url.lower()
    if any(mark in low for mark in _ICON_MARKS):
        return True
    path = low.split("?", 1)[0].split("#", 1)[0]
    if path.endswith((".svg", ".ico")):
        return True
    *folders, name = path.split("/")[3:] or [""]
    if _ICON_DIRS.intersection(folders) or any(f.startswith("avatar") for f in folders):
        return True
    if name.startswith("avatar") or ("face" in folders and name[:1].isdigit()):
        return True
    return not _ICON_NAMES.isdisjoint(name.translate(_NAME_SEPARATORS).split())


def good_image(url: str, base: str = "") -> str | None:
    """The absolute URL of a usable picture, or None."""
    found = resolve_web(url, base)
    if found is None or iconish(found):
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
