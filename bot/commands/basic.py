"""/start and /help: what the bot does, and the commands the asker may use.

In a private chat (and a channel) every command a user has; the users in
``telegram.admins`` also /stats. In a group, its administrators (``rights.refusal``)
get the same, its other members what they may do there: read the list and the zone.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot.commands.common import Context, command, language, reply, services_of
from bot.commands.rights import actor_of, refusal
from bot.i18n import t


async def help_text(update: Update, context: Context) -> str:
    """The help the sender of ``update`` should see, in the chat's language."""
    services = services_of(context)
    lang = await language(services, update)
    chat, user = update.effective_chat, update.effective_user
    if chat is not None and chat.type in {ChatType.GROUP, ChatType.SUPERGROUP}:
        allowed = services.settings.access.allowed_chats
        if await refusal(context, chat, actor_of(update), allowed) is not None:
            return t(lang, "help_member")
    text = t(lang, "help")
    private = chat is not None and chat.type == ChatType.PRIVATE
    if private and user is not None and user.id in services.settings.telegram.admins:
        text += "\n\n" + t(lang, "help_admin")
    return text


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
    await reply(update, context, await help_text(update, context))


@command
async def help_command(update: Update, context: Context) -> None:
    """The commands the sender may use."""
    await reply(update, context, await help_text(update, context))
