"""End to end: a user subscribes and receives each new entry exactly once, across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from bot.cadence import PHASE_JITTER
from bot.config import PollingSettings
from tests.corpus import DW_LIKE_ITEM
from tests.fakes.bot_api import FakeBotAPI, SentMessage
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

# A representative part of the end-to-end suite runs on PostgreSQL in every run
# (tests.engines); TEST_ENGINES=all runs all of it there.
pytestmark = pytest.mark.both_engines

CHAT = 4242
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

OLD_ITEMS = [
    Item(
        guid=f"old-{n}",
        title=f"Older story {n}",
        link=f"https://news.example/old/{n}",
        description_html=f"<p>Old body {n}.</p>",
        pub_date=START + timedelta(minutes=n),
    )
    for n in range(3)
]

NEW_ITEMS = [
    Item(
        guid="dw-1",
        title="俄国称无意入侵乌克兰  与美8小时对谈无突破",
        link="https://www.dw.com/zh/a-60384110",
        description_html=(
            "<div><i><br>2022-01-11T01:33:44.003Z</i></div><p>（德国之声中文网）美国与俄罗斯高官"
            "周一（10日）在日内瓦就乌克兰情势召开安全会谈，长达八小时的讨论并无重大突破。</p>"
            "<p><strong>美国和俄罗斯谈了什么？</strong></p><p>里亚布科夫说，会谈是「困难」但「专业」的。</p>"
        ),
        pub_date=START + timedelta(hours=1),
    ),
    Item(
        guid="en-1",
        title="Markets&nbsp;rally as talks resume",
        link="https://news.example/markets",
        description_html=(
            "<p>Stocks rose&nbsp;sharply on Monday.</p><ul><li>Oil fell 2%</li>"
            "<li>Gold &amp; silver were flat</li></ul><ol><li>First</li><li>Second</li></ol>"
        ),
        pub_date=START + timedelta(hours=2),
    ),
    Item(
        guid="emoji-1",
        title="🎉 Launch day 🚀 for the 👩‍🚀 crew",
        link="https://news.example/launch",
        description_html="<p>Everyone cheered 👏🏽 as the rocket 🚀 lifted off.</p>",
        pub_date=START + timedelta(hours=3),
    ),
]


def _holds(message: SentMessage, title_fragment: str, link: str) -> bool:
    """The message shows the title and carries the link (as a text link or in the text)."""
    text = message.text if message.text is not None else (message.caption or "")
    entities = message.entities or message.caption_entities
    links = [str(e.get("url")) for e in entities if e.get("type") == "text_link"]
    return title_fragment in text and (any(u.startswith(link) for u in links) or link in text)


async def _subscribe(
    harness_factory: HarnessFactory, feeds: FeedServer, bot_api: FakeBotAPI
) -> tuple[BotHarness, SentMessage]:
    feeds.put("/news.xml", rss("Example News", OLD_ITEMS[::-1]))
    harness = await harness_factory()
    reply = await harness.command(CHAT, f"/sub {feeds.url('/news.xml')}")
    return harness, reply


async def test_start_is_answered_with_the_command_list(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """/start gets the help text naming /sub."""
    harness = await bot_factory()
    reply = await harness.command(CHAT, "/start")
    assert reply.text is not None
    assert "/sub" in reply.text
    assert bot_api.rejected == []


async def test_new_entries_arrive_exactly_once_in_order(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """After /sub, three new entries (Chinese HTML, English with lists, emoji) arrive once each."""
    harness, reply = await _subscribe(bot_factory, feed_server, bot_api)
    assert reply.text is not None
    assert "Example News" in reply.text
    assert "#1" in reply.text
    backlog = await bot_api.wait_for_sent(CHAT, 2)
    assert _holds(backlog[1], "Older story 2", "https://news.example/old/2")

    feed_server.put("/news.xml", rss("Example News", (OLD_ITEMS + NEW_ITEMS)[::-1]))
    await harness.poll()
    sent = await bot_api.wait_for_sent(CHAT, 5)
    delivered = sent[2:]
    fragments = ["俄国称无意入侵乌克兰", "Markets", "🎉 Launch day 🚀"]
    for message, item, fragment in zip(delivered, NEW_ITEMS, fragments, strict=True):
        assert _holds(message, fragment, item.link), message
    english = delivered[1].text or ""
    assert "&nbsp;" not in english
    assert "Oil fell 2%" in english
    assert "Gold & silver" in english

    await harness.poll()
    # The same entries in another order (new bytes, so the feed is parsed again): the
    # dedupe keys, not the unchanged-body shortcut, keep them from going out twice.
    feed_server.put("/news.xml", rss("Example News", OLD_ITEMS + NEW_ITEMS))
    await harness.poll()
    await harness.settle()
    assert len(bot_api.sent_to(CHAT)) == 5
    assert bot_api.rejected == []


async def test_restart_repeats_nothing(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A stopped and restarted bot sends neither old entries again nor misses a new one."""
    harness, _ = await _subscribe(bot_factory, feed_server, bot_api)
    await bot_api.wait_for_sent(CHAT, 2)
    feed_server.put("/news.xml", rss("Example News", (OLD_ITEMS + NEW_ITEMS[:1])[::-1]))
    await harness.poll()
    await bot_api.wait_for_sent(CHAT, 3)

    await harness.restart()
    await harness.poll()
    feed_server.put("/news.xml", rss("Example News", (OLD_ITEMS + NEW_ITEMS[:2])[::-1]))
    await harness.poll()
    sent = await bot_api.wait_for_sent(CHAT, 4)
    assert _holds(sent[3], "Markets", "https://news.example/markets")
    await harness.poll()
    await harness.settle()
    assert len(bot_api.sent_to(CHAT)) == 4
    assert bot_api.rejected == []


