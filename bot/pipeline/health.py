"""A feed's health: what a failed check does, and the news that a reported feed works again.

``record_refresh_failure`` is the one place a failed check is recorded: exponential
backoff with jitter (``bot.cadence.retry_at``, at least as long as a Retry-After), the
failing notice once a run of failures is long enough, the end of a feed that is gone
(``bot.pipeline.notices`` decides both). ``tell_recovered`` queues the recovery news.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.cadence import retry_at
from bot.feeds.failure import FetchError
from bot.logs import event
from bot.models import Feed, PlannedDelivery
from bot.pipeline.chain import audience_chats, chat_languages
from bot.pipeline.notices import (
    failing_notices,
    gone_notices,
    is_gone,
    recovered_notices,
    should_report_failing,
)
from bot.pipeline.outcome import RefreshPolicy, RefreshResult, RefreshStatus
from bot.store import Store

log = logging.getLogger(__name__)


async def tell_recovered(store: Store, feed: Feed, now: float) -> int:
    """Tell the subscribers of a reported feed that it works again; how many were told.

    Before its new entries are queued, so the news comes first.
    """
    followers = await store.followers(feed.id)
    notices = recovered_notices(feed, followers.subscriptions, chat_languages(followers.chats))
    await store.record_recovery(feed.id, notices=notices, now=now)
    event(log, logging.INFO, "feed_recovered", feed_id=feed.id, told=len(notices))
    return len(notices)


async def record_refresh_failure(
    store: Store,
    feed: Feed,
    error: FetchError,
    *,
    clock: Callable[[], float],
    policy: RefreshPolicy | None = None,
) -> RefreshResult:
    """Record that ``feed`` could not be refreshed; the one place that does.

    Backs the feed off (at least as long as a Retry-After asked), stores the error's
    code for /list and stats, tells the subscribers once when the run of failures has
    lasted long enough, ends a feed that is gone, logs the failure, and returns the
    FAILED (or GONE) result carrying ``error``.
    """
    policy = policy or RefreshPolicy.for_interval(feed.interval_seconds)
    now = clock()
    event(
        log,
        logging.WARNING,
        "fetch_failed",
        feed_id=feed.id,
        url=feed.url,
        kind=error.kind.value,
        error=str(error),
    )
    if is_gone(feed, error):
        everyone = await store.feed_subscriptions(feed.id)
        languages = chat_languages(await audience_chats(store, everyone))
        farewell = gone_notices(feed, everyone, languages)
        removed = await store.end_feed(feed.id, error=error.code, now=now, notices=farewell)
        event(log, logging.WARNING, "feed_gone", feed_id=feed.id, url=feed.url, removed=removed)
        return RefreshResult(feed.id, RefreshStatus.GONE, queued=len(farewell), error=error)
    failures = feed.error_count + 1
    bounds = policy.bounds.asked(feed.requested_interval)
    due = retry_at(
        now=now,
        failures=failures,
        interval=bounds.clamp(feed.interval_seconds),
        bounds=bounds,
        retry_after=error.retry_after,
        skip_hours=feed.rhythm.skip_hours,
        rng=policy.rng,
    )
    notices: list[PlannedDelivery] = []
    if should_report_failing(
        feed, failures=failures, now=now, after_seconds=policy.failure_notice_after
    ):
        followers = await store.followers(feed.id)
        languages = chat_languages(followers.chats)
        notices = failing_notices(feed, error, followers.subscriptions, languages, now=now)
        event(log, logging.WARNING, "feed_failing_told", feed_id=feed.id, told=len(notices))
    await store.record_fetch_failure(
        feed.id, next_fetch_at=due, error=error.code, now=now, notices=notices
    )
    return RefreshResult(feed.id, RefreshStatus.FAILED, queued=len(notices), error=error)
