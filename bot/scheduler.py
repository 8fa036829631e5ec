"""When feeds are fetched: an APScheduler tick picks the feeds whose time has come.

The truth is in SQLite (each feed's ``next_fetch_at``); the scheduler only holds
in-memory interval jobs, so the schedule is rebuilt from the database at every
start. At most ``fetch.concurrency`` fetches run at once, and a feed is never
fetched twice at the same time, however many chats follow it.

Housekeeping rides on the same scheduler: at start and then every
``HOUSEKEEPING_EVERY_SECONDS`` of the bot's clock, failed outbox rows older than
``FAILED_RETENTION_SECONDS`` and feeds nobody follows are deleted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.feeds.failure import FetchError, FetchErrorKind
from bot.feeds.fetch import Fetcher
from bot.logs import event
from bot.models import Feed
from bot.pipeline import RefreshResult, record_refresh_failure, refresh_feed
from bot.store import Store

log = logging.getLogger(__name__)

MAX_TICK_SECONDS = 5.0
DAY_SECONDS = 86_400
FAILED_RETENTION_SECONDS = 30 * DAY_SECONDS
"""How long a failed outbox row stays for the record (stats, a look at what went wrong)."""
ORPHAN_GRACE_SECONDS = 3600
"""A feed nobody follows is kept this long after its creation: /sub creates the feed row
a moment before its subscription, and a pass in between must not delete it."""
HOUSEKEEPING_EVERY_SECONDS = 6 * 3600


@dataclass(frozen=True, slots=True)
class HousekeepingResult:
    """What one housekeeping pass deleted."""

    purged_failed: int
    """Failed outbox rows older than the retention period."""
    deleted_feeds: int
    """Feeds that no subscription followed (their seen keys and failed rows went too)."""


async def housekeep(store: Store, now: float) -> HousekeepingResult:
    """Delete expired failed rows and unfollowed feeds as of ``now`` (Unix seconds); the counts."""
    purged = await store.purge_failed(now - FAILED_RETENTION_SECONDS)
    deleted = await store.delete_orphan_feeds(created_before=now - ORPHAN_GRACE_SECONDS)
    return HousekeepingResult(purged_failed=purged, deleted_feeds=deleted)


class Housekeeper:
    """Runs :func:`housekeep` on the first :meth:`tick` and then once per period of ``clock``.

    The owner calls ``tick`` often (the :class:`Poller`'s scheduler, every few seconds); the
    clock, not the caller, decides when a pass is due, so tests drive it with a fake clock.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float],
        every_seconds: float = HOUSEKEEPING_EVERY_SECONDS,
    ) -> None:
        self._store = store
        self._clock = clock
        self._every = every_seconds
        self._next_run: float | None = None

    async def tick(self) -> HousekeepingResult | None:
        """Run a pass if one is due and return what it deleted; None when none was due.

        A database error is logged and the pass retried one period later: it must not
        stop the scheduler that also polls the feeds.
        """
        now = self._clock()
        if self._next_run is not None and now < self._next_run:
            return None
        self._next_run = now + self._every
        try:
            result = await housekeep(self._store, now)
        except sqlite3.Error:
            log.exception("housekeeping_failed")
            return None
        if result.purged_failed or result.deleted_feeds:
            event(
                log,
                logging.INFO,
                "housekeeping",
                purged_failed=result.purged_failed,
                deleted_feeds=result.deleted_feeds,
            )
        return result


class Poller:
    """Refreshes due feeds on every tick."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        *,
        clock: Callable[[], float],
        concurrency: int,
        on_queued: Callable[[], None],
        interval_seconds: int,
        tick_seconds: float = MAX_TICK_SECONDS,
        housekeeper: Housekeeper | None = None,
        on_tick: Callable[[], None] | None = None,
        on_refreshed: Callable[[RefreshResult, float], None] | None = None,
    ) -> None:
        """``on_tick`` hears each finished tick, ``on_refreshed`` each refresh and its
        duration in seconds (metrics and health)."""
        self._store = store
        self._on_tick = on_tick or (lambda: None)
        self._on_refreshed = on_refreshed or (lambda _result, _seconds: None)
        self._fetcher = fetcher
        self._clock = clock
        self._limit = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._on_queued = on_queued
        self._tick_seconds = tick_seconds
        self._interval = interval_seconds
        self._running: dict[int, asyncio.Task[RefreshResult]] = {}
        self._scheduler: AsyncIOScheduler | None = None
        self._housekeeper = housekeeper

    def start(self) -> None:
        """Tick now and then every few seconds; the housekeeper, if any, on the same beat."""
        scheduler = AsyncIOScheduler()
        jobs: dict[str, Callable[[], Awaitable[object]]] = {"poll": self.tick}
        if self._housekeeper is not None:
            jobs["housekeeping"] = self._housekeeper.tick
        for name, job in jobs.items():
            scheduler.add_job(
                job,
                "interval",
                seconds=self._tick_seconds,
                id=name,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        """Stop ticking and cancel fetches under way (their feeds stay due)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def tick(self) -> list[asyncio.Task[RefreshResult]]:
        """Start a refresh for every due feed not already being refreshed."""
        due = await self._store.due_feeds(self._clock(), limit=self._concurrency * 4)
        started = []
        for feed in due:
            if feed.id in self._running:
                continue
            task = asyncio.create_task(self._refresh(feed))
            self._running[feed.id] = task
            started.append(task)
        self._on_tick()
        return started

    async def poll_once(self) -> list[RefreshResult]:
        """Refresh every feed due now and wait for all of them (for tests and tools)."""
        return list(await asyncio.gather(*await self.tick()))

    async def _refresh(self, feed: Feed) -> RefreshResult:
        started = time.perf_counter()
        try:
            # The configured interval applies from a feed's next fetch on, so a changed
            # polling.interval_seconds takes effect without touching the database.
            feed = dataclasses.replace(feed, interval_seconds=self._interval)
            async with self._limit:
                started = time.perf_counter()  # the refresh's own time, not its wait for a slot
                result = await refresh_feed(
                    feed, fetcher=self._fetcher, store=self._store, clock=self._clock
                )
        except Exception as exc:
            # A bug in one feed's refresh must not stop the others: log it with its
            # traceback, record it on the feed (shown in /list), and back the feed off.
            log.exception("refresh_crashed feed_id=%s url=%s", feed.id, feed.url)
            error = FetchError(FetchErrorKind.INTERNAL, f"internal error: {type(exc).__name__}")
            result = await record_refresh_failure(self._store, feed, error, clock=self._clock)
        else:
            if result.queued:
                self._on_queued()
        finally:
            self._running.pop(feed.id, None)
        self._on_refreshed(result, time.perf_counter() - started)
        return result
