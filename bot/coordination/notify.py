"""Wake-ups between processes: PostgreSQL's LISTEN/NOTIFY on one dedicated connection.

A process that queues outbox rows or a reply while another process sends them says so
with ``pg_notify``; the sender hears it here at once instead of at its next timer. A
notification only makes the sender look sooner: if the connection is lost, the
coordinator's round (every few seconds) still wakes the sender, and the next round
connects again.

asyncpg directly, not SQLAlchemy: LISTEN needs one connection that stays open and
receives, which a pool that hands connections out per transaction does not offer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from bot.logs import event

log = logging.getLogger(__name__)


def asyncpg_dsn(url: str) -> str:
    """asyncpg's form of a ``postgresql://`` (or ``postgresql+asyncpg://``) URL."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - only for PostgreSQL

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """LISTEN on ``handlers``' channels; each notification calls its channel's handler."""

    def __init__(self, url: str, handlers: Mapping[str, Callable[[], None]]) -> None:
        self._dsn = asyncpg_dsn(url)
        self._handlers = dict(handlers)
        self._connection: Any = None
        self._failing = False

    @property
    def listening(self) -> bool:
        """Whether the connection is up (notifications arrive)."""
        return self._connection is not None and not self._connection.is_closed()

    async def ensure(self) -> None:
        """Connect and LISTEN unless already listening; a failure is logged once per run of
        failures, and the next call tries again."""
        if self.listening:
            return
        import asyncpg  # type: ignore[import-untyped]  # noqa: PLC0415 - only for PostgreSQL

        connection = None
        try:
            connection = await asyncpg.connect(self._dsn)
            for channel in self._handlers:
                await connection.add_listener(channel, self._heard)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if connection is not None:
                connection.terminate()
            if not self._failing:
                event(log, logging.WARNING, "listen_failed", error=type(exc).__name__)
            self._failing = True
            return
        self._connection = connection
        if self._failing:
            event(log, logging.INFO, "listening_again")
        self._failing = False

    def _heard(self, _connection: Any, _pid: int, channel: str, _payload: str) -> None:
        handler = self._handlers.get(channel)
        if handler is not None:
            handler()

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await connection.close(timeout=2)
            except (OSError, TimeoutError):
                connection.terminate()
