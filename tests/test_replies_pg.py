"""Two bots on one PostgreSQL database in one test, on one virtual clock: the one that receives
updates does not send (``--role updates``); its replies are handed to the sender
(``--role fetch --role send``), which sends them on the same per-chat budget as the
deliveries, so Telegram's strict limits (the fake's) never refuse one."""

from __future__ import annotations

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss, stories
from tests.harness import BotHarness
from tests.postgres import DatabaseFactory
from tests.virtual_time import VirtualClock

CHAT = 7272


def _items(count: int) -> list[Item]:
    """``count`` entries a minute apart, oldest first, titled "Headline number n"."""
    return stories("/r", count, "Headline number {}".format)[::-1]


def _sent_by(harness: BotHarness) -> float:
    """How many sendMessage calls this bot made (its own metrics)."""
    assert harness.relay is not None
    registry = harness.relay.metrics.registry
    labels = {"method": "sendMessage", "code": "200"}
    return registry.get_sample_value("newsrelay_telegram_requests_total", labels) or 0.0


async def test_replies_of_a_process_that_does_not_send_go_out_through_the_sender(
    bot_api: FakeBotAPI,
    feed_server: FeedServer,
    virtual_clock: VirtualClock,
    postgres_database: DatabaseFactory,
) -> None:
    """/sub and /list are handled by the receiving process; their replies and five new
    entries all reach the chat, each once, sent by the sender within the chat's budget."""
    url = await postgres_database()
    items = _items(6)
    feed_server.put("/f.xml", rss("Wire", items[:1]))
    sections = {"database": {"url": url}, "delivery": {"backlog_on_subscribe": 0}}
    sender = BotHarness(bot_api, virtual_clock, url, sections)
    sender.roles = frozenset({"fetch", "send"})
    receiver = BotHarness(bot_api, virtual_clock, url, sections)
    receiver.roles = frozenset({"updates"})
    await sender.start()
    await receiver.start()

    def calm(seconds: float) -> bool:
        return BotHarness.may_advance(sender, seconds) and BotHarness.may_advance(receiver, seconds)

    bot_api.may_advance = sender.may_advance = receiver.may_advance = calm  # type: ignore[method-assign]
    try:
        assert sender.relay is not None
        assert receiver.relay is not None
        assert sender.relay.coordination.sending
        assert not receiver.relay.coordination.sending
        confirmation = await receiver.command(CHAT, f"/sub {feed_server.url('/f.xml')}")
        assert "Wire" in (confirmation.text or "")

        feed_server.put("/f.xml", rss("Wire", items[::-1]))
        await sender.poll()
        bot_api.user_sends(CHAT, "/list")
        await bot_api.wait_for_sent(CHAT, 1 + 5 + 1, timeout=30)
        await sender.settle()
        texts = [message.text or "" for message in bot_api.sent_to(CHAT)]
        headlines = [text.splitlines()[0] for text in texts if text.startswith("Headline")]
        assert headlines == [f"Headline number {n}" for n in range(1, 6)]
        assert sum("#1" in text and "Wire" in text for text in texts) >= 1  # the /list reply
        assert len(texts) == 7
        assert bot_api.rejected == []
        assert _sent_by(receiver) == 0, "the receiving process sent nothing itself"
        assert _sent_by(sender) == 7
    finally:
        await receiver.stop()
        await sender.stop()
