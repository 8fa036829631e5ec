"""One feed's refresh: fetch → parse, then the chain for every subscriber; backoff on failure."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.feeds.failure import FetchError, classify
from bot.feeds.fetch import Fetcher
from bot.feeds.identity import all_keys
from bot.feeds.parse import NotAFeed, parse_feed
from bot.logs import event
from bot.models import Feed
from bot.pipeline.chain import EverySubscriber, queue_entries
from bot.store import Store

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 6 * 3600
SEEN_RETENTION_SECONDS = 60 * 86400
"""A key that left its feed is forgotten this long after it was first seen."""


class RefreshStatus(StrEnum):
    """How one refresh ended."""

    NOT_MODIFIED = "not_modified"
    """The server answered 304."""
    UNCHANGED = "unchanged"
    """The body hash is the one stored: nothing was parsed."""
    UPDATED = "updated"
    """Parsed; new entries (maybe none) were queued."""
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one refresh did, for logs and tests."""

    feed_id: int
    status: RefreshStatus
    new_entries: int = 0
    queued: int = 0
    error: FetchError | None = None


def next_interval(base: int, error_count: int) -> int:
    """Back off exponentially on failures, up to six hours."""
    return min(MAX_BACKOFF_SECONDS, base * 2 ** min(error_count, 10)) if error_count else base


async def refresh_feed(
    feed: Feed, *, fetcher: Fetcher, store: Store, clock: Callable[[], float]
) -> RefreshResult:
    """Fetch one feed and queue its new entries for every subscriber.

    Returns what the refresh did; a failure to read the feed is recorded on it
    (see ``record_refresh_failure``) and returned, never raised.
    """
    try:
        response = await fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        body_hash = feed.body_hash if response.not_modified else response.body_hash
        if body_hash == feed.body_hash:
            # Nothing new. A 304 need not repeat the validators: keep the ones we sent.
            await _succeeded(
                store,
                feed,
                clock,
                etag=response.etag or feed.etag,
                last_modified=response.last_modified or feed.last_modified,
                body_hash=body_hash,
            )
            status = (
                RefreshStatus.NOT_MODIFIED if response.not_modified else RefreshStatus.UNCHANGED
            )
            return RefreshResult(feed.id, status)
        parsed = parse_feed(response.body, url=response.url, content_type=response.content_type)
    except (FetchError, NotAFeed) as exc:
        return await record_refresh_failure(store, feed, classify(exc), clock=clock)

    done = await queue_entries(store, feed.id, parsed, EverySubscriber(), now=clock())
    # Remember a key for as long as the feed carries it, and for a while after.
    await store.prune_seen(
        feed.id,
        keep=[key for entry in parsed.entries for key in all_keys(entry)],
        before=clock() - SEEN_RETENTION_SECONDS,
    )
    await _succeeded(
        store,
        feed,
        clock,
        etag=response.etag,
        last_modified=response.last_modified,
        body_hash=body_hash,
        title=parsed.title,
    )
    if done.new:
        event(log, logging.INFO, "feed_updated", feed_id=feed.id, new=done.new, queued=done.queued)
    return RefreshResult(feed.id, RefreshStatus.UPDATED, new_entries=done.new, queued=done.queued)


async def record_refresh_failure(
    store: Store, feed: Feed, error: FetchError, *, clock: Callable[[], float]
) -> RefreshResult:
    """Record that ``feed`` could not be refreshed; the one place that does.

    Backs the feed off (longer when the server sent Retry-After), stores the
    error's code for /list and stats, logs the failure, and returns the FAILED
    result carrying ``error``.
    """
    now = clock()
    interval = next_interval(feed.interval_seconds, feed.error_count + 1)
    if error.retry_after is not None:
        # The server said when to come back (429/503 Retry-After); within reason, obey.
        interval = max(interval, min(round(error.retry_after), MAX_BACKOFF_SECONDS))
    await store.record_fetch_failure(
        feed.id, next_fetch_at=now + interval, error=error.code, now=now
    )
    event(
        log,
        logging.WARNING,
        "fetch_failed",
        feed_id=feed.id,
        url=feed.url,
        kind=error.kind.value,
        error=str(error),
    )
    return RefreshResult(feed.id, RefreshStatus.FAILED, error=error)


async def _succeeded(
    store: Store,
    feed: Feed,
    clock: Callable[[], float],
    *,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
    title: str | None = None,
) -> None:
    now = clock()
    await store.record_fetch_success(
        feed.id,
        next_fetch_at=now + feed.interval_seconds,
        interval_seconds=feed.interval_seconds,
        etag=etag,
        last_modified=last_modified,
        body_hash=body_hash,
        title=title,
        now=now,
    )
