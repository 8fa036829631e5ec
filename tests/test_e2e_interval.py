"""End to end: ``/set ID interval`` asks for a shorter or longer check of one subscription.

A feed is checked at the shortest interval its running subscriptions asked for, never
below ``polling.min_interval_seconds``; refusals are one line in the chat's language.
The bot runs on the virtual clock; ``_wait`` measures how far away the next check is.
"""

from __future__ import annotations

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

EN_CHAT, ZH_CHAT = 8101, 8102
DEFAULT = 1800
ONE = Item(guid="one", title="Story one", link="https://news.example/1")


async def _bot(factory: HarnessFactory, feeds: FeedServer, *chats: int) -> BotHarness:
    feeds.put("/f.xml", rss("Wire", [ONE]))
    harness = await factory(
        polling={"interval_seconds": DEFAULT, "min_interval_seconds": 60},
        delivery={"backlog_on_subscribe": 0},
    )
    for chat in chats:
        await harness.command(chat, f"/sub {feeds.url('/f.xml')}")
    return harness


async def _due_in(harness: BotHarness, url: str) -> float:
    """Seconds until the feed at ``url`` is next checked."""
    assert harness.relay is not None
    feed = await harness.relay.store.feed_by_url(url)
    assert feed is not None
    return feed.next_fetch_at - harness.clock.time()


async def _next_wait(harness: BotHarness, url: str) -> float:
    """Check the feed when it is due; then how many seconds away its next check is."""
    assert harness.relay is not None
    harness.clock.advance(max(0.0, await _due_in(harness, url)) + 1)
    await harness.relay.poller.poll_once()
    await harness.settle()
    return await _due_in(harness, url)


async def test_a_shorter_interval_applies_at_once_and_the_shortest_request_wins(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    url = feed_server.url("/f.xml")
    harness = await _bot(bot_factory, feed_server, EN_CHAT, ZH_CHAT)
    assert DEFAULT - 1 <= await _next_wait(harness, url) <= DEFAULT * 1.25
    answer = await harness.command(EN_CHAT, "/set 1 interval 5m")
    assert "checked every 5 min" in (answer.text or "")
    await harness.command(ZH_CHAT, "/set 1 interval 20分钟")
    # The planned check (up to 30 min away) was brought forward to within 5 min.
    assert await _due_in(harness, url) <= 300
    # On time, a check keeps its phase (one interval on); a new phase gets up to 25% more.
    waits = [await _next_wait(harness, url) for _ in range(3)]
    assert all(300 - 1 <= wait <= 300 * 1.25 for wait in waits), waits
    # The chat that asked for 5 minutes pauses: the other chat's 20 minutes rule.
    await harness.command(EN_CHAT, "/pause 1")
    waits = [await _next_wait(harness, url) for _ in range(2)]
    assert all(1200 - 1 <= wait <= 1200 * 1.25 for wait in waits), waits
    await harness.command(ZH_CHAT, "/set 1 interval default")
    assert DEFAULT - 1 <= await _next_wait(harness, url) <= DEFAULT * 1.25
    assert bot_api.rejected == []


async def test_set_shows_the_interval_and_refuses_what_it_cannot_do(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    url = feed_server.url("/f.xml")
    harness = await _bot(bot_factory, feed_server, EN_CHAT, ZH_CHAT)
    await harness.command(ZH_CHAT, "/lang zh")
    menu = await harness.command(EN_CHAT, "/set 1")
    assert "Checked every 30 min; /set 1 interval 30m changes it" in (menu.text or "")
    cases = {
        (EN_CHAT, "/set 1 interval 10s"): "⚠️ The shortest interval on this bot is 1 min",
        (EN_CHAT, "/set 1 interval 8d"): "⚠️ The longest interval you can ask for is 7 days",
        (EN_CHAT, "/set 1 interval soon"): "⚠️ Not an interval: soon. Examples: 30m, 2h, 1d",
        (EN_CHAT, "/set 1 often 5m"): "Usage: /set ID, or /set ID interval 30m (or default)",
        (EN_CHAT, "/set 1 interval 5 min now"): "Usage: /set ID, or /set ID interval 30m",
        (ZH_CHAT, "/set 1 interval 5秒"): "⚠️ 本机器人允许的最短间隔为 1 分钟",
        (ZH_CHAT, "/set 1 interval 很快"): "⚠️ 不是有效的间隔：很快。",
        (ZH_CHAT, "/set 1 interval 3 小时"): "🕑 #1 Wire 今后每 3 小时检查一次",
        (ZH_CHAT, "/set 1 interval 2小时"): "🕑 #1 Wire 今后每 2 小时检查一次",
        (ZH_CHAT, "/set 1"): "每 2 小时检查一次",
    }
    for (chat, text), expected in cases.items():
        answer = await harness.command(chat, text)
        assert expected in (answer.text or ""), (text, answer.text)
    assert harness.relay is not None
    subscription = await harness.relay.store.find_subscription(EN_CHAT, url)
    assert subscription is not None
    assert subscription.interval_seconds is None  # every refusal left it alone
