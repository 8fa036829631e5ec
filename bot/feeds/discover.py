"""Web page to feed URLs: the ``<link rel="alternate">`` autodiscovery convention.

Only the stdlib HTML tokenizer is used: it never fetches anything, tolerates
any tag soup, and a page is capped by the fetcher's size limit anyway. A
``<base href>`` before the links changes what they are relative to, as in a
browser.
"""

from __future__ import annotations

from html.parser import HTMLParser

from bot.feeds.textutil import absolute_http

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
    }
)


class _LinkCollector(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base_url
        self.found: dict[str, None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "") for name, value in attrs}
        if tag == "base" and values.get("href"):
            self.base = absolute_http(values["href"], self.base) or self.base
            return
        if tag != "link":
            return
        rels = values.get("rel", "").lower().split()
        media_type = values.get("type", "").split(";", 1)[0].strip().lower()
        if "alternate" not in rels or media_type not in FEED_TYPES:
            return
        url = absolute_http(values.get("href", ""), self.base)
        if url:
            self.found.setdefault(url, None)


def find_feed_links(html: bytes, base_url: str) -> list[str]:
    """Absolute http(s) feed URLs a page advertises, deduplicated, in document order."""
    collector = _LinkCollector(base_url)
    # "<![" opens an SGML marked section, which html.parser asserts on; HTML5
    # reads it as a bogus comment up to ">", and "<!x[" makes html.parser agree.
    text = html.decode("utf-8", errors="replace").replace("<![", "<!x[")
    try:
        collector.feed(text)
        collector.close()
    except AssertionError:
        # _markupbase still holds assertions for malformed declarations; none is known
        # to fire after the rewrite above, but one odd page must never break /sub.
        pass
    return list(collector.found)
