"""``newsrelay migrate --to postgresql://…``: move a SQLite instance to PostgreSQL.

The bot must be stopped: the SQLite file's run lock (``bot.runlock``) is held for the
whole copy, so a running bot makes this fail at once, naming it, and no bot can start on
the file meanwhile. Both databases are brought to this program's schema first; the copy
itself is ``bot.store.copy`` (one transaction; an occupied target is refused).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.config import DatabaseSettings, Settings
from bot.runlock import AlreadyRunning, RunLock
from bot.store import Store
from bot.store.copy import TargetNotEmptyError, copy_to_postgres
from bot.store.engine import PostgresEngine


class MigrateError(Exception):
    """Why the instance cannot be moved: one line for stderr."""


async def migrate_instance(
    settings: Settings, target_url: str, *, on_table: Callable[[str, int], None]
) -> dict[str, int]:
    """Copy the SQLite database of ``settings`` into the empty PostgreSQL at ``target_url``.

    Returns rows copied per table. Raises MigrateError (not SQLite, not PostgreSQL, the bot
    is running, the target holds data) and the drivers' errors.
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
    lock = RunLock(path)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise MigrateError(f"{exc}: stop the bot first") from exc
    try:
        source = await Store.open(path)  # brings an older file up to this version
        await source.close()
        store = await Store.open_url(target.url)
        engine = store.engine
        try:
            assert isinstance(engine, PostgresEngine)  # noqa: S101 - a postgresql:// URL
            return await copy_to_postgres(path, engine, on_table=on_table)
        except TargetNotEmptyError as exc:
            raise MigrateError(str(exc)) from exc
        finally:
            await store.close()
    finally:
        lock.release()


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        found = errors()
        if found:
            return str(found[0].get("msg", exc))
    return str(exc)
