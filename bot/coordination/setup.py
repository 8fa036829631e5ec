"""Putting coordination together for one running bot (``bot.app.Relay`` calls ``coordinate``).

SQLite: a coordinator that holds every duty, the plain ``Replier``, the store's due feeds,
and wake-ups that stay in the process: the bot runs exactly as it did alone.

PostgreSQL: a lease store on its own small pool, feed claims (with the ``fetch`` role),
the ``RoutedReplier`` and its pump, LISTEN/NOTIFY wake-ups, and the duties' leases.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import Bot

from bot.clock import Clock
from bot.config import Settings
from bot.coordination.coordinator import LEASE_SECONDS, RENEW_SECONDS, Coordinator, OutboxSignal
from bot.coordination.feeds import FeedClaims
from bot.coordination.notify import Listener
from bot.coordination.replies import ReplyPump, RoutedReplier
from bot.coordination.roles import Duty, Role
from bot.delivery import Deliverer
from bot.models import FetchSuccess
from bot.ratelimit import SendSlots
from bot.replies import Replier
from bot.scheduler import DueFeeds, Poller
from bot.store.leases import OUTBOX_CHANNEL, REPLIES_CHANNEL, LeaseStore


@dataclass(slots=True)
class SenderWork:
    """The sender's duty: the outbox worker and, on PostgreSQL, the reply pump."""

    deliverer: Deliverer
    pump: ReplyPump | None
    grace_seconds: float
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        """The reply pump is at work (a wake-up heard while not sending does not count)."""
        return bool(self._tasks) and self.pump is not None and self.pump.busy

    async def __call__(self, on: bool) -> None:
        if on:
            self._tasks = [asyncio.create_task(self.deliverer.run())]
            if self.pump is not None:
                self._tasks.append(asyncio.create_task(self.pump.run()))
            return
        await self.stop()

    async def stop(self) -> None:
        """Stop looking at the outbox; sends under way get ``grace_seconds`` to finish."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.deliverer.drain(self.grace_seconds)


@dataclass(slots=True)
class Coordination:
    """What the Relay wires in: the coordinator, the replier, the outbox signal, feeds."""

    coordinator: Coordinator
    replier: Replier
    signal: OutboxSignal
    sender: SenderWork
    claims: FeedClaims | None

    @property
    def due_feeds(self) -> DueFeeds | None:
        """Where the poller gets due feeds (None: from the store, unclaimed)."""
        return self.claims.due_feeds if self.claims is not None else None

    @property
    def when_idle(self) -> Callable[[], Awaitable[None]] | None:
        """What the poller awaits when its last refresh ends: write the kept records."""
        return self.claims.flush if self.claims is not None else None

    @property
    def keep_record(self) -> Callable[[FetchSuccess], bool] | None:
        """Where the poller's refreshes keep routine records (None: written at once)."""
        return self.claims.keep if self.claims is not None else None

    @property
    def fetches(self) -> bool:
        return Role.FETCH in self.coordinator.roles

    @property
    def busy(self) -> bool:
        """A round, a duty change or a pass of the reply pump is under way."""
        return self.coordinator.busy or self.sender.busy

    @property
    def sending(self) -> bool:
        """Whether this process runs the outbox now (holds the sender's duty)."""
        return self.coordinator.holds(Duty.SEND)

    def watch(self, poller: Poller) -> None:
        """Claims are renewed for the feeds ``poller`` still holds."""
        if self.claims is not None:
            self.claims.holding = poller.held_feeds

    async def start(self) -> None:
        await self.coordinator.start()

    def halt(self) -> None:
        self.coordinator.halt()

    async def close(self) -> None:
        """After the poller and the sender stopped: give leases and claims back."""
        await self.signal.close()
        await self.coordinator.close()


def refusal(settings: Settings) -> str | None:
    """Why these settings cannot run beside other processes on one database, or None.

    A webhook needs a configured secret on PostgreSQL: each process tells Telegram the
    secret when it starts, and a random one per process (what an empty
    ``telegram.webhook.secret_token`` means) would lock every other process out.
    """
    webhook = settings.telegram.webhook
    if (
        settings.database.engine == "postgresql"
        and webhook.url
        and not webhook.secret_token.get_secret_value()
    ):
        return (
            "telegram.webhook.secret_token must be set with a PostgreSQL database.url:"
            " every process sets the webhook with it, and a random secret per process"
            " would lock the others out"
        )
    return None


def coordinate(
    settings: Settings,
    *,
    clock: Clock,
    roles: frozenset[Role],
    bot: Bot,
    slots: SendSlots,
    deliverer: Deliverer,
    receive: Callable[[bool], Awaitable[None]],
    secrets: tuple[str, ...],
    grace_seconds: float,
) -> Coordination:
    """The coordination of one bot: ``receive(True/False)`` starts and stops receiving
    updates; the sender's duty runs ``deliverer``."""
    duties_leased = frozenset({Duty.SEND})
    if not settings.telegram.webhook.url:
        duties_leased |= {Duty.UPDATES}  # two long pollers on one token get 409 Conflict
    if settings.database.engine != "postgresql":
        sender = SenderWork(deliverer, None, grace_seconds)
        solo = Coordinator(
            clock=clock, roles=roles, duties={Duty.SEND: sender, Duty.UPDATES: receive}
        )
        replier = Replier(bot, slots, clock, secrets=secrets)
        return Coordination(solo, replier, OutboxSignal(solo, None, deliverer.wake), sender, None)

    leases = LeaseStore.connect(settings.database.url)
    coordinator: Coordinator | None = None  # built below: the replier asks it at send time

    def sending() -> bool:
        return coordinator is not None and coordinator.holds(Duty.SEND)

    routed = RoutedReplier(
        bot, slots, clock, secrets=secrets, sending=sending, queue=leases.queue_reply
    )
    pump = ReplyPump(leases.take_replies, routed, clock, idle_seconds=RENEW_SECONDS)
    sender = SenderWork(deliverer, pump, grace_seconds)
    listener = Listener(
        settings.database.url, {OUTBOX_CHANNEL: deliverer.wake, REPLIES_CHANNEL: pump.wake}
    )
    claims = FeedClaims(leases, lease_seconds=LEASE_SECONDS) if Role.FETCH in roles else None
    coordinator = Coordinator(
        clock=clock,
        roles=roles,
        duties={Duty.SEND: sender, Duty.UPDATES: receive},
        leased=duties_leased,
        leases=leases,
        bot_id=settings.telegram.token.get_secret_value().partition(":")[0],
        listener=listener,
        claims=claims,
        wake_sender=deliverer.wake,
    )
    signal = OutboxSignal(coordinator, leases, deliverer.wake)
    return Coordination(coordinator, routed, signal, sender, claims)
