"""End to end: /unsub all asks first, and only someone allowed to confirm can.

(``bot.commands.unsub_all``)
"""

from __future__ import annotations

from bot.commands.unsub_all import CONFIRM_SECONDS
from tests.fakes.bot_api import FakeBotAPI, SentMessage
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import rss, stories
from tests.harness import BotHarness, HarnessFactory

ALICE, BOB = 6161, 6262
GROUP, ADMIN, MEMBER = -100_6363, 6364, 6365
CLOSED = "This question is no longer open; send /unsub all again"


def _feeds(feeds: FeedServer, count: int) -> str:
    urls = []
    for n in range(count):
        path = f"/f{n}.xml"
        feeds.put(path, rss(f"Feed {n}", stories(path, 1, lambda k: f"Story {k}")))
        urls.append(feeds.url(path))
    return " ".join(urls)


async def _bot(factory: HarnessFactory) -> BotHarness:
    return await factory(delivery={"backlog_on_subscribe": 0})


def _buttons(message: SentMessage) -> dict[str, str]:
    assert message.reply_markup is not None, message.text
    return {b["text"]: b["callback_data"] for b in message.reply_markup["inline_keyboard"][0]}


async def _count(harness: BotHarness, chat: int) -> int:
    assert harness.relay is not None
    return await harness.relay.store.count_subscriptions(chat)


async def test_cancel_keeps_everything_and_yes_removes_everything_once(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """/unsub all asks; Cancel removes nothing; asked again, Yes removes both subscriptions
    and says so in the question's place; pressing Yes again is answered clearly."""
    harness = await _bot(bot_factory)
    await harness.command(ALICE, f"/sub {_feeds(feed_server, 2)}")
    question = await harness.command(ALICE, "/unsub all")
    assert question.text == "Remove all 2 subscriptions, with their filters?"
    buttons = _buttons(question)
    assert list(buttons) == ["Yes, remove all 2", "Cancel"]
    assert await harness.press(ALICE, question.message_id, buttons["Cancel"], user_id=ALICE) == ""
    assert bot_api.edits[-1].text == "Nothing was removed"
    assert bot_api.edits[-1].reply_markup is None
    assert await _count(harness, ALICE) == 2
    stale = buttons["Yes, remove all 2"]
    assert await harness.press(ALICE, question.message_id, stale, user_id=ALICE) == CLOSED
    assert await _count(harness, ALICE) == 2
    question = await harness.command(ALICE, "/unsub all")
    yes = _buttons(question)["Yes, remove all 2"]
    assert await harness.press(ALICE, question.message_id, yes, user_id=ALICE) == ""
    assert bot_api.edits[-1].text == "Unsubscribed from 2 feeds"
    assert await _count(harness, ALICE) == 0
    assert await harness.press(ALICE, question.message_id, yes, user_id=ALICE) == CLOSED
    assert (await harness.command(ALICE, "/unsub all")).text == (
        "No subscriptions yet. Send /sub URL to add one."
    )
    assert bot_api.rejected == []


async def test_in_a_group_only_an_admin_can_confirm(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A member's press on the admin's question is refused and leaves it open; the admin's
    press then removes everything. In Chinese."""
    bot_api.add_chat(GROUP, "supergroup", title="Readers", admins=[ADMIN])
    harness = await _bot(bot_factory)
    await harness.command(GROUP, "/lang zh", user_id=ADMIN)
    await harness.command(GROUP, f"/sub {_feeds(feed_server, 3)}", user_id=ADMIN)
    question = await harness.command(GROUP, "/unsub all", user_id=ADMIN)
    assert question.text == "要删除全部 3 个订阅及其过滤器吗？"
    yes = _buttons(question)["是，全部删除"]
    refused = await harness.press(GROUP, question.message_id, yes, user_id=MEMBER)
    assert refused == "只有群组管理员可以在这里修改订阅和设置"
    assert await _count(harness, GROUP) == 3
    assert await harness.press(GROUP, question.message_id, yes, user_id=ADMIN) == ""
    assert bot_api.edits[-1].text == "已取消 3 个订阅"
    assert await _count(harness, GROUP) == 0


async def test_stale_forged_and_foreign_confirmations_are_answered_alike(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Bob presses, in his chat, Alice's Yes, a made-up token and a malformed choice; Alice
    presses her Yes after it expired and after a restart: nothing is removed and every
    press gets the same answer."""
    harness = await _bot(bot_factory)
    await harness.command(ALICE, f"/sub {_feeds(feed_server, 2)}")
    question = await harness.command(ALICE, "/unsub all")
    yes = _buttons(question)["Yes, remove all 2"]
    lure = await harness.command(BOB, "/help")
    token = yes.split(":")[1]
    answers = [
        await harness.press(BOB, lure.message_id, data, user_id=BOB)
        for data in (yes, "unsuball:AAAAAAAAAAAA:yes", f"unsuball:{token}:maybe")
    ]
    harness.clock.advance(CONFIRM_SECONDS + 1)
    answers.append(await harness.press(ALICE, question.message_id, yes, user_id=ALICE))
    question = await harness.command(ALICE, "/unsub all")
    await harness.restart()
    yes = _buttons(question)["Yes, remove all 2"]
    answers.append(await harness.press(ALICE, question.message_id, yes, user_id=ALICE))
    assert answers == [CLOSED] * 5
    assert await _count(harness, ALICE) == 2
    assert bot_api.edits == []


async def test_a_channels_subscriptions_removed_from_its_admins_private_chat(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """/unsub @channel all asks in the admin's private chat, and Yes there empties the channel."""
    channel, admin = -100_6464, 6465
    bot_api.add_chat(channel, "channel", title="Wire", username="wire", admins=[admin])
    bot_api.add_chat(admin, "private")
    harness = await _bot(bot_factory)
    await harness.command(admin, f"/sub @wire {_feeds(feed_server, 2)}", user_id=admin)
    question = await harness.command(admin, "/unsub @wire all", user_id=admin)
    yes = _buttons(question)["Yes, remove all 2"]
    assert await harness.press(admin, question.message_id, yes, user_id=admin) == ""
    assert await _count(harness, channel) == 0
    assert bot_api.rejected == []
