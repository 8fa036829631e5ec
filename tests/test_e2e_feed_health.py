"""End to end: a feed's failures and moves, as its subscribers live them.

Backoff, the failing notice (once, in each chat's language), the recovery notice,
410 Gone ending the feed, and permanent redirects moving (and merging) feeds without
re-sending anything. The bot runs on the virtual clock; ``_check`` moves it to the
moment the feed is due and lets the scheduler check it.
"""

from __future__ import annotations

import pytest

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

EN_CHAT, ZH_CHAT, THIRD_CHAT = 7001, 7002, 7003
NOTICE_AFTER = 1200
ONE = Item(guid="one", title="Story one", link="https://news.example/1")
TWO = Item(guid="two", title="Story two", link="https://news.example/2")
THREE = Item(guid="three", title="Story three", link="https://news.example/3")


async def _bot(factory: HarnessFactory) -> BotHarness:
    return await factory(
        polling={"failure_notice_after_seconds": NOTICE_AFTER},
        delivery={"backlog_on_subscribe": 0},
    )


async def _followed(
    factory: HarnessFactory, feeds: FeedServer, *chats: int
) -> tuple[BotHarness, str]:
    """A bot whose ``chats`` follow the Wire feed (``ZH_CHAT`` in Chinese); the feed's URL."""
    url = feeds.url("/f.xml")
    feeds.put("/f.xml", rss("Wire", [ONE]))
    harness = await _bot(factory)
    if ZH_CHAT in chats:
        await harness.command(ZH_CHAT, "/lang zh")
    for chat in chats:
        await harness.command(chat, f"/sub {url}")
    return harness, url


async def _check(harness: BotHarness, chat: int, url: str) -> float:
    """Move time to when the chat's feed at ``url`` is due, check it; the wait in seconds."""
    assert harness.relay is not None
    store = harness.relay.store
    sub = await store.find_subscription(chat, url)
    assert sub is not None
    feed = await store.get_feed(sub.feed_id)
    assert feed is not None
    wait = max(0.0, feed.next_fetch_at - harness.clock.time()) + 1
    harness.clock.advance(wait)
    await harness.relay.poller.poll_once()
    await harness.settle()
    return wait


def _texts(api: FakeBotAPI, chat: int) -> list[str]:
    return [message.text or "" for message in api.sent_to(chat)]


