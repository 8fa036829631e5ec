"""Runs the real bot in-process against the fake Bot API and the loopback feed server.

Bot and fake share one virtual clock (``tests.virtual_time``): feeds fall due when
``poll`` moves it an interval on, and every wait for an outcome (``settle``,
``until``, the fake's ``wait_for_sent``) moves it from one sleeping send slot to
the next while the bot is quiet, so send budgets and flood limits cost no real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.config import Settings
from bot.updates import COMMAND_INTERVAL
from tests.engines import NewDatabase
from tests.fakes.bot_api import FakeBotAPI, SentMessage
from tests.virtual_time import REAL_SECONDS, Check, VirtualClock, eventually

if TYPE_CHECKING:
    from bot.app import Relay

USER_PAUSE_SECONDS = COMMAND_INTERVAL
"""Virtual seconds between two commands of a test's user."""
HANDLER_HORIZON = 0.1
"""How far virtual time may jump at once while a command handler is still working: enough
for a free send slot (1/29 s away at most), not for other chats' booked replies."""


def make_settings(api: FakeBotAPI, db: Path | str, **sections: dict[str, Any]) -> Settings:
    """A test bot's settings: the fake's token and URL, the database (a SQLite file's path,
    or a ``database.url``), loopback feeds."""
    data: dict[str, Any] = {
        "telegram": {"token": api.token, "api_base_url": api.base_url},
        "database": {"url": db if isinstance(db, str) else f"sqlite:///{db}"},
        "polling": {"interval_seconds": 60, "min_interval_seconds": 60},
        "fetch": {"allow_private_networks": True, "timeout_seconds": 5},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Settings.model_validate(data)


class BotHarness:
    """One bot process-equivalent; ``restart`` simulates stopping and starting it again."""

    def __init__(
        self,
        api: FakeBotAPI,
        clock: VirtualClock,
        db: Path | str,
        sections: dict[str, dict[str, Any]],
    ) -> None:
        self.api = api
        self.settings = make_settings(api, db, **sections)
        self.clock = clock
        self.relay: Relay | None = None
        self.roles: frozenset[str] | None = None
        """The ``--role`` values of this bot (None: all of them)."""

    async def start(self) -> Relay:
        # Imported here so that the suite's fixtures load even while a module is broken.
        from bot.app import Relay  # noqa: PLC0415
        from bot.coordination import ALL_ROLES, Role  # noqa: PLC0415

        roles = ALL_ROLES if self.roles is None else frozenset(Role(r) for r in self.roles)
        self.relay = Relay(self.settings, clock=self.clock, roles=roles)
        await self.relay.start(poll_feeds=False)
        self.api.may_advance = self.may_advance
        return self.relay

    async def stop(self) -> None:
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None

    async def restart(self) -> Relay:
        await self.stop()
        return await self.start()

    async def poll(self) -> None:
        """Let one polling interval pass and refresh every due feed."""
        assert self.relay is not None
        await self.pass_time(self.settings.polling.interval_seconds + 1)
        await self.relay.poller.poll_once()

    async def pass_time(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass as they would: every sleeper wakes at its own
        moment and its send is answered before time moves on to the next one.

        One jump instead would wake sends booked for different slots together, and the
        fake would see them arrive at the same instant.
        """
        target = self.clock.monotonic() + seconds
        while (wake := self.clock.next_wake()) is not None:
            if self.clock.monotonic() + wake > target:
                break
            await self.until(lambda: self.may_advance(wake), "nothing in flight")
            self.clock.advance_to_next()
            await asyncio.sleep(0)  # the woken tasks start: a send counts as in flight
        # Not in the middle of a lease round either (PostgreSQL): a round's lease is dated
        # when it starts, and a jump over its statements would let the lease lapse.
        await self.until(lambda: not self._coordinating(), "the lease round to end")
        self.clock.advance(max(0.0, target - self.clock.monotonic()))
        # ... nor one this last move woke: it would run beside whatever the test does next
        # (a poll whose kept records the round then writes half of).
        await asyncio.sleep(0)
        await self.until(lambda: not self._coordinating(), "the lease round to end")

    def _coordinating(self) -> bool:
        return self.relay is not None and self.relay.coordination.busy

    def may_advance(self, seconds: float) -> bool:
        """Whether virtual time may jump ``seconds`` on now.

        Never while a send is between its slot and Telegram's answer, an update is on
        its way to a handler, or an outbox pass is under way; while a handler works
        (in real time: a fetch), only by up to ``HANDLER_HORIZON`` seconds at once, to a
        free send slot, so that timers and other chats' booked replies do not race ahead
        of the handler and inflate the time its answer seems to take.
        """
        relay = self.relay
        if relay is None:
            return True
        if (
            relay.slots.in_flight
            or self.api.pending_updates
            or not relay.application.update_queue.empty()
            or (relay.deliverer.busy and relay.coordination.sending)
            or relay.coordination.busy
        ):
            return False
        return relay.gate.handling == 0 or seconds <= HANDLER_HORIZON

    async def until(self, check: Check, what: str, *, real_seconds: float = REAL_SECONDS) -> None:
        """Wait (on virtual time) until ``check()`` holds, or fail naming ``what``."""
        await eventually(
            check,
            clock=self.clock,
            may_advance=self.may_advance,
            what=what,
            real_seconds=real_seconds,
        )

    async def settle(self, *, real_seconds: float = REAL_SECONDS) -> None:
        """Let the bot finish everything it can: updates handled, replies and queued
        messages sent or recorded as failed. Negative assertions come after this."""
        assert self.relay is not None
        relay = self.relay

        async def done() -> bool:
            return (
                self.may_advance(float("inf"))
                and relay.replier.pending == 0
                and (await relay.store.stats()).pending == 0
            )

        what = "the bot to settle (outbox empty, nothing in flight)"
        await self.until(done, what, real_seconds=real_seconds)

    async def command(self, chat_id: int, text: str, **kwargs: Any) -> SentMessage:
        """A user sends ``text`` a few seconds after the last; returns the bot's next message.

        The pause is a person's (reading the last answer, typing the next command), and
        keeps a test's commands within the chat's command budget (``bot.updates``).
        """
        await self.pass_time(USER_PAUSE_SECONDS)
        before = len(self.api.sent_to(chat_id))
        self.api.user_sends(chat_id, text, **kwargs)
        sent = await self.api.wait_for_sent(chat_id, before + 1)
        return sent[before]

    async def press(self, chat_id: int, message_id: int, data: str, *, user_id: int) -> str:
        """A user presses a button carrying ``data`` a few seconds after the last command;
        returns the text of the bot's answer to the press ("" for none), once all settled."""
        await self.pass_time(USER_PAUSE_SECONDS)
        before = len(self.api.callback_answers)
        self.api.user_presses(chat_id, message_id, data, user_id=user_id)
        await self.api.wait_for_calls("answerCallbackQuery", before + 1)
        await self.settle()
        assert len(self.api.callback_answers) == before + 1, "a press answered more than once"
        return str(self.api.callback_answers[before]["text"] or "")


HarnessFactory = Callable[..., Awaitable[BotHarness]]


@pytest.fixture
def virtual_clock() -> VirtualClock:
    """The one clock of a test: the bot's send slots and the fake's flood limits run on it."""
    return VirtualClock()


@pytest.fixture
async def bot_factory(
    bot_api: FakeBotAPI, virtual_clock: VirtualClock, new_database: NewDatabase
) -> AsyncIterator[HarnessFactory]:
    """Start bots against the fake API, each on a fresh database of the test's engine
    (``tests.engines``); every bot is stopped at the end of the test."""
    harnesses: list[BotHarness] = []

    async def make(**sections: dict[str, Any]) -> BotHarness:
        harness = BotHarness(bot_api, virtual_clock, await new_database(), sections)
        harnesses.append(harness)
        await harness.start()
        return harness

    yield make
    for harness in harnesses:
        await harness.stop()
