"""Which updates the bot handles: the allowed chats, and a fair share for every chat and user.

PTB hands every update to an update processor (``BaseUpdateProcessor``, PTB's public
extension point for concurrent updates); ours is the single gate in front of every
handler, buttons included:

- With ``access.allowed_chats`` set, an update from any other chat is dropped
  before any handler runs, so nothing of it is stored or acted on.
- Each chat and each user has a command budget: ``COMMAND_BURST`` at once, then
  one per ``COMMAND_INTERVAL`` seconds. Commands, button presses and anything said
  in a private chat count; a group's chatter does not. The first update over
  budget is answered with one polite line; the rest are dropped silently until
  the budget refills, so one flooding chat costs the others nothing.

The gate also counts the updates waiting for a handler slot and being handled, for
the test harness and the health check: it limits concurrency with a semaphore of its
own, because PTB's (``process_update``) would keep waiting updates out of sight.
``stalled_for`` is how long updates have been waiting while no handler started or
finished: the update loop's progress, on the bot's clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.clock import Clock
from bot.logs import event
from bot.ratelimit import Gcra

log = logging.getLogger(__name__)

COMMAND_BURST = 5
COMMAND_INTERVAL = 3.0
"""After a burst of five, one command every three seconds per chat and per user."""
MAX_TRACKED = 10_000
"""Budgets kept in memory at most; idle ones are forgotten first."""
PTB_ADMISSION = 1 << 16
"""What PTB's own semaphore admits: in effect everything, so that the gate sees every update."""

UpdateObserver = Callable[[str, str], None]
"""Called with an update's kind (command, button, message, other) and verdict (ok, drop, warn)."""


class UpdateGate(BaseUpdateProcessor):
    """Drops updates from chats outside ``allowed_chats`` and beyond a chat's command budget."""

    def __init__(
        self,
        max_concurrent_updates: int,
        *,
        clock: Clock,
        allowed_chats: Collection[int],
        on_flood: Callable[[Update], Awaitable[None]],
        observe: UpdateObserver | None = None,
    ) -> None:
        super().__init__(PTB_ADMISSION)
        self._handler_slots = asyncio.Semaphore(max_concurrent_updates)
        self._observe = observe
        self._clock = clock
        self._allowed = frozenset(allowed_chats)
        self._on_flood = on_flood
        self._budgets: dict[tuple[str, int], Gcra] = {}
        self._warned: set[tuple[str, int]] = set()
        self._running: set[asyncio.Task[Any]] = set()
        self.handling = 0
        """Updates whose handlers are running now."""
        self.handled = 0
        """Updates handled or dropped since the start."""
        self.waiting = 0
        """Admitted updates waiting for a handler slot."""
        self._quiet_since = clock.monotonic()

    def stalled_for(self) -> float:
        """Seconds (bot clock) updates have waited while no handler started or finished; 0
        when none waits."""
        return self._clock.monotonic() - self._quiet_since if self.waiting else 0.0

    def _progressed(self) -> None:
        self._quiet_since = self._clock.monotonic()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def cancel_running(self, grace_seconds: float) -> None:
        """On stop: give running handlers ``grace_seconds``, then cancel them.

        A handler may wait on slow feeds for minutes (a /sub of 20 URLs); PTB's stop
        waits for every handler, so without this a stop could take that long. What a
        cancelled handler committed stays; what it had not, it never started.
        """
        if not self._running:
            return
        _, late = await asyncio.wait(set(self._running), timeout=grace_seconds)
        for task in late:
            task.cancel()
        if late:
            event(log, logging.WARNING, "handlers_cancelled", count=len(late))
            await asyncio.wait(late, timeout=grace_seconds)

    async def shutdown(self) -> None:
        """Nothing to free."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` (the handlers for ``update``) unless the gate drops the update."""
        self.handled += 1
        verdict = self._admit(update)
        if self._observe is not None:
            self._observe(_kind(update), verdict)
        if verdict != "ok":
            _close(coroutine)
            if verdict == "warn" and isinstance(update, Update):
                await self._on_flood(update)
            return
        if not self.waiting:
            self._progressed()  # the first to wait: the stall clock starts now
        self.waiting += 1
        try:
            await self._handler_slots.acquire()
        except BaseException:
            _close(coroutine)
            raise
        finally:
            self.waiting -= 1
        self._progressed()
        self.handling += 1
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await coroutine
        finally:
            if task is not None:
                self._running.discard(task)
            self.handling -= 1
            self._handler_slots.release()
            self._progressed()

    def _admit(self, update: object) -> str:
        """``ok``, ``drop``, or ``warn`` (over budget for the first time: say so once)."""
        if not isinstance(update, Update):
            return "ok"
        chat, user = update.effective_chat, update.effective_user
        if self._allowed and (chat is None or chat.id not in self._allowed):
            event(log, logging.INFO, "update_refused", chat_id=chat.id if chat else None)
            return "drop"
        if not _asks_for_an_answer(update):
            return "ok"
        keys = [("chat", chat.id)] if chat is not None else []
        if user is not None:
            keys.append(("user", user.id))
        now = self._clock.monotonic()
        budgets = [self._budget(key, now) for key in keys]
        if all(budget.earliest(now, 1) <= now for budget in budgets):
            for key, budget in zip(keys, budgets, strict=True):
                budget.book(now, 1)
                self._warned.discard(key)
            return "ok"
        fresh = [key for key in keys if key not in self._warned]
        self._warned.update(keys)
        event(log, logging.INFO, "update_flood", chat_id=chat.id if chat else None)
        return "warn" if fresh else "drop"

    def _budget(self, key: tuple[str, int], now: float) -> Gcra:
        budget = self._budgets.get(key)
        if budget is None:
            if len(self._budgets) >= MAX_TRACKED:
                self._forget_idle(now)
            budget = self._budgets[key] = Gcra(COMMAND_INTERVAL, COMMAND_BURST, tat=now)
        return budget

    def _forget_idle(self, now: float) -> None:
        """Drop budgets that are full again: forgetting them changes nothing."""
        for key in [key for key, budget in self._budgets.items() if budget.tat <= now]:
            del self._budgets[key]
            self._warned.discard(key)


def _close(coroutine: Awaitable[Any]) -> None:
    """The handlers never run: close their coroutine so it is not left unawaited."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()


def _kind(update: object) -> str:
    """command, button, message or other: what the metrics count updates by."""
    if not isinstance(update, Update):
        return "other"
    if update.callback_query is not None:
        return "button"
    message = update.effective_message
    if message is None:
        return "other"
    return "command" if (message.text or message.caption or "").startswith("/") else "message"


def _asks_for_an_answer(update: Update) -> bool:
    """Commands, button presses and private messages: what makes the bot reply."""
    if update.callback_query is not None:
        return True
    message = update.effective_message
    if message is None:
        return False
    text = message.text or message.caption or ""
    return text.startswith("/") or message.chat.type == "private"
