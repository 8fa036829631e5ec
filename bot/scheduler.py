"""When feeds are fetched: an APScheduler tick picks the feeds whose time has come.

The truth is in SQLite (each feed's ``next_fetch_at``); the scheduler only holds
one in-memory interval job, so the schedule is rebuilt from the database at every
start. At most ``fetch.concurrency`` fetches run at once, and a feed is never
fetched twice at the same time, however many chats follow it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.feeds.failure import FetchError, FetchErrorKind
from bot.feeds.fetch import Fetcher
from bot.models import Feed
from bot.pipeline import RefreshResult, record_refresh_failure, refresh_feed
from bot.store import Store

log = logging.getLogger(__name__)

MAX_TICK_SECONDS = 5.0


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
    ) -> None:
        self._store = store
        self._fetcher = fetcher
        self._clock = clock
        self._limit = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._on_queued = on_queued
        self._tick_seconds = tick_seconds
        self._interval = interval_seconds
        self._running: dict[int, asyncio.Task[RefreshResult]] = {}
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        """Tick now and then every few seconds."""
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self._tick_seconds,
            id="poll",
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
        return started

    async def poll_once(self) -> list[RefreshResult]:
        """Refresh every feed due now and wait for all of them (for tests and tools)."""
        return list(await asyncio.gather(*await self.tick()))

    async def _refresh(self, feed: Feed) -> RefreshResult:
        try:
            # The configured interval applies from a feed's next fetch on, so a changed
            # polling.interval_seconds takes effect without touching the database.
            feed = dataclasses.replace(feed, interval_seconds=self._interval)
            async with self._limit:
                result = await refresh_feed(
                    feed, fetcher=self._fetcher, store=self._store, clock=self._clock
                )
        except Exception as exc:
            # A bug in one feed's refresh must not stop the others: log it with its
            # traceback, record it on the feed (shown in /list), and back the feed off.
            log.exception("refresh_crashed feed_id=%s url=%s", feed.id, feed.url)
            error = FetchError(FetchErrorKind.INTERNAL, f"internal error: {type(exc).__name__}")
            return await record_refresh_failure(self._store, feed, error, clock=self._clock)
        else:
            if result.queued:
                self._on_queued()
            return result
        finally:
            self._running.pop(feed.id, None)
