"""Seen keys and the outbox: the heart of "each new entry reaches each chat once".

New entries become outbox rows in the same transaction that marks them seen, so a
crash leaves both or neither; a racing second refresh finds the keys seen and adds
nothing. The worker deletes a row only after Telegram took the message, so after a
crash only the message in flight can arrive twice. Rows of inactive chats and of
paused subscriptions wait; failed rows stay for the record until purged.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

from bot.models import OutgoingMessage, PlannedDelivery
from bot.store.base import (
    FOLLOWERS,
    OUTBOX_SELECT,
    SEEN_AMONG,
    StoreBase,
    clean,
    insert_outbox,
    outbox_from_row,
    seen_among,
    thread_to_db,
)
from bot.store.codec import CodecError, encode_message
from bot.store.engine import Db, Row
from bot.store.records import AudienceChanged, OutboxHeads, OutboxRow

_DELIVERABLE = """
    JOIN chats AS c ON c.id = o.chat_id
    LEFT JOIN subscriptions AS s ON s.id = o.subscription_id
    WHERE o.state = 'pending' AND c.active = 1 AND COALESCE(s.paused, 0) = 0
"""

_ARTICLE_ELSEWHERE = """
    SELECT 1 FROM chat_articles
    WHERE chat_id = ? AND thread_id = ? AND feed_id != ? AND queued_at >= ?
      AND article_key IN (SELECT value FROM json_each(?))
    LIMIT 1
"""

_NEXT_AT = """,
           MIN(CASE WHEN o.not_before > ?1 THEN o.not_before END) OVER () AS next_at
    FROM outbox AS o"""

_HEADS = f"""
    SELECT * FROM ({OUTBOX_SELECT.replace("FROM outbox AS o", _NEXT_AT)}
        WHERE o.id IN (SELECT MIN(o.id) FROM outbox AS o {_DELIVERABLE} GROUP BY o.chat_id)
    ) AS h
    WHERE h.not_before <= ?1 OR h.not_before = h.next_at
    ORDER BY h.not_before > ?1, h.id LIMIT ?2
"""  # noqa: S608 - constant fragments only
"""Each chat's head row (the oldest of its deliverable rows): those ready at ?1 by id, then
the head(s) that become ready first, at most ?2 in all; every row carries ``next_at``, the
earliest ``not_before`` after ?1 among all heads (a window over the heads, taken before
the filter and the limit), so the answer says when to look again even when it is cut."""

_FORGET = """
    DELETE FROM seen WHERE feed_id = ? AND first_seen < ?
      AND entry_key NOT IN (SELECT value FROM json_each(?))
"""

_SEEN_OR_FORGET = """
    WITH found AS (
        SELECT entry_key FROM seen
        WHERE feed_id = ?1 AND entry_key IN (SELECT value FROM json_each(?2))
    ), forgotten AS (
        DELETE FROM seen WHERE feed_id = ?1 AND first_seen < ?3
          AND entry_key NOT IN (SELECT value FROM json_each(?2))
          AND (SELECT COUNT(*) FROM found) = ?4
    )
    SELECT entry_key FROM found
"""
"""PostgreSQL: the seen keys among a JSON list of ?4 distinct stored keys, and, when all
of them are seen, the forgetting of ``_FORGET``. A DELETE in WITH runs once whether or not
the query reads it, on the statement's one snapshot (PostgreSQL docs, "Data-Modifying
Statements in WITH"); it deletes only keys not asked about, so the answer is the same."""

_COUNT_DELIVERED = """
    INSERT INTO deliveries (day, count) VALUES (?, 1)
    ON CONFLICT (day) DO UPDATE SET count = deliveries.count + 1
"""

_DELIVERED = """
    WITH sent AS (DELETE FROM outbox WHERE id = ?1 AND state = 'pending' RETURNING id)
    INSERT INTO deliveries (day, count) SELECT ?2, 1 FROM sent
    ON CONFLICT (day) DO UPDATE SET count = deliveries.count + 1
"""
"""PostgreSQL: ``mark_delivered``'s delete and count in one statement; the count goes up
only when the delete took the row (another sender's delete, or a purge, came first)."""

