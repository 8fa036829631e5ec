"""A small HTTP proxy on loopback that records what passes through it.

It speaks the two forms an HTTP proxy client uses: ``CONNECT host:port`` (a tunnel,
for https:// targets; the bytes are piped both ways unread) and an absolute-form
request (``GET http://host:port/path HTTP/1.1``, for http:// targets), which it
forwards as an origin-form request with ``Connection: close`` and answers with the
upstream's whole response. One request per client connection: the proxy closes the
connection after answering, so the client opens a new one for the next request.

Like a real proxy it resolves names itself: ``hosts`` maps names that only the
proxy knows (its own DNS) to addresses; any other name is resolved as usual. The
test's loopback guard still refuses every upstream beyond this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "upgrade"}
)


@dataclass(frozen=True, slots=True)
class Proxied:
    """One request the proxy took: ``CONNECT host:port`` or ``GET http://host/path``."""

    method: str
    target: str

    @property
    def path(self) -> str:
        """The target's path (empty for CONNECT)."""
        return "" if self.method == "CONNECT" else urlsplit(self.target).path


@dataclass
class HttpProxy:
    """Start it, point a client at ``url``, then read ``requests``."""

    hosts: dict[str, str] = field(default_factory=dict)
    """Names the proxy resolves itself, to these addresses."""
    requests: list[Proxied] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    url: str = ""

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Close the listener and every open tunnel."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def paths(self, method: str | None = None) -> list[str]:
        """Paths of the forwarded (non-CONNECT) requests, optionally of one HTTP method."""
        return [
            r.path for r in self.requests if r.method != "CONNECT" and method in (None, r.method)
        ]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._one_request(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass  # the client or the upstream went away: nothing to record
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers = [line.split(":", 1) for line in header_lines if ":" in line]
        self.requests.append(Proxied(method, target))
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            await self._tunnel(host.strip("[]"), int(port), reader, writer)
            return
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        length = next((int(v) for k, v in headers if k.strip().lower() == "content-length"), 0)
        body = await reader.readexactly(length) if length else b""
        up_reader, up_writer = await self._connect(parts.hostname, parts.port or 80)
        try:
            path = parts.path or "/"
            lines = [f"{method} {path}{'?' + parts.query if parts.query else ''} HTTP/1.1"]
            lines += [f"{k}:{v}" for k, v in headers if k.strip().lower() not in _HOP_BY_HOP]
            lines.append("Connection: close")
            up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await up_writer.drain()
            while chunk := await up_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        finally:
            up_writer.close()

    async def _tunnel(
        self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        up_reader, up_writer = await self._connect(host, port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while chunk := await source.read(65536):
                    sink.write(chunk)
                    await sink.drain()
            sink.close()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            up_writer.close()

    async def _connect(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.hosts.get(host.lower(), host), port)


@pytest.fixture
async def http_proxy() -> AsyncIterator[HttpProxy]:
    """A started recording proxy on loopback, stopped after the test."""
    proxy = HttpProxy()
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
