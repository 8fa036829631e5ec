"""Time as the bot sees it: wall-clock time, monotonic time, and waiting.

Everything that waits for a send slot or for the outbox's next row waits through a
``Clock``, never through ``asyncio.sleep`` directly, so that tests can run the real
bot on virtual time (``tests/virtual_time.py``) instead of waiting out Telegram's
limits in real seconds.
"""

from __future__ import annotations

import asyncio
import time


class Clock:
    """Real time: the system's clocks and the event loop's sleep."""

    def time(self) -> float:
        """Wall-clock seconds since the Unix epoch (stored schedules and outbox times)."""
        return time.time()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (send budgets)."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Return after ``seconds`` (at once for zero or less)."""
        await asyncio.sleep(max(0.0, seconds))

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        """Wait for ``event`` at most ``seconds``; True when it was set.

        Built on ``sleep`` so that a virtual clock times the wait out too.
        """
        if event.is_set():
            return True
        waiter = asyncio.ensure_future(event.wait())
        timer = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Not awaited: awaiting a cancelled helper here could swallow a cancellation
            # meant for the caller, which would then never stop.
            waiter.cancel()
            timer.cancel()
        return event.is_set()
