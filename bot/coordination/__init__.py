"""Several processes on one PostgreSQL database: who fetches which feed, who sends, who
polls Telegram (``coordinator``), and how replies reach the sender (``replies``)."""

from bot.coordination.coordinator import (
    ALIVE_SECONDS,
    LEASE_SECONDS,
    RENEW_SECONDS,
    Coordinator,
    OutboxSignal,
)
from bot.coordination.feeds import FeedClaims
from bot.coordination.roles import ALL_ROLES, Duty, Role, describe

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
