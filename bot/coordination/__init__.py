"""Several processes on one PostgreSQL database: who fetches which feed, who sends, who
polls Telegram (``coordinator``), and how replies reach the sender (``replies``).

The roles (``roles``, a small enum) load with the package; the rest loads on first use
(PEP 562 ``__getattr__``): the command line reads the roles for its ``--role`` option,
and a command such as ``check-config`` or ``preview`` then starts without the store.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from bot.coordination.roles import ALL_ROLES, Duty, Role, describe

if TYPE_CHECKING:
    from bot.coordination.coordinator import (
        ALIVE_SECONDS,
        LEASE_SECONDS,
        RENEW_SECONDS,
        Coordinator,
        OutboxSignal,
    )
    from bot.coordination.feeds import FeedClaims

_LAZY = {
    "ALIVE_SECONDS": "bot.coordination.coordinator",
    "LEASE_SECONDS": "bot.coordination.coordinator",
    "RENEW_SECONDS": "bot.coordination.coordinator",
    "Coordinator": "bot.coordination.coordinator",
    "OutboxSignal": "bot.coordination.coordinator",
    "FeedClaims": "bot.coordination.feeds",
}

__all__ = [
    "ALIVE_SECONDS",
    "ALL_ROLES",
    "LEASE_SECONDS",
    "RENEW_SECONDS",
    "Coordinator",
    "Duty",
    "FeedClaims",
    "OutboxSignal",
    "Role",
    "describe",
]


def __getattr__(name: str) -> Any:
    """The name ``name`` of a submodule that has not been loaded yet (PEP 562).

    Raises AttributeError for a name the package does not have.
    """
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
