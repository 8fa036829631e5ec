"""Subscribing one chat to thousands of feeds in one transaction (``newsrelay import-opml``).

Nothing is fetched here: a new feed row is due at the time the caller chose (spread
over an interval), and the running bot's first read of it marks its current entries
seen. Subscription numbers are handed out in Python from the chat's free numbers, so
10,000 rows cost a handful of statements, not 10,000 "smallest free number" queries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.models import DisplayOptions
from bot.store.base import StoreBase, clean, thread_to_db
from bot.store.codec import encode_options
from bot.store.engine import Db
from bot.store.records import UnknownChatError


class BulkState(StrEnum):
    """What happened to one URL of a bulk subscription."""

    ADDED = "added"
    EXISTS = "exists"
    """The chat (or topic) already followed it."""
    LIMIT = "limit"
    """Refused: the chat reached ``access.max_subscriptions_per_chat``."""


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """One URL's outcome, with its subscription number when it has one."""

    url: str
    state: BulkState
    number: int | None = None


@dataclass(frozen=True, slots=True)
class NewFeed:
    """A feed to follow: its URL, a title until it is read, and when to read it first."""

    url: str
    title: str
    first_check_at: float
    """Unix seconds; used only when the feed row is new."""


class BulkMixin(StoreBase):
    """Bulk subscriptions."""

    async def subscribe_many(
        self,
        chat_id: int,
        feeds: Sequence[NewFeed],
        *,
        thread_id: int | None = None,
        interval_seconds: int,
        limit: int,
        now: float,
    ) -> list[BulkOutcome]:
        """Subscribe the chat to every feed, creating the feed rows that are missing.

        One transaction. URLs are taken as given (the caller normalises them); a URL
        repeated in ``feeds`` counts once. At most ``limit`` subscriptions in all for
        the chat. Returns one outcome per distinct URL, in order. Raises
        UnknownChatError when ``ensure_chat`` was never called for the chat.
        """
        unique = {clean(feed.url): feed for feed in feeds}
        thread = thread_to_db(thread_id)

        def subscribe(db: Db) -> list[BulkOutcome]:
            if db.one("SELECT 1 FROM chats WHERE id = ?", (chat_id,)) is None:
                raise UnknownChatError(chat_id)
            db.many(
                """
                INSERT INTO feeds (url, title, interval_seconds, next_fetch_at, created_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """,
                [
                    (url, clean(feed.title), interval_seconds, feed.first_check_at, now)
                    for url, feed in unique.items()
                ],
            )
            ids = {
                row[1]: row[0]
                for row in db.all(
                    "SELECT id, url FROM feeds WHERE url IN (SELECT value FROM json_each(?))",
                    (json.dumps(list(unique)),),
                )
            }
            followed = {
                row[0]: row[1]
                for row in db.all(
                    "SELECT feed_id, number FROM subscriptions WHERE chat_id = ? AND thread_id = ?",
                    (chat_id, thread),
                )
            }
            used = {
                row[0]
                for row in db.all("SELECT number FROM subscriptions WHERE chat_id = ?", (chat_id,))
            }
            outcomes, rows = _assign(unique, ids, followed, used, limit)
            options = encode_options(DisplayOptions())
            db.many(
                """
                INSERT INTO subscriptions (chat_id, feed_id, number, thread_id, options, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                [(chat_id, feed_id, number, thread, options, now) for feed_id, number in rows],
            )
            return outcomes

        return await self._tx(subscribe)


def _assign(
    urls: dict[str, NewFeed],
    ids: dict[str, int],
    followed: dict[int, int],
    used: set[int],
    limit: int,
) -> tuple[list[BulkOutcome], list[tuple[int, int]]]:
    """Each URL's outcome, and the (feed id, number) rows to insert, smallest free numbers first."""
    outcomes: list[BulkOutcome] = []
    rows: list[tuple[int, int]] = []
    count = len(used)
    candidate = 1
    for url in urls:
        feed_id = ids[url]
        if feed_id in followed:
            outcomes.append(BulkOutcome(url, BulkState.EXISTS, followed[feed_id]))
            continue
        if count >= limit:
            outcomes.append(BulkOutcome(url, BulkState.LIMIT))
            continue
        while candidate in used:
            candidate += 1
        used.add(candidate)
        followed[feed_id] = candidate
        count += 1
        rows.append((feed_id, candidate))
        outcomes.append(BulkOutcome(url, BulkState.ADDED, candidate))
    return outcomes, rows
