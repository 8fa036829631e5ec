"""Feeds: one row per distinct URL, shared by every subscriber, with its fetch state.

A feed is due only while an unpaused subscription of an active chat follows it. Each
check ends in ``record_fetch_success`` or ``record_fetch_failure``; the failing and
recovered notices are queued in the same transaction as the state that says they were
sent (``record_fetch_failure``, ``record_recovery``), so each is queued once.
``end_feed`` (410 Gone) and ``move_feed`` (a permanent redirect) change who follows what.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Sequence

from bot.models import Feed, FetchSuccess, PlannedDelivery, Rhythm, Subscription
from bot.store.base import (
    ACTIVE_FOLLOWER,
    FEED_SELECT,
    SUBSCRIPTION_SELECT,
    UNFOLLOWED,
    StoreBase,
    clean,
    feed_from_row,
    insert_outbox,
    merge_subscription,
    subscription_from_row,
)
from bot.store.engine import Db, EngineName, Row

_NOT_AMONG = "f.id NOT IN (SELECT CAST(value AS BIGINT) FROM json_each(?))"
_SUCCESS_SET = """
    UPDATE feeds SET next_fetch_at = ?, etag = ?, last_modified = ?, body_hash = ?,
        title = COALESCE(NULLIF(?, ''), title),
        interval_seconds = COALESCE(?, interval_seconds),
        last_error = NULL, error_count = 0, last_checked_at = ?, last_success_at = ?,
        failing_since = NULL, failure_notified = 0,
        boilerplate = COALESCE(?, boilerplate)
