"""A strict fake Telegram Bot API on loopback HTTP, for driving the real PTB client.

It refuses what Telegram refuses (see ``telegram_rules``) and answers in Bot API
shapes PTB can read. Strict by default: unknown chats, bad markup, bad buttons,
unknown topics, refused photo URLs and rate limits (per chat 1/s after a burst,
20/min per group or channel, 30/s per bot) all fail as they would in production.

Fake-specific choices, where Telegram's exact behaviour is unknown or unused here:
``parse_mode`` MarkdownV2/Markdown is refused (we never send it), ``parse_mode``
together with explicit entities is refused, and only photos are accepted in
media groups. A media group counts as one send for rate limits and is recorded as
one ``SentMessage``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from tests.fakes.telegram_rules import Rejected, check_caption, check_text, parse_html
from tests.virtual_time import VirtualClock, eventually

JSON = dict[str, Any]
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
_ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot: never a member with rights


@dataclass
class SentMessage:
    """One accepted send (or edit), as the bot asked for it after parse-mode parsing."""

    method: str
    chat_id: int
    message_id: int
    message_thread_id: int | None = None
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    """Photo URLs, or ``upload:<filename>`` for uploaded bytes; several for a media group."""
    media: list[JSON] = field(default_factory=list)
    """Media group items as parsed (type, media, caption, caption_entities)."""
    message_ids: list[int] = field(default_factory=list)
    link_preview_options: JSON | None = None
    reply_markup: JSON | None = None
    parse_mode: str | None = None
    document_name: str | None = None
    document_bytes: bytes | None = None


@dataclass(frozen=True)
class Refusal:
    """One call the fake refused, with Telegram's code and description."""

    method: str
    chat_id: int | None
    code: int
    description: str


@dataclass(frozen=True)
class Call:
    """Every call that reached a known method, accepted or not."""

    method: str
    params: JSON


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None
    username: str | None
    is_forum: bool
    admins: list[int]
    topics: set[int] = field(default_factory=set)
    gone: str | None = None
    """A 403 description once the bot is blocked or kicked."""
    migrated_to: int | None = None
    next_message_id: int = 1

    def as_json(self) -> JSON:
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
class _Failure:
    method: str
    chat_id: int | None
    code: int
    description: str
    parameters: dict[str, int] | None
    times: int


