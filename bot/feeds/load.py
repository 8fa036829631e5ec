"""A URL someone typed → the feed it means: fetch, parse, and follow a web page to its feed.

A web page that links its feed (``<link rel="alternate">``) works as well as the
feed itself: the first ``MAX_DISCOVERED`` links are tried in order.
"""

from __future__ import annotations

from bot.feeds.discover import find_feed_links
from bot.feeds.failure import FetchError, FetchErrorKind, classify
from bot.feeds.fetch import Fetcher, FetchResult
from bot.feeds.parse import NotAFeed, is_html_page, parse_feed
from bot.models import ParsedFeed

MAX_DISCOVERED = 3


async def load_feed(fetcher: Fetcher, url: str) -> tuple[str, ParsedFeed, FetchResult]:
    """Fetch and parse ``url``, following a web page to the feed it links.

    Returns the feed's URL, the parsed feed and the response that carried it.
    Raises ``FetchError``: NOT_A_FEED for a document that is no feed,
    NO_FEED_FOUND for a page whose links lead to none, else the fetch's own kind.
    """
    response = await fetcher.fetch(url)
    try:
        parsed = parse_feed(response.body, url=response.url, content_type=response.content_type)
    except NotAFeed as exc:
        if not is_html_page(response.body, response.content_type):
            raise classify(exc) from exc
        links = find_feed_links(response.body, response.url)
    else:
        return url, parsed, response
    last_error = FetchError(FetchErrorKind.NO_FEED_FOUND, "no feed found on that page")
    for link in links[:MAX_DISCOVERED]:
        try:
            found = await fetcher.fetch(link)
            parsed = parse_feed(found.body, url=found.url, content_type=found.content_type)
        except (FetchError, NotAFeed) as exc:
            last_error = classify(exc)
            continue
        return link, parsed, found
    raise last_error
