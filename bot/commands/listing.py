"""/list: a chat's subscriptions with id, title and URL (shown, not hidden in a link), paged.

Who may read: anyone in the chat, and from a private chat the members of a named
group or channel (``rights.read_refusal``): reading changes nothing, and they receive
those deliveries anyway.

A long list is cut into pages of at most ``PAGE_ITEMS`` subscriptions and
``PAGE_UNITS`` UTF-16 units, each one message; ``‹``/``›`` buttons carry
``list:<chat id>:<page>``. That data is untrusted: the chat must be the one pressed
in, or (from the presser's private chat) one they may read, else the press is
answered as stale like any forged data (``rights.pressed_refusal``); the page is a
number of at most four digits, clamped to the pages there are now, so a forged one
shows a real page and nothing else. Pages are cut afresh on every press.
"""

from __future__ import annotations

from datetime import UTC, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.commands.buttons import ButtonRefused, Press, button, check_press
from bot.commands.common import (
    Context,
    command,
    command_args,
    reply,
    resolve_target,
    services_of,
    whole_number,
)
from bot.commands.splitting import entity_count, text_units
from bot.i18n import t
from bot.i18n.failures import stored_error_text
from bot.models import Subscription
from bot.replies import Reply
from bot.services import Services
from bot.zones import local_time, zone

PAGE_ITEMS = 20
PAGE_UNITS = 3500
"""A page's text in UTF-16 units: under Telegram's 4096, with room for the header."""
PAGE_ENTITIES = 90
"""Entities (bold, code…) a page may hold: Telegram honours about 100."""


def subscription_lines(
    lang: str, sub: Subscription, paused_at: float | None = None, where: tzinfo = UTC
) -> list[str]:
    """One subscription: ``#3 Title``, its URL on the next line, then filter, pause (since
    ``paused_at``, shown in ``where``), error."""
    lines = [
        t(lang, "list_item", number=sub.number, title=sub.title or sub.url),
        t(lang, "list_url", url=sub.url),
    ]
    if sub.filter_expr:
        lines.append(t(lang, "list_filter", expr=sub.filter_expr))
    if sub.paused and paused_at is not None:
        lines.append(t(lang, "list_paused_since", time=local_time(paused_at, where)))
    elif sub.paused:
        lines.append(t(lang, "list_paused"))
    if sub.last_error:
        lines.append(t(lang, "list_error", error=stored_error_text(lang, sub.last_error)))
    return lines


def paginate(blocks: list[list[str]]) -> list[list[list[str]]]:
    """The blocks (one per subscription) in pages: as many as fit, at least one per page."""
    pages: list[list[list[str]]] = []
    page: list[list[str]] = []
    units = entities = 0
    for block in blocks:
        size = sum(text_units(line) + 1 for line in block)
        count = sum(entity_count(line) for line in block)
        full = units + size > PAGE_UNITS or entities + count > PAGE_ENTITIES
        if page and (len(page) == PAGE_ITEMS or full):
            pages.append(page)
            page, units, entities = [], 0, 0
        page.append(block)
        units += size
        entities += count
    if page:
        pages.append(page)
    return pages


async def list_page(
    services: Services, chat_id: int, lang: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Page ``page`` (1-based, clamped to the pages there are) of the chat's list, and its
    buttons (None when one page holds it all)."""
    store = services.store
    subscriptions = await store.list_subscriptions(chat_id)
    if not subscriptions:
        return t(lang, "list_empty"), None
    chat = await store.get_chat(chat_id)
    where = zone(chat.timezone if chat is not None else None)
    blocks = [
        subscription_lines(
            lang, sub, await store.paused_since(sub.id) if sub.paused else None, where
        )
        for sub in subscriptions
    ]
    pages = paginate(blocks)
    page = min(max(page, 1), len(pages))
    lines = [t(lang, "list_head", count=len(subscriptions))]
    if len(pages) > 1:
        lines[0] += " " + t(lang, "list_page", page=page, pages=len(pages))
    if chat is not None and chat.filter_expr:
        lines.append(t(lang, "list_chat_filter", expr=chat.filter_expr))
    for block in pages[page - 1]:
        lines += block
    return "\n".join(lines), _page_buttons(chat_id, page, len(pages))


def _page_buttons(chat_id: int, page: int, pages: int) -> InlineKeyboardMarkup | None:
    if pages <= 1:
        return None
    row = []
    if page > 1:
        row.append(
            InlineKeyboardButton(f"‹ {page - 1}", callback_data=f"list:{chat_id}:{page - 1}")
        )
    if page < pages:
        row.append(
            InlineKeyboardButton(f"{page + 1} ›", callback_data=f"list:{chat_id}:{page + 1}")
        )
    return InlineKeyboardMarkup([row])


@command
async def list_subscriptions(update: Update, context: Context) -> None:
    """The chat's subscriptions with id, title, URL, filter, paused state and last error."""
    args = command_args(context)
    target = await resolve_target(update, context, args, reading=True)
    text, markup = await list_page(services_of(context), target.chat_id, target.lang, 1)
    await reply(update, context, text, markup)


@button("list", fields=2)
async def list_button(press: Press) -> str | None:
    """A press on a page button: show that page of the list in the same message."""
    raw_chat, raw_page = press.fields
    chat_number = whole_number(raw_chat.removeprefix("-"))
    page = whole_number(raw_page, digits=4)
    message = press.query.message
    if chat_number is None or page is None or message is None:
        raise ButtonRefused("button_stale")
    chat_id = -chat_number if raw_chat.startswith("-") else chat_number
    services = services_of(press.context)
    await check_press(press, message, chat_id, reading=True)
    text, markup = await list_page(services, chat_id, press.lang, page)
    if services.replier is not None:
        edit = Reply(message.chat.id, text, edit_of=message.message_id, markup=markup)
        await services.replier.send(edit)
    return None
