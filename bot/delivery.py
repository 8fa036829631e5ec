"""The outbox worker: sends queued messages under Telegram's limits.

A row leaves the outbox only after Telegram answered: delivered rows are
deleted, refused ones are marked failed with the reason. A crash therefore
loses nothing; only a message in flight at that moment may arrive twice.

What each Telegram answer means:
- RetryAfter (429): that chat waits ``retry_after``; the others go on.
- Forbidden (403): the chat blocked or removed the bot; it is deactivated and
  its queue recorded as failed until someone sends /start there again.
- ChatMigrated: the group became a supergroup; everything moves to the new id.
- BadRequest on pictures: the entry goes again as its text form.
- BadRequest on content: the entry goes once more as plain title + link.
- TimedOut / NetworkError / 5xx: Telegram may or may not have it; retry later
  with backoff, for as long as the outage lasts (a 5xx means it did not take
  it, so that is not a repeat). A picture message that keeps timing out goes
  as its text form instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from datetime import timedelta

from telegram import Bot, InputMediaPhoto, LinkPreviewOptions
from telegram import MessageEntity as TgEntity
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.logs import event
from bot.models import MessageEntity, OutgoingMessage
from bot.ratelimit import SendBudget
from bot.store import OutboxRow, Store

log = logging.getLogger(__name__)

IDLE_SECONDS = 30.0
BATCH = 500
MAX_BACKOFF = 600.0
PHOTO_TIMEOUTS = 3
DISPATCH_ERROR_PAUSE = 5.0

# Telegram's words when it cannot fetch or use a picture (PTB strips "Bad Request: ").
_PICTURE_ERRORS = (
    "wrong file identifier",
    "failed to get http url content",
    "wrong type of the web page content",
    "photo_invalid_dimensions",
    "image_process_failed",
    "webpage_curl_failed",
    "webpage_media_empty",
    "group send failed",
    "wrong remote file identifier",
    "photo_save_file_invalid",
)
_CHAT_GONE_ERRORS = ("chat not found", "message thread not found", "topic_closed", "topic_deleted")


def _tg_entities(entities: tuple[MessageEntity, ...]) -> list[TgEntity]:
    return [
        TgEntity(type=e.type, offset=e.offset, length=e.length, url=e.url, language=e.language)
        for e in entities
    ]


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


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
        self, bot: Bot, store: Store, *, clock: Callable[[], float], budget: SendBudget
    ) -> None:
        self._bot = bot
        self._store = store
        self._clock = clock
        self._budget = budget
        self._wake = asyncio.Event()
        self._busy_chats: set[int] = set()
        self._sends: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> bool:
        """Whether a send is under way."""
        return bool(self._sends)

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
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancel that races with the wake-up, and the worker then never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def drain(self, grace_seconds: float) -> None:
        """Let the sends under way finish (on shutdown), up to ``grace_seconds``."""
        if self._sends:
            await asyncio.wait(self._sends, timeout=grace_seconds)

    async def dispatch(self) -> float:
        """Start a send for every chat whose budget allows; return seconds until the next look."""
        now = self._clock()
        delay = IDLE_SECONDS
        next_due = await self._store.next_outbox_time()
        if next_due is not None and next_due > now:
            delay = min(delay, next_due - now)
        for row in await self._store.outbox_heads(now, BATCH):
            if row.chat_id in self._busy_chats:
                continue
            cost = max(1, len(row.message.photo_urls))
            wait = self._budget.wait_time(row.chat_id, cost)
            if wait > 0:
                delay = min(delay, wait)
                continue
            self._budget.spend(row.chat_id, cost)
            self._busy_chats.add(row.chat_id)
            task = asyncio.create_task(self._send_row(row))
            self._sends.add(task)
            task.add_done_callback(self._sent)
        return max(delay, 0.01)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sends.discard(task)
        self.wake()

    async def _send_row(self, row: OutboxRow) -> None:
        try:
            await self._attempt(row)
        finally:
            self._busy_chats.discard(row.chat_id)

    async def _attempt(self, row: OutboxRow) -> None:
        store, now = self._store, self._clock()
        try:
            await self._send(row.chat_id, row.thread_id, row.message)
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            self._budget.block_chat(row.chat_id, wait)
            await store.defer_chat(row.chat_id, not_before=now + wait)
            event(log, logging.WARNING, "rate_limited", chat_id=row.chat_id, retry_after=wait)
        except Forbidden as exc:
            await store.set_chat_active(row.chat_id, False, reason=exc.message)
            failed = await store.fail_chat_outbox(row.chat_id, error=exc.message, now=now)
            event(
                log,
                logging.WARNING,
                "chat_deactivated",
                chat_id=row.chat_id,
                reason=exc.message,
                dropped=failed,
            )
        except ChatMigrated as exc:
            await store.migrate_chat(row.chat_id, exc.new_chat_id)
            event(
                log, logging.INFO, "chat_migrated", chat_id=row.chat_id, new_chat_id=exc.new_chat_id
            )
        except BadRequest as exc:
            await self._refused(row, exc.message)
        except TelegramError as exc:
            # TimedOut is a NetworkError too: Telegram may have the message; at-least-once.
            # Other answers with no rule above (401 while the token is revoked, 409, a new
            # code) mean Telegram did not take it: retry with backoff too, never spin.
            # Nothing is given up during an outage; but pictures that keep timing out
            # (Telegram fetching them slowly) are dropped so the entry itself gets through.
            attempts = row.attempts + 1
            if isinstance(exc, TimedOut) and row.message.photo_urls and attempts >= PHOTO_TIMEOUTS:
                await store.replace_outbox_message(row.id, _without_pictures(row.message))
            backoff = min(MAX_BACKOFF, 2.0**attempts)
            await store.defer(row.id, not_before=now + backoff, error=exc.message)
            event(
                log,
                logging.WARNING,
                "send_retry",
                chat_id=row.chat_id,
                error=exc.message,
                backoff=backoff,
            )
        else:
            await store.mark_delivered(row.id, now=now)

    async def _refused(self, row: OutboxRow, reason: str) -> None:
        """Telegram refused the message itself: degrade it one step, or record the failure."""
        lowered = reason.lower()
        message = row.message
        now = self._clock()
        if any(marker in lowered for marker in _CHAT_GONE_ERRORS) or _is_plain(message):
            # The chat or topic is gone, or even title + link was refused: record it.
            await self._store.mark_failed(row.id, error=reason, now=now)
            event(
                log,
                logging.ERROR,
                "delivery_failed",
                chat_id=row.chat_id,
                feed_id=row.feed_id,
                entry=row.entry_key,
                error=reason,
            )
            return
        if message.photo_urls and any(marker in lowered for marker in _PICTURE_ERRORS):
            fallback = _without_pictures(message)
        else:
            fallback = plain_form(message)
            event(
                log,
                logging.WARNING,
                "message_refused",
                feed_id=row.feed_id,
                entry=row.entry_key,
                error=reason,
            )
        await self._store.replace_outbox_message(row.id, fallback)
        self.wake()

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
