"""/stats: the numbers of `newsrelay stats`, for the bot's administrators."""

from __future__ import annotations

from telegram import Update

from bot.commands.common import (
    CommandError,
    Context,
    command,
    language,
    reply_lines,
    services_of,
)
from bot.i18n import t
from bot.i18n.failures import stored_error_text


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
            url=feed.url,
            count=feed.failures,
            error=stored_error_text(lang_code, feed.last_error)[:200],
        )
        for feed in numbers.failing_feeds[:20]
    ]
    await reply_lines(update, context, lines)
