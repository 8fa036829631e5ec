"""``newsrelay migrate --stop``: which running bot may be stopped from here, and what is
said when it may not or does not stop; and the mark that keeps a moved file from running.

The bot holding the lock is played by a small child process that takes the real run lock
(``bot.runlock``) and answers a line on stdin with ``alive``: a child that got SIGTERM is
gone before it can answer, so ``alive()`` tells without waiting whether it was signalled.
The moving itself, from a real running bot, is in ``tests/test_migrate_pg.py``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.app import Relay, StartupError
from bot.config import load_settings
from bot.migrate import MigrateError, migrate_instance
from bot.runlock import Moved, RunLock
from bot.store import Store
from tests.postgres import DatabaseFactory
from tests.processes import clean_environ, run_cli, write_config

PASSWORD = "s3cret-pw"  # made up (the test server trusts local users): never shown


@pytest.fixture
async def target(postgres_database: DatabaseFactory) -> str:
    """An empty PostgreSQL database to move to (checked before any bot is stopped), its URL
    with a password in it."""
    url = make_url(await postgres_database()).set(password=PASSWORD)
    return url.render_as_string(hide_password=False)


_CHILD = """
import os, signal, socket, sys
from pathlib import Path
from bot.runlock import Moved, RunLock
from bot.store import Store

lock, mode = RunLock(Path(sys.argv[1])), sys.argv[2]
if mode != "idle":
    lock.acquire()
if mode == "deaf":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode == "restarted":  # as if a service manager started the bot again at once
    def restarted(_signum, _frame):
        host = socket.gethostname()
        lock.path.write_text(f"newsrelay run pid {os.getppid()} on {host} since now\\n")
    signal.signal(signal.SIGTERM, restarted)
print("ready", flush=True)
for _line in sys.stdin:
    print("alive", flush=True)
"""


class Child:
    """A child process: ``hold`` the database's run lock, ``idle`` (hold nothing), ``deaf``
    (hold it and ignore SIGTERM) or ``restarted`` (hold it; on SIGTERM the lock file names
    another process)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, database: Path, mode: str) -> Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, str(database), mode,
            env=clean_environ(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        child = cls(process)
        assert await child._line() == "ready"
        return child

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _line(self) -> str:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=10)
        return line.decode().strip()

    async def alive(self) -> bool:
        """Whether it still runs (it answers); False once a signal ended it."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(b"?\n")
            await self.process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            return False
        return await self._line() == "alive"

    async def end(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


@pytest.fixture
async def children() -> AsyncIterator[Callable[[Path, str], Awaitable[Child]]]:
    """Start children (``Child.start``); all are killed at the end."""
    started: list[Child] = []

    async def start(database: Path, mode: str) -> Child:
        child = await Child.start(database, mode)
        started.append(child)
        return child

    yield start
    for child in started:
        await child.end()


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "newsrelay.db"
    path.parent.mkdir()
    path.touch()  # every refusal here comes before the file is opened
    return path


def _name_in_lock(database: Path, text: str) -> None:
    """Make the lock file name someone else (the lock itself stays with its holder)."""
    RunLock(database).path.write_text(text + "\n")


async def _migrate_stopping(database: Path, target: str, *, seconds: float = 5) -> str:
    """Run the move with ``stop``, waiting up to ``seconds`` for the bot; the one line of
    its refusal."""
    settings = load_settings(environ={}, overrides={"database": {"url": f"sqlite:///{database}"}})
    moving = migrate_instance(
        settings, target, on_table=lambda _t, _n: None, stop=True, stop_seconds=seconds
    )
    with pytest.raises(MigrateError) as refused:
        await asyncio.wait_for(moving, timeout=seconds + 5)
    line = str(refused.value)
    assert "\n" not in line
    return line


async def _cli(tmp_path: Path, database: Path, target: str, *flags: str) -> str:
    """``newsrelay migrate``'s one stderr line; it must fail with exit code 1."""
    config = write_config(tmp_path, "c.yaml", {"database": {"url": f"sqlite:///{database}"}})
    code, _, err = await run_cli(tmp_path, "migrate", "-c", str(config), "--to", target, *flags)
    assert code == 1, err
    [line] = err.strip().splitlines()
    assert PASSWORD not in line
    return line


async def test_a_running_bot_is_refused_without_stop_naming_it(
    tmp_path: Path, children: Callable[[Path, str], Awaitable[Child]], target: str
) -> None:
    """Without ``--stop`` the running bot is named and left alone; the line says ``--stop``."""
    database = _database(tmp_path)
    bot = await children(database, "hold")
    line = await _cli(tmp_path, database, target)
    assert f"is in use by newsrelay run pid {bot.pid} on {socket.gethostname()}" in line
    assert "stop the bot first, or add --stop" in line
    assert await bot.alive()


async def test_a_bot_on_another_machine_is_not_signalled(
    tmp_path: Path, children: Callable[[Path, str], Awaitable[Child]], target: str
) -> None:
    """The lock file says the bot runs elsewhere (a shared network folder): its pid means
    nothing here, so nothing is signalled, even a process here that holds the lock."""
    database = _database(tmp_path)
    bot = await children(database, "hold")
    _name_in_lock(database, f"newsrelay run pid {bot.pid} on elsewhere.example since today")
    line = await _cli(tmp_path, database, target, "--stop")
    assert line == (
        f"newsrelay: newsrelay pid {bot.pid} runs on elsewhere.example, not on this machine"
        f" ({socket.gethostname()}): stop it there, then run migrate again"
    )
    assert await bot.alive()


