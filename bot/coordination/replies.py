"""Command replies when several processes share a bot token: only the sender sends.

Telegram's limits are per token and per chat, and the send budgets (``bot.ratelimit``)
live in the memory of the process that holds the sender's lease. A reply is therefore
sent by that process: a process that holds the lease sends its own replies at once
(``Replier``); one that does not queues them in the database (``replies`` table) and
notifies the sender, which sends them on the same slots as everything else.

Why hand replies over rather than share the budgets through the database: a shared
budget costs a database round trip before every send (30 per second at full rate), and
a chat's slot would be booked in two places; a handed-over reply costs one insert and
one delete, and only for replies of a process that does not send. In long polling the
poller's lease goes to the sender when it can (``bot.coordination.coordinator``), so
usually no reply is handed over at all; with a webhook, any process may answer.

A queued reply older than ``MAX_QUEUED_AGE`` when the sender takes it is dropped (a
reply minutes late would confuse more than help); a sender that dies after taking a
reply and before sending it loses that reply. Deliveries are never handled here: they
have the outbox's promise, replies the user can ask again.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Bot, InlineKeyboardMarkup

from bot.clock import Clock
from bot.logs import event
from bot.ratelimit import SendSlots
from bot.replies import Replier, Reply
from bot.store.leases import QueuedReply

log = logging.getLogger(__name__)

MAX_QUEUED_AGE = 60.0
"""Seconds a handed-over reply may wait for the sender before it is dropped."""
BATCH = 50

Queue = Callable[[int, dict[str, Any], float], Awaitable[None]]
"""Queue a reply payload for chat id at a time (``LeaseStore.queue_reply``)."""


def encode_reply(reply: Reply, document: tuple[bytes, str] | None = None) -> dict[str, Any]:
    """The reply (and a document's bytes and file name) as JSON-ready data."""
    payload: dict[str, Any] = {
        "text": reply.text,
        "thread_id": reply.thread_id,
        "markup": reply.markup.to_dict() if reply.markup is not None else None,
    }
    if document is not None:
        data, filename = document
        payload["document"] = {"filename": filename, "data": base64.b64encode(data).decode()}
    return payload


def decode_reply(
    chat_id: int, payload: dict[str, Any], bot: Bot
) -> tuple[Reply, tuple[bytes, str] | None]:
    """The reply :func:`encode_reply` wrote (and its document, if any)."""
    markup = payload.get("markup")
    reply = Reply(
        chat_id,
        str(payload["text"]),
        payload.get("thread_id"),
        InlineKeyboardMarkup.de_json(markup, bot) if markup else None,
    )
    document = payload.get("document")
    if not document:
        return reply, None
    return reply, (base64.b64decode(document["data"]), str(document["filename"]))


class RoutedReplier(Replier):
    """A ``Replier`` that sends while this process is the sender and queues otherwise."""

    def __init__(
        self,
        bot: Bot,
        slots: SendSlots,
        clock: Clock,
        *,
        secrets: Sequence[str] = (),
        sending: Callable[[], bool],
        queue: Queue,
    ) -> None:
        super().__init__(bot, slots, clock, secrets=secrets)
        self._bot_for_decoding = bot
        self._sending = sending
        self._queue = queue
        self._documents: set[asyncio.Task[bool]] = set()

    async def send(self, reply: Reply) -> bool:
        """Send on this process's slots when it is the sender; else queue it for the sender.

        A queued reply counts as sent (True). Raises the database's error when it cannot
        be queued.
        """
        if self._sending():
            return await super().send(reply)
        await self._queue(reply.chat_id, encode_reply(reply), self._clock.time())
        return True

    async def send_document(self, reply: Reply, data: bytes, filename: str) -> bool:
        """As ``Replier.send_document`` on the sender; queued (True) elsewhere."""
        if self._sending():
            return await super().send_document(reply, data, filename)
        payload = encode_reply(reply, (data, filename))
        await self._queue(reply.chat_id, payload, self._clock.time())
        return True

    async def relay(self, queued: QueuedReply) -> None:
        """Send a reply another process queued (the caller holds the sender's lease)."""
        age = self._clock.time() - queued.created_at
        if age > MAX_QUEUED_AGE:
            event(log, logging.INFO, "reply_expired", chat_id=queued.chat_id, age=f"{age:.0f}s")
            return
        reply, document = decode_reply(queued.chat_id, queued.payload, self._bot_for_decoding)
        if document is None:
            await Replier.send(self, reply)
            return
        # A document waits for its slot in the caller: not in the pump's loop.
        task = asyncio.create_task(Replier.send_document(self, reply, *document))
        self._documents.add(task)
        task.add_done_callback(self._documents.discard)

    @property
    def pending(self) -> int:
        return super().pending + len(self._documents)

    async def close(self, grace_seconds: float) -> None:
        if self._documents:
            await asyncio.wait(self._documents, timeout=grace_seconds)
        await super().close(grace_seconds)


class ReplyPump:
    """On the sender: takes queued replies from the database and sends them, when woken."""

    def __init__(
        self,
        take: Callable[[int], Awaitable[list[QueuedReply]]],
        replier: RoutedReplier,
        clock: Clock,
        *,
        idle_seconds: float,
    ) -> None:
        self._take = take
        self._replier = replier
        self._clock = clock
        self._idle = idle_seconds
        self._wake = asyncio.Event()
        self._working = False

    @property
    def busy(self) -> bool:
        """A pass is under way or was asked for."""
        return self._working or self._wake.is_set()

    def wake(self) -> None:
        """A reply was queued: look now."""
        self._wake.set()

    async def run(self) -> None:
        """Send queued replies until cancelled; look every ``idle_seconds`` at the latest."""
        while True:
            self._wake.clear()
            self._working = True
            try:
                await self._pass()
            except Exception:
                # A database error: the replies stay queued; look again at the next wake.
                log.exception("reply_pump_failed")
            finally:
                self._working = False
            await self._clock.wait(self._wake, self._idle)

    async def _pass(self) -> None:
        while True:
            taken = await self._take(BATCH)
            for queued in taken:
                await self._replier.relay(queued)
            if len(taken) < BATCH:
                return
