"""End to end: every bad /sub input gets a one-line reason, never silence."""

from __future__ import annotations

import socket

import pytest

from tests.corpus import NOT_A_FEED_PAGE
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import HarnessFactory

CHAT = 5151


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _reply_to(
    harness_factory: HarnessFactory, text: str, **sections: dict[str, object]
) -> str:
    harness = await harness_factory(**sections)
    reply = await harness.command(CHAT, text)
    assert reply.text is not None
    assert "\n" not in reply.text.strip(), reply.text
    return reply.text


@pytest.mark.parametrize(
    ("argument", "reason"),
    [("not-a-url", "not a web address"), ("ftp://example.com/feed", "not a web address")],
)
async def test_not_a_url(bot_factory: HarnessFactory, argument: str, reason: str) -> None:
    """Something that is not an http(s) address is named as such."""
    text = await _reply_to(bot_factory, f"/sub {argument}")
    assert reason in text


async def test_no_argument_gets_usage(bot_factory: HarnessFactory) -> None:
    """/sub alone explains its usage."""
    assert "/sub URL" in await _reply_to(bot_factory, "/sub")


async def test_unreachable_host(bot_factory: HarnessFactory) -> None:
    """A refused connection is reported, not swallowed."""
    text = await _reply_to(bot_factory, f"/sub http://127.0.0.1:{_closed_port()}/feed.xml")
    assert "❌" in text


async def test_not_a_feed(bot_factory: HarnessFactory, feed_server: FeedServer) -> None:
    """An HTML error page served at a feed URL is not a feed."""
    page = NOT_A_FEED_PAGE.read_bytes()
    feed_server.put("/suspended", page, "text/html; charset=utf-8")
    text = await _reply_to(bot_factory, f"/sub {feed_server.url('/suspended')}")
    assert "feed" in text.lower()
    assert "❌" in text


async def test_too_big(bot_factory: HarnessFactory, feed_server: FeedServer) -> None:
    """A feed over fetch.max_feed_bytes is refused with its size limit named."""
    feed_server.huge("/huge.xml", 50_000_000)
    text = await _reply_to(
        bot_factory, f"/sub {feed_server.url('/huge.xml')}", fetch={"max_feed_bytes": 100_000}
    )
    assert "larger" in text or "too big" in text.lower()


async def test_private_address_refused(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """With private networks refused (the default), a loopback feed is refused and never fetched."""
    feed_server.put("/news.xml", b"<rss version='2.0'><channel><title>x</title></channel></rss>")
    text = await _reply_to(
        bot_factory,
        f"/sub {feed_server.url('/news.xml')}",
        fetch={"allow_private_networks": False},
    )
    assert "refused" in text
    assert feed_server.count("/news.xml") == 0
    assert bot_api.rejected == []


async def test_metadata_address_refused(bot_factory: HarnessFactory) -> None:
    """The cloud metadata address is refused before any connection is tried."""
    text = await _reply_to(
        bot_factory,
        "/sub http://169.254.169.254/latest/meta-data/",
        fetch={"allow_private_networks": False},
    )
    assert "refused" in text


async def test_a_chinese_chat_gets_its_reasons_in_chinese(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """A failed /sub and a feed's last error in /list are worded in Chinese, no English inside."""
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(CHAT, "/lang zh")
    port = _closed_port()
    failed = (await harness.command(CHAT, f"/sub http://127.0.0.1:{port}/feed.xml")).text or ""
    assert "无法连接到 127.0.0.1" in failed
    assert "cannot" not in failed

    items = [Item(guid="1", title="一", link="https://news.example/1")]
    feed_server.put("/later-gone.xml", rss("消失的新闻", items))
    await harness.command(CHAT, f"/sub {feed_server.url('/later-gone.xml')}")
    feed_server.status("/later-gone.xml", 404)
    await harness.poll()
    listed = (await harness.command(CHAT, "/list")).text or ""
    assert "服务器返回 HTTP 404" in listed
    assert "Not Found" not in listed
