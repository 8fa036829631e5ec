"""Subscribing a chat to a feed: resolve the URL, find the feed, record it, send the backlog.

A web page that links its feed (``<link rel="alternate">``) works as well as the
feed itself. A new feed's current entries are recorded as seen, except the
newest ``delivery.backlog_on_subscribe``, which are queued for the new chat only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.feeds.discover import find_feed_links
from bot.feeds.failure import FetchError
from bot.feeds.fetch import Fetcher, FetchResult
from bot.feeds.parse import NotAFeed, is_html_page, parse_feed
from bot.models import ParsedFeed, Subscription
from bot.pipeline import NewSubscriber, queue_entries
from bot.services import Services
from bot.store import SubscriptionExists

_BARE_HOST = re.compile(r"^[\w.-]+\.[a-z]{2,}(?::\d+)?(?:/\S*)?$", re.IGNORECASE)
MAX_DISCOVERED = 3
BACKLOG_HOLD_SECONDS = 60.0
"""The backlog waits for the /sub confirmation; if that never comes (a crash), this long."""


class SubscribeError(Exception):
    """A one-line reason why a URL cannot be subscribed to."""


@dataclass(frozen=True, slots=True)
class SubscribeOutcome:
    subscription: Subscription
    title: str
    existed: bool


def normalise_url(text: str) -> str | None:
    """An http(s) URL from what the user typed, or None when it is not one."""
    candidate = text.strip().strip("<>")
    if _BARE_HOST.match(candidate):
        candidate = "https://" + candidate
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return candidate


async def load_feed(fetcher: Fetcher, url: str) -> tuple[str, ParsedFeed, FetchResult]:
    """Fetch and parse ``url``, following a web page to the feed it links.

    Returns the feed's URL, the parsed feed and the response that carried it.
    """
    response = await fetcher.fetch(url)
    try:
        parsed = parse_feed(response.body, url=response.url, content_type=response.content_type)
    except NotAFeed:
        if not is_html_page(response.body, response.content_type):
            raise
        links = find_feed_links(response.body, response.url)
    else:
        return url, parsed, response
    last_error: Exception = NotAFeed("no feed found on that page")
    for link in links[:MAX_DISCOVERED]:
        try:
            found = await fetcher.fetch(link)
            parsed = parse_feed(found.body, url=found.url, content_type=found.content_type)
        except (FetchError, NotAFeed) as exc:
            last_error = exc
            continue
        return link, parsed, found
    raise last_error


async def subscribe(
    services: Services, chat_id: int, thread_id: int | None, text: str
) -> SubscribeOutcome:
    """Subscribe the chat (or forum topic) to the feed at ``text``."""
    url = normalise_url(text)
    if url is None:
        raise SubscribeError("not a web address (it must start with http:// or https://)")
    store, settings = services.store, services.settings
    existing = await store.find_subscription(chat_id, url)
    if existing is not None and existing.thread_id == thread_id:
        return SubscribeOutcome(existing, existing.title or url, existed=True)
    limit = settings.access.max_subscriptions_per_chat
    if await store.count_subscriptions(chat_id) >= limit:
        raise SubscribeError(f"this chat already has the maximum of {limit} subscriptions")
    try:
        feed_url, parsed, response = await load_feed(services.fetcher, url)
    except (FetchError, NotAFeed) as exc:
        raise SubscribeError(str(exc)) from exc

    now = services.clock()
    feed, created = await store.get_or_create_feed(
        feed_url,
        title=parsed.title,
        interval_seconds=settings.polling.effective_interval,
        now=now,
    )
    try:
        subscription = await store.add_subscription(chat_id, feed.id, thread_id=thread_id)
    except SubscriptionExists as exc:
        return SubscribeOutcome(exc.existing, feed.title or parsed.title or feed_url, existed=True)

    backlog = NewSubscriber(
        subscription,
        newest=settings.delivery.backlog_on_subscribe,
        first_fetch=created,
        hold_until=now + BACKLOG_HOLD_SECONDS,
    )
    await queue_entries(store, feed.id, parsed, backlog, now=now)
    if created:
        await store.record_fetch_success(
            feed.id,
            next_fetch_at=feed.next_fetch_at,
            etag=response.etag,
            last_modified=response.last_modified,
            body_hash=response.body_hash,
            title=parsed.title,
            now=now,
        )
    return SubscribeOutcome(subscription, parsed.title or feed_url, existed=False)


async def release_backlog(services: Services, outcomes: list[SubscribeOutcome]) -> None:
    """Send the held backlog of new subscriptions, once their confirmation is out."""
    now = services.clock()
    for outcome in outcomes:
        if not outcome.existed:
            await services.store.release(outcome.subscription.id, now=now)
    services.wake_delivery()
