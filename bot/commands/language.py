"""/lang: the reply language of a chat."""

from __future__ import annotations

from telegram import Update

from bot.commands.common import (
    CommandError,
    Context,
    command,
    command_args,
    reply,
    resolve_target,
    services_of,
)
from bot.i18n import LANGUAGES, t


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
