"""Two real ``newsrelay run`` processes on one PostgreSQL database, the fake Telegram and the
loopback feed server: every new entry reaches every subscribed chat once, and after a
SIGKILL of either process the survivor takes over fetching, sending and polling within
30 s, losing and repeating nothing.

Real processes run on the system clock, so these tests take real seconds (the leases'
own: 15 s, renewed every 5 s); they wait on outcomes, each wait bounded.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.store import NewFeed, Store
from bot.store.leases import LeaseStore
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.postgres import DatabaseFactory
from tests.processes import BotProcess, write_config
from tests.virtual_time import eventually

# About 40 s of real time (two bot processes, a SIGKILL each, waiting out lease expiry):
# too long for the README's quick `pytest`, which deselects it; `.ci/run` runs it.
pytestmark = pytest.mark.full_run

FEEDS = 20
CHATS = 10
TAKEOVER_SECONDS = 30.0
"""The promise: a survivor takes over within this long after the other process died."""


def followers(feed: int) -> tuple[int, int]:
    """The two chats that follow feed ``feed`` (each chat follows four feeds)."""
    return 1001 + feed % CHATS, 1001 + (feed + 1) % CHATS


@dataclass
class Instance:
    """The world the processes run in."""

    api: FakeBotAPI
    feeds: FeedServer
    url: str
    config: Path
    folder: Path
    stories: dict[int, list[Item]]

    def publish(self, story: int) -> None:
        """Every feed gains story number ``story``."""
        for feed in range(FEEDS):
            item = Item(
                guid=f"f{feed}-s{story}",
                title=f"feed {feed} story {story}",
                link=f"https://news.example/{feed}/{story}",
            )
            self.stories[feed].insert(0, item)
            self.feeds.put(f"/f/{feed}", rss(f"Feed {feed}", self.stories[feed]))

    def delivered(self) -> Counter[tuple[int, str]]:
        """(chat, story title) → how many times Telegram accepted it."""
        counts: Counter[tuple[int, str]] = Counter()
        for message in self.api.sent:
            text = message.text or message.caption or ""
            for line in text.splitlines():
                if line.startswith("feed ") and " story " in line:
                    counts[(message.chat_id, line.strip())] += 1
                    break
        return counts

    def expected(self, story: int) -> set[tuple[int, str]]:
        return {
            (chat, f"feed {feed} story {story}")
            for feed in range(FEEDS)
            for chat in followers(feed)
        }

    async def spawn(self) -> BotProcess:
        return await BotProcess.spawn(self.folder, "run", "-c", str(self.config))


@pytest.fixture
async def instance(postgres_database: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Instance]:
    """Feeds served, chats known to Telegram, the database seeded with every subscription
    (feeds never read yet: their first read marks what they hold as seen)."""
    url = await postgres_database()
    api = FakeBotAPI()
    await api.start()
    feeds = FeedServer()
    await feeds.start()
    stories: dict[int, list[Item]] = {feed: [] for feed in range(FEEDS)}
    world = Instance(api, feeds, url, tmp_path / "newsrelay.yaml", tmp_path, stories)
    world.publish(0)
    for chat in range(1001, 1001 + CHATS):
        api.add_chat(chat)
    store = await Store.open_url(url)
    now = time.time()
    try:
        for chat in range(1001, 1001 + CHATS):
            await store.ensure_chat(chat, kind="private", now=now)
            mine = [feed for feed in range(FEEDS) if chat in followers(feed)]
            await store.subscribe_many(
                chat,
                [NewFeed(feeds.url(f"/f/{feed}"), f"Feed {feed}", now) for feed in mine],
                interval_seconds=2,
                limit=100,
                now=now,
            )
    finally:
        await store.close()
    world.config = write_config(
        tmp_path,
        "newsrelay.yaml",
        {
            "telegram": {"token": api.token, "api_base_url": api.base_url},
            "database": {"url": url},
            "polling": {"interval_seconds": 2, "min_interval_seconds": 1},
            "fetch": {"allow_private_networks": True, "timeout_seconds": 5},
            "delivery": {"backlog_on_subscribe": 0},
            "logging": {"level": "INFO"},
        },
    )
    try:
        yield world
    finally:
        await feeds.stop()
        await api.stop()


async def _holder(url: str, duty: str) -> int | None:
    """The pid of the process holding ``duty``'s lease, if any holds it now."""
    leases = LeaseStore.connect(url)
    try:
        holders = await leases.holders()
    finally:
        await leases.close()
    return next((row.pid for name, row in holders.items() if name.startswith(f"{duty}:")), None)


@pytest.mark.parametrize("victim", ["sender", "the other"])
async def test_two_processes_deliver_once_and_survive_a_sigkill(
    instance: Instance, victim: str
) -> None:
    """Two processes share the work; every story reaches each follower once. One is killed
    (SIGKILL): the survivor holds the sender's and the poller's leases within 30 s, the
    stories published after the kill all arrive, none twice, and a command is answered."""
    first, second = await instance.spawn(), await instance.spawn()
    survivor: BotProcess | None = None
    try:

        async def has_sender() -> bool:
            return await _holder(instance.url, "send") is not None

        await eventually(has_sender, what="a sender", real_seconds=30)
        # Every feed read once (its current story seen, nothing sent) before news comes.
        await eventually(
            lambda: _feeds_read(instance), what="every feed read once", real_seconds=30
        )
        instance.publish(1)
        await eventually(
            lambda: instance.expected(1) <= set(instance.delivered()),
            what="story 1 delivered",
            real_seconds=30,
        )
        sender = await _holder(instance.url, "send")
        assert sender in {first.pid, second.pid}
        assert await _holder(instance.url, "updates") == sender, "the poller is the sender"
        conflicts = [r for r in instance.api.rejected if r.code == 409]
        assert conflicts == [], "two pollers at once"

        killed = first if (first.pid == sender) == (victim == "sender") else second
        survivor = second if killed is first else first
        await killed.stop(signal.SIGKILL)
        died = time.monotonic()
        instance.publish(2)
        await eventually(
            lambda: _holds_both(instance.url, survivor.pid),
            what="the survivor to hold the sender's and the poller's leases",
            real_seconds=TAKEOVER_SECONDS + 5,
        )
        assert time.monotonic() - died <= TAKEOVER_SECONDS
        await eventually(
            lambda: instance.expected(2) <= set(instance.delivered()),
            what="story 2 delivered by the survivor",
            real_seconds=TAKEOVER_SECONDS + 15,
        )
        before = len(instance.api.sent_to(1001))
        instance.api.user_sends(1001, "/help")
        await instance.api.wait_for_sent(1001, before + 1, timeout=30)

        repeated = {key: n for key, n in instance.delivered().items() if n > 1}
        assert repeated == {}
        assert await survivor.stop() == 0
    finally:
        for process in (first, second):
            await process.stop(signal.SIGKILL)


async def _feeds_read(instance: Instance) -> bool:
    """Every feed was fetched at least once (its first read marks story 0 seen)."""
    return all(instance.feeds.count(f"/f/{feed}", 200) for feed in range(FEEDS))


async def _holds_both(url: str, pid: int) -> bool:
    return await _holder(url, "send") == pid and await _holder(url, "updates") == pid
