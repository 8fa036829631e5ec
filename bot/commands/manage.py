"""/pause, /resume, /lang and /stats.

What a pause means: while a subscription is paused the pipeline queues nothing for
it, and rows queued before the pause wait in the outbox (the store holds them
back). On /resume those earlier rows still go: they were due before the pause.
Entries that appeared during the pause are skipped, unless ``backlog`` is given.

A feed followed only by paused subscriptions is not polled, so its entries from
the pause may still be unseen at resume time. Before unpausing, /resume therefore
fetches the feed once and records its unseen entries as seen (queueing them for
any other, running subscription) while this one is still paused: they never reach
it. With ``backlog``, the entries of the current document first seen since the
pause are then queued for it, oldest first, at most ``MAX_RESUME_BACKLOG``;
entries that already dropped out of the feed are gone. If the fetch fails, the
subscription resumes anyway and the reply says that entries from the pause may
still arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Update

from bot.commands.common import (
    CommandError,
    Context,
    command,
    command_args,
    find_subscription,
    language,
    reply,
    reply_lines,
    resolve_target,
    services_of,
)
from bot.feeds.failure import FetchError
from bot.feeds.parse import NotAFeed
from bot.i18n import LANGUAGES, t
from bot.i18n.failures import stored_error_text
from bot.models import ParsedFeed, Subscription
from bot.pipeline import EverySubscriber, ResumedSubscriber, queue_entries
from bot.services import Services
from bot.subscribe import load_feed

MAX_RESUME_BACKLOG = 50
RESUME_FETCH_CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class Resumed:
    """What resuming one subscription did, for the reply."""

    subscription: Subscription
    queued: int = 0
    total: int = 0
    """Entries of the pause still in the feed (before the cap and the filters)."""
    error: str | None = None
    """Why the feed could not be read at resume time, if it could not."""
    backlog: bool = False


async def _fetch(services: Services, url: str) -> ParsedFeed | str:
    """The parsed feed, or the one-line reason it could not be read."""
    try:
        _, parsed, _ = await load_feed(services.fetcher, url)
    except (FetchError, NotAFeed) as exc:
        return str(exc)
    return parsed


async def resume_subscriptions(
    services: Services, subscriptions: Sequence[Subscription], *, backlog: bool
) -> list[Resumed]:
    """Resume paused subscriptions, skipping (or with ``backlog``, queueing) the pause's entries."""
    store = services.store
    limit = asyncio.Semaphore(RESUME_FETCH_CONCURRENCY)

    async def fetch(url: str) -> ParsedFeed | str:
        async with limit:
            return await _fetch(services, url)

    urls = {sub.feed_id: sub.url for sub in subscriptions}
    fetched = dict(
        zip(urls, await asyncio.gather(*(fetch(url) for url in urls.values())), strict=True)
    )
    for feed_id, parsed in fetched.items():
        if isinstance(parsed, ParsedFeed):
            # Still paused here: what is new now is recorded as seen without reaching them.
            await queue_entries(store, feed_id, parsed, EverySubscriber(), now=services.clock())
    results = []
    for sub in subscriptions:
        paused_at = await store.paused_since(sub.id)
        await store.set_subscription_paused(sub.id, False)
        parsed = fetched[sub.feed_id]
        if isinstance(parsed, str):
            results.append(Resumed(sub, error=parsed))
        elif backlog and paused_at is not None:
            results.append(await _queue_backlog(services, sub, parsed, paused_at))
        else:
            results.append(Resumed(sub))
    services.wake_delivery()
    return results


async def _queue_backlog(
    services: Services, sub: Subscription, parsed: ParsedFeed, paused_at: float
) -> Resumed:
    audience = ResumedSubscriber(sub, paused_at=paused_at, at_most=MAX_RESUME_BACKLOG)
    done = await queue_entries(services.store, sub.feed_id, parsed, audience, now=services.clock())
    return Resumed(sub, queued=done.queued, total=done.new, backlog=True)


def _resumed_line(result: Resumed, lang: str) -> str:
    sub = result.subscription
    title = sub.title or sub.url
    if result.error is not None:
        return t(lang, "resume_unchecked", number=sub.number, reason=result.error)
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
    store, now = services.store, services.clock()
    if args[0].lower() == "all":
        running = [s for s in await store.list_subscriptions(target.chat_id) if not s.paused]
        for sub in running:
            await store.set_subscription_paused(sub.id, True, now=now)
        await reply(update, context, t(target.lang, "pause_all", count=len(running)))
        return
    sub = await find_subscription(services, target.chat_id, args[0], target.lang)
    title = sub.title or sub.url
    if sub.paused:
        raise CommandError(t(target.lang, "pause_already", title=title, number=sub.number))
    await store.set_subscription_paused(sub.id, True, now=now)
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


@command
async def lang(update: Update, context: Context) -> None:
    """Choose the reply language of this chat."""
    args = command_args(context)
    target = await resolve_target(update, context, args)
    choice = args[0].lower() if len(args) == 1 else ""
    if choice not in LANGUAGES:
        raise CommandError(t(target.lang, "lang_usage", current=target.lang))
    await services_of(context).store.set_chat_language(target.chat_id, choice)
    await reply(update, context, t(choice, "lang_set"))


@command
async def stats(update: Update, context: Context) -> None:
    """The numbers of `newsrelay stats`, for the bot's administrators only."""
    services = services_of(context)
    lang_code = await language(services, update)
    user = update.effective_user
    if user is None or user.id not in services.settings.telegram.admins:
        raise CommandError(t(lang_code, "stats_admins_only"))
    numbers = await services.store.stats()
    lines = [
        t(
            lang_code,
            "stats",
            feeds=numbers.feeds,
            subscriptions=numbers.subscriptions,
            chats=numbers.chats,
            active=numbers.active_chats,
            delivered=numbers.delivered,
            pending=numbers.pending,
            failed=numbers.failed,
            failing=len(numbers.failing_feeds),
        )
    ]
    lines += [
        t(
            lang_code,
            "stats_failing",
            url=url,
            count=count,
            error=stored_error_text(lang_code, error)[:200],
        )
        for url, count, error in numbers.failing_feeds[:20]
    ]
    await reply_lines(update, context, lines)
