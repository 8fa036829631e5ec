"""When feeds are fetched: a dispatcher starts each feed when its time has come.

The truth is in SQLite (each feed's ``next_fetch_at``, set by ``bot.cadence``); the
dispatcher only reads ahead a batch of due feeds, so the schedule is rebuilt from the
database at every start. At most ``fetch.concurrency`` fetches run at once, at most
``fetch.per_host_concurrency`` per host, and a feed is never fetched twice at the same
time, however many chats follow it.

Housekeeping rides on the same scheduler: at start and then every
``HOUSEKEEPING_EVERY_SECONDS`` of the bot's clock, failed outbox rows older than
``FAILED_RETENTION_SECONDS``, feeds nobody follows and article keys older than the
cross-feed window are deleted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.feeds.failure import FetchError, FetchErrorKind
from bot.feeds.fetch import Fetcher
from bot.logs import event
from bot.models import Feed
from bot.pipeline import RefreshPolicy, RefreshResult, record_refresh_failure, refresh_feed
from bot.pipeline.plan import CROSS_FEED_WINDOW_SECONDS
from bot.store import Store, database_errors

log = logging.getLogger(__name__)

MAX_TICK_SECONDS = 5.0
"""The longest the dispatcher sleeps without looking at the schedule (another process,
such as ``newsrelay import-opml``, may have added feeds)."""
GRANULARITY_SECONDS = 1.0
"""The shortest sleep before the next due feed: feeds falling due within a second of each
other are started from one query."""
QUEUE_MAX_AGE = 30.0
"""Due feeds read ahead are read again after this long (the rows may have changed)."""
MAX_QUEUE = 1024
"""How many due feeds are read ahead at most, when many wait for their hosts."""
DAY_SECONDS = 86_400
FAILED_RETENTION_SECONDS = 30 * DAY_SECONDS
"""How long a failed outbox row stays for the record (stats, a look at what went wrong)."""
ORPHAN_GRACE_SECONDS = 3600
"""A feed nobody follows is kept this long after its creation: /sub creates the feed row
a moment before its subscription, and a pass in between must not delete it."""
HOUSEKEEPING_EVERY_SECONDS = 6 * 3600

DueFeeds = Callable[[float, int, Collection[int]], Awaitable[list[Feed]]]
"""``(now, limit, skip)`` → up to ``limit`` feeds due at ``now``, none of the ids in ``skip``."""


@dataclass(frozen=True, slots=True)
class HousekeepingResult:
    """What one housekeeping pass deleted."""

    purged_failed: int
    """Failed outbox rows older than the retention period."""
    deleted_feeds: int
    """Feeds that no subscription followed (their seen keys and failed rows went too)."""
    forgotten_articles: int = 0
    """Article keys older than the cross-feed window (``CROSS_FEED_WINDOW_SECONDS``)."""


async def housekeep(store: Store, now: float) -> HousekeepingResult:
    """Delete expired failed rows, unfollowed feeds and article keys past the cross-feed
    window as of ``now`` (Unix seconds); the counts."""
    purged = await store.purge_failed(now - FAILED_RETENTION_SECONDS)
    deleted = await store.delete_orphan_feeds(created_before=now - ORPHAN_GRACE_SECONDS)
    forgotten = await store.forget_articles(now - CROSS_FEED_WINDOW_SECONDS)
    return HousekeepingResult(
        purged_failed=purged, deleted_feeds=deleted, forgotten_articles=forgotten
    )


class Housekeeper:
    """Runs :func:`housekeep` on the first :meth:`tick` and then once per period of ``clock``.

    The owner calls ``tick`` often (an APScheduler job, every few seconds); the
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
        except database_errors():
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
    """Keeps every followed feed on its own schedule.

    A dispatcher task starts due feeds, most overdue first, whenever a fetch slot is
    free: at most ``concurrency`` at once and ``per_host`` per host name, with no other
    cap, so 10,000 feeds keep a 300 s cadence as long as the fetches themselves keep up.
    It then sleeps on the bot's clock until the next feed falls due (at least
    ``GRANULARITY_SECONDS``, so a burst of due feeds is picked up in one query), until a
    fetch ends, or ``idle_seconds`` at most (another process may add feeds).
    """

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        *,
        clock: Clock,
        concurrency: int,
        on_queued: Callable[[], None],
        policy: RefreshPolicy,
        per_host: int = 4,
        idle_seconds: float = MAX_TICK_SECONDS,
        housekeeper: Housekeeper | None = None,
        on_tick: Callable[[], None] | None = None,
        on_refreshed: Callable[[RefreshResult, float], None] | None = None,
        due_feeds: DueFeeds | None = None,
        when_idle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``on_tick`` hears each finished tick, ``on_refreshed`` each refresh and its
        duration in seconds (metrics and health). ``due_feeds(now, limit, skip)`` gives the
        due feeds to start (default: the store's; several processes on one database claim
        them instead, ``bot.coordination.feeds``). ``when_idle`` is awaited when the last
        refresh under way ends (the claims write the records they kept)."""
        self._store = store
        self._claiming = due_feeds is not None
        self._due_feeds: DueFeeds = due_feeds or (
            lambda now, limit, skip: store.due_feeds(now, limit, skip=skip)
        )
        self._on_tick = on_tick or (lambda: None)
        self._on_refreshed = on_refreshed or (lambda _result, _seconds: None)
        self._fetcher = fetcher
        self._clock = clock
        self._concurrency = concurrency
        self._per_host = per_host
        self._permits = asyncio.Semaphore(concurrency)
        self._host_permits: dict[str, asyncio.Semaphore] = {}
        self._host_load: Counter[str] = Counter()
        self._on_queued = on_queued
        self._policy = policy
        self._idle = idle_seconds
        self._running: dict[int, asyncio.Task[RefreshResult]] = {}
        self._queue: deque[Feed] = deque()
        self._queued_at = 0.0
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._housekeeper = housekeeper
        self._when_idle = when_idle

    @property
    def running(self) -> int:
        """Refreshes under way."""
        return len(self._running)

    def held_feeds(self) -> set[int]:
        """The ids of the feeds read ahead or being refreshed."""
        return {*self._running, *(feed.id for feed in self._queue)}

    def start(self) -> None:
        """Start the dispatcher; the housekeeper, if any, runs on an APScheduler job."""
        self._loop = asyncio.create_task(self.run())
        if self._housekeeper is not None:
            scheduler = AsyncIOScheduler()
            scheduler.add_job(
                self._housekeeper.tick,
                "interval",
                seconds=self._idle,
                id="housekeeping",
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )
            scheduler.start()
            self._scheduler = scheduler

    async def stop(self) -> None:
        """Stop dispatching and cancel fetches under way (their feeds stay due)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self) -> None:
        """Dispatch due feeds until cancelled."""
        while True:
            self._wake.clear()
            try:
                delay = await self._dispatch()
            except database_errors():
                log.exception("dispatch_failed")
                delay = self._idle
            self._on_tick()
            await self._clock.wait(self._wake, delay)

    async def _dispatch(self) -> float:
        """Start every due feed a slot allows; how long to wait before looking again."""
        while len(self._running) < self._concurrency:
            now = self._clock.time()
            if not self._queue or now - self._queued_at > QUEUE_MAX_AGE:
                self._queue = deque(await self._due_feeds(now, self._batch, self._running.keys()))
                self._queued_at = now
                if not self._queue:
                    break
            if self._start_queued() or not self._queue:
                continue
            # Every feed read ahead waits for its host: look further down the schedule.
            if len(self._queue) < MAX_QUEUE:
                skip = {*self._running, *(feed.id for feed in self._queue)}
                more = await self._due_feeds(now, self._batch, skip)
                if more:
                    self._queue.extend(more)
                    continue
            return self._idle  # a fetch ending wakes the dispatcher
        if self._queue or len(self._running) >= self._concurrency:
            return self._idle
        due = await self._store.next_due_time(skip=self._running.keys())
        if due is None:
            return self._idle
        return min(self._idle, max(GRANULARITY_SECONDS, due - self._clock.time()))

    @property
    def _batch(self) -> int:
        if self._claiming:
            # A claimed feed is withheld from the other processes: claim about what can
            # start soon (one claim per fetch would cost a statement per fetch).
            return self._concurrency
        return 4 * self._concurrency

    def _start_queued(self) -> bool:
        """Start queued feeds while slots last; False when none could start."""
        started = False
        waiting: list[Feed] = []
        while self._queue and len(self._running) < self._concurrency:
            feed = self._queue.popleft()
            if feed.id in self._running:
                continue
            if self._host_load[host_of(feed.url)] >= self._per_host:
                waiting.append(feed)
                continue
            self._launch(feed)
            started = True
        self._queue.extendleft(reversed(waiting))
        return started

    def _launch(self, feed: Feed) -> asyncio.Task[RefreshResult]:
        host = host_of(feed.url)
        self._host_load[host] += 1
        task = asyncio.create_task(self._refresh(feed, host))
        self._running[feed.id] = task
        return task

    async def tick(self) -> list[asyncio.Task[RefreshResult]]:
        """Start a refresh for every feed due now not already being refreshed.

        Unlike the dispatcher, nothing is held back here: the refreshes wait for their
        slots themselves (for tests and tools that want every due feed done).
        """
        due = await self._due_feeds(self._clock.time(), 1 << 30, self._running.keys())
        return [self._launch(feed) for feed in due]

    async def poll_once(self) -> list[RefreshResult]:
        """Refresh every feed due now and wait for all of them (for tests and tools)."""
        return list(await asyncio.gather(*await self.tick()))

    async def _refresh(self, feed: Feed, host: str) -> RefreshResult:
        started = time.perf_counter()
        try:
            slot = self._host_permits.setdefault(host, asyncio.Semaphore(self._per_host))
            async with self._permits, slot:
                started = time.perf_counter()  # the refresh's own time, not its wait for a slot
                result = await refresh_feed(
                    feed,
                    fetcher=self._fetcher,
                    store=self._store,
                    clock=self._clock.time,
                    policy=self._policy,
                )
        except Exception as exc:
            # A bug in one feed's refresh must not stop the others: log it with its
            # traceback, record it on the feed (shown in /list), and back the feed off.
            log.exception("refresh_crashed feed_id=%s url=%s", feed.id, feed.url)
            error = FetchError(FetchErrorKind.INTERNAL, f"internal error: {type(exc).__name__}")
            result = await record_refresh_failure(
                self._store, feed, error, clock=self._clock.time, policy=self._policy
            )
        else:
            if result.queued:
                self._on_queued()
        finally:
            self._running.pop(feed.id, None)
            self._host_load[host] -= 1
            if self._host_load[host] <= 0:
                del self._host_load[host]
                self._host_permits.pop(host, None)
            self._wake.set()
        self._on_refreshed(result, time.perf_counter() - started)
        if self._when_idle is not None and not self._running:
            try:
                await self._when_idle()
            except database_errors():
                log.exception("idle_work_failed")
        return result


def host_of(url: str) -> str:
    """The host name a feed URL is fetched from (lower case), for the per-host limit."""
    return (urlsplit(url).hostname or "").lower()
