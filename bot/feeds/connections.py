"""Connections for feed fetches: vetted when opened, kept alive within one host name.

``GuardedBackend`` is httpcore's network backend for feeds: it resolves the host name
itself (an IP literal in any form stands for itself), refuses the host when any of its
addresses is refused (``bot.feeds.netguard``), connects to a vetted address only, so a
DNS answer that changes between check and connect cannot reach inside, and checks the
connected peer once more. ``Pools`` keeps one small httpcore pool per origin (scheme,
host name, port), the ``KEEPALIVE_HOSTS`` most recently used: a kept-alive connection,
TLS-verified for one name, only ever carries requests for that name.

Behind ``fetch.proxy`` each origin's pool is httpcore's HTTP or SOCKS5 proxy pool
instead: the proxy resolves and connects (``Fetcher`` checks what it can first,
``netguard.check_proxied``), an https origin gets its own tunnel, TLS-verified for
its name, and the proxy's credentials travel as proxy authentication.
"""

from __future__ import annotations

import typing
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from ipaddress import ip_address

import httpcore
import httpx

from bot.config import FetchSettings
from bot.feeds import netguard
from bot.tls import client_context

KEEPALIVE_HOSTS = 64
"""Origins whose connections are kept alive, the most recently used ones."""
KEEPALIVE_SECONDS = 30.0


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to vetted addresses of the host name.

    The pool hands it the URL's host name; it resolves the name (an IP literal in any
    form stands for itself), refuses it when any address is refused, tries the vetted
    addresses in order, and checks the peer it is connected to once more.
    """

    def __init__(self, policy: netguard.AddressPolicy) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A stream to a vetted address of ``host``; raises RefusedAddressError,
        socket.gaierror or httpcore.ConnectError."""
        addresses = await netguard.vetted_addresses(host, port, policy=self._policy)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
                continue
            try:
                self._check_connected(host, stream)
            except BaseException:
                await stream.aclose()
                raise
            return stream
        raise failure or httpcore.ConnectError(f"no address for {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: feeds are fetched over TCP only."""
        raise httpcore.ConnectError("unix sockets are not used for feeds")

    async def sleep(self, seconds: float) -> None:
        """As the wrapped backend sleeps."""
        await self._inner.sleep(seconds)

    def _check_connected(self, host: str, stream: httpcore.AsyncNetworkStream) -> None:
        """Belt and braces: the peer we actually talk to must pass the guard too."""
        peer = stream.get_extra_info("server_addr")
        if not peer:
            return
        self._policy.check(host, [ip_address(str(peer[0]).split("%", 1)[0])])


_Origin = tuple[bytes, bytes, int | None]
Pool = httpcore.AsyncConnectionPool | httpcore.AsyncHTTPProxy | httpcore.AsyncSOCKSProxy


def _proxy_parts(url: str) -> tuple[httpx.URL, tuple[str, str] | None]:
    """The proxy URL without its credentials, and the credentials (or None)."""
    parsed = httpx.URL(url)
    auth = (parsed.username, parsed.password) if parsed.username or parsed.password else None
    return parsed.copy_with(username=None, password=None), auth


class Pools:
    """One small httpcore pool per origin, the most recently used ``KEEPALIVE_HOSTS`` kept."""

    def __init__(self, settings: FetchSettings, policy: netguard.AddressPolicy) -> None:
        self._size = settings.per_host_concurrency
        self._backend = GuardedBackend(policy)
        self._ssl = client_context()
        self._proxy = _proxy_parts(settings.proxy) if settings.proxy else None
        self._pools: OrderedDict[_Origin, Pool] = OrderedDict()
        self._busy: Counter[_Origin] = Counter()

    def _new_pool(self) -> Pool:
        size, expiry = self._size, KEEPALIVE_SECONDS
        if self._proxy is None:
            return httpcore.AsyncConnectionPool(
                ssl_context=self._ssl,
                max_connections=size,
                max_keepalive_connections=size,
                keepalive_expiry=expiry,
                network_backend=self._backend,
            )
        url, auth = self._proxy
        kind = (
            httpcore.AsyncSOCKSProxy if url.scheme.startswith("socks5") else httpcore.AsyncHTTPProxy
        )
        return kind(
            proxy_url=str(url),
            proxy_auth=auth,
            ssl_context=self._ssl,
            max_connections=size,
            max_keepalive_connections=size,
            keepalive_expiry=expiry,
        )

    @asynccontextmanager
    async def lease(self, origin: _Origin) -> AsyncIterator[Pool]:
        """The origin's pool, kept open while the caller uses it."""
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._new_pool()
            self._pools[origin] = pool
        self._pools.move_to_end(origin)
        self._busy[origin] += 1
        try:
            yield pool
        finally:
            self._busy[origin] -= 1
            if not self._busy[origin]:
                del self._busy[origin]
            await self._evict()

    async def _evict(self) -> None:
        """Close the least recently used idle pools beyond ``KEEPALIVE_HOSTS``."""
        excess = len(self._pools) - KEEPALIVE_HOSTS
        for origin in list(self._pools):
            if excess <= 0:
                break
            if origin not in self._busy:
                await self._pools.pop(origin).aclose()
                excess -= 1

    async def aclose(self) -> None:
        """Close every pool."""
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()
