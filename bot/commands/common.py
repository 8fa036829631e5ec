"""What every command handler needs: services, language, replies, the target chat."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.commands.rights import actor_of, read_refusal, refusal
from bot.commands.splitting import split_reply
from bot.i18n import pick_language, t
from bot.i18n.values import LABEL_UNITS, shown
from bot.logs import event
from bot.models import Subscription
from bot.redact import scrub
from bot.replies import Reply
from bot.services import Services

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


class CommandError(Exception):
    """Bad input: the message is the one-line reply (already HTML-safe)."""


def services_of(context: Context) -> Services:
    services = context.application.bot_data["services"]
    assert isinstance(services, Services)  # noqa: S101 - wiring invariant, set in bot.app
    return services


@dataclass(frozen=True, slots=True)
class Target:
    """The chat a command acts on: the current one, or a channel managed from a private chat."""

    chat_id: int
    thread_id: int | None
    lang: str


async def language(services: Services, update: Update) -> str:
    chat = update.effective_chat
    stored = await services.store.get_chat(chat.id) if chat is not None else None
    user = update.effective_user
    return pick_language(stored.language if stored else None, user.language_code if user else None)


async def reply(
    update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer in the chat (and forum topic) the command came from.

    ``text`` is Telegram HTML whose lines are balanced and whose values were shown
    through ``bot.i18n.values`` (``t`` does it). What one message cannot hold goes
    in the next, at line boundaries, up to ``MAX_PARTS`` messages, the last saying
    how many lines were left out (``bot.commands.splitting``); the keyboard goes
    with the last. Each message books the chat's next send slot and goes out then,
    without holding up the handler (``bot.replies``); a chat that floods the bot
    loses replies.
    """
    message = update.effective_message
    services = services_of(context)
    replier = services.replier
    if message is None or replier is None:
        return
    parts, left_out = split_reply(text)
    if left_out:
        notice = t(await language(services, update), "reply_cut", count=left_out)
        parts[-1:] = ["\n".join([*parts[-1:], notice])]
    thread = thread_of(message)
    sender = sender_of(update)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        # Only the first part is the sender's ask; the rest continue it.
        asked_by = sender if index == 0 else None
        await replier.send(
            Reply(message.chat_id, part, thread, markup if last else None, sender=asked_by)
        )


def sender_of(update: Update) -> int | None:
    """Who sent an update: the chat a message spoke for (an anonymous admin, a channel
    post), else its user."""
    actor = actor_of(update)
    return actor.sender_chat_id if actor.sender_chat_id is not None else actor.user_id


async def reply_lines(update: Update, context: Context, lines: list[str]) -> None:
    """Send ``lines`` (balanced HTML each) in as few messages as Telegram allows."""
    await reply(update, context, "\n".join(lines))


def keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One button per row from (label, callback data) pairs; labels scrubbed (a feed's URL
    may carry its reader's key: ``bot.redact``) and then as ``shown`` makes them."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(shown(scrub(label), LABEL_UNITS), callback_data=data)]
            for label, data in buttons
        ]
    )


def thread_of(message: Message | None) -> int | None:
    """The forum topic a command was sent in, if any."""
    if message is not None and message.is_topic_message:
        return message.message_thread_id
    return None


def whole_number(text: str, *, digits: int = 18) -> int | None:
    """An ASCII whole number of at most ``digits`` digits, else None.

    ``str.isdigit`` alone accepts "²" and numbers SQLite cannot hold.
    """
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None


def is_chat_ref(word: str) -> bool:
    """``@channel`` or ``-100123``: the command manages another chat."""
    return word.startswith("@") or (word.startswith("-") and whole_number(word[1:]) is not None)


async def resolve_target(
    update: Update, context: Context, args: list[str], *, reading: bool = False
) -> Target:
    """The chat a command acts on; consumes a leading ``@channel``/``-100…`` argument.

    Raises CommandError unless the sender may change that chat, or with ``reading``
    only see its subscriptions (``bot.commands.rights``); a chat is stored only once
    it passed.
    """
    services = services_of(context)
    lang = await language(services, update)
    chat, message = update.effective_chat, update.effective_message
    if chat is None:
        raise CommandError(t(lang, "error"))
    allowed = services.settings.access.allowed_chats
    if args and is_chat_ref(args[0]):
        ref = args.pop(0)
        try:
            target = await context.bot.get_chat(ref if ref.startswith("@") else int(ref))
        except (BadRequest, Forbidden) as exc:
            # Telegram's own words (or a proxy's) never reach the chat; the log has them.
            event(log, logging.INFO, "target_unknown", ref=ref, error=exc.message)
            raise CommandError(t(lang, "bad_target", ref=ref)) from exc
        if reading:
            refused = await read_refusal(context, target, actor_of(update), allowed, here=False)
        else:
            refused = await refusal(context, target, actor_of(update), allowed)
        if refused is not None:
            raise CommandError(t(lang, refused))
        await services.store.ensure_chat(target.id, kind=target.type, title=target.title or "")
        return Target(target.id, None, lang)
    if reading:
        refused = await read_refusal(context, chat, actor_of(update), allowed, here=True)
    else:
        refused = await refusal(context, chat, actor_of(update), allowed)
    if refused is not None:
        raise CommandError(t(lang, refused))
    title = chat.title or chat.full_name or ""
    await services.store.ensure_chat(chat.id, kind=chat.type, title=title)
    return Target(chat.id, thread_of(message), lang)


async def find_subscription(services: Services, chat_id: int, ref: str, lang: str) -> Subscription:
    """A subscription named by ``3``, ``#3`` or its URL."""
    number = whole_number(ref.removeprefix("#"), digits=9)
    found = (
        await services.store.get_subscription(chat_id, number)
        if number is not None
        else await services.store.find_subscription(chat_id, ref)
    )
    if found is None:
        raise CommandError(t(lang, "unknown_sub", what=ref))
    return found


def command_args(context: Context) -> list[str]:
    return list(context.args or [])


def callback_parts(data: Any, prefix: str) -> list[str] | None:
    if isinstance(data, str) and data.startswith(prefix + ":"):
        return data.split(":")[1:]
    return None


Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def command(func: Handler) -> Handler:
    """Turn a CommandError raised by ``func`` into its one-line reply."""

    @functools.wraps(func)
    async def wrapper(update: Update, context: Context) -> None:
        try:
            await func(update, context)
        except CommandError as exc:
            await reply(update, context, str(exc))

    return wrapper
