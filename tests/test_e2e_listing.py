"""End to end: /list shows id, title and URL, to whoever may read it, in pages.

Reading changes nothing: anyone in a chat may read its list, and from a private chat
the members of a named group or channel (``bot.commands.rights.read_refusal``). Page
buttons carry untrusted data (``bot.commands.listing``).
"""

from __future__ import annotations

from tests.fakes.bot_api import FakeBotAPI, SentMessage
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import rss, stories
from tests.harness import BotHarness, HarnessFactory

ALICE, BOB = 7171, 7272
GROUP, ADMIN, MEMBER, STRANGER = -100_7373, 7374, 7375, 7376
STALE = "This button no longer works; send the command again"


def _feeds(feeds: FeedServer, count: int, prefix: str = "/f") -> list[str]:
    urls = []
    for n in range(count):
        path = f"{prefix}{n}.xml"
        feeds.put(path, rss(f"Feed {n}", stories(path, 1, lambda k: f"Story {k}")))
        urls.append(feeds.url(path))
    return urls


async def _bot(factory: HarnessFactory) -> BotHarness:
    return await factory(delivery={"backlog_on_subscribe": 0})


def _buttons(message: SentMessage) -> dict[str, str]:
    if message.reply_markup is None:
        return {}
    return {b["text"]: b["callback_data"] for b in message.reply_markup["inline_keyboard"][0]}


async def test_list_shows_number_title_and_url_as_text(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Each subscription shows its number, its title and, on the next line, its URL as text
    (not only behind a link); a short list has no page buttons."""
    harness = await _bot(bot_factory)
    urls = _feeds(feed_server, 2)
    await harness.command(ALICE, "/sub " + " ".join(urls))
    listing = await harness.command(ALICE, "/list")
    assert listing.text == (f"Subscriptions (2)\n#1 Feed 0\n   {urls[0]}\n#2 Feed 1\n   {urls[1]}")
    assert listing.reply_markup is None
    assert not [e for e in listing.entities if e["type"] == "text_link"]
    await harness.command(ALICE, "/lang zh")
    listing = await harness.command(ALICE, "/list")
    assert (listing.text or "").startswith(f"订阅（2）\n#1 Feed 0\n   {urls[0]}")
    assert bot_api.rejected == []


async def test_group_members_may_read_the_list_but_not_change_it(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A member's /list in the group is answered with the list, while their /unsub is refused;
    from a private chat a member may read the group's list by its id, a stranger may not."""
    bot_api.add_chat(GROUP, "supergroup", title="Readers", admins=[ADMIN], members=[MEMBER])
    bot_api.add_chat(MEMBER, "private")
    bot_api.add_chat(STRANGER, "private")
    harness = await _bot(bot_factory)
    await harness.command(GROUP, f"/sub {_feeds(feed_server, 1)[0]}", user_id=ADMIN)
    listing = await harness.command(GROUP, "/list", user_id=MEMBER)
    assert (listing.text or "").startswith("Subscriptions (1)\n#1 Feed 0")
    refused = await harness.command(GROUP, "/unsub 1", user_id=MEMBER)
    assert refused.text == "Only chat administrators may change subscriptions and settings here"
    listing = await harness.command(MEMBER, f"/list {GROUP}", user_id=MEMBER)
    assert (listing.text or "").startswith("Subscriptions (1)\n#1 Feed 0")
    refused = await harness.command(STRANGER, f"/list {GROUP}", user_id=STRANGER)
    assert refused.text == "Only members of that chat may see its subscriptions"
    assert bot_api.rejected == []


async def test_a_long_list_is_paged_with_buttons(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """45 subscriptions: page 1 of 3 with a forward button; pressing through shows pages 2
    and 3 in the same message, each with its own buttons, together every subscription once."""
    harness = await _bot(bot_factory)
    await harness.command(ALICE, "/sub " + " ".join(_feeds(feed_server, 45)))
    await harness.settle()
    first = await harness.command(ALICE, "/list")
    assert (first.text or "").startswith("Subscriptions (45) · page 1 of 3\n#1 Feed 0")
    assert list(_buttons(first)) == ["2 ›"]
    await harness.press(ALICE, first.message_id, _buttons(first)["2 ›"], user_id=ALICE)
    second = bot_api.edits[-1]
    assert (second.text or "").startswith("Subscriptions (45) · page 2 of 3\n#21 Feed 20")
    assert list(_buttons(second)) == ["‹ 1", "3 ›"]
    await harness.press(ALICE, first.message_id, _buttons(second)["3 ›"], user_id=ALICE)
    third = bot_api.edits[-1]
    assert list(_buttons(third)) == ["‹ 2"]
    shown = "\n".join(m.text or "" for m in (first, second, third))
    assert [shown.count(f"#{n + 1} Feed {n}\n") for n in range(45)] == [1] * 45
    assert bot_api.rejected == []


async def test_forged_page_buttons_are_harmless_and_tell_nothing(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A page number out of range shows the nearest real page; Bob's presses naming Alice's
    chat or a chat that does not exist, or carrying junk, are answered alike and show
    nothing."""
    harness = await _bot(bot_factory)
    await harness.command(ALICE, "/sub " + " ".join(_feeds(feed_server, 25)))
    await harness.settle()
    first = await harness.command(ALICE, "/list")
    await harness.press(ALICE, first.message_id, f"list:{ALICE}:9999", user_id=ALICE)
    assert (bot_api.edits[-1].text or "").startswith("Subscriptions (25) · page 2 of 2")
    await harness.press(ALICE, first.message_id, f"list:{ALICE}:0", user_id=ALICE)
    assert (bot_api.edits[-1].text or "").startswith("Subscriptions (25) · page 1 of 2")
    edits = len(bot_api.edits)
    lure = await harness.command(BOB, "/help")
    answers = {
        data: await harness.press(BOB, lure.message_id, data, user_id=BOB)
        for data in (
            f"list:{ALICE}:1",
            "list:987654:1",
            "list:-100987654:1",
            f"list:{ALICE}:99999",
            "list:x:1",
            "list:²:1",
        )
    }
    assert set(answers.values()) == {STALE}, answers
    assert len(bot_api.edits) == edits
    assert "Feed 0" not in "".join(m.text or "" for m in bot_api.sent_to(BOB))
