"""Loopback feed server: real HTTP on 127.0.0.1 for fetcher and pipeline tests.

Each path answers in one of a few ways set at runtime: a document (with ETag,
Last-Modified and 304s), a redirect, a fixed status, an endless slow drip, or
a huge body streamed lazily. Paths under a held prefix wait until the test lets
them through, counting how many waited at once. Every request is logged so tests can assert what
the client sent (conditional headers, User-Agent) and how often.
"""

from __future__ import annotations

import asyncio
import gzip as gzip_module
import hashlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime

import pytest
from aiohttp import web
from multidict import CIMultiDict

_ZEROS = bytes(64 * 1024)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the server saw it, and the status it answered."""

    path: str
    method: str
    headers: CIMultiDict[str]
    status: int
    peer: str = ""
    """The client's address and port: one per connection, so a reused one repeats."""
    host: str = ""
    """The server address the request came in on (the farm listens on several)."""


@dataclass(frozen=True, slots=True)
class _Document:
    body: bytes
    content_type: str
    etag: str
    last_modified: str
    modified_at: float
    encoding: str | None


@dataclass(frozen=True, slots=True)
class _Redirect:
    to_url: str
    status: int


@dataclass(frozen=True, slots=True)
class _Status:
    code: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class _Slow:
    chunk: bytes
    interval: float


@dataclass(frozen=True, slots=True)
class _Huge:
    size: int
    declare_length: bool
    content_type: str


_Route = _Document | _Redirect | _Status | _Slow | _Huge


@dataclass
class _Hold:
    """Requests under a path prefix wait here until let through (``FeedServer.hold``)."""

    permits: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(0))
    waiting: int = 0
    most: int = 0
    """The most requests that ever waited at once: how many the client had open together."""
    opened: bool = False


