"""/pause and /resume: thin handlers over ``bot.services.pausing``, which holds the rules."""

from __future__ import annotations

from telegram import Update

from bot.commands.common import (
    CommandError,
    Context,
    command,
    command_args,
    find_subscription,
    reply,
    reply_lines,
    resolve_target,
    services_of,
)
from bot.i18n import t
from bot.i18n.failures import fetch_failure_text
from bot.services.pausing import (
    MAX_RESUME_BACKLOG,
    Resumed,
    pause_subscriptions,
    resume_subscriptions,
)


def _resumed_line(result: Resumed, lang: str) -> str:
    sub = result.subscription
    title = sub.title or sub.url
    if result.error is not None:
        reason = fetch_failure_text(lang, result.error)
        return t(lang, "resume_unchecked", number=sub.number, reason=reason)
    if result.total > MAX_RESUME_BACKLOG:
        return t(
            lang,
            "resume_backlog_capped",
            title=title,
            number=sub.number,
            count=result.queued,
            total=result.total,
            limit=MAX_RESUME_BACKLOG,
        )
    if result.total:
        return t(lang, "resume_backlog", title=title, number=sub.number, count=result.queued)
    key = "resume_backlog_none" if result.backlog else "resume_ok"
    return t(lang, key, title=title, number=sub.number)


@command
async def pause(update: Update, context: Context) -> None:
    """Stop deliveries of one subscription or of all of them; nothing is unsubscribed."""
    args = command_args(context)
    target = await resolve_target(update, context, args)
    if len(args) != 1:
        raise CommandError(t(target.lang, "pause_usage"))
    services = services_of(context)
    if args[0].lower() == "all":
        subscriptions = await services.store.list_subscriptions(target.chat_id)
        running = [s for s in subscriptions if not s.paused]
        await pause_subscriptions(services, running)
        await reply(update, context, t(target.lang, "pause_all", count=len(running)))
        return
    sub = await find_subscription(services, target.chat_id, args[0], target.lang)
    title = sub.title or sub.url
    if sub.paused:
        raise CommandError(t(target.lang, "pause_already", title=title, number=sub.number))
    await pause_subscriptions(services, [sub])
    await reply(update, context, t(target.lang, "pause_ok", title=title, number=sub.number))


@command
async def resume(update: Update, context: Context) -> None:
    """Restart deliveries; ``backlog`` also sends what appeared during the pause."""
    args = command_args(context)
    target = await resolve_target(update, context, args)
    backlog = len(args) == 2 and args[1].lower() == "backlog"
    if not args or len(args) > 2 or (len(args) == 2 and not backlog):
        raise CommandError(t(target.lang, "resume_usage"))
    services = services_of(context)
    if args[0].lower() == "all":
        paused = [s for s in await services.store.list_subscriptions(target.chat_id) if s.paused]
        if not paused:
            raise CommandError(t(target.lang, "nothing_to_resume"))
        results = await resume_subscriptions(services, paused, backlog=backlog)
        lines = [t(target.lang, "resume_all", count=len(results))]
        lines += [_resumed_line(r, target.lang) for r in results if r.error or r.total]
        await reply_lines(update, context, lines)
        return
    sub = await find_subscription(services, target.chat_id, args[0], target.lang)
    if not sub.paused:
        raise CommandError(
            t(target.lang, "resume_not_paused", title=sub.title or sub.url, number=sub.number)
        )
    (result,) = await resume_subscriptions(services, [sub], backlog=backlog)
    lines = [_resumed_line(result, target.lang)]
    if result.error is not None:
        lines.insert(0, t(target.lang, "resume_ok", title=sub.title or sub.url, number=sub.number))
    await reply(update, context, "\n".join(lines))
