"""Safe HTTP for feed documents: fetch bytes, classify every failure in one place.

Rules, each because a hostile or broken feed URL must not hurt the bot:

- only http and https; at most 5 redirects, followed by hand so each hop is
  checked again;
- every new connection resolves its host itself, refuses private addresses (unless
  ``allow_private_networks``) and connects to one of the vetted addresses only; the
  address actually connected is checked once more (``bot.feeds.connections``);
- connections are kept alive, but a connection only ever carries requests for the host
  name it was opened (and TLS-verified) for: one small pool per origin. (Before,
  requests went to the vetted IP with the name in Host/SNI, so the pool was keyed by IP
  and a kept-alive TLS connection verified for one name could have carried another
  name's request; that is why keep-alive was off.)
- behind ``fetch.proxy`` the proxy resolves and connects: a hop is sent to it by
  name after ``netguard.check_proxied`` (IP literals, and the names' local answers);
- one deadline for the whole fetch (a server dripping a byte a second cannot
  hold a worker), plus connect/read timeouts;
- the body is decompressed here, in bounded pieces, and cut at
  ``max_feed_bytes`` of decoded bytes, so neither a huge body nor a gzip bomb
  costs more than the cap in memory;
- every failure leaves as a ``FetchError`` whose kind ``bot.feeds.failure``
  decides; its detail never carries the URL's path, query or credentials.

The HTTP client is httpcore (httpx's transport layer) used directly: feed fetching
needs no cookies, auth or client-side redirects, and the layer above costs CPU on
every one of thousands of checks.
"""

from __future__ import annotations

import asyncio
import hashlib
import typing
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpcore
import httpx

