"""Virtual time for end-to-end tests: the real bot waits on a clock the tests move.

The bot waits for send slots and for the outbox's next row through ``bot.clock.Clock``;
the fake Bot API measures Telegram's flood limits on the same clock. Time stands
still until ``eventually`` moves it: whenever the condition a test waits for does not
hold yet and nothing is in flight, time jumps to the next moment something in the bot
sleeps until (while a command handler works in real time, only by a fraction of a
second: to a free send slot, not to a timer). A test therefore never waits out a send
budget in real seconds, and since time never moves while a send is in flight, the
fake sees every send at the very instant its slot was booked.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import time
from collections.abc import Awaitable, Callable

from bot.clock import Clock

Check = Callable[[], bool | Awaitable[bool]]

REAL_SECONDS = 15.0
"""How long (real time) ``eventually`` waits for in-flight work before it fails."""
VIRTUAL_SECONDS = 3600.0
"""How far ``eventually`` moves virtual time before it fails."""


class VirtualClock(Clock):
    """Time that moves only when told: ``advance`` or ``advance_to_next``."""

    def __init__(self) -> None:
        self._wall = time.time()
        self._offset = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.moves = 0
        """How many times time moved on: each move wakes a sleeper, so a loop that
        polls on a short timer shows up here as many moves."""

    def __call__(self) -> float:
        """The wall-clock reading, for code that takes a plain ``Callable[[], float]``."""
        return self.time()

    def time(self) -> float:
        """Virtual wall-clock seconds: the real time at creation plus what was advanced."""
        return self._wall + self._offset

    def monotonic(self) -> float:
        """Virtual monotonic seconds, starting at 1000."""
        return 1000.0 + self._offset

    async def sleep(self, seconds: float) -> None:
        """Return once virtual time has moved ``seconds`` on (a zero sleep only yields)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._offset + seconds, next(self._order), waiter))
        await waiter

    def next_wake(self) -> float | None:
        """Seconds until the earliest sleeper wakes, or None when nothing sleeps."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # cancelled sleeps
        return self._sleepers[0][0] - self._offset if self._sleepers else None

    def advance(self, seconds: float) -> None:
        """Move time ``seconds`` on and wake every sleeper that is due by then."""
        if seconds > 0:
            self.moves += 1
        self._offset += max(0.0, seconds)
        while self._sleepers and self._sleepers[0][0] <= self._offset:
            _, _, waiter = heapq.heappop(self._sleepers)
            if not waiter.done():
                waiter.set_result(None)

    def advance_to_next(self) -> bool:
        """Move time to the earliest sleeper's wake-up; False when nothing sleeps."""
        wake = self.next_wake()
        if wake is None:
            return False
        self.advance(wake)
        return True


async def _holds(check: Check) -> bool:
    result = check()
    if inspect.isawaitable(result):
        result = await result
    return bool(result)


async def eventually(
    check: Check,
    *,
    what: str,
    clock: VirtualClock | None = None,
    may_advance: Callable[[float], bool] = lambda _seconds: True,
    virtual_seconds: float = VIRTUAL_SECONDS,
    real_seconds: float = REAL_SECONDS,
) -> None:
    """Return once ``check()`` holds, moving virtual time whenever ``may_advance`` allows.

    ``may_advance(seconds)`` says whether time may jump ``seconds`` on now: never
    while a send is between its slot and Telegram's answer. Without a ``clock`` the
    wait is on real time alone (for code that runs on the system clock). Raises AssertionError
    naming ``what`` after ``virtual_seconds`` of virtual time or ``real_seconds`` of
    real time without ``check()`` holding.
    """
    loop = asyncio.get_running_loop()
    real_deadline = loop.time() + real_seconds
    if clock is None:
        while not await _holds(check):
            if loop.time() > real_deadline:
                raise AssertionError(f"waited {real_seconds:.1f} real seconds for {what}")
            await asyncio.sleep(0.005)
        return
    virtual_deadline = clock.monotonic() + virtual_seconds
    calm = 0
    while not await _holds(check):
        wake = clock.next_wake()
        # Two calm looks in a row, a loop turn apart, so that work handed between
        # tasks (an update fetched but not yet dispatched) is not taken for calm.
        calm = calm + 1 if wake is not None and may_advance(wake) else 0
        if calm >= 2 and clock.monotonic() + (wake or 0.0) <= virtual_deadline:
            clock.advance_to_next()
            calm = 0
            await asyncio.sleep(0)
            continue
        if loop.time() > real_deadline or clock.monotonic() >= virtual_deadline:
            virtual = virtual_seconds - (virtual_deadline - clock.monotonic())
            real = real_seconds - (real_deadline - loop.time())
            raise AssertionError(
                f"waited {virtual:.0f} virtual and {real:.1f} real seconds for {what}"
            )
        # A second look after one loop turn; otherwise something is in flight (a socket,
        # a database thread) or nothing sleeps: give it real time.
        await asyncio.sleep(0 if calm == 1 else 0.001)