"""
_RHYTHM_SET = """, hint_seconds = ?, skip_hours = ?, last_new_at = ?, new_gap_seconds = ?,
        new_samples = ?"""
# PostgreSQL: this one transaction commits without waiting for its WAL flush
# (``synchronous_commit`` off, set for the transaction only; PostgreSQL manual, "Asynchronous
# Commit"). The record is visible to every session at once, and the next synchronous commit
# (a queued entry, a delivery) flushes it too. A server crash may lose the last fraction of a
# second of such records. Four in five checks end in this record and nothing else (a 304 or
# unchanged bytes), so the flush wait was most of their database cost.
_NO_FLUSH_WAIT = " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait"


@functools.cache  # four texts, asked for on every check
def _success_sql(engine: EngineName, *, rhythm: bool, durable: bool) -> str:
    """The record of a successful check on ``engine``, with or without the rhythm columns."""
    relaxed = _NO_FLUSH_WAIT if engine == "postgresql" and not durable else ""
    return _SUCCESS_SET + (_RHYTHM_SET if rhythm else "") + relaxed + " WHERE id = ?"


def success_values(record: FetchSuccess) -> tuple[object, ...]:
    """The parameters of ``_SUCCESS_SET`` (and ``_RHYTHM_SET`` when the record has a rhythm),
    in their order."""
    values: tuple[object, ...] = (
        record.next_fetch_at,
        record.etag,
        record.last_modified,
        record.body_hash,
        None if record.title is None else clean(record.title),
        record.interval_seconds,
        record.now,
        record.now,
        record.boilerplate,
    )
    if record.rhythm is None:
        return values
    rhythm = record.rhythm
    return (
        *values,
        rhythm.hint_seconds,
        rhythm.skip_hours,
        rhythm.last_new_at,
        rhythm.new_gap_seconds,
        rhythm.new_samples,
    )


SUCCESS_TYPES = (
    "double precision",
    "text",
    "text",
    "text",
    "text",
    "bigint",
    "double precision",
    "double precision",
    "text",
    "bigint",
    "integer",
    "double precision",
    "double precision",
    "integer",
)
"""The PostgreSQL type of each of ``success_values``, rhythm included."""


def leased_success_sql() -> str:
    """PostgreSQL: the records of many checks in one statement, each written only where its
    feed's row still holds the given lease (compare-and-set, as ``bot.store.leases`` moves
    leases). Parameters: an array of feed ids, an array of leases, then one array per
    ``success_values`` item (rhythm included); returns the ids written. Same SET as
    ``record_success``, the flush not waited for."""
    columns = [f"v{i}" for i in range(len(SUCCESS_TYPES))]
    values = iter(f"r.{column}" for column in columns)
    assignments = re.sub(r"\?", lambda _: next(values), _SUCCESS_SET + _RHYTHM_SET)
    arrays = ", ".join(
        f"CAST(?{n} AS {kind}[])"
        for n, kind in enumerate(("bigint", "double precision", *SUCCESS_TYPES), start=1)
    )
    return (
        f"{assignments}{_NO_FLUSH_WAIT}, unnest({arrays}) AS r(id, lease, {', '.join(columns)})"
        " WHERE feeds.id = r.id AND feeds.next_fetch_at = r.lease RETURNING feeds.id"
    )


class FeedsMixin(StoreBase):
    """Feed rows and the schedule."""

    async def get_or_create_feed(
        self,
        url: str,
        *,
        title: str,
        interval_seconds: int,
        now: float,
        next_fetch_at: float | None = None,
    ) -> tuple[Feed, bool]:
        """The feed of this URL and whether it is new.

        A new one is due at ``next_fetch_at`` (Unix seconds; default one interval from now).
        """
        url = clean(url)
        due = now + interval_seconds if next_fetch_at is None else next_fetch_at

        def get_or_insert(db: Db) -> tuple[Row | None, bool]:
            row = db.one(f"{FEED_SELECT} WHERE f.url = ?", (url,))
            if row is not None:
                return row, False
            db.run(
                """
                INSERT INTO feeds (url, title, interval_seconds, next_fetch_at, created_at)
                VALUES (?, ?, ?, ?, ?)
                """,
                (url, clean(title), interval_seconds, due, now),
            )
            return db.one(f"{FEED_SELECT} WHERE f.url = ?", (url,)), True

        row, created = await self._tx(get_or_insert)
        if row is None:
            raise RuntimeError(f"feed {url!r} vanished right after insertion")
        return feed_from_row(row), created

    async def get_feed(self, feed_id: int) -> Feed | None:
        row = await self._one(f"{FEED_SELECT} WHERE f.id = ?", (feed_id,))
        return None if row is None else feed_from_row(row)

    async def feed_by_url(self, url: str) -> Feed | None:
        """The feed with exactly this URL, if there is one."""
        row = await self._one(f"{FEED_SELECT} WHERE f.url = ?", (clean(url),))
        return None if row is None else feed_from_row(row)

    async def feed_subscriptions(self, feed_id: int) -> list[Subscription]:
        """Every subscription to the feed, paused or not, of any chat."""
        rows = await self._all(
            f"{SUBSCRIPTION_SELECT} WHERE s.feed_id = ? ORDER BY s.id", (feed_id,)
        )
        return [subscription_from_row(row) for row in rows]

    async def due_feeds(self, now: float, limit: int, *, skip: Collection[int] = ()) -> list[Feed]:
        """Due feeds someone listens to, soonest first, leaving out the ids in ``skip``."""
        rows = await self._all(
            f"""{FEED_SELECT} WHERE f.next_fetch_at <= ? AND {ACTIVE_FOLLOWER} AND {_NOT_AMONG}
            ORDER BY f.next_fetch_at, f.id LIMIT ?""",
            (now, json.dumps(sorted(skip)), limit),
        )
        return [feed_from_row(row) for row in rows]

    async def count_due(self, now: float, *, overdue_before: float) -> tuple[int, int]:
        """(due, overdue): followed feeds due at ``now``, and those due since before
        ``overdue_before`` (Unix seconds), which the fetchers have not caught up with."""
        sql = f"""SELECT COUNT(*), COALESCE(SUM(CASE WHEN f.next_fetch_at < ? THEN 1 ELSE 0 END), 0)
            FROM feeds AS f
            WHERE f.next_fetch_at <= ? AND {ACTIVE_FOLLOWER}"""  # noqa: S608 - constant fragments only
        row = await self._one(sql, (overdue_before, now))
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    async def next_due_time(self, *, skip: Collection[int] = ()) -> float | None:
        """When the next followed feed not in ``skip`` is due (maybe in the past), or None."""
        sql = f"""SELECT MIN(f.next_fetch_at) FROM feeds AS f
            WHERE {ACTIVE_FOLLOWER} AND {_NOT_AMONG}"""  # noqa: S608 - constant fragments only
        row = await self._one(sql, (json.dumps(sorted(skip)),))
        return None if row is None or row[0] is None else float(row[0])

    async def record_fetch_success(
        self,
        feed_id: int,
        *,
        next_fetch_at: float,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
        title: str | None = None,
        now: float,
        interval_seconds: int | None = None,
        rhythm: Rhythm | None = None,
        boilerplate: str | None = None,
        durable: bool = True,
    ) -> None:
        """``record_success`` of these fields."""
        await self.record_success(
            FetchSuccess(
                feed_id,
                next_fetch_at=next_fetch_at,
                etag=etag,
                last_modified=last_modified,
                body_hash=body_hash,
                now=now,
                title=title,
                interval_seconds=interval_seconds,
                rhythm=rhythm,
                boilerplate=boilerplate,
            ),
            durable=durable,
        )

    async def record_success(self, record: FetchSuccess, *, durable: bool = True) -> None:
        """Store the validators and the next due time; end the failure run.

        The record's rhythm and boilerplate replace the stored ones when given. One
        statement: the common check costs one round trip. ``durable=False`` lets PostgreSQL
        commit it without waiting for the WAL flush (see ``_NO_FLUSH_WAIT``): only for a
        record whose loss costs one more fetch and changes no decision (``routine``). On
        PostgreSQL the poller batches those records instead (``LeaseStore.record_leased``).
        """
        sql = _success_sql(self.engine.name, rhythm=record.rhythm is not None, durable=durable)
        await self._write_keyed(sql, (*success_values(record), record.feed_id))

    async def record_recovery(
        self, feed_id: int, *, notices: Sequence[PlannedDelivery], now: float
    ) -> None:
        """Queue the news that a reported feed works again, and record that it was told."""

        def record(db: Db) -> None:
            insert_outbox(db, feed_id, notices, not_before=now, now=now)
            db.run("UPDATE feeds SET failure_notified = 0 WHERE id = ?", (feed_id,))

        await self._tx(record)

    async def record_fetch_failure(
        self,
        feed_id: int,
        *,
        next_fetch_at: float,
        error: str,
        now: float,
        notices: Sequence[PlannedDelivery] = (),
    ) -> None:
        """Count one more failure in a row and keep its code for /list and stats.

        The first failure of a run records when the run began. ``notices`` (the news
        that the feed is failing) are queued in the same transaction, which also records
        that the run was reported.
        """

        def record(db: Db) -> None:
            db.run(
                """
                UPDATE feeds SET next_fetch_at = ?, last_error = ?, error_count = error_count + 1,
                    last_checked_at = ?, failing_since = COALESCE(failing_since, ?),
                    failure_notified = GREATEST(failure_notified, ?)
                WHERE id = ?
                """,
                (next_fetch_at, clean(error), now, now, int(bool(notices)), feed_id),
            )
            if notices:
                insert_outbox(db, feed_id, notices, not_before=now, now=now)

        await self._tx_keyed(record)

    async def end_feed(
        self, feed_id: int, *, error: str, now: float, notices: Sequence[PlannedDelivery]
    ) -> int:
        """A feed gone for good: queue ``notices``, then remove every subscription to it.

        Messages already queued for the feed are still sent; the unfollowed feed row is
        deleted by housekeeping once nothing of it waits in the outbox. Returns how many
        subscriptions were removed.
        """

        def end(db: Db) -> int:
            db.run(
                """
                UPDATE feeds SET last_error = ?, error_count = error_count + 1,
                    last_checked_at = ?, failing_since = COALESCE(failing_since, ?)
                WHERE id = ?
                """,
                (clean(error), now, now, feed_id),
            )
            insert_outbox(db, feed_id, notices, not_before=now, now=now)
            return db.run("DELETE FROM subscriptions WHERE feed_id = ?", (feed_id,))

        return await self._tx(end)

    async def move_feed(self, feed_id: int, url: str) -> Feed | None:
        """Give the feed its new URL (a permanent redirect); the feed row that now has it.

        When another feed already has that URL, this one is merged into it: the seen
        keys of both count (so nothing is sent again; the caller has already queued the
        current document for both feeds' subscribers), subscriptions move over (a chat
        or topic following both keeps the other's subscription, with this one's
        pending messages unless already queued there or seen by the other feed), queued
        rows follow, and this row is deleted. Returns None when the feed no longer exists.
        """
        url = clean(url)

        def move(db: Db) -> Row | None:
            other = db.one("SELECT id FROM feeds WHERE url = ?", (url,))
            target = feed_id
            if other is None:
                db.run("UPDATE feeds SET url = ? WHERE id = ?", (url, feed_id))
            elif other["id"] != feed_id:
                target = other["id"]
                _merge_feed(db, feed_id, target)
            return db.one(f"{FEED_SELECT} WHERE f.id = ?", (target,))

        row = await self._tx(move)
        return None if row is None else feed_from_row(row)

    async def delete_orphan_feeds(self, *, created_before: float | None = None) -> int:
        """Delete feeds nobody follows; their seen keys and outbox records go with them.

        With ``created_before``, only feeds created before that time go: a feed row is
        created just before its first subscription, and must not vanish in between. A
        feed with messages still waiting to be sent (the notice that it is gone) stays
        until they went. Returns how many feeds were deleted.
        """
        sql = f"""DELETE FROM feeds WHERE {UNFOLLOWED}
            AND (CAST(? AS DOUBLE PRECISION) IS NULL OR created_at < ?)
            AND NOT EXISTS (SELECT 1 FROM outbox AS o
                            WHERE o.feed_id = feeds.id AND o.state = 'pending')"""  # noqa: S608 - constant fragment only
        return await self._write(sql, (created_before, created_before))


def _merge_feed(db: Db, source: int, target: int) -> None:
    """Fold feed ``source`` into ``target`` inside the caller's transaction."""
    for sub in db.all(
        "SELECT id, chat_id, thread_id FROM subscriptions WHERE feed_id = ?", (source,)
    ):
        twin = db.one(
            "SELECT id FROM subscriptions WHERE chat_id = ? AND thread_id = ? AND feed_id = ?",
            (sub["chat_id"], sub["thread_id"], target),
        )
        if twin is None:
            db.run("UPDATE subscriptions SET feed_id = ? WHERE id = ?", (target, sub["id"]))
            continue
        # The twin already had what the target feed had seen: those rows would repeat it.
        db.run(
            """
            DELETE FROM outbox WHERE subscription_id = ?1 AND state = 'pending'
              AND entry_key IN (SELECT s.entry_key FROM seen AS s WHERE s.feed_id = ?2)
            """,
            (sub["id"], target),
        )
        merge_subscription(db, sub["id"], twin["id"])
    db.run(
        """
        INSERT INTO seen (feed_id, entry_key, first_seen)
        SELECT CAST(? AS BIGINT), entry_key, first_seen FROM seen WHERE feed_id = ?
        ON CONFLICT DO NOTHING
        """,
        (target, source),
    )
    db.run("UPDATE outbox SET feed_id = ? WHERE feed_id = ?", (target, source))
    db.run("DELETE FROM feeds WHERE id = ?", (source,))
