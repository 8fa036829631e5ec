"""End to end: one chat flooding the bot costs the others nothing, and bursts stay under 429."""

from __future__ import annotations

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import HarnessFactory

FLOODER, BYSTANDER = 4401, 4402


async def test_a_flooding_chat_does_not_slow_down_another(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """200 commands from one chat in 2 s: the other chat is answered within 2 s; no 429."""
    harness = await bot_factory()
    start = harness.clock.monotonic()
    for n in range(200):
        bot_api.user_sends(FLOODER, "/help")
        if n % 10 == 9:
            harness.clock.advance(0.1)
    bot_api.user_sends(BYSTANDER, "/help")
    [answer] = await bot_api.wait_for_sent(BYSTANDER, 1)
    assert "/sub" in (answer.text or "")
    assert harness.clock.monotonic() - start <= 2.0 + 0.1
    await harness.settle()
    flooded = [m.text or "" for m in bot_api.sent_to(FLOODER)]
    # The first few commands are answered, then one line asks the chat to slow down.
    assert 1 <= len(flooded) <= 6
    assert sum("Too many commands" in text for text in flooded) == 1
    assert [r.code for r in bot_api.rejected] == []


async def test_a_chat_answered_again_once_it_slows_down(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """The command budget refills: after a pause the flooding chat is served again."""
    harness = await bot_factory()
    for _ in range(20):
        bot_api.user_sends(FLOODER, "/help")
    await harness.settle()
    before = len(bot_api.sent_to(FLOODER))
    harness.clock.advance(60)
    reply = await harness.command(FLOODER, "/help")
    assert "/sub" in (reply.text or "")
    assert len(bot_api.sent_to(FLOODER)) == before + 1


async def test_thirty_three_chats_subscribing_at_once_all_get_their_confirmation(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """33 /sub at the same instant: 33 confirmations and backlogs, not one 429."""
    item = Item(guid="only", title="The only story", link="https://news.example/only")
    feed_server.put("/f.xml", rss("Wire", [item]))
    harness = await bot_factory()
    chats = range(7001, 7034)
    for chat in chats:
        bot_api.user_sends(chat, f"/sub {feed_server.url('/f.xml')}")
    await harness.settle()
    for chat in chats:
        texts = [m.text or "" for m in bot_api.sent_to(chat)]
        assert len(texts) == 2, (chat, texts)
        assert "Subscribed to <b>Wire</b>" in texts[0] or "Subscribed to Wire" in texts[0]
        assert texts[1].startswith("The only story")
    assert [r.code for r in bot_api.rejected] == []


async def test_a_reply_that_meets_a_429_is_sent_after_retry_after(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """Telegram said 429 to a reply: it goes again once retry_after has passed, not lost."""
    harness = await bot_factory()
    bot_api.flood_next("sendMessage", chat_id=BYSTANDER, retry_after=5)
    start = harness.clock.monotonic()
    reply = await harness.command(BYSTANDER, "/help")
    assert "/sub" in (reply.text or "")
    assert harness.clock.monotonic() - start >= 5
    assert [r.code for r in bot_api.rejected] == [429]


async def test_a_member_flooding_a_group_does_not_lock_out_its_admins(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """A member sends 60 commands to a group at once; its admin's /list right after them is
    answered all the same, within the group's send budget (a slot every 3.2 s): the member's
    budget stops the flood at the gate, and only one of the member's answers may wait for a
    slot, so the member's burst cannot book the group's slots past the admin's answer."""
    group, admin, member = -100_440, 4403, 4404
    bot_api.add_chat(group, "supergroup", title="Readers", admins=[admin])
    harness = await bot_factory()
    for _ in range(60):
        bot_api.user_sends(group, "/help", user_id=member)
    bot_api.user_sends(group, "/list", user_id=admin)

    def admin_answered() -> bool:
        return any("No subscriptions" in (m.text or "") for m in bot_api.sent_to(group))

    start = harness.clock.monotonic()
    await harness.until(admin_answered, "the admin's /list answered")
    assert harness.clock.monotonic() - start < 8
    await harness.settle()
    texts = [m.text or "" for m in bot_api.sent_to(group)]
    assert 1 <= sum("relays news feeds" in text for text in texts) <= 2
    assert [r.code for r in bot_api.rejected] == []
