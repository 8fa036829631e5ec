"""Stopping the bot that runs on a SQLite file, for ``newsrelay migrate --stop``.

It is stopped the way an operator stops it: SIGTERM, to which ``newsrelay run`` answers
with its graceful stop (``bot.app.Relay.stop``: no new sends; the sends under way get
``STOP_GRACE_SECONDS`` to finish; a row leaves the outbox only once Telegram answered, so
whatever was not sent stays pending; the store is closed before the lock is released).

Only a process shown to be that bot is signalled. The lock file names it (``bot.runlock``);
it must run on this host, be a running bot rather than a migration, and, in the kernel's
view, hold the lock file open (``/proc/<pid>/fd``): a pid written on another machine or in
another pid namespace (a container sharing the data folder) may name an unrelated process
here. The process is pinned with a pidfd before it is checked, so the signal cannot reach
another process that took the pid meanwhile. Linux only: elsewhere ``--stop`` is refused.

Then the caller's lock is taken as soon as the bot lets go of it, within a bound.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path

from bot.clock import Clock
from bot.runlock import AlreadyRunning, Holder, RunLock

STOP_SECONDS = 60.0
"""How long a stopping bot may take to let go of the database (its own stop takes seconds)."""
LOOK_SECONDS = 0.05
"""How often the lock is tried while the bot stops."""


class StopError(Exception):
    """The bot cannot be stopped from here, or did not stop: one line for stderr."""


def _holds_open(pid: int, wanted: tuple[int, int]) -> bool:
    """Whether process ``pid`` has the file ``wanted`` (device, inode) open (per
    ``/proc/<pid>/fd``): the lock file the holder's name was read from, not whatever its
    path names now (a path can be swapped for a link to a file any process holds).

    False when there is no such process here. Raises PermissionError for another user's
    process.
    """
    try:
        entries = list(Path(f"/proc/{pid}/fd").iterdir())
    except FileNotFoundError:
        return False
    for entry in entries:
        try:
            opened = entry.stat()  # follows the link to the file the descriptor names
        except OSError:  # closed meanwhile, or a socket or pipe of another namespace
            continue
        if (opened.st_dev, opened.st_ino) == wanted:
            return True
    return False


def _pin(holder: Holder, lock: RunLock) -> tuple[int, int]:
    """The pid of the bot ``holder`` names and a pidfd on it, once it is shown to be that
    bot; raises StopError saying why not."""
    stop_it = "stop the bot yourself, then run migrate again"
    if holder.pid is None or holder.host is None or holder.file is None:
        raise StopError(f"cannot tell which process holds {lock.path} ({holder.text}): {stop_it}")
    pid, here = holder.pid, socket.gethostname()
    named = f"newsrelay pid {pid}"
    if holder.host != here:
        raise StopError(
            f"{named} runs on {holder.host}, not on this machine ({here}): stop it there,"
            " then run migrate again"
        )
    if holder.command not in (None, "run"):
        raise StopError(f"a newsrelay {holder.command} (pid {pid}) holds {lock.path}: wait for it")
    if not hasattr(os, "pidfd_open"):
        raise StopError(f"--stop needs Linux: {stop_it}")
    not_holder = (
        f"{named}, named in {lock.path}, is not the process holding it here (another pid"
        f" namespace, such as a container?): {stop_it}"
    )
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        raise StopError(not_holder) from None
    try:
        holds = _holds_open(pid, holder.file)
    except BaseException as exc:
        os.close(pidfd)
        if isinstance(exc, PermissionError):
            raise StopError(f"{named} belongs to another user: run migrate as that user") from None
        raise
    if not holds:
        os.close(pidfd)
        raise StopError(not_holder)
    return pid, pidfd


async def stop_and_lock(
    lock: RunLock,
    holder: Holder,
    *,
    seconds: float = STOP_SECONDS,
    clock: Clock | None = None,
    on_stopping: Callable[[int], None] = lambda _pid: None,
) -> None:
    """Stop the bot ``holder`` names (SIGTERM) and take ``lock`` once it let go.

    ``on_stopping`` hears the pid just signalled. Returns holding ``lock``. Raises
    StopError when the bot cannot be shown to be ours, when it does not let go within
    ``seconds``, or when another process takes the lock after it (a service manager
    restarting the bot); Moved when the database was moved meanwhile.
    """
    clock = clock or Clock()
    pid, pidfd = _pin(holder, lock)
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGTERM)
    except ProcessLookupError:
        pass  # it ended already: the lock is free or about to be
    finally:
        os.close(pidfd)
    on_stopping(pid)
    deadline = clock.monotonic() + seconds
    while True:
        try:
            lock.acquire()
        except AlreadyRunning as exc:
            now_held = exc.holder
        else:
            return
        if now_held.pid is not None and now_held.pid != pid:
            raise StopError(
                f"newsrelay pid {pid} stopped, but {now_held.text} took the database after it"
                " (a service manager restarting the bot?): stop it there, then run migrate again"
            )
        if clock.monotonic() >= deadline:
            raise StopError(
                f"newsrelay pid {pid} did not stop within {seconds:g} s (SIGTERM sent):"
                " run migrate again once it has stopped"
            )
        await clock.sleep(LOOK_SECONDS)
