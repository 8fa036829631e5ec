"""Feeds: one row per distinct URL, shared by every subscriber, with its fetch state."""

from __future__ import annotations

from bot.models import Feed
from bot.store.base import (
    ACTIVE_FOLLOWER,
    FEED_SELECT,
    UNFOLLOWED,
    StoreBase,
    clean,
    feed_from_row,
    fetch_one,
)


class FeedsMixin(StoreBase):
    """Feed rows and the schedule: a feed is due only while someone is listening."""

    async def get_or_create_feed(
        self, url: str, *, title: str, interval_seconds: int, now: float
    ) -> tuple[Feed, bool]:
        """The feed of this URL and whether it is new; a new one is due one interval from now."""
        url = clean(url)
        async with self._tx() as db:
            row = await fetch_one(db, f"{FEED_SELECT} WHERE f.url = ?", (url,))
            if row is not None:
                return feed_from_row(row), False
            await db.execute(
                """
                INSERT INTO feeds (url, title, interval_seconds, next_fetch_at, created_at)
                VALUES (?, ?, ?, ?, ?)
                """,
                (url, clean(title), interval_seconds, now + interval_seconds, now),
            )
            row = await fetch_one(db, f"{FEED_SELECT} WHERE f.url = ?", (url,))
        if row is None:
            raise RuntimeError(f"feed {url!r} vanished right after insertion")
        return feed_from_row(row), True

    async def get_feed(self, feed_id: int) -> Feed | None:
        row = await self._one(f"{FEED_SELECT} WHERE f.id = ?", (feed_id,))
        return None if row is None else feed_from_row(row)

    async def due_feeds(self, now: float, limit: int) -> list[Feed]:
        """Due feeds that an unpaused subscription of an active chat follows, soonest first."""
        rows = await self._all(
            f"""{FEED_SELECT} WHERE f.next_fetch_at <= ? AND {ACTIVE_FOLLOWER}
            ORDER BY f.next_fetch_at, f.id LIMIT ?""",
            (now, limit),
        )
        return [feed_from_row(row) for row in rows]

    async def count_due(self, now: float, *, overdue_before: float) -> tuple[int, int]:
        """(due, overdue): followed feeds due at ``now``, and those due since before
        ``overdue_before`` (Unix seconds), which the fetchers have not caught up with."""
        sql = f"""SELECT COUNT(*), COALESCE(SUM(f.next_fetch_at < ?), 0) FROM feeds AS f
            WHERE f.next_fetch_at <= ? AND {ACTIVE_FOLLOWER}"""  # noqa: S608 - constant fragments only
        row = await self._one(sql, (overdue_before, now))
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    async def next_due_time(self) -> float | None:
        """When the next followed feed falls due (maybe in the past); None if none is followed."""
        sql = f"SELECT MIN(f.next_fetch_at) FROM feeds AS f WHERE {ACTIVE_FOLLOWER}"  # noqa: S608 - constant fragments only
        row = await self._one(sql)
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
    ) -> None:
        """Store the validators and the next due time; clear the error streak."""
        await self._write(
            """
            UPDATE feeds SET next_fetch_at = ?, etag = ?, last_modified = ?, body_hash = ?,
                title = COALESCE(NULLIF(?, ''), title),
                interval_seconds = COALESCE(?, interval_seconds),
                last_error = NULL, error_count = 0, last_checked_at = ?, last_success_at = ?
            WHERE id = ?
            """,
            (
                next_fetch_at,
                etag,
                last_modified,
                body_hash,
                None if title is None else clean(title),
                interval_seconds,
                now,
                now,
                feed_id,
            ),
        )

    async def record_fetch_failure(
        self, feed_id: int, *, next_fetch_at: float, error: str, now: float
    ) -> None:
        """Count one more failure in a row and keep its message for /list and stats."""
        await self._write(
            """
            UPDATE feeds SET next_fetch_at = ?, last_error = ?, error_count = error_count + 1,
                last_checked_at = ?
            WHERE id = ?
            """,
            (next_fetch_at, clean(error), now, feed_id),
        )

    async def delete_orphan_feeds(self, *, created_before: float | None = None) -> int:
        """Delete feeds nobody follows; their seen keys and outbox records go with them.

        With ``created_before``, only feeds created before that time go: a feed row is
        created just before its first subscription, and must not vanish in between.
        Returns how many feeds were deleted.
        """
        sql = f"DELETE FROM feeds WHERE {UNFOLLOWED} AND (? IS NULL OR created_at < ?)"  # noqa: S608 - constant fragment only
        return await self._write(sql, (created_before, created_before))
