"""No test reaches the network: a connection to any address beyond this machine fails the test.

An autouse fixture wraps ``socket.socket.connect`` and ``connect_ex``, the standard
library's network edge that every client (httpx through asyncio, PTB, plain sockets)
goes through. A connection to a loopback address (``127.0.0.0/8``, ``::1``, the
unspecified address, which Linux routes to this host) or to a Unix socket goes ahead; any
other is refused with :class:`OffLoopbackConnection` before a packet leaves, recorded,
and the test then fails at teardown even if the code under test swallowed the error.

Only connections are checked. Name resolution is left alone, so the bot's own guard
(which resolves a feed's host and refuses private addresses before connecting) is
exercised exactly as in production: this fixture never answers for it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv6Address, ip_address
from typing import Any

import pytest


class OffLoopbackConnection(OSError):  # noqa: N818 - named like ConnectionRefusedError
    """A test tried to connect beyond loopback; the connection was not made."""


def _is_local(host: str) -> bool:
    """Whether every address ``host`` (an IP literal or a name) denotes is on this machine."""
    host = host.split("%", 1)[0]  # an IPv6 zone id
    try:
        addresses = [ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return False
        addresses = [ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in addresses:
        mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
        target = mapped or address
        if not (target.is_loopback or target.is_unspecified):
            return False
    return bool(addresses)


@dataclass
class LoopbackGuard:
    """What the autouse fixture refused during one test (``host:port`` strings)."""

    refused: list[str] = field(default_factory=list)

    def check(self, family: int, address: Any) -> None:
        """Raise :class:`OffLoopbackConnection` (and record it) for a non-local destination."""
        if family not in (socket.AF_INET, socket.AF_INET6):
            return  # Unix sockets and the like never leave the machine
        host, port = str(address[0]), address[1]
        if _is_local(host):
            return
        where = f"{host}:{port}"
        self.refused.append(where)
        raise OffLoopbackConnection(
            f"tests must stay on loopback: connection to {where} refused (tests/offline.py)"
        )

    def verify(self) -> None:
        """Fail the current test if anything was refused (called at the fixture's teardown)."""
        if self.refused:
            pytest.fail(
                "the test tried to reach the network beyond loopback: "
                + ", ".join(self.refused)
                + " (every test must stay on 127.0.0.1/::1; see tests/offline.py)",
                pytrace=False,
            )


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackGuard]:
    """Refuse every connection beyond loopback for the test's duration; fail the test if tried."""
    guard = LoopbackGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(sock: socket.socket, address: Any) -> None:
        guard.check(sock.family, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        guard.check(sock.family, address)
        return int(real_connect_ex(sock, address))

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield guard
    guard.verify()