_NOTE_ARTICLE = """
    INSERT INTO chat_articles (chat_id, thread_id, article_key, feed_id, queued_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (chat_id, thread_id, article_key, feed_id)
    DO UPDATE SET queued_at = excluded.queued_at
"""

_MARK_SEEN = """
    INSERT INTO seen (feed_id, entry_key, first_seen) VALUES (?, ?, ?)
    ON CONFLICT DO NOTHING
"""

_QUEUE = """
    WITH queued AS (
        INSERT INTO outbox (chat_id, thread_id, subscription_id, feed_id, entry_key,
                            payload, not_before, created_at)
        SELECT r.chat_id, r.thread_id, r.subscription_id, ?10, r.entry_key, r.payload, ?11, ?12
        FROM unnest(CAST(?1 AS bigint[]), CAST(?2 AS bigint[]), CAST(?3 AS bigint[]),
                    CAST(?4 AS text[]), CAST(?5 AS text[]))
             WITH ORDINALITY AS r(chat_id, thread_id, subscription_id, entry_key, payload, n)
        ORDER BY r.n
    ), noted AS (
        INSERT INTO chat_articles (chat_id, thread_id, article_key, feed_id, queued_at)
        SELECT a.chat_id, a.thread_id, a.article_key, ?10, ?12
        FROM unnest(CAST(?6 AS bigint[]), CAST(?7 AS bigint[]), CAST(?8 AS text[]))
             AS a(chat_id, thread_id, article_key)
        ON CONFLICT (chat_id, thread_id, article_key, feed_id)
        DO UPDATE SET queued_at = excluded.queued_at
    )
    INSERT INTO seen (feed_id, entry_key, first_seen)
    SELECT ?10, k.entry_key, ?12 FROM unnest(CAST(?9 AS text[])) AS k(entry_key)
    ON CONFLICT DO NOTHING
"""
"""PostgreSQL: ``_write_queue``'s three writes as one statement (each a data-modifying WITH
or the main INSERT, run once each on one snapshot; none reads what another writes). The
outbox rows are inserted in their order (``ORDER BY`` the array position), so their ids,
which order a chat's messages, follow it."""

_FOLLOWERS_AND_SEEN = f"""
    SELECT 0 AS seen, CAST(s.id AS TEXT) AS value FROM subscriptions AS s {FOLLOWERS}
    UNION ALL
    {SEEN_AMONG.replace("SELECT entry_key", "SELECT 1, entry_key", 1)}
"""  # noqa: S608 - constant fragments only
"""The ids of feed ?'s followers (``FOLLOWERS``, seen 0), then the keys among a JSON list
that feed ? has seen (``SEEN_AMONG``, seen 1): what a refresh's commit reads under the
feed's lock, in one round trip."""


def _write_queue(
    db: Db,
    feed_id: int,
    rows: Sequence[PlannedDelivery],
    articles: Sequence[tuple[int, int, str, int, float]],
    marks: Sequence[str],
    *,
    not_before: float,
    now: float,
) -> None:
    """``commit_entries``'s writes: the outbox ``rows`` in order, the ``articles`` (chat,
    thread, key, feed, time) noted, the stored keys ``marks`` seen. Three statements on
    SQLite; one on PostgreSQL (``_QUEUE``), where each statement is a round trip."""
    if db.engine != "postgresql":
        insert_outbox(db, feed_id, rows, not_before=not_before, now=now)
        db.many(_NOTE_ARTICLE, articles)
        db.many(_MARK_SEEN, [(feed_id, key, now) for key in marks])
        return
    # One statement may not update a row twice (ON CONFLICT DO UPDATE): one per article.
    noted = list({article[:3]: article for article in articles})
    db.run(
        _QUEUE,
        (
            [item.chat_id for item in rows],
            [item.thread_id for item in rows],
            [item.subscription_id for item in rows],
            [clean(item.entry_key) for item in rows],
            [encode_message(item.message) for item in rows],
            [chat for chat, _, _ in noted],
            [thread for _, thread, _ in noted],
            [key for _, _, key in noted],
            list(marks),
            feed_id,
            not_before,
            now,
        ),
    )


