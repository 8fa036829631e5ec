"""The outbox worker: sends queued messages under Telegram's limits.

A row leaves the outbox only after Telegram answered: delivered rows are
deleted, refused ones are marked failed with the reason. A crash therefore
loses nothing; only a message in flight at that moment may arrive twice.
What each answer means is decided by ``bot.telegram_answers.classify``; this
module only dispatches sends and carries out the verdicts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from telegram import Bot, InputMediaPhoto, LinkPreviewOptions
from telegram import MessageEntity as TgEntity
from telegram.error import TelegramError

from bot.clock import Clock
from bot.logs import event
from bot.models import MessageEntity, OutgoingMessage
from bot.ratelimit import SendSlots
from bot.store import OutboxRow, Store
from bot.telegram_answers import Action, Verdict, classify

log = logging.getLogger(__name__)

IDLE_SECONDS = 30.0
BATCH = 500
DISPATCH_ERROR_PAUSE = 5.0
BOOKING_HORIZON = 1.0
"""Seconds ahead the worker books send slots in one pass."""


def _tg_entities(entities: tuple[MessageEntity, ...]) -> list[TgEntity]:
    return [
        TgEntity(type=e.type, offset=e.offset, length=e.length, url=e.url, language=e.language)
        for e in entities
    ]


def plain_form(message: OutgoingMessage) -> OutgoingMessage:
    """The last-resort form: title and link as text, no entities, no pictures."""
    return OutgoingMessage(
        text=message.plain_text or message.text,
        link_preview_url=message.link_preview_url,
        plain_text=message.plain_text,
    )


def _without_pictures(message: OutgoingMessage) -> OutgoingMessage:
    """The text form of the message: what goes when Telegram cannot use its pictures."""
    return dataclasses.replace(message, photo_urls=(), caption="", caption_entities=())


def _is_plain(message: OutgoingMessage) -> bool:
    return not message.photo_urls and not message.entities and message.text == message.plain_text


class Deliverer:
    """Runs the outbox: one message in flight per chat, many chats at once."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        *,
        clock: Clock,
        slots: SendSlots,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        """``on_outcome`` hears how each send ended: ``delivered`` or the verdict's action."""
        self._bot = bot
        self._on_outcome = on_outcome or (lambda _outcome: None)
        self._store = store
        self._clock = clock
        self._slots = slots
        self._wake = asyncio.Event()
        self._busy_chats: set[int] = set()
        self._sends: set[asyncio.Task[None]] = set()
        self._sending: set[asyncio.Task[None]] = set()
        """The sends past their slot wait: in flight or acting on the answer."""
        self._working = 0
        self._ended: set[int] = set()
        """Rows whose send ended since the current pass began reading the outbox."""

    @property
    def busy(self) -> bool:
        """Whether an outbox pass or a send (past its slot wait) is under way, or asked for."""
        return bool(self._working) or self._wake.is_set()

    def wake(self) -> None:
        """New rows are waiting: look at the outbox now rather than at the next timer."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch until cancelled."""
        while True:
            self._wake.clear()
            try:
                delay = await self.dispatch()
            except Exception:
                # The outbox keeps every row; a passing database error must not end
                # sending for good. Log it loudly and look again shortly.
                log.exception("dispatch_failed")
                delay = DISPATCH_ERROR_PAUSE
            await self._clock.wait(self._wake, delay)

    async def drain(self, grace_seconds: float) -> None:
        """On shutdown: let the sends under way finish, up to ``grace_seconds``.

        Sends still waiting for their slot are cancelled at once: their rows stay
        in the outbox and go after the restart, so there is nothing to wait for.
        """
        for task in self._sends - self._sending:
            task.cancel()
        if self._sends:
            await asyncio.wait(self._sends, timeout=grace_seconds)

    async def dispatch(self) -> float:
        """Start a send for every chat whose budget allows; return seconds until the next look."""
        self._working += 1
        try:
            return await self._dispatch()
        finally:
            self._working -= 1

    async def _dispatch(self) -> float:
        now = self._clock.time()
        delay = IDLE_SECONDS
        # A send that ends while this pass reads the outbox may still be read as pending:
        # PostgreSQL's pooled connections answer in any order (SQLite's one thread answers
        # in turn). Its chat is no longer busy then, but its row must not go out again.
        self._ended = set()
        heads = await self._store.outbox_heads(now, BATCH)
        if heads.next_at is not None:
            delay = min(delay, heads.next_at - now)
        for row in heads.ready:
            if row.chat_id in self._busy_chats or row.id in self._ended:
                continue
            cost = max(1, len(row.message.photo_urls))
            # Book slots up to a second ahead, so that one pass can fill the bot-wide
            # rate; further ahead would hold a chat's replies back behind an entry.
            wait = self._slots.reserve(row.chat_id, cost, max_wait=BOOKING_HORIZON)
            if wait is None:
                delay = min(delay, self._slots.wait_time(row.chat_id, cost))
                continue
            self._busy_chats.add(row.chat_id)
            task = asyncio.create_task(self._send_row(row, wait))
            self._sends.add(task)
            task.add_done_callback(self._sent)
        return max(delay, 0.01)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sends.discard(task)
        self.wake()

    async def _send_row(self, row: OutboxRow, wait: float) -> None:
        task = asyncio.current_task()
        try:
            await self._clock.sleep(wait)
            self._working += 1
            if task is not None:
                self._sending.add(task)
            try:
                await self._attempt(row)
            finally:
                self._working -= 1
                if task is not None:
                    self._sending.discard(task)
        finally:
            self._ended.add(row.id)
            self._busy_chats.discard(row.chat_id)

    async def _attempt(self, row: OutboxRow) -> None:
        """Send ``row`` now (its slot has come) and act on Telegram's answer."""
        verdict: Verdict | None = None
        with self._slots.sending():
            try:
                await self._send(row.chat_id, row.thread_id, row.message)
            except TelegramError as exc:
                verdict = classify(
                    exc,
                    has_pictures=bool(row.message.photo_urls),
                    is_plain=_is_plain(row.message),
                    attempts=row.attempts + 1,
                )
        if verdict is None:
            await self._store.mark_delivered(row.id, now=self._clock.time())
            self._on_outcome("delivered")
        else:
            self._on_outcome(verdict.action.value)
            await self._act(row, verdict)

    async def _act(self, row: OutboxRow, verdict: Verdict) -> None:
        """Carry out what Telegram's answer to ``row`` means."""
        store, now, chat_id = self._store, self._clock.time(), row.chat_id
        match verdict.action:
            case Action.WAIT_CHAT:
                self._slots.block_chat(chat_id, verdict.seconds)
                await store.defer_chat(chat_id, not_before=now + verdict.seconds)
                event(
                    log,
                    logging.WARNING,
                    "rate_limited",
                    chat_id=chat_id,
                    retry_after=verdict.seconds,
                )
            case Action.DEACTIVATE:
                await store.set_chat_active(chat_id, False, reason=verdict.reason)
                failed = await store.fail_chat_outbox(chat_id, error=verdict.reason, now=now)
                event(
                    log,
                    logging.WARNING,
                    "chat_deactivated",
                    chat_id=chat_id,
                    reason=verdict.reason,
                    dropped=failed,
                )
            case Action.MIGRATE:
                assert verdict.new_chat_id is not None  # noqa: S101 - set by classify for MIGRATE
                await store.migrate_chat(chat_id, verdict.new_chat_id)
                event(
                    log,
                    logging.INFO,
                    "chat_migrated",
                    chat_id=chat_id,
                    new_chat_id=verdict.new_chat_id,
                )
            case Action.FAIL:
                await store.mark_failed(row.id, error=verdict.reason, now=now)
                event(
                    log,
                    logging.ERROR,
                    "delivery_failed",
                    chat_id=chat_id,
                    feed_id=row.feed_id,
                    entry=row.entry_key,
                    error=verdict.reason,
                )
            case Action.WITHOUT_PICTURES | Action.PLAIN_TEXT:
                fallback = (
                    _without_pictures(row.message)
                    if verdict.action is Action.WITHOUT_PICTURES
                    else plain_form(row.message)
                )
                event(
                    log,
                    logging.WARNING,
                    "message_refused",
                    feed_id=row.feed_id,
                    entry=row.entry_key,
                    error=verdict.reason,
                    fallback=verdict.action.value,
                )
                await store.replace_outbox_message(row.id, fallback)
            case Action.RETRY | Action.RETRY_WITHOUT_PICTURES:
                if verdict.action is Action.RETRY_WITHOUT_PICTURES:
                    await store.replace_outbox_message(row.id, _without_pictures(row.message))
                await store.defer(row.id, not_before=now + verdict.seconds, error=verdict.reason)
                event(
                    log,
                    logging.WARNING,
                    "send_retry",
                    chat_id=chat_id,
                    error=verdict.reason,
                    backoff=verdict.seconds,
                )

    async def _send(self, chat_id: int, thread_id: int | None, message: OutgoingMessage) -> None:
        bot = self._bot
        if len(message.photo_urls) == 1:
            await bot.send_photo(
                chat_id,
                photo=message.photo_urls[0],
                caption=message.caption,
                caption_entities=_tg_entities(message.caption_entities),
                message_thread_id=thread_id,
            )
        elif message.photo_urls:
            media = [
                InputMediaPhoto(
                    media=url,
                    caption=message.caption if index == 0 else None,
                    caption_entities=_tg_entities(message.caption_entities) if index == 0 else None,
                )
                for index, url in enumerate(message.photo_urls[:10])
            ]
            await bot.send_media_group(chat_id, media=media, message_thread_id=thread_id)
        else:
            preview = (
                LinkPreviewOptions(is_disabled=True)
                if message.link_preview_url is None
                else LinkPreviewOptions(url=message.link_preview_url)
            )
            await bot.send_message(
                chat_id,
                message.text,
                entities=_tg_entities(message.entities),
                link_preview_options=preview,
                message_thread_id=thread_id,
            )
