"""Through a proxy: Bot API calls and feed fetches both pass it, and what the guard checks there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import FetchSettings, Settings
from bot.feeds.failure import FetchError, FetchErrorKind
from bot.feeds.fetch import Fetcher
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.fakes.http_proxy import HttpProxy
from tests.harness import HarnessFactory
from tests.ports import free_port
from tests.virtual_time import eventually

CHAT = 7070
ITEMS = [
    Item(guid=f"g{n}", title=f"Proxied story {n}", link=f"https://e.com/{n}") for n in range(3)
]
PROXY_ONLY = "feeds.proxy-only.invalid"
"""A name this machine cannot resolve (.invalid never does); only the proxy knows it."""


def _method(path: str) -> str:
    return path.rsplit("/", 1)[-1]


async def test_telegram_calls_and_feed_fetches_pass_the_proxy(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI, feed_server: FeedServer, http_proxy: HttpProxy
) -> None:
    """With telegram.proxy and fetch.proxy set, every Bot API call and every fetch goes
    through the proxy: /sub, a poll and the deliveries, counted on both sides."""
    feed_server.put("/f.xml", rss("Wire", ITEMS[:1]))
    harness = await bot_factory(
        telegram={"proxy": http_proxy.url},
        fetch={"proxy": http_proxy.url},
        delivery={"backlog_on_subscribe": 0},
    )
    await harness.command(CHAT, f"/sub {feed_server.url('/f.xml')}")
    feed_server.put("/f.xml", rss("Wire", ITEMS))
    await harness.poll()
    await bot_api.wait_for_sent(CHAT, 3)
    await harness.settle()

    methods = [_method(path) for path in http_proxy.paths("POST")]
    print(f"through the proxy: {len(methods)} Bot API calls, fetches {http_proxy.paths('GET')}")
    assert {"getMe", "setMyCommands", "getUpdates", "sendMessage"} <= set(methods)
    sent = [call for call in bot_api.calls if call.method == "sendMessage"]
    assert methods.count("sendMessage") == len(sent) == 3
    assert methods.count("getMe") == sum(call.method == "getMe" for call in bot_api.calls)
    fetches = http_proxy.paths("GET")
    assert fetches.count("/f.xml") == feed_server.count("/f.xml") == 2
    assert all(r.method != "CONNECT" for r in http_proxy.requests)  # plain http targets


@pytest.fixture
async def proxied_fetcher(http_proxy: HttpProxy) -> AsyncIterator[Fetcher]:
    """A fetcher behind the proxy with the private-address guard on."""
    client = Fetcher(FetchSettings(proxy=http_proxy.url, timeout_seconds=5))
    yield client
    await client.aclose()


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "localhost", "169.254.169.254"],
)
async def test_private_targets_never_reach_the_proxy(
    proxied_fetcher: Fetcher, http_proxy: HttpProxy, feed_server: FeedServer, host: str
) -> None:
    """An IP literal, or a name that resolves here, to a private address is refused before
    anything is sent to the proxy."""
    with pytest.raises(FetchError) as caught:
        await proxied_fetcher.fetch(f"http://{host}:{feed_server.port}/f.xml")
    assert caught.value.kind is FetchErrorKind.REFUSED_ADDRESS
    assert http_proxy.requests == []


async def test_a_name_only_the_proxy_resolves_is_left_to_it(
    proxied_fetcher: Fetcher, http_proxy: HttpProxy, feed_server: FeedServer
) -> None:
    """A name this machine cannot resolve goes to the proxy by name, which resolves it
    (here to loopback: the limit of the guard, which the proxy's own rules must cover)."""
    http_proxy.hosts[PROXY_ONLY] = "127.0.0.1"
    feed_server.put("/f.xml", rss("Wire", ITEMS))
    result = await proxied_fetcher.fetch(f"http://{PROXY_ONLY}:{feed_server.port}/f.xml")
    assert b"Proxied story 2" in result.body
    assert [(r.method, r.target) for r in http_proxy.requests] == [
        ("GET", f"http://{PROXY_ONLY}:{feed_server.port}/f.xml")
    ]


async def test_https_goes_through_a_tunnel_by_name(
    proxied_fetcher: Fetcher, http_proxy: HttpProxy, feed_server: FeedServer
) -> None:
    """An https feed is a CONNECT to the name, TLS inside the tunnel (here it fails: the
    server behind speaks plain HTTP, which the fetcher reports as a TLS failure)."""
    http_proxy.hosts[PROXY_ONLY] = "127.0.0.1"
    with pytest.raises(FetchError) as caught:
        await proxied_fetcher.fetch(f"https://{PROXY_ONLY}:{feed_server.port}/f.xml")
    assert [(r.method, r.target) for r in http_proxy.requests] == [
        ("CONNECT", f"{PROXY_ONLY}:{feed_server.port}")
    ]
    assert caught.value.kind is FetchErrorKind.TLS


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h"])
async def test_a_proxy_that_is_down_is_named(scheme: str) -> None:
    """With the proxy unreachable the failure names the proxy, not the feed's host; SOCKS
    proxies work out of the box (httpx's socks extra is a dependency)."""
    client = Fetcher(FetchSettings(proxy=f"{scheme}://127.0.0.1:{free_port()}", timeout_seconds=5))
    try:
        with pytest.raises(FetchError) as caught:
            await client.fetch(f"http://{PROXY_ONLY}/f.xml")
    finally:
        await client.aclose()
    assert caught.value.kind is FetchErrorKind.CONNECT
    assert str(caught.value) == "cannot connect to the proxy in fetch.proxy"


async def test_telegram_through_a_socks_proxy_that_is_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A socks5 telegram.proxy carries the Bot API calls: with it down, the start retries and
    its line says the call went through the proxy."""
    from bot.app import Relay  # noqa: PLC0415 - imported late, as the harness does

    telegram = {"token": "1:x", "api_base_url": "http://127.0.0.1:9"}
    telegram["proxy"] = f"socks5://127.0.0.1:{free_port()}"
    database = {"url": f"sqlite:///{tmp_path / 'bot.db'}"}
    relay = Relay(Settings.model_validate({"telegram": telegram, "database": database}))
    caplog.set_level(logging.WARNING, logger="bot.app")
    starting = asyncio.create_task(relay.start(poll_feeds=False))
    try:
        await eventually(lambda: bool(caplog.records), what="a retry line", real_seconds=10)
    finally:
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
    line = caplog.records[0].getMessage()
    assert line.startswith("telegram_unreachable attempt=1 ")
    assert "through the proxy in telegram.proxy" in line
