"""End to end on PostgreSQL: a chat that subscribes while the feed's check is between its
read of the followers and its commit still gets the entry that check found, once.

The interleaving is made, not hoped for: the check's fetch is held at the feed server
until a second connection holds the feed's row (FOR NO KEY UPDATE: it keeps the commits
of the feed, which lock the row FOR UPDATE, waiting, and lets a new subscription's
foreign-key check, FOR KEY SHARE, through). The check then reads its followers and waits
at its commit; the second chat's /sub adds its subscription, plans its backlog without
the entry (still unseen) and waits at its commit too. Only then is the row let go.

SQLite has no such handle: the store runs every operation in its one thread, so a
connection holding SQLite's write lock would stop the /sub behind the check's commit;
there the store's own tests (tests/test_store_audience.py) stand for this one.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.engines import NewDatabase
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import HarnessFactory
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
      AND query LIKE 'SELECT id FROM feeds WHERE id = ANY%FOR UPDATE'
"""
"""Sessions waiting to lock a feed's row at the start of ``commit_entries`` (``Db.lock``);
not the lease round's UPDATE of the row (moving the check's lease on), which waits too."""


@pytest.fixture
def new_database(postgres_database: DatabaseFactory) -> NewDatabase:
    """The bots of this module run on PostgreSQL only (see the module's docstring)."""
    return postgres_database


def _texts(bot_api: FakeBotAPI, chat_id: int) -> list[str]:
    return [message.text or message.caption or "" for message in bot_api.sent_to(chat_id)]


async def test_a_chat_subscribing_during_a_check_gets_its_new_entry_once(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    feed_server.put(PATH, rss("News", OLD[::-1]))
    harness = await bot_factory(delivery={"backlog_on_subscribe": 2})
    url = feed_server.url(PATH)
    await harness.command(FIRST, f"/sub {url}")
    await harness.settle()
    assert harness.relay is not None
    feed = await harness.relay.store.feed_by_url(url)
    assert feed is not None

    feed_server.put(PATH, rss("News", [NEW, *OLD[::-1]]))
    feed_server.hold(PATH)
    await harness.pass_time(harness.settings.polling.interval_seconds + 1)
    check = asyncio.create_task(harness.relay.poller.poll_once())
    await harness.until(lambda: feed_server.waiting(PATH) == 1, "the check's fetch")

    dsn = _asyncpg_dsn(harness.settings.database.url)
    holder, watcher = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        async with holder.transaction():
            await holder.execute("SELECT id FROM feeds WHERE id = $1 FOR NO KEY UPDATE", feed.id)
            feed_server.let_through(PATH)  # the check's fetch, and the /sub's, for good

            async def waiting(count: int) -> bool:
                # Another connection: a transaction sees pg_stat_activity as it first read it.
                return int(await watcher.fetchval(_WAITING_COMMITS)) == count

            await harness.until(lambda: waiting(1), "the check to wait at its commit")
            bot_api.user_sends(NEWCOMER, f"/sub {url}")
            await harness.until(lambda: waiting(2), "the /sub to wait at its backlog's commit")
            assert not check.done()
            assert bot_api.sent_to(NEWCOMER) == []
    finally:
        await holder.close()
        await watcher.close()

    await check
    await bot_api.wait_for_sent(NEWCOMER, 1)
    await harness.settle()
    for chat in (FIRST, NEWCOMER):
        texts = _texts(bot_api, chat)
        assert sum(NEW.title in text for text in texts) == 1, (chat, texts)
        assert len(set(texts)) == len(texts), (chat, texts)
    assert bot_api.rejected == []
