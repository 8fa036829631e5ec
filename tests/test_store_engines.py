"""What differs between SQLite and PostgreSQL and must not show: concurrent writers, text
PostgreSQL cannot hold, Telegram's 64-bit ids, exact times, SQL written once for both."""

from __future__ import annotations

import asyncio

import pytest

from bot.models import OutgoingMessage, PlannedDelivery
from bot.store import Store
from bot.store.engine import for_postgres, for_sqlite
from tests.test_store import T0, _followed_feed

pytestmark = pytest.mark.both_engines

SUPERGROUP = -1009876543210
"""A supergroup's id: beyond 32 bits, as Telegram's are."""


async def test_concurrent_subscriptions_get_distinct_numbers(engine_store: Store) -> None:
    """Twenty subscriptions of one chat at once: each gets its own smallest free number.

    On PostgreSQL they run side by side on several connections, READ COMMITTED: each holds
    the chat's row while it picks its number, so none is failed or numbered twice.
    """
    store = engine_store
    await store.ensure_chat(1)
    feeds = [
        (await store.get_or_create_feed(f"https://s{n}.example/f", title="", interval_seconds=60,
                                        now=T0))[0].id
        for n in range(20)
    ]  # fmt: skip
    subs = await asyncio.gather(*(store.add_subscription(1, feed) for feed in feeds))
    assert sorted(s.number for s in subs) == list(range(1, 21))


async def test_concurrent_commits_of_one_feed_queue_each_entry_once(engine_store: Store) -> None:
    """Ten commits of the same new entries at once (a poll and /sub doors racing, on
    PostgreSQL on several connections at READ COMMITTED): the entries are queued once,
    because each commit holds the feed's row while it reads and writes the seen keys."""
    store = engine_store
    feed_id, sub_id = await _followed_feed(store)
    items = [
        PlannedDelivery(1, None, sub_id, feed_id, f"key-{n}", OutgoingMessage(text=f"e{n}"),
                        backlog=False)
        for n in range(3)
    ]  # fmt: skip
    keys = [item.entry_key for item in items]
    queued = await asyncio.gather(
        *(store.commit_entries(feed_id, seen=keys, outbox=items, now=T0) for _ in range(10))
    )
    assert sum(queued) == 3
    assert sorted(row.entry_key for row in await store.pending_outbox(T0, 100)) == keys


async def test_one_article_through_two_feeds_at_once_reaches_a_chat_once(
    engine_store: Store,
) -> None:
    """Ten feeds of one chat commit the same article at once: one of them queues it, the
    others find it in the chat's recent articles (the chat's row orders the look-ups)."""
    store = engine_store
    subs = [await _followed_feed(store, url=f"https://f{n}.example/feed") for n in range(10)]

    async def commit(feed_id: int, sub_id: int) -> int:
        item = PlannedDelivery(1, None, sub_id, feed_id, f"own-{feed_id}",
                               OutgoingMessage(text="story"), backlog=False,
                               article_keys=("https://story.example/1",))  # fmt: skip
        return await store.commit_entries(
            feed_id, seen=[item.entry_key], outbox=[item], now=T0, article_window=3600
        )

    queued = await asyncio.gather(*(commit(feed, sub) for feed, sub in subs))
    assert sorted(queued) == [0] * 9 + [1]
    assert len(await store.pending_outbox(T0, 100)) == 1


async def test_two_entries_of_one_feed_with_one_article_both_go(engine_store: Store) -> None:
    """Two entries of one feed naming the same article (a repeated link) are both queued
    in one commit: the look-up skips only other feeds' articles, and the article noted
    twice is one row (PostgreSQL's single upsert may not touch a row twice)."""
    store = engine_store
    feed_id, sub_id = await _followed_feed(store)
    items = [
        PlannedDelivery(1, None, sub_id, feed_id, key, OutgoingMessage(text=key),
                        article_keys=("https://story.example/1",))
        for key in ("first", "second")
    ]  # fmt: skip
    assert (
        await store.commit_entries(
            feed_id, seen=["first", "second"], outbox=items, now=T0, article_window=3600
        )
        == 2
    )
    assert [row.entry_key for row in await store.pending_outbox(T0, 10)] == ["first", "second"]


async def test_nul_characters_are_dropped_alike(engine_store: Store) -> None:
    """A NUL in hostile text (PostgreSQL's text cannot hold one) is dropped on both engines."""
    store = engine_store
    chat = await store.ensure_chat(1, kind="group", title="Evil\x00Title")
    assert chat.title == "EvilTitle"
    feed_id, _ = await _followed_feed(store)
    await store.commit_entries(feed_id, seen=["k\x00ey"], outbox=(), now=T0)
    assert await store.unseen_keys(feed_id, ["k\x00ey", "key", "other"]) == ["other"]


async def test_64_bit_chat_ids_and_exact_times(engine_store: Store) -> None:
    """Supergroup ids beyond 32 bits, and times to the microsecond, come back as written."""
    store = engine_store
    await store.ensure_chat(SUPERGROUP, kind="supergroup", title="Big")
    due = T0 + 0.123456
    feed, _ = await store.get_or_create_feed(
        "https://a.example/f", title="A", interval_seconds=60, now=T0, next_fetch_at=due
    )
    sub = await store.add_subscription(SUPERGROUP, feed.id, thread_id=2**40)
    assert (sub.chat_id, sub.thread_id) == (SUPERGROUP, 2**40)
    stored = await store.get_feed(feed.id)
    assert stored is not None
    assert stored.next_fetch_at == due
    assert [f.id for f in await store.due_feeds(due, 10)] == [feed.id]
    assert await store.due_feeds(due - 1e-6, 10) == []


def test_sql_is_written_once_for_both() -> None:
    """SQLite's parameters and functions become PostgreSQL's, numbered as SQLite numbers them."""
    sql = "SELECT ?1, ?, ?2, GREATEST(a, ?) FROM t WHERE k IN (SELECT value FROM json_each(?))"
    assert for_postgres(sql) == (
        "SELECT $1, $2, $2, GREATEST(a, $3) FROM t WHERE k IN"
        " (SELECT value FROM jsonb_array_elements_text(CAST($4 AS jsonb)))"
    )
    assert for_sqlite(sql) == sql.replace("GREATEST(", "MAX(")
