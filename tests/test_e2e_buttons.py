"""End to end: every button press is answered exactly once, whatever data it carries.

A client may send any callback data (``bot.commands.buttons``): malformed, stale or
unknown data gets a short notice, never silence (the client would spin) and never
"Something went wrong"; Telegram refuses a second answer to one press, and so does
the fake.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

CHAT = 7171
STALE = "This button no longer works"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


async def _subscribed(factory: HarnessFactory, feeds: FeedServer) -> BotHarness:
    """A bot whose chat follows one feed as #1 (subscription id 1)."""
    harness = await factory(delivery={"backlog_on_subscribe": 0})
    item = Item(guid="a", title="A story", pub_date=datetime(2026, 11, 4, tzinfo=UTC))
    feeds.put("/a.xml", rss("Alpha", [item]))
    await harness.command(CHAT, f"/sub {feeds.url('/a.xml')}")
    return harness


@pytest.mark.parametrize(
    "data",
    [
        "unsub:abc",
        "unsub:",
        "unsub:1:2",
        "unsub:" + "9" * 20,
        "unsub:999999999999999999",
        "unsub:-1",
        "unsub:²",
        "set:1",
        "set:1:bogus",
        "set:abc:pictures",
        "set:1:pictures:again",
        "set:" + "9" * 20 + ":album",
        "bogus:1",
        "unsubscribe:1",
        "x",
    ],
)
async def test_malformed_or_stale_presses_get_a_notice(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI, data: str
) -> None:
    """Each malformed, stale or unknown press is answered once with a short notice; nothing
    changes and nothing else is said."""
    harness = await _subscribed(bot_factory, feed_server)
    menu = await harness.command(CHAT, "/set 1")
    assert harness.relay is not None
    before = await harness.relay.store.list_subscriptions(CHAT)
    sent = len(bot_api.sent)
    answer = await harness.press(CHAT, menu.message_id, data, user_id=CHAT)
    assert answer.startswith(STALE)
    assert await harness.relay.store.list_subscriptions(CHAT) == before
    assert len(bot_api.sent) == sent
    assert bot_api.edits == []
    assert bot_api.rejected == []


async def test_pressing_a_removed_subscriptions_button_again(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """The second press of an /unsub button whose subscription is gone is answered as stale."""
    harness = await _subscribed(bot_factory, feed_server)
    menu = await harness.command(CHAT, "/unsub")
    assert menu.reply_markup is not None
    data = menu.reply_markup["inline_keyboard"][0][0]["callback_data"]
    assert await harness.press(CHAT, menu.message_id, data, user_id=CHAT) == ""
    assert (await harness.press(CHAT, menu.message_id, data, user_id=CHAT)).startswith(STALE)
    assert len(bot_api.edits) == 1
    assert bot_api.rejected == []


async def test_message_not_modified_is_no_error(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """When Telegram answers an edit "message is not modified" (two presses racing), the press
    is answered plainly and the chat is not told something went wrong."""
    harness = await _subscribed(bot_factory, feed_server)
    menu = await harness.command(CHAT, "/set 1")
    assert menu.reply_markup is not None
    data = menu.reply_markup["inline_keyboard"][0][0]["callback_data"]
    bot_api.fail_next("editMessageReplyMarkup", code=400, description=NOT_MODIFIED)
    sent = len(bot_api.sent)
    assert await harness.press(CHAT, menu.message_id, data, user_id=CHAT) == ""
    assert len(bot_api.sent) == sent
    assert [r.description for r in bot_api.rejected] == [NOT_MODIFIED]


async def test_a_failing_press_is_still_answered(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """An edit Telegram refuses for another reason still gets the press answered, once, and
    the chat a one-line notice."""
    harness = await _subscribed(bot_factory, feed_server)
    menu = await harness.command(CHAT, "/unsub")
    assert menu.reply_markup is not None
    data = menu.reply_markup["inline_keyboard"][0][0]["callback_data"]
    refusal = "Bad Request: message can't be edited"
    bot_api.fail_next("editMessageText", code=400, description=refusal)
    answer = await harness.press(CHAT, menu.message_id, data, user_id=CHAT)
    assert answer.startswith("Something went wrong")
    assert "went wrong" in (bot_api.sent_to(CHAT)[-1].text or "")
    assert [r.description for r in bot_api.rejected] == [refusal]


async def test_chinese_chat_gets_chinese_notices(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """Notices are in the chat's language."""
    harness = await _subscribed(bot_factory, feed_server)
    await harness.command(CHAT, "/lang zh")
    menu = await harness.command(CHAT, "/set 1")
    answer = await harness.press(CHAT, menu.message_id, "set:1:bogus", user_id=CHAT)
    assert answer == "这个按钮已失效，请重新发送命令"
