"""Flood collapse: too many new entries at once reach a chat as the newest few and a summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.models import Entry, Subscription
from bot.pipeline import FloodRule, plan_deliveries
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import HarnessFactory

RULE = FloodRule(threshold=10, keep=3)
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
CHAT = 5150


def _entries(count: int, *, word: str = "story") -> list[Entry]:
    return [
        Entry(key=f"id:{n}", title=f"{word} {n}", link=f"https://news.example/{n}")
        for n in range(count)
    ]


def _sub(sub_id: int, chat_id: int, **fields: object) -> Subscription:
    return Subscription(
        id=sub_id, chat_id=chat_id, feed_id=7, number=sub_id, url="https://news.example/feed",
        **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def _plan(
    entries: list[Entry], subs: list[Subscription], **options: object
) -> list[tuple[int, str]]:
    planned = plan_deliveries(
        entries,
        subs,
        {},
        feed_id=7,
        feed_title="Wire",
        flood=RULE,
        site_link="https://news.example/",
        **options,  # type: ignore[arg-type]
    )
    return [(item.subscription_id, item.entry_key) for item in planned]


def test_a_flood_becomes_the_newest_few_after_one_summary() -> None:
    """12 new entries: one summary for the 9 left out, then the newest 3 in order."""
    planned = plan_deliveries(
        _entries(12), [_sub(1, 100)], {}, feed_id=7, feed_title="Wire", flood=RULE,
        site_link="https://news.example/",
    )  # fmt: skip
    assert [item.entry_key for item in planned] == ["flood:id:8", "id:9", "id:10", "id:11"]
    summary = planned[0].message
    assert summary.text.startswith("📚 Wire: 9 more new entries arrived at once")
    assert summary.text.endswith("\nhttps://news.example/")
    assert summary.plain_text == summary.text


def test_the_threshold_itself_is_no_flood() -> None:
    """Exactly the threshold's number of entries all go out one by one."""
    assert [key for _, key in _plan(_entries(10), [_sub(1, 100)])] == [f"id:{n}" for n in range(10)]


def test_each_subscription_is_judged_after_its_filters() -> None:
    """A filter that lets few entries through means no flood for that chat."""
    entries = [
        Entry(key=f"id:{n}", title=f"{'sport' if n < 8 else 'politics'} {n}", link="")
        for n in range(20)
    ]
    plain, picky = _sub(1, 100), _sub(2, 200, filter_expr="+sport")
    planned = _plan(entries, [plain, picky])
    assert [key for sub, key in planned if sub == 2] == [f"id:{n}" for n in range(8)]
    assert [key for sub, key in planned if sub == 1] == ["flood:id:16", "id:17", "id:18", "id:19"]


def test_a_backlog_is_sent_as_asked() -> None:
    """A backlog (after /sub or /resume … backlog) is never collapsed."""
    assert len(_plan(_entries(30), [_sub(1, 100)], backlog=True)) == 30


def test_the_summary_speaks_the_chats_language() -> None:
    """A Chinese chat reads the summary in Chinese; with no feed link, the feed's URL."""
    planned = plan_deliveries(
        _entries(11), [_sub(1, 100)], {}, feed_id=7, feed_title="新闻", flood=RULE,
        languages={100: "zh"},
    )  # fmt: skip
    assert planned[0].message.text == (
        "📚「新闻」一次新增了太多条目，另有 8 条不逐条推送。全部条目：\nhttps://news.example/feed"
    )


def test_the_summary_shows_a_private_feeds_url_without_its_key() -> None:
    """With no site link the summary names the feed's URL, but not the reader's key in it."""
    private = Subscription(
        id=1, chat_id=100, feed_id=7, number=1, url="https://news.example/feed?token=k3y-of-it"
    )
    planned = plan_deliveries(
        _entries(11), [private], {}, feed_id=7, feed_title="Wire", flood=RULE
    )  # fmt: skip
    assert planned[0].message.text.endswith("\nhttps://news.example/feed?token=<secret>")


def test_keeping_none_sends_only_the_summary() -> None:
    """With ``flood_keep: 0`` a flood is one message."""
    planned = plan_deliveries(
        _entries(11), [_sub(1, 100)], {}, feed_id=7, feed_title="Wire",
        flood=FloodRule(threshold=10, keep=0),
    )  # fmt: skip
    assert [item.entry_key for item in planned] == ["flood:id:10"]
    assert "11 more new entries" in planned[0].message.text


def _items(count: int) -> list[Item]:
    return [
        Item(
            guid=f"item-{n}",
            title=f"Headline number {n}",
            link=f"https://news.example/{n}",
            pub_date=START + timedelta(minutes=n),
        )
        for n in range(count)
    ]


async def test_a_republished_feed_reaches_the_chat_as_a_few_and_a_summary(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """200 items appear at once: the chat gets the newest 3 and one summary, nothing more."""
    items = _items(201)
    feed_server.put("/f.xml", rss("Wire", items[:1], link="https://wire.example/"))
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(CHAT, f"/sub {feed_server.url('/f.xml')}")
    feed_server.put("/f.xml", rss("Wire", items[::-1], link="https://wire.example/"))
    await harness.poll()
    await harness.settle()
    sent = [message.text or "" for message in bot_api.sent_to(CHAT)[1:]]
    assert len(sent) == 4
    assert sent[0] == (
        "📚 Wire: 197 more new entries arrived at once and are not sent one by one. "
        "All entries:\nhttps://wire.example/"
    )
    assert [text.splitlines()[0] for text in sent[1:]] == [
        "Headline number 198",
        "Headline number 199",
        "Headline number 200",
    ]
    await harness.poll()
    await harness.settle()
    assert len(bot_api.sent_to(CHAT)) == 5  # nothing more: every entry was marked seen


async def test_a_backlog_on_subscribe_is_not_collapsed(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """delivery.backlog_on_subscribe above the flood threshold is sent in full."""
    feed_server.put("/f.xml", rss("Wire", _items(15)[::-1]))
    harness = await bot_factory(delivery={"backlog_on_subscribe": 12, "flood_threshold": 5})
    await harness.command(CHAT, f"/sub {feed_server.url('/f.xml')}")
    await harness.settle()
    sent = bot_api.sent_to(CHAT)[1:]
    assert [(m.text or "").splitlines()[0] for m in sent] == [
        f"Headline number {n}" for n in range(3, 15)
    ]
