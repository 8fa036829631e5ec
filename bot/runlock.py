"""One running bot per SQLite database: an exclusive lock on a file beside it.

Two processes on one SQLite database would both poll Telegram with one token
(each getUpdates ends the other's with 409 Conflict) and both send the outbox.
``newsrelay run`` therefore holds ``flock(LOCK_EX | LOCK_NB)`` on ``<database>.lock``
while it runs, and writes its command, pid, host and start time into the file, so that
a second process fails at once naming the first (``newsrelay migrate`` holds the same
lock while it copies). The kernel drops the lock when the process ends, however it ends
(SIGKILL included): a stale file never blocks a start. (``flock`` is local to one
machine: a database on a network file system shared by two machines is not protected;
several processes on one database is PostgreSQL's job.)

A database moved to PostgreSQL by ``newsrelay migrate`` gets ``<database>.moved`` beside
it, saying where to: from then on the lock refuses every run on the file (``Moved``), so
that restarting the old instance cannot send its pending messages a second time.
Deleting that file undoes it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import socket
import stat
import time
from dataclasses import dataclass
from pathlib import Path

_HOLDER = re.compile(r"newsrelay (?:(?P<command>[a-z-]+) )?pid (?P<pid>\d+) on (?P<host>\S+)")


@dataclass(frozen=True)
class Holder:
    """Who the lock file says holds the lock: its text, and the parts read from it
    (None when the text does not say: a file being rewritten, or written by hand)."""

    text: str
    command: str | None
    """``run`` or ``migrate``; None in files written before the command was recorded."""
    pid: int | None
    host: str | None
    file: tuple[int, int] | None = None
    """(device, inode) of the lock file the text was read from: the file the holder must
    hold open (``bot.runstop``), whatever the path names by the time anyone looks."""

    @classmethod
    def read(cls, text: str, file: tuple[int, int] | None = None) -> Holder:
        """The holder named by the lock file's ``text`` (control characters shown as ?)."""
        text = _printable(text.strip())
        found = _HOLDER.match(text)
        if found is None:
            return cls(text or "another process", None, None, None, file)
        return cls(text, found["command"], int(found["pid"]), found["host"], file)


def _printable(text: str) -> str:
    """``text`` without control characters: a hand-written file must not drive the terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _open_regular(path: Path, flags: int) -> int:
    """A descriptor on the regular file ``path`` (created if ``flags`` say so), never
    through a symbolic link, never a FIFO or device: someone who may write the data folder
    must not make a root-run bot write elsewhere or block on a pipe. Raises OSError."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, f"{path} is not a regular file")
    return fd


class AlreadyRunning(Exception):  # noqa: N818 - reads as the situation it names
    """Another process holds the lock; the message names it, ``holder`` says who it is."""

    def __init__(self, message: str, holder: Holder) -> None:
        super().__init__(message)
        self.holder = holder


class Moved(Exception):  # noqa: N818 - reads as the situation it names
    """The database was moved to PostgreSQL: no bot may run on the file any more."""


class RunLock:
    """The lock of one database; ``acquire`` then ``release``."""

    def __init__(self, database: Path, command: str = "run") -> None:
        """``command``: what the holder is doing, written into the file (``run``, ``migrate``)."""
        self.database = database
        self.command = command
        self.path = database.with_name(database.name + ".lock")
        self.moved_path = database.with_name(database.name + ".moved")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock and record who holds it.

        Raises AlreadyRunning (naming the holder) when another process holds it, Moved
        when the database was moved to PostgreSQL, and OSError when the lock file cannot
        be opened.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = _open_regular(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            opened = os.fstat(fd)
            holder = Holder.read(
                os.read(fd, 512).decode("utf-8", "replace"), (opened.st_dev, opened.st_ino)
            )
            os.close(fd)
            raise AlreadyRunning(
                f"the database {self.database} is in use by {holder.text} (lock file {self.path})",
                holder,
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # Read under the lock: a migration writes the file while it holds the lock.
        moved = self.moved_reason()
        if moved is not None:
            os.close(fd)
            raise Moved(moved)
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        os.ftruncate(fd, 0)
        me = f"newsrelay {self.command} pid {os.getpid()} on {socket.gethostname()}"
        os.write(fd, f"{me} since {started}\n".encode())
        self._fd = fd

    def moved_reason(self) -> str | None:
        """Why no bot may use this database any more, in one line naming where it went
        (what ``acquire`` raises Moved with); None when it was not moved. Reads
        ``<database>.moved`` without the lock: a command that takes no lock (the
        command line's ``import-opml``, ``stats``) asks this alone. A mark that is not a
        readable regular file (a link, a pipe) counts as a mark."""
        moved = self._moved_note()
        if moved is None:
            return None
        return (
            f"the database {self.database} was {moved}: set database.url to that"
            f" database (delete {self.moved_path} to run a bot on this file again)"
        )

    def _moved_note(self) -> str | None:
        if not os.path.lexists(self.moved_path):
            return None
        try:
            fd = _open_regular(self.moved_path, os.O_RDONLY)
        except OSError:
            return "moved (its mark is not a readable file)"  # a link or a pipe: refuse too
        try:
            text = _printable(os.read(fd, 4096).decode("utf-8", "replace").split("\n", 1)[0])
        finally:
            os.close(fd)
        return text.strip() or "moved"

    def mark_moved(self, where: str) -> None:
        """Refuse every later run on this database: it now lives at ``where`` (a URL
        without its password). Call while holding the lock; raises OSError."""
        moved = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        text = (
            f"moved to {where} on {moved} by newsrelay migrate\n"
            "A bot started on this SQLite file would send its pending messages again.\n"
            "Delete this file to run a bot on it anyway (going back from PostgreSQL).\n"
        )
        fd = _open_regular(self.moved_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)

    def release(self) -> None:
        """Drop the lock (the file stays: removing it would race a starting process)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
