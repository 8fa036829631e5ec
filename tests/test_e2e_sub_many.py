"""End to end: a /sub of many addresses, as someone pasting a list of feeds sends it.

The chat gets as many as its limit allows (``access.max_subscriptions_per_chat``), in
the order given; the feeds are read a few at a time per chat and a bounded number
over all chats (``bot.services.fairness``); one message counts them as they are done,
edited at most every few seconds on the chat's send slots (``bot.commands.progress``),
and the report follows.
"""

from __future__ import annotations

import re

import pytest

from bot.commands.progress import EDIT_GAP
from bot.services.fairness import SUBSCRIBE_OVERALL, SUBSCRIBE_PER_CHAT
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import rss, stories
from tests.harness import BotHarness, HarnessFactory

CHAT = 6060
GROUP, ADMIN = -100_6060, 6061


def _feeds(feeds: FeedServer, prefix: str, count: int, *, start: int = 0) -> list[str]:
    """``count`` small feeds under ``prefix``, titled ``Feed <n>``; their URLs."""
    urls = []
    for n in range(start, start + count):
        path = f"{prefix}{n}.xml"
        feeds.put(path, rss(f"Feed {n}", stories(path, 2, lambda k, n=n: f"Story {k} of {n}")))
        urls.append(feeds.url(path))
    return urls


async def _bot(factory: HarnessFactory, **access: object) -> BotHarness:
    # Every test feed lives on one loopback host: lift the per-host fetch limit (issue 10,
    # tested in test_scheduler) so that what is seen here is the subscribe bounds alone.
    return await factory(
        delivery={"backlog_on_subscribe": 0},
        access=access,
        fetch={"per_host_concurrency": 64},
    )


def _numbers(report: str) -> list[int]:
    return [int(n) for n in re.findall(r"Subscribed to Feed \d+ as #(\d+)", report)]


async def _report(harness: BotHarness, api: FakeBotAPI, chat: int, sent_before: int) -> str:
    """The text of the report: the messages after the progress message, once all settled."""
    await harness.settle()
    return "\n".join(m.text or "" for m in api.sent_to(chat)[sent_before + 1 :])


@pytest.mark.parametrize(("chat", "user"), [(CHAT, CHAT), (GROUP, ADMIN)])
async def test_thirty_addresses_with_one_edited_progress_message(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI, chat: int, user: int
) -> None:
    """30 addresses: all 30 subscribed as #1-#30 in the order given. One progress message is
    sent; while 12 feeds are read and the others wait on a slow site it is edited to 12/30,
    and once more at the end; then the report. No edit is refused, none repeats a text."""
    bot_api.add_chat(GROUP, "supergroup", title="Readers", admins=[ADMIN])
    harness = await _bot(bot_factory)
    urls = _feeds(feed_server, "/early/", 12) + _feeds(feed_server, "/late/", 18, start=12)
    feed_server.hold("/late/")
    before = len(bot_api.sent_to(chat))
    progress = await harness.command(chat, "/sub " + " ".join(urls), user_id=user)
    assert progress.text == "⏳ Reading the feeds: 0/30…"
    assert harness.relay is not None
    store = harness.relay.store

    async def twelve_in() -> bool:
        return await store.count_subscriptions(chat) == 12

    await harness.until(lambda: feed_server.waiting("/late/") == SUBSCRIBE_PER_CHAT, "late feeds")
    await harness.until(twelve_in, "the first twelve subscribed")
    # The reader waits a while for the slow site; each wait lets one edit out. (The twelfth
    # subscription may be counted a moment after it is stored: then it takes a second wait.)
    while not bot_api.edits or bot_api.edits[-1].text != "⏳ Reading the feeds: 12/30…":
        assert len(bot_api.edits) < 2, [e.text for e in bot_api.edits]
        harness.clock.advance(EDIT_GAP)
        await bot_api.wait_for_calls("editMessageText", len(bot_api.edits) + 1)
    feed_server.let_through("/late/")
    report = await _report(harness, bot_api, chat, before)
    assert _numbers(report) == list(range(1, 31))
    assert [e.text for e in bot_api.edits][-2:] == [
        "⏳ Reading the feeds: 12/30…",
        "✅ All 30 addresses were read; the results follow",
    ]
    assert {e.message_id for e in bot_api.edits} == {progress.message_id}
    assert [m.text for m in bot_api.sent_to(chat)].count(progress.text) == 1
    assert feed_server.most_waiting("/late/") == SUBSCRIBE_PER_CHAT
    assert bot_api.rejected == []


