"""The Store: the only place that speaks SQL. Truth lives here, so state survives restarts.

One store, two engines (``bot.store.engine``): a SQLite file (WAL, crash-safe for
everything committed) or a PostgreSQL database that several processes may share,
chosen by ``database.url``. Both behave the same for every method. The store never
reads the clock: every time is passed in as Unix seconds, so tests run on a fake clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from bot.store.base import UNFOLLOWED
from bot.store.bulk import BulkMixin
from bot.store.chats import ChatsMixin
from bot.store.engine import Db, Engine, PostgresEngine, Row, SqliteEngine
from bot.store.feeds import FeedsMixin
from bot.store.outbox import OutboxMixin
from bot.store.records import FailingFeed, Stats
from bot.store.schema import current_version, migrate
from bot.store.subscriptions import SubscriptionsMixin

SQLITE_PREFIX = "sqlite:///"
_COUNTS = f"""
    SELECT (SELECT COUNT(*) FROM feeds),
           (SELECT COUNT(*) FROM subscriptions),
           (SELECT COUNT(*) FROM chats),
           (SELECT COUNT(*) FROM chats WHERE active = 1),
           (SELECT SUM(count) FROM deliveries),
           (SELECT COUNT(*) FROM outbox WHERE state = 'pending'),
           (SELECT COUNT(*) FROM outbox WHERE state = 'failed'),
           (SELECT COUNT(*) FROM feeds WHERE {UNFOLLOWED}),
           (SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND failed_at < ?1)
"""  # noqa: S608 - constant fragment only
"""The numbers of ``stats`` in one statement (one round trip); a NULL horizon counts 0."""
_FAILING = """
    SELECT url, error_count, COALESCE(last_error, ''), next_fetch_at, failing_since
    FROM feeds WHERE error_count > 0 ORDER BY error_count DESC, url
"""


class Store(ChatsMixin, FeedsMixin, SubscriptionsMixin, OutboxMixin, BulkMixin):
    """Chats, feeds, subscriptions, seen keys and the outbox, in SQLite or PostgreSQL."""

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        """Open the SQLite file at ``path`` (creating it and its folder) and bring the schema
        up to date. Raises sqlite3.Error or OSError when it cannot be opened."""
        return await cls._migrated(await SqliteEngine.open(Path(path)))

    @classmethod
    async def open_url(cls, url: str) -> Self:
        """Open the database a ``database.url`` names (``sqlite:///…`` or ``postgresql://…``)
        and bring the schema up to date. Raises the driver's error (sqlite3.Error, OSError,
        or SQLAlchemy's DBAPIError for PostgreSQL) when it cannot be reached or opened."""
        if url.startswith(SQLITE_PREFIX):
            return await cls.open(url.removeprefix(SQLITE_PREFIX))
        return await cls._migrated(PostgresEngine.create(url))

    @classmethod
    async def _migrated(cls, engine: Engine) -> Self:
        try:
            await migrate(engine)
        except BaseException:
            await engine.close()
            raise
        return cls(engine)

    async def close(self) -> None:
        await self._engine.close()

    async def schema_version(self) -> int:
        return await current_version(self._engine)

    async def stats(self, *, failed_before: float | None = None) -> Stats:
        """Counts for `newsrelay stats`; failing feeds by error streak, longest first.

        ``failed_before`` (Unix seconds) is the purge horizon of failed rows: those
        older are counted as ``failed_expired`` (0 when it is not given).
        """

        def count(db: Db) -> tuple[Row | None, list[Row]]:
            return db.one(_COUNTS, (failed_before,)), db.all(_FAILING)

        counts, failing = await self._view(count)  # one snapshot for all the numbers
        if counts is None:
            raise RuntimeError("the counts query returned no row")
        feeds, subscriptions, chats, active, delivered, pending, failed, orphans, expired = (
            int(value or 0) for value in counts
        )
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
        row = await self._one(
            "SELECT SUM(count) FROM deliveries WHERE day >= ?", (int(since // 86400),)
        )
        return 0 if row is None else int(row[0] or 0)
