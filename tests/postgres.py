"""A real PostgreSQL for the tests: one server per test run (shared by its xdist workers), a
fresh database per use.

The server comes from ``pgserver`` (PyPI, in the ``test`` extra): PostgreSQL's own
binaries in a wheel, started with ``initdb``/``pg_ctl`` in a temporary folder, listening
on a Unix socket only (so the loopback guard of ``tests/offline.py`` lets it through).
Run as root, pgserver runs the server as a system user ``pgserver`` that it creates, and
widens the read/traverse bits of the folders above its binaries and the data folder.
The server is tuned for throwaway data (no fsync, no synchronous commit): a test's
database never outlives the session.

Every test that needs the server and cannot get it (pgserver missing, the server does
not start) is skipped with the one reason :data:`POSTGRES_MISSING` plus the cause, so
that ``-ra`` groups them into one line; with ``TEST_REQUIRE_POSTGRES`` set to anything
but ``""`` or ``"0"`` (``.ci/run`` sets it) they fail instead.

``TEST_POSTGRES_URL`` names an existing server instead (``postgresql://user:pass@host/db``,
a role allowed to create databases); pgserver is not started then.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "TEST_REQUIRE_POSTGRES"
URL_ENV = "TEST_POSTGRES_URL"
POSTGRES_MISSING = "PostgreSQL not available for the PostgreSQL tests"
START_TIMEOUT_SECONDS = 60
_TUNING = (
    # Throwaway data: a crash of the test server may lose it, and that is fine.
    "ALTER SYSTEM SET fsync = off",
    "ALTER SYSTEM SET synchronous_commit = off",
    "ALTER SYSTEM SET full_page_writes = off",
    "SELECT pg_reload_conf()",
)


@dataclass(frozen=True)
class PostgresServer:
    """A running server: ``admin_url`` reaches its ``postgres`` database as a superuser."""

    admin_url: str
    started_seconds: float

    def url_of(self, database: str) -> str:
        """The URL of ``database`` on this server (same user, host and options)."""
        from sqlalchemy.engine import make_url  # noqa: PLC0415 - only once a server runs

        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Unavailable:
    """Why no server could be had (the cause, for the skip line)."""

    cause: str


def require_postgres() -> bool:
    """Whether a missing server fails the PostgreSQL tests instead of skipping them."""
    return os.environ.get(REQUIRE_ENV, "") not in {"", "0"}


def _missing(cause: str) -> None:
    message = f"{POSTGRES_MISSING}: {cause}"
    if require_postgres():
        pytest.fail(f"{message} ({REQUIRE_ENV} is set)", pytrace=False)
    pytest.skip(message)


async def _admin(url: str, statements: tuple[str, ...]) -> None:
    """Run ``statements`` one by one, outside any transaction, on ``url``."""
    import asyncpg  # noqa: PLC0415 - only when a PostgreSQL test runs

    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _asyncpg_dsn(url: str) -> str:
    """asyncpg's form of a SQLAlchemy-style URL (it reads ``?host=/socket/dir`` itself)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _start_pgserver(folder: Path) -> tuple[Any, str]:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root in a container); harmless.
        warnings.simplefilter("ignore")
        import pgserver  # noqa: PLC0415 - optional: the tests skip without it

        server = pgserver.get_server(folder, cleanup_mode="delete")
    return server, str(server.get_uri())


