"""End to end on PostgreSQL: the routine checks of one poll write their records in one
statement, and the records are in the database when the poll ends.

Four in five checks end in their record and nothing else (a 304, or the same bytes
again); several processes keep those records on their feed claims and write them
together (``bot.coordination.feeds``). A statement-level trigger counts the statements
that record a check (the claims' own statements move ``next_fetch_at`` only).
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.engines import NewDatabase
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import HarnessFactory
from tests.postgres import DatabaseFactory, _asyncpg_dsn

CHAT = 6161
FEEDS = 4

_COUNT_RECORDS = (
    "CREATE TABLE record_statements (at TIMESTAMPTZ NOT NULL DEFAULT now())",
    """CREATE FUNCTION note_record_statement() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO record_statements DEFAULT VALUES;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER note_record_statement AFTER UPDATE OF last_checked_at ON feeds
       FOR EACH STATEMENT EXECUTE FUNCTION note_record_statement()""",
)
_TAKE_COUNT = "WITH taken AS (DELETE FROM record_statements RETURNING 1) SELECT count(*) FROM taken"
_UNCOUNT = (
    # The database is emptied and handed to a later test (tests/postgres.py).
    "DROP TRIGGER IF EXISTS note_record_statement ON feeds",
    "DROP FUNCTION IF EXISTS note_record_statement()",
    "DROP TABLE IF EXISTS record_statements",
)


@pytest.fixture
def new_database(postgres_database: DatabaseFactory) -> NewDatabase:
    """The bots of this module run on PostgreSQL only: SQLite has one process and no claims."""
    return postgres_database


async def test_routine_checks_of_one_poll_are_recorded_in_one_statement(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """Four feeds read once, then checked twice more unchanged: each poll records its four
    checks in one statement, in the database by the time the poll ends."""
    harness = await bot_factory()
    assert harness.relay is not None
    store = harness.relay.store
    urls = [feed_server.url(f"/kept/{n}.xml") for n in range(FEEDS)]
    for n, url in enumerate(urls):
        feed_server.put(f"/kept/{n}.xml", rss(f"Wire {n}", [Item(guid=f"g{n}", title="Story")]))
        await harness.command(CHAT, f"/sub {url}")  # the first read: recorded at once
    await harness.settle()
    admin = await asyncpg.connect(_asyncpg_dsn(harness.settings.database.url))
    try:
        for statement in _COUNT_RECORDS:
            await admin.execute(statement)
        for checks in (2, 3):
            await harness.poll()  # every feed answers as before: routine checks
            await harness.settle()
            assert [feed_server.count(f"/kept/{n}.xml") for n in range(FEEDS)] == [checks] * FEEDS
            assert await admin.fetchval(_TAKE_COUNT) == 1, "one statement for the four records"
            now = harness.clock.time()
            for url in urls:
                feed = await store.feed_by_url(url)
                assert feed is not None
                assert feed.last_success_at == pytest.approx(now, abs=2), "recorded by now"
    finally:
        for statement in _UNCOUNT:
            await admin.execute(statement)
        await admin.close()
