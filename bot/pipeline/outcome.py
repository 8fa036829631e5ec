"""What a refresh follows and what it reports: ``RefreshPolicy`` in, ``RefreshResult`` out."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.cadence import Bounds
from bot.config import Settings
from bot.feeds.failure import FetchError
from bot.feeds.scan import EntryScan, scan_entries
from bot.models import FetchSuccess
from bot.pipeline.plan import FloodRule

Scanner = Callable[..., EntryScan | None]
"""``scan_entries(body, url=...)``: a document's entry keys, or None when unsure."""

MAX_BACKOFF_SECONDS = 6 * 3600
"""The longest backoff when no policy says otherwise (``polling.max_interval_seconds``)."""
SEEN_RETENTION_SECONDS = 60 * 86400
"""A key that left its feed is forgotten this long after it was first seen."""


class RefreshStatus(StrEnum):
    """How one refresh ended."""

    NOT_MODIFIED = "not_modified"
    """The server answered 304."""
    UNCHANGED = "unchanged"
    """The body hash is the one stored: nothing was parsed."""
    NOTHING_NEW = "nothing_new"
    """The body changed but the scan found no unseen entry: nothing was parsed."""
    FIRST_READ = "first_read"
    """A feed read for the first time: its entries were marked seen, none queued."""
    UPDATED = "updated"
    """Parsed; new entries (maybe none) were queued."""
    FAILED = "failed"
    GONE = "gone"
    """410 Gone, confirmed: the feed's subscriptions were removed, subscribers told."""


class Parse(StrEnum):
    """How much of the document the refresh parsed."""

    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one refresh did, for logs and tests."""

    feed_id: int
    status: RefreshStatus
    new_entries: int = 0
    queued: int = 0
    """Outbox rows written: entries, flood summaries and notices."""
    error: FetchError | None = None
    parse: Parse = Parse.NONE


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    """The rules a refresh follows: interval bounds, flood collapse, when to report failure."""

    bounds: Bounds
    flood: FloodRule | None = None
    failure_notice_after: int = 12 * 3600
    """Seconds a run of failures must last before subscribers are told."""
    rng: random.Random = field(default_factory=random.Random)
    """Jitter for phases and backoff."""
    scan: Scanner = scan_entries
    """The entry scan. Tests give one that lies, to show that a lying scan costs a full
    parse, never an entry."""
    keep_record: Callable[[FetchSuccess], bool] | None = None
    """Takes the record of a routine check (a feed read before and not failing) to write
    later with others, or answers False; None writes every record at once. On PostgreSQL
    a fetching process claims its feeds, and batches their records on the claims
    (``bot.coordination.feeds``), however many processes share the database."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        rng: random.Random | None = None,
        keep_record: Callable[[FetchSuccess], bool] | None = None,
    ) -> RefreshPolicy:
        """The policy the configuration sets."""
        return cls(
            bounds=Bounds.from_settings(settings.polling),
            flood=FloodRule.from_settings(settings.delivery),
            failure_notice_after=settings.polling.failure_notice_after_seconds,
            rng=rng or random.Random(),  # noqa: S311 - jitter, not a secret
            keep_record=keep_record,
        )

    @classmethod
    def for_interval(cls, interval: int) -> RefreshPolicy:
        """A policy with ``interval`` as base and minimum, without flood collapse (tools)."""
        return cls(bounds=Bounds(interval, min(interval, 60), max(interval, MAX_BACKOFF_SECONDS)))
