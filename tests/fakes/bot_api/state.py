"""What the fake server remembers between calls, and the building blocks every method shares.

Chats (with their forum topics, a 403 once the bot is gone, a successor once
migrated), the messages in them, stored files, pending updates and callback
queries, scripted failures, and the records tests inspect. Message dates read the
same injected clock as the flood limits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fakes.bot_api.content import check_reply_markup, formatted
from tests.fakes.bot_api.limits import RateLimits
from tests.fakes.bot_api.records import JSON, Call, Refusal, SentMessage
from tests.fakes.bot_api.wire import Params
from tests.fakes.telegram_rules import Rejected, check_caption


@dataclass
class ServerChat:
    """One chat as the server knows it."""

    id: int
    type: str
    title: str | None
    username: str | None
    is_forum: bool
    admins: list[int]
    topics: set[int] = field(default_factory=set)
    members: set[int] | None = None
    """Users in a group or channel besides its admins; None: anyone asked about is a member."""
    gone: str | None = None
    """A 403 description once the bot is blocked or kicked."""
    migrated_to: int | None = None
    next_message_id: int = 1

    def as_json(self) -> JSON:
        """The chat as a Bot API ``Chat`` object."""
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.title or f"User{self.id}"
        else:
            data["title"] = self.title or f"Chat {self.id}"
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class ScriptedFailure:
    """A failure a test scripted for the next ``times`` matching calls."""

    method: str
    chat_id: int | None
    code: int
    description: str
    parameters: dict[str, int] | None
    times: int


class ServerState:
    """The fake's memory; the method families and the facade build on it."""

    def __init__(self, token: str, *, bot_username: str, limits: RateLimits) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.clock: Callable[[], float] = limits.clock
        """The one clock: the flood limits count on it and message dates read it."""
        self.base_url = ""
        self.sent: list[SentMessage] = []
        self.edits: list[SentMessage] = []
        self.deleted: list[tuple[int, int]] = []
        self.rejected: list[Refusal] = []
        self.calls: list[Call] = []
        self.callback_answers: list[JSON] = []
        self.commands: dict[str, list[JSON]] = {}
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[tuple[int, int]] = []
        """(update_id, HTTP status) of every webhook POST, in order (0: no answer)."""
        self._webhook_routes: dict[str, str] = {}
        self._webhook_pusher: asyncio.Task[None] | None = None
        self._limits = limits
        self._chats: dict[int, ServerChat] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._files: dict[str, tuple[str, bytes]] = {}
        self._photo_refusals: list[tuple[str, str]] = []
        self._failures: list[ScriptedFailure] = []
        self.echoing_proxy = False
        """File downloads fail with an error that echoes the request path (and token)."""
        self._holds: dict[tuple[str, int | None], asyncio.Event] = {}
        self._queries: set[str] = set()
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._poll_generation = 0
        self._closing = False
        self._updates_changed = asyncio.Condition()

    def _now(self) -> int:
        """A message date: whole seconds on the injected clock."""
        return int(self.clock())

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "News Relay",
            "username": self.bot_username,
        }

    @staticmethod
    def _user(user_id: int) -> JSON:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}

    def _push(self, kind: str, payload: JSON) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: payload})
        with contextlib.suppress(RuntimeError):  # no running loop: pollers see it on next call
            asyncio.get_running_loop().create_task(self._wake_pollers())
        return update_id

    async def _wake_pollers(self) -> None:
        async with self._updates_changed:
            self._updates_changed.notify_all()

    def _new_message(self, chat: ServerChat, sender: JSON, thread_id: int | None) -> JSON:
        message: JSON = {
            "message_id": chat.next_message_id,
            "date": self._now(),
            "chat": chat.as_json(),
            "from": sender,
        }
        chat.next_message_id += 1
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        self._messages[(chat.id, message["message_id"])] = message
        return message

    def _store_document(self, name: str, content: bytes) -> JSON:
        """Keep a document for getFile and return it as a Bot API ``Document``."""
        file_id = f"doc{len(self._files) + 1}"
        self._files[file_id] = (f"documents/{file_id}_{name}", content)
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": name,
            "file_size": len(content),
        }

    async def _scripted_hold(self, method: str, chat_id: int | None) -> None:
        """Keep the answer back while a test holds this call (``hold_next``)."""
        release = self._holds.pop((method, chat_id), None)
        if release is not None:
            await release.wait()

    def _scripted_failure(self, method: str, chat_id: int | None) -> None:
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                raise Rejected(failure.code, failure.description, failure.parameters)

    def _target(self, params: Params, *, sending: bool = True) -> ServerChat:
        """The chat a call addresses, refused as Telegram would when it cannot be used."""
        if not params.has("chat_id"):
            raise Rejected(400, "Bad Request: chat_id is empty")
        raw = params.values["chat_id"]
        chat: ServerChat | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            chat = next((c for c in self._chats.values() if f"@{c.username}" == raw), None)
        else:
            chat = self._chats.get(params.get_int("chat_id") or 0)
        if chat is None:
            raise Rejected(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:
            raise Rejected(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if sending and chat.gone is not None:
            raise Rejected(403, chat.gone)
        return chat

    def _thread(self, chat: ServerChat, params: Params) -> int | None:
        thread_id = params.get_int("message_thread_id")
        if thread_id is not None and thread_id not in chat.topics:
            raise Rejected(400, "Bad Request: message thread not found")
        return thread_id

    def _common(self, params: Params) -> tuple[ServerChat, int | None, JSON | None]:
        chat = self._target(params)
        thread_id = self._thread(chat, params)
        markup = params.get_json("reply_markup")
        if markup is not None:
            check_reply_markup(markup)
        return chat, thread_id, markup

    def _caption(self, params: Params) -> tuple[str | None, list[JSON]]:
        caption = params.get_str("caption")
        if caption is None:
            return None, []
        caption, entities = formatted(
            params, caption, "caption_entities", parse_mode=params.get_str("parse_mode")
        )
        check_caption(caption, entities)
        return caption, entities

    def _deliver(self, chat: ServerChat, record: SentMessage, message: JSON) -> JSON:
        """Count the send against the limits, then store and return the message."""
        self._limits.take(chat.id)
        message.update(self._new_message(chat, self._bot_user(), record.message_thread_id))
        shown = {
            "text": record.text,
            "entities": record.entities,
            "caption": record.caption,
            "caption_entities": record.caption_entities,
        }
        message.update((key, value) for key, value in shown.items() if value)
        if record.reply_markup and "inline_keyboard" in record.reply_markup:
            message["reply_markup"] = record.reply_markup
        record.message_id = message["message_id"]
        self._messages[(chat.id, record.message_id)] = message
        self.sent.append(record)
        return message
