"""What the store's parts share: the engine that runs their operations, row decoding, and
the statements more than one part needs.

Every store method hands one operation (a plain function of a :class:`Db`) to the
engine (``bot.store.engine``), which runs it whole in one transaction: all of it
commits, or none of it. Writes go through ``_tx``, reads through ``_view``; one-statement
methods use ``_all``/``_one``/``_run``/``_write``. On PostgreSQL a write may run more
than once (retried from the start after a serialization failure), so an operation does
nothing but SQL and returns what it read: no clock, no I/O, no state outside its
arguments. The SQL is written once for both engines: ``?`` parameters, no engine-only
functions except those ``bot.store.engine`` translates (``json_each``, ``GREATEST``),
flags as INTEGER 0/1, an explicit CAST where PostgreSQL cannot infer a parameter's type
(``CAST(? AS BIGINT)`` in a SELECT list, ``CAST(? AS DOUBLE PRECISION) IS NULL``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from bot.models import Feed, PlannedDelivery, Rhythm, Subscription
from bot.store.codec import decode_message, decode_options, encode_message
from bot.store.engine import Db, Engine, Params, Row
from bot.store.records import Chat, OutboxRow

T = TypeVar("T")

SUBSCRIPTION_SELECT = """
    SELECT s.id, s.chat_id, s.feed_id, s.number, s.thread_id, s.filter_expr, s.paused,
           s.options, s.interval_seconds, f.title, f.url, f.last_error
    FROM subscriptions AS s JOIN feeds AS f ON f.id = s.feed_id
"""

FEED_SELECT = """
    SELECT f.id, f.url, f.title, f.etag, f.last_modified, f.body_hash, f.last_error,
           f.error_count, f.interval_seconds, f.next_fetch_at, f.created_at, f.last_success_at,
           f.failing_since, f.failure_notified, f.hint_seconds, f.skip_hours, f.last_new_at,
           f.new_gap_seconds, f.new_samples, f.boilerplate,
           (SELECT MIN(r.interval_seconds) FROM subscriptions AS r
            WHERE r.feed_id = f.id AND r.paused = 0) AS requested_interval
    FROM feeds AS f
"""

OUTBOX_SELECT = """
    SELECT o.id, o.chat_id, o.thread_id, o.subscription_id, o.feed_id, o.entry_key, o.payload,
           o.attempts, o.not_before, o.created_at
    FROM outbox AS o
"""

FOLLOWERS = """
    JOIN chats AS c ON c.id = s.chat_id
    WHERE s.feed_id = ? AND s.paused = 0 AND c.active = 1
"""
"""Who gets a feed's new entries, after ``FROM subscriptions AS s``: its unpaused
subscriptions of active chats (``followers``, ``commit_entries``)."""

SEEN_AMONG = """
    SELECT entry_key FROM seen
    WHERE feed_id = ? AND entry_key IN (SELECT value FROM json_each(?))
"""
"""The stored keys among a JSON list of stored keys (``clean``) that the feed has seen."""


def seen_among(
    db: Db, feed_id: int, keys: Iterable[str], *, since: float | None = None
) -> set[str]:
    """The keys among ``keys`` (as the caller spells them) that the feed has seen; with
    ``since`` (Unix seconds), only those first seen at or after it. One query."""
    stored = {key: clean(key) for key in keys}
    if not stored:
        return set()
    params: tuple[object, ...] = (feed_id, json.dumps(list(stored.values())))
    sql = SEEN_AMONG if since is None else f"{SEEN_AMONG} AND first_seen >= ?"
    found = {row[0] for row in db.all(sql, params if since is None else (*params, since))}
    return {key for key, as_stored in stored.items() if as_stored in found}


ACTIVE_FOLLOWER = """
    (SELECT TRUE FROM subscriptions AS s JOIN chats AS c ON c.id = s.chat_id
     WHERE s.feed_id = f.id AND s.paused = 0 AND c.active = 1 LIMIT 1)
"""
"""The feed ``f`` has an unpaused subscription of an active chat: a scalar subquery, NULL
(so false) when there is none. Not EXISTS: PostgreSQL turns an EXISTS into a join, and
with a chats table too small for autovacuum ever to analyze it (under 50 changed rows) it
planned a claim of due feeds as a hash of every active subscription and a sort of every
due feed. With 20 chats, every feed due and no statistics, a claim of 32 cost 7,100
buffers and 9 ms among 2,000 feeds, 65,000 buffers and 114 ms among 20,000. A scalar
subquery is not turned into a join: the query walks the due index in order and stops at
its limit whatever the statistics say (1,500 and 4,400 buffers; with statistics both
forms cost about 800). SQLite evaluates either form per row."""

UNFOLLOWED = "NOT EXISTS (SELECT 1 FROM subscriptions AS s WHERE s.feed_id = feeds.id)"
"""A feed row (table ``feeds``, unaliased) that no subscription follows, paused or not."""


def clean(text: str) -> str:
    """Text both engines store alike: lone surrogates (possible in hostile feeds) become
    '?', and NUL characters go (PostgreSQL's text cannot hold them; SQLite could)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def thread_to_db(thread_id: int | None) -> int:
    """0 stands for "no forum topic" so that the UNIQUE constraint sees it."""
    return thread_id or 0


def chat_from_row(row: Row, prefix: str = "") -> Chat:
    """The chat in ``row``, its columns named with ``prefix`` (``chat_`` in a join that
    returns a subscription's columns beside its chat's)."""
    return Chat(
        id=row[f"{prefix}id"],
        kind=row[f"{prefix}kind"],
        title=row[f"{prefix}title"],
        active=bool(row[f"{prefix}active"]),
        language=row[f"{prefix}language"],
        filter_expr=row[f"{prefix}filter_expr"],
        deactivated_reason=row[f"{prefix}deactivated_reason"],
        timezone=row[f"{prefix}timezone"],
    )


def feed_from_row(row: Row) -> Feed:
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
        requested_interval=row["requested_interval"],
    )


