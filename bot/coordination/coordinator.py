"""Which process does what: heartbeats, the sender's and the poller's leases, feed claims.

One ``Coordinator`` per running bot. Its owner (``bot.app.Relay``) hands it a callback per
duty (``Duty.SEND``: run the outbox and the reply pump; ``Duty.UPDATES``: long-poll) and
the coordinator calls it with True when the process takes the duty on and False when it
must stop.

- SQLite (no ``LeaseStore``): one process by design (``bot.runlock``). The coordinator
  holds every duty from the start and never lets go; no round, no SQL, nothing else.
- PostgreSQL: a round every ``RENEW_SECONDS`` on the bot's clock. It renews or takes the
  named leases (``LEASE_SECONDS`` long), renews the feed claims (``bot.coordination.feeds``),
  writes the heartbeat, and wakes the sender (a safety net under LISTEN/NOTIFY). A holder
  whose renewals fail stops the duty ``SAFETY_SECONDS`` before its lease ends, so that
  with clocks in step it has stopped before another process may take over; a dead
  holder's lease is taken within ``LEASE_SECONDS + RENEW_SECONDS`` (20 s) of its last
  renewal.

Why lease rows rather than advisory locks: an advisory lock belongs to a connection, and a
holder cut off from the server learns that it lost the lock only when it next asks, while
the server frees the lock only when it notices the connection is gone (TCP keep-alive:
minutes or hours). A lease row has a time limit both sides know in advance, and its
expiry is tested on the virtual clock like every other wait.

The poller's lease prefers the sender: a process takes it at once only while it holds the
sender's lease (or does not send at all); others wait until it has been free for another
``LEASE_SECONDS``. The poller and the sender are then usually one process, whose replies
need no hand-over (``bot.coordination.replies``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping

from bot.clock import Clock
from bot.coordination.feeds import FeedClaims
from bot.coordination.notify import Listener
from bot.coordination.roles import Duty, Role
from bot.logs import event
from bot.store.engine import database_errors
from bot.store.leases import OUTBOX_CHANNEL, LeaseStore, ProcessRow

log = logging.getLogger(__name__)

LEASE_SECONDS = 15.0
"""How long a named lease or a feed claim lasts without renewal."""
RENEW_SECONDS = 5.0
"""Time between two rounds (renewals, heartbeat)."""
SAFETY_SECONDS = 2.0
"""A holder stops this long before its lease ends (allowance for clocks out of step)."""
ALIVE_SECONDS = 3 * RENEW_SECONDS
"""A process whose last heartbeat is older than this is shown as not responding."""
PRUNE_SECONDS = 86_400.0
"""A process row without a heartbeat for this long is deleted."""

OnDuty = Callable[[bool], Awaitable[None]]


class Coordinator:
    """The duties of this process and, on PostgreSQL, the leases behind them."""

    def __init__(
        self,
        *,
        clock: Clock,
        roles: frozenset[Role],
        duties: Mapping[Duty, OnDuty],
        leased: frozenset[Duty] = frozenset(),
        leases: LeaseStore | None = None,
        bot_id: str = "",
        listener: Listener | None = None,
        claims: FeedClaims | None = None,
        wake_sender: Callable[[], None] = lambda: None,
    ) -> None:
        """``duties``: what to call when a duty starts (True) or stops (False); ``leased``:
        the duties that need a lease (the others are held from the start when their role
        is given); ``leases`` None means SQLite: every duty held, nothing shared."""
        self._clock = clock
        self.roles = roles
        self._duties = dict(duties)
        self._leased = leased if leases is not None else frozenset()
        self._leases = leases
        self._bot_id = bot_id
        self._listener = listener
        self.claims = claims
        self._wake_sender = wake_sender
        self.process_id = uuid.uuid4().hex[:12]
        self._held: set[Duty] = set()
        self._valid_until: dict[Duty, float] = {}
        self._loop: asyncio.Task[None] | None = None
        self._rounds = 0
        self._failing = False
        self._started_at = 0.0
        self._working = 0

    @property
    def shared(self) -> bool:
        """Whether other processes may share the database (PostgreSQL)."""
        return self._leases is not None

    @property
    def busy(self) -> bool:
        """A round or a duty change is under way (tests hold virtual time still meanwhile)."""
        return self._working > 0

    def holds(self, duty: Duty) -> bool:
        """Whether this process carries out ``duty`` now."""
        return duty in self._held

    def _wants(self, duty: Duty) -> bool:
        return Role(duty.value) in self.roles and duty in self._duties

    def lease_name(self, duty: Duty) -> str:
        return f"{duty.value}:{self._bot_id}"

    async def start(self) -> None:
        """Take on the duties this process may have now; on PostgreSQL, register and start
        the rounds. Raises the database's error when the first round cannot reach it."""
        self._working += 1
        try:
            for duty in (Duty.UPDATES, Duty.SEND):
                if self._wants(duty) and duty not in self._leased:
                    await self._take_on(duty)
            if self._leases is None:
                return
            now = self._clock.time()
            self._started_at = now
            await self._leases.register(self._row(now))
            await self._leases.prune_processes(now - PRUNE_SECONDS)
            await self._round()
        finally:
            self._working -= 1
        self._loop = asyncio.create_task(self._rounds_forever())

    def _row(self, now: float) -> ProcessRow:
        return ProcessRow(
            id=self.process_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            roles=tuple(role.value for role in Role if role in self.roles),
            holds=tuple(sorted(duty.value for duty in self._held)),
            started_at=self._started_at,
            heartbeat_at=now,
        )

    async def _rounds_forever(self) -> None:
        while True:
            await self._clock.sleep(RENEW_SECONDS)
            self._working += 1
            try:
                await self._round()
            finally:
                self._working -= 1

    async def _round(self) -> None:
        """Renew or take the leases, renew the feed claims, beat; drop what lapsed."""
        leases = self._leases
        assert leases is not None  # noqa: S101 - rounds run on PostgreSQL only
        self._rounds += 1
        try:
            await self._claim_duties(leases)
            if self.claims is not None:
                await self.claims.renew(self._clock.time())
            alive = await leases.heartbeat(
                self.process_id, [duty.value for duty in self._held], self._clock.time()
            )
            if not alive:
                await leases.register(self._row(self._clock.time()))
            if self._listener is not None:
                await self._listener.ensure()
        except database_errors() as exc:
            if not self._failing:
                event(log, logging.ERROR, "coordination_failed", error=type(exc).__name__)
            self._failing = True
        else:
            if self._failing:
                event(log, logging.INFO, "coordination_recovered")
            self._failing = False
        await self._drop_lapsed()
        if self.holds(Duty.SEND):
            self._wake_sender()

    async def _claim_duties(self, leases: LeaseStore) -> None:
        for duty in (Duty.SEND, Duty.UPDATES):
            if duty not in self._leased or not self._wants(duty):
                continue
            preferred = duty is Duty.SEND or self.holds(Duty.SEND) or Role.SEND not in self.roles
            now = self._clock.time()
            taken = await leases.take_lease(
                self.lease_name(duty),
                self.process_id,
                now=now,
                seconds=LEASE_SECONDS,
                grace=0.0 if preferred else LEASE_SECONDS,
            )
            if taken:
                self._valid_until[duty] = now + LEASE_SECONDS - SAFETY_SECONDS
                if duty not in self._held:
                    await self._take_on(duty)
            elif duty in self._held:
                event(log, logging.WARNING, "lease_lost", duty=duty.value)
                await self._give_up(duty)

    async def _drop_lapsed(self) -> None:
        """Stop every leased duty whose lease this process could not renew in time."""
        now = self._clock.time()
        for duty in list(self._held):
            if duty in self._leased and self._valid_until.get(duty, 0.0) <= now:
                event(log, logging.WARNING, "lease_lapsed", duty=duty.value)
                await self._give_up(duty)

    async def _take_on(self, duty: Duty) -> None:
        self._held.add(duty)
        if duty in self._leased:
            event(log, logging.INFO, "lease_taken", duty=duty.value, process=self.process_id)
        await self._duties[duty](True)

    async def _give_up(self, duty: Duty) -> None:
        self._held.discard(duty)
        self._valid_until.pop(duty, None)
        await self._duties[duty](False)

    def halt(self) -> None:
        """Stop the rounds (first thing on shutdown): no duty changes from here on."""
        if self._loop is not None:
            self._loop.cancel()

    async def close(self) -> None:
        """Last thing on shutdown, once the duties' work has stopped: give the leases and the
        feed claims back, so that another process takes over at once, and deregister."""
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        if self._listener is not None:
            await self._listener.close()
        leases = self._leases
        if leases is None:
            return
        try:
            if self.claims is not None:
                await self.claims.release_all()
            for duty in self._leased:
                if duty in self._held:
                    await leases.release_lease(self.lease_name(duty), self.process_id)
            await leases.deregister(self.process_id)
        except database_errors() as exc:
            # The leases then end by themselves within LEASE_SECONDS.
            event(log, logging.WARNING, "release_failed", error=type(exc).__name__)
        finally:
            self._held.clear()
            await leases.close()


class OutboxSignal:
    """What a refresh or a /sub calls after queuing outbox rows: wake the local sender, or
    tell the sending process (NOTIFY) when this one does not send."""

    def __init__(
        self, coordinator: Coordinator, leases: LeaseStore | None, wake: Callable[[], None]
    ) -> None:
        self._coordinator = coordinator
        self._leases = leases
        self._wake = wake
        self._notifying: asyncio.Task[None] | None = None
        self._again = False

    def __call__(self) -> None:
        if self._leases is None or self._coordinator.holds(Duty.SEND):
            self._wake()
            return
        if self._notifying is not None and not self._notifying.done():
            self._again = True  # one more after the one under way: rows came in meanwhile
            return
        self._notifying = asyncio.create_task(self._notify(self._leases))

    async def _notify(self, leases: LeaseStore) -> None:
        while True:
            self._again = False
            try:
                await leases.notify(OUTBOX_CHANNEL)
            except database_errors():
                return  # the sender's next round looks anyway
            if not self._again:
                return

    async def close(self) -> None:
        """Let a notification under way finish (before the lease store closes)."""
        if self._notifying is not None:
            await asyncio.gather(self._notifying, return_exceptions=True)
