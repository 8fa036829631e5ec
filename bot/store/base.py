"""Connection handling shared by the store's parts: one connection, one lock, explicit transactions.

The connection runs in autocommit mode (``isolation_level=None``) and every write
that spans statements goes through ``_tx``: BEGIN IMMEDIATE takes the write lock up
front, so a transaction never fails half-way on a lock upgrade, and any exception
(or cancellation) rolls it back. One asyncio lock serialises the store's methods,
because aiosqlite shares one connection: without it, a statement of one task
could land inside another task's open transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from bot.models import Feed, PlannedDelivery, Rhythm, Subscription
from bot.store.codec import decode_message, decode_options, encode_message
from bot.store.records import Chat, OutboxRow

SUBSCRIPTION_SELECT = """
    SELECT s.id, s.chat_id, s.feed_id, s.number, s.thread_id, s.filter_expr, s.paused,
           s.options, f.title, f.url, f.last_error
    FROM subscriptions AS s JOIN feeds AS f ON f.id = s.feed_id
"""

FEED_SELECT = """
    SELECT f.id, f.url, f.title, f.etag, f.last_modified, f.body_hash, f.last_error,
           f.error_count, f.interval_seconds, f.next_fetch_at, f.created_at, f.last_success_at,
           f.failing_since, f.failure_notified, f.hint_seconds, f.skip_hours, f.last_new_at,
           f.new_gap_seconds, f.new_samples, f.boilerplate
    FROM feeds AS f
"""

OUTBOX_SELECT = """
    SELECT o.id, o.chat_id, o.thread_id, o.subscription_id, o.feed_id, o.entry_key, o.payload,
           o.attempts, o.not_before, o.created_at
    FROM outbox AS o
"""

ACTIVE_FOLLOWER = """
    EXISTS (SELECT 1 FROM subscriptions AS s JOIN chats AS c ON c.id = s.chat_id
            WHERE s.feed_id = f.id AND s.paused = 0 AND c.active = 1)
"""

UNFOLLOWED = "NOT EXISTS (SELECT 1 FROM subscriptions AS s WHERE s.feed_id = feeds.id)"
"""A feed row (table ``feeds``, unaliased) that no subscription follows, paused or not."""

Params = tuple[Any, ...]


def clean(text: str) -> str:
    """Text SQLite can store: lone surrogates (possible in hostile feeds) become '?'."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def thread_to_db(thread_id: int | None) -> int:
    """0 stands for "no forum topic" so that the UNIQUE constraint sees it."""
    return thread_id or 0


def chat_from_row(row: aiosqlite.Row) -> Chat:
    return Chat(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        active=bool(row["active"]),
        language=row["language"],
        filter_expr=row["filter_expr"],
        deactivated_reason=row["deactivated_reason"],
    )


def feed_from_row(row: aiosqlite.Row) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        last_error=row["last_error"],
        error_count=row["error_count"],
        interval_seconds=row["interval_seconds"],
        next_fetch_at=row["next_fetch_at"],
        created_at=row["created_at"],
        last_success_at=row["last_success_at"],
        failing_since=row["failing_since"],
        failure_notified=bool(row["failure_notified"]),
        rhythm=Rhythm(
            hint_seconds=row["hint_seconds"],
            skip_hours=row["skip_hours"],
            last_new_at=row["last_new_at"],
            new_gap_seconds=row["new_gap_seconds"],
            new_samples=row["new_samples"],
        ),
        boilerplate=row["boilerplate"],
    )


def subscription_from_row(row: aiosqlite.Row) -> Subscription:
    return Subscription(
        id=row["id"],
        chat_id=row["chat_id"],
        feed_id=row["feed_id"],
        number=row["number"],
        thread_id=row["thread_id"] or None,
        filter_expr=row["filter_expr"],
        paused=bool(row["paused"]),
        options=decode_options(row["options"]),
        title=row["title"],
        url=row["url"],
        last_error=row["last_error"],
    )


def outbox_from_row(row: aiosqlite.Row) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        chat_id=row["chat_id"],
        thread_id=row["thread_id"],
        subscription_id=row["subscription_id"],
        feed_id=row["feed_id"],
        entry_key=row["entry_key"],
        message=decode_message(row["payload"]),
        attempts=row["attempts"],
        not_before=row["not_before"],
        created_at=row["created_at"],
    )


