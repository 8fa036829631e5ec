"""Which writes wait for PostgreSQL's WAL flush: the routine record of a check does not; the
writes that carry messages, and the records that decide what later checks do, do.

Triggers note the ``synchronous_commit`` in force in each transaction that changes a feed
row or queues a message; the database's default is set to ``on`` first (the test server runs
with it off, see ``tests/postgres.py``), so a write that does not turn it off shows ``on``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.config import FetchSettings
from bot.feeds.fetch import Fetcher
from bot.models import FetchSuccess, Rhythm
from bot.pipeline import RefreshStatus
from bot.store import Store
from bot.store.leases import LeaseStore
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import rss
from tests.postgres import DatabaseFactory, _asyncpg_dsn
from tests.test_refresh import Rig
from tests.test_refresh import _item as _story
from tests.test_store import T0, _followed_feed, _item

_WATCH = (
    "CREATE TABLE commit_modes (mode TEXT NOT NULL)",
    """CREATE FUNCTION note_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO commit_modes VALUES (current_setting('synchronous_commit'));
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER note_commit_mode AFTER UPDATE ON feeds
       FOR EACH ROW EXECUTE FUNCTION note_commit_mode()""",
    """CREATE TRIGGER note_commit_mode AFTER INSERT ON outbox
       FOR EACH ROW EXECUTE FUNCTION note_commit_mode()""",
)
_UNWATCH = (
    # The database is emptied and handed to a later test (tests/postgres.py): leave
    # nothing of this test behind but rows.
    "DROP TRIGGER IF EXISTS note_commit_mode ON feeds",
    "DROP TRIGGER IF EXISTS note_commit_mode ON outbox",
    "DROP FUNCTION IF EXISTS note_commit_mode()",
    "DROP TABLE IF EXISTS commit_modes",
)


@pytest.fixture
async def watched(postgres_database: DatabaseFactory) -> AsyncIterator[tuple[Store, str]]:
    """A store whose connections default to synchronous commits, and its database's URL."""
    url = await postgres_database()
    store = await Store.open_url(url)  # creates the schema before the trigger is added
    await store.close()
    admin = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        name = await admin.fetchval("SELECT current_database()")
        await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
        for statement in _WATCH:
            await admin.execute(statement)
        store = await Store.open_url(url)  # new connections: they take the new default
        try:
            yield store, url
        finally:
            await store.close()
    finally:
        for statement in _UNWATCH:
            await admin.execute(statement)
        await admin.execute(f'ALTER DATABASE "{name}" RESET synchronous_commit')
        await admin.close()


async def _modes(url: str) -> list[str]:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        rows = await connection.fetch("DELETE FROM commit_modes RETURNING mode")
    finally:
        await connection.close()
    return [row["mode"] for row in rows]


async def test_only_a_record_said_to_be_routine_skips_the_flush(
    watched: tuple[Store, str],
) -> None:
    """``durable=False`` (both forms of the record) commits asynchronously; the default and
    queueing entries (which the sender then delivers) wait for the flush."""
    store, url = watched
    feed_id, sub_id = await _followed_feed(store)
    await _modes(url)  # the setup's own feed writes are not what this test is about

    await store.record_fetch_success(
        feed_id, next_fetch_at=T0 + 300, etag='"a"', last_modified=None, body_hash="h1",
        now=T0, durable=False,
    )  # fmt: skip
    rhythm = Rhythm(last_new_at=T0, new_gap_seconds=300.0, new_samples=1)
    await store.record_fetch_success(
        feed_id, next_fetch_at=T0 + 600, etag='"b"', last_modified=None, body_hash="h2",
        now=T0 + 300, rhythm=rhythm, durable=False,
    )  # fmt: skip
    assert await _modes(url) == ["off", "off"]
    feed = await store.get_feed(feed_id)
    assert feed is not None
    assert (feed.etag, feed.next_fetch_at) == ('"b"', T0 + 600)

    await store.record_fetch_success(
        feed_id, next_fetch_at=T0 + 900, etag='"c"', last_modified=None, body_hash="h3",
        now=T0 + 600,
    )  # fmt: skip
    await store.commit_entries(
        feed_id, seen=["k1"], outbox=[_item(1, sub_id, feed_id, "k1")], now=T0 + 600
    )
    assert await _modes(url) == ["on", "on"]


async def test_records_kept_on_the_claims_skip_the_flush_too(watched: tuple[Store, str]) -> None:
    """The statement that writes the records kept on the feed claims (routine checks of
    several processes, ``LeaseStore.record_leased``) commits asynchronously as well."""
    store, url = watched
    feed_id, _ = await _followed_feed(store)
    leases = LeaseStore.connect(url)
    try:
        (claim,) = await leases.claim_due_feeds(T0 + 300, 1, until=T0 + 315)
        await _modes(url)  # the claim's statement is not what this test is about
        record = FetchSuccess(
            feed_id, next_fetch_at=T0 + 600, etag='"k"', last_modified=None, body_hash="h",
            now=T0 + 300, rhythm=Rhythm(last_new_at=T0 + 300, new_samples=1),
        )  # fmt: skip
        assert await leases.record_leased([(record, claim.lease)]) == {feed_id}
    finally:
        await leases.close()
    assert await _modes(url) == ["off"]


async def test_a_check_waits_for_the_flush_when_its_record_decides_later_checks(
    watched: tuple[Store, str], feed_server: FeedServer
) -> None:
    """Through real refreshes: the first read's record waits (lost, the next check would be
    a first read again and mark new entries seen unsent); so does the success that ends a
    failure run (lost, a later failure would join the old run: a second stray 410 would
    end the feed). A routine check of a healthy feed does not wait."""
    store, url = watched
    fetcher = Fetcher(FetchSettings(allow_private_networks=True))
    try:
        rig = Rig(store, fetcher, feed_server)
        await rig.follow([_story(1)])
        await _modes(url)
        assert (await rig.refresh()).status is RefreshStatus.FIRST_READ
        assert await _modes(url) == ["on"]
        assert (await rig.refresh(300)).status is RefreshStatus.NOT_MODIFIED
        assert await _modes(url) == ["off"]
        feed_server.status("/f.xml", 410)
        assert (await rig.refresh(300)).status is RefreshStatus.FAILED
        assert await _modes(url) == ["on"]  # the failure record is always synchronous
        feed_server.put("/f.xml", rss("Wire", [_story(1)]))
        assert (await rig.refresh(3600)).status is not RefreshStatus.FAILED
        assert await _modes(url) == ["on"]
        feed_server.put("/f.xml", rss("Wire", [_story(2), _story(1)]))
        updated = await rig.refresh(3600)
        assert (updated.status, updated.queued) == (RefreshStatus.UPDATED, 1)
        assert await _modes(url) == ["on", "off"]  # the entries wait; the record need not
    finally:
        await fetcher.aclose()