class OutboxMixin(StoreBase):
    """Dedupe keys per feed and the queue of messages to send."""

    async def unseen_keys(
        self, feed_id: int, keys: Sequence[str], *, forget_before: float | None = None
    ) -> list[str]:
        """The keys not yet seen for the feed, each once, in input order (one query).

        With ``forget_before`` (Unix seconds), when every key is seen (a changed document
        that brought nothing new) the feed's keys first seen before then that are not
        among ``keys`` are forgotten too, as ``prune_seen`` with ``keep=keys`` does, in the
        same statement on PostgreSQL: a check that brings nothing new costs one round trip
        to the database, not two. A check that finds new keys forgets nothing here; its
        caller prunes after queueing them.
        """
        if forget_before is None:
            seen = await self._engine.statement(
                lambda db: seen_among(db, feed_id, keys), write=False
            )  # one statement, as ``_all``: a refresh asks this first, every time
            return [key for key in dict.fromkeys(keys) if key not in seen]
        distinct = list(dict.fromkeys(clean(key) for key in keys))
        stored = json.dumps(distinct)
        if self.engine.name == "postgresql":
            params = (feed_id, stored, forget_before, len(distinct))
            found = await self._engine.statement(
                lambda db: {row[0] for row in db.all(_SEEN_OR_FORGET, params)},
                write=True,
                keyed=True,
            )
            seen = {key for key in keys if clean(key) in found}
        else:

            def read_then_forget(db: Db) -> set[str]:
                # SQLite has no DELETE in WITH; in its thread the two cost one hand-over.
                known = seen_among(db, feed_id, keys)
                if known.issuperset(keys):
                    db.run(_FORGET, (feed_id, forget_before, stored))
                return known

            seen = await self._engine.statement(read_then_forget, write=True, keyed=True)
        return [key for key in dict.fromkeys(keys) if key not in seen]

    async def commit_entries(
        self,
        feed_id: int,
        *,
        seen: Sequence[str],
        outbox: Sequence[PlannedDelivery],
        now: float,
        hold_until: float | None = None,
        article_window: float = 0.0,
        audience: Collection[int] | None = None,
    ) -> int:
        """Queue the items whose keys were unseen and mark ``seen`` keys, atomically.

        ``hold_until`` keeps the queued rows back until then (or until ``release``),
        so that a /sub confirmation goes out before the backlog it announces.

        Backlog items are queued even when seen. An item repeating an earlier one
        for the same subscription and key in this call is dropped. Keys of queued
        items count as seen too, so a caller that forgets one cannot cause a
        resend. An item one of whose ``article_keys`` another feed queued for the
        same chat (and topic) in the last ``article_window`` seconds is dropped too:
        the same article through a second feed, backlog items included: the chat
        has that article already, however it asked. Returns the number of rows queued.

        ``audience`` is the ids of the subscriptions the caller read as the feed's
        followers (``followers``) and planned ``outbox`` for; a refresh gives
        it. The followers are then read again inside this transaction, and if they are
        not those, nothing is written and ``AudienceChanged`` is raised: plan again.

        Why a follower added, resumed, paused or removed while a refresh plans is never
        passed by: such a change holds the feed's row until it commits (``Db.lock``), and
        this transaction holds it from before its read of the followers to its end. The
        two holds cannot overlap, so the change committed either

        - before that read, which sees it: on PostgreSQL this runs at READ COMMITTED and
          each statement sees what committed before it began; on SQLite every write
          transaction runs alone (``BEGIN IMMEDIATE``), after or before the whole change;
          a refresh that planned without the change is refused and plans again; or
        - after this commit: the /sub or /resume that made the change reads, in the
          change's own transaction, which of its backlog's keys are seen, so it finds
          these keys seen and offers them itself (``add_subscription_seeing``,
          ``resume_subscription``), and a removal deletes the rows queued here for the
          subscription it removes.

        A chat turning active or inactive takes no such lock: this sees it only when it
        committed before the read of the followers.
        """
        keyed = [(clean(item.entry_key), item) for item in outbox]
        candidates = json.dumps(sorted({key for key, item in keyed if not item.backlog}))
        since = now - article_window
        expected = None if audience is None else set(audience)
        article_chats = (
            {item.chat_id for item in outbox if item.article_keys} if article_window > 0 else ()
        )

        def commit(db: Db) -> int:
            # The feed's row orders the commits of one feed (a poll and a /sub of it); the
            # chats' rows order the cross-feed look-ups of one chat's articles.
            db.lock(feeds=[feed_id], chats=article_chats)
            if expected is None:
                already = {row[0] for row in db.all(SEEN_AMONG, (feed_id, candidates))}
            else:  # one statement reads the followers and the seen keys, after the lock
                read = db.all(_FOLLOWERS_AND_SEEN, (feed_id, feed_id, candidates))
                if {int(row[1]) for row in read if not row[0]} != expected:
                    raise AudienceChanged(feed_id)
                already = {row[1] for row in read if row[0]}
            queued: set[tuple[int, int | None, str]] = set()
            rows = []
            articles: list[tuple[int, int, str, int, float]] = []
            for key, item in keyed:
                ident = (item.subscription_id, item.thread_id, key)
                if ident in queued or (key in already and not item.backlog):
                    continue
                thread = thread_to_db(item.thread_id)
                names = json.dumps([clean(name) for name in item.article_keys])
                if article_window > 0 and item.article_keys:
                    params = (item.chat_id, thread, feed_id, since, names)
                    if db.all(_ARTICLE_ELSEWHERE, params):
                        continue
                    articles.extend(
                        (item.chat_id, thread, clean(name), feed_id, now)
                        for name in item.article_keys
                    )
                queued.add(ident)
                rows.append(item)
            marks = sorted({clean(key) for key in seen} | {key for key, _ in keyed})
            _write_queue(db, feed_id, rows, articles, marks, not_before=hold_until or now, now=now)
            return len(rows)

        return await self._tx_keyed(commit)

    async def release(self, subscription_id: int, *, now: float) -> None:
        """Let a subscription's held rows go now (see ``commit_entries``'s ``hold_until``)."""
        await self._write(
            """
            UPDATE outbox SET not_before = ?
            WHERE subscription_id = ? AND state = 'pending' AND not_before > ?
            """,
            (now, subscription_id, now),
        )

    async def prune_seen(self, feed_id: int, *, keep: Sequence[str], before: float) -> int:
        """Forget keys first seen before ``before`` that the feed no longer carries."""
        return await self._write_keyed(
            _FORGET, (feed_id, before, json.dumps([clean(key) for key in keep]))
        )

    async def pending_outbox(self, now: float, limit: int) -> list[OutboxRow]:
        """Rows ready to send (not_before <= now), oldest first."""
        rows = await self._all(
            f"{OUTBOX_SELECT} {_DELIVERABLE} AND o.not_before <= ? ORDER BY o.id LIMIT ?",
            (now, limit),
        )
        return await self._readable(rows, now)

    async def outbox_heads(self, now: float, limit: int) -> OutboxHeads:
        """The oldest row of each chat that is ready (``not_before`` <= ``now``, Unix
        seconds), oldest first, at most ``limit``; and when the first head not ready yet
        will be (``OutboxHeads.next_at``, None when every head is ready or there is none).

        A chat's messages go out in the order they were queued: a row held back by
        ``defer`` holds back the chat's later rows too, so entries never overtake. One
        query: the sender asks this on every pass, once or twice per message sent.
        """
        rows = await self._all(_HEADS, (now, limit))
        ready = [row for row in rows if row["not_before"] <= now]
        next_at = rows[0]["next_at"] if rows else None
        return OutboxHeads(
            await self._readable(ready, now), None if next_at is None else float(next_at)
        )

    async def _readable(self, rows: Sequence[Row], now: float) -> list[OutboxRow]:
        """The rows that decode; one that does not (another version wrote it) is failed.

        Left pending, such a row would stop the worker on every pass, for every chat.
        """
        readable = []
        for row in rows:
            try:
                readable.append(outbox_from_row(row))
            except CodecError as exc:
                await self.mark_failed(row["id"], error=f"unreadable message: {exc}", now=now)
        return readable

    async def sendable_backlog(self) -> tuple[int, float | None]:
        """(rows, oldest created_at): pending rows of active chats and unpaused subscriptions."""
        row = await self._one(f"SELECT COUNT(*), MIN(o.created_at) FROM outbox AS o {_DELIVERABLE}")  # noqa: S608 - constant fragment only
        if row is None:
            return 0, None
        return int(row[0]), None if row[1] is None else float(row[1])

    async def mark_delivered(self, outbox_id: int, *, now: float) -> None:
        """Delete the row and count it in a per-UTC-day tally (one small row per day).

        The upsert adds to the day's count atomically. On PostgreSQL the delete and the
        count are one statement (``_DELIVERED``): one round trip per message sent, not
        four (BEGIN, DELETE, INSERT, COMMIT).
        """
        day = int(now // 86400)
        if self.engine.name == "postgresql":
            await self._write_keyed(_DELIVERED, (outbox_id, day))
            return

        def deliver(db: Db) -> None:
            if db.run("DELETE FROM outbox WHERE id = ? AND state = 'pending'", (outbox_id,)):
                db.run(_COUNT_DELIVERED, (day,))

        await self._tx_keyed(deliver)

    async def defer(self, outbox_id: int, *, not_before: float, error: str | None = None) -> None:
        """Retry later, counting the attempt; the last error is kept when none is given."""
        await self._write_keyed(
            """
            UPDATE outbox SET attempts = attempts + 1, not_before = ?,
                last_error = COALESCE(?, last_error)
            WHERE id = ? AND state = 'pending'
            """,
            (not_before, None if error is None else clean(error), outbox_id),
        )

    async def defer_chat(self, chat_id: int, *, not_before: float) -> None:
        """Hold every pending row of the chat until ``not_before`` (never brings one forward)."""
        await self._write(
            """
            UPDATE outbox SET not_before = GREATEST(not_before, ?)
            WHERE chat_id = ? AND state = 'pending'
            """,
            (not_before, chat_id),
        )

    async def mark_failed(self, outbox_id: int, *, error: str, now: float) -> None:
        await self._write_keyed(
            """
            UPDATE outbox SET state = 'failed', last_error = ?, failed_at = ?
            WHERE id = ? AND state = 'pending'
            """,
            (clean(error), now, outbox_id),
        )

    async def fail_chat_outbox(self, chat_id: int, *, error: str, now: float) -> int:
        """Give up every pending row of the chat (it blocked the bot); return how many."""
        return await self._write(
            """
            UPDATE outbox SET state = 'failed', last_error = ?, failed_at = ?
            WHERE chat_id = ? AND state = 'pending'
            """,
            (clean(error), now, chat_id),
        )

    async def replace_outbox_message(self, outbox_id: int, message: OutgoingMessage) -> None:
        """Persist a fallback form before resending it, so a crash resends the fallback."""
        await self._write(
            "UPDATE outbox SET payload = ? WHERE id = ?", (encode_message(message), outbox_id)
        )

    async def forget_articles(self, before: float) -> int:
        """Delete the article keys queued before ``before`` (Unix seconds); how many went.

        Housekeeping's job, not each commit's: a DELETE over the whole time index in every
        ``commit_entries`` made every two concurrent commits conflict on PostgreSQL
        (SERIALIZABLE). ``commit_entries`` ignores older rows anyway.
        """
        return await self._write("DELETE FROM chat_articles WHERE queued_at < ?", (before,))

    async def purge_failed(self, before: float) -> int:
        """Delete failed rows that failed before ``before``; return how many."""
        return await self._write(
            "DELETE FROM outbox WHERE state = 'failed' AND failed_at < ?", (before,)
        )
