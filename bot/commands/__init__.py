"""Chat command handlers: thin, they parse arguments and call services."""

from __future__ import annotations

from telegram import BotCommand
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.commands.basic import help_command, start
from bot.commands.display import set_button, set_command
from bot.commands.filtering import filter_command
from bot.commands.subscriptions import list_subscriptions, sub, unsub, unsub_button

BOT_COMMANDS = (
    BotCommand("sub", "subscribe to a feed"),
    BotCommand("unsub", "unsubscribe"),
    BotCommand("list", "subscriptions"),
    BotCommand("filter", "keyword filter"),
    BotCommand("set", "display options"),
    BotCommand("help", "how to use the bot"),
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Attach every command and button handler to the application."""
    # New messages and channel posts only: an edited "/sub" must not subscribe twice.
    new_posts = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
    application.add_handler(CommandHandler("start", start, filters=new_posts))
    application.add_handler(CommandHandler("help", help_command, filters=new_posts))
    application.add_handler(CommandHandler("sub", sub, filters=new_posts))
    application.add_handler(CommandHandler("unsub", unsub, filters=new_posts))
    application.add_handler(CommandHandler("list", list_subscriptions, filters=new_posts))
    application.add_handler(CommandHandler("filter", filter_command, filters=new_posts))
    application.add_handler(CommandHandler("set", set_command, filters=new_posts))
    application.add_handler(CallbackQueryHandler(unsub_button, pattern=r"^unsub:"))
    application.add_handler(CallbackQueryHandler(set_button, pattern=r"^set:"))