def subscription_from_row(row: Row) -> Subscription:
    return Subscription(
        id=row["id"],
        chat_id=row["chat_id"],
        feed_id=row["feed_id"],
        number=row["number"],
        thread_id=row["thread_id"] or None,
        filter_expr=row["filter_expr"],
        paused=bool(row["paused"]),
        options=decode_options(row["options"]),
        interval_seconds=row["interval_seconds"],
        title=row["title"],
        url=row["url"],
        last_error=row["last_error"],
    )


def outbox_from_row(row: Row) -> OutboxRow:
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


def insert_outbox(
    db: Db,
    feed_id: int,
    items: Sequence[PlannedDelivery],
    *,
    not_before: float,
    now: float,
) -> None:
    """Queue ``items`` as pending outbox rows of ``feed_id``, in order; marks nothing seen."""
    db.many(
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


def merge_subscription(db: Db, source_id: int, into_id: int) -> None:
    """Fold subscription ``source_id`` into its twin ``into_id`` (same chat, topic and feed).

    The source's pending messages move to the twin, except those for an entry the twin
    already has queued; failed rows follow for the record. The source is deleted.
    """
    db.run(
        """
        DELETE FROM outbox AS o WHERE o.subscription_id = ?1 AND o.state = 'pending'
          AND EXISTS (SELECT 1 FROM outbox AS n WHERE n.subscription_id = ?2
                      AND n.entry_key = o.entry_key)
        """,
        (source_id, into_id),
    )
    db.run("UPDATE outbox SET subscription_id = ? WHERE subscription_id = ?", (into_id, source_id))
    db.run("DELETE FROM subscriptions WHERE id = ?", (source_id,))


def lock_followed_feeds(db: Db, where: str, params: Params) -> None:
    """Lock (``Db.lock``) the feeds of the subscriptions ``where`` names (alias ``s``), before a
    change to who follows them: a check's ``commit_entries`` of one of those feeds then reads
    its followers either before the change commits or after the change sees its writes."""
    rows = db.all(f"SELECT DISTINCT s.feed_id FROM subscriptions AS s WHERE {where}", params)  # noqa: S608 - constant fragments only
    db.lock(feeds=[row[0] for row in rows])


def next_number(db: Db, chat_id: int) -> int:
    """The smallest positive subscription number not used in the chat."""
    value = db.scalar(
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
    """The engine and the transaction helpers the store's parts share."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The engine under this store (its name says which: "sqlite" or "postgresql")."""
        return self._engine

    async def _tx(self, operation: Callable[..., T], *args: Any) -> T:
        """``operation(db, *args)`` as one atomic write transaction."""
        return await self._engine.write(operation, *args)

    async def _tx_keyed(self, operation: Callable[..., T], *args: Any) -> T:
        """``operation(db, *args)`` as one atomic write that finds its rows by key and locks
        (``Db.lock``) what orders it against rivals first (``Engine.write_keyed``)."""
        return await self._engine.write_keyed(operation, *args)

    async def _write_keyed(self, sql: str, params: Params = ()) -> int:
        """One statement that changes rows it finds by key and reads no others (the row
        locks of the change order its rivals); the number of rows changed."""
        return await self._engine.statement(lambda db: db.run(sql, params), write=True, keyed=True)

    async def _view(self, operation: Callable[..., T], *args: Any) -> T:
        """``operation(db, *args)`` on one consistent snapshot."""
        return await self._engine.read(operation, *args)

    async def _all(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._engine.statement(lambda db: db.all(sql, params), write=False)

    async def _one(self, sql: str, params: Params = ()) -> Row | None:
        return await self._engine.statement(lambda db: db.one(sql, params), write=False)

    async def _run(self, sql: str, params: Params = ()) -> None:
        """One statement, atomic by itself."""
        await self._engine.statement(lambda db: db.run(sql, params), write=True)

    async def _write(self, sql: str, params: Params = ()) -> int:
        """One statement, atomic by itself; returns the number of rows changed."""
        return await self._engine.statement(lambda db: db.run(sql, params), write=True)
