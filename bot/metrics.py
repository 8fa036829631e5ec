"""Prometheus metrics of one running bot, in a registry of its own.

Each ``Relay`` owns a ``Metrics`` (a ``CollectorRegistry`` per instance, no module
globals), so several bots in one process, as in the tests, never share a counter.
Counters move where things happen, through small observers the parts are handed:
the poller reports each refresh, the deliverer each outcome, the Bot API request
class each call, the update gate each update. Gauges that describe the database
(feeds due, the outbox) are sampled from it when ``/metrics`` is scraped.

The names, and the queries that answer the usual questions, are in the README's
"Metrics" section.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot import __version__
from bot.store import Store, database_errors

log = logging.getLogger(__name__)

_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
UNTIMED_METHODS = frozenset({"getUpdates"})
"""Long polls: their duration is Telegram's timeout, not a latency."""
OVERDUE_GRACE_SECONDS = 60.0
"""A feed due for longer than this counts as overdue (the poller ticks every 5 s at most)."""


@dataclass(frozen=True, slots=True)
class DatabaseSample:
    """The numbers sampled from the database at scrape time."""

    feeds_due: int
    feeds_overdue: int
    outbox_pending: int
    outbox_oldest_age: float
    """Seconds since the oldest sendable outbox row was queued (0 when there is none)."""


class Metrics:
    """The bot's counters, histograms and gauges; ``exposition`` renders them for /metrics."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        Gauge("newsrelay_build_info", "The running version", ["version"], registry=registry).labels(
            __version__
        ).set(1)
        self.refreshes = Counter(
            "newsrelay_feed_refreshes",
            "Feed refreshes by outcome: updated, unchanged (same body), not_modified (304), failed",
            ["outcome"],
            registry=registry,
        )
        self.refresh_errors = Counter(
            "newsrelay_feed_refresh_errors",
            "Failed feed refreshes by failure kind",
            ["kind"],
            registry=registry,
        )
        self.refresh_seconds = Histogram(
            "newsrelay_feed_refresh_seconds",
            "Time of one feed refresh: fetch, parse and queueing",
            buckets=_SECONDS,
            registry=registry,
        )
        self.entries_queued = Counter(
            "newsrelay_entries_queued",
            "Outbox rows queued by feed refreshes (one per entry and chat)",
            registry=registry,
        )
        self.deliveries = Counter(
            "newsrelay_deliveries",
            "Outbox sends by outcome: delivered, wait_chat (429), retry, fail, deactivate, …",
            ["outcome"],
            registry=registry,
        )
        self.api_requests = Counter(
            "newsrelay_telegram_requests",
            "Bot API calls by method and HTTP status (error: no answer)",
            ["method", "code"],
            registry=registry,
        )
        self.api_seconds = Histogram(
            "newsrelay_telegram_request_seconds",
            "Bot API call latency by method (long polls excluded)",
            ["method"],
            buckets=_SECONDS,
            registry=registry,
        )
        self.updates = Counter(
            "newsrelay_updates",
            "Updates from Telegram by kind (command, button, message, other) and verdict",
            ["kind", "verdict"],
            registry=registry,
        )
        self.feeds_due = Gauge(
            "newsrelay_feeds_due",
            "Followed feeds whose next fetch time has come",
            registry=registry,
        )
        self.feeds_overdue = Gauge(
            "newsrelay_feeds_overdue",
            "Followed feeds due for longer than the overdue grace (the fetchers are behind)",
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "newsrelay_outbox_pending",
            "Outbox rows waiting to be sent (paused and inactive chats not counted)",
            registry=registry,
        )
        self.outbox_oldest_age = Gauge(
            "newsrelay_outbox_oldest_age_seconds",
            "Age of the oldest outbox row waiting to be sent",
            registry=registry,
        )

    def refreshed(self, outcome: str, error_kind: str | None, seconds: float, queued: int) -> None:
        """One feed refresh ended with ``outcome`` after ``seconds``, queueing ``queued`` rows."""
        self.refreshes.labels(outcome).inc()
        if error_kind is not None:
            self.refresh_errors.labels(error_kind).inc()
        self.refresh_seconds.observe(seconds)
        self.entries_queued.inc(queued)

    def delivery(self, outcome: str) -> None:
        """One outbox send ended with ``outcome`` (``delivered`` or a verdict's action)."""
        self.deliveries.labels(outcome).inc()

    def api_call(self, method: str, code: int | None, seconds: float) -> None:
        """One Bot API call of ``method`` answered with HTTP ``code`` (None: no answer)."""
        self.api_requests.labels(method, "error" if code is None else str(code)).inc()
        if method not in UNTIMED_METHODS:
            self.api_seconds.labels(method).observe(seconds)

    def update(self, kind: str, verdict: str) -> None:
        """The update gate let an update of ``kind`` through or dropped it (``verdict``)."""
        self.updates.labels(kind, verdict).inc()

    def sampled(self, sample: DatabaseSample) -> None:
        """Set the database gauges."""
        self.feeds_due.set(sample.feeds_due)
        self.feeds_overdue.set(sample.feeds_overdue)
        self.outbox_pending.set(sample.outbox_pending)
        self.outbox_oldest_age.set(sample.outbox_oldest_age)

    async def sample(self, store: Store, now: float) -> None:
        """Set the database gauges from ``store`` as of ``now`` (Unix seconds); a database
        error is logged and the gauges keep their last values."""
        try:
            due, overdue = await store.count_due(now, overdue_before=now - OVERDUE_GRACE_SECONDS)
            pending, oldest = await store.sendable_backlog()
        except database_errors():
            log.exception("metrics_sample_failed")
            return
        age = 0.0 if oldest is None else max(0.0, now - oldest)
        self.sampled(DatabaseSample(due, overdue, pending, age))

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)
