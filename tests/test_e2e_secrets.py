"""End to end: the bot token never reaches a chat, even when the Bot API echoes it back, and
a private feed's key never reaches a group's other members."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from bot.opml import Outline, write_opml
from bot.replies import Reply
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import HarnessFactory

CHAT = 6161


async def test_a_download_error_that_echoes_the_token_never_reaches_the_chat(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """/import meets an error naming /file/bot<token>/…: the reply says why in our words.

    (Logs and stderr are checked against a real process in tests/test_redact.py.)
    """
    harness = await bot_factory()
    bot_api.echoing_proxy = True
    opml = write_opml("mine", [Outline("https://news.example/feed.xml")], created=0)
    bot_api.user_sends(CHAT, document=("feeds.opml", opml), caption="/import")
    [reply] = await bot_api.wait_for_sent(CHAT, 1)
    await harness.settle()
    text = reply.text or ""
    assert "did not hand over the file" in text
    assert "/file/bot" not in text
    _assert_no_token(bot_api, [m.text or m.caption or "" for m in bot_api.sent])
    assert bot_api.rejected == []


async def test_every_reply_is_scrubbed_at_the_edge(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """Whatever text a reply carries, the token in any spelling leaves as a marker."""
    harness = await bot_factory()
    assert harness.relay is not None
    bot_api.add_chat(CHAT, "private")
    token = bot_api.token
    text = f"a {token} b {quote(token, safe='')} c /file/bot{token}/x http://u:p@h.example/"
    await harness.relay.replier.send(Reply(CHAT, text))
    [sent] = await bot_api.wait_for_sent(CHAT, 1)
    assert sent.text == ("a <token> b <token> c /file/bot<token>/x http://<credentials>@h.example/")
    _assert_no_token(bot_api, [sent.text or ""])


def _assert_no_token(api: FakeBotAPI, outputs: list[str]) -> None:
    token = api.token
    for output in outputs:
        for form in (token, quote(token, safe=""), token.split(":", 1)[1]):
            assert form.lower() not in output.lower()


async def test_the_unsub_keyboard_and_its_edit_never_show_a_feeds_key(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A feed without a title is named by its URL: on /unsub's buttons and in the message a
    press turns them into, its reader's key shows as the marker, as in /list.

    Found by a review: the labels and the edit went to Telegram without the scrub.
    """
    key = "0123456789abcdef0123"
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    item = Item(guid="a", title="A story", pub_date=datetime(2026, 11, 4, tzinfo=UTC))
    feed_server.put("/p.xml", rss("", [item]))
    await harness.command(CHAT, f"/sub {feed_server.url('/p.xml')}?passkey={key}")
    menu = await harness.command(CHAT, "/unsub")
    assert menu.reply_markup is not None
    [[button]] = menu.reply_markup["inline_keyboard"]
    assert button["text"].endswith("/p.xml?passkey=<secret>"), button["text"]
    await harness.press(CHAT, menu.message_id, button["callback_data"], user_id=CHAT)
    await harness.until(lambda: bot_api.edits, "the pressed message is edited")
    [edited] = bot_api.edits
    assert "?passkey=<secret>" in (edited.text or ""), edited.text
    assert key not in (edited.text or "")
