"""Chat command handlers: thin, they parse arguments and call services."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.commands.basic import help_command, start
from bot.commands.buttons import stale_button
from bot.commands.chatter import plain_text, subscribe_button, unknown_command
from bot.commands.display_options import set_button, set_command
from bot.commands.filtering import filter_command
from bot.commands.language import lang
from bot.commands.listing import list_button, list_subscriptions
from bot.commands.opml_commands import IMPORT_CAPTION, export, import_caption, import_command
from bot.commands.pausing import pause, resume
from bot.commands.stats import stats
from bot.commands.subscriptions import sub, unsub, unsub_button
from bot.commands.timezone import tz
from bot.commands.unsub_all import unsub_all_button

COMMAND_HANDLERS = (
    ("start", start),
    ("help", help_command),
    ("sub", sub),
    ("unsub", unsub),
    ("list", list_subscriptions),
    ("filter", filter_command),
    ("set", set_command),
    ("pause", pause),
    ("resume", resume),
    ("lang", lang),
    ("tz", tz),
    ("stats", stats),
    ("export", export),
    ("import", import_command),
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Attach every command and button handler to the application."""
    # New messages and channel posts only: an edited "/sub" must not subscribe twice.
    new_posts = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
    for name, handler in COMMAND_HANDLERS:
        application.add_handler(CommandHandler(name, handler, filters=new_posts))
    application.add_handler(
        MessageHandler(
            new_posts & filters.Document.ALL & filters.CaptionRegex(IMPORT_CAPTION),
            import_caption,
        )
    )
    # What no handler above took: unknown commands and other text (bot.commands.chatter).
    application.add_handler(MessageHandler(new_posts & filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(new_posts & filters.TEXT, plain_text))
    application.add_handler(CallbackQueryHandler(unsub_button, pattern=r"^unsub:"))
    application.add_handler(CallbackQueryHandler(unsub_all_button, pattern=r"^unsuball:"))
    application.add_handler(CallbackQueryHandler(subscribe_button, pattern=r"^subscribe:"))
    application.add_handler(CallbackQueryHandler(set_button, pattern=r"^set:"))
    application.add_handler(CallbackQueryHandler(list_button, pattern=r"^list:"))
    # Last: any other press (unknown prefix, old keyboard, forged data) is answered as stale.
    application.add_handler(CallbackQueryHandler(stale_button))
