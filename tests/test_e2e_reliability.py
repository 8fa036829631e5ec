"""End to end: one chat's slow or failing work never holds back the others, nothing is lost."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import HarnessFactory

# A representative part of the end-to-end suite runs on PostgreSQL in every run
# (tests.engines); TEST_ENGINES=all runs all of it there.
pytestmark = pytest.mark.both_engines

SLOW_CHAT = 7171
OTHER_CHAT = 7272


async def test_slow_sub_does_not_block_other_chats(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """While one chat's /sub waits on an endless feed, another chat's /help is answered at once."""
    harness = await bot_factory(fetch={"timeout_seconds": 1})
    feed_server.slow("/endless.xml", chunk=b" ", interval=0.1)
    bot_api.user_sends(SLOW_CHAT, f"/sub {feed_server.url('/endless.xml')}")
    await harness.until(lambda: feed_server.count("/endless.xml") == 1, "the endless fetch")
    reply = await harness.command(OTHER_CHAT, "/help")
    assert "/sub" in (reply.text or "")
    assert bot_api.sent_to(SLOW_CHAT) == [], "the slow /sub should still be fetching"
    failed = await bot_api.wait_for_sent(SLOW_CHAT, 1, timeout=15)
    assert "timed out" in (failed[0].text or "")


async def test_unexpected_telegram_error_is_retried_not_lost(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """An answer the worker has no rule for (401 while the token is revoked) is backed off."""
    items = [
        Item(guid=f"u-{n}", title=f"Update {n}", link=f"https://news.example/u{n}")
        for n in range(2)
    ]
    feed_server.put("/u.xml", rss("Updates", items[:1]))
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(OTHER_CHAT, f"/sub {feed_server.url('/u.xml')}")
    bot_api.fail_next("sendMessage", chat_id=OTHER_CHAT, code=401, description="Unauthorized")
    feed_server.put("/u.xml", rss("Updates", items[::-1]))
    await harness.poll()
    assert harness.relay is not None
    store = harness.relay.store

    async def retried_rows() -> list[int]:
        rows = await store.pending_outbox(harness.clock() + 3600, 10)
        return [row.attempts for row in rows if row.attempts]

    async def refusal_recorded() -> bool:
        return bool(await retried_rows())

    await harness.until(refusal_recorded, "the refusal recorded on the row")
    assert await retried_rows() == [1]
    await harness.settle()
    assert [m.text.splitlines()[0] for m in bot_api.sent_to(OTHER_CHAT)[1:] if m.text] == [
        "Update 1"
    ]


async def test_unreadable_outbox_row_fails_alone(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A queued row whose payload cannot be read is recorded as failed; deliveries go on."""
    items = [
        Item(guid=f"c-{n}", title=f"Corrupt neighbour {n}", link=f"https://news.example/c{n}")
        for n in range(2)
    ]
    feed_server.put("/c.xml", rss("Corrupt", items[:1]))
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(OTHER_CHAT, f"/sub {feed_server.url('/c.xml')}")
    # A row written by some other version of the program, in the database itself.
    assert harness.relay is not None
    await harness.relay.store.engine.write(
        lambda db: db.run(
            """INSERT INTO outbox (chat_id, thread_id, subscription_id, feed_id, entry_key,
                                   payload, not_before, created_at)
               SELECT chat_id, thread_id, id, feed_id, 'poison', '{"entities": 7}', 0, 0
               FROM subscriptions WHERE chat_id = ?""",
            (OTHER_CHAT,),
        )
    )
    feed_server.put("/c.xml", rss("Corrupt", items[::-1]))
    await harness.poll()
    sent = await bot_api.wait_for_sent(OTHER_CHAT, 2)
    assert (sent[-1].text or "").startswith("Corrupt neighbour 1")
    assert harness.relay is not None
    assert (await harness.relay.store.stats()).failed == 1


async def test_error_replies_keep_to_the_chat_budget(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """Replies of the error handler count against the chat's limit, so no reply meets a 429."""
    harness = await bot_factory()
    texts = [*["/unsub 99999999999999999999999"] * 4, "/help", "/help"]
    replies = [await harness.command(SLOW_CHAT, text) for text in texts]
    assert [r.code for r in bot_api.rejected] == []
    assert "/sub" in (replies[-1].text or "")


async def test_stop_does_not_wait_for_a_slow_sub(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A /sub waiting on a feed that never finishes is cancelled at stop, not waited out."""
    harness = await bot_factory(fetch={"timeout_seconds": 20})
    feed_server.slow("/endless.xml", chunk=b" ", interval=0.1)
    urls = " ".join(feed_server.url(f"/endless.xml?n={n}") for n in range(5))
    bot_api.user_sends(SLOW_CHAT, f"/sub {urls}")
    relay = harness.relay
    assert relay is not None
    await harness.until(lambda: relay.gate.handling == 1, "the /sub handler to run")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await harness.stop()
    # Five fetches of up to 20 s each would hold the stop for 100 s; the grace is 2 s.
    assert loop.time() - started < 10
