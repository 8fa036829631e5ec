"""Button presses: each one answered exactly once, its callback data treated as untrusted input.

A callback query carries whatever data the client sends: a forged ``unsub:N`` or
``set:N:pictures`` may name any subscription id (they are small sequential
numbers), an old keyboard names subscriptions that are gone, and a modified
client may send any prefix at all. Hence:

- ``button`` wraps every press handler. It checks the data's shape (the prefix
  and the number of ``:``-separated fields) and answers the query once
  (answerCallbackQuery; Telegram refuses a second answer with "query is too old
  and response timeout expired or query ID is invalid"), with the notice the
  handler returned, the refusal it raised (``ButtonRefused``), or "something went
  wrong" when it failed (the error is then logged by the application's error
  handler); an unanswered press leaves the user's client spinning.
- ``pressed_subscription`` resolves the subscription id in the data and checks it
  against the chat the button was pressed in (``rights.pressed_refusal``); an id of
  another chat's subscription is answered exactly as an unknown id, so presses
  cannot probe which ids exist.
- ``stale_button`` answers any press no other handler recognises.
- ``edit`` changes the pressed message; "message is not modified" is no failure.

Why check ownership rather than sign the data: a signature would only prove that
the bot once drew this button, while whether the presser may change that chat
*now* (still its admin? still on ``allowed_chats``?) must be asked at press time
anyway, and once it is asked a signature adds nothing but a key to keep secret
and rotate. Keyboards already in chats keep working, and the data stays short
(``set:<id>:summary`` is far below Telegram's 64 bytes).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import CallbackQuery, MaybeInaccessibleMessage, Update
from telegram.error import TelegramError

from bot.commands.common import Context, callback_parts, language, services_of, whole_number
from bot.commands.pending import Pending, pending_book
from bot.commands.rights import pressed_refusal
from bot.i18n import plain
from bot.i18n.values import NOTICE_UNITS, shown
from bot.models import Subscription
from bot.telegram_answers import unchanged


class ButtonRefused(Exception):  # noqa: N818 -- a refusal, not an error
    """The press changes nothing; ``key`` names the notice (a reply text key)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(slots=True)
class _Answered:
    done: bool = False


@dataclass(frozen=True, slots=True)
class Press:
    """One button press whose data had the expected shape."""

    update: Update
    context: Context
    query: CallbackQuery
    fields: list[str]
    """The data after the prefix, split at ``:``; exactly as many as the handler expects."""
    lang: str
    answered: _Answered = field(default_factory=_Answered)

    async def answer_now(self, notice: str | None = None) -> None:
        """Answer the press at once, before a long action (Telegram wants an answer within
        seconds); the handler's own notice is then not sent."""
        if not self.answered.done:
            self.answered.done = True
            await _answer(self.query, notice)


PressHandler = Callable[[Press], Awaitable[str | None]]
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def button(prefix: str | None, fields: int = 0) -> Callable[[PressHandler], Handler]:
    """Make a press handler for data ``<prefix>:<field>…`` with ``fields`` fields.

    ``prefix`` None takes any data. The handler returns the notice to answer with
    (plain text, or None for none) or raises ``ButtonRefused``; data of another
    shape is refused as stale without calling it. The query is answered once in
    every case: at the end, or earlier when the handler calls ``Press.answer_now``.
    """

    def wrap(func: PressHandler) -> Handler:
        @functools.wraps(func)
        async def handler(update: Update, context: Context) -> None:
            query = update.callback_query
            if query is None:
                return
            lang, notice, answered = "en", None, _Answered()
            try:
                lang = await language(services_of(context), update)
                parts = _fields(query.data, prefix, fields)
                notice = await func(Press(update, context, query, parts, lang, answered))
            except ButtonRefused as refused:
                notice = plain(lang, refused.key)
            except Exception:
                notice = plain(lang, "error")
                raise
            finally:
                if not answered.done:
                    await _answer(query, notice)

        return handler

    return wrap


def _fields(data: object, prefix: str | None, count: int) -> list[str]:
    """The ``count`` fields of ``<prefix>:<field>…`` data; ButtonRefused for any other shape."""
    parts = [] if prefix is None else callback_parts(data, prefix)
    if parts is None or len(parts) != count:
        raise ButtonRefused("button_stale")
    return parts


async def _answer(query: CallbackQuery, notice: str | None) -> None:
    """Answer the press; a notice is cut to what Telegram accepts (0-200 characters)."""
    try:
        await query.answer(shown(notice, NOTICE_UNITS) if notice else None)
    except TelegramError:
        # Nothing left to tell the user through: the query expired or was answered.
        return


async def pressed_subscription(press: Press, raw_id: str) -> Subscription:
    """The subscription ``raw_id`` names, if the presser may change it from the pressed chat.

    Raises ButtonRefused: ``button_stale`` for an id that is not a number or names no
    subscription (or a press without its message), else the key of
    ``rights.pressed_refusal``.
    """
    number = whole_number(raw_id)
    services = services_of(press.context)
    found = await services.store.get_subscription_by_id(number) if number is not None else None
    message = press.query.message
    if found is None or message is None:
        raise ButtonRefused("button_stale")
    await check_press(press, message, found.chat_id)
    return found


async def check_press(
    press: Press, message: MaybeInaccessibleMessage, owner_id: int, *, reading: bool = False
) -> None:
    """Raise ButtonRefused with ``rights.pressed_refusal``'s key unless the presser may
    change (with ``reading``: see) chat ``owner_id`` by a press on ``message``."""
    refused = await pressed_refusal(
        press.context,
        message.chat,
        owner_id,
        press.query.from_user.id,
        services_of(press.context).settings.access.allowed_chats,
        reading=reading,
    )
    if refused is not None:
        raise ButtonRefused(refused)


async def pressed_pending(
    press: Press, token: str, action: str, stale: str
) -> tuple[Pending, MaybeInaccessibleMessage]:
    """The pending ``action`` that ``token`` names, spent, if the presser may do it here;
    and the pressed message.

    The token must name an open ``action`` shown in the chat pressed in
    (``bot.commands.pending``), and the presser must pass the rights rule for the
    chat it changes (``rights.pressed_refusal``). Raises ButtonRefused: ``stale`` for
    any token that fails the first test (unknown, forged, expired, spent, another
    chat's, or spent by a press checked meanwhile), else the rights rule's key; a
    refused press spends nothing.
    """
    message = press.query.message
    services = services_of(press.context)
    book = pending_book(press.context)
    now = services.clock()
    found = book.peek(token, action, message.chat.id, now) if message is not None else None
    if message is None or found is None:
        raise ButtonRefused(stale)
    await check_press(press, message, found.chat_id)
    if book.take(token, action, message.chat.id, now) is None:
        raise ButtonRefused(stale)
    return found, message


async def edit(change: Awaitable[object]) -> None:
    """Await an edit of the pressed message; one that would change nothing is fine."""
    try:
        await change
    except TelegramError as error:
        if not unchanged(error):
            raise


@button(None)
async def stale_button(press: Press) -> str | None:
    """A press no handler recognises (an unknown prefix, an old keyboard): say it is stale."""
    raise ButtonRefused("button_stale")
