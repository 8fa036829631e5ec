"""End to end: a private feed's key in its URL's query never reaches a chat.

Private feeds (a reader service's, a paid podcast's, a forge's activity feed) carry their
reader's key in the query: ``?token=…``. The one who subscribed knows it; the other members
of a group who read ``/list``, a notice or a delivered entry must not learn it
(``bot.redact``). An untitled feed is named by its URL, which is where it would show.
"""

from __future__ import annotations

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import HarnessFactory

CHAT = 8181
KEY = "s3cret-Reader-Key-42"
ONE = Item(guid="one", title="Story one", link="https://news.example/1")
TWO = Item(guid="two", title="Story two", link="https://news.example/2")


async def test_the_key_in_a_feed_url_is_never_shown(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """/sub's confirmation, /list, a new entry of the untitled feed and its gone notice name
    the feed with ``token=<secret>``; the feed is still fetched with its key."""
    path = f"/private.xml?token={KEY}"
    feed_server.put(path, rss("", [ONE]))
    url = feed_server.url(path)
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(CHAT, f"/sub {url}")
    listing = await harness.command(CHAT, "/list")
    assert "private.xml?token=<secret>" in (listing.text or "")

    feed_server.put(path, rss("", [TWO, ONE]))
    await harness.poll()
    await bot_api.wait_for_sent(CHAT, 3)
    assert "Story two" in (bot_api.sent_to(CHAT)[-1].text or "")

    feed_server.status(path, 410)
    for _ in range(2):  # 410 on two checks in a row ends the feed
        harness.clock.advance(3600)
        await harness.poll()
    await harness.settle()
    gone = bot_api.sent_to(CHAT)[-1].text or ""
    assert gone.startswith("🗑 ")
    assert "token=<secret>" in gone

    assert feed_server.count(path) >= 4  # fetched with its key all along
    shown = [m.text or m.caption or "" for m in bot_api.sent_to(CHAT)]
    assert [text for text in shown if KEY in text] == []
    assert bot_api.rejected == []
