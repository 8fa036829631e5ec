"""Subscriptions: a chat (or forum topic) following a feed, numbered #1, #2… per chat.

A change to who follows a feed (adding, pausing, resuming or removing a subscription)
holds the feed's row while it commits, as a check's ``commit_entries`` does from its read
of the followers to its end: see there why that keeps a new entry from passing a
follower by. Adding and resuming also read, under that hold, which entries the backlog
of /sub or /resume may offer (``add_subscription_seeing``, ``resume_subscription``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import DisplayOptions, Subscription
from bot.store.base import (
    FOLLOWERS,
    SUBSCRIPTION_SELECT,
    StoreBase,
    chat_from_row,
    clean,
    lock_followed_feeds,
    next_number,
    seen_among,
    subscription_from_row,
    thread_to_db,
)
from bot.store.codec import encode_options
from bot.store.engine import Db, Row
from bot.store.records import (
    Followers,
    NewSubscription,
    SubscriptionExists,
    UnknownChatError,
)

_CHAT_COLUMNS = """,
           c.kind AS chat_kind, c.title AS chat_title, c.active AS chat_active,
           c.language AS chat_language, c.filter_expr AS chat_filter_expr,
           c.deactivated_reason AS chat_deactivated_reason, c.timezone AS chat_timezone
    FROM subscriptions"""

_FOLLOWERS_AND_CHATS = (
    f"{SUBSCRIPTION_SELECT.replace(' FROM subscriptions', _CHAT_COLUMNS)} {FOLLOWERS} ORDER BY s.id"
)
"""The followers of feed ? (``FOLLOWERS``), each with its chat's columns."""


