"""Due feeds claimed with a lease, so that each due feed is checked by one process.

The poller asks :meth:`FeedClaims.due_feeds` instead of the store: the feeds come back
claimed (``bot.store.leases``: their row's ``next_fetch_at`` holds the lease's end, so
other processes see them as not due). The coordinator's round calls :meth:`renew`:
claims the poller still holds (queued or being checked) get a fresh lease, the others
are given back with the time they were due, unless their check recorded its own next
time meanwhile (compare-and-set: a record is never undone). A process that dies stops
renewing, and its feeds fall due again ``lease_seconds`` after the last renewal.

Correctness never rests on the lease: a check whose lease ran out (a stall longer than
the lease) may be repeated by another process, and its entries are still queued once,
because new entries are queued in the same transaction that marks them seen.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from bot.models import Feed
from bot.store.leases import LeaseStore


class FeedClaims:
    """The feeds this process claimed: id → (time it was due, lease value in the row)."""

    def __init__(self, leases: LeaseStore, *, lease_seconds: float) -> None:
        self._leases = leases
        self._lease_seconds = lease_seconds
        self._held: dict[int, tuple[float, float]] = {}
        self.holding: Callable[[], Collection[int]] = frozenset
        """The feed ids the poller still holds (queued or being checked); the owner sets it."""

    @property
    def held(self) -> int:
        """How many claims this process holds."""
        return len(self._held)

    async def due_feeds(self, now: float, limit: int, skip: Collection[int] = ()) -> list[Feed]:
        """Claim up to ``limit`` due feeds not in ``skip``, soonest first (see the store)."""
        claimed = await self._leases.claim_due_feeds(
            now, limit, until=now + self._lease_seconds, skip=skip
        )
        for claim in claimed:
            self._held[claim.feed.id] = (claim.feed.next_fetch_at, claim.lease)
        return [claim.feed for claim in claimed]

    async def renew(self, now: float) -> None:
        """Extend the claims still held to ``now + lease_seconds``; give back the others.

        Raises the database's error; the claims then stand as they were.
        """
        holding = set(self.holding())
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
        """Give every claim back with the time it was due (on stop, after the poller stopped)."""
        held, self._held = self._held, {}
        await self._leases.move_feed_leases(
            {fid: (lease, due) for fid, (due, lease) in held.items()}
        )
