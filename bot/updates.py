"""Which updates the bot handles: the allowed chats, and a fair share for every chat and user.

PTB hands every update to an update processor (``BaseUpdateProcessor``, PTB's public
extension point for concurrent updates); ours is the single gate in front of every
handler, buttons included:

- With ``access.allowed_chats`` set, an update from any other chat is dropped
  before any handler runs, so nothing of it is stored or acted on.
- Each user has a command budget in each chat and one across all chats:
  ``COMMAND_BURST`` at once, then one per ``COMMAND_INTERVAL`` seconds. Each chat
  has a larger one (``CHAT_BURST``, one per ``CHAT_INTERVAL`` seconds) that one
  user's budget cannot empty, so a member flooding a group cannot lock its
  administrators out, while the group as a whole stays bounded. Commands, button
  presses, replies to a bot and anything said in a private chat count; a group's
  other chatter does not. The first update over a budget is answered with one
  polite line; the rest are dropped silently until that budget refills, so one
  flooding chat or user costs the others nothing.

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
"""After a burst of five, one command every three seconds per user, in a chat and overall."""
CHAT_BURST = 20
CHAT_INTERVAL = 1.0
"""A chat's own budget: one user, at most ``COMMAND_BURST`` plus one per ``COMMAND_INTERVAL``,
can never spend it all, so the others in the chat are still heard."""
MAX_TRACKED = 10_000
"""Budgets kept in memory at most; idle ones are forgotten first."""
PTB_ADMISSION = 1 << 16
"""What PTB's own semaphore admits: in effect everything, so that the gate sees every update."""

BudgetKey = tuple[str, int, int]
"""("chat", chat id, 0), ("member", chat id, sender id) or ("user", user id, 0)."""
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
        self._budgets: dict[BudgetKey, Gcra] = {}
        self._warned: set[BudgetKey] = set()
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
        chat = update.effective_chat
        if self._allowed and (chat is None or chat.id not in self._allowed):
            event(log, logging.INFO, "update_refused", chat_id=chat.id if chat else None)
            return "drop"
        if not _asks_for_an_answer(update):
            return "ok"
        keys = _budget_keys(update)
        now = self._clock.monotonic()
        budgets = [self._budget(key, now) for key in keys]
        over = [
            key for key, budget in zip(keys, budgets, strict=True) if budget.earliest(now, 1) > now
        ]
        if not over:
            for key, budget in zip(keys, budgets, strict=True):
                budget.book(now, 1)
                self._warned.discard(key)
            return "ok"
        fresh = [key for key in over if key not in self._warned]
        self._warned.update(over)
        event(log, logging.INFO, "update_flood", chat_id=chat.id if chat else None)
        return "warn" if fresh else "drop"

    def _budget(self, key: BudgetKey, now: float) -> Gcra:
        budget = self._budgets.get(key)
        if budget is None:
            if len(self._budgets) >= MAX_TRACKED:
                self._forget_idle(now)
            interval, burst = (
                (CHAT_INTERVAL, CHAT_BURST)
                if key[0] == "chat"
                else (COMMAND_INTERVAL, COMMAND_BURST)
            )
            budget = self._budgets[key] = Gcra(interval, burst, tat=now)
        return budget

    def _forget_idle(self, now: float) -> None:
        """Drop budgets that are full again: forgetting them changes nothing."""
        for key in [key for key, budget in self._budgets.items() if budget.tat <= now]:
            del self._budgets[key]
            self._warned.discard(key)


def _budget_keys(update: Update) -> list[BudgetKey]:
    """The budgets an update spends: its chat's, its sender's in that chat, and its user's.

    The sender is the user, or the chat a message speaks for (an anonymous group
    admin, a channel post).
    """
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    sender_chat = message.sender_chat if message is not None else None
    keys: list[BudgetKey] = []
    if chat is not None:
        keys.append(("chat", chat.id, 0))
        sender = sender_chat.id if sender_chat is not None else user.id if user else None
        if sender is not None:
            keys.append(("member", chat.id, sender))
    if user is not None and sender_chat is None:
        # Not for a message on a chat's behalf: its user is Telegram's one stand-in
        # for every anonymous admin of every group (GroupAnonymousBot).
        keys.append(("user", user.id, 0))
    return keys


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
    """Commands, button presses, private messages and replies to a bot: what makes the bot
    reply. (A reply to another bot counts too: a budget spent in vain costs nothing.)"""
    if update.callback_query is not None:
        return True
    message = update.effective_message
    if message is None:
        return False
    text = message.text or message.caption or ""
    replied = message.reply_to_message
    to_a_bot = replied is not None and replied.from_user is not None and replied.from_user.is_bot
    return text.startswith("/") or message.chat.type == "private" or to_a_bot