def _shared_data_folder() -> Path | None:
    """The data folder of the server this run's xdist workers share; None outside xdist.

    pgserver shares one server among the processes that ask for the same data folder
    (the first starts it, under its lock; each records its pid there) and the last to let
    go stops it and deletes the folder. One server instead of one per worker saves the
    workers' ``initdb`` and start-up (~1 s of CPU each). The name is short: the server's
    Unix socket lives in the folder, and a socket path has at most 107 bytes.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")
    if not run:
        return None
    folder = Path(tempfile.gettempdir()) / f"newsrelay-pg-{run[:16]}"
    # Made here: pgserver's own mkdir fails when a second worker gets there first.
    folder.mkdir(exist_ok=True)
    return folder


def _start_shared(folder: Path) -> tuple[Any, str]:
    """Start (or join) the shared server; once more if the folder went meanwhile (a
    worker that was the last user stopped the server and deleted it as this one began)."""
    try:
        return _start_pgserver(folder)
    except Exception:  # the second attempt raises what is wrong for good
        folder.mkdir(exist_ok=True)
        return _start_pgserver(folder)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | Unavailable]:
    """The session's server, started on first use; :class:`Unavailable` when it cannot be."""
    configured = os.environ.get(URL_ENV, "")
    if configured:
        try:
            asyncio.run(_admin(configured, ("SELECT 1",)))
        except Exception as exc:  # unreachable, refused, bad password: all "no server"
            yield Unavailable(f"{URL_ENV} names a server that does not answer ({exc})")
            return
        yield PostgresServer(admin_url=configured, started_seconds=0.0)
        return
    shared = _shared_data_folder()
    # Alone (no xdist): a folder of its own, removed here after the server.
    folder = Path(tempfile.mkdtemp(prefix="newsrelay-pg-")) if shared is None else None
    started = time.perf_counter()
    try:
        if shared is not None:
            server, url = _start_shared(shared)
        else:
            assert folder is not None
            server, url = _start_pgserver(folder / "data")
        asyncio.run(_admin(url, _TUNING))
    except ImportError:
        _remove(folder)
        yield Unavailable("the pgserver package is not installed (pip install -e '.[test]')")
        return
    except Exception as exc:  # any failure to start means "no server", with its cause
        _remove(folder)
        yield Unavailable(f"pgserver could not start a server ({type(exc).__name__}: {exc})")
        return
    try:
        yield PostgresServer(admin_url=url, started_seconds=time.perf_counter() - started)
    finally:
        # A shared server stops (and its folder goes) when its last worker lets go.
        server.cleanup()
        _remove(folder)


def _remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


DatabaseFactory = Callable[[], Awaitable[str]]
_numbers = itertools.count()
_free: list[str] = []
"""Databases of this process's server that earlier tests are done with (see ``_reuse``)."""
_EMPTY_TABLES = """
    SELECT string_agg(format('%I.%I', schemaname, tablename), ', ')
    FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version'
"""


async def _reuse(url: str) -> bool:
    """Empty the database at ``url`` for its next test: every table but the schema version,
    ids starting at 1 again. Much faster than ``CREATE DATABASE`` (a fresh copy of a
    template costs 0.1-0.4 s here), and as good: the schema is the current one. False
    when that cannot be done at once (a connection of the last test still holds a lock)."""
    import asyncpg  # noqa: PLC0415 - only when a PostgreSQL test runs

    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute("SET lock_timeout = '1s'")
        tables = await connection.fetchval(_EMPTY_TABLES)
        if tables:
            await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    except asyncpg.PostgresError:
        return False
    finally:
        await connection.close()
    return True


@pytest.fixture
def postgres_database(
    postgres_server: PostgresServer | Unavailable,
) -> Iterator[DatabaseFactory]:
    """Make fresh databases on the session's server; returns their URLs.

    Each call gives a database no other test uses meanwhile, empty of rows: one an
    earlier test of this process is done with, emptied (``_reuse``), or a new one
    (``CREATE DATABASE`` from the empty ``template0``). A reused one already has the
    current schema, which ``Store.open_url`` then finds up to date; a test of how the
    schema is first created asks for ``fresh=True``. Skips (or fails, see
    :data:`REQUIRE_ENV`) when there is no server.
    """
    if isinstance(postgres_server, Unavailable):
        _missing(postgres_server.cause)
    assert isinstance(postgres_server, PostgresServer)
    server = postgres_server
    taken: list[str] = []

    async def make(*, fresh: bool = False) -> str:
        while _free and not fresh:
            name = _free.pop()
            if await _reuse(server.url_of(name)):
                taken.append(name)
                return server.url_of(name)
        name = f"t{os.getpid()}_{next(_numbers)}"
        await _admin(server.admin_url, (f'CREATE DATABASE "{name}" TEMPLATE template0',))
        taken.append(name)
        return server.url_of(name)

    yield make
    _free.extend(taken)
