"""One running bot per SQLite database: an exclusive lock on a file beside it.

Two processes on one SQLite database would both poll Telegram with one token
(each getUpdates ends the other's with 409 Conflict) and both send the outbox.
``newsrelay run`` therefore holds ``flock(LOCK_EX | LOCK_NB)`` on ``<database>.lock``
while it runs, and writes its pid, host and start time into the file, so that a
second process fails at once naming the first. The kernel drops the lock when the
process ends, however it ends (SIGKILL included): a stale file never blocks a start.
(``flock`` is local to one machine: a database on a network file system shared by
two machines is not protected; several processes on one database is PostgreSQL's job.)
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path


class AlreadyRunning(Exception):  # noqa: N818 - reads as the situation it names
    """Another process holds the lock; the message names it."""


class RunLock:
    """The lock of one database; ``acquire`` then ``release``."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock and record who holds it.

        Raises AlreadyRunning (naming the holder) when another process holds it, and
        OSError when the lock file cannot be opened.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 512).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise AlreadyRunning(
                f"the database {self.database} is in use by {holder} (lock file {self.path})"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        os.ftruncate(fd, 0)
        holder = f"newsrelay pid {os.getpid()} on {socket.gethostname()} since {started}\n"
        os.write(fd, holder.encode())
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the file stays: removing it would race a starting process)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
