"""The two engines under one store: SQLite in a thread of its own, PostgreSQL through
SQLAlchemy with asyncpg. The store's operations are plain functions of a :class:`Db`,
written once, in SQL both engines read; each runs whole in one transaction.

Why this shape (measured with ``bench/store.py`` and a prototype of one feed check):

- SQLite: the standard library's driver in ONE dedicated thread, one connection.
  A store call hands its whole operation (all its statements and the COMMIT) to that
  thread at once, so it costs one thread hand-over however many statements it runs.
  SQLAlchemy's aiosqlite adapter costs several hand-overs per statement (cursor,
  execute, fetch, close) and its statement layer ~45 µs per statement: a feed check
  took 5-6× the CPU of the raw driver, against the issue's "the SQLite path keeps its
  speed". The thread also serialises the operations, which SQLite needs anyway.
- PostgreSQL: SQLAlchemy Core's asyncpg dialect and pool; the same operation function
  runs through ``AsyncConnection.run_sync`` (SQLAlchemy's greenlet bridge), each
  statement one round trip to the server, prepared once per connection.

The SQL is written once, with ``?``/``?NNN`` parameters as SQLite reads them;
:func:`for_postgres` rewrites them to asyncpg's ``$n`` and swaps the few functions the
dialects spell differently (``json_each`` → ``jsonb_array_elements_text``); SQLite's
forms of ``GREATEST`` and ``LEAST`` are ``MAX`` and ``MIN``. Both forms are made once
per statement text and kept.

Transactions: SQLite writes take the write lock up front (``BEGIN IMMEDIATE``), so
they run one after the other as before. PostgreSQL writes run SERIALIZABLE (the same
outcome as one after the other, whatever other connections or processes do) and are
retried from the start on a serialization failure or deadlock; reads run REPEATABLE
READ, READ ONLY: one snapshot for all their statements, never a serialization failure.
The busy writes of every feed check and every delivery (``Engine.write_keyed``) find
their rows by key and lock what orders them against rivals; they run READ COMMITTED.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import itertools
import random
import re
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
Params = Sequence[Any]
EngineName = Literal["sqlite", "postgresql"]

BUSY_TIMEOUT_MS = 5000
PG_POOL_SIZE = 32
"""Connections kept open per process: as many as fetches run at once (``fetch.concurrency``,
32 by default), each of which holds one briefly per store call. A smaller pool made its
overflow connections come and go: every new one costs PostgreSQL a backend start and the
driver a type introspection. ``bench/scaleout.py`` (one process, 2,000 feeds): pool 10+10
264 checks/s with PostgreSQL at 2.10 CPU s per 1,000; pool 32+8 344 checks/s at 0.89 s."""
PG_POOL_OVERFLOW = 8
"""Connections opened beyond the pool at a peak (the sender, commands), closed after use."""
PG_RETRY_SECONDS = 15.0
"""How long (real time) one write may keep meeting serialization failures before the last
one is raised: contention ends as rivals commit, however many attempts that takes."""
PG_BACKOFF_SECONDS = 0.002
"""First pause before a retry; doubled each time (with jitter), at most ``PG_BACKOFF_MAX``."""
PG_BACKOFF_MAX = 0.1
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_UNIQUE_VIOLATION = "23505"
UNIQUE_RETRIES = 5
"""Attempts after a unique violation under SERIALIZABLE. PostgreSQL reports a conflict
with a row a concurrent transaction inserted (two subscribes taking the same next
number) as a unique violation, not always as a serialization failure (PostgreSQL docs,
"Serializable Isolation Level"); a real duplicate fails again and is raised."""


class Row(Protocol):
    """A result row: by column name or by position (``sqlite3.Row`` is one)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Db(ABC):
    """One open transaction: what the store's operation functions run their SQL on."""

    engine: EngineName

    @abstractmethod
    def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of the query."""

    @abstractmethod
    def run(self, sql: str, params: Params = ()) -> int:
        """Execute one statement; the number of rows it changed (-1 when not a change)."""

    @abstractmethod
    def many(self, sql: str, rows: Iterable[Params]) -> None:
        """Execute one statement for each parameter row (nothing for no rows)."""

    @abstractmethod
    def lock(
        self, *, feeds: Iterable[int] = (), chats: Iterable[int] = (), referrers: bool = False
    ) -> None:
        """Hold these rows of ``feeds`` and ``chats`` until the transaction ends, so that
        rivals that lock them too wait: the feeds first, then the chats, each in id order,
        the one order every locker keeps.

        On PostgreSQL the feeds are held ``FOR UPDATE`` and the chats ``FOR NO KEY UPDATE``,
        which does not wait for the KEY SHARE that a foreign key's check takes: a commit
        holding chat X may insert an outbox row for chat Y while another holds Y and
        inserts a row for X (with ``FOR UPDATE`` the two would deadlock). With
        ``referrers`` the chats are held ``FOR UPDATE``, which also waits for every
        transaction that inserted a row referring to them until it commits (an insert that
        must see its rivals' rows of the chat). Source: PostgreSQL's "Row-Level Locks".

        One statement on PostgreSQL, which picks the chats from the snapshot it began with,
        before it waited for the feeds: a chat row that may be committed meanwhile is
        locked in a call of its own. SQLite's write transactions hold the whole file
        already."""

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of the query, or None."""
        return next(iter(self.all(sql, params)), None)

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.one(sql, params)
        return None if row is None else row[0]


# -- the SQL dialects -------------------------------------------------------------------

_PARAM = re.compile(r"\?(\d*)")
_JSON_EACH = re.compile(r"json_each\((\?\d*)\)")


@functools.lru_cache(maxsize=512)
def for_sqlite(sql: str) -> str:
    """The statement as SQLite reads it: ``GREATEST`` and ``LEAST`` are its scalar ``MAX``
    and ``MIN`` of several arguments."""
    return sql.replace("GREATEST(", "MAX(").replace("LEAST(", "MIN(")


@functools.lru_cache(maxsize=512)
def for_postgres(sql: str) -> str:
    """The statement as PostgreSQL (asyncpg) reads it.

    ``?`` and ``?NNN`` become ``$n`` with SQLite's numbering (a bare ``?`` is one more
    than the largest number so far); ``json_each(?)`` over a JSON array of strings
    becomes ``jsonb_array_elements_text``, whose column is also named ``value``. The
    store's SQL holds no ``?`` inside string literals, which this does not look into.
    """
    sql = _JSON_EACH.sub(r"jsonb_array_elements_text(CAST(\1 AS jsonb))", sql)
    largest = 0

    def number(match: re.Match[str]) -> str:
        nonlocal largest
        value = int(match.group(1)) if match.group(1) else largest + 1
        largest = max(largest, value)
        return f"${value}"

    return _PARAM.sub(number, sql)


class SqliteDb(Db):
    """A transaction on the SQLite connection (in the store's thread)."""

    engine: EngineName = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        return self._connection.execute(for_sqlite(sql), params).fetchall()

    def run(self, sql: str, params: Params = ()) -> int:
        return self._connection.execute(for_sqlite(sql), params).rowcount

    def many(self, sql: str, rows: Iterable[Params]) -> None:
        self._connection.executemany(for_sqlite(sql), rows)

    def lock(
        self, *, feeds: Iterable[int] = (), chats: Iterable[int] = (), referrers: bool = False
    ) -> None:
        pass  # BEGIN IMMEDIATE took the database's one write lock


class _PgRow(tuple[Any, ...]):
    """A row of a PostgreSQL result that also answers to column names, like sqlite3.Row."""

    __slots__ = ()
    _index: dict[str, int]

    def __getitem__(self, key: Any, /) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)