async def test_a_fast_list_costs_one_edit(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Thirty feeds read at once: the progress message is edited once, to its last word, not
    thirty times."""
    harness = await _bot(bot_factory)
    urls = _feeds(feed_server, "/fast/", 30)
    before = len(bot_api.sent_to(CHAT))
    await harness.command(CHAT, "/sub " + " ".join(urls))
    report = await _report(harness, bot_api, CHAT, before)
    assert len(_numbers(report)) == 30
    assert [e.text for e in bot_api.edits] == ["✅ All 30 addresses were read; the results follow"]
    assert bot_api.rejected == []


async def test_only_the_allowance_is_taken_and_the_rest_named_once(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A chat allowed 25 subscriptions that has 3 sends 30 addresses, 2 of them its own:
    22 new ones are taken, in order, and one line names the 6 left out; Chinese too."""
    harness = await _bot(bot_factory, max_subscriptions_per_chat=25)
    urls = _feeds(feed_server, "/a/", 30)
    await harness.command(CHAT, "/sub " + " ".join(urls[:3]))
    before = len(bot_api.sent_to(CHAT))
    await harness.command(CHAT, "/sub " + " ".join(urls[1:31]))
    report = await _report(harness, bot_api, CHAT, before)
    assert report.count("Already subscribed") == 2
    assert _numbers(report) == list(range(4, 26))
    assert report.endswith(
        "❌ 5 more addresses were not taken: this chat has reached its maximum of 25 subscriptions"
    )
    assert harness.relay is not None
    assert await harness.relay.store.count_subscriptions(CHAT) == 25
    await harness.command(CHAT, "/lang zh")
    before = len(bot_api.sent_to(CHAT))
    extra = _feeds(feed_server, "/b/", 6)
    await harness.command(CHAT, "/sub " + " ".join(extra))
    report = await _report(harness, bot_api, CHAT, before)
    assert report == "❌ 另有 6 个网址未能订阅：本聊天的订阅已达上限 25 个"
    assert bot_api.sent_to(CHAT)[before].text == "⏳ 正在读取订阅源：0/6……"
    assert bot_api.edits[-1].text == "✅ 6 个网址已全部读取，结果见下一条消息"


async def test_one_chats_long_list_does_not_hold_up_another_chat(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A chat pastes 20 feeds of a slow site: it has at most its share of fetches open, and
    meanwhile another chat's /sub of one feed is read and answered at once."""
    harness = await _bot(bot_factory)
    slow = _feeds(feed_server, "/slow/", 20)
    feed_server.hold("/slow/")
    bot_api.user_sends(6101, "/sub " + " ".join(slow))
    await harness.until(lambda: feed_server.waiting("/slow/") == SUBSCRIBE_PER_CHAT, "slow feeds")
    quick = _feeds(feed_server, "/quick/", 1)
    reply = await harness.command(CHAT, f"/sub {quick[0]}")
    assert reply.text == "✅ Subscribed to Feed 0 as #1"
    assert feed_server.waiting("/slow/") == SUBSCRIBE_PER_CHAT
    feed_server.let_through("/slow/")
    await harness.settle()
    assert feed_server.most_waiting("/slow/") == SUBSCRIBE_PER_CHAT
    assert harness.relay is not None
    assert await harness.relay.store.count_subscriptions(6101) == 20
    assert bot_api.rejected == []


async def test_many_chats_fetch_a_bounded_number_at_once(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Five chats paste 20 feeds of a slow site each: each has at most its share open and all
    together at most the overall bound, which leaves the fetcher room for the feed poller;
    every chat still gets all 20 once the site answers."""
    harness = await _bot(bot_factory)
    chats = range(6101, 6106)
    for n, chat in enumerate(chats):
        feed_server.hold(f"/slow/{n}-")
        bot_api.user_sends(chat, "/sub " + " ".join(_feeds(feed_server, f"/slow/{n}-", 20)))

    def open_fetches() -> int:
        return sum(feed_server.waiting(f"/slow/{n}-") for n in range(5))

    await harness.until(lambda: open_fetches() == SUBSCRIBE_OVERALL, "the overall bound reached")
    for n in range(5):
        feed_server.let_through(f"/slow/{n}-")
    await harness.settle()
    assert feed_server.most_waiting() == SUBSCRIBE_OVERALL
    assert harness.relay is not None
    for n, chat in enumerate(chats):
        assert feed_server.most_waiting(f"/slow/{n}-") <= SUBSCRIBE_PER_CHAT
        assert await harness.relay.store.count_subscriptions(chat) == 20
    assert bot_api.rejected == []
