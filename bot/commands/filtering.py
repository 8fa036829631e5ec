"""/filter: set, show (with a ✓/✗ preview on the latest entries) or clear a keyword filter."""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.commands.common import (
    CommandError,
    Context,
    Target,
    command,
    command_args,
    find_subscription,
    is_chat_ref,
    reply,
    resolve_target,
    services_of,
)
from bot.feeds.failure import FetchError
from bot.filters import FilterSyntaxError, compile_filter
from bot.i18n import plain, t
from bot.i18n.failures import fetch_failure_text
from bot.i18n.filter_errors import filter_error_text
from bot.i18n.values import TITLE_UNITS, shown
from bot.models import Subscription
from bot.services import Services
from bot.services.filter_preview import preview_filter

NUMBERS_SHOWN = 10
"""Subscriptions named in a reply about the chat's filters; more are an ellipsis."""


def _expression(text: str, skip: int) -> str:
    """The raw text after the command and ``skip`` argument words, quotes and spaces intact."""
    rest = text
    for _ in range(skip + 1):
        parts = rest.split(maxsplit=1)
        rest = parts[1] if len(parts) > 1 else ""
    return rest.strip()


async def _preview(services: Services, sub: Subscription, expr: str, lang: str) -> list[str]:
    try:
        preview = await preview_filter(services, sub, expr)
    except FetchError as exc:
        return [t(lang, "filter_preview_failed", reason=fetch_failure_text(lang, exc))]
    lines = [t(lang, "filter_preview_head", title=preview.title)]
    for title, passed in preview.verdicts:
        lines.append(f"{'✓' if passed else '✗'} {escape(shown(title, TITLE_UNITS), quote=False)}")
    return lines


@command
async def filter_command(update: Update, context: Context) -> None:
    """Set, show or clear the filter of one subscription or of the whole chat (``all``)."""
    args = command_args(context)
    had_ref = bool(args) and is_chat_ref(args[0])
    target = await resolve_target(update, context, args)
    if not args:
        raise CommandError(t(target.lang, "filter_usage"))
    services = services_of(context)
    message = update.effective_message
    expr = _expression(message.text or "" if message else "", 2 if had_ref else 1)
    if args[0].lower() == "all":
        await _chat_filter(update, context, target, expr)
    else:
        sub = await find_subscription(services, target.chat_id, args[0], target.lang)
        await _sub_filter(update, context, target, sub, expr)


def _words(expr: str, lang: str, *, stored: bool = False) -> str:
    """The filter in words; a refused one ends the command with the reason."""
    try:
        return compile_filter(expr, stored=stored).describe(lang)
    except FilterSyntaxError as exc:
        raise CommandError(filter_error_text(lang, exc)) from exc


def _numbers(lang: str, subs: list[Subscription]) -> str:
    """``#2, #5`` (``#2、#5``): the first ``NUMBERS_SHOWN`` subscriptions, then ``…``."""
    shown = [f"#{sub.number}" for sub in subs[:NUMBERS_SHOWN]]
    return plain(lang, "list_join").join(shown) + ("…" if len(subs) > NUMBERS_SHOWN else "")


async def _chat_filter(update: Update, context: Context, target: Target, expr: str) -> None:
    services = services_of(context)
    store = services.store
    lang = target.lang
    if expr.lower() == "off":
        await store.set_chat_filter(target.chat_id, "")
        filtered = await _filtered(services, target.chat_id)
        if filtered:
            text = t(
                lang, "filter_cleared_chat_subs", count=len(filtered), subs=_numbers(lang, filtered)
            )
        else:
            text = t(lang, "filter_cleared_chat")
        await reply(update, context, text)
    elif expr:
        words = _words(expr, lang)
        await store.set_chat_filter(target.chat_id, compile_filter(expr).expression)
        await reply(update, context, t(lang, "filter_set_chat", words=words))
    else:
        chat = await store.get_chat(target.chat_id)
        current = chat.filter_expr if chat else ""
        if current:
            words = _words(current, lang, stored=True)
            await reply(update, context, t(lang, "filter_show_chat", expr=current, words=words))
            return
        filtered = await _filtered(services, target.chat_id)
        if filtered:
            text = t(
                lang,
                "filter_none_chat_subs",
                count=len(filtered),
                subs=_numbers(lang, filtered),
                first=filtered[0].number,
            )
        else:
            text = t(lang, "filter_none_chat")
        await reply(update, context, text)


async def _filtered(services: Services, chat_id: int) -> list[Subscription]:
    """The chat's subscriptions that have a filter of their own, by number."""
    subs = await services.store.list_subscriptions(chat_id)
    return sorted((sub for sub in subs if sub.filter_expr), key=lambda sub: sub.number)


async def _chat_has_filter(services: Services, chat_id: int) -> bool:
    chat = await services.store.get_chat(chat_id)
    return bool(chat and chat.filter_expr)


async def _sub_filter(
    update: Update, context: Context, target: Target, sub: Subscription, expr: str
) -> None:
    services = services_of(context)
    store = services.store
    lang = target.lang
    number = sub.number
    if expr.lower() == "off":
        await store.set_subscription_filter(sub.id, "")
        chat_filter = await _chat_has_filter(services, sub.chat_id)
        key = "filter_cleared_sub_chat" if chat_filter else "filter_cleared_sub"
        await reply(update, context, t(lang, key, number=number))
        return
    if expr:
        words = _words(expr, lang)
        canonical = compile_filter(expr).expression
        await store.set_subscription_filter(sub.id, canonical)
        head = t(lang, "filter_set_sub", number=number, words=words)
        preview = await _preview(services, sub, canonical, lang)
        await reply(update, context, "\n".join([head, *preview]))
        return
    if not sub.filter_expr:
        chat_filter = await _chat_has_filter(services, sub.chat_id)
        key = "filter_none_sub_chat" if chat_filter else "filter_none_sub"
        await reply(update, context, t(lang, key, number=number))
        return
    words = _words(sub.filter_expr, lang, stored=True)
    shown = t(lang, "filter_show_sub", number=number, expr=sub.filter_expr, words=words)
    preview = await _preview(services, sub, sub.filter_expr, lang)
    await reply(update, context, "\n".join([shown, *preview]))