async def test_backoff_grows_and_a_long_failure_is_told_once_in_each_language(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Checks of a failing feed spread out exponentially; after the configured time each chat
    gets one notice in its language with the reason; recovery is told once; then quiet."""
    harness, url = await _followed(bot_factory, feed_server, EN_CHAT, ZH_CHAT)
    told = {chat: len(bot_api.sent_to(chat)) for chat in (EN_CHAT, ZH_CHAT)}
    feed_server.status("/f.xml", 503)
    await _check(harness, EN_CHAT, url)  # the first failure, at the feed's regular time
    waits = [await _check(harness, EN_CHAT, url) for _ in range(4)]
    # 2, 4, 8, 16 intervals of 60 s, each times a factor in [0.75, 1]
    for wait, doublings in zip(waits, (2, 4, 8, 16), strict=True):
        assert 0.75 * 60 * doublings <= wait - 1 <= 60 * doublings
    failing = [_texts(bot_api, chat)[told[chat] :] for chat in (EN_CHAT, ZH_CHAT)]
    assert len(failing[0]) == 1
    assert len(failing[1]) == 1
    assert failing[0][0].startswith("⚠️ Wire could not be read for ")
    assert "the server answered HTTP 503 Service Unavailable" in failing[0][0]
    assert failing[1][0].startswith("⚠️「Wire」已有 ")
    assert "服务器返回 HTTP 503" in failing[1][0]
    for _ in range(3):
        await _check(harness, EN_CHAT, url)  # still failing: nothing more is said
    assert [len(_texts(bot_api, chat)) for chat in (EN_CHAT, ZH_CHAT)] == [
        told[EN_CHAT] + 1,
        told[ZH_CHAT] + 1,
    ]
    feed_server.put("/f.xml", rss("Wire", [TWO, ONE]))
    await _check(harness, EN_CHAT, url)
    await _check(harness, EN_CHAT, url)
    recovered = [_texts(bot_api, chat)[told[chat] + 1 :] for chat in (EN_CHAT, ZH_CHAT)]
    assert recovered[0][0] == "✅ Wire can be read again; new entries arrive as before."
    assert recovered[1][0] == "✅「Wire」已恢复，新条目会照常推送。"
    assert [len(texts) for texts in recovered] == [2, 2]  # the notice, then story two
    assert recovered[0][1].startswith("Story two")
    assert bot_api.rejected == []


async def test_a_short_outage_is_not_told(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Failures that end before the configured time produce no notice, nor a recovery one."""
    harness, url = await _followed(bot_factory, feed_server, EN_CHAT)
    feed_server.status("/f.xml", 500)
    for _ in range(3):
        await _check(harness, EN_CHAT, url)  # failing 360 s at most: under 20 minutes
    feed_server.put("/f.xml", rss("Wire", [ONE]))
    await _check(harness, EN_CHAT, url)
    assert len(bot_api.sent_to(EN_CHAT)) == 1  # the /sub confirmation only


async def test_a_gone_feed_ends_with_a_notice(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """410 Gone on two checks in a row: each subscriber is told and the subscription removed."""
    harness, url = await _followed(bot_factory, feed_server, EN_CHAT, ZH_CHAT)
    before = len(bot_api.sent_to(EN_CHAT))
    feed_server.status("/f.xml", 410)
    await _check(harness, EN_CHAT, url)
    assert len(bot_api.sent_to(EN_CHAT)) == before  # one 410 could be a mistake
    await _check(harness, EN_CHAT, url)
    assert _texts(bot_api, EN_CHAT)[before:] == [
        "🗑 Wire is gone for good (the server answered 410 Gone): subscription #1 was removed."
    ]
    assert _texts(bot_api, ZH_CHAT)[-1] == (
        "🗑「Wire」已永久停止（服务器返回 410 Gone），订阅 #1 已移除。"
    )
    assert harness.relay is not None
    assert await harness.relay.store.list_subscriptions(EN_CHAT) == []
    requests = feed_server.count("/f.xml")
    await harness.poll()
    assert feed_server.count("/f.xml") == requests  # nobody follows it: never checked again


async def test_one_410_then_back_is_just_a_failure(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A single 410 followed by a good answer changes nothing for the subscriber."""
    harness, url = await _followed(bot_factory, feed_server, EN_CHAT)
    feed_server.status("/f.xml", 410)
    await _check(harness, EN_CHAT, url)
    feed_server.put("/f.xml", rss("Wire", [TWO, ONE]))
    await _check(harness, EN_CHAT, url)
    assert _texts(bot_api, EN_CHAT)[-1].startswith("Story two")
    assert harness.relay is not None
    assert len(await harness.relay.store.list_subscriptions(EN_CHAT)) == 1


@pytest.mark.parametrize(
    ("status", "moves"), [(301, True), (308, True), (302, False), (307, False)]
)
async def test_a_permanent_redirect_moves_the_feed(
    bot_factory: HarnessFactory,
    feed_server: FeedServer,
    bot_api: FakeBotAPI,
    status: int,
    moves: bool,
) -> None:
    """301/308: the subscription follows the new URL from then on (302/307: it keeps its
    own); either way nothing is sent twice."""
    old, new = feed_server.url("/old.xml"), feed_server.url("/new.xml")
    feed_server.put("/old.xml", rss("Wire", [ONE]))
    harness = await _bot(bot_factory)
    await harness.command(EN_CHAT, f"/sub {old}")
    feed_server.redirect("/old.xml", new, status=status)
    feed_server.put("/new.xml", rss("Wire", [TWO, ONE]))
    await _check(harness, EN_CHAT, old)
    assert harness.relay is not None
    (sub,) = await harness.relay.store.list_subscriptions(EN_CHAT)
    assert sub.url == (new if moves else old)
    redirects = feed_server.count("/old.xml")
    feed_server.put("/new.xml", rss("Wire", [THREE, TWO, ONE]))
    await _check(harness, EN_CHAT, sub.url)
    assert feed_server.count("/old.xml") == redirects + (0 if moves else 1)
    assert [text.splitlines()[0] for text in _texts(bot_api, EN_CHAT)[1:]] == [
        "Story two",
        "Story three",
    ]


async def test_a_redirect_onto_a_followed_feed_merges_without_resending(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """308 onto a URL another chat already follows: one feed remains; a chat that followed
    both keeps one subscription; each feed's subscribers get what their feed had not seen
    (the moved feed's: nothing it had sent before), each entry once per subscription."""
    a, b = feed_server.url("/a.xml"), feed_server.url("/b.xml")
    feed_server.put("/a.xml", rss("Wire", [ONE]))
    feed_server.put("/b.xml", rss("Wire", [ONE]))
    harness = await _bot(bot_factory)
    await harness.command(EN_CHAT, f"/sub {a}")
    await harness.command(ZH_CHAT, f"/sub {b}")
    await harness.command(THIRD_CHAT, f"/sub {a} {b}")
    feed_server.put("/a.xml", rss("Wire", [TWO, ONE]))
    await _check(harness, EN_CHAT, a)  # story two reaches the followers of a
    sent = {chat: len(bot_api.sent_to(chat)) for chat in (EN_CHAT, ZH_CHAT, THIRD_CHAT)}
    feed_server.redirect("/a.xml", b, status=308)
    feed_server.put("/b.xml", rss("Wire", [THREE, TWO, ONE]))
    await _check(harness, EN_CHAT, a)
    await _check(harness, ZH_CHAT, b)  # the merged feed's own check finds nothing new
    assert harness.relay is not None
    store = harness.relay.store
    assert [sub.url for sub in await store.list_subscriptions(EN_CHAT)] == [b]
    assert [sub.url for sub in await store.list_subscriptions(THIRD_CHAT)] == [b]
    assert (await store.stats()).feeds == 1
    news = {
        chat: [text.splitlines()[0] for text in _texts(bot_api, chat)[sent[chat] :]]
        for chat in (EN_CHAT, ZH_CHAT, THIRD_CHAT)
    }
    assert news[EN_CHAT] == ["Story three"]  # story two came through /a.xml already
    assert news[ZH_CHAT] == ["Story two", "Story three"]  # both new to /b.xml
    # Following both URLs, the third chat got story two through /a.xml and now through
    # /b.xml, as it would have without the move; story three reaches it once.
    assert news[THIRD_CHAT].count("Story three") == 1


async def test_after_a_merge_an_entry_the_moved_feed_had_sent_stays_sent(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """The merged feed knows every key either feed had seen: a story the moved feed had sent
    that shows up in the merged feed later is not sent to its old subscribers again."""
    a, b = feed_server.url("/a.xml"), feed_server.url("/b.xml")
    feed_server.put("/a.xml", rss("Wire", [ONE]))
    feed_server.put("/b.xml", rss("Wire", [ONE]))
    harness = await _bot(bot_factory)
    await harness.command(EN_CHAT, f"/sub {a}")
    await harness.command(ZH_CHAT, f"/sub {b}")
    feed_server.put("/a.xml", rss("Wire", [TWO, ONE]))
    await _check(harness, EN_CHAT, a)
    feed_server.redirect("/a.xml", b, status=301)
    await _check(harness, EN_CHAT, a)  # /b.xml still lacks story two
    feed_server.put("/b.xml", rss("Wire", [THREE, TWO, ONE]))
    await _check(harness, EN_CHAT, b)
    titles = [text.splitlines()[0] for text in _texts(bot_api, EN_CHAT)[1:]]
    assert titles == ["Story two", "Story three"]
