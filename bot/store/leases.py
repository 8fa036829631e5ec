"""The SQL of several processes sharing one PostgreSQL database: heartbeats, named leases,
due feeds claimed with a lease, and replies handed to the sending process.

``bot.coordination`` decides when to call what; this module only speaks SQL. Every
statement runs at READ COMMITTED in a transaction of its own: each is atomic by itself
(``INSERT … ON CONFLICT``, ``UPDATE … RETURNING``, ``FOR UPDATE SKIP LOCKED``), and the
store's SERIALIZABLE writes that meet a row changed here are retried by the engine.

Times are Unix seconds from the caller's clock, never the server's (tests run on a
virtual clock): hosts sharing a database need clocks in step (NTP) to well under the
lease times of ``bot.coordination``.

- ``processes``: one row per running process, its roles, the leases it holds, and its
  last heartbeat; ``newsrelay stats`` lists them.
- ``leases``: one row per named lease. ``take_lease`` takes it when it is free, when the
  caller already holds it (a renewal), or when its holder let it expire ``grace`` seconds
  ago, all in one ``INSERT … ON CONFLICT DO UPDATE … WHERE``: two processes can never both
  come out holding it.
- Due feeds: the lease *is* the feed's ``next_fetch_at``, moved to the lease's end by the
  claim (``FOR UPDATE SKIP LOCKED``: two processes claiming at once get different feeds).
  Every other process then sees the feed as not due until the lease ends; the check's own
  record (success or failure) writes the real next time, which ends the lease. A process
  that dies leaves the feed due again when the lease ends. Renewal and release are
  compare-and-set on the lease value, so they never undo a record written meanwhile.
- ``replies``: command replies of a process that does not send, for the one that does
  (``pg_notify`` wakes it at commit).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.models import Feed, FetchSuccess
from bot.store.base import ACTIVE_FOLLOWER, FEED_SELECT, feed_from_row
from bot.store.engine import Db, PostgresEngine
from bot.store.feeds import SUCCESS_TYPES, leased_success_sql, success_values

OUTBOX_CHANNEL = "newsrelay_outbox"
"""NOTIFY channel: rows were queued in the outbox."""
REPLIES_CHANNEL = "newsrelay_replies"
"""NOTIFY channel: a reply was queued for the sender."""

# The column list of FEED_SELECT ("SELECT <columns> FROM feeds AS f"): the one list the
# store decodes feeds from, reused so that a claimed feed decodes like any other.
_FEED_COLUMNS = FEED_SELECT.strip().removeprefix("SELECT").rsplit("FROM", 1)[0]

_CLAIM = f"""
    WITH picked AS (
        SELECT f.id, f.next_fetch_at AS due_at FROM feeds AS f
        WHERE f.next_fetch_at <= ?1 AND {ACTIVE_FOLLOWER} AND NOT (f.id = ANY(?4))
        ORDER BY f.next_fetch_at, f.id
        LIMIT ?2
        FOR UPDATE OF f SKIP LOCKED
    )
    UPDATE feeds AS f SET next_fetch_at = ?3 FROM picked WHERE f.id = picked.id
    RETURNING picked.due_at, {_FEED_COLUMNS}
"""  # noqa: S608 - constant fragments only

_RECORD_LEASED = leased_success_sql()

_MOVE_LEASES = """
    UPDATE feeds AS f SET next_fetch_at = h.next
    FROM unnest(CAST(?1 AS bigint[]), CAST(?2 AS double precision[]),
                CAST(?3 AS double precision[])) AS h(id, lease, next)
    WHERE f.id = h.id AND f.next_fetch_at = h.lease
    RETURNING f.id
