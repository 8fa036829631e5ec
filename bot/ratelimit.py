"""Per-chat and bot-wide send budgets that keep us under Telegram's limits.

Telegram allows about 30 messages/s per bot, about one per second in a chat
(short bursts pass) and 20 per minute in a group or channel. We budget below
each so that a 429 is an accident, not a routine; and each chat waits on its
own bucket, so one chat's wait never holds back the others (PTB's
AIORateLimiter has no per-private-chat limit and stalls every send on a 429).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """``burst`` sends at once, then one every ``interval`` seconds."""

    burst: float
    interval: float
    tokens: float
    updated: float

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) / self.interval)
            self.updated = now

    def wait_time(self, now: float, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are available (0 when they are now)."""
        self._refill(now)
        blocked = max(0.0, self.updated - now)
        missing = min(cost, self.burst) - self.tokens
        return blocked + max(0.0, missing * self.interval)

    def take(self, now: float, cost: float = 1.0) -> None:
        self._refill(now)
        self.tokens -= cost

    def block_until(self, until: float) -> None:
        """Send nothing before ``until`` (a 429's retry_after), then one message at most."""
        self.tokens = 1.0
        self.updated = max(self.updated, until)


@dataclass(frozen=True, slots=True)
class Limits:
    """Budgets a little under Telegram's published limits.

    No bursts in a chat: Telegram lets short bursts pass, but how short is not
    documented, and a headline reader does not notice one second between messages.
    """

    # Burst plus one second of refill stays under 30 in any one-second window.
    global_burst: float = 5
    global_interval: float = 1 / 24
    private_burst: float = 1
    private_interval: float = 1.05
    group_burst: float = 1
    group_interval: float = 3.2


class SendBudget:
    """Decides when the next message to a chat may go out."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, limits: Limits | None = None
    ) -> None:
        self._clock = clock
        self._limits = limits or Limits()
        self._global = TokenBucket(
            self._limits.global_burst,
            self._limits.global_interval,
            self._limits.global_burst,
            clock(),
        )
        self._chats: dict[int, TokenBucket] = {}

    def _chat(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            # Negative ids are groups, supergroups and channels: the 20/min limit.
            burst, interval = (
                (self._limits.group_burst, self._limits.group_interval)
                if chat_id < 0
                else (self._limits.private_burst, self._limits.private_interval)
            )
            # Start with one message, not a burst: Telegram may still count what an
            # earlier process sent to this chat.
            bucket = TokenBucket(burst, interval, 1.0, self._clock())
            self._chats[chat_id] = bucket
        return bucket

    def wait_time(self, chat_id: int, cost: int = 1) -> float:
        """Seconds to wait before sending ``cost`` messages to the chat."""
        now = self._clock()
        return max(self._chat(chat_id).wait_time(now, cost), self._global.wait_time(now, cost))

    def spend(self, chat_id: int, cost: int = 1) -> None:
        """Count messages sent to the chat, replies to commands included."""
        now = self._clock()
        self._chat(chat_id).take(now, cost)
        self._global.take(now, cost)

    def block_chat(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429 for this chat: hold it, and only it, for ``seconds``."""
        self._chat(chat_id).block_until(self._clock() + seconds)
