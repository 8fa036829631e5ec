"""/start and /help."""

from __future__ import annotations

from telegram import Update

from bot.commands.common import Context, command, language, reply, services_of
from bot.i18n import t


@command
async def start(update: Update, context: Context) -> None:
    """Introduce the bot; a /start also re-enables a chat that had blocked the bot."""
    services = services_of(context)
    chat = update.effective_chat
    if chat is not None:
        await services.store.ensure_chat(chat.id, kind=chat.type, title=chat.title or "")
        stored = await services.store.get_chat(chat.id)
        if stored is not None and not stored.active:
            await services.store.set_chat_active(chat.id, True)
            services.wake_delivery()
    await reply(update, context, t(await language(services, update), "help"))


@command
async def help_command(update: Update, context: Context) -> None:
    """The command list."""
    await reply(update, context, t(await language(services_of(context), update), "help"))