class ManualClock:
    """A clock tests move by hand, so rate-limit tests need no sleeping."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _RateLimits:
    """Telegram's flood limits: a per-chat token bucket, a per-group window, a global window."""

    def __init__(
        self,
        clock: Callable[[], float],
        chat_burst: int,
        chat_per_second: float,
        group_per_minute: int,
        global_per_second: int,
    ) -> None:
        self.clock = clock
        self.chat_burst = chat_burst
        self.chat_per_second = chat_per_second
        self.group_per_minute = group_per_minute
        self.global_per_second = global_per_second
        self.buckets: dict[int, tuple[float, float]] = {}
        self.group_sends: dict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self.global_sends: collections.deque[float] = collections.deque()

    @staticmethod
    def _window_wait(sends: collections.deque[float], now: float, span: float, cap: int) -> float:
        while sends and sends[0] <= now - span:
            sends.popleft()
        return sends[0] + span - now if len(sends) >= cap else 0.0

    def take(self, chat_id: int) -> None:
        """Count one send to ``chat_id`` or raise the 429 Telegram would answer."""
        now = self.clock()
        tokens, last = self.buckets.get(chat_id, (float(self.chat_burst), now))
        tokens = min(float(self.chat_burst), tokens + (now - last) * self.chat_per_second)
        waits = [(1.0 - tokens) / self.chat_per_second if tokens < 1.0 else 0.0]
        waits.append(self._window_wait(self.global_sends, now, 1.0, self.global_per_second))
        if chat_id < 0:
            group = self.group_sends[chat_id]
            waits.append(self._window_wait(group, now, 60.0, self.group_per_minute))
        wait = max(waits)
        if wait > 0:
            self.buckets[chat_id] = (tokens, now)
            retry_after = max(1, math.ceil(wait))
            raise Rejected(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        self.buckets[chat_id] = (tokens - 1.0, now)
        self.global_sends.append(now)
        if chat_id < 0:
            self.group_sends[chat_id].append(now)


class _Params:
    """Request fields as PTB sends them: strings, JSON-encoded when structured, or native JSON."""

    def __init__(self, values: JSON, files: dict[str, tuple[str, bytes]]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        return self.values.get(name) is not None or name in self.files

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        raise Rejected(400, f"Bad Request: field {name} must be a string")

    def get_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise Rejected(400, f"Bad Request: field {name} must be an integer")
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise Rejected(400, f"Bad Request: field {name} must be an integer") from None

    def get_bool(self, name: str) -> bool | None:
        value = self.values.get(name)
        if value is None:
            return None
        if value in (True, "true"):
            return True
        if value in (False, "false"):
            return False
        raise Rejected(400, f"Bad Request: field {name} must be a boolean")

    def get_json(self, name: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise Rejected(400, f"Bad Request: can't parse {name} JSON object") from None


def _check_inline_keyboard(markup: Any) -> None:
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise Rejected(400, "Bad Request: can't parse inline keyboard button: rows must be arrays")
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise Rejected(400, "Bad Request: can't parse inline keyboard button")
            text = button.get("text")
            if not isinstance(text, str) or not text.strip():
                raise Rejected(400, "Bad Request: BUTTON_DATA_INVALID")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise Rejected(400, "Bad Request: BUTTON_DATA_INVALID")
            elif "url" in button:
                url = button["url"]
                scheme = urlsplit(url).scheme if isinstance(url, str) else ""
                if scheme not in {"http", "https", "tg"}:
                    raise Rejected(400, "Bad Request: BUTTON_URL_INVALID")
            else:
                raise Rejected(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )


def _check_reply_markup(markup: Any) -> None:
    if not isinstance(markup, dict):
        raise Rejected(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup)
    elif not ({"keyboard", "remove_keyboard", "force_reply"} & markup.keys()):
        raise Rejected(400, "Bad Request: can't parse reply keyboard markup JSON object")


def _check_link_preview(options: Any) -> None:
    if not isinstance(options, dict):
        raise Rejected(400, "Bad Request: can't parse link preview options JSON object")
    for key, value in options.items():
        if key == "url":
            ok = isinstance(value, str)
        elif key in {"is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text"}:
            ok = isinstance(value, bool)
        else:
            ok = False
        if not ok:
            raise Rejected(400, f"Bad Request: can't parse link preview options: bad field {key}")


def _formatted(
    params: _Params, text: str, entities_field: str, *, parse_mode: str | None
) -> tuple[str, list[JSON]]:
    """Apply parse_mode or explicit entities the way the Bot API does."""
    entities = params.get_json(entities_field)
    if parse_mode is None:
        if entities is None:
            return text, []
        if not isinstance(entities, list):
            raise Rejected(400, f"Bad Request: can't parse {entities_field} JSON object")
        return text, entities
    if entities is not None:
        raise Rejected(400, f"Bad Request: fake refuses parse_mode together with {entities_field}")
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode in {"markdown", "markdownv2"}:
        raise Rejected(400, f"Bad Request: parse_mode {parse_mode} is not supported by the fake")
    raise Rejected(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")


def _message_text(params: _Params) -> tuple[str | None, str, list[JSON]]:
    """The parse mode, text and entities of sendMessage or editMessageText, checked."""
    parse_mode = params.get_str("parse_mode")
    text, entities = _formatted(
        params, params.get_str("text") or "", "entities", parse_mode=parse_mode
    )
    check_text(text, entities)
    return parse_mode, text, entities


class FakeBotAPI:
    """The fake server: start it, point PTB at ``base_url``, then drive users and inspect sends."""

    def __init__(
        self,
        token: str = "123456789:FAKE-token_for-tests",  # noqa: S107 -- a fake's own test token
        *,
        bot_username: str = "NewsRelayBot",
        clock: Callable[[], float] = time.monotonic,
        chat_burst: int = 3,
        chat_per_second: float = 1.0,
        group_per_minute: int = 20,
        global_per_second: int = 30,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.base_url = ""
        self.sent: list[SentMessage] = []
        self.edits: list[SentMessage] = []
        self.deleted: list[tuple[int, int]] = []
        self.rejected: list[Refusal] = []
        self.calls: list[Call] = []
        self.callback_answers: list[JSON] = []
        self.commands: dict[str, list[JSON]] = {}
        self.webhook_url = ""
        self.may_advance: Callable[[float], bool] = lambda _seconds: True
        """Whether virtual time may move on (nothing in flight); the harness sets it."""
        self._limits = _RateLimits(
            clock, chat_burst, chat_per_second, group_per_minute, global_per_second
        )
        self._chats: dict[int, _Chat] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._files: dict[str, tuple[str, bytes]] = {}
        self._photo_refusals: list[tuple[str, str]] = []
        self._failures: list[_Failure] = []
        self._queries: set[str] = set()
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._poll_generation = 0
        self._closing = False
        self._updates_changed = asyncio.Condition()
        self._recorded = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, tuple[str, Callable[[_Params], Awaitable[Any]]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._ok,
                "close": self._ok,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getUpdates": self._get_updates,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendMediaGroup": self._send_media_group,
                "sendDocument": self._send_document,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "getFile": self._get_file,
            }.items()
        }

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Answer pending long polls and shut the server down."""
        self._closing = True
        async with self._updates_changed:
            self._updates_changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- scripting -------------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        type: str = "private",  # mirrors the Bot API field name
        *,
        title: str | None = None,
        username: str | None = None,
        is_forum: bool = False,
        admins: list[int] | None = None,
    ) -> None:
        """Make a chat known, as if the bot had been added to it or a user had written."""
        if type not in {"private", "group", "supergroup", "channel"}:
            raise ValueError(f"unknown chat type {type!r}")
        if (type == "private") != (chat_id > 0):
            raise ValueError("private chats have positive ids, others negative")
        if is_forum and type != "supergroup":
            raise ValueError("only supergroups can be forums")
        self._chats[chat_id] = _Chat(chat_id, type, title, username, is_forum, list(admins or []))

    def add_topic(self, chat_id: int, thread_id: int) -> None:
        """Open a forum topic so sends with this message_thread_id are accepted."""
        chat = self._chats[chat_id]
        if not chat.is_forum:
            raise ValueError("topics exist only in forum supergroups")
        chat.topics.add(thread_id)

    def refuse_photo_url(self, url_or_prefix: str, description: str = _WRONG_FILE) -> None:
        """Make Telegram's download of matching photo URLs fail."""
        self._photo_refusals.append((url_or_prefix, description))

    def fail_next(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        code: int,
        description: str,
        parameters: dict[str, int] | None = None,
        times: int = 1,
    ) -> None:
        """Script the next ``times`` calls of ``method`` (to ``chat_id`` if given) to fail."""
        self._failures.append(
            _Failure(method.lower(), chat_id, code, description, parameters, times)
        )

    def bot_kicked(self, chat_id: int) -> int:
        """The user blocks the bot (private) or the bot is removed; later sends get 403."""
        chat = self._chats[chat_id]
        private = chat.type == "private"
        chat.gone = (
            "Forbidden: bot was blocked by the user"
            if private
            else f"Forbidden: bot was kicked from the {chat.type} chat"
        )
        actor = self._user(chat_id if private else (chat.admins or [1])[0])
        bot = self._bot_user()
        update = {
            "chat": chat.as_json(),
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": bot},
            "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
        }
        return self._push("my_chat_member", update)

    def migrate_chat(self, chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group to a supergroup: sends to the old id now answer migrate_to_chat_id."""
        old = self._chats[chat_id]
        old.migrated_to = new_chat_id
        self.add_chat(new_chat_id, "supergroup", title=old.title, admins=old.admins)

    def user_sends(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        user_id: int | None = None,
        thread_id: int | None = None,
        document: tuple[str, bytes] | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
        anonymous: bool = False,
    ) -> int:
        """A user writes in a chat; returns the update_id of the new message update.

        ``anonymous``: an anonymous group admin, who writes as the group itself
        (``sender_chat`` is the chat, ``from`` is Telegram's GroupAnonymousBot).
        """
        chat = self._chats.get(chat_id)
        if chat is None:
            kind = "private" if chat_id > 0 else "supergroup"
            self.add_chat(chat_id, kind)
            chat = self._chats[chat_id]
        sender = user_id if user_id is not None else (chat_id if chat_id > 0 else 1001)
        if anonymous:
            sender = _ANONYMOUS_ADMIN
        message = self._new_message(chat, self._user(sender), thread_id)
        if anonymous:
            message["sender_chat"] = chat.as_json()
        if text is not None:
            message["text"] = text
            command = text.split(maxsplit=1)[0] if text.strip() else ""
            if command.startswith("/") and len(command) > 1:
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if document is not None:
            file_id = f"doc{len(self._files) + 1}"
            name, content = document
            self._files[file_id] = (f"documents/{file_id}_{name}", content)
            message["document"] = {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": name,
                "file_size": len(content),
            }
        if caption is not None:
            message["caption"] = caption
        if reply_to is not None:
            message["reply_to_message"] = self._messages[(chat_id, reply_to)]
        return self._push("message", message)

    def user_presses(self, chat_id: int, message_id: int, data: str, *, user_id: int = 1001) -> int:
        """A user presses an inline button on a message the bot sent; returns the update_id."""
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        query_id = f"cq{self._next_update_id}"
        self._queries.add(query_id)
        query = {
            "id": query_id,
            "from": self._user(user_id),
            "message": message,
            "chat_instance": str(chat_id),
            "data": data,
        }
        return self._push("callback_query", query)

    # --- inspection ------------------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Accepted sends to one chat, oldest first."""
        return [message for message in self.sent if message.chat_id == chat_id]

    async def wait_for_sent(
        self,
        chat_id: int,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109 -- a deadline for a test helper, the shared API
    ) -> list[SentMessage]:
        """Wait until ``count`` sends to ``chat_id`` were accepted, or fail saying what happened."""

        def done() -> bool:
            return len(self.sent_to(chat_id)) >= count

        await self._wait(done, timeout, f"{count} sends to chat {chat_id}")
        return self.sent_to(chat_id)

    async def wait_for_calls(
        self,
        method: str,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109 -- a deadline for a test helper, the shared API
    ) -> list[Call]:
        """Wait until ``method`` was called ``count`` times (accepted or not)."""

        def matching() -> list[Call]:
            return [call for call in self.calls if call.method.lower() == method.lower()]

        await self._wait(lambda: len(matching()) >= count, timeout, f"{count} {method} calls")
        return matching()

    @property
    def pending_updates(self) -> int:
        """Updates pushed and not yet confirmed by a later getUpdates offset."""
        return len(self._updates)

    async def _wait(self, done: Callable[[], bool], seconds: float, what: str) -> None:
        """Wait until ``done()``: on virtual time through ``eventually``, else on real time."""
        try:
            if isinstance(self._limits.clock, VirtualClock):
                await eventually(
                    done,
                    clock=self._limits.clock,
                    may_advance=self.may_advance,
                    what=what,
                    real_seconds=seconds,
                )
                return
            async with self._recorded:
                await asyncio.wait_for(self._recorded.wait_for(done), seconds)
        except (TimeoutError, AssertionError) as exc:
            raise AssertionError(
                f"{exc or f'timed out after {seconds}s waiting for {what}'}; "
                f"sent={[(m.method, m.chat_id, m.text or m.caption) for m in self.sent]} "
                f"rejected={self.rejected}"
            ) from None

    # --- HTTP ------------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> _Params:
        values: JSON = dict(request.query)
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise Rejected(400, "Bad Request: request body must be a JSON object")
            values.update(body)
        elif request.can_read_body:
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[name] = (value.filename, value.file.read())
                else:
                    values[name] = value
        return _Params(values, files)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(Rejected(401, "Unauthorized"))
        found = self._handlers.get(request.match_info["method"].lower())
        if found is None:
            return self._error(Rejected(404, "Not Found"))
        method, handler = found
        chat_id: int | None = None
        try:
            params = await self._read_params(request)
            self.calls.append(Call(method, dict(params.values)))
            await self._notify()
            with contextlib.suppress(Rejected):
                chat_id = params.get_int("chat_id")
            self._scripted_failure(method.lower(), chat_id)
            result = await handler(params)
        except Rejected as refusal:
            self.rejected.append(Refusal(method, chat_id, refusal.code, refusal.description))
            await self._notify()
            return self._error(refusal)
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(Rejected(401, "Unauthorized"))
        for path, content in self._files.values():
            if path == request.match_info["path"]:
                return web.Response(body=content)
        return self._error(Rejected(404, "Not Found"))

    @staticmethod
    def _error(refusal: Rejected) -> web.Response:
        body: JSON = {"ok": False, "error_code": refusal.code, "description": refusal.description}
        if refusal.parameters:
            body["parameters"] = refusal.parameters
        return web.json_response(body, status=refusal.code)

    async def _notify(self) -> None:
        async with self._recorded:
            self._recorded.notify_all()

    def _scripted_failure(self, method: str, chat_id: int | None) -> None:
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                raise Rejected(failure.code, failure.description, failure.parameters)

    # --- building blocks -------------------------------------------------------------------

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

    def _new_message(self, chat: _Chat, sender: JSON, thread_id: int | None) -> JSON:
        message: JSON = {
            "message_id": chat.next_message_id,
            "date": int(time.time()),
            "chat": chat.as_json(),
            "from": sender,
        }
        chat.next_message_id += 1
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        self._messages[(chat.id, message["message_id"])] = message
        return message

    def _target(self, params: _Params, *, sending: bool = True) -> _Chat:
        """The chat a call addresses, refused as Telegram would when it cannot be used."""
        if not params.has("chat_id"):
            raise Rejected(400, "Bad Request: chat_id is empty")
        raw = params.values["chat_id"]
        chat: _Chat | None = None
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

    def _thread(self, chat: _Chat, params: _Params) -> int | None:
        thread_id = params.get_int("message_thread_id")
        if thread_id is not None and thread_id not in chat.topics:
            raise Rejected(400, "Bad Request: message thread not found")
        return thread_id

    def _photo(self, value: Any, files: dict[str, tuple[str, bytes]]) -> str:
        """Check a photo reference: an uploaded file, an issued file_id or an http(s) URL."""
        if isinstance(value, tuple):
            return f"upload:{value[0]}"
        if not isinstance(value, str) or not value:
            raise Rejected(400, "Bad Request: there is no photo in the request")
        if value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
            if attached is None:
                raise Rejected(400, _WRONG_FILE)
            return f"upload:{attached[0]}"
        if value in self._files:
            return value
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise Rejected(400, _WRONG_FILE)
        for prefix, description in self._photo_refusals:
            if value.startswith(prefix):
                raise Rejected(400, description)
        return value

    def _photo_sizes(self, reference: str) -> list[JSON]:
        file_id = f"photo{len(self._files) + 1}"
        self._files[file_id] = (f"photos/{file_id}.jpg", reference.encode())
        return [
            {"file_id": f"{file_id}s", "file_unique_id": f"u{file_id}s", "width": 90, "height": 90},
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 800, "height": 600},
        ]

    def _common(self, params: _Params) -> tuple[_Chat, int | None, JSON | None]:
        chat = self._target(params)
        thread_id = self._thread(chat, params)
        markup = params.get_json("reply_markup")
        if markup is not None:
            _check_reply_markup(markup)
        return chat, thread_id, markup

    def _caption(self, params: _Params) -> tuple[str | None, list[JSON]]:
        caption = params.get_str("caption")
        if caption is None:
            return None, []
        caption, entities = _formatted(
            params, caption, "caption_entities", parse_mode=params.get_str("parse_mode")
        )
        check_caption(caption, entities)
        return caption, entities

    def _deliver(self, chat: _Chat, record: SentMessage, message: JSON) -> JSON:
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

    # --- methods ---------------------------------------------------------------------------

    async def _ok(self, params: _Params) -> bool:
        return True

    async def _get_me(self, params: _Params) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _delete_webhook(self, params: _Params) -> bool:
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = ""
        return True

    async def _set_webhook(self, params: _Params) -> bool:
        self.webhook_url = params.get_str("url") or ""
        return True

    async def _get_updates(self, params: _Params) -> list[JSON]:
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
    def _commands_key(params: _Params) -> str:
        return json.dumps([params.get_json("scope"), params.get_str("language_code") or ""])

    async def _set_my_commands(self, params: _Params) -> bool:
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

    async def _get_my_commands(self, params: _Params) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: _Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _send_message(self, params: _Params) -> JSON:
        chat, thread_id, markup = self._common(params)
        parse_mode, text, entities = _message_text(params)
        preview = params.get_json("link_preview_options")
        if preview is not None:
            _check_link_preview(preview)
        record = SentMessage(
            "sendMessage",
            chat.id,
            0,
            thread_id,
            text,
            entities,
            parse_mode=parse_mode,
            link_preview_options=preview,
            reply_markup=markup,
        )
        return self._deliver(chat, record, {})

    async def _send_photo(self, params: _Params) -> JSON:
        chat, thread_id, markup = self._common(params)
        photo = params.files.get("photo") or params.values.get("photo")
        reference = self._photo(photo, params.files)
        caption, entities = self._caption(params)
        record = SentMessage(
            "sendPhoto",
            chat.id,
            0,
            thread_id,
            caption=caption,
            caption_entities=entities,
            photos=[reference],
            parse_mode=params.get_str("parse_mode"),
            reply_markup=markup,
        )
        return self._deliver(chat, record, {"photo": self._photo_sizes(reference)})

    async def _send_media_group(self, params: _Params) -> list[JSON]:
        chat = self._target(params)
        thread_id = self._thread(chat, params)
        media = params.get_json("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise Rejected(400, "Bad Request: media must contain 2-10 items")
        items: list[JSON] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise Rejected(400, "Bad Request: fake accepts only photo items in media groups")
            item_params = _Params(item, {})
            caption, entities = "", list[JSON]()
            if item.get("caption") is not None:
                caption, entities = _formatted(
                    item_params,
                    item_params.get_str("caption") or "",
                    "caption_entities",
                    parse_mode=item_params.get_str("parse_mode"),
                )
                check_caption(caption, entities)
            reference = self._photo(item.get("media"), params.files)
            items.append(
                {
                    "type": "photo",
                    "media": reference,
                    "caption": caption,
                    "caption_entities": entities,
                }
            )
        captioned = next((item for item in items if item["caption"]), items[0])
        record = SentMessage(
            "sendMediaGroup",
            chat.id,
            0,
            thread_id,
            caption=captioned["caption"] or None,
            caption_entities=captioned["caption_entities"],
            photos=[item["media"] for item in items],
            media=items,
        )
        self._limits.take(chat.id)
        group_id = f"album{len(self.sent) + 1}"
        messages = []
        for item in items:
            message = self._new_message(chat, self._bot_user(), thread_id)
            message.update(photo=self._photo_sizes(item["media"]), media_group_id=group_id)
            if item["caption"]:
                message["caption"] = item["caption"]
            if item["caption_entities"]:
                message["caption_entities"] = item["caption_entities"]
            messages.append(message)
        record.message_ids = [m["message_id"] for m in messages]
        record.message_id = record.message_ids[0]
        self.sent.append(record)
        return messages

    async def _send_document(self, params: _Params) -> JSON:
        chat, thread_id, markup = self._common(params)
        upload = params.files.get("document")
        if upload is None:
            raise Rejected(400, "Bad Request: there is no document in the request")
        caption, entities = self._caption(params)
        record = SentMessage(
            "sendDocument",
            chat.id,
            0,
            thread_id,
            caption=caption,
            caption_entities=entities,
            parse_mode=params.get_str("parse_mode"),
            reply_markup=markup,
            document_name=upload[0],
            document_bytes=upload[1],
        )
        file_id = f"doc{len(self._files) + 1}"
        self._files[file_id] = (f"documents/{file_id}_{upload[0]}", upload[1])
        message: JSON = {
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": upload[0],
                "file_size": len(upload[1]),
            }
        }
        return self._deliver(chat, record, message)

    def _own_message(self, params: _Params, missing: str) -> tuple[_Chat, JSON]:
        if params.has("inline_message_id"):
            raise Rejected(400, "Bad Request: fake does not support inline messages")
        chat = self._target(params)
        message = self._messages.get((chat.id, params.get_int("message_id") or 0))
        if message is None or message["from"].get("id") != self.bot_id:
            raise Rejected(400, f"Bad Request: {missing}")
        return chat, message

    async def _edit_message_text(self, params: _Params) -> JSON:
        chat, message = self._own_message(params, "message to edit not found")
        if "text" not in message:
            raise Rejected(400, "Bad Request: there is no text in the message to edit")
        parse_mode, text, entities = _message_text(params)
        markup = params.get_json("reply_markup")
        if markup is not None:
            _check_inline_keyboard(markup)
        if (text, entities, markup) == (
            message["text"],
            message.get("entities", []),
            message.get("reply_markup"),
        ):
            raise Rejected(400, _NOT_MODIFIED)
        message.update(text=text, entities=entities, edit_date=int(time.time()))
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        self.edits.append(
            SentMessage(
                "editMessageText",
                chat.id,
                message["message_id"],
                text=text,
                entities=entities,
                parse_mode=parse_mode,
                reply_markup=markup,
            )
        )
        return message

    async def _edit_message_reply_markup(self, params: _Params) -> JSON:
        chat, message = self._own_message(params, "message to edit not found")
        markup = params.get_json("reply_markup")
        if markup is not None:
            _check_inline_keyboard(markup)
        if markup == message.get("reply_markup"):
            raise Rejected(400, _NOT_MODIFIED)
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        self.edits.append(
            SentMessage(
                "editMessageReplyMarkup", chat.id, message["message_id"], reply_markup=markup
            )
        )
        return message

    async def _delete_message(self, params: _Params) -> bool:
        chat = self._target(params)
        message_id = params.get_int("message_id") or 0
        if self._messages.pop((chat.id, message_id), None) is None:
            raise Rejected(400, "Bad Request: message to delete not found")
        self.deleted.append((chat.id, message_id))
        return True

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.get_str("callback_query_id")
        if query_id not in self._queries:
            raise Rejected(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._queries.discard(query_id)
        text = params.get_str("text")
        if text is not None and len(text) > 200:
            raise Rejected(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": text,
                "show_alert": params.get_bool("show_alert"),
            }
        )
        return True

    async def _get_chat(self, params: _Params) -> JSON:
        chat = self._target(params, sending=False)
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
        )
        return {
            **chat.as_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {**gifts, "gifts_from_channels": False},
        }

    def _bot_member(self, chat: _Chat) -> JSON:
        if chat.gone is not None:
            return {"status": "kicked", "user": self._bot_user(), "until_date": 0}
        if chat.type == "channel":
            return {**_ADMIN_RIGHTS, "status": "administrator", "user": self._bot_user()}
        return {"status": "member", "user": self._bot_user()}

    def _member(self, chat: _Chat, user_id: int) -> JSON:
        if user_id == self.bot_id:
            return self._bot_member(chat)
        user = self._user(user_id)
        if chat.type == "private":
            return {"status": "member" if user_id == chat.id else "left", "user": user}
        if chat.admins and user_id == chat.admins[0]:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in chat.admins:
            return {**_ADMIN_RIGHTS, "status": "administrator", "user": user}
        return {"status": "member", "user": user}

    async def _get_chat_member(self, params: _Params) -> JSON:
        chat = self._target(params, sending=False)
        user_id = params.get_int("user_id")
        if user_id is None:
            raise Rejected(400, "Bad Request: user_id is empty")
        return self._member(chat, user_id)

    async def _get_chat_administrators(self, params: _Params) -> list[JSON]:
        chat = self._target(params, sending=False)
        if chat.type == "private":
            raise Rejected(400, "Bad Request: there are no administrators in the private chat")
        members = [self._member(chat, user_id) for user_id in chat.admins]
        if chat.type == "channel":
            members.append(self._member(chat, self.bot_id))
        return members

    async def _get_file(self, params: _Params) -> JSON:
        file_id = params.get_str("file_id") or ""
        stored = self._files.get(file_id)
        if stored is None:
            raise Rejected(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(stored[1]),
            "file_path": stored[0],
        }


_ADMIN_RIGHTS: JSON = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_post_messages": True,
}


@pytest.fixture
async def bot_api(virtual_clock: VirtualClock) -> AsyncIterator[FakeBotAPI]:
    """A started fake Telegram per test on the test's virtual clock, stopped afterwards."""
    fake = FakeBotAPI(clock=virtual_clock)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
