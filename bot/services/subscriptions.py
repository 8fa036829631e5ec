"""Subscribing a chat to feeds: resolve each URL, find or create the feed, queue the backlog.

The one subscribe loop behind /sub, /import and ``newsrelay import-opml``. A new
feed's current entries are recorded as seen, except the newest
``delivery.backlog_on_subscribe``, which the pipeline queues for the new
subscription only (``NewSubscriber``), held until ``release_backlog`` so the
confirmation goes out first. A failure is returned as a reason, never raised:
the caller words it in its reader's language.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.cadence import after_subscribe
from bot.feeds.failure import FetchError, FetchErrorKind
from bot.feeds.load import load_feed
from bot.models import Subscription
from bot.pipeline import NewSubscriber, queue_entries
from bot.services import Services
from bot.store import SubscriptionExists

_BARE_HOST = re.compile(r"^[\w.-]+\.[a-z]{2,}(?::\d+)?(?:/\S*)?$", re.IGNORECASE)
_JITTER = random.Random()  # noqa: S311 - spreading checks, not a secret
BACKLOG_HOLD_SECONDS = 60.0
"""The backlog waits for the /sub confirmation; if that never comes (a crash), this long."""


@dataclass(frozen=True, slots=True)
class LimitReached:
    """The chat already has ``limit`` subscriptions (``access.max_subscriptions_per_chat``)."""

    limit: int


@dataclass(frozen=True, slots=True)
class Subscribed:
    """A URL the chat now follows (``existed``: it already did)."""

    url: str
    """As given."""
    subscription: Subscription
    title: str
    existed: bool


@dataclass(frozen=True, slots=True)
class NotSubscribed:
    """A URL that could not be subscribed to, and why."""

    url: str
    """As given."""
    reason: FetchError | LimitReached


SubscribeResult = Subscribed | NotSubscribed


def normalise_url(text: str) -> str | None:
    """An http(s) URL from what the user typed, or None when it is not one."""
    candidate = text.strip().strip("<>")
    if _BARE_HOST.match(candidate):
        candidate = "https://" + candidate
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return candidate


async def subscribe(
    services: Services, chat_id: int, thread_id: int | None, text: str
) -> SubscribeResult:
    """Subscribe the chat (or forum topic) to the feed at ``text``.

    Returns ``Subscribed`` (a new or an existing subscription) or ``NotSubscribed``
    with the reason: not a web address, the chat's limit, or why the feed could not
    be read. Raises nothing of its own.
    """
    url = normalise_url(text)
    if url is None:
        return NotSubscribed(text, FetchError(FetchErrorKind.INVALID_URL, "not a web address"))
    store, settings = services.store, services.settings
    existing = await store.find_subscription(chat_id, url)
    if existing is not None and existing.thread_id == thread_id:
        return Subscribed(text, existing, existing.title or url, existed=True)
    limit = settings.access.max_subscriptions_per_chat
    if await store.count_subscriptions(chat_id) >= limit:
        return NotSubscribed(text, LimitReached(limit))
    try:
        feed_url, parsed, response = await load_feed(services.fetcher, url)
    except FetchError as exc:
        return NotSubscribed(text, exc)

    # Two chats subscribing to one feed at once: the second must see the entries the
    # first marked seen, or its backlog misses an entry no refresh will offer again.
    async with services.feed_locks[feed_url]:
        now = services.clock()
        interval = settings.polling.effective_interval
        feed, created = await store.get_or_create_feed(
            feed_url,
            title=parsed.title,
            interval_seconds=interval,
            now=now,
            # Jitter: feeds subscribed together (an /import) are not checked together.
            next_fetch_at=after_subscribe(now, interval, _JITTER),
        )
        try:
            subscription = await store.add_subscription(chat_id, feed.id, thread_id=thread_id)
        except SubscriptionExists as exc:
            title = feed.title or parsed.title or feed_url
            return Subscribed(text, exc.existing, title, existed=True)

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
    return Subscribed(text, subscription, parsed.title or feed_url, existed=False)


async def subscribe_all(
    services: Services,
    chat_id: int,
    thread_id: int | None,
    urls: Iterable[str],
    *,
    on_result: Callable[[SubscribeResult], None] | None = None,
) -> list[SubscribeResult]:
    """Subscribe the chat to each URL in turn; one result per URL, in order.

    ``on_result`` hears each result as it comes (a progress display). The new
    subscriptions' backlog is held: call ``release_backlog`` once the chat has been told.
    """
    results = []
    for url in urls:
        result = await subscribe(services, chat_id, thread_id, url)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results


async def release_backlog(services: Services, results: Sequence[SubscribeResult]) -> None:
    """Send the held backlog of the new subscriptions among ``results`` now."""
    now = services.clock()
    for result in results:
        if isinstance(result, Subscribed) and not result.existed:
            await services.store.release(result.subscription.id, now=now)
    services.wake_delivery()