@functools.lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[_PgRow]:
    return type("Row", (_PgRow,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


_LOCK_FEEDS = "SELECT id FROM feeds WHERE id = ANY(?) ORDER BY id FOR UPDATE"
_LOCK_CHATS = "SELECT id FROM chats WHERE id = ANY(?) ORDER BY id FOR {mode}"
_LOCK_BOTH = """
    WITH held AS (SELECT id FROM feeds WHERE id = ANY(?1) ORDER BY id FOR UPDATE)
    SELECT id FROM chats WHERE id = ANY(?2) AND (SELECT COUNT(*) FROM held) >= 0
    ORDER BY id FOR {mode}
"""
"""The feeds' rows, then the chats': the condition on ``held`` does not depend on a chat's
row, so PostgreSQL evaluates it once, before it reads the chats (a one-time filter over an
init plan), and the CTE locks every feed row before the first chat row is locked."""


def pg_lock_statement(
    *, feeds: Iterable[int], chats: Iterable[int], referrers: bool
) -> tuple[str, Params] | None:
    """The one statement of ``Db.lock`` on PostgreSQL and its parameters (arrays of ids,
    sorted), or None when there is nothing to lock."""
    feed_ids, chat_ids = sorted(set(feeds)), sorted(set(chats))
    mode = "UPDATE" if referrers else "NO KEY UPDATE"
    if feed_ids and chat_ids:
        return _LOCK_BOTH.format(mode=mode), (feed_ids, chat_ids)
    if feed_ids:
        return _LOCK_FEEDS, (feed_ids,)
    if chat_ids:
        return _LOCK_CHATS.format(mode=mode), (chat_ids,)
    return None


class PgDb(Db):
    """A transaction on a pooled PostgreSQL connection (inside SQLAlchemy's greenlet)."""

    engine: EngineName = "postgresql"

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        result = self._connection.exec_driver_sql(for_postgres(sql), tuple(params))
        make = _row_class(tuple(result.keys()))
        return [make(row) for row in result.all()]

    def run(self, sql: str, params: Params = ()) -> int:
        return int(self._connection.exec_driver_sql(for_postgres(sql), tuple(params)).rowcount)

    def many(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [tuple(row) for row in rows]
        if batch:
            self._connection.exec_driver_sql(for_postgres(sql), batch)

    def lock(
        self, *, feeds: Iterable[int] = (), chats: Iterable[int] = (), referrers: bool = False
    ) -> None:
        statement = pg_lock_statement(feeds=feeds, chats=chats, referrers=referrers)
        if statement is not None:
            self.all(*statement)


# -- the engines --------------------------------------------------------------------------


class Engine(ABC):
    """Runs operation functions in transactions; one per open store."""

    name: EngineName

    @abstractmethod
    async def write(self, operation: Callable[..., T], *args: Any) -> T:
        """``operation(db, *args)`` in one write transaction: all of it commits, or none."""

    async def write_keyed(self, operation: Callable[..., T], *args: Any) -> T:
        """``operation(db, *args)`` in one write transaction that finds its rows by key and,
        before it reads anything a rival could change, locks the rows that order it
        against those rivals (``Db.lock``): all of it commits, or none.

        On PostgreSQL it runs READ COMMITTED, where each statement sees what committed
        before it began, so the lock makes it serial with its rivals without SERIALIZABLE's
        predicate locks. Those locks are taken on whole index pages: the fetchers' writes
        to unrelated feeds, concurrent in one process and across processes, failed to
        serialize in about 440 of 1,000 checks (``bench/scaleout.py``) and were retried.
        SQLite runs every write one after the other anyway.
        """
        return await self.write(operation, *args)

    @abstractmethod
    async def read(self, operation: Callable[..., T], *args: Any) -> T:
        """``operation(db, *args)`` on one consistent snapshot, changing nothing."""

    async def statement(
        self, operation: Callable[[Db], T], *, write: bool, keyed: bool = False
    ) -> T:
        """``operation(db)`` that runs ONE statement, atomic by itself: no transaction of its
        own where the engine does not need one (SQLite; PostgreSQL reads, and ``keyed``
        writes: see ``write_keyed``)."""
        return await (self.write(operation) if write else self.read(operation))

    @abstractmethod
    async def close(self) -> None:
        """Close the connections; the engine cannot be used after."""


class SqliteEngine(Engine):
    """One SQLite file, one connection, one thread that runs every operation in turn.

    WAL mode with ``synchronous=NORMAL``: a committed transaction is in the WAL before
    COMMIT returns, so an application crash (even SIGKILL) loses nothing committed;
    only a power loss or OS crash may roll back the last few commits, and never
    corrupts the file. Foreign keys are on; ``busy_timeout`` lets a CLI command
    (`newsrelay stats`) and the running bot share the file.
    """

    name: EngineName = "sqlite"

    def __init__(self, executor: concurrent.futures.ThreadPoolExecutor, db: SqliteDb) -> None:
        self._executor = executor
        self._db = db
        self._connection = db._connection

    @classmethod
    async def open(cls, path: Path) -> SqliteEngine:
        """Open (creating the file and its folder); raises sqlite3.Error or OSError."""
        path.parent.mkdir(parents=True, exist_ok=True)
        executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sqlite")
        loop = asyncio.get_running_loop()
        try:
            connection = await loop.run_in_executor(executor, _sqlite_connect, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(executor, SqliteDb(connection))

    async def _in_thread(self, job: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, job)

    async def write(self, operation: Callable[..., T], *args: Any) -> T:
        return await self._in_thread(lambda: self._transaction("BEGIN IMMEDIATE", operation, args))

    async def read(self, operation: Callable[..., T], *args: Any) -> T:
        return await self._in_thread(lambda: self._transaction("BEGIN", operation, args))

    async def statement(
        self, operation: Callable[[Db], T], *, write: bool, keyed: bool = False
    ) -> T:
        # In autocommit mode one statement is its own transaction: BEGIN and COMMIT would
        # cost two more statements for nothing.
        return await self._in_thread(lambda: operation(self._db))

    def _transaction(self, begin: str, operation: Callable[..., T], args: tuple[Any, ...]) -> T:
        self._connection.execute(begin)
        try:
            result = operation(self._db, *args)
        except BaseException:
            self._connection.rollback()
            raise
        self._connection.commit()
        return result

    async def create_function(
        self, name: str, arguments: int, function: Callable[..., Any]
    ) -> None:
        """Make a deterministic Python function callable from this connection's SQL."""
        await self._in_thread(
            lambda: self._connection.create_function(name, arguments, function, deterministic=True)
        )

    async def script(self, sql: str) -> None:
        """Run a script of statements as written (migrations bring their own BEGIN/COMMIT)."""
        try:
            await self._in_thread(lambda: self._connection.executescript(sql))
        except BaseException:
            # executescript stops where a statement failed, maybe inside the script's own
            # transaction: roll it back (a no-op when none is open).
            await self._in_thread(self._connection.rollback)
            raise

    async def close(self) -> None:
        try:
            await self._in_thread(self._connection.close)
        finally:
            self._executor.shutdown(wait=False)


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        connection.close()
        raise
    return connection


class PostgresEngine(Engine):
    """A pool of connections to one PostgreSQL database, through SQLAlchemy and asyncpg."""

    name: EngineName = "postgresql"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def create(cls, url: str) -> PostgresEngine:
        """An engine for ``url`` (``postgresql://``, ``postgres://`` or ``postgresql+asyncpg://``).

        Connects lazily: the first operation raises when the server cannot be reached.
        """
        from sqlalchemy.engine import make_url  # noqa: PLC0415 - only for PostgreSQL
        from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

        target = make_url(url).set(drivername="postgresql+asyncpg")
        # SQLAlchemy hands the URL's options to asyncpg as strings; asyncpg adds its
        # ``timeout`` to a float. (Which options a URL may hold: bot/config.py.)
        connect_args: dict[str, Any] = {}
        if "timeout" in target.query:
            connect_args["timeout"] = float(str(target.query["timeout"]))
            target = target.difference_update_query(["timeout"])
        engine = create_async_engine(
            target,
            connect_args=connect_args,
            pool_size=PG_POOL_SIZE,
            max_overflow=PG_POOL_OVERFLOW,
            pool_pre_ping=False,
        )
        return cls(engine)

    async def write(self, operation: Callable[..., T], *args: Any) -> T:
        return await self.run(operation, *args, isolation="SERIALIZABLE")

    async def write_keyed(self, operation: Callable[..., T], *args: Any) -> T:
        return await self.run(operation, *args, isolation="READ COMMITTED")

    async def read(self, operation: Callable[..., T], *args: Any) -> T:
        return await self.run(operation, *args, isolation="REPEATABLE READ", read_only=True)

    async def statement(
        self, operation: Callable[[Db], T], *, write: bool, keyed: bool = False
    ) -> T:
        if (
            write and not keyed
        ):  # SERIALIZABLE even alone: its conditions may read rows others change
            return await self.write(operation)
        return await self.run(operation, isolation="AUTOCOMMIT")

    async def run(
        self,
        operation: Callable[..., T],
        *args: Any,
        isolation: str = "SERIALIZABLE",
        read_only: bool = False,
    ) -> T:
        """``operation(db, *args)`` in one transaction at ``isolation``; retried from the start
        on a serialization failure or deadlock for up to ``PG_RETRY_SECONDS``."""
        from sqlalchemy.exc import DBAPIError  # noqa: PLC0415 - only for PostgreSQL

        options: dict[str, Any] = {"isolation_level": isolation}
        if read_only:
            options["postgresql_readonly"] = True

        def body(connection: Connection) -> T:
            if isolation == "AUTOCOMMIT":  # one statement, its own transaction
                return operation(PgDb(connection), *args)
            with connection.begin():
                return operation(PgDb(connection), *args)

        deadline = time.monotonic() + PG_RETRY_SECONDS
        for attempt in itertools.count():
            try:
                async with self._engine.connect() as connection:
                    configured = await connection.execution_options(**options)
                    return await configured.run_sync(body)
            except DBAPIError as exc:
                state = _sqlstate(exc)
                concurrent_insert = (
                    state == _UNIQUE_VIOLATION
                    and isolation == "SERIALIZABLE"
                    and attempt < UNIQUE_RETRIES
                )
                retryable = state in _RETRY_SQLSTATES or concurrent_insert
                if not retryable or time.monotonic() > deadline:
                    raise
            # Retrying at once would meet the same rivals mid-flight again (twenty writers
            # of one chat, retried together, lose together). The pause is in real time on
            # purpose, not on the bot's Clock: it waits for other database sessions.
            pause = min(PG_BACKOFF_MAX, PG_BACKOFF_SECONDS * 2 ** min(attempt, 16))
            await asyncio.sleep(random.uniform(0, pause))  # noqa: S311 - jitter, not secrecy
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def script(self, statements: Iterator[str] | Sequence[str]) -> None:
        """Run DDL statements in one transaction (PostgreSQL's DDL is transactional)."""

        def body(db: Db) -> None:
            for statement in statements:
                db.run(statement)

        await self.run(body, isolation="READ COMMITTED")

    async def close(self) -> None:
        await self._engine.dispose()


def _sqlstate(exc: Exception) -> str | None:
    """The SQLSTATE of a driver error wrapped by SQLAlchemy, if it carries one."""
    original = getattr(exc, "orig", None)
    for candidate in (original, getattr(original, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def database_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the database cannot be used" (unreachable, refused, locked,
    corrupt, too new): the driver's, SQLAlchemy's and the OS's; for one-line failures."""
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415 - imported when needed

    from bot.store.schema import SchemaTooNewError  # noqa: PLC0415 - schema imports this module

    return (OSError, sqlite3.Error, SQLAlchemyError, SchemaTooNewError)


def error_reason(exc: BaseException) -> str:
    """A one-line reason for a database error: the driver's own words, without SQLAlchemy's
    statement, parameters and documentation link."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