@pytest.mark.parametrize(
    "named", ["a process that does not hold the lock", "a migration", "no one"]
)
async def test_only_the_process_holding_the_lock_as_a_bot_is_signalled(
    tmp_path: Path, children: Callable[[Path, str], Awaitable[Child]], target: str, named: str
) -> None:
    """The pid in the lock file must be a running bot that holds the lock here: another
    process with that pid (a container's pid seen from the host), a migration under way,
    or a file that names no one is refused in one line, and nobody is signalled."""
    database = _database(tmp_path)
    holder = await children(database, "hold")
    bystander = await children(database, "idle")
    here = socket.gethostname()
    text, said = {
        "a process that does not hold the lock": (
            f"newsrelay run pid {bystander.pid} on {here} since today",
            f"newsrelay pid {bystander.pid}, named in {RunLock(database).path}, is not the"
            " process holding it here",
        ),
        "a migration": (
            f"newsrelay migrate pid {holder.pid} on {here} since today",
            f"a newsrelay migrate (pid {holder.pid}) holds {RunLock(database).path}: wait for it",
        ),
        "no one": ("", f"cannot tell which process holds {RunLock(database).path}"),
    }[named]
    _name_in_lock(database, text)
    assert said in await _migrate_stopping(database, target)
    assert await holder.alive()
    assert await bystander.alive()


async def test_a_bot_that_does_not_stop_in_time_is_reported(
    tmp_path: Path, children: Callable[[Path, str], Awaitable[Child]], target: str
) -> None:
    """A bot that ignores SIGTERM: after the bound, one line says so; nothing was copied."""
    database = _database(tmp_path)
    bot = await children(database, "deaf")
    line = await _migrate_stopping(database, target, seconds=0.2)
    assert line == (
        f"newsrelay pid {bot.pid} did not stop within 0.2 s (SIGTERM sent): run migrate"
        " again once it has stopped"
    )
    assert await bot.alive()


async def test_a_bot_restarted_by_a_service_manager_is_named(
    tmp_path: Path, children: Callable[[Path, str], Awaitable[Child]], target: str
) -> None:
    """When another process holds the lock after the stopped one, the move stops at once
    naming it (waiting could only end in a timeout)."""
    database = _database(tmp_path)
    bot = await children(database, "restarted")
    line = await _migrate_stopping(database, target)
    # The child's lock file now names its parent, this process.
    assert line.startswith(
        f"newsrelay pid {bot.pid} stopped, but newsrelay run pid {os.getpid()} on"
    )
    assert line.endswith(
        "took the database after it (a service manager restarting the bot?): stop it there,"
        " then run migrate again"
    )


async def test_a_moved_database_refuses_to_run_until_the_mark_is_deleted(tmp_path: Path) -> None:
    """After a move the file's mark makes ``run`` fail at once, naming where the instance
    went (without its password); deleting the mark lets a bot on the file again."""
    database = tmp_path / "newsrelay.db"
    lock = RunLock(database, command="migrate")
    lock.acquire()
    lock.mark_moved("postgresql://newsrelay:***@db.example:5432/newsrelay")
    lock.release()
    settings = load_settings(
        environ={},
        overrides={"telegram": {"token": "1:x"}, "database": {"url": f"sqlite:///{database}"}},
    )
    with pytest.raises(StartupError) as refused:
        await asyncio.wait_for(Relay(settings).start(), timeout=10)
    assert str(refused.value).startswith(
        f"the database {database} was moved to postgresql://newsrelay:***@db.example:5432/"
        "newsrelay on "
    )
    assert str(refused.value).endswith(
        f"by newsrelay migrate: set database.url to that database (delete {lock.moved_path}"
        " to run a bot on this file again)"
    )
    assert not database.exists()  # refused before the store was opened
    lock.moved_path.unlink()
    again = RunLock(database)
    again.acquire()
    again.release()


async def test_an_occupied_target_is_refused_before_the_bot_is_stopped(
    tmp_path: Path, children: Callable[[Path, str], Awaitable[Child]], target: str
) -> None:
    """A target that already holds an instance (or cannot be opened) is found out first:
    the running bot is not stopped for a move that cannot happen."""
    database = _database(tmp_path)
    bot = await children(database, "hold")
    occupied = await Store.open_url(target)
    await occupied.ensure_chat(1)
    await occupied.close()
    line = await _migrate_stopping(database, target)
    assert line.startswith("the PostgreSQL database already holds data")
    assert await bot.alive()


@pytest.mark.parametrize("kind", ["symbolic link", "named pipe"])
async def test_a_lock_file_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    """Whoever may write the data folder must not make a bot (maybe run as root) write
    through a link elsewhere, block on a pipe, or read a holder's name from one."""
    database = _database(tmp_path)
    lock = RunLock(database)
    elsewhere = tmp_path / "important.conf"
    elsewhere.write_text("keep me\n")
    if kind == "symbolic link":
        lock.path.symlink_to(elsewhere)
    else:
        os.mkfifo(lock.path)
    with pytest.raises(OSError):  # noqa: PT011 - the kind of refusal is the OS's
        lock.acquire()
    assert elsewhere.read_text() == "keep me\n"


async def test_a_moved_mark_that_is_a_link_refuses_and_is_never_written_through(
    tmp_path: Path,
) -> None:
    """A dangling link as the mark still refuses the file (it is not "not moved"), and the
    mark is never written through a link."""
    database = _database(tmp_path)
    lock = RunLock(database, command="migrate")
    planted = tmp_path / "created-by-migrate"
    lock.moved_path.symlink_to(planted)
    with pytest.raises(Moved):
        lock.acquire()
    lock.moved_path.unlink()
    lock.acquire()
    lock.moved_path.symlink_to(planted)
    with pytest.raises(OSError):  # noqa: PT011
        lock.mark_moved("postgresql://newsrelay:***@db.example/newsrelay")
    lock.release()
    assert not planted.exists()
