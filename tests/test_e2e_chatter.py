"""End to end: what people say to the bot besides its commands.

A feed address alone in a private chat is answered with a button that subscribes to
it; other text and unknown commands get a one-line hint; in a group the bot answers
only what is addressed to it (``bot.commands.chatter``). The button's data is a token
(``bot.commands.pending``): forged, replayed, expired or another chat's tokens change
nothing and are answered alike.
"""

from __future__ import annotations

import pytest

from bot.commands.chatter import OFFER_SECONDS
from tests.fakes.bot_api import FakeBotAPI, SentMessage
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import rss, stories
from tests.harness import BotHarness, HarnessFactory

ALICE, BOB = 5151, 5252
GROUP, ADMIN, MEMBER = -100_5353, 5354, 5355
STALE = "This button no longer works; send the command again"


def _feed(feeds: FeedServer, path: str, title: str) -> str:
    feeds.put(path, rss(title, stories(path, 2, lambda n: f"{title} story {n}")))
    return feeds.url(path)


async def _bot(factory: HarnessFactory) -> BotHarness:
    return await factory(delivery={"backlog_on_subscribe": 0})


def _data(message: SentMessage) -> list[str]:
    assert message.reply_markup is not None, message.text
    return [b["callback_data"] for row in message.reply_markup["inline_keyboard"] for b in row]


def _labels(message: SentMessage) -> list[str]:
    assert message.reply_markup is not None, message.text
    return [b["text"] for row in message.reply_markup["inline_keyboard"] for b in row]


async def _subscribed(harness: BotHarness, chat: int) -> list[str]:
    assert harness.relay is not None
    return [s.title for s in await harness.relay.store.list_subscriptions(chat)]


async def test_a_feed_address_alone_offers_a_button_that_subscribes(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A bare address, even one far longer than a button's data may be, is answered with one
    button; pressing it subscribes the chat, takes the button away and reports as /sub does;
    pressing it again changes nothing."""
    harness = await _bot(bot_factory)
    url = _feed(feed_server, "/" + "very-long-path/" * 8 + "feed.xml", "Longform")
    offer = await harness.command(ALICE, f"  {url}  ")
    assert offer.text == f"Subscribe this chat to {url}?"
    assert _labels(offer) == ["➕ Subscribe"]
    [data] = _data(offer)
    assert len(data.encode()) <= 64 < len(url)
    assert await _subscribed(harness, ALICE) == []
    assert await harness.press(ALICE, offer.message_id, data, user_id=ALICE) == ""
    assert await _subscribed(harness, ALICE) == ["Longform"]
    assert bot_api.sent_to(ALICE)[-1].text == "✅ Subscribed to Longform as #1"
    [edit] = bot_api.edits
    assert (edit.message_id, edit.text, edit.reply_markup) == (offer.message_id, offer.text, None)
    assert await harness.press(ALICE, offer.message_id, data, user_id=ALICE) == STALE
    assert await _subscribed(harness, ALICE) == ["Longform"]
    assert bot_api.rejected == []


async def test_several_addresses_are_offered_together_in_chinese_too(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A message of three addresses offers one button for all three, in the chat's language."""
    harness = await _bot(bot_factory)
    urls = [_feed(feed_server, f"/{n}.xml", f"Feed {n}") for n in range(3)]
    offer = await harness.command(ALICE, "\n".join(urls))
    assert offer.text == "Subscribe this chat to these 3 addresses?"
    assert _labels(offer) == ["➕ Subscribe to all 3"]
    await harness.command(ALICE, "/lang zh")
    offer = await harness.command(ALICE, "\n".join(urls))
    assert offer.text == "要为本聊天订阅这 3 个网址吗？"
    assert _labels(offer) == ["➕ 订阅"]
    await harness.press(ALICE, offer.message_id, _data(offer)[0], user_id=ALICE)
    assert await _subscribed(harness, ALICE) == ["Feed 0", "Feed 1", "Feed 2"]
    assert "已订阅 Feed 2，编号 #3" in (bot_api.sent_to(ALICE)[-1].text or "")


async def test_a_forged_offer_press_subscribes_nothing_and_tells_nothing(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Bob presses, in his own chat, a button carrying Alice's token, an unknown token and a
    malformed one: nothing is subscribed anywhere and every press gets the same answer. An
    offer that has expired answers the same."""
    harness = await _bot(bot_factory)
    offer = await harness.command(ALICE, _feed(feed_server, "/a.xml", "Alpha"))
    [alices] = _data(offer)
    lure = await harness.command(BOB, "/help")
    answers = {
        data: await harness.press(BOB, lure.message_id, data, user_id=BOB)
        for data in (alices, "subscribe:AAAAAAAAAAAA", "subscribe:", "subscribe:a:b")
    }
    assert set(answers.values()) == {STALE}, answers
    assert await _subscribed(harness, ALICE) == []
    assert await _subscribed(harness, BOB) == []
    harness.clock.advance(OFFER_SECONDS + 1)
    assert await harness.press(ALICE, offer.message_id, alices, user_id=ALICE) == STALE
    assert await _subscribed(harness, ALICE) == []
    assert bot_api.edits == []


@pytest.mark.parametrize(
    ("lang", "said", "hint"),
    [
        ("en", "hello there",
         "Send me a feed's address to subscribe to it, or /help for the commands"),
        ("en", "/nosuch 3", "There is no command /nosuch; /help lists the commands"),
        ("en", "not-a-url and https://a.example/feed", "Send me a feed's address"),
        ("zh", "你好", "发送订阅源的网址即可订阅；发送 /help 查看全部命令"),
        ("zh", "/nosuch", "没有 /nosuch 这个命令；发送 /help 查看全部命令"),
    ],
)  # fmt: skip
async def test_private_text_and_unknown_commands_get_a_one_line_hint(
    bot_factory: HarnessFactory, lang: str, said: str, hint: str
) -> None:
    """In a private chat, text that is no address and commands the bot lacks get one line."""
    harness = await _bot(bot_factory)
    await harness.command(ALICE, f"/lang {lang}")
    answer = await harness.command(ALICE, said)
    assert (answer.text or "").startswith(hint)
    assert "\n" not in (answer.text or "")
    assert answer.reply_markup is None


async def test_in_a_group_only_what_is_addressed_to_the_bot_is_answered(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Members' chatter, addresses, bare unknown commands and other bots' commands get no
    answer in a group (as Telegram's privacy mode would not even deliver them); an unknown
    command naming the bot, and a reply to one of the bot's messages, get the hint."""
    bot_api.add_chat(GROUP, "supergroup", title="Readers", admins=[ADMIN])
    harness = await _bot(bot_factory)
    welcome = await harness.command(GROUP, "/help", user_id=MEMBER)
    before = len(bot_api.sent_to(GROUP))
    for text in (
        "good morning everyone",
        _feed(feed_server, "/g.xml", "Group feed"),
        "/nosuch",
        "/nosuch@OtherBot",
        "/sub@OtherBot https://a.example/feed",
    ):
        bot_api.user_sends(GROUP, text, user_id=MEMBER)
        await harness.pass_time(4)
    await harness.settle()
    assert len(bot_api.sent_to(GROUP)) == before
    assert await _subscribed(harness, GROUP) == []
    answer = await harness.command(GROUP, "/nosuch@NewsRelayBot", user_id=MEMBER)
    assert answer.text == "There is no command /nosuch; /help lists the commands"
    answer = await harness.command(GROUP, "what?", user_id=MEMBER, reply_to=welcome.message_id)
    assert answer.text == "In a group I answer commands only; /help lists them"
    assert bot_api.rejected == []
