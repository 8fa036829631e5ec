"""The bot's own methods: getMe, getUpdates, command lists, logOut and close.

``getUpdates`` is a real long poll: it answers at once when updates are waiting (or
when ``timeout`` is 0, as PTB's last call on stop is), else when one arrives or the
timeout passes; while a webhook is set it answers 409 (``webhook``). That wait runs
on the event loop's real time, because PTB's HTTP client times the request out in
real time; it is Telegram's behaviour, not a test waiting for a condition. A newer
getUpdates ends an older one with 409 Conflict.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from tests.fakes.bot_api.records import JSON
from tests.fakes.bot_api.state import ServerState
from tests.fakes.bot_api.wire import Params
from tests.fakes.telegram_rules import Rejected

_SCOPES: dict[str, tuple[str, ...]] = {
    "default": (),
    "all_private_chats": (),
    "all_group_chats": (),
    "all_chat_administrators": (),
    "chat": ("chat_id",),
    "chat_administrators": ("chat_id",),
    "chat_member": ("chat_id", "user_id"),
}
"""BotCommandScope types and the fields each one needs (Bot API, "BotCommandScope")."""


class UpdateMethods(ServerState):
    """Identity, updates and the command menu."""

    async def _ok(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: Params) -> list[JSON]:
        if self.webhook_url:
            raise Rejected(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get_int("offset") or 0
        limit = min(max(params.get_int("limit") or 100, 1), 100)
        timeout = max(params.get_int("timeout") or 0, 0)
        allowed = params.get_json("allowed_updates") or []
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._updates_changed:
            self._updates_changed.notify_all()
            while True:
                if generation != self._poll_generation:
                    raise Rejected(409, "Conflict: terminated by other getUpdates request")
                if offset > 0:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = [u for u in self._updates if not allowed or set(u) & set(allowed)]
                remaining = deadline - loop.time()
                if ready or remaining <= 0 or self._closing:
                    return ready[:limit]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._updates_changed.wait(), remaining)

    def _commands_key(self, params: Params) -> str:
        """The menu a call addresses: its scope (checked) and its language code (checked).

        Telegram takes a two-letter ISO 639-1 code or none ("zh-hans" is refused), and
        a chat scope only for a chat the bot knows; no scope is the default scope.
        """
        language = params.get_str("language_code") or ""
        if language and not (len(language) == 2 and language.isascii() and language.islower()):
            raise Rejected(400, "Bad Request: invalid language code specified")
        scope = params.get_json("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
            raise Rejected(400, "Bad Request: can't parse BotCommandScope JSON object")
        needs = _SCOPES[scope["type"]]
        if set(scope) != {"type", *needs}:
            raise Rejected(400, "Bad Request: can't parse BotCommandScope JSON object")
        if "chat_id" in needs:
            raw = scope["chat_id"]
            chat = next((c for c in self._chats.values() if raw in (c.id, f"@{c.username}")), None)
            if chat is None:
                raise Rejected(400, "Bad Request: chat not found")
            if scope["type"] != "chat" and chat.type == "private":
                raise Rejected(400, "Bad Request: can't use this scope in a private chat")
        return json.dumps([scope, language], sort_keys=True)

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[str]:
        """The command names of one menu as the bot set it (empty when it set none)."""
        key = json.dumps([scope or {"type": "default"}, language_code], sort_keys=True)
        return [command["command"] for command in self.commands.get(key, [])]

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise Rejected(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            description = command.get("description") if isinstance(command, dict) else None
            if not isinstance(name, str) or not 1 <= len(name) <= 32:
                raise Rejected(400, "Bad Request: BOT_COMMAND_INVALID")
            if not all(c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in name):
                raise Rejected(400, "Bad Request: BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise Rejected(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: Params) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True
