"""Moving an instance from SQLite to PostgreSQL (``newsrelay migrate --to postgresql://…``).

Every row of every table the bot keeps is copied as it is, ids included: chats (language,
filter, active or not), feeds (validators, body hash, schedule, health and rhythm),
subscriptions (numbers, filters, options, paused), seen keys, the outbox (pending and
failed rows, with their attempts and not-before times), the delivery tally and the recent
article keys of the cross-feed dedupe. After the switch the bot therefore sends nothing
again (what was seen stays seen) and loses nothing (what was pending is still pending).
The identity sequences then continue after the largest copied id.

The copy is one PostgreSQL transaction reading one SQLite snapshot: a failure half-way
leaves the target as empty as it was. A target that holds any chat, feed, subscription,
seen key or outbox row is refused (:class:`TargetNotEmptyError`): merging two instances is
not what this does. The caller keeps the bot stopped meanwhile (``bot.runlock``).

Both databases are at the same schema version (the caller opened both with this
program, which migrates them), so the columns match; each value is given the target
column's type (SQLite keeps what it is given) and NUL characters, which PostgreSQL's text
cannot hold, are removed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot.store.engine import Db, PostgresEngine

TABLES = ("chats", "feeds", "subscriptions", "seen", "outbox", "deliveries", "chat_articles")
"""In an order that satisfies the foreign keys."""
IDENTITY_TABLES = ("feeds", "subscriptions", "outbox")
CHUNK = 5000
"""Rows read from SQLite and written to PostgreSQL at a time."""
_INTEGERS = frozenset({"smallint", "integer", "bigint"})
_FLOATS = frozenset({"double precision", "real", "numeric"})


class TargetNotEmptyError(Exception):
    """The PostgreSQL database already holds an instance; the message names what."""


def _converter(pg_type: str) -> Callable[[Any], Any]:
    if pg_type in _INTEGERS:
        return lambda value: None if value is None else int(value)
    if pg_type in _FLOATS:
        return lambda value: None if value is None else float(value)
    return lambda value: value.replace("\x00", "") if isinstance(value, str) else value


def _chunks(cursor: sqlite3.Cursor) -> Iterator[list[Any]]:
    while rows := cursor.fetchmany(CHUNK):
        yield rows


def _columns(source: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in source.execute(f"PRAGMA table_info({table})")]


def _target_types(db: Db, table: str) -> dict[str, str]:
    rows = db.all(
        """
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = ?
        """,
        (table,),
    )
    return {str(row[0]): str(row[1]) for row in rows}


def _copy_table(db: Db, source: sqlite3.Connection, table: str) -> int:
    columns = _columns(source, table)
    types = _target_types(db, table)
    missing = [column for column in columns if column not in types]
    if missing:
        raise RuntimeError(f"the PostgreSQL table {table} lacks the columns {missing}")
    convert = [_converter(types[column]) for column in columns]
    names = ", ".join(columns)
    insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608 - names from the schema
    copied = 0
    for rows in _chunks(source.execute(f"SELECT {names} FROM {table}")):  # noqa: S608 - names from the schema
        db.many(insert, [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in rows])
        copied += len(rows)
    return copied


def _refuse_occupied(db: Db) -> None:
    """Raise TargetNotEmptyError, naming them, when tables of the target already hold rows."""
    occupied = [
        table
        for table in ("chats", "feeds", "subscriptions", "seen", "outbox")
        if db.scalar(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 - constant names
    ]
    if occupied:
        raise TargetNotEmptyError(
            f"the PostgreSQL database already holds data (tables {', '.join(occupied)})"
        )


async def ensure_empty(target: PostgresEngine) -> None:
    """Raise TargetNotEmptyError when the target already holds an instance (checked again,
    under table locks, by the copy itself): a move can be refused before anything stops."""
    await target.read(_refuse_occupied)


def _copy_all(db: Db, source: sqlite3.Connection, on_table: Callable[[str, int], None]) -> None:
    # No process may write meanwhile (a bot started on the target too early).
    db.run(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")
    _refuse_occupied(db)
    source.execute("BEGIN")  # one snapshot of the SQLite file for every table
    try:
        for table in TABLES:
            on_table(table, _copy_table(db, source, table))
    finally:
        source.rollback()
    for table in IDENTITY_TABLES:
        db.scalar(
            f"""SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"""  # noqa: S608 - constant names
        )


async def copy_to_postgres(
    sqlite_path: Path,
    target: PostgresEngine,
    *,
    on_table: Callable[[str, int], None] = lambda _table, _rows: None,
) -> dict[str, int]:
    """Copy the SQLite database at ``sqlite_path`` into the empty PostgreSQL ``target``.

    Both must be at this program's schema version (open each with ``Store`` first).
    ``on_table(name, rows)`` hears each table as it is copied. Returns rows per table.
    Raises TargetNotEmptyError for a target with data, sqlite3.Error for an unreadable
    source, and the driver's error (SQLAlchemy's DBAPIError) for the target; on any of
    them the target is left as it was.
    """
    counts: dict[str, int] = {}

    def record(table: str, rows: int) -> None:
        counts[table] = rows
        on_table(table, rows)

    def copy(db: Db) -> None:
        # Read inside the PostgreSQL transaction's own function: the copy streams from
        # one SQLite snapshot into one PostgreSQL transaction, CHUNK rows at a time. It
        # blocks the event loop meanwhile, which only a command line tool may do.
        source = sqlite3.connect(
            f"{sqlite_path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
        )
        try:
            _copy_all(db, source, record)
        finally:
            source.close()

    await target.run(copy, isolation="READ COMMITTED")
    return counts