"""


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """One registered process as ``newsrelay stats`` shows it."""

    id: str
    host: str
    pid: int
    roles: tuple[str, ...]
    holds: tuple[str, ...]
    """The named leases it held at its last heartbeat."""
    started_at: float
    heartbeat_at: float


@dataclass(frozen=True, slots=True)
class QueuedReply:
    """A reply another process queued for the sender: the chat and the reply as JSON."""

    id: int
    chat_id: int
    payload: dict[str, Any]
    created_at: float


@dataclass(frozen=True, slots=True)
class ClaimedFeed:
    """A due feed this process now holds: ``feed.next_fetch_at`` is still the time it was
    due (the check's cadence needs it); ``lease`` is the value the row holds meanwhile."""

    feed: Feed
    lease: float


class LeaseStore:
    """The coordination statements on one PostgreSQL engine (its own pool: a heartbeat must
    not wait behind a pool busy with fetch results)."""

    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    @classmethod
    def connect(cls, url: str) -> LeaseStore:
        """A lease store on ``url`` (a postgresql:// URL); connects on first use."""
        return cls(PostgresEngine.create(url))

    async def close(self) -> None:
        await self._engine.close()

    async def _run(self, operation: Any, *args: Any) -> Any:
        return await self._engine.run(operation, *args, isolation="READ COMMITTED")

    # -- processes -------------------------------------------------------------------------

    async def register(self, row: ProcessRow) -> None:
        """Insert (or replace) the process's row."""

        def op(db: Db) -> None:
            db.run(
                """
                INSERT INTO processes (id, host, pid, roles, holds, started_at, heartbeat_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET roles = excluded.roles, holds = excluded.holds,
                    heartbeat_at = excluded.heartbeat_at
                """,
                (row.id, row.host, row.pid, ",".join(row.roles), ",".join(row.holds),
                 row.started_at, row.heartbeat_at),
            )  # fmt: skip

        await self._run(op)

    async def heartbeat(self, process_id: str, holds: Collection[str], now: float) -> bool:
        """Record that the process is alive at ``now`` holding ``holds``; False when its row
        is gone (pruned as dead after a long stall): the caller registers again."""

        def op(db: Db) -> int:
            return db.run(
                "UPDATE processes SET heartbeat_at = ?, holds = ? WHERE id = ?",
                (now, ",".join(sorted(holds)), process_id),
            )

        return bool(await self._run(op))

    async def deregister(self, process_id: str) -> None:
        await self._run(lambda db: db.run("DELETE FROM processes WHERE id = ?", (process_id,)))

    async def prune_processes(self, before: float) -> int:
        """Delete rows of processes whose last heartbeat is older than ``before``."""
        return int(
            await self._run(
                lambda db: db.run("DELETE FROM processes WHERE heartbeat_at < ?", (before,))
            )
        )

    async def processes(self) -> list[ProcessRow]:
        """Every registered process, most recently started first."""

        def op(db: Db) -> list[ProcessRow]:
            rows = db.all(
                """
                SELECT id, host, pid, roles, holds, started_at, heartbeat_at FROM processes
                ORDER BY started_at DESC, id
                """
            )
            return [
                ProcessRow(
                    id=row[0], host=row[1], pid=int(row[2]),
                    roles=tuple(filter(None, row[3].split(","))),
                    holds=tuple(filter(None, row[4].split(","))),
                    started_at=float(row[5]), heartbeat_at=float(row[6]),
                )
                for row in rows
            ]  # fmt: skip

        result: list[ProcessRow] = await self._run(op)
        return result

    # -- named leases ----------------------------------------------------------------------

    async def take_lease(
        self, name: str, holder: str, *, now: float, seconds: float, grace: float = 0.0
    ) -> bool:
        """Take or renew lease ``name`` for ``seconds`` from ``now``; whether ``holder`` has it.

        It is taken when free, when ``holder`` holds it already, or when it expired more
        than ``grace`` seconds before ``now`` (a process that is not the preferred holder
        waits that much longer before it steps in).
        """

        def op(db: Db) -> bool:
            row = db.one(
                """
                INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
                ON CONFLICT (name) DO UPDATE
                    SET holder = excluded.holder, expires_at = excluded.expires_at
                    WHERE leases.holder = excluded.holder OR leases.expires_at < ?4
                RETURNING holder
                """,
                (name, holder, now + seconds, now - grace),
            )
            return row is not None

        return bool(await self._run(op))

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up at once (on a clean stop), if ``holder`` still holds it."""
        await self._run(
            lambda db: db.run("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
        )

    async def leases(self) -> dict[str, tuple[str, float]]:
        """Every lease: name → (holder, expires_at)."""
        rows = await self._run(lambda db: db.all("SELECT name, holder, expires_at FROM leases"))
        return {row[0]: (row[1], float(row[2])) for row in rows}

    async def holders(self) -> dict[str, ProcessRow]:
        """The registered process holding each lease, by the lease's name (``send:<bot id>``,
        ``updates:<bot id>``); a lease whose holder is not registered is left out."""
        names = await self.leases()
        rows = {row.id: row for row in await self.processes()}
        return {name: rows[holder] for name, (holder, _) in names.items() if holder in rows}

    # -- due feeds -------------------------------------------------------------------------

    async def claim_due_feeds(
        self, now: float, limit: int, *, until: float, skip: Collection[int] = ()
    ) -> list[ClaimedFeed]:
        """Claim up to ``limit`` followed feeds due at ``now`` (soonest first, none in ``skip``)
        that no other process holds; each stays claimed until ``until`` (Unix seconds)."""

        def op(db: Db) -> list[ClaimedFeed]:
            rows = db.all(_CLAIM, (now, limit, until, sorted(skip)))
            claimed = [
                ClaimedFeed(
                    dataclasses.replace(feed_from_row(row), next_fetch_at=float(row["due_at"])),
                    until,
                )
                for row in rows
            ]
            claimed.sort(key=lambda c: (c.feed.next_fetch_at, c.feed.id))
            return claimed

        result: list[ClaimedFeed] = await self._run(op)
        return result

    async def move_feed_leases(self, moves: Mapping[int, tuple[float, float]]) -> set[int]:
        """For each feed id → (lease, next): set ``next_fetch_at`` to ``next`` where it still
        holds ``lease`` (renew with a later lease, or give back the time the feed was due).
        Returns the ids changed; a feed whose check recorded its next time meanwhile is left
        alone."""
        if not moves:
            return set()
        ids = sorted(moves)
        leases = [moves[feed_id][0] for feed_id in ids]
        nexts = [moves[feed_id][1] for feed_id in ids]
        rows = await self._run(lambda db: db.all(_MOVE_LEASES, (ids, leases, nexts)))
        return {int(row[0]) for row in rows}

    async def record_leased(self, checks: Sequence[tuple[FetchSuccess, float]]) -> set[int]:
        """Store the records of many successful checks in one statement, each only where
        its feed's row still holds the lease given with it (the check's claim); the ids
        written. A record whose lease is gone (given back, lapsed, or replaced by a failure
        or another record) is left out: it was routine (``FetchSuccess`` of a feed read
        before and not failing), so leaving it out costs one more fetch. Every record must
        carry a rhythm. The commit does not wait for the WAL flush (``Store.record_success``).
        """
        if not checks:
            return set()
        # In id order, as every statement locking several feed rows (``Db.lock``): the
        # update locks each row as it reaches it in the arrays, and two lockers taking
        # the same rows in different orders deadlock.
        checks = sorted(checks, key=lambda check: check[0].feed_id)
        columns: list[list[object]] = [[] for _ in SUCCESS_TYPES]
        for record, _ in checks:
            if record.rhythm is None:
                raise ValueError(f"feed {record.feed_id}: a batched record needs its rhythm")
            for column, value in zip(columns, success_values(record), strict=True):
                column.append(value)
        ids = [record.feed_id for record, _ in checks]
        leases = [lease for _, lease in checks]
        rows = await self._run(lambda db: db.all(_RECORD_LEASED, (ids, leases, *columns)))
        return {int(row[0]) for row in rows}

    # -- replies and wake-ups --------------------------------------------------------------

    async def queue_reply(self, chat_id: int, payload: dict[str, Any], now: float) -> None:
        """Queue a reply for the sending process and wake it (NOTIFY at commit)."""

        def op(db: Db) -> None:
            db.run(
                "INSERT INTO replies (chat_id, payload, created_at) VALUES (?, ?, ?)",
                (chat_id, json.dumps(payload, ensure_ascii=False), now),
            )
            db.scalar("SELECT pg_notify(?, '')", (REPLIES_CHANNEL,))

        await self._run(op)

    async def take_replies(self, limit: int) -> list[QueuedReply]:
        """Remove and return up to ``limit`` queued replies, oldest first."""

        def op(db: Db) -> list[QueuedReply]:
            rows = db.all(
                """
                DELETE FROM replies WHERE id IN (
                    SELECT id FROM replies ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
                RETURNING id, chat_id, payload, created_at
                """,
                (limit,),
            )
            replies = [
                QueuedReply(int(row[0]), int(row[1]), json.loads(row[2]), float(row[3]))
                for row in rows
            ]
            return sorted(replies, key=lambda reply: reply.id)

        result: list[QueuedReply] = await self._run(op)
        return result

    async def notify(self, channel: str) -> None:
        """Wake the processes listening on ``channel``."""
        await self._run(lambda db: db.scalar("SELECT pg_notify(?, '')", (channel,)))
