"""The command menus Telegram shows, per language and per who is asking (setMyCommands).

Telegram picks the menu by scope, the most specific first (Bot API,
"Determining list of commands"): a chat's own scope, then its administrators', then
all group chats', then the default; and within a scope the user's language, then
the menu without a language. So each menu is set twice, without a language (English)
and for ``zh``:

- default: every command a user has in a private chat;
- all group chats: what a member may do there: read the list, the time zone and the help;
- all chat administrators: every command, as in a private chat;
- the private chat of each user in ``telegram.admins``: every command and /stats.

A bot admin who never wrote to the bot has no chat Telegram knows of: that menu
fails (logged) and is set on the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from telegram.error import TelegramError

from bot.i18n import plain
from bot.logs import event

log = logging.getLogger(__name__)

USER_COMMANDS = (
    "sub",
    "unsub",
    "list",
    "filter",
    "set",
    "pause",
    "resume",
    "export",
    "import",
    "lang",
    "tz",
    "help",
)
MEMBER_COMMANDS = ("list", "tz", "help")
BOT_ADMIN_COMMANDS = (*USER_COMMANDS, "stats")
MENU_LANGUAGES = (("", "en"), ("zh", "zh"))
"""(language_code, reply language): no code is the menu for every other language."""


def menu(lang: str, names: Sequence[str]) -> list[BotCommand]:
    """The commands ``names`` with their descriptions in ``lang`` (plain text)."""
    return [BotCommand(name, plain(lang, f"menu_{name}")) for name in names]


def menus(admins: Collection[int]) -> list[tuple[BotCommandScope, str, list[BotCommand]]]:
    """Every menu: its scope, its language code and its commands."""
    scopes: list[tuple[BotCommandScope, Sequence[str]]] = [
        (BotCommandScopeDefault(), USER_COMMANDS),
        (BotCommandScopeAllGroupChats(), MEMBER_COMMANDS),
        (BotCommandScopeAllChatAdministrators(), USER_COMMANDS),
        *((BotCommandScopeChat(admin), BOT_ADMIN_COMMANDS) for admin in sorted(admins)),
    ]
    return [
        (scope, code, menu(lang, names)) for scope, names in scopes for code, lang in MENU_LANGUAGES
    ]


async def publish_menus(bot: Bot, admins: Collection[int]) -> int:
    """Set every menu; returns how many Telegram refused (each logged, none raised)."""
    refused = 0
    for scope, code, commands in menus(admins):
        try:
            await bot.set_my_commands(commands, scope=scope, language_code=code or None)
        except TelegramError as exc:
            refused += 1
            event(log, logging.WARNING, "menu_refused", scope=scope.type, error=exc.message)
    return refused
