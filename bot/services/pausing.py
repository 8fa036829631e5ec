"""Pausing and resuming subscriptions.

What a pause means: while a subscription is paused the pipeline queues nothing for
it, and rows queued before the pause wait in the outbox (the store holds them
back). On resume those earlier rows still go: they were due before the pause.
Entries that appeared during the pause are skipped, unless ``backlog`` is given.

A feed followed only by paused subscriptions is not polled, so its entries from
the pause may still be unseen at resume time. Before unpausing, resuming therefore
fetches the feed once and queues its unseen entries for every running subscriber
(``EverySubscriber``) while this one is still paused: they are recorded as seen and
never reach it. With ``backlog``, the entries of the current document first seen
since the pause (read as it is unpaused) are then queued for it (``ResumedSubscriber``),
oldest first, at most ``MAX_RESUME_BACKLOG``; entries that already dropped out of the feed
are gone.
If the fetch fails, the subscription resumes anyway and the result carries the
error, so the reply can say that entries from the pause may still arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.feeds.failure import FetchError
from bot.feeds.load import load_feed
from bot.models import ParsedFeed, Subscription
from bot.pipeline import EverySubscriber, ResumedSubscriber, queue_entries
from bot.services import Services
from bot.store import AudienceChanged

MAX_RESUME_BACKLOG = 50
RESUME_FETCH_CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class Resumed:
    """What resuming one subscription did, for the reply."""

    subscription: Subscription
    queued: int = 0
    total: int = 0
    """Entries of the pause still in the feed (before the cap and the filters)."""
    error: FetchError | None = None
    """Why the feed could not be read at resume time, if it could not."""
    backlog: bool = False


async def pause_subscriptions(services: Services, subscriptions: Sequence[Subscription]) -> None:
    """Pause each subscription now (one already paused keeps its first pause time)."""
    now = services.clock()
    for sub in subscriptions:
        await services.store.set_subscription_paused(sub.id, True, now=now)


async def resume_subscriptions(
    services: Services, subscriptions: Sequence[Subscription], *, backlog: bool
) -> list[Resumed]:
    """Resume paused subscriptions, skipping (or with ``backlog``, queueing) the pause's entries.

    Returns one ``Resumed`` per subscription, in order; a feed that cannot be read
    is reported in it, not raised.
    """
    store = services.store
    limit = asyncio.Semaphore(RESUME_FETCH_CONCURRENCY)

    async def fetch(url: str) -> ParsedFeed | FetchError:
        async with limit:
            try:
                _, parsed, _ = await load_feed(services.fetcher, url)
            except FetchError as exc:
                return exc
            return parsed

    urls = {sub.feed_id: sub.url for sub in subscriptions}
    fetched = dict(
        zip(urls, await asyncio.gather(*(fetch(url) for url in urls.values())), strict=True)
    )
    for feed_id, parsed in fetched.items():
        if isinstance(parsed, ParsedFeed):
            # Still paused here: what is new now is recorded as seen without reaching them.
            # When other chats' subscriptions keep changing under this refresh, it is left to
            # the next check, which brings those entries to every follower, these included:
            # the resume must not fail for it.
            with contextlib.suppress(AudienceChanged):
                await queue_entries(store, feed_id, parsed, EverySubscriber(), now=services.clock())
    results = []
    for sub in subscriptions:
        parsed = fetched[sub.feed_id]
        # The pause's entries are read as the pause ends, in the same transaction: a refresh
        # committing after it brings the newer ones itself (``Store.resume_subscription``).
        keys = []
        if backlog and isinstance(parsed, ParsedFeed):
            keys = [entry.key for entry in parsed.entries]
        missed = await store.resume_subscription(sub.id, keys)
        if isinstance(parsed, FetchError):
            results.append(Resumed(sub, error=parsed))
        elif backlog and missed is not None:
            audience = ResumedSubscriber(sub, missed=missed, at_most=MAX_RESUME_BACKLOG)
            done = await queue_entries(store, sub.feed_id, parsed, audience, now=services.clock())
            results.append(Resumed(sub, queued=done.queued, total=done.new, backlog=True))
        else:
            results.append(Resumed(sub))
    services.wake_delivery()
    return results
