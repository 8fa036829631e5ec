"""``newsrelay migrate --to postgresql://…``: a SQLite instance moved to PostgreSQL keeps
everything (nothing is sent again, pending messages still arrive), also when it is moved
while it runs (``--stop``); an occupied target, a running bot, a file already moved and a
wrong URL are refused in one line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.migrate import migrate_instance
from bot.models import DisplayOptions, OutgoingMessage, PlannedDelivery, SummaryMode
from bot.runlock import RunLock
from bot.store import NewFeed, Store
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss, stories
from tests.harness import HarnessFactory
from tests.postgres import DatabaseFactory
from tests.processes import BotProcess, run_cli, write_config
from tests.virtual_time import eventually

CHAT = 6161


def _items(count: int) -> list[Item]:
    """``count`` entries a minute apart, oldest first, titled "Headline number n"."""
    return stories("/item", count, "Headline number {}".format)[::-1]


def _titles(api: FakeBotAPI, chat: int = CHAT) -> list[str]:
    return [
        line
        for message in api.sent_to(chat)
        for line in (message.text or message.caption or "").splitlines()[:1]
        if line.startswith("Headline")
    ]


async def test_pending_messages_arrive_after_the_move_and_nothing_is_sent_again(
    bot_factory: HarnessFactory,
    feed_server: FeedServer,
    bot_api: FakeBotAPI,
    postgres_database: DatabaseFactory,
    tmp_path: Path,
) -> None:
    """A SQLite bot with three messages pending (Telegram said 429) is stopped and moved:
    the bot on PostgreSQL sends those three, and reading the same feed again sends nothing."""
    items = _items(4)
    feed_server.put("/f.xml", rss("Wire", items[:1]))
    old = await bot_factory(database={"url": f"sqlite:///{tmp_path / 'old.db'}"})
    await old.command(CHAT, f"/sub {feed_server.url('/f.xml')}")
    await old.settle()
    assert _titles(bot_api) == ["Headline number 0"]  # the backlog of one
    bot_api.flood_next("sendMessage", chat_id=CHAT, retry_after=30)
    feed_server.put("/f.xml", rss("Wire", items[::-1]))
    await old.poll()
    await old.until(lambda: bot_api.rejected != [], "the 429")
    assert (await old.relay.store.stats()).pending == 3  # type: ignore[union-attr]
    await old.stop()

    url = await postgres_database()
    counts = await migrate_instance(old.settings, url, on_table=lambda _table, _rows: None)
    assert counts["outbox"] == 3

    new = await bot_factory(database={"url": url})
    await new.settle()
    # The same entries in a changed document (no 304, no unchanged body): all were seen
    # before the move, so nothing is queued.
    feed_server.put("/f.xml", rss("Wire, updated", items[::-1]))
    await new.poll()
    await new.settle()
    assert _titles(bot_api) == [f"Headline number {n}" for n in range(4)]


CHATS = (CHAT, CHAT + 1)


@pytest.fixture
async def real_time_world() -> AsyncIterator[tuple[FakeBotAPI, FeedServer]]:
    """The fake Telegram (on the system clock, as the bot processes are) knowing ``CHATS``,
    and a feed server."""
    api = FakeBotAPI()
    await api.start()
    for chat in CHATS:
        api.add_chat(chat)
    feeds = FeedServer()
    await feeds.start()
    try:
        yield api, feeds
    finally:
        await feeds.stop()
        await api.stop()


async def _subscribed(path: Path, feed_url: str) -> None:
    """A SQLite instance whose chats follow a feed not read yet: the first read marks what
    it holds as seen and sends nothing."""
    store = await Store.open(path)
    now = time.time()
    try:
        for chat in CHATS:
            await store.ensure_chat(chat, kind="private", now=now)
            await store.subscribe_many(
                chat, [NewFeed(feed_url, "Wire", now)], interval_seconds=1, limit=10, now=now
            )
    finally:
        await store.close()


async def test_a_running_bot_is_stopped_and_moved_and_its_pending_messages_arrive(
    real_time_world: tuple[FakeBotAPI, FeedServer],
    postgres_database: DatabaseFactory,
    tmp_path: Path,
) -> None:
    """A running SQLite bot (a real ``newsrelay run`` process) holds two messages for each
    of two chats that Telegram keeps refusing with 429. ``migrate --stop`` stops it
    (SIGTERM) and copies them as pending; a bot on PostgreSQL sends exactly those, and its
    read of the feed sends only what is new."""
    api, feeds = real_time_world
    items = _items(4)
    feeds.put("/f.xml", rss("Wire", items[:1]))
    path = tmp_path / "data" / "newsrelay.db"
    await _subscribed(path, feeds.url("/f.xml"))
    common = {
        "telegram": {"token": api.token, "api_base_url": api.base_url},
        "polling": {"interval_seconds": 1, "min_interval_seconds": 1},
        "fetch": {"allow_private_networks": True, "timeout_seconds": 5},
        "delivery": {"backlog_on_subscribe": 0},
        "logging": {"level": "INFO"},
    }
    sqlite = {"database": {"url": f"sqlite:///{path}"}}
    old_config = write_config(tmp_path, "old.yaml", {**common, **sqlite})
    old = await BotProcess.spawn(tmp_path, "run", "-c", str(old_config))
    try:
        await eventually(
            lambda: feeds.count("/f.xml", 200) > 0, what="the first read", real_seconds=30
        )
        api.flood_next("sendMessage", retry_after=1, times=1_000_000)
        feeds.put("/f.xml", rss("Wire", items[2::-1]))
        # The read queues all four messages in one commit, before the first send.
        await eventually(lambda: api.rejected != [], what="a 429", real_seconds=30)

        url = await postgres_database()
        code, out, err = await run_cli(
            tmp_path, "migrate", "-c", str(old_config), "--stop", "--to", url
        )
        assert code == 0, err
        assert f"stopping the bot (newsrelay pid {old.pid}, SIGTERM)" in out
        assert "outbox: 4 rows" in out
        assert await asyncio.wait_for(old.process.wait(), timeout=10) == 0
    finally:
        await old.stop()
    assert old.count("stopped") == 1, old.lines
    assert api.sent == []

    api.stop_failing("sendMessage")
    # The same entries once more, in a changed document, and one new one: the bot on
    # PostgreSQL reads it as it starts; only the new one is queued, after the pending ones.
    feeds.put("/f.xml", rss("Wire, updated", items[::-1]))
    new_config = write_config(tmp_path, "new.yaml", {**common, "database": {"url": url}})
    new = await BotProcess.spawn(tmp_path, "run", "-c", str(new_config))
    try:
        for chat in CHATS:
            await api.wait_for_sent(chat, 3, timeout=30)
        assert await new.stop() == 0
    finally:
        await new.stop()
    for chat in CHATS:
        assert _titles(api, chat) == [f"Headline number {n}" for n in (1, 2, 3)]
    after = await Store.open_url(url)
    try:
        assert (await after.stats()).pending == 0
    finally:
        await after.close()


async def _seed(path: Path) -> None:
    """A small instance: a chat with a language and a filter, a feed with validators and a
    schedule, a paused subscription with options, seen keys and one pending message."""
    store = await Store.open(path)
    try:
        await store.ensure_chat(CHAT, kind="group", title="Newsroom", now=1000.0)
        await store.set_chat_language(CHAT, "zh")
        await store.set_chat_filter(CHAT, "+ukraine")
        feed, _ = await store.get_or_create_feed(
            "https://news.example/feed", title="Wire", interval_seconds=600, now=1000.0
        )
        await store.record_fetch_success(
            feed.id,
            next_fetch_at=5000.5,
            etag='"abc"',
            last_modified="Mon, 02 Nov 2026 08:00:00 GMT",
            body_hash="hash",
            now=1200.0,
        )
        sub = await store.add_subscription(CHAT, feed.id, now=1000.0)
        await store.set_subscription_filter(sub.id, "-sport")
        await store.set_subscription_options(sub.id, DisplayOptions(summary=SummaryMode.NONE))
        await store.set_subscription_paused(sub.id, True, now=1300.0)
        message = OutgoingMessage(text="Headline\nbody", plain_text="Headline")
        pending = PlannedDelivery(CHAT, None, sub.id, feed.id, "k-new", message)
        await store.commit_entries(feed.id, seen=["k-old", "k-new"], outbox=[pending], now=1400.0)
    finally:
        await store.close()


async def _migrate(folder: Path, config: Path, url: str) -> tuple[int, str, str]:
    return await run_cli(folder, "migrate", "-c", str(config), "--to", url)


async def test_migrate_command_copies_everything_once(
    tmp_path: Path, postgres_database: DatabaseFactory
) -> None:
    """The command copies chats, feeds, subscriptions, seen keys and the outbox as they are;
    a second run finds the target occupied, and a running bot blocks the move."""
    path = tmp_path / "data" / "newsrelay.db"
    await _seed(path)
    config = write_config(tmp_path, "c.yaml", {"database": {"url": f"sqlite:///{path}"}})
    url = await postgres_database()
    before = await Store.open(path)
    code, out, err = await _migrate(tmp_path, config, url)
    assert code == 0, err
    assert "outbox: 1 rows" in out
    assert "seen: 2 rows" in out
    after = await Store.open_url(url)
    try:
        assert await after.get_chat(CHAT) == await before.get_chat(CHAT)
        assert await after.list_subscriptions(CHAT) == await before.list_subscriptions(CHAT)
        [sub] = await after.list_subscriptions(CHAT)
        assert await after.get_feed(sub.feed_id) == await before.get_feed(sub.feed_id)
        assert await after.paused_since(sub.id) == 1300.0
        assert await after.unseen_keys(sub.feed_id, ["k-old", "k-new", "k-3"]) == ["k-3"]
        assert (await after.stats()).pending == 1
        # New rows get ids after the copied ones.
        feed, created = await after.get_or_create_feed(
            "https://news.example/other", title="", interval_seconds=600, now=2000.0
        )
        assert created
        assert feed.id > sub.feed_id
    finally:
        await after.close()
        await before.close()

    code, _, err = await _migrate(tmp_path, config, url)
    assert code == 1
    assert f"the database {path} was moved to postgresql://" in err
    path.with_name("newsrelay.db.moved").unlink()  # as an operator would, to go again
    code, _, err = await _migrate(tmp_path, config, url)
    assert code == 1
    assert "already holds data" in err
    assert "Traceback" not in err

    lock = RunLock(path)
    lock.acquire()
    try:
        code, _, err = await _migrate(tmp_path, config, await postgres_database())
    finally:
        lock.release()
    assert code == 1
    assert "stop the bot first" in err


async def test_migrate_refuses_a_target_that_is_not_postgresql(tmp_path: Path) -> None:
    """``--to`` must name a PostgreSQL database; the line says so and nothing is touched."""
    path = tmp_path / "newsrelay.db"
    await _seed(path)
    config = write_config(tmp_path, "c.yaml", {"database": {"url": f"sqlite:///{path}"}})
    code, _, err = await _migrate(tmp_path, config, f"sqlite:///{tmp_path / 'other.db'}")
    assert code == 1
    assert "--to must be a postgresql:// URL" in err
    assert not (tmp_path / "other.db").exists()
