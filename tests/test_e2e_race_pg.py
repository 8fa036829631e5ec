"""End to end on PostgreSQL: a chat that subscribes while the feed's check is under way
gets the entry that check found once, whichever of the two holds the feed's row first.

The interleavings are made, not hoped for: the fetches are held at the feed server and
a second connection holds the feed's row (FOR NO KEY UPDATE: it keeps the commits of
the feed and the adding of a subscription, which lock the row FOR UPDATE, waiting).
Who waits for the row first gets it first once it is let go:

- the check first: it commits the entry for the first chat only (the newcomer does not
  follow yet) and marks it seen; the /sub then adds the subscription, finds the entry
  seen as it does so, and its backlog brings it;
- the /sub first: it adds the subscription with the entry still unseen, so its backlog
  leaves it out; the check's commit then finds a follower it did not plan for, plans
  again and brings it, whether the backlog's commit comes before it or after.

What no connection can hold apart is the add and the read of the seen keys the backlog
offers: they are one transaction (``Store.add_subscription_seeing``), and the store's
tests (tests/test_store_backlog_seen.py) show a refresh committing right after it.

SQLite has no such handle: the store runs every operation in its one thread, so a
connection holding SQLite's write lock would stop the /sub behind the check's commit;
there the store's own tests (tests/test_store_audience.py) stand for these.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.engines import NewDatabase
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory
from tests.postgres import DatabaseFactory, _asyncpg_dsn

FIRST = 5151
NEWCOMER = 5252
PATH = "/race/news.xml"
START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
OLD = [
    Item(guid=f"old-{n}", title=f"Old story {n}", link=f"https://news.example/o{n}",
         pub_date=START + timedelta(minutes=n))
    for n in range(3)
]  # fmt: skip
NEW = Item(guid="new-1", title="Breaking story", link="https://news.example/new",
           pub_date=START + timedelta(hours=1))  # fmt: skip

_WAITING_COMMITS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
      AND query LIKE '%SELECT id FROM feeds WHERE id = ANY%FOR UPDATE%'
"""
"""Sessions waiting to lock a feed's row (``Db.lock``, alone or with chats' rows) at the
start of ``commit_entries`` or of ``add_subscription_seeing``; not the lease round's UPDATE
of the row (moving the check's lease on), which waits too."""


Waiting = Callable[[int], Awaitable[bool]]
"""Whether that many sessions wait to lock the feed's row."""


@pytest.fixture
def new_database(postgres_database: DatabaseFactory) -> NewDatabase:
    """The bots of this module run on PostgreSQL only (see the module's docstring)."""
    return postgres_database


def _texts(bot_api: FakeBotAPI, chat_id: int) -> list[str]:
    return [message.text or message.caption or "" for message in bot_api.sent_to(chat_id)]


async def _due_with_a_new_entry(harness: BotHarness, feed_server: FeedServer) -> tuple[str, int]:
    """The first chat follows the feed; it now carries ``NEW``, is due, and its fetches are
    held at the feed server. Returns the feed's URL and id."""
    feed_server.put(PATH, rss("News", OLD[::-1]))
    url = feed_server.url(PATH)
    await harness.command(FIRST, f"/sub {url}")
    await harness.settle()
    assert harness.relay is not None
    feed = await harness.relay.store.feed_by_url(url)
    assert feed is not None
    feed_server.put(PATH, rss("News", [NEW, *OLD[::-1]]))
    feed_server.hold(PATH)
    await harness.pass_time(harness.settings.polling.interval_seconds + 1)
    return url, feed.id


@contextlib.asynccontextmanager
async def _holding_the_feed(harness: BotHarness, feed_id: int) -> AsyncIterator[Waiting]:
    """Hold the feed's row FOR NO KEY UPDATE until the block ends; yields a check of how many
    sessions wait to lock it (``_WAITING_COMMITS``), read on another connection: a
    transaction sees pg_stat_activity as it first read it."""
    dsn = _asyncpg_dsn(harness.settings.database.url)
    holder, watcher = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        async with holder.transaction():
            await holder.execute("SELECT id FROM feeds WHERE id = $1 FOR NO KEY UPDATE", feed_id)

            async def waiting(count: int) -> bool:
                return int(await watcher.fetchval(_WAITING_COMMITS)) == count

            yield waiting
    finally:
        await holder.close()
        await watcher.close()


async def _each_got_the_new_entry_once(harness: BotHarness, bot_api: FakeBotAPI) -> None:
    await bot_api.wait_for_sent(NEWCOMER, 1)
    await harness.settle()
    for chat in (FIRST, NEWCOMER):
        texts = _texts(bot_api, chat)
        assert sum(NEW.title in text for text in texts) == 1, (chat, texts)
        assert len(set(texts)) == len(texts), (chat, texts)
    assert bot_api.rejected == []


async def test_a_chat_subscribing_during_a_check_gets_its_new_entry_once(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """The check waits for the feed's row first, then the /sub: the check commits for the
    first chat alone, and the /sub's backlog brings the entry it found seen as it added."""
    harness = await bot_factory(delivery={"backlog_on_subscribe": 2})
    url, feed_id = await _due_with_a_new_entry(harness, feed_server)
    assert harness.relay is not None
    check = asyncio.create_task(harness.relay.poller.poll_once())
    await harness.until(lambda: feed_server.waiting(PATH) == 1, "the check's fetch")

    async with _holding_the_feed(harness, feed_id) as waiting:
        feed_server.let_through(PATH)  # the check's fetch, and the /sub's, for good
        await harness.until(lambda: waiting(1), "the check to wait at its commit")
        bot_api.user_sends(NEWCOMER, f"/sub {url}")
        await harness.until(lambda: waiting(2), "the /sub to wait to add its subscription")
        assert not check.done()
        assert bot_api.sent_to(NEWCOMER) == []

    await check
    await _each_got_the_new_entry_once(harness, bot_api)


async def test_a_chat_subscribing_before_a_check_commits_gets_its_new_entry_once(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """The /sub waits for the feed's row first, then the check, which read the followers
    without the newcomer: the /sub adds it with the entry unseen (its backlog leaves the
    entry out), and the check's commit, finding a follower it did not plan for, plans
    again and brings the entry to both chats."""
    harness = await bot_factory(delivery={"backlog_on_subscribe": 2})
    url, feed_id = await _due_with_a_new_entry(harness, feed_server)
    assert harness.relay is not None
    bot_api.user_sends(NEWCOMER, f"/sub {url}")
    await harness.until(lambda: feed_server.waiting(PATH) == 1, "the /sub's fetch")
    check = asyncio.create_task(harness.relay.poller.poll_once())
    await harness.until(lambda: feed_server.waiting(PATH) == 2, "the check's fetch")

    async with _holding_the_feed(harness, feed_id) as waiting:
        feed_server.let_through(PATH, 1)  # the first waiting: the /sub's
        await harness.until(lambda: waiting(1), "the /sub to wait to add its subscription")
        assert feed_server.waiting(PATH) == 1  # the check's fetch: still held
        feed_server.let_through(PATH)
        await harness.until(lambda: waiting(2), "the check to wait at its commit")
        assert not check.done()
        assert bot_api.sent_to(NEWCOMER) == []

    await check
    await _each_got_the_new_entry_once(harness, bot_api)
