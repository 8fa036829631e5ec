"""Which URLs may become a link or a photo, resolved against the entry's own link.

A text link must carry a URL Telegram accepts, or the whole message is refused
(400 "entity URL … is invalid: Wrong HTTP URL" and kin; TDLib's
``LinkManager::check_link``): an http or https URL with a host that has a dot (or
an IPv6 literal) and, when a port is given, a valid port. Everything else --
``mailto:``, ``tg:``, ``javascript:``, hosts without a dot, broken ports -- stays
plain text. A relative URL with nothing to resolve it against is no link at all.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urljoin, urlsplit

_WEB = frozenset({"http", "https"})
LINK_SCHEMES = _WEB
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
    return _checked(href, schemes)


@functools.lru_cache(maxsize=4096)
def _checked(href: str, schemes: frozenset[str]) -> str | None:
    """``href`` (absolute) escaped if Telegram takes it, else None.

    Remembered for the last few thousand links: a feed's entries repeat their links
    (sponsors, site navigation), and each check costs a URL split.
    """
    match = _SCHEME.match(href)
    if match is None or match.group(1).lower() not in schemes:
        return None
    url = _escape(href)
    return url if _complete(url) else None


def _complete(url: str) -> bool:
    """An http(s) URL with a host Telegram takes: a dot in it (or IPv6), a sound port."""
    try:
        parts = urlsplit(url)
        port_text = parts.netloc.rpartition("@")[2].rpartition("]")[2]
        # An empty port ("host:") is refused by Telegram; ``.port`` checks the digits.
        if port_text.endswith(":") or (parts.port is not None and parts.port == 0):
            return False
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number
        return False
    host = parts.hostname or ""
    return parts.scheme.lower() in _WEB and ("." in host.strip(".") or ":" in host)


def resolve_web(href: str, base: str = "") -> str | None:
    """Like ``resolve`` but only http(s): what Telegram can download or preview."""
    return resolve(href, base, schemes=_WEB)


def clear_caches() -> None:
    """Forget the remembered link checks (see ``bot.render.clear_caches``)."""
    _checked.cache_clear()
