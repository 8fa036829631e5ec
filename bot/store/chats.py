"""Chats: who the bot talks to, their language, chat-wide filter and whether they still listen."""

from __future__ import annotations

import json
from collections.abc import Collection

from bot.store.base import (
    StoreBase,
    chat_from_row,
    clean,
    merge_subscription,
    next_number,
)
from bot.store.engine import Db, Row
from bot.store.records import Chat

_CHAT_FROM = """
    SELECT id, kind, title, active, language, filter_expr, deactivated_reason, timezone
    FROM chats"""
_CHAT_SELECT = f"{_CHAT_FROM} WHERE id = ?"
_CHATS_AMONG = f"{_CHAT_FROM} WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))"  # noqa: S608 - constant


class ChatsMixin(StoreBase):
    """Chat rows. A chat is never deleted: deactivation keeps its subscriptions."""

    async def ensure_chat(
        self, chat_id: int, *, kind: str = "private", title: str = "", now: float | None = None
    ) -> Chat:
        """Insert the chat if missing; a non-empty kind or title updates it; never reactivates."""

        def upsert(db: Db) -> Row | None:
            db.run(
                """
                INSERT INTO chats (id, kind, title, created_at) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT (id) DO UPDATE SET
                    kind = CASE WHEN ?2 <> '' THEN ?2 ELSE chats.kind END,
                    title = CASE WHEN ?3 <> '' THEN ?3 ELSE chats.title END
                """,
                (chat_id, clean(kind), clean(title), now),
            )
            return db.one(_CHAT_SELECT, (chat_id,))

        row = await self._tx(upsert)
        if row is None:
            raise RuntimeError(f"chat {chat_id} vanished right after insertion")
        return chat_from_row(row)

    async def get_chat(self, chat_id: int) -> Chat | None:
        row = await self._one(_CHAT_SELECT, (chat_id,))
        return None if row is None else chat_from_row(row)

    async def get_chats(self, chat_ids: Collection[int]) -> dict[int, Chat]:
        """The stored chats among ``chat_ids``, by id (unknown ids are left out); one
        statement however many (a feed's audience)."""
        if not chat_ids:
            return {}
        rows = await self._all(_CHATS_AMONG, (json.dumps(sorted(chat_ids)),))
        return {chat.id: chat for chat in map(chat_from_row, rows)}

    async def set_chat_active(
        self, chat_id: int, active: bool, *, reason: str | None = None
    ) -> None:
        """Reactivation clears the reason; deactivation records it."""
        await self._write(
            "UPDATE chats SET active = ?, deactivated_reason = ? WHERE id = ?",
            (int(active), None if active or reason is None else clean(reason), chat_id),
        )

    async def set_chat_language(self, chat_id: int, language: str | None) -> None:
        await self._write("UPDATE chats SET language = ? WHERE id = ?", (language, chat_id))

    async def set_chat_timezone(self, chat_id: int, timezone: str | None) -> None:
        """An IANA time zone name, or None for UTC."""
        await self._write("UPDATE chats SET timezone = ? WHERE id = ?", (timezone, chat_id))

    async def set_chat_filter(self, chat_id: int, expr: str) -> None:
        """An empty expression clears the chat-wide filter."""
        await self._write("UPDATE chats SET filter_expr = ? WHERE id = ?", (clean(expr), chat_id))

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Move a group that became a supergroup, in one transaction.

        The new chat row is created from the old one when missing (kind
        "supergroup"), else kept and given the old language/filter/time zone where it
        has none. Subscriptions move over, taking the smallest free number when theirs is
        taken; one that the new chat already has for the same topic and feed is
        merged into it, dropping pending messages the new chat already has queued.
        All outbox rows follow, then the old chat row is deleted.
        """
        if old_id != new_id:
            await self._tx(_migrate_chat, old_id, new_id)


def _migrate_chat(db: Db, old_id: int, new_id: int) -> None:
    if db.one("SELECT 1 FROM chats WHERE id = ?", (old_id,)) is None:
        return
    db.run(
        """
        INSERT INTO chats (id, kind, title, active, language, filter_expr,
                           deactivated_reason, created_at, timezone)
        SELECT CAST(?1 AS BIGINT), 'supergroup', title, active, language, filter_expr,
               deactivated_reason, created_at, timezone
        FROM chats WHERE id = ?2
        ON CONFLICT (id) DO UPDATE SET
            language = COALESCE(chats.language, excluded.language),
            timezone = COALESCE(chats.timezone, excluded.timezone),
            filter_expr = CASE WHEN chats.filter_expr = '' THEN excluded.filter_expr
                               ELSE chats.filter_expr END
        """,
        (new_id, old_id),
    )
    for sub in db.all(
        "SELECT id, feed_id, thread_id, number FROM subscriptions"
        " WHERE chat_id = ? ORDER BY number",
        (old_id,),
    ):
        _move_subscription(db, sub, new_id)
    db.run("UPDATE outbox SET chat_id = ? WHERE chat_id = ?", (new_id, old_id))
    db.run("DELETE FROM chats WHERE id = ?", (old_id,))


def _move_subscription(db: Db, sub: Row, new_id: int) -> None:
    twin = db.one(
        "SELECT id FROM subscriptions WHERE chat_id = ? AND thread_id = ? AND feed_id = ?",
        (new_id, sub["thread_id"], sub["feed_id"]),
    )
    if twin is not None:
        merge_subscription(db, sub["id"], twin["id"])
        return
    taken = db.one(
        "SELECT 1 FROM subscriptions WHERE chat_id = ? AND number = ?", (new_id, sub["number"])
    )
    number = next_number(db, new_id) if taken is not None else sub["number"]
    db.run(
        "UPDATE subscriptions SET chat_id = ?, number = ? WHERE id = ?", (new_id, number, sub["id"])
    )
