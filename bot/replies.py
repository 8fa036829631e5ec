"""Command replies: sent through the same send slots as deliveries, never holding an update.

A reply books its chat's next slot (``bot.ratelimit``). When the slot is now, the
reply goes at once; when it is later, a background task sends it then, so the
update handler returns at once and its update-handling slot is free for other
chats. A reply whose slot lies more than ``MAX_REPLY_WAIT`` seconds away is
dropped: a chat flooding the bot with commands gets its first answers, not a
queue that runs for minutes. In a group or channel, whose slots come only every
few seconds, one sender may have at most ``MAX_WAITING_PER_SENDER`` replies
waiting for a slot: a member's burst of commands cannot book the slots ahead and
leave the administrators' answers dropped. An edit of one of the bot's messages
(``Reply.edit_of``: a progress display, a pressed keyboard) takes a slot the same
way, since Telegram counts it like a send. A reply that meets a 429 is sent again after
``retry_after`` (at most ``MAX_REPLY_RETRIES`` times); any other refusal is
logged, because a reply the Bot API refuses is our bug, not the user's. Every reply
leaves through here, so this is where secrets are scrubbed from chat output
(``bot.redact``): whatever a library's error message echoed, no token reaches a chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.clock import Clock
from bot.logs import event
from bot.ratelimit import SendSlots
from bot.redact import scrub_html
from bot.telegram_answers import Action, classify, unchanged

log = logging.getLogger(__name__)

MAX_REPLY_WAIT = 8.0
"""Seconds a reply may wait for its chat's slot before it is dropped."""
MAX_REPLY_RETRIES = 2
MAX_WAITING_PER_SENDER = 1
"""Replies one sender may have waiting for a later slot in a group or channel."""
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTML reply: the chat (and forum topic) it goes to, its text and keyboard."""

    chat_id: int
    text: str
    thread_id: int | None = None
    markup: InlineKeyboardMarkup | None = None
    sender: int | None = None
    """Who asked (a user, or the chat a message spoke for), for ``MAX_WAITING_PER_SENDER``;
    None for a reply that continues another or answers nobody in particular."""
    edit_of: int | None = None
    """The id of a message of the bot's in the chat whose text and keyboard this replaces."""


