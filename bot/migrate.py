"""``newsrelay migrate --to postgresql://…``: move a SQLite instance to PostgreSQL.

The SQLite file's run lock (``bot.runlock``) is held for the whole copy, so no bot can
start on the file meanwhile. A running bot makes this fail at once, naming it, unless
``stop`` is asked for: then the bot is stopped the way an operator would stop it
(``bot.runstop``: SIGTERM, its graceful stop keeps what it has not sent in the outbox)
and the copy starts once it let go of the lock. Both databases are brought to this
program's schema first; the copy itself is ``bot.store.copy`` (one transaction; an
occupied target is refused). After the copy the file is marked as moved
(``RunLock.mark_moved``): a bot started on it again would send its pending messages twice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.config import DatabaseSettings, Settings
from bot.runlock import AlreadyRunning, Moved, RunLock
from bot.runstop import STOP_SECONDS, StopError, stop_and_lock
from bot.store import Store
from bot.store.copy import TargetNotEmptyError, copy_to_postgres, ensure_empty
from bot.store.engine import PostgresEngine


class MigrateError(Exception):
    """Why the instance cannot be moved: one line for stderr."""


async def migrate_instance(
    settings: Settings,
    target_url: str,
    *,
    on_table: Callable[[str, int], None],
    stop: bool = False,
    stop_seconds: float = STOP_SECONDS,
    on_stopping: Callable[[int], None] = lambda _pid: None,
) -> dict[str, int]:
    """Copy the SQLite database of ``settings`` into the empty PostgreSQL at ``target_url``.

    ``stop``: stop the bot running on the file first (SIGTERM; ``on_stopping`` hears its
    pid), waiting up to ``stop_seconds`` for it to let go. Returns rows copied per table.
    Raises MigrateError (not SQLite, not PostgreSQL, the bot is running and not to be
    stopped or cannot be, the file was moved already, the target holds data) and the
    drivers' errors.
    """
    if settings.database.engine != "sqlite":
        raise MigrateError("database.url is not a SQLite database: nothing to migrate from")
    try:
        target = DatabaseSettings(url=target_url)
    except ValueError as exc:
        raise MigrateError(f"--to: {_first_error(exc)}") from None
    if target.engine != "postgresql":
        raise MigrateError("--to must be a postgresql:// URL")
    path = settings.database.path
    if not path.exists():
        raise MigrateError(f"no database at {path}")
    lock = RunLock(path, command="migrate")
    moved = lock.moved_reason()
    if moved is not None:
        raise MigrateError(moved)
    # The target first: a wrong URL, password or right, or an occupied target, is refused
    # before a running bot is stopped for it.
    store = await Store.open_url(target.url)
    try:
        engine = store.engine
        assert isinstance(engine, PostgresEngine)  # noqa: S101 - a postgresql:// URL
        try:
            await ensure_empty(engine)
        except TargetNotEmptyError as exc:
            raise MigrateError(str(exc)) from exc
        try:
            await _take(lock, stop=stop, seconds=stop_seconds, on_stopping=on_stopping)
        except (Moved, StopError) as exc:
            raise MigrateError(str(exc)) from exc
        try:
            return await _copy(lock, path, engine, target, on_table)
        finally:
            lock.release()
    finally:
        await store.close()


async def _copy(
    lock: RunLock,
    path: Path,
    engine: PostgresEngine,
    target: DatabaseSettings,
    on_table: Callable[[str, int], None],
) -> dict[str, int]:
    """Copy the file (``lock`` held) and mark it moved; rows copied per table."""
    source = await Store.open(path)  # brings an older file up to this version
    await source.close()
    try:
        counts = await copy_to_postgres(path, engine, on_table=on_table)
    except TargetNotEmptyError as exc:
        raise MigrateError(str(exc)) from exc
    try:
        lock.mark_moved(target.shown)
    except OSError as exc:
        raise MigrateError(
            f"copied, but cannot write {lock.moved_path} ({exc.strerror}): do not start a"
            f" bot on {path} again"
        ) from exc
    return counts


async def _take(
    lock: RunLock, *, stop: bool, seconds: float, on_stopping: Callable[[int], None]
) -> None:
    """Take ``lock``, stopping the bot that holds it when ``stop`` says so."""
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        if not stop:
            raise MigrateError(
                f"{exc}: stop the bot first, or add --stop to have it stopped (SIGTERM) and"
                " moved at once"
            ) from exc
        await stop_and_lock(lock, exc.holder, seconds=seconds, on_stopping=on_stopping)


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        found = errors()
        if found:
            return str(found[0].get("msg", exc))
    return str(exc)