from bot.config import FetchSettings
from bot.feeds import netguard
from bot.feeds.connections import Pool, Pools
from bot.feeds.failure import (
    READ_FAILURES,
    FetchError,
    FetchErrorKind,
    classify,
    human_size,
    status_error,
)
from bot.feeds.textutil import DEFAULT_PORTS

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PERMANENT_STATUSES = frozenset({301, 308})
_DECODE_PIECE = 64 * 1024
_DRAIN_LIMIT = 64 * 1024
"""A redirect's or an error's body is read up to this much so the connection can be reused."""
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A fetched feed document, or the news that it has not changed."""

    url: str
    """The final URL, after redirects."""
    status: int
    """200 (any 2xx is reported as fetched) or 304."""
    body: bytes
    """Decoded body; b"" on 304."""
    etag: str | None
    last_modified: str | None
    content_type: str | None
    cache_control: str | None = None
    moved_to: str | None = None
    """Where the feed moved for good: the target of the last of the permanent redirects
    (301, 308) the fetch began with; None when it began with none."""
    body_hash: str = field(default="", compare=False)
    """SHA-256 of the body, hex (computed once): an unchanged hash means an unchanged
    document."""

    def __post_init__(self) -> None:
        if not self.body_hash:
            object.__setattr__(self, "body_hash", hashlib.sha256(self.body).hexdigest())

    @property
    def not_modified(self) -> bool:
        """True when the server answered a conditional GET with 304."""
        return self.status == 304


def check_url(url: str) -> httpx.URL:
    """Parse a feed URL, refusing every scheme but http and https."""
    text = url.strip()
    if not text or any(ord(ch) < 0x20 or ch == "\x7f" or ch.isspace() for ch in text):
        raise FetchError(FetchErrorKind.INVALID_URL, "not a valid URL")
    scheme, sep, _rest = text.partition(":")
    if not sep or not scheme or not scheme.isascii() or not scheme.isalpha():
        raise FetchError(FetchErrorKind.INVALID_URL, "not a URL: it must start with http://")
    if scheme.lower() not in ("http", "https"):
        raise FetchError(
            FetchErrorKind.BAD_SCHEME,
            f"only http:// and https:// feeds are supported, not {scheme.lower()}:",
        )
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise FetchError(FetchErrorKind.INVALID_URL, "not a valid URL") from exc
    if not parsed.host:
        raise FetchError(FetchErrorKind.INVALID_URL, "not a valid URL: it names no host")
    return parsed


class _BoundedBody:
    """Collects the decoded body in pieces of at most 64 KB and stops at the cap."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchError(
                FetchErrorKind.BAD_ENCODING, "the server used an unsupported compression"
            )
        self._coding = codings[0] if codings else ""
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0
        self._inflater = self._new_inflater()
        self._raw_deflate_tried = False

    def _new_inflater(self) -> zlib._Decompress | None:
        if self._coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._coding == "deflate":
            return zlib.decompressobj(zlib.MAX_WBITS)
        return None

    def _keep(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self._limit:
            raise FetchError(
                FetchErrorKind.TOO_BIG,
                f"feed is larger than {human_size(self._limit)}",
                limit=self._limit,
            )
        self._chunks.append(piece)

    def feed(self, raw: bytes) -> None:
        data = raw
        while data:
            inflater = self._inflater
            if inflater is None:
                self._keep(data)
                return
            try:
                piece = inflater.decompress(data, _DECODE_PIECE)
            except zlib.error:
                if self._coding == "deflate" and not self._raw_deflate_tried and not self._size:
                    # Some servers send raw deflate without the zlib header.
                    self._raw_deflate_tried = True
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise
            self._keep(piece)
            data = inflater.unconsumed_tail
            if inflater.eof and inflater.unused_data and self._coding != "deflate":
                # A gzip stream may hold several members back to back.
                data = inflater.unused_data
                self._inflater = self._new_inflater()

    def result(self) -> bytes:
        """The whole body, after draining output the inflater still holds."""
        inflater = self._inflater
        while inflater is not None and not inflater.eof:
            piece = inflater.decompress(b"", _DECODE_PIECE)
            if not piece:
                break
            self._keep(piece)
        return b"".join(self._chunks)


class _Response:
    """One answer's status and headers (lower-case names, repeats joined), body unread."""

    def __init__(self, raw: httpcore.Response) -> None:
        self.raw = raw
        self.status = raw.status
        headers: dict[str, str] = {}
        for name, value in raw.headers:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        self.headers: Mapping[str, str] = headers

    def chunks(self) -> typing.AsyncIterator[bytes]:
        stream = self.raw.stream
        assert isinstance(stream, typing.AsyncIterable)  # noqa: S101 - httpcore's async stream
        return aiter(stream)

    async def drain(self) -> None:
        """Read a small remaining body so the connection returns to the pool."""
        size = 0
        async for piece in self.chunks():
            size += len(piece)
            if size > _DRAIN_LIMIT:
                break


class Fetcher:
    """Fetches feed documents over kept-alive connections, at most ``concurrency`` at a time."""

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._policy = netguard.AddressPolicy.from_settings(
            settings.allow_private_networks, settings.allowed_private_hosts
        )
        self._proxied = bool(settings.proxy)
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._pools = Pools(settings, self._policy)
        limit = settings.timeout_seconds
        self._timeouts = {"connect": limit, "read": limit, "write": limit, "pool": limit}
        self._headers = [
            (b"User-Agent", settings.user_agent.encode("latin-1", "replace")),
            (b"Accept", _ACCEPT.encode()),
            (b"Accept-Encoding", b"gzip, deflate"),
        ]

    async def aclose(self) -> None:
        """Close the pools and their kept-alive connections."""
        await self._pools.aclose()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Fetch one feed document, conditionally when a validator is given.

        Returns the document (or the news that it has not changed, on 304).
        Raises ``FetchError``, classified by ``bot.feeds.failure``.
        """
        target = check_url(url)
        conditional: list[tuple[bytes, bytes]] = []
        if etag:
            conditional.append((b"If-None-Match", etag.encode("latin-1", "replace")))
        if last_modified:
            conditional.append((b"If-Modified-Since", last_modified.encode("latin-1", "replace")))
        limit = self._settings.timeout_seconds
        try:
            # The deadline covers the wait for a slot too: a /sub queued behind slow
            # feeds answers within the timeout the user was promised.
            async with asyncio.timeout(limit), self._slots:
                return await self._follow(target, conditional, etag, last_modified)
        except TimeoutError as exc:
            raise classify(exc, host=target.host, timeout=limit) from exc

    async def _follow(
        self,
        url: httpx.URL,
        conditional: list[tuple[bytes, bytes]],
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        moved_to: str | None = None
        permanent = True
        for hop in range(MAX_REDIRECTS + 1):
            if hop:
                url = check_url(str(url))
            origin = (url.raw_scheme, url.raw_host, url.port)
            try:
                async with self._pools.lease(origin) as pool:
                    response = await self._open(pool, url, conditional)
                    try:
                        location = response.headers.get("location")
                        if response.status in _REDIRECT_STATUSES and location:
                            await response.drain()
                            url = url.join(location.strip())
                            permanent = permanent and response.status in _PERMANENT_STATUSES
                            moved_to = str(url) if permanent else moved_to
                            continue
                        return await self._finish(url, response, etag, last_modified, moved_to)
                    finally:
                        await response.raw.aclose()
            except READ_FAILURES as exc:
                raise classify(exc, host=url.host, timeout=self._settings.timeout_seconds) from exc
        raise FetchError(
            FetchErrorKind.TOO_MANY_REDIRECTS,
            f"too many redirects (more than {MAX_REDIRECTS})",
            limit=MAX_REDIRECTS,
        )

    async def _open(
        self,
        pool: Pool,
        url: httpx.URL,
        conditional: list[tuple[bytes, bytes]],
    ) -> _Response:
        """Send one request for the URL; headers read, body not."""
        request = httpcore.Request(
            b"GET",
            httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=[(b"Host", url.netloc), *self._headers, *conditional],
            extensions={"timeout": self._timeouts},
        )
        if not self._proxied:
            return _Response(await pool.handle_async_request(request))
        host = url.raw_host.decode("ascii")
        await netguard.check_proxied(
            host, url.port or DEFAULT_PORTS[url.scheme], policy=self._policy
        )
        try:
            return _Response(await pool.handle_async_request(request))
        except httpcore.ConnectError as exc:
            if classify(exc, host=host).kind is FetchErrorKind.TLS:
                raise  # the feed's TLS, inside the proxy's tunnel
            # Otherwise the connection that failed is the one to the proxy (it reports
            # its own failures to reach the feed as 502 or ProxyError): name it.
            raise FetchError(
                FetchErrorKind.CONNECT, "cannot connect to the proxy in fetch.proxy", host=host
            ) from exc

    async def _finish(
        self,
        url: httpx.URL,
        response: _Response,
        etag: str | None,
        last_modified: str | None,
        moved_to: str | None,
    ) -> FetchResult:
        status, headers = response.status, response.headers
        if status == 304:
            await response.drain()
            return FetchResult(
                url=str(url),
                status=304,
                body=b"",
                etag=headers.get("etag") or etag,
                last_modified=headers.get("last-modified") or last_modified,
                content_type=headers.get("content-type"),
                cache_control=headers.get("cache-control"),
                moved_to=moved_to,
            )
        if not 200 <= status < 300:
            await response.drain()
            raise status_error(status, headers)
        limit = self._settings.max_feed_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(
                FetchErrorKind.TOO_BIG, f"feed is larger than {human_size(limit)}", limit=limit
            )
        body = _BoundedBody(headers.get("content-encoding", ""), limit)
        async for raw in response.chunks():
            body.feed(raw)
        return FetchResult(
            url=str(url),
            status=200,
            body=body.result(),
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            content_type=headers.get("content-type"),
            cache_control=headers.get("cache-control"),
            moved_to=moved_to,
        )
