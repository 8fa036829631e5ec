"""The operator's HTTP port (``http.listen``:``http.port``): ``/healthz`` and ``/metrics``.

Served by tornado, the server PTB's webhook mode runs on: one HTTP stack in the
image instead of two. ``/healthz`` answers 200 or 503 with a JSON object of the
checks (``bot.health``); ``/metrics`` answers Prometheus' text format
(``bot.metrics``), after sampling the database gauges.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from bot.health import HealthReport


class _Health(RequestHandler):
    def initialize(self, report: Callable[[], HealthReport]) -> None:
        self._report = report

    def get(self) -> None:
        report = self._report()
        self.set_status(200 if report.healthy else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        status = "ok" if report.healthy else "unhealthy"
        self.finish(json.dumps({"status": status, "checks": report.checks}))


class _Metrics(RequestHandler):
    def initialize(self, render: Callable[[], Awaitable[bytes]]) -> None:
        self._render = render

    async def get(self) -> None:
        body = await self._render()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(body)


class OpsServer:
    """Serves the two endpoints until ``stop``."""

    def __init__(
        self,
        report: Callable[[], HealthReport],
        render_metrics: Callable[[], Awaitable[bytes]],
    ) -> None:
        handlers: list[Any] = [
            ("/healthz", _Health, {"report": report}),
            ("/metrics", _Metrics, {"render": render_metrics}),
        ]
        self._server = HTTPServer(Application(handlers))
        self.port = 0

    def start(self, listen: str, port: int) -> int:
        """Listen on ``listen``:``port`` (0: a free port); the port bound. Raises OSError."""
        sockets = bind_sockets(port, address=listen)
        self._server.add_sockets(sockets)
        self.port = int(sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        self._server.stop()
        await self._server.close_all_connections()
