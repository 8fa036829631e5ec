"""/sub and /unsub (/unsub all asks first: ``bot.commands.unsub_all``)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update

from bot.commands.buttons import Press, button, edit, pressed_subscription
from bot.commands.common import (
    CommandError,
    Context,
    Target,
    command,
    command_args,
    find_subscription,
    keyboard,
    reply,
    reply_lines,
    resolve_target,
    services_of,
    thread_of,
)
from bot.commands.progress import Progress
from bot.commands.unsub_all import ask_unsub_all
from bot.i18n import plain, t
from bot.i18n.failures import fetch_failure_text
from bot.redact import scrub_html, secrets_of
from bot.services import Services
from bot.services.subscriptions import (
    LimitReached,
    NotSubscribed,
    SubscribeResult,
    release_backlog,
    subscribe_all,
)

PROGRESS_FROM = 5
"""A /sub of this many addresses or more shows its progress in one edited message."""


def reason_text(lang: str, result: NotSubscribed) -> str:
    """Why the URL could not be subscribed to, in ``lang``, as plain text (see ``plain``)."""
    if isinstance(result.reason, LimitReached):
        return plain(lang, "sub_limit", limit=result.reason.limit)
    return fetch_failure_text(lang, result.reason)


def result_line(lang: str, result: SubscribeResult) -> str:
    """One reply line per URL: subscribed, already subscribed, or why not."""
    if isinstance(result, NotSubscribed):
        return t(lang, "sub_failed", url=result.url, reason=reason_text(lang, result))
    key = "sub_exists" if result.existed else "sub_ok"
    return t(lang, key, title=result.title, number=result.subscription.number)


def _over_limit(result: SubscribeResult) -> LimitReached | None:
    if isinstance(result, NotSubscribed) and isinstance(result.reason, LimitReached):
        return result.reason
    return None


def report_lines(lang: str, results: list[SubscribeResult]) -> list[str]:
    """One line per URL, in order; the URLs the chat's limit left out share one line."""
    lines = [result_line(lang, result) for result in results if _over_limit(result) is None]
    over = [reason for result in results if (reason := _over_limit(result)) is not None]
    if over:
        lines.append(t(lang, "sub_over_limit", count=len(over), limit=over[0].limit))
    return lines


@command
async def sub(update: Update, context: Context) -> None:
    """Subscribe the chat to each URL given, as many as its limit allows."""
    args = command_args(context)
    target = await resolve_target(update, context, args)
    if not args:
        raise CommandError(t(target.lang, "sub_usage"))
    await subscribe_and_report(update, context, target, args)


async def subscribe_and_report(
    update: Update, context: Context, target: Target, args: Sequence[str]
) -> None:
    """Subscribe ``target`` to each URL in ``args``, as many as its limit allows, and report
    in the chat ``update`` came from (the rights were checked by the caller).

    The feeds are read a few at a time (``subscribe_all``); from ``PROGRESS_FROM``
    URLs on, one message counts them as they are done (``bot.commands.progress``).
    """
    services = services_of(context)
    urls = list(dict.fromkeys(args))  # the same address twice is one subscription
    progress = _progress(update, services, target.lang, len(urls))
    try:
        results = await subscribe_all(
            services,
            target.chat_id,
            target.thread_id,
            urls,
            on_result=progress.advance if progress is not None else None,
        )
    finally:
        if progress is not None:
            await progress.stop()
    if progress is not None:
        await progress.finish(t(target.lang, "sub_progress_done", count=len(urls)))
    await reply_lines(update, context, report_lines(target.lang, results))
    await release_backlog(services, results)


def _progress(update: Update, services: Services, lang: str, total: int) -> Progress | None:
    """A started progress message in the command's chat for ``total`` URLs, if worth one."""
    message = update.effective_message
    if total < PROGRESS_FROM or message is None or services.replier is None:
        return None

    def text(done: int, count: int) -> str:
        return t(lang, "sub_progress", done=done, count=count)

    progress = Progress(services.replier, message.chat_id, thread_of(message), total, text)
    progress.start()
    return progress


@command
async def unsub(update: Update, context: Context) -> None:
    """Unsubscribe by number or URL; ``all`` asks first; with no argument, offer a keyboard."""
    args = command_args(context)
    target = await resolve_target(update, context, args)
    store = services_of(context).store
    if not args:
        subscriptions = await store.list_subscriptions(target.chat_id)
        if not subscriptions:
            raise CommandError(t(target.lang, "list_empty"))
        buttons = [(f"#{s.number} {s.title or s.url}", f"unsub:{s.id}") for s in subscriptions[:50]]
        await reply(update, context, t(target.lang, "unsub_pick"), keyboard(buttons))
        return
    if args[0].lower() == "all":
        await ask_unsub_all(update, context, target)
        return
    found = await find_subscription(services_of(context), target.chat_id, args[0], target.lang)
    await store.remove_subscription(found.id)
    await reply(
        update,
        context,
        t(target.lang, "unsub_ok", title=found.title or found.url, number=found.number),
    )


@button("unsub", fields=1)
async def unsub_button(press: Press) -> str | None:
    """A press on the /unsub keyboard: remove that subscription, say so in the message."""
    found = await pressed_subscription(press, press.fields[0])
    services = services_of(press.context)
    await services.store.remove_subscription(found.id)
    text = t(press.lang, "unsub_ok", title=found.title or found.url, number=found.number)
    # Scrubbed as every reply is (bot.replies): a feed named by its URL may carry its
    # reader's key in the query. Edited here, not through the replier, so that a refused
    # edit still answers the press with a notice (bot.commands.buttons).
    scrubbed = scrub_html(text, secrets_of(services.settings))
    await edit(press.query.edit_message_text(scrubbed, parse_mode="HTML"))
    return None