@dataclass
class FeedServer:
    """An aiohttp server on 127.0.0.1 with an ephemeral port; set paths, then fetch them."""

    requests: list[Recorded] = field(default_factory=list)
    in_flight: int = 0
    """Document requests being answered now (see ``hold``)."""
    peak_in_flight: dict[str, int] = field(default_factory=dict)
    """The most document requests answered at once, per server address."""
    _held: asyncio.Event | None = None
    _flight: dict[str, int] = field(default_factory=dict)
    _routes: dict[str, _Route] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _base: str = ""
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _holds: dict[str, _Hold] = field(default_factory=dict)
    _all_held: _Hold = field(default_factory=_Hold)
    """Counts requests waiting under any held prefix."""

    async def start(self, *also: str) -> None:
        """Listen on 127.0.0.1 on a free port, and on the same port at each loopback
        address in ``also`` (``127.0.0.2``…): other hosts for the per-host limit."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base = f"http://{host}:{port}"
        for other in also:
            await web.TCPSite(self._runner, other, port).start()

    async def stop(self) -> None:
        """End drips and streams, let held requests go, then close the listener."""
        self._stopping.set()
        for prefix in self._holds:
            self.let_through(prefix)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._base.rsplit(":", 1)[1])

    def url(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return self._base + (path if path.startswith("/") else "/" + path)

    def put(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/rss+xml",
        *,
        gzip: bool = False,
    ) -> None:
        """Serve (or replace) a document: ETag from its hash, Last-Modified now."""
        if gzip:
            self.put_encoded(path, gzip_module.compress(body, mtime=0), "gzip", content_type)
        else:
            self.put_encoded(path, body, None, content_type)

    def put_gzip(self, path: str, body: bytes, content_type: str = "application/rss+xml") -> None:
        """Serve a document gzip-compressed on the wire."""
        self.put(path, body, content_type, gzip=True)

    def put_encoded(
        self,
        path: str,
        encoded: bytes,
        encoding: str | None,
        content_type: str = "application/rss+xml",
    ) -> None:
        """Serve bytes as they are, labelled with the given Content-Encoding (None: none)."""
        now = time.time()
        self._routes[path] = _Document(
            body=encoded,
            content_type=content_type,
            etag='"' + hashlib.sha256(encoded).hexdigest()[:16] + '"',
            last_modified=formatdate(now, usegmt=True),
            modified_at=int(now),
            encoding=encoding,
        )

    def redirect(self, path: str, to_url: str, status: int = 302) -> None:
        """Answer the path with a redirect to an absolute or relative URL."""
        self._routes[path] = _Redirect(to_url, status)

    def status(
        self, path: str, code: int, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> None:
        """Answer the path with a fixed status, headers and body."""
        self._routes[path] = _Status(code, dict(headers or {}), body)

    def slow(self, path: str, chunk: bytes = b"x", interval: float = 0.05) -> None:
        """Answer 200 and then drip a chunk every interval, forever."""
        self._routes[path] = _Slow(chunk, interval)

    def huge(
        self,
        path: str,
        size: int,
        *,
        declare_length: bool = True,
        content_type: str = "application/rss+xml",
    ) -> None:
        """Stream size zero bytes lazily; without declare_length no Content-Length is sent."""
        self._routes[path] = _Huge(size, declare_length, content_type)

    def hold_documents(self) -> asyncio.Event:
        """Make every document answer wait until the returned event is set, counting the
        answers under way per listening address (``in_flight``, ``peak_in_flight``): for
        per-host limits. ``hold`` holds requests by path prefix instead."""
        self._held = asyncio.Event()
        return self._held

    def hold(self, prefix: str) -> None:
        """Keep requests for paths under ``prefix`` waiting until ``let_through`` lets them go:
        a slow site, for seeing how many requests a client has open at once."""
        self._holds[prefix] = _Hold()

    def let_through(self, prefix: str, count: int | None = None) -> None:
        """Let ``count`` waiting (or future) requests under ``prefix`` go; None: all, for good."""
        held = self._holds[prefix]
        if count is None:
            held.opened = True
            count = held.waiting
        for _ in range(count):
            held.permits.release()

    def waiting(self, prefix: str) -> int:
        """Requests under ``prefix`` waiting now."""
        return self._holds[prefix].waiting

    def most_waiting(self, prefix: str | None = None) -> int:
        """The most requests under ``prefix`` (None: under any held prefix) that were waiting
        at the same time."""
        return (self._all_held if prefix is None else self._holds[prefix]).most

    async def _wait_if_held(self, path: str) -> None:
        for prefix, held in self._holds.items():
            if path.startswith(prefix) and not held.opened:
                counters = (held, self._all_held)
                for counter in counters:
                    counter.waiting += 1
                    counter.most = max(counter.most, counter.waiting)
                try:
                    await held.permits.acquire()
                finally:
                    for counter in counters:
                        counter.waiting -= 1
                return

    def count(self, path: str, status: int | None = None) -> int:
        """How many requests the path received, optionally only those answered with status."""
        return sum(
            1 for r in self.requests if r.path == path and (status is None or r.status == status)
        )

    def _log(self, request: web.Request, status: int) -> None:
        transport = request.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        local = transport.get_extra_info("sockname") if transport is not None else None
        self.requests.append(
            Recorded(
                request.path_qs,
                request.method,
                CIMultiDict(request.headers),
                status,
                peer=f"{peer[0]}:{peer[1]}" if peer else "",
                host=str(local[0]) if local else "",
            )
        )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        await self._wait_if_held(request.path)
        route = self._routes.get(request.path_qs) or self._routes.get(request.path)
        match route:
            case None:
                self._log(request, 404)
                return web.Response(status=404, text="not found")
            case _Document():
                return await self._held_document(request, route)
            case _Redirect(to_url, code):
                self._log(request, code)
                return web.Response(status=code, headers={"Location": to_url})
            case _Status(code, headers, body):
                self._log(request, code)
                return web.Response(status=code, headers=dict(headers), body=body)
            case _Slow():
                return await self._drip(request, route)
            case _Huge():
                return await self._stream(request, route)

    def _document(self, request: web.Request, doc: _Document) -> web.Response:
        headers = {
            "Content-Type": doc.content_type,
            "ETag": doc.etag,
            "Last-Modified": doc.last_modified,
        }
        if doc.encoding:
            headers["Content-Encoding"] = doc.encoding
        if self._not_modified(request, doc):
            self._log(request, 304)
            return web.Response(status=304, headers={"ETag": doc.etag})
        self._log(request, 200)
        return web.Response(status=200, body=doc.body, headers=headers)

    async def _held_document(self, request: web.Request, doc: _Document) -> web.Response:
        """Answer (once the hold, if any, is released), counting answers under way per address."""
        if self._held is None:
            return self._document(request, doc)
        transport = request.transport
        local = transport.get_extra_info("sockname") if transport is not None else None
        address = str(local[0]) if local else ""
        self.in_flight += 1
        self._flight[address] = self._flight.get(address, 0) + 1
        self.peak_in_flight[address] = max(
            self.peak_in_flight.get(address, 0), self._flight[address]
        )
        try:
            await self._held.wait()
            return self._document(request, doc)
        finally:
            self.in_flight -= 1
            self._flight[address] -= 1

    @staticmethod
    def _not_modified(request: web.Request, doc: _Document) -> bool:
        inm = request.headers.get("If-None-Match")
        if inm is not None:
            return doc.etag in {tag.strip() for tag in inm.split(",")} or inm.strip() == "*"
        ims = request.headers.get("If-Modified-Since")
        if ims is None:
            return False
        try:
            since = parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False
        return doc.modified_at <= since

    async def _drip(self, request: web.Request, slow: _Slow) -> web.StreamResponse:
        self._log(request, 200)
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        try:
            while not self._stopping.is_set():
                await response.write(slow.chunk)
                try:
                    await asyncio.wait_for(self._stopping.wait(), slow.interval)
                except TimeoutError:
                    continue
        except ConnectionResetError:
            pass  # the client gave up, which is what the test wants to see
        return response

    async def _stream(self, request: web.Request, huge: _Huge) -> web.StreamResponse:
        self._log(request, 200)
        response = web.StreamResponse(status=200, headers={"Content-Type": huge.content_type})
        if huge.declare_length:
            response.content_length = huge.size
        await response.prepare(request)
        remaining = huge.size
        try:
            while remaining > 0 and not self._stopping.is_set():
                piece = _ZEROS if remaining >= len(_ZEROS) else _ZEROS[:remaining]
                await response.write(piece)
                remaining -= len(piece)
        except ConnectionResetError:
            pass  # the client stopped reading at its cap
        return response


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A started FeedServer, stopped after the test."""
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
