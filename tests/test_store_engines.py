"""What differs between SQLite and PostgreSQL and must not show: concurrent writers, text
PostgreSQL cannot hold, Telegram's 64-bit ids, exact times, SQL written once for both."""

from __future__ import annotations

import asyncio

import pytest

from bot.store import Store
from bot.store.engine import for_postgres, for_sqlite
from tests.test_store import T0, _followed_feed

pytestmark = pytest.mark.both_engines

SUPERGROUP = -1009876543210
"""A supergroup's id: beyond 32 bits, as Telegram's are."""


async def test_concurrent_subscriptions_get_distinct_numbers(engine_store: Store) -> None:
    """Twenty subscriptions of one chat at once: each gets its own smallest free number.

    On PostgreSQL they run side by side on several connections; the losers of a race
    for a number are retried (SERIALIZABLE), never failed and never numbered twice.
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
