"""Which item is which: entry keys that stay the same across fetches, and article keys per chat.

Entry keys. Each item has candidate keys, strongest first: ``id:<guid>``, then
``link:<normalised link>``, then ``hash:<sha256 of title and body>``. Within one
document a candidate that two different items share (a guid reused for every
comment, one link for a whole thread) identifies neither of them, so an item's
key is its first candidate no other item carries; when each is shared, the first
one with ``#<fingerprint of the item>`` appended. An item repeated verbatim is
kept once. This is how MonitoRSS picks an id field per feed, done per item.

The key alone would not survive a change in the feed: when a second item takes
an item's guid, that item's key moves from ``id:`` to ``link:`` or ``hash:``. So
the pipeline records *every* candidate of an item it takes on (``Entry.fallback_keys``)
and finds an item seen when its key or one of its ``aliases`` was recorded:
the old spellings of the same key (the link as the feed gave it, the ``#``
keys of earlier versions). A weaker candidate is recorded but never consulted for
an item whose stronger candidate identifies it: two posts titled "Update" with
distinct guids stay two posts.

Links are normalised before they serve as identity (``normalise_link``):
tracking parameters (``utm_*``, ``fbclid``, ``gclid``, Facebook's ``__xts__``…)
and session ids (``jsessionid``, ``PHPSESSID``, ``sid``…) are dropped, the
remaining parameters sorted, the fragment, a ``www.`` and the scheme ignored.

Article keys (``article_keys``) say when two feeds carry the same article, for the
per-chat dedupe: ``url:<normalised link>`` and, for a title long enough to be
specific, ``title:<site>|<folded title>``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from bot.feeds.textutil import DEFAULT_PORTS, content_hash, one_line
from bot.models import Entry

_TRACKING = re.compile(
    r"^(?:utm_\w*|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid|mc_cid"
    r"|mc_eid|_hsenc|_hsmi|__xts__.*|__tn__|__cft__.*|ncid|cmpid|spm|scm|mkt_tok|oly_enc_id"
    r"|oly_anon_id|vero_id|_ga|_gl|rb_clickid|s_cid|wt_mc|wt\.mc_id|ref_src|ref_url)$",
    re.IGNORECASE,
)
_SESSION = re.compile(
    r"^(?:jsessionid|phpsessid|sid|sessionid|session_id|sess_id|aspsessionid\w*|cfid|cftoken"
    r"|zenid|oscsid|s_sess)$",
    re.IGNORECASE,
)
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#;]*", re.IGNORECASE)
_MIN_TITLE = 12
"""Characters (after folding) a title needs before it names one article of a site."""
_MIN_CJK_TITLE = 6


def normalise_link(url: str) -> str:
    """The link as identity: ``host/path?sorted-params`` without trackers, sessions or fragment.

    Takes an absolute URL (anything else comes back folded but unchanged);
    the scheme and a leading ``www.`` are left out, so http/https and www/no-www
    copies of a link are one link.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        return url
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    params = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING.match(unquote(name)) and not _SESSION.match(unquote(name))
    ]
    query = urlencode(sorted(params))
    fragment = parts.fragment if parts.fragment.startswith(("!", "/")) else ""  # #! routes
    return host + path + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")


def _fingerprint(entry: Entry) -> str:
    published = entry.published.isoformat() if entry.published else ""
    return content_hash(entry.title, entry.link, entry.content_html, published)[:16]


def _candidates(guid: str, entry: Entry) -> list[str]:
    found = []
    if guid:
        found.append("id:" + guid)
    if entry.link:
        found.append("link:" + normalise_link(entry.link))
    found.append("hash:" + content_hash(entry.title, entry.content_html))
    return found


def _legacy(guid: str, entry: Entry) -> str:
    """The key the item had before links were normalised: guid, else the link as given."""
    if guid:
        return "id:" + guid
    if entry.link:
        return "link:" + entry.link
    return "hash:" + content_hash(entry.title, entry.content_html)


def assign_keys(entries: Sequence[Entry]) -> tuple[Entry, ...]:
    """Key every entry of one document, as the module docstring says.

    Takes the entries in document order, each keyed by the parser with
    ``textutil.entry_key`` (``id:<guid>`` when it has a guid); returns them, each
    once, with ``key``, ``aliases`` and ``fallback_keys`` set.
    """
    items = [(e.key[3:] if e.key.startswith("id:") else "", e) for e in entries]
    fingerprints = [_fingerprint(entry) for _, entry in items]
    holders: dict[str, set[str]] = {}
    candidates = [_candidates(one_line(guid), entry) for guid, entry in items]
    for keys, fingerprint in zip(candidates, fingerprints, strict=True):
        for key in keys:
            holders.setdefault(key, set()).add(fingerprint)
    legacy_holders: dict[str, set[str]] = {}
    for (guid, entry), fingerprint in zip(items, fingerprints, strict=True):
        legacy_holders.setdefault(_legacy(one_line(guid), entry), set()).add(fingerprint)
    result: list[Entry] = []
    taken: set[str] = set()
    for (guid, entry), keys, fingerprint in zip(items, candidates, fingerprints, strict=True):
        key = next((k for k in keys if len(holders[k]) == 1), f"{keys[0]}#{fingerprint}")
        if key in taken:
            continue  # the same item again, verbatim
        taken.add(key)
        legacy = _legacy(one_line(guid), entry)
        if len(legacy_holders[legacy]) > 1:
            legacy = f"{legacy}#{fingerprint}"  # the spelling of a shared key before
        aliases = tuple(dict.fromkeys(k for k in (legacy,) if k != key))
        fallbacks = tuple(k for k in keys if k != key and k not in aliases)
        result.append(replace(entry, key=key, aliases=aliases, fallback_keys=fallbacks))
    return tuple(result)


def all_keys(entry: Entry) -> tuple[str, ...]:
    """Every key the pipeline records for an entry it takes on (key, aliases, fallbacks)."""
    return (entry.key, *entry.aliases, *entry.fallback_keys)


def _fold_title(title: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", title).casefold().split())


def _specific(title: str) -> bool:
    """Whether a title is long enough to name one article ("Update" is not)."""
    wide = sum(1 for char in title if unicodedata.east_asian_width(char) in "WF")
    return len(title) >= _MIN_TITLE or wide >= _MIN_CJK_TITLE


def article_keys(entry: Entry, site_link: str = "") -> tuple[str, ...]:
    """Keys under which the same article is recognised in another feed of the same chat.

    ``url:`` + the normalised link; ``title:`` + site + folded title when the title
    is specific, the site being the entry link's host, else ``site_link``'s.
    """
    keys: list[str] = []
    if entry.link:
        keys.append("url:" + normalise_link(entry.link))
    title = _fold_title(entry.title)
    site = normalise_link(entry.link or site_link).split("/", 1)[0]
    if title and site and "." in site and _specific(title):
        keys.append(f"title:{site}|{title}")
    return tuple(keys)
