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
from bot.i18n import t
from bot.i18n.failures import fetch_failure_text
from bot.i18n.values import TITLE_UNITS, shown
from bot.models import Subscription
from bot.services import Services
from bot.services.filter_preview import preview_filter


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


def _words(expr: str, lang: str) -> str:
    try:
        return compile_filter(expr).describe(lang)
    except FilterSyntaxError as exc:
        raise CommandError(t(lang, "filter_bad", reason=str(exc))) from exc


async def _chat_filter(update: Update, context: Context, target: Target, expr: str) -> None:
    services = services_of(context)
    name = t(target.lang, "target_chat")
    store = services.store
    if expr.lower() == "off":
        await store.set_chat_filter(target.chat_id, "")
        await reply(update, context, t(target.lang, "filter_cleared", target=name))
    elif expr:
        words = _words(expr, target.lang)
        await store.set_chat_filter(target.chat_id, compile_filter(expr).expression)
        await reply(update, context, t(target.lang, "filter_set", target=name, words=words))
    else:
        chat = await store.get_chat(target.chat_id)
        current = chat.filter_expr if chat else ""
        if not current:
            await reply(update, context, t(target.lang, "filter_none", target=name))
            return
        await reply(
            update,
            context,
            t(
                target.lang,
                "filter_show",
                target=name,
                expr=current,
                words=_words(current, target.lang),
            ),
        )


async def _sub_filter(
    update: Update, context: Context, target: Target, sub: Subscription, expr: str
) -> None:
    services = services_of(context)
    name = t(target.lang, "target_sub", number=sub.number)
    store = services.store
    if expr.lower() == "off":
        await store.set_subscription_filter(sub.id, "")
        await reply(update, context, t(target.lang, "filter_cleared", target=name))
        return
    if expr:
        words = _words(expr, target.lang)
        canonical = compile_filter(expr).expression
        await store.set_subscription_filter(sub.id, canonical)
        head = t(target.lang, "filter_set", target=name, words=words)
        await reply(
            update,
            context,
            "\n".join([head, *await _preview(services, sub, canonical, target.lang)]),
        )
        return
    if not sub.filter_expr:
        await reply(update, context, t(target.lang, "filter_none", target=name))
        return
    shown = t(
        target.lang,
        "filter_show",
        target=name,
        expr=sub.filter_expr,
        words=_words(sub.filter_expr, target.lang),
    )
    await reply(
        update,
        context,
        "\n".join([shown, *await _preview(services, sub, sub.filter_expr, target.lang)]),
    )
