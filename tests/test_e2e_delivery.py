"""End to end: deliveries survive Telegram's refusals, limits and outages, losing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

CHAT = 6060
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def _items(count: int, *, image: str | None = None) -> list[Item]:
    return [
        Item(
            guid=f"item-{n}",
            title=f"Headline number {n}",
            link=f"https://news.example/{n}",
            description_html=f"<p>Body of story {n}.</p>",
            pub_date=START + timedelta(minutes=n),
            enclosure_image=image,
        )
        for n in range(count)
    ]


async def _subscribed(
    factory: HarnessFactory, feeds: FeedServer, api: FakeBotAPI, items: list[Item], chat: int = CHAT
) -> BotHarness:
    feeds.put("/f.xml", rss("Wire", items[:1]))
    harness = await factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(chat, f"/sub {feeds.url('/f.xml')}")
    return harness


def _titles(api: FakeBotAPI, chat: int) -> list[str]:
    return [
        line
        for message in api.sent_to(chat)
        for line in (message.text or message.caption or "").splitlines()[:1]
        if line.startswith("Headline")
    ]


async def test_burst_stays_under_limits_and_keeps_order(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Six entries at once reach the chat in order with no 429 from the strict API."""
    items = _items(7)
    harness = await _subscribed(bot_factory, feed_server, bot_api, items)
    feed_server.put("/f.xml", rss("Wire", items[::-1]))
    await harness.poll()
    await bot_api.wait_for_sent(CHAT, 7, timeout=20)
    assert _titles(bot_api, CHAT) == [f"Headline number {n}" for n in range(1, 7)]
    assert bot_api.rejected == []


async def test_retry_after_is_waited_out(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A 429 for the chat delays that message; it is sent once afterwards."""
    items = _items(2)
    harness = await _subscribed(bot_factory, feed_server, bot_api, items)
    bot_api.flood_next("sendMessage", chat_id=CHAT, retry_after=1)
    feed_server.put("/f.xml", rss("Wire", items[::-1]))
    await harness.poll()
    await bot_api.wait_for_sent(CHAT, 2)
    assert _titles(bot_api, CHAT) == ["Headline number 1"]
    assert [r.code for r in bot_api.rejected] == [429]


async def test_outage_then_recovery_loses_nothing(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Two 500 answers in a row: the message is retried and delivered exactly once."""
    items = _items(2)
    harness = await _subscribed(bot_factory, feed_server, bot_api, items)
    bot_api.fail_next(
        "sendMessage", chat_id=CHAT, code=500, description="Internal Server Error", times=2
    )
    feed_server.put("/f.xml", rss("Wire", items[::-1]))
    await harness.poll()
    await bot_api.wait_for_sent(CHAT, 2, timeout=20)
    assert _titles(bot_api, CHAT) == ["Headline number 1"]


async def test_pending_messages_survive_a_restart(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Entries queued while Telegram was failing are delivered by the next bot process, once."""
    items = _items(3)
    harness = await _subscribed(bot_factory, feed_server, bot_api, items)
    bot_api.fail_next("sendMessage", chat_id=CHAT, code=502, description="Bad Gateway", times=1)
    feed_server.put("/f.xml", rss("Wire", items[::-1]))
    await harness.poll()
    await bot_api.wait_for_calls("sendMessage", 2)
    await harness.restart()
    await bot_api.wait_for_sent(CHAT, 3, timeout=20)
    await harness.poll()
    assert _titles(bot_api, CHAT) == ["Headline number 1", "Headline number 2"]


async def test_blocked_chat_gets_no_more_attempts_until_start(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """After a 403 the chat is left alone; /start there re-enables deliveries.

    Three guards keep a blocked chat quiet (no fetch for a feed only it follows, no rows
    queued for it, no rows sent to it); with all three removed this test fails.
    """
    items = _items(4)
    harness = await _subscribed(bot_factory, feed_server, bot_api, items)
    bot_api.bot_kicked(CHAT)
    feed_server.put("/f.xml", rss("Wire", items[:2][::-1]))
    await harness.poll()
    await bot_api.wait_for_calls("sendMessage", 2)
    calls_after_block = len(bot_api.calls)
    feed_server.put("/f.xml", rss("Wire", items[:3][::-1]))
    await harness.poll()
    await harness.settle()
    assert [c.method for c in bot_api.calls[calls_after_block:]].count("sendMessage") == 0
    assert harness.relay is not None
    stats = await harness.relay.store.stats()
    assert stats.failed == 1
    # The user unblocks the bot and sends /start: deliveries resume.
    bot_api.bot_restored(CHAT)
    await harness.command(CHAT, "/start")
    feed_server.put("/f.xml", rss("Wire", items[::-1]))
    await harness.poll()
    await harness.settle()
    assert "Headline number 3" in (bot_api.sent_to(CHAT)[-1].text or "")


async def test_refused_photo_falls_back_to_text(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A picture Telegram cannot fetch does not lose the entry: it goes as text."""
    items = _items(2, image="https://img.example/broken.jpg")
    bot_api.refuse_photo_url("https://img.example/")
    harness = await _subscribed(bot_factory, feed_server, bot_api, items)
    feed_server.put("/f.xml", rss("Wire", items[::-1]))
    await harness.poll()
    sent = await bot_api.wait_for_sent(CHAT, 2)
    assert sent[-1].method == "sendMessage"
    assert "Headline number 1" in (sent[-1].text or "")
    assert [r.method for r in bot_api.rejected] == ["sendPhoto"]


async def test_content_rejection_falls_back_to_plain_text(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """When Telegram refuses the formatted message, title, body and link arrive as plain text."""
    items = _items(2)
    harness = await _subscribed(bot_factory, feed_server, bot_api, items)
    bot_api.fail_next(
        "sendMessage",
        chat_id=CHAT,
        code=400,
        description="Bad Request: can't parse entities: unexpected end of name token",
    )
    feed_server.put("/f.xml", rss("Wire", items[::-1]))
    await harness.poll()
    sent = await bot_api.wait_for_sent(CHAT, 2)
    assert sent[-1].entities == []
    assert "Headline number 1" in (sent[-1].text or "")
    assert "https://news.example/1" in (sent[-1].text or "")
    assert "Body of story 1." in (sent[-1].text or "")


async def test_group_migration_moves_the_subscription(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A group upgraded to a supergroup keeps its subscriptions under the new id."""
    group, supergroup = -4001, -1004001
    bot_api.add_chat(group, "group", title="Newsroom", admins=[1001])
    items = _items(2)
    harness = await _subscribed(bot_factory, feed_server, bot_api, items, chat=group)
    bot_api.migrate_chat(group, supergroup)
    feed_server.put("/f.xml", rss("Wire", items[::-1]))
    await harness.poll()
    sent = await bot_api.wait_for_sent(supergroup, 1, timeout=30)
    assert "Headline number 1" in (sent[0].text or "")
    assert harness.relay is not None
    assert await harness.relay.store.list_subscriptions(supergroup)
