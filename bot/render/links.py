"""Which URLs may become a link or a photo, resolved against the entry's own link.

Telegram drops (or refuses, as an entity) a text link whose URL has whitespace, an
unknown scheme, or no host; ``javascript:``, ``data:`` and ``vbscript:`` must never
reach a chat. A relative URL with nothing to resolve it against is no link at all.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

LINK_SCHEMES = frozenset({"http", "https", "mailto", "tg"})
_WEB = frozenset({"http", "https"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# Characters a URL must not carry raw: spaces and controls (percent-encoded instead).
_RAW = re.compile(
    r"[\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]"
)
MAX_URL = 2048


def _escape(url: str) -> str:
    return _RAW.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)


def resolve(href: str, base: str = "", *, schemes: frozenset[str] = LINK_SCHEMES) -> str | None:
    """An absolute, Telegram-acceptable URL for ``href``, or None when there is none."""
    href = href.strip()
    if not href or len(href) > MAX_URL:
        return None
    if _SCHEME.match(href) is None:
        if href.startswith("#") or not base:
            return None
        try:
            href = urljoin(base, href)
        except ValueError:  # malformed base or href (e.g. a broken IPv6 literal)
            return None
    match = _SCHEME.match(href)
    if match is None or match.group(1).lower() not in schemes:
        return None
    url = _escape(href)
    return url if _complete(url) else None


def _complete(url: str) -> bool:
    """A web URL needs a host; mailto: and tg: need something after the colon."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    scheme = parts.scheme.lower()
    if scheme in _WEB:
        return bool(parts.hostname)
    return len(url) > len(scheme) + 1


def resolve_web(href: str, base: str = "") -> str | None:
    """Like ``resolve`` but only http(s): what Telegram can download or preview."""
    return resolve(href, base, schemes=_WEB)
