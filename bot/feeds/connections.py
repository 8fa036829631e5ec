"""Connections for feed fetches: vetted when opened, kept alive within one host name.

``GuardedBackend`` is httpcore's network backend for feeds: it resolves the host name
itself (an IP literal in any form stands for itself), refuses the host when any of its
addresses is refused (``bot.feeds.netguard``), connects to a vetted address only, so a
DNS answer that changes between check and connect cannot reach inside, and checks the
connected peer once more. ``Pools`` keeps one small httpcore pool per origin (scheme,
host name, port), the ``KEEPALIVE_HOSTS`` most recently used: a kept-alive connection,
TLS-verified for one name, only ever carries requests for that name.
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

KEEPALIVE_HOSTS = 64
"""Origins whose connections are kept alive, the most recently used ones."""
KEEPALIVE_SECONDS = 30.0


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to vetted addresses of the host name.

    The pool hands it the URL's host name; it resolves the name (an IP literal in any
    form stands for itself), refuses it when any address is refused, tries the vetted
    addresses in order, and checks the peer it is connected to once more.
    """

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private

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
        addresses = await netguard.vetted_addresses(host, port, allow_private=self._allow_private)
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
        if self._allow_private:
            return
        peer = stream.get_extra_info("server_addr")
        if not peer:
            return
        address = ip_address(str(peer[0]).split("%", 1)[0])
        reason = netguard.refusal_reason(address)
        if reason is not None:
            raise netguard.RefusedAddressError(host, address, reason)


_Origin = tuple[bytes, bytes, int | None]


class Pools:
    """One small httpcore pool per origin, the most recently used ``KEEPALIVE_HOSTS`` kept."""

    def __init__(self, settings: FetchSettings) -> None:
        self._size = settings.per_host_concurrency
        self._backend = GuardedBackend(allow_private=settings.allow_private_networks)
        self._ssl = httpx.create_ssl_context(trust_env=False)
        self._pools: OrderedDict[_Origin, httpcore.AsyncConnectionPool] = OrderedDict()
        self._busy: Counter[_Origin] = Counter()

    @asynccontextmanager
    async def lease(self, origin: _Origin) -> AsyncIterator[httpcore.AsyncConnectionPool]:
        """The origin's pool, kept open while the caller uses it."""
        pool = self._pools.get(origin)
        if pool is None:
            pool = httpcore.AsyncConnectionPool(
                ssl_context=self._ssl,
                max_connections=self._size,
                max_keepalive_connections=self._size,
                keepalive_expiry=KEEPALIVE_SECONDS,
                network_backend=self._backend,
            )
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
