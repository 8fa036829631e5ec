"""Runs the real bot in-process against the fake Bot API and the loopback feed server.

Feeds fall due by moving a shifted wall clock forward, and a test drives the poller
with ``poll_once``; deliveries run on the real worker under real-time send budgets,
because the strict fake enforces Telegram's limits in real time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.config import Settings
from tests.fakes.bot_api import FakeBotAPI, SentMessage

if TYPE_CHECKING:
    from bot.app import Relay


class ShiftedClock:
    """Wall-clock time plus an offset that tests move forward to make feeds due."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def make_settings(api: FakeBotAPI, db: Path, **sections: dict[str, Any]) -> Settings:
    """A test bot's settings: the fake's token and URL, a file database, loopback feeds."""
    data: dict[str, Any] = {
        "telegram": {"token": api.token, "api_base_url": api.base_url},
        "database": {"url": f"sqlite:///{db}"},
        "polling": {"interval_seconds": 60, "min_interval_seconds": 60},
        "fetch": {"allow_private_networks": True, "timeout_seconds": 5},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Settings.model_validate(data)


class BotHarness:
    """One bot process-equivalent; ``restart`` simulates stopping and starting it again."""

    def __init__(self, api: FakeBotAPI, db: Path, sections: dict[str, dict[str, Any]]) -> None:
        self.api = api
        self.settings = make_settings(api, db, **sections)
        self.clock = ShiftedClock()
        self.relay: Relay | None = None

    async def start(self) -> Relay:
        # Imported here so that the suite's fixtures load even while a module is broken.
        from bot.app import Relay  # noqa: PLC0415

        self.relay = Relay(self.settings, clock=self.clock)
        await self.relay.start(poll_feeds=False)
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
        self.clock.advance(self.settings.polling.interval_seconds + 1)
        await self.relay.poller.poll_once()

    async def settle(self, deadline_seconds: float = 20.0) -> None:
        """Wait until every queued message was sent (or recorded as failed), with a deadline."""
        assert self.relay is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadline_seconds
        while (await self.relay.store.stats()).pending or self.relay.deliverer.busy:
            if loop.time() > deadline:
                raise AssertionError(f"outbox not empty after {deadline_seconds}s")
            await asyncio.sleep(0.02)

    async def command(self, chat_id: int, text: str, **kwargs: Any) -> SentMessage:
        """A user sends ``text``; returns the bot's next message in that chat."""
        before = len(self.api.sent_to(chat_id))
        self.api.user_sends(chat_id, text, **kwargs)
        sent = await self.api.wait_for_sent(chat_id, before + 1)
        return sent[before]


HarnessFactory = Callable[..., Awaitable[BotHarness]]


@pytest.fixture
async def bot_factory(bot_api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[HarnessFactory]:
    """Start bots against the fake API; every bot is stopped at the end of the test."""
    harnesses: list[BotHarness] = []

    async def make(**sections: dict[str, Any]) -> BotHarness:
        harness = BotHarness(bot_api, tmp_path / f"bot{len(harnesses)}.db", sections)
        harnesses.append(harness)
        await harness.start()
        return harness

    yield make
    for harness in harnesses:
        await harness.stop()
