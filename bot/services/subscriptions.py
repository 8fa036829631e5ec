"""Subscribing a chat to feeds: resolve each URL, find or create the feed, queue the backlog.

The one subscribe loop behind /sub, /import and ``newsrelay import-opml``. A new
feed's current entries are recorded as seen, except the newest
``delivery.backlog_on_subscribe``, which the pipeline queues for the new
subscription only (``NewSubscriber``), held until ``release_backlog`` so the
confirmation goes out first. A failure is returned as a reason, never raised:
the caller words it in its reader's language.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from bot.cadence import after_subscribe
from bot.feeds.failure import FetchError, FetchErrorKind
from bot.feeds.fetch import FetchResult
from bot.feeds.load import load_feed
from bot.feeds.netguard import parse_ip_literal
from bot.feeds.textutil import DEFAULT_PORTS
from bot.models import ParsedFeed, Subscription
from bot.pipeline import NewSubscriber, backlog_keys, queue_entries
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
Prepare = Callable[[str, Subscription], Awaitable[Subscription]]
"""Called with the URL as given and a new subscription before its backlog is planned;
returns the subscription as it is then (an import restores its settings here)."""


def normalise_url(text: str) -> str | None:
    """An http(s) URL from what the user typed, or None when it is not one."""
    candidate = text.strip().strip("<>")
    if _BARE_HOST.match(candidate):
        candidate = "https://" + candidate
    parts = urlsplit(candidate)
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        return None
    # One feed, one spelling: scheme and host are case-blind, a default port and a
    # fragment say nothing to the server (RFC 3986 6.2.2-6.2.3). Path and query stay
    # as typed: servers may tell their case and trailing slashes apart.
    try:
        port = parts.port
    except ValueError:
        return None
    # An IP address has many spellings (127.1, 2130706433, 0x7f.1) and a name may end in
    # a dot: each is one host, written the one way.
    host = parts.hostname.lower().rstrip(".")
    address = parse_ip_literal(host)
    host = host if address is None else str(address)
    host = f"[{host}]" if ":" in host else host
    netloc = host if port in {None, DEFAULT_PORTS[scheme]} else f"{host}:{port}"
    if "@" in parts.netloc:
        netloc = f"{parts.netloc.rsplit('@', 1)[0]}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A URL whose feed was read, ready to be subscribed to."""

    text: str
    feed_url: str
    parsed: ParsedFeed
    response: FetchResult


async def _load(
    services: Services, chat_id: int, thread_id: int | None, text: str
) -> SubscribeResult | _Loaded:
    """Read the feed at ``text``, unless the chat already follows it or is at its limit.

    Returns the feed read (``_Loaded``), or the result when there is nothing to
    subscribe to: an existing subscription, or why not (not a web address, the
    chat's limit, why the feed could not be read). Raises nothing of its own.
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
    return _Loaded(text, feed_url, parsed, response)


async def _commit(
    services: Services,
    chat_id: int,
    thread_id: int | None,
    loaded: _Loaded,
    prepare: Prepare | None = None,
) -> SubscribeResult:
    """Subscribe the chat (or forum topic) to a feed read by ``_load``; the result.

    ``prepare`` sees a new subscription before its backlog is queued.
    """
    store, settings = services.store, services.settings
    text, feed_url, parsed, response = loaded.text, loaded.feed_url, loaded.parsed, loaded.response
    limit = settings.access.max_subscriptions_per_chat
    # Two chats subscribing to one feed at once: the second must see the entries the
    # first marked seen, or its backlog misses an entry no refresh will offer again.
    # One chat's subscribes are counted one at a time, so they cannot pass its limit.
    async with services.feed_locks[feed_url], services.chat_locks[chat_id]:
        if await store.count_subscriptions(chat_id) >= limit:
            return NotSubscribed(text, LimitReached(limit))
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
        newest = settings.delivery.backlog_on_subscribe
        try:
            # Which of the backlog's entries the feed had seen is read as the subscription
            # is added, not when the backlog is planned: a refresh committing in between
            # brings the others to it (``Store.add_subscription_seeing`` says why).
            added = await store.add_subscription_seeing(
                chat_id, feed.id, backlog_keys(parsed, newest), thread_id=thread_id
            )
        except SubscriptionExists as exc:
            title = feed.title or parsed.title or feed_url
            return Subscribed(text, exc.existing, title, existed=True)
        subscription = added.subscription
        if prepare is not None:
            # Its settings (an import's) apply from here: a refresh committing before this
            # saw the subscription without them, as it would a moment after a /sub, and one
            # after a restored pause skips it, as it skips any paused subscription.
            subscription = await prepare(text, subscription)

        backlog = NewSubscriber(
            subscription,
            newest=newest,
            first_fetch=created,
            hold_until=now + BACKLOG_HOLD_SECONDS,
            seen_when_added=added.seen,
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
    prepare: Prepare | None = None,
) -> list[SubscribeResult]:
    """Subscribe the chat to each URL; one result per URL, in order.

    The feeds are read a few at a time (``services.subscribing``: a bound per chat and
    one over all chats, ``bot.services.fairness``) and subscribed to in the order
    given, so their numbers follow it. ``on_result`` hears each result in that order
    as it comes (a progress display); ``prepare`` as ``_commit`` says. The new
    subscriptions' backlog is held: call
    ``release_backlog`` once the chat has been told.
    """

    async def load(url: str) -> SubscribeResult | _Loaded:
        async with services.subscribing.slot(chat_id):
            return await _load(services, chat_id, thread_id, url)

    results: list[SubscribeResult] = []
    async with asyncio.TaskGroup() as group:
        loading = [group.create_task(load(url)) for url in urls]
        for task in loading:
            loaded = await task
            if isinstance(loaded, _Loaded):
                result = await _commit(services, chat_id, thread_id, loaded, prepare)
            else:
                result = loaded
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
