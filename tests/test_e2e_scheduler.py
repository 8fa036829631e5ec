"""End to end: the real APScheduler tick finds due feeds without any test driving it."""

from __future__ import annotations

from pathlib import Path

from bot.app import Relay
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import make_settings

CHAT = 9191


async def test_scheduler_polls_due_feeds_on_its_own(
    bot_api: FakeBotAPI, feed_server: FeedServer, tmp_path: Path
) -> None:
    """With a 1 s interval, a new entry arrives within seconds, fetched by the scheduler's tick."""
    first = Item(guid="1", title="First", link="https://news.example/1")
    feed_server.put("/s.xml", rss("Ticking", [first]))
    settings = make_settings(
        bot_api,
        tmp_path / "s.db",
        polling={"interval_seconds": 1, "min_interval_seconds": 1},
        delivery={"backlog_on_subscribe": 0},
    )
    relay = Relay(settings)
    await relay.start()
    try:
        bot_api.user_sends(CHAT, f"/sub {feed_server.url('/s.xml')}")
        await bot_api.wait_for_sent(CHAT, 1)
        second = Item(guid="2", title="Second", link="https://news.example/2")
        feed_server.put("/s.xml", rss("Ticking", [second, first]))
        sent = await bot_api.wait_for_sent(CHAT, 2, timeout=15)
    finally:
        await relay.stop()
    assert "Second" in (sent[1].text or "")
    assert feed_server.count("/s.xml") >= 2  # the /sub fetch, then the tick's
    assert bot_api.rejected == []
