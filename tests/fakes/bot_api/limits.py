"""Telegram's flood limits, counted on the one clock the fake is given.

Per chat a token bucket (a short burst, then ``chat_per_second``), per group or
channel a sliding window of ``group_per_minute`` sends, and per bot a sliding
window of ``global_per_second`` sends. Past any of them the send is refused with
429 ``Too Many Requests: retry after N``. Nothing here reads the system time: every
instant comes from the injected clock, so a test that moves that clock moves the limits.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable

from tests.fakes.telegram_rules import Rejected


class ManualClock:
    """A clock tests move by hand, so rate-limit tests need no sleeping."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds


class RateLimits:
    """Telegram's flood limits: a per-chat token bucket, a per-group window, a global window."""

    def __init__(
        self,
        clock: Callable[[], float],
        chat_burst: int,
        chat_per_second: float,
        group_per_minute: int,
        global_per_second: int,
    ) -> None:
        self.clock = clock
        self.chat_burst = chat_burst
        self.chat_per_second = chat_per_second
        self.group_per_minute = group_per_minute
        self.global_per_second = global_per_second
        self.buckets: dict[int, tuple[float, float]] = {}
        self.group_sends: dict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self.global_sends: collections.deque[float] = collections.deque()

    @staticmethod
    def _window_wait(sends: collections.deque[float], now: float, span: float, cap: int) -> float:
        while sends and sends[0] <= now - span:
            sends.popleft()
        return sends[0] + span - now if len(sends) >= cap else 0.0

    def take(self, chat_id: int) -> None:
        """Count one send to ``chat_id`` or raise the 429 Telegram would answer."""
        now = self.clock()
        tokens, last = self.buckets.get(chat_id, (float(self.chat_burst), now))
        tokens = min(float(self.chat_burst), tokens + (now - last) * self.chat_per_second)
        waits = [(1.0 - tokens) / self.chat_per_second if tokens < 1.0 else 0.0]
        waits.append(self._window_wait(self.global_sends, now, 1.0, self.global_per_second))
        if chat_id < 0:
            group = self.group_sends[chat_id]
            waits.append(self._window_wait(group, now, 60.0, self.group_per_minute))
        wait = max(waits)
        if wait > 0:
            self.buckets[chat_id] = (tokens, now)
            retry_after = max(1, math.ceil(wait))
            raise Rejected(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        self.buckets[chat_id] = (tokens - 1.0, now)
        self.global_sends.append(now)
        if chat_id < 0:
            self.group_sends[chat_id].append(now)
