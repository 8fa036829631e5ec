"""The Store: the only place that speaks SQL. Truth lives here, so state survives restarts.

SQLite in WAL mode with ``synchronous=NORMAL``: a committed transaction is in the
WAL before COMMIT returns, so an application crash (even SIGKILL) loses nothing
committed; only a power loss or OS crash may roll back the last few commits, and
never corrupts the file. Foreign keys are on; ``busy_timeout`` lets a CLI command
(`newsrelay stats`) and the running bot share the file. The store never reads the
clock: every time is passed in as Unix seconds, so tests run on a fake clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

import aiosqlite

from bot.store.base import UNFOLLOWED, fetch_all, scalar
from bot.store.bulk import BulkMixin
from bot.store.chats import ChatsMixin
from bot.store.feeds import FeedsMixin
from bot.store.outbox import OutboxMixin
from bot.store.records import FailingFeed, Stats
from bot.store.schema import current_version, migrate
from bot.store.subscriptions import SubscriptionsMixin

BUSY_TIMEOUT_MS = 5000


class Store(ChatsMixin, FeedsMixin, SubscriptionsMixin, OutboxMixin, BulkMixin):
    """Chats, feeds, subscriptions, seen keys and the outbox in one SQLite file."""

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        """Open (creating the file and its folder) and bring the schema up to date."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            db.row_factory = aiosqlite.Row
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await migrate(db)
        except BaseException:
            await db.close()
            raise
        return cls(db)

    async def close(self) -> None:
        async with self._lock:
            await self._db.close()

    async def schema_version(self) -> int:
        async with self._read() as db:
            return await current_version(db)

    async def stats(self, *, failed_before: float | None = None) -> Stats:
        """Counts for `newsrelay stats`; failing feeds by error streak, longest first.

        ``failed_before`` (Unix seconds) is the purge horizon of failed rows: those
        older are counted as ``failed_expired`` (0 when it is not given).
        """
        expired_sql = "SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND failed_at < ?"
        orphan_sql = f"SELECT COUNT(*) FROM feeds WHERE {UNFOLLOWED}"  # noqa: S608 - constant fragment only
        async with self._tx() as db:  # one snapshot for all the numbers
            counts = [
                int(await scalar(db, sql) or 0)
                for sql in (
                    "SELECT COUNT(*) FROM feeds",
                    "SELECT COUNT(*) FROM subscriptions",
                    "SELECT COUNT(*) FROM chats",
                    "SELECT COUNT(*) FROM chats WHERE active = 1",
                    "SELECT SUM(count) FROM deliveries",
                    "SELECT COUNT(*) FROM outbox WHERE state = 'pending'",
                    "SELECT COUNT(*) FROM outbox WHERE state = 'failed'",
                    orphan_sql,
                )
            ]
            expired = 0
            if failed_before is not None:
                expired = int(await scalar(db, expired_sql, (failed_before,)) or 0)
            failing = await fetch_all(
                db,
                """
                SELECT url, error_count, COALESCE(last_error, ''), next_fetch_at, failing_since
                FROM feeds WHERE error_count > 0 ORDER BY error_count DESC, url
                """,
            )
        feeds, subscriptions, chats, active, delivered, pending, failed, orphans = counts
        return Stats(
            feeds=feeds,
            subscriptions=subscriptions,
            chats=chats,
            active_chats=active,
            delivered=delivered,
            pending=pending,
            failed=failed,
            failing_feeds=tuple(
                FailingFeed(row[0], int(row[1]), row[2], float(row[3]), row[4]) for row in failing
            ),
            failed_expired=expired,
            orphan_feeds=orphans,
        )

    async def delivered_since(self, since: float) -> int:
        """Messages delivered from the UTC day holding ``since`` on (day granularity)."""
        async with self._read() as db:
            return int(
                await scalar(
                    db, "SELECT SUM(count) FROM deliveries WHERE day >= ?", (int(since // 86400),)
                )
                or 0
            )