class SubscriptionsMixin(StoreBase):
    """Subscription rows; listings join the feed's title, URL and last error."""

    async def add_subscription(
        self, chat_id: int, feed_id: int, *, thread_id: int | None = None, now: float | None = None
    ) -> Subscription:
        """Subscribe with the smallest free number (``add_subscription_seeing``, no keys).

        Raises SubscriptionExists when the chat or topic already follows the feed, and
        UnknownChatError when ensure_chat was never called for the chat.
        """
        added = await self.add_subscription_seeing(
            chat_id, feed_id, (), thread_id=thread_id, now=now
        )
        return added.subscription

    async def add_subscription_seeing(
        self,
        chat_id: int,
        feed_id: int,
        keys: Sequence[str],
        *,
        thread_id: int | None = None,
        now: float | None = None,
    ) -> NewSubscription:
        """Subscribe with the smallest free number, and say which of ``keys`` the feed had
        seen at that moment: the entries /sub's backlog may offer (``NewSubscriber``).

        Raises SubscriptionExists when the chat or topic already follows the feed, and
        UnknownChatError when ensure_chat was never called for the chat.

        Why the backlog must read the seen keys here and not after: a key seen now was
        marked by a refresh that committed before this subscription existed (its commit
        holds the feed's row, which this locks first), so no refresh brought it to the
        newcomer and the backlog may. A key unseen now is left to the refreshes: each
        commits after this one, reads the followers under the same lock and plans again
        when the newcomer is not among those it planned for (``commit_entries``'s
        ``audience``), so it brings the entry to the newcomer and marks it seen. Read
        later, in a transaction of its own, that mark would make the backlog offer the
        entry a second time.

        On PostgreSQL this runs READ COMMITTED (``_tx_keyed``), as the refreshes' commits:
        each statement sees what committed before it began, so the read after the lock
        sees the marks of the commit it waited for. SERIALIZABLE would read from the
        snapshot taken at its first statement, before that wait, and miss them (the
        refreshes' commits are not SERIALIZABLE, so no serialization failure would tell).
        What SERIALIZABLE gave the insert, the chat's row lock gives now: a rival insert
        into the chat (another add, a bulk import, a chat migration) holds that row
        through its foreign key until it commits, so the existence check and the next
        number see it. The feed's row is locked before the chat's, as ``commit_entries``
        does: no deadlock between them.
        """
        thread = thread_to_db(thread_id)

        def insert(db: Db) -> tuple[Row | None, set[str]]:
            db.lock(feeds=[feed_id])
            # A statement of its own: a chat row that ``ensure_chat`` committed while this
            # waited for the feed's row is not in the snapshot the feed's lock began with.
            # FOR UPDATE (``referrers``): a rival's insert into the chat holds its row
            # through the foreign key until it commits, so the checks below see its rows.
            db.lock(chats=[chat_id], referrers=True)
            if db.one("SELECT 1 FROM chats WHERE id = ?", (chat_id,)) is None:
                raise UnknownChatError(chat_id)
            existing = db.one(
                f"{SUBSCRIPTION_SELECT} WHERE s.chat_id = ? AND s.thread_id = ? AND s.feed_id = ?",
                (chat_id, thread, feed_id),
            )
            if existing is not None:
                raise SubscriptionExists(subscription_from_row(existing))
            new_id = db.scalar(
                """
                INSERT INTO subscriptions (chat_id, feed_id, number, thread_id, options, created_at)
                VALUES (?, ?, ?, ?, ?, ?) RETURNING id
                """,
                (chat_id, feed_id, next_number(db, chat_id), thread,
                 encode_options(DisplayOptions()), now),
            )  # fmt: skip
            row = db.one(f"{SUBSCRIPTION_SELECT} WHERE s.id = ?", (new_id,))
            return row, seen_among(db, feed_id, keys)

        row, seen = await self._tx_keyed(insert)
        if row is None:
            raise RuntimeError("subscription vanished right after insertion")
        return NewSubscription(subscription_from_row(row), frozenset(seen))

    async def count_subscriptions(self, chat_id: int) -> int:
        row = await self._one("SELECT COUNT(*) FROM subscriptions WHERE chat_id = ?", (chat_id,))
        return 0 if row is None else int(row[0])

    async def list_subscriptions(self, chat_id: int) -> list[Subscription]:
        rows = await self._all(
            f"{SUBSCRIPTION_SELECT} WHERE s.chat_id = ? ORDER BY s.number", (chat_id,)
        )
        return [subscription_from_row(row) for row in rows]

    async def get_subscription(self, chat_id: int, number: int) -> Subscription | None:
        return await self._subscription("s.chat_id = ? AND s.number = ?", (chat_id, number))

    async def get_subscription_by_id(self, subscription_id: int) -> Subscription | None:
        return await self._subscription("s.id = ?", (subscription_id,))

    async def find_subscription(self, chat_id: int, url: str) -> Subscription | None:
        """The chat's subscription to that exact feed URL (the lowest number if several topics)."""
        return await self._subscription(
            "s.chat_id = ? AND f.url = ? ORDER BY s.number LIMIT 1", (chat_id, clean(url))
        )

    async def followers(self, feed_id: int) -> Followers:
        """Who gets the feed's new entries: the unpaused subscriptions of active chats, and
        those chats. One query: a check that finds a new entry asks it before planning."""
        rows = await self._all(_FOLLOWERS_AND_CHATS, (feed_id,))
        chats = {row["chat_id"]: chat_from_row(row, "chat_") for row in rows}
        return Followers([subscription_from_row(row) for row in rows], chats)

    async def remove_subscription(self, subscription_id: int) -> None:
        """Delete it with its pending messages; failed ones stay, detached, for the record."""

        def remove(db: Db) -> None:
            lock_followed_feeds(db, "s.id = ?", (subscription_id,))
            db.run(
                "DELETE FROM outbox WHERE subscription_id = ? AND state = 'pending'",
                (subscription_id,),
            )
            db.run("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))

        await self._tx_keyed(remove)

    async def remove_all_subscriptions(self, chat_id: int) -> int:
        """Delete every subscription of the chat and their pending messages; return how many."""

        def remove(db: Db) -> int:
            lock_followed_feeds(db, "s.chat_id = ?", (chat_id,))
            db.run(
                """
                DELETE FROM outbox WHERE state = 'pending' AND subscription_id IN
                    (SELECT id FROM subscriptions WHERE chat_id = ?)
                """,
                (chat_id,),
            )
            return db.run("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))

        return await self._tx_keyed(remove)

    async def set_subscription_filter(self, subscription_id: int, expr: str) -> None:
        """An empty expression clears the filter."""
        await self._write(
            "UPDATE subscriptions SET filter_expr = ? WHERE id = ?", (clean(expr), subscription_id)
        )

    async def set_subscription_options(self, subscription_id: int, options: DisplayOptions) -> None:
        await self._write(
            "UPDATE subscriptions SET options = ? WHERE id = ?",
            (encode_options(options), subscription_id),
        )

    async def set_subscription_interval(
        self, subscription_id: int, seconds: int | None, *, due_by: float | None = None
    ) -> None:
        """Record the interval a subscription asks for (None: the default), seconds.

        With ``due_by`` (Unix seconds) its feed is checked no later than that, so a
        shorter interval takes effect now rather than after the check already planned.
        """

        def record(db: Db) -> None:
            db.run(
                "UPDATE subscriptions SET interval_seconds = ? WHERE id = ?",
                (seconds, subscription_id),
            )
            if due_by is not None:
                db.run(
                    """
                    UPDATE feeds SET next_fetch_at = LEAST(next_fetch_at, ?)
                    WHERE id = (SELECT feed_id FROM subscriptions WHERE id = ?)
                    """,
                    (due_by, subscription_id),
                )

        await self._tx(record)

    async def set_subscription_paused(
        self, subscription_id: int, paused: bool, *, now: float | None = None
    ) -> None:
        """Pausing records ``now`` as the pause time (a repeated pause keeps the first one)."""

        def change(db: Db) -> None:
            lock_followed_feeds(db, "s.id = ?", (subscription_id,))
            db.run(
                """
                UPDATE subscriptions SET paused = ?1,
                    paused_at = CASE WHEN ?1 = 1 THEN COALESCE(paused_at, ?2) ELSE NULL END
                WHERE id = ?3
                """,
                (int(paused), now, subscription_id),
            )

        await self._tx_keyed(change)

    async def resume_subscription(
        self, subscription_id: int, keys: Sequence[str] = ()
    ) -> frozenset[str] | None:
        """Unpause the subscription; which of ``keys`` its feed first saw since the pause.

        Returns None when there is no pause to offer: the subscription was not paused
        (already resumed, or gone), or was paused before its pause time was recorded
        (migration 2). The keys are read in the transaction that unpauses, under the
        feed's row lock, for the reason ``add_subscription_seeing`` gives: a key first seen
        since the pause and before this was marked by a refresh that passed the paused
        subscription by, so /resume's backlog may offer it (``ResumedSubscriber``); a
        key seen after this is marked by a refresh that brings it to the subscription,
        and offering it again would send it twice.
        """

        def change(db: Db) -> frozenset[str] | None:
            lock_followed_feeds(db, "s.id = ?", (subscription_id,))
            row = db.one(
                "SELECT feed_id, paused_at FROM subscriptions WHERE id = ? AND paused = 1",
                (subscription_id,),
            )
            db.run(
                "UPDATE subscriptions SET paused = 0, paused_at = NULL WHERE id = ?",
                (subscription_id,),
            )
            if row is None or row[1] is None:
                return None
            return frozenset(seen_among(db, row[0], keys, since=float(row[1])))

        return await self._tx_keyed(change)

    async def paused_since(self, subscription_id: int) -> float | None:
        """When the subscription was paused; None while it runs (or paused before migration 2)."""
        row = await self._one(
            "SELECT paused_at FROM subscriptions WHERE id = ? AND paused = 1", (subscription_id,)
        )
        return None if row is None or row[0] is None else float(row[0])

    async def _subscription(self, where: str, params: tuple[object, ...]) -> Subscription | None:
        row = await self._one(f"{SUBSCRIPTION_SELECT} WHERE {where}", params)
        return None if row is None else subscription_from_row(row)
