"""Liveness for ``/healthz``: each moving part of the bot made progress recently.

Checks, each named in the report:

- ``event_loop``: a heartbeat task beats every second; no beat for
  ``LOOP_STALE_SECONDS`` means the loop is blocked or starved. (A loop blocked
  outright cannot answer at all: the probe's own timeout catches that.)
- ``feed_poll``: the poller's tick (every few seconds) ran within
  ``max(POLL_STALE_SECONDS, 6 ticks)``; skipped when feeds are not polled.
- ``updates_in``: long polling: a ``getUpdates`` was answered within
  ``RECEIVE_STALE_SECONDS`` (a long poll answers every ``POLL_TIMEOUT`` seconds at
  most, so silence means Telegram is unreachable or another process holds the
  token: 409 Conflict); webhook mode: the webhook server is running.
- ``update_handling``: no update has waited ``UPDATE_STALL_SECONDS`` for a handler
  while no handler started or finished (``UpdateGate.stalled_for``).

The first three watch real-time loops (asyncio's sleep, APScheduler, httpx's long
poll) on the loop's monotonic clock; the update stall is measured on the bot's
``Clock``, like every wait of its handlers, so tests observe it on virtual time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

LOOP_BEAT_SECONDS = 1.0
LOOP_STALE_SECONDS = 10.0
POLL_STALE_SECONDS = 60.0
RECEIVE_STALE_SECONDS = 90.0
UPDATE_STALL_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The verdict and one line per check (``ok`` or what is wrong)."""

    checks: dict[str, str]

    @property
    def healthy(self) -> bool:
        """True when every check says ok."""
        return all(value == "ok" for value in self.checks.values())


class Health:
    """What the parts report, and the verdict on it; the owner wires the reports in."""

    def __init__(
        self,
        *,
        stalled_for: Callable[[], float],
        receiving: Callable[[], bool | None],
        poll_tick_seconds: float | None,
    ) -> None:
        """``stalled_for``: the update gate's stall; ``receiving``: the webhook server's state
        (None in polling mode, where getUpdates answers tell); ``poll_tick_seconds``: the
        poller's period, None when feeds are not polled."""
        self._stalled_for = stalled_for
        self._receiving = receiving
        self._poll_stale = (
            None if poll_tick_seconds is None else max(POLL_STALE_SECONDS, 6 * poll_tick_seconds)
        )
        started = time.monotonic()
        self._beat = started
        self._tick = started
        self._updates_in = started

    async def heartbeat(self) -> None:
        """Beat every second until cancelled."""
        while True:
            await asyncio.sleep(LOOP_BEAT_SECONDS)
            self._beat = time.monotonic()

    def poll_ticked(self) -> None:
        """The poller's tick ran."""
        self._tick = time.monotonic()

    def api_answered(self, method: str, code: int | None, _seconds: float) -> None:
        """A Bot API call ended; a successful getUpdates is progress of the update loop."""
        if method == "getUpdates" and code == 200:
            self._updates_in = time.monotonic()

    def report(self) -> HealthReport:
        """Every check's verdict now."""
        now = time.monotonic()
        checks = {"event_loop": _fresh(now - self._beat, LOOP_STALE_SECONDS, "no heartbeat")}
        if self._poll_stale is not None:
            checks["feed_poll"] = _fresh(now - self._tick, self._poll_stale, "no poll tick")
        receiving = self._receiving()
        if receiving is None:
            checks["updates_in"] = _fresh(
                now - self._updates_in, RECEIVE_STALE_SECONDS, "no getUpdates answered"
            )
        else:
            checks["updates_in"] = "ok" if receiving else "the webhook server is not running"
        stalled = self._stalled_for()
        checks["update_handling"] = _fresh(
            stalled, UPDATE_STALL_SECONDS, "updates waiting and no handler progressed"
        )
        return HealthReport(checks)


def _fresh(age: float, limit: float, what: str) -> str:
    return "ok" if age <= limit else f"{what} for {age:.0f} s (limit {limit:.0f} s)"