class Replier:
    """Sends replies on the chat's send slots; ``pending`` replies wait in background tasks."""

    def __init__(
        self, bot: Bot, slots: SendSlots, clock: Clock, *, secrets: Sequence[str] = ()
    ) -> None:
        self._bot = bot
        self._slots = slots
        self._clock = clock
        self._secrets = tuple(secrets)
        self._waiting: set[asyncio.Task[None]] = set()
        self._waiting_for: Counter[tuple[int, int]] = Counter()
        """Replies waiting for a later slot, by (group or channel, sender)."""

    @property
    def clock(self) -> Clock:
        """The clock replies wait on (for callers that pace their own replies)."""
        return self._clock

    @property
    def pending(self) -> int:
        """Replies booked for a later slot and not yet answered by Telegram."""
        return len(self._waiting)

    async def send(self, reply: Reply) -> bool:
        """Book a slot for ``reply`` and send (or edit) it now or in the background.

        Returns False when the reply was dropped: the chat's slots are booked too far
        ahead, or its sender already has a reply waiting in that group or channel.
        Never raises for Telegram's answers (they are logged).
        """
        waiter = _waiter(reply)
        if waiter is not None and self._waiting_for[waiter] >= MAX_WAITING_PER_SENDER:
            event(log, logging.INFO, "reply_dropped", chat_id=reply.chat_id, sender=reply.sender)
            return False
        wait = self._slots.reserve(reply.chat_id, max_wait=MAX_REPLY_WAIT)
        if wait is None:
            event(log, logging.INFO, "reply_dropped", chat_id=reply.chat_id)
            return False
        if wait <= 0:
            retry = await self._attempt(reply)
            if retry is None:
                return True
            wait = retry
        task = asyncio.create_task(self._later(reply, wait))
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)
        if waiter is not None:
            self._waiting_for[waiter] += 1
            task.add_done_callback(lambda _task: self._no_longer_waiting(waiter))
        return True

    def _no_longer_waiting(self, waiter: tuple[int, int]) -> None:
        self._waiting_for[waiter] -= 1
        if self._waiting_for[waiter] <= 0:
            del self._waiting_for[waiter]

    async def send_waiting(self, reply: Reply) -> Message | None:
        """Send ``reply`` at its slot, waiting for it here; the message Telegram made.

        For a caller that needs the message (to edit it later) and may wait: a
        background task. None when the chat's slots are booked too far ahead or
        Telegram refused (logged; a 429 blocks the chat for its ``retry_after``).
        """
        if not await self._wait_for_slot(reply.chat_id):
            return None
        try:
            with self._slots.sending():
                return await self._call(reply)
        except TelegramError as exc:
            self._refused(reply, exc)
            return None

    async def _wait_for_slot(self, chat_id: int) -> bool:
        """Book the chat's next slot and wait for it here; False (nothing booked) when it
        lies more than ``MAX_REPLY_WAIT`` seconds away."""
        wait = self._slots.reserve(chat_id, max_wait=MAX_REPLY_WAIT)
        if wait is None:
            return False
        await self._clock.sleep(wait)
        return True

    async def _later(self, reply: Reply, wait: float) -> None:
        """Send at the booked slot, and again after each 429, a bounded number of times."""
        for _ in range(MAX_REPLY_RETRIES + 1):
            await self._clock.sleep(wait)
            retry = await self._attempt(reply)
            if retry is None:
                return
            wait = retry
        event(log, logging.WARNING, "reply_lost", chat_id=reply.chat_id, error="rate limited")

    async def _attempt(self, reply: Reply) -> float | None:
        """Send now (the slot is booked); return the wait for a newly booked slot after a 429.

        None means done: sent, refused for good (logged), or no slot within reach.
        """
        try:
            with self._slots.sending():
                await self._call(reply)
        except TelegramError as exc:
            blocked = self._refused(reply, exc)
            if blocked is not None:
                return self._slots.reserve(reply.chat_id, max_wait=blocked + MAX_REPLY_WAIT)
        return None

    async def _call(self, reply: Reply) -> Message | None:
        """The Bot API call itself: sendMessage, or editMessageText for ``edit_of``.

        An edit that would change nothing is no failure (None: there is no new message).
        """
        text = scrub_html(reply.text, self._secrets)
        if reply.edit_of is None:
            return await self._bot.send_message(
                reply.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
                reply_markup=reply.markup,
                message_thread_id=reply.thread_id,
            )
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=reply.chat_id,
                message_id=reply.edit_of,
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
                reply_markup=reply.markup,
            )
        except TelegramError as exc:
            if not unchanged(exc):
                raise
        return None

    def _refused(self, reply: Reply, exc: TelegramError) -> float | None:
        """Act on Telegram's refusal: for a 429 the chat is blocked for its ``retry_after``,
        which is returned (try again then); anything else is logged (None)."""
        verdict = classify(exc, has_pictures=False, is_plain=True, attempts=1)
        if verdict.action is Action.WAIT_CHAT:
            self._slots.block_chat(reply.chat_id, verdict.seconds)
            return verdict.seconds
        level = logging.WARNING if verdict.action is Action.DEACTIVATE else logging.ERROR
        event(log, level, "reply_refused", chat_id=reply.chat_id, error=verdict.reason)
        return None

    async def send_document(self, reply: Reply, data: bytes, filename: str) -> bool:
        """Send a file with ``reply.text`` as its caption, waiting (briefly) for the slot.

        Rare and user-requested (/export), so it waits in the handler; False when
        the chat's slots are booked too far ahead or Telegram refused the file.
        """
        if not await self._wait_for_slot(reply.chat_id):
            return False
        try:
            with self._slots.sending():
                await self._bot.send_document(
                    reply.chat_id,
                    document=data,
                    filename=filename,
                    caption=scrub_html(reply.text, self._secrets),
                    parse_mode=ParseMode.HTML,
                    message_thread_id=reply.thread_id,
                )
        except TelegramError as exc:
            event(log, logging.ERROR, "reply_refused", chat_id=reply.chat_id, error=exc.message)
            return False
        return True

    async def close(self, grace_seconds: float) -> None:
        """On shutdown: let replies due within ``grace_seconds`` go, cancel the rest."""
        if self._waiting:
            _, late = await asyncio.wait(self._waiting, timeout=grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)


def _waiter(reply: Reply) -> tuple[int, int] | None:
    """The (chat, sender) a reply counts against, in a group or channel (negative ids)."""
    if reply.sender is None or reply.chat_id > 0:
        return None
    return reply.chat_id, reply.sender
