"""Safe HTTP for feed documents: fetch bytes, classify every failure in one place.

Rules, each because a hostile or broken feed URL must not hurt the bot:

- only http and https; at most 5 redirects, followed by hand so each hop is
  checked again;
- every hop resolves its host itself, refuses private addresses (unless
  ``allow_private_networks`` or ``allowed_private_hosts`` allow them; cloud
  metadata addresses only when named: ``bot.feeds.netguard``) and connects to one
  of the vetted addresses only, so a DNS answer that changes between check and
  connect (rebinding) cannot reach inside; the address actually connected is
  checked once more;
- behind ``fetch.proxy`` the proxy resolves and connects: a hop is sent to it by
  name after ``netguard.check_proxied`` (IP literals, and the names' local answers);
- one deadline for the whole fetch (a server dripping a byte a second cannot
  hold a worker), plus httpx's connect/read timeouts;
- the body is decompressed here, in bounded pieces, and cut at
  ``max_feed_bytes`` of decoded bytes, so neither a huge body nor a gzip bomb
  costs more than the cap in memory;
- every failure leaves as a ``FetchError`` whose kind ``bot.feeds.failure``
  decides; its detail never carries the URL's path, query or credentials.
"""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from ipaddress import ip_address

import httpx

from bot.config import FetchSettings
from bot.feeds import netguard
from bot.feeds.failure import (
    READ_FAILURES,
    FetchError,
    FetchErrorKind,
    classify,
    human_size,
    status_error,
)

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DECODE_PIECE = 64 * 1024
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

    @property
    def not_modified(self) -> bool:
        """True when the server answered a conditional GET with 304."""
        return self.status == 304

    @property
    def body_hash(self) -> str:
        """SHA-256 of the body, hex: an unchanged hash means an unchanged document."""
        return hashlib.sha256(self.body).hexdigest()


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


class Fetcher:
    """Fetches feed documents through one shared client, at most ``concurrency`` at a time."""

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._policy = netguard.AddressPolicy.from_settings(
            settings.allow_private_networks, settings.allowed_private_hosts
        )
        self._proxied = bool(settings.proxy)
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_seconds),
            follow_redirects=False,
            # Only the configured proxy: HTTP(S)_PROXY variables must not reroute fetches
            # around the guard's idea of where a request goes.
            trust_env=False,
            proxy=settings.proxy or None,
            # Requests are addressed to IPs, so a stored cookie would go to every
            # site sharing that IP (CDNs); feeds need no cookies: keep none.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            # Requests go to a vetted IP with the name in Host/SNI; a kept-alive TLS
            # connection could otherwise serve another name on the same IP unverified.
            limits=httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=0),
            headers={
                "User-Agent": settings.user_agent,
                "Accept": _ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
        )

    async def aclose(self) -> None:
        """Close the shared client."""
        await self._client.aclose()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Fetch one feed document, conditionally when a validator is given.

        Returns the document (or the news that it has not changed, on 304).
        Raises ``FetchError``, classified by ``bot.feeds.failure``.
        """
        target = check_url(url)
        conditional: dict[str, str] = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
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
        conditional: dict[str, str],
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        for hop in range(MAX_REDIRECTS + 1):
            if hop:
                url = check_url(str(url))
            try:
                response = await self._open(url, conditional)
                try:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECT_STATUSES and location:
                        url = url.join(location.strip())
                        continue
                    return await self._finish(url, response, etag, last_modified)
                finally:
                    await response.aclose()
            except READ_FAILURES as exc:
                raise classify(exc, host=url.host, timeout=self._settings.timeout_seconds) from exc
        raise FetchError(
            FetchErrorKind.TOO_MANY_REDIRECTS,
            f"too many redirects (more than {MAX_REDIRECTS})",
            limit=MAX_REDIRECTS,
        )

    async def _open(self, url: httpx.URL, conditional: dict[str, str]) -> httpx.Response:
        """Send one request to a vetted address of the URL's host; headers read, body not."""
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        if self._proxied:
            await netguard.check_proxied(host, port, policy=self._policy)
            request = self._client.build_request("GET", url, headers=conditional)
            try:
                return await self._client.send(request, stream=True)
            except httpx.ConnectError as exc:
                if classify(exc, host=host).kind is FetchErrorKind.TLS:
                    raise  # the feed's TLS, inside the proxy's tunnel
                # Otherwise the connection that failed is the one to the proxy (it reports
                # its own failures to reach the feed as 502 or ProxyError): name it.
                raise FetchError(
                    FetchErrorKind.CONNECT, "cannot connect to the proxy in fetch.proxy", host=host
                ) from exc
        addresses = await netguard.vetted_addresses(host, port, policy=self._policy)
        headers = {"Host": url.netloc.decode("ascii"), **conditional}
        extensions = {"sni_hostname": host} if url.scheme == "https" else {}
        failure: httpx.ConnectError | None = None
        for address in addresses:
            request = self._client.build_request(
                "GET", url.copy_with(host=str(address)), headers=headers, extensions=extensions
            )
            try:
                response = await self._client.send(request, stream=True)
            except httpx.ConnectError as exc:
                failure = exc
                continue
            self._check_connected(host, response)
            return response
        raise failure or httpx.ConnectError(f"no address for {host}")

    def _check_connected(self, host: str, response: httpx.Response) -> None:
        """Belt and braces: the peer we actually talk to must pass the guard too."""
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if not peer:
            return
        self._policy.check(host, [ip_address(str(peer[0]).split("%", 1)[0])])

    async def _finish(
        self,
        url: httpx.URL,
        response: httpx.Response,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        status = response.status_code
        headers = response.headers
        if status == 304:
            return FetchResult(
                url=str(url),
                status=304,
                body=b"",
                etag=headers.get("etag") or etag,
                last_modified=headers.get("last-modified") or last_modified,
                content_type=headers.get("content-type"),
            )
        if not 200 <= status < 300:
            raise status_error(status, headers)
        limit = self._settings.max_feed_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(
                FetchErrorKind.TOO_BIG, f"feed is larger than {human_size(limit)}", limit=limit
            )
        body = _BoundedBody(headers.get("content-encoding", ""), limit)
        async for raw in response.aiter_raw():
            body.feed(raw)
        return FetchResult(
            url=str(url),
            status=200,
            body=body.result(),
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            content_type=headers.get("content-type"),
        )