async def test_unchanged_feed_is_refetched_conditionally(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Refetching an unchanged feed sends the validators and gets 304."""
    harness, _ = await _subscribe(bot_factory, feed_server, bot_api)
    await harness.poll()
    await harness.poll()
    assert feed_server.count("/news.xml", status=304) == 2
    conditional = [r for r in feed_server.requests if r.status == 304]
    assert all("If-None-Match" in r.headers for r in conditional)


async def test_one_fetch_per_feed_for_many_chats(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Two chats following one feed cost one fetch per poll, and both get the new entry."""
    harness, _ = await _subscribe(bot_factory, feed_server, bot_api)
    await harness.command(777, f"/sub {feed_server.url('/news.xml')}")
    before = feed_server.count("/news.xml")
    feed_server.put("/news.xml", rss("Example News", (OLD_ITEMS + NEW_ITEMS[:1])[::-1]))
    await harness.poll()
    assert feed_server.count("/news.xml") == before + 1
    first = await bot_api.wait_for_sent(CHAT, 3)
    second = await bot_api.wait_for_sent(777, 3)
    assert _holds(first[-1], "俄国称无意入侵乌克兰", "https://www.dw.com/zh/a-60384110")
    assert _holds(second[-1], "俄国称无意入侵乌克兰", "https://www.dw.com/zh/a-60384110")


async def test_dw_like_item_is_delivered(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A DW-like item, as the feedx mirror relays it, is accepted by the strict API."""
    feed_server.put("/dw.xml", DW_LIKE_ITEM.read_bytes())
    harness = await bot_factory()
    reply = await harness.command(CHAT, f"/sub {feed_server.url('/dw.xml')}")
    assert reply.text is not None
    assert "#1" in reply.text
    sent = await bot_api.wait_for_sent(CHAT, 2)
    assert _holds(sent[1], "俄方称无意进攻乌克兰", "https://www.dw.com/zh/")
    body = sent[1].text or sent[1].caption or ""
    assert "feedx.top" not in body
    assert bot_api.rejected == []


async def test_changed_polling_interval_applies_to_existing_feeds(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """After a restart with a longer polling.interval_seconds, a feed is fetched that much less."""
    harness, _ = await _subscribe(bot_factory, feed_server, bot_api)
    harness.settings = harness.settings.model_copy(
        update={"polling": PollingSettings(interval_seconds=600, min_interval_seconds=60)}
    )
    await harness.restart()
    await harness.poll()  # due under the old 60 s interval; fetched, next in 600 s
    fetches = feed_server.count("/news.xml")
    assert harness.relay is not None
    harness.clock.advance(599)
    await harness.relay.poller.poll_once()
    assert feed_server.count("/news.xml") == fetches
    # A changed interval starts a fresh phase: within a quarter interval of jitter.
    harness.clock.advance(600 * PHASE_JITTER + 2)
    await harness.relay.poller.poll_once()
    assert feed_server.count("/news.xml") == fetches + 1


async def test_seen_keys_are_kept_while_carried_and_forgotten_long_after(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """An entry that leaves and returns within 60 days is not resent; after that it is new."""
    a, b = OLD_ITEMS[0], NEW_ITEMS[1]
    feed_server.put("/k.xml", rss("Keys", [a]))
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(CHAT, f"/sub {feed_server.url('/k.xml')}")
    feed_server.put("/k.xml", rss("Keys", [b]))
    await harness.poll()
    await bot_api.wait_for_sent(CHAT, 2)
    feed_server.put("/k.xml", rss("Keys", [a, b]))
    await harness.poll()
    await harness.settle()
    assert len(bot_api.sent_to(CHAT)) == 2
    harness.clock.advance(61 * 86400)
    feed_server.put("/k.xml", rss("Keys", [b]))
    await harness.poll()
    feed_server.put("/k.xml", rss("Keys", [a, b]))
    # Silent for 61 days, the feed is now checked at the longest interval (a fresh phase).
    harness.clock.advance(harness.settings.polling.longest_interval * (1 + PHASE_JITTER))
    await harness.poll()
    sent = await bot_api.wait_for_sent(CHAT, 3)
    assert "Older story 0" in (sent[2].text or "")


async def test_a_check_that_brings_a_new_entry_forgets_departed_keys_too(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """The 60 days hold when the check after them finds a new entry as well: it parses the
    feed in full, queues the newcomer and forgets the keys the feed no longer carries."""
    a, b = OLD_ITEMS[0], NEW_ITEMS[1]
    feed_server.put("/k.xml", rss("Keys", [a]))
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(CHAT, f"/sub {feed_server.url('/k.xml')}")
    harness.clock.advance(61 * 86400)
    feed_server.put("/k.xml", rss("Keys", [b]))
    await harness.poll()
    await bot_api.wait_for_sent(CHAT, 2)
    feed_server.put("/k.xml", rss("Keys", [a, b]))
    harness.clock.advance(harness.settings.polling.longest_interval * (1 + PHASE_JITTER))
    await harness.poll()
    sent = await bot_api.wait_for_sent(CHAT, 3)
    assert "Older story 0" in (sent[2].text or "")


async def test_spellings_of_one_url_are_one_subscription(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """Case of scheme and host, a default port and a fragment do not make a second feed."""
    feed_server.put("/Spell.xml", rss("Spelled", OLD_ITEMS))
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    url = feed_server.url("/Spell.xml")
    await harness.command(CHAT, f"/sub {url}")
    parts = urlsplit(url)
    shouted = f"HTTP://{parts.hostname}:0{parts.port}{parts.path}#latest"  # port as "0<port>"
    again = await harness.command(CHAT, f"/sub {shouted}")
    assert "Already subscribed to Spelled as #1" in (again.text or "")
    assert harness.relay is not None
    assert await harness.relay.store.count_subscriptions(CHAT) == 1