async def fetch_all(db: aiosqlite.Connection, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
    """Every row of the query, in one round trip to aiosqlite's thread (execute, fetch and
    close would be three: each costs a thread hand-over, and a check makes several)."""
    return list(await db.execute_fetchall(sql, params))


async def fetch_one(
    db: aiosqlite.Connection, sql: str, params: Params = ()
) -> aiosqlite.Row | None:
    """The first row, in one round trip; for queries of one row (all rows are read)."""
    return next(iter(await db.execute_fetchall(sql, params)), None)


async def scalar(db: aiosqlite.Connection, sql: str, params: Params = ()) -> Any:
    row = await fetch_one(db, sql, params)
    return None if row is None else row[0]


async def insert_outbox(
    db: aiosqlite.Connection,
    feed_id: int,
    items: Sequence[PlannedDelivery],
    *,
    not_before: float,
    now: float,
) -> None:
    """Queue ``items`` as pending outbox rows of ``feed_id``, in order; marks nothing seen."""
    await db.executemany(
        """
        INSERT INTO outbox (chat_id, thread_id, subscription_id, feed_id, entry_key,
                            payload, not_before, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            (item.chat_id, item.thread_id, item.subscription_id, feed_id,
             clean(item.entry_key), encode_message(item.message), not_before, now)
            for item in items
        ],
    )  # fmt: skip


async def merge_subscription(db: aiosqlite.Connection, source_id: int, into_id: int) -> None:
    """Fold subscription ``source_id`` into its twin ``into_id`` (same chat, topic and feed).

    The source's pending messages move to the twin, except those for an entry the twin
    already has queued; failed rows follow for the record. The source is deleted.
    """
    await db.execute(
        """
        DELETE FROM outbox AS o WHERE o.subscription_id = ?1 AND o.state = 'pending'
          AND EXISTS (SELECT 1 FROM outbox AS n WHERE n.subscription_id = ?2
                      AND n.entry_key = o.entry_key)
        """,
        (source_id, into_id),
    )
    await db.execute(
        "UPDATE outbox SET subscription_id = ? WHERE subscription_id = ?", (into_id, source_id)
    )
    await db.execute("DELETE FROM subscriptions WHERE id = ?", (source_id,))


async def next_number(db: aiosqlite.Connection, chat_id: int) -> int:
    """The smallest positive subscription number not used in the chat."""
    value = await scalar(
        db,
        """
        SELECT CASE
            WHEN NOT EXISTS (SELECT 1 FROM subscriptions WHERE chat_id = ?1 AND number = 1) THEN 1
            ELSE (SELECT MIN(a.number) + 1 FROM subscriptions AS a
                  WHERE a.chat_id = ?1 AND NOT EXISTS (
                      SELECT 1 FROM subscriptions AS b
                      WHERE b.chat_id = ?1 AND b.number = a.number + 1))
        END
        """,
        (chat_id,),
    )
    return int(value)


class StoreBase:
    """The connection, the lock and the transaction helpers the store's parts share."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        """One atomic write transaction: all of it commits, or none of it."""
        async with self._lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                await self._db.commit()
            except BaseException:
                # aiosqlite runs calls in order on its thread, so even when a
                # cancellation hit while BEGIN was queued, this ROLLBACK runs after it.
                await self._db.rollback()
                raise

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, for statements that need no transaction of their own."""
        async with self._lock:
            yield self._db

    async def _all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._read() as db:
            return await fetch_all(db, sql, params)

    async def _one(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._read() as db:
            return await fetch_one(db, sql, params)

    async def _run(self, sql: str, params: Params = ()) -> None:
        """One statement, atomic by itself, in one round trip (no row count)."""
        async with self._read() as db:
            await db.execute_fetchall(sql, params)

    async def _write(self, sql: str, params: Params = ()) -> int:
        """One statement, atomic by itself; returns the number of rows changed."""
        async with self._read() as db:
            cursor = await db.execute(sql, params)
            count = cursor.rowcount
            await cursor.close()
            return count
