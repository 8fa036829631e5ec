"""Due feeds claimed with a lease, so that each due feed is checked by one process.

The poller asks :meth:`FeedClaims.due_feeds` instead of the store: the feeds come back
claimed (``bot.store.leases``: their row's ``next_fetch_at`` holds the lease's end, so
other processes see them as not due). The coordinator's round calls :meth:`renew`:
claims the poller still holds (queued or being checked) get a fresh lease, the others
are given back with the time they were due, unless their check recorded its own next
time meanwhile (compare-and-set: a record is never undone). A process that dies stops
renewing, and its feeds fall due again ``lease_seconds`` after the last renewal.

The record of a routine check (``bot.pipeline.refresh``: a feed read before and not
failing, whose record only moves its validators, rhythm and due time) is not written at
once: :meth:`keep` keeps it, and all kept records are written in one statement
(``LeaseStore.record_leased``), each only where the row still holds its claim's lease:
at a claim once a claim's worth is kept, at the round, and when the poller's last
refresh ends. Four in five checks end in such a record and nothing else, so a busy
poller spares most checks their only statement. A record kept meanwhile leaves the feed
claimed, so nobody checks it early; a process that dies loses its kept records, which
costs each of those feeds one more fetch when its lease ends (their new entries were
queued durably before).

Correctness never rests on the lease: a check whose lease ran out (a stall longer than
the lease) may be repeated by another process, and its entries are still queued once,
because new entries are queued in the same transaction that marks them seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection

from bot.logs import event
from bot.models import Feed, FetchSuccess
from bot.store.engine import database_errors
from bot.store.leases import LeaseStore

log = logging.getLogger(__name__)


class FeedClaims:
    """The feeds this process claimed: id → (time it was due, lease value in the row)."""

    def __init__(self, leases: LeaseStore, *, lease_seconds: float) -> None:
        self._leases = leases
        self._lease_seconds = lease_seconds
        self._held: dict[int, tuple[float, float]] = {}
        self._kept: dict[int, FetchSuccess] = {}
        self._writing = asyncio.Lock()
        """Held while kept records are written or claims renewed: both read ``_held``."""
        self.holding: Callable[[], Collection[int]] = frozenset
        """The feed ids the poller still holds (queued or being checked); the owner sets it."""

    @property
    def held(self) -> int:
        """How many claims this process holds."""
        return len(self._held)

    def keep(self, record: FetchSuccess) -> bool:
        """Keep the record of a routine check of a claimed feed, to be written with others;
        False (nothing kept) when the feed is not among this process's claims or the record
        has no rhythm: the caller then writes it itself."""
        if record.feed_id not in self._held or record.rhythm is None:
            return False
        self._kept[record.feed_id] = record
        return True

    async def flush(self) -> None:
        """Write the kept records (one statement) and let go of their claims: the row now
        holds the real next time. A record whose lease is gone is dropped (one more fetch).
        Raises the database's error; the records are then kept for the next try."""
        async with self._writing:
            await self._flush()

    async def _flush(self) -> None:
        kept, self._kept = self._kept, {}
        checks = [(r, self._held[fid][1]) for fid, r in kept.items() if fid in self._held]
        try:
            written = await self._leases.record_leased(checks)
        except BaseException:
            self._kept = {**kept, **self._kept}  # the next claim or round tries again
            raise
        for record, lease in checks:
            current = self._held.get(record.feed_id)
            if current is not None and current[1] == lease:
                del self._held[record.feed_id]
        if len(written) < len(checks):
            event(log, logging.INFO, "kept_records_dropped", count=len(checks) - len(written))

    async def due_feeds(self, now: float, limit: int, skip: Collection[int] = ()) -> list[Feed]:
        """Claim up to ``limit`` due feeds not in ``skip``, soonest first (see the store);
        first write the kept records when there are ``limit`` of them or more."""
        # A busy poller claims once per ``limit`` checks started, so its records go in
        # batches of about ``limit``. A quiet one would flush one or two records per claim:
        # those wait for the poller's idle moment or the round (at most RENEW_SECONDS; the
        # row holds the claim's lease meanwhile, so nobody checks the feed early).
        if len(self._kept) >= limit:
            await self.flush()
        claimed = await self._leases.claim_due_feeds(
            now, limit, until=now + self._lease_seconds, skip=skip
        )
        for claim in claimed:
            self._held[claim.feed.id] = (claim.feed.next_fetch_at, claim.lease)
        return [claim.feed for claim in claimed]

    async def renew(self, now: float) -> None:
        """Extend the claims still held to ``now + lease_seconds``; give back the others.

        Writes the kept records first; when that fails they are dropped (logged; each
        costs one more fetch), so that a record the database refuses cannot stop the
        renewals. Raises the database's error of the renewal; the claims then stand as
        they were.
        """
        async with self._writing:
            try:
                await self._flush()
            except database_errors():
                dropped, self._kept = self._kept, {}
                log.exception("kept_records_lost count=%s", len(dropped))
            await self._renew(now)

    async def _renew(self, now: float) -> None:
        # A check that ended with its record kept still holds its feed: the record is
        # written with the claim's lease (given back, the feed would be due at once).
        holding = {*self.holding(), *self._kept}
        until = now + self._lease_seconds
        renewing = {fid: (lease, until) for fid, (_, lease) in self._held.items() if fid in holding}
        giving_back = {
            fid: (lease, due) for fid, (due, lease) in self._held.items() if fid not in holding
        }
        moved = await self._leases.move_feed_leases({**renewing, **giving_back})
        for feed_id, (lease, new_lease) in {**renewing, **giving_back}.items():
            current = self._held.get(feed_id)
            if current is None or current[1] != lease:
                continue  # claimed again meanwhile: that newer claim stands
            if feed_id in renewing and feed_id in moved:
                self._held[feed_id] = (current[0], new_lease)
            else:
                # Given back, or its check recorded the next time (or its lease lapsed
                # and another process has it): nothing of ours is left in the row.
                del self._held[feed_id]

    async def release_all(self) -> None:
        """Write the kept records, then give every other claim back with the time it was due
        (on stop, after the poller stopped)."""
        await self.flush()
        held, self._held = self._held, {}
        await self._leases.move_feed_leases(
            {fid: (lease, due) for fid, (due, lease) in held.items()}
        )
