"""The facade: ``FakeBotAPI`` serves every method family on loopback HTTP, and its fixture."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from tests.fakes.bot_api.chats import ChatMethods
from tests.fakes.bot_api.editing import EditingMethods
from tests.fakes.bot_api.files import FileMethods
from tests.fakes.bot_api.limits import RateLimits
from tests.fakes.bot_api.records import Call, Refusal, SentMessage
from tests.fakes.bot_api.scripting import Scripting
from tests.fakes.bot_api.sending import SendingMethods
from tests.fakes.bot_api.updates import UpdateMethods
from tests.fakes.bot_api.webhook import WebhookMethods
from tests.fakes.bot_api.wire import Params, error_response, read_params
from tests.fakes.telegram_rules import Rejected
from tests.virtual_time import VirtualClock, eventually

Handler = Callable[[Params], Awaitable[Any]]


class FakeBotAPI(
    SendingMethods,
    EditingMethods,
    ChatMethods,
    UpdateMethods,
    WebhookMethods,
    FileMethods,
    Scripting,
):
    """The fake server: start it, point PTB at ``base_url``, then drive users and inspect sends.

    ``clock`` gives seconds since the epoch; the flood limits and every message date
    read it and nothing else, so a test clock moves both.
    """

    def __init__(
        self,
        token: str = "123456789:FAKE-token_for-tests",  # noqa: S107 -- a fake's own test token
        *,
        bot_username: str = "NewsRelayBot",
        clock: Callable[[], float] = time.time,
        chat_burst: int = 3,
        chat_per_second: float = 1.0,
        group_per_minute: int = 20,
        global_per_second: int = 30,
    ) -> None:
        limits = RateLimits(clock, chat_burst, chat_per_second, group_per_minute, global_per_second)
        super().__init__(token, bot_username=bot_username, limits=limits)
        self._recorded = asyncio.Condition()
        self._answering: collections.Counter[str] = collections.Counter()
        self.may_advance: Callable[[float], bool] = lambda _seconds: True
        """Whether virtual time may move on (nothing in flight); the harness sets it."""
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._ok,
                "close": self._ok,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getWebhookInfo": self._get_webhook_info,
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

    async def start(self, port: int = 0) -> None:
        """Listen on loopback, on ``port`` or (0) a free one."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Answer pending long polls and shut the server down."""
        self._closing = True
        async with self._updates_changed:
            self._updates_changed.notify_all()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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

    def pending_calls(self, method: str) -> int:
        """Calls of ``method`` that arrived and are not answered yet (see ``hold_next``)."""
        return self._answering[method]

    @property
    def pending_updates(self) -> int:
        """Updates pushed and not yet confirmed by a later getUpdates offset."""
        return len(self._updates)

    async def _wait(self, done: Callable[[], bool], seconds: float, what: str) -> None:
        """The one place a test waits on the fake: until ``done()`` or fail after ``seconds``.

        On a virtual clock the wait moves time (``tests.virtual_time.eventually``);
        ``seconds`` then bounds the real time it may take.
        """
        try:
            if isinstance(self.clock, VirtualClock):
                await eventually(
                    done,
                    clock=self.clock,
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

    async def _notify(self) -> None:
        """Wake ``_wait``: something was recorded."""
        async with self._recorded:
            self._recorded.notify_all()

    # --- HTTP ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(Rejected(401, "Unauthorized"))
        found = self._handlers.get(request.match_info["method"].lower())
        if found is None:
            return error_response(Rejected(404, "Not Found"))
        method, handler = found
        self._answering[method] += 1
        try:
            return await self._answer(request, method, handler)
        finally:
            self._answering[method] -= 1

    async def _answer(self, request: web.Request, method: str, handler: Handler) -> web.Response:
        chat_id: int | None = None
        try:
            params = await read_params(request)
            self.calls.append(Call(method, dict(params.values)))
            await self._notify()
            with contextlib.suppress(Rejected):
                chat_id = params.get_int("chat_id")
            await self._scripted_hold(method.lower(), chat_id)
            self._scripted_failure(method.lower(), chat_id)
            result = await handler(params)
        except Rejected as refusal:
            self.rejected.append(Refusal(method, chat_id, refusal.code, refusal.description))
            await self._notify()
            return error_response(refusal)
        await self._notify()
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def bot_api(virtual_clock: VirtualClock) -> AsyncIterator[FakeBotAPI]:
    """A started fake Telegram per test on the test's virtual clock, stopped afterwards."""
    fake = FakeBotAPI(clock=virtual_clock)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
