"""The backlog of /sub and /resume is what the feed had seen at the change, read in the
change's own transaction under the feed's row (``add_subscription_seeing``,
``resume_subscription``): a refresh committing right after the change brings the newer
entries to the newcomer, and the backlog does not offer them a second time."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncpg
import pytest

from bot.models import Entry, ParsedFeed
from bot.pipeline import (
    EverySubscriber,
    NewSubscriber,
    Queued,
    ResumedSubscriber,
    backlog_keys,
    queue_entries,
)
from bot.store import Store
from tests.engines import NewDatabase
from tests.postgres import _asyncpg_dsn
from tests.test_store import T0, _followed_feed, _two_chats
from tests.virtual_time import eventually

pytestmark = pytest.mark.both_engines

T = TypeVar("T")
NEWCOMER = 2
_WAITING = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


@pytest.fixture
def store(engine_store: Store) -> Store:
    return engine_store


def _doc(*numbers: int) -> ParsedFeed:
    """A document listing entries ``numbers`` (keys ``id:N``), newest first as feeds do."""
    entries = [
        Entry(key=f"id:{n}", title=f"Entry {n}", link=f"https://n.example/{n}") for n in numbers
    ]
    return ParsedFeed(title="News", link="https://n.example/", entries=tuple(entries[::-1]))


async def _keys(store: Store, chat_id: int) -> list[str]:
    """The entry keys queued for the chat, one per row: a key twice is a duplicate."""
    rows = await store.pending_outbox(T0 + 10**6, limit=100)
    return sorted(row.entry_key for row in rows if row.chat_id == chat_id)


async def test_a_refresh_right_after_a_sub_brings_its_new_entry_once(store: Store) -> None:
    """Entries 1 and 2 were seen when the newcomer subscribed, 3 was not. A refresh commits
    before the backlog is planned: it brings 3 to the newcomer (a follower by now) and
    marks it seen; the backlog offers what was seen at the change, 1 and 2, not 3 again."""
    feed_id, _ = await _followed_feed(store)
    await queue_entries(store, feed_id, _doc(1, 2), EverySubscriber(), now=T0)
    doc = _doc(1, 2, 3)
    await store.ensure_chat(NEWCOMER)
    added = await store.add_subscription_seeing(NEWCOMER, feed_id, backlog_keys(doc, 3))
    assert added.seen == {"id:1", "id:2"}

    refresh = await queue_entries(store, feed_id, doc, EverySubscriber(), now=T0 + 1)
    assert refresh == Queued(new=1, queued=2)
    backlog = NewSubscriber(
        added.subscription, newest=3, first_fetch=False, seen_when_added=added.seen
    )
    assert await queue_entries(store, feed_id, doc, backlog, now=T0 + 2) == Queued(2, 2)
    assert await _keys(store, NEWCOMER) == ["id:1", "id:2", "id:3"]
    assert await _keys(store, 1) == ["id:1", "id:2", "id:3"]


async def test_a_refresh_right_after_a_resume_brings_its_new_entry_once(store: Store) -> None:
    """Entry 2 came during the pause, 3 after it ended. A refresh commits before the resume's
    backlog is planned: it brings 3 to the resumed subscription; the backlog offers what
    was first seen during the pause, read as it ended: 2, not 3 again."""
    feed_id, _, resuming = await _two_chats(store)
    await queue_entries(store, feed_id, _doc(1), EverySubscriber(), now=T0)
    await store.set_subscription_paused(resuming, True, now=T0 + 10)
    await queue_entries(store, feed_id, _doc(1, 2), EverySubscriber(), now=T0 + 20)
    doc = _doc(1, 2, 3)
    missed = await store.resume_subscription(resuming, [entry.key for entry in doc.entries])
    assert missed == {"id:2"}

    refresh = await queue_entries(store, feed_id, doc, EverySubscriber(), now=T0 + 30)
    assert refresh == Queued(new=1, queued=2)
    subscription = await store.get_subscription_by_id(resuming)
    assert subscription is not None
    audience = ResumedSubscriber(subscription, missed=missed, at_most=50)
    assert await queue_entries(store, feed_id, doc, audience, now=T0 + 31) == Queued(1, 1)
    assert await _keys(store, NEWCOMER) == ["id:1", "id:2", "id:3"]


async def _behind_a_commit(url: str, feed_id: int, key: str, change: Coroutine[Any, Any, T]) -> T:
    """Hold the feed's row and mark ``key`` seen as a refresh's commit does; start ``change``,
    see it wait for the row, then commit: what ``change`` returns. Another connection
    watches: a transaction sees pg_stat_activity as it first read it."""
    holder = await asyncpg.connect(_asyncpg_dsn(url))
    watcher = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        async with holder.transaction():
            await holder.execute("SELECT id FROM feeds WHERE id = $1 FOR UPDATE", feed_id)
            await holder.execute(
                "INSERT INTO seen (feed_id, entry_key, first_seen) VALUES ($1, $2, $3)",
                feed_id,
                key,
                T0 + 30,
            )
            task = asyncio.create_task(change)

            async def waiting_or_done() -> bool:
                return int(await watcher.fetchval(_WAITING)) == 1 or task.done()

            await eventually(waiting_or_done, what="the change to wait for the feed's row")
            assert not task.done(), "the change did not wait for the feed's row"
        return await task
    finally:
        await holder.close()
        await watcher.close()


async def test_the_change_reads_the_marks_of_the_commit_it_waited_for(
    db_engine: str, new_database: NewDatabase
) -> None:
    """PostgreSQL: adding or resuming a subscription waits while a refresh's commit holds the
    feed's row, and then sees the keys that commit marked seen. That commit could not bring
    them to the newcomer (it was not a follower yet): the backlog must offer them. A read
    from a snapshot taken before the wait (SERIALIZABLE) would leave them out for good."""
    if db_engine != "postgresql":
        pytest.skip("SQLite runs every write transaction alone: there is no row lock to see")
    url = await new_database()
    store = await Store.open_url(url)
    try:
        feed_id, _, resuming = await _two_chats(store)
        await store.set_subscription_paused(resuming, True, now=T0 + 10)
        await store.ensure_chat(3)
        added = await _behind_a_commit(
            url, feed_id, "id:new", store.add_subscription_seeing(3, feed_id, ["id:new", "x"])
        )
        assert added.seen == {"id:new"}
        missed = await _behind_a_commit(
            url, feed_id, "id:late", store.resume_subscription(resuming, ["id:late", "x"])
        )
        assert missed == {"id:late"}
    finally:
        await store.close()
