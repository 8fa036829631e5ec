"""The loopback guard: a test that reaches beyond this machine is refused and fails loudly."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from tests.fakes.feed_server import FeedServer
from tests.offline import LoopbackGuard, OffLoopbackConnection

TEST_NET = "192.0.2.1"  # TEST-NET-1 (RFC 5737): routable nowhere, but a real attempt would wait


def test_plain_socket_to_test_net_is_refused(loopback_only: LoopbackGuard) -> None:
    """A blocking connect to 192.0.2.1 is refused at once, before any packet, and recorded."""
    with socket.socket() as sock, pytest.raises(OffLoopbackConnection, match=TEST_NET):
        sock.connect((TEST_NET, 80))
    assert loopback_only.refused == [f"{TEST_NET}:80"]
    loopback_only.refused.clear()  # this test wanted the refusal


async def test_http_client_to_test_net_is_refused(loopback_only: LoopbackGuard) -> None:
    """Through asyncio and httpx (as the bot fetches) the same address fails without waiting."""
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        with pytest.raises(httpx.ConnectError):
            await asyncio.wait_for(client.get(f"http://{TEST_NET}/feed.xml"), timeout=5)
    assert loopback_only.refused == [f"{TEST_NET}:80"]
    loopback_only.refused.clear()


def test_a_swallowed_refusal_still_fails_the_test() -> None:
    """Code that catches the error does not hide the attempt: teardown fails the test."""
    guard = LoopbackGuard()
    with pytest.raises(OffLoopbackConnection):
        guard.check(socket.AF_INET6, ("2001:db8::1", 443, 0, 0))
    with pytest.raises(pytest.fail.Exception, match=r"2001:db8::1:443"):
        guard.verify()


@pytest.mark.parametrize(
    ("family", "address"),
    [
        (socket.AF_INET, ("127.0.0.1", 80)),
        (socket.AF_INET, ("127.8.9.10", 80)),
        (socket.AF_INET, ("localhost", 80)),
        (socket.AF_INET, ("0.0.0.0", 80)),
        (socket.AF_INET6, ("::1", 80, 0, 0)),
        (socket.AF_INET6, ("::ffff:127.0.0.1", 80, 0, 0)),
        (socket.AF_UNIX, "relay.sock"),
    ],
)
def test_local_destinations_pass(family: int, address: object) -> None:
    """Loopback in its spellings, the unspecified address and Unix sockets are allowed."""
    guard = LoopbackGuard()
    guard.check(family, address)
    assert guard.refused == []


@pytest.mark.parametrize(
    "host", ["10.0.0.5", "169.254.169.254", "8.8.8.8", "::ffff:10.1.2.3", "fe80::1%lo"]
)
def test_other_destinations_are_refused(host: str) -> None:
    """Private, link-local and public addresses are all beyond loopback."""
    guard = LoopbackGuard()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with pytest.raises(OffLoopbackConnection):
        guard.check(family, (host, 80))
    assert guard.refused == [f"{host}:80"]


async def test_loopback_servers_still_answer(feed_server: FeedServer) -> None:
    """The fakes on 127.0.0.1 are reached as before."""
    feed_server.put("/ok.xml", b"<rss/>")
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(feed_server.url("/ok.xml"))
    assert response.content == b"<rss/>"
