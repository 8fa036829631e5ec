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

    @staticmethod
    def _commands_key(params: Params) -> str:
        return json.dumps([params.get_json("scope"), params.get_str("language_code") or ""])

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
