"""End to end: keyword filters decide which entries reach a chat, and say why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

CHAT = 7070
START = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
TITLES = [
    "乌克兰局势：北约召开紧急会议",
    "烏克蘭總統訪問華盛頓",
    "俄罗斯体育代表团参加冬奥会",
    "俄罗斯与中国签署能源协议",
    "欧洲杯足球赛程公布",
]


def _items(titles: list[str], first: int = 0) -> list[Item]:
    return [
        Item(
            guid=f"zh-{first + n}",
            title=title,
            link=f"https://news.example/zh/{first + n}",
            description_html=f"<p>{title}。详细报道。</p>",
            pub_date=START + timedelta(minutes=first + n),
        )
        for n, title in enumerate(titles)
    ]


SEED = Item(guid="seed", title="开始", link="https://news.example/zh/seed", pub_date=START)


async def _subscribed(factory: HarnessFactory, feeds: FeedServer) -> BotHarness:
    feeds.put("/zh.xml", rss("中文新闻", [SEED]))
    harness = await factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(CHAT, f"/sub {feeds.url('/zh.xml')}")
    return harness


async def _deliver(
    harness: BotHarness, feeds: FeedServer, api: FakeBotAPI, items: list[Item]
) -> list[str]:
    """Publish ``items``, poll, and return the first line of every entry message that arrived."""
    before = len(api.sent_to(CHAT))
    feeds.put("/zh.xml", rss("中文新闻", [*items[::-1], SEED]))
    await harness.poll()
    await harness.settle()
    return [(m.text or m.caption or "").splitlines()[0] for m in api.sent_to(CHAT)[before:]]


async def test_filter_lets_through_simplified_and_traditional(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """`/filter 1 乌克兰` passes entries with 乌克兰 or 烏克蘭 and marks the matched term."""
    harness = await _subscribed(bot_factory, feed_server)
    reply = await harness.command(CHAT, "/filter 1 乌克兰")
    assert "乌克兰" in (reply.text or "")
    arrived = await _deliver(harness, feed_server, bot_api, _items(TITLES))
    assert arrived == [TITLES[0], TITLES[1]]
    alert = [m for m in bot_api.sent_to(CHAT) if "🔔" in (m.text or m.caption or "")]
    assert len(alert) == 2
    assert bot_api.rejected == []


async def test_required_and_excluded_terms(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """`-体育 +俄罗斯`: only entries with 俄罗斯 and without 体育."""
    harness = await _subscribed(bot_factory, feed_server)
    await harness.command(CHAT, "/filter 1 -体育 +俄罗斯")
    arrived = await _deliver(harness, feed_server, bot_api, _items(TITLES))
    assert arrived == [TITLES[3]]


async def test_filter_off_restores_every_entry(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """After `/filter 1 off` every entry is delivered again."""
    harness = await _subscribed(bot_factory, feed_server)
    await harness.command(CHAT, "/filter 1 足球")
    await harness.command(CHAT, "/filter 1 off")
    arrived = await _deliver(harness, feed_server, bot_api, _items(TITLES))
    assert arrived == TITLES


async def test_chat_wide_filter_and_subscription_filter_both_apply(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A chat filter `-体育` and a subscription filter `俄罗斯` must both pass."""
    harness = await _subscribed(bot_factory, feed_server)
    await harness.command(CHAT, "/filter all -体育")
    await harness.command(CHAT, "/filter 1 俄罗斯")
    arrived = await _deliver(harness, feed_server, bot_api, _items(TITLES))
    assert arrived == [TITLES[3]]
    listing = await harness.command(CHAT, "/list")
    assert "-体育" in (listing.text or "")
    assert "俄罗斯" in (listing.text or "")


async def test_bad_expression_names_its_position(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """An unclosed quote is refused with the character where it starts; the old filter stays."""
    harness = await _subscribed(bot_factory, feed_server)
    await harness.command(CHAT, "/filter 1 北约")
    reply = await harness.command(CHAT, '/filter 1 乌克兰 "北约 峰会')
    assert "character 5" in (reply.text or "")
    shown = await harness.command(CHAT, "/filter 1")
    assert "北约" in (shown.text or "")
    assert "峰会" not in (shown.text or "").splitlines()[0]


async def test_filter_show_previews_latest_entries(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """`/filter 1` shows the filter in words and ✓/✗ for the feed's latest titles."""
    harness = await _subscribed(bot_factory, feed_server)
    await _deliver(harness, feed_server, bot_api, _items(TITLES))
    await harness.command(CHAT, "/filter 1 俄罗斯")
    reply = await harness.command(CHAT, "/filter 1")
    text = reply.text or ""
    assert f"✓ {TITLES[3]}" in text
    assert f"✗ {TITLES[4]}" in text
