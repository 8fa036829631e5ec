"""The HTTP clients PTB talks to the Bot API through: the proxy, and an observer of every call.

``ObservedRequest`` is PTB's own ``HTTPXRequest`` with ``do_request`` (the documented
extension point of ``BaseRequest``) wrapped: every call reports its Bot API method,
HTTP status and duration to an observer, which feeds the metrics (429s included,
whoever sent) and the health check (the last successful ``getUpdates``).

``trust_env=False`` on both clients: only ``telegram.proxy`` may route the
token-bearing requests, never an HTTP(S)_PROXY variable the process happened to inherit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from telegram.request import HTTPXRequest

from bot.config import TelegramSettings
from bot.tls import client_context

Observer = Callable[[str, int | None, float], None]
"""Called with (Bot API method, HTTP status or None when no answer came, seconds)."""

REQUEST_POOL = 64
REQUEST_READ_TIMEOUT = 15.0


class ObservedRequest(HTTPXRequest):
    """``HTTPXRequest`` that reports each call to ``observe``."""

    def __init__(self, observe: Observer | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._observe = observe

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """Send the request as PTB would, report (method, status, seconds), return the answer."""
        name = url.rsplit("/", 1)[-1]
        started = time.perf_counter()
        code: int | None = None
        try:
            code, payload = await super().do_request(url, method, *args, **kwargs)
        finally:
            if self._observe is not None:
                self._observe(name, code, time.perf_counter() - started)
        return code, payload


def build_requests(
    settings: TelegramSettings, *, long_poll_seconds: float, observe: Observer | None = None
) -> tuple[ObservedRequest, ObservedRequest]:
    """(request for every call, request for getUpdates), both through ``telegram.proxy`` if set.

    The getUpdates client waits ``long_poll_seconds`` plus a margin for an answer.
    """
    proxy = settings.proxy or None
    # One TLS context for both clients and the feed fetcher (bot.tls: building one costs).
    httpx_kwargs = {"trust_env": False, "verify": client_context()}
    common: dict[str, Any] = {"proxy": proxy, "httpx_kwargs": httpx_kwargs}
    request = ObservedRequest(
        observe, connection_pool_size=REQUEST_POOL, read_timeout=REQUEST_READ_TIMEOUT, **common
    )
    updates = ObservedRequest(
        observe, connection_pool_size=2, read_timeout=long_poll_seconds + 10, **common
    )
    return request, updates
