"""End to end: long or hostile feed titles and arguments never break a reply.

A feed's owner picks its title and entries' titles, a user picks the arguments the
bot echoes; 10,000 characters or a right-to-left override (U+202E) must still give
proper answers that show a clean, bounded version (``bot.i18n.values``), split or
cut to Telegram's limits (``bot.commands.splitting``).
"""

from __future__ import annotations

import json

from bot.i18n.values import TITLE_UNITS
from tests.fakes.bot_api import FakeBotAPI, SentMessage
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import rss, stories
from tests.fakes.telegram_rules import MAX_TEXT, utf16_len
from tests.harness import BotHarness, HarnessFactory

CHAT = 6161
RLO = "\u202e"
LONG_TITLE = ("Evil" + RLO + "txt.exe ") * 1250  # 10,000 characters


def _hostile_feed(feeds: FeedServer, path: str = "/evil.xml") -> str:
    """A feed whose title and entry titles are 10,000 characters with right-to-left overrides."""
    feeds.put(path, rss(LONG_TITLE, stories(path, 3, lambda n: f"{n} {LONG_TITLE}")))
    return feeds.url(path)


def _shown(message: SentMessage) -> str:
    """Everything a chat shows of a message: text, caption and keyboard labels."""
    return (message.text or message.caption or "") + json.dumps(
        message.reply_markup or {}, ensure_ascii=False
    )


def _proper(message: SentMessage) -> str:
    """The message's text, after checking it is a proper answer and shows no override."""
    text = message.text or ""
    assert "went wrong" not in text
    assert RLO not in _shown(message)
    assert utf16_len(text) <= MAX_TEXT
    return text


async def _bot(factory: HarnessFactory) -> BotHarness:
    return await factory(delivery={"backlog_on_subscribe": 0})


async def test_ten_thousand_character_titles_get_proper_answers(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """/sub, /list, /set, /filter (with its preview), /pause, /resume and /unsub all answer,
    with the title cut and cleaned, when feed and entry titles are 10,000 characters."""
    harness = await _bot(bot_factory)
    url = _hostile_feed(feed_server)
    expected = {
        f"/sub {url}": "Subscribed to Evil",
        "/list": "#1 Evil",
        "/set 1": "Display options of #1 Evil",
        "/filter 1 +evil": "Latest entries of Evil",
        "/filter 1": "Filter for #1",
        "/pause 1": "Paused Evil",
        "/resume 1": "Resumed Evil",
        "/unsub": "Which subscription",
    }
    for text, start in expected.items():
        answer = _proper(await harness.command(CHAT, text))
        assert start in answer, (text, answer)
        assert "…" in answer or text == "/unsub", (text, answer)
    preview = _proper(bot_api.sent_to(CHAT)[3])
    assert preview.count("✓ ") == 3
    assert all(utf16_len(line) <= TITLE_UNITS + 2 for line in preview.splitlines()[3:])
    menu = bot_api.sent_to(CHAT)[-1]
    assert menu.reply_markup is not None
    [[button]] = menu.reply_markup["inline_keyboard"]
    assert button["text"].startswith("#1 Evil")
    assert len(button["text"]) <= 60
    gone = _proper(await harness.command(CHAT, "/unsub 1"))
    assert gone.startswith("Unsubscribed from Evil")
    await harness.settle()
    assert bot_api.rejected == []


async def test_override_in_a_title_never_reaches_keyboards_edits_or_notices(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Pressing /set and /unsub buttons of such a feed edits messages without the override."""
    harness = await _bot(bot_factory)
    await harness.command(CHAT, f"/sub {_hostile_feed(feed_server)}")
    menu = await harness.command(CHAT, "/set 1")
    assert menu.reply_markup is not None
    for row in menu.reply_markup["inline_keyboard"]:
        data = row[0]["callback_data"]
        assert await harness.press(CHAT, menu.message_id, data, user_id=CHAT) == ""
    unsub = await harness.command(CHAT, "/unsub")
    assert unsub.reply_markup is not None
    data = unsub.reply_markup["inline_keyboard"][0][0]["callback_data"]
    assert await harness.press(CHAT, unsub.message_id, data, user_id=CHAT) == ""
    assert len(bot_api.edits) == 5
    for message in [*bot_api.sent, *bot_api.edits]:
        assert RLO not in _shown(message)
    assert all(RLO not in str(answer["text"]) for answer in bot_api.callback_answers)
    assert bot_api.edits[-1].text is not None
    assert bot_api.edits[-1].text.startswith("Unsubscribed from Evil")
    assert bot_api.rejected == []


async def test_longest_arguments_are_answered(bot_factory: HarnessFactory) -> None:
    """/sub and /unsub with the longest argument a user can send (4096 characters in all)
    are answered with one bounded line."""
    harness = await _bot(bot_factory)
    for command in ("/sub", "/unsub", "/filter", "/set", "/pause"):
        argument = "h" + "x" * (MAX_TEXT - len(command) - 3) + RLO
        assert len(f"{command} {argument}") == MAX_TEXT
        answer = _proper(await harness.command(CHAT, f"{command} {argument}"))
        assert "\n" not in answer.strip(), command
        assert utf16_len(answer) < 400, (command, answer)
        assert answer.startswith(("❌", "No subscription")), (command, answer)
    await harness.settle()
    assert harness.api.rejected == []


async def _list_of(harness: BotHarness, feeds: FeedServer, titles: list[str]) -> list[SentMessage]:
    """Subscribe the chat to one feed per title, send /list and press through its pages; the
    first page and each page it was edited to, each checked against Telegram's limits."""
    urls = []
    for n, title in enumerate(titles):
        feeds.put(f"/f{n}.xml", rss(title, stories(f"/f{n}", 1, str)))
        urls.append(feeds.url(f"/f{n}.xml"))
    for first in range(0, len(urls), 20):
        reply = await harness.command(CHAT, "/sub " + " ".join(urls[first : first + 20]))
        assert "went wrong" not in (reply.text or "")
        await harness.settle()  # the report after the progress message, before the next command
    pages = [await harness.command(CHAT, "/list")]
    while pages[-1].reply_markup is not None:
        forward = pages[-1].reply_markup["inline_keyboard"][0][-1]
        if not forward["text"].endswith("›"):
            break
        edits = len(harness.api.edits)
        await harness.press(CHAT, pages[0].message_id, forward["callback_data"], user_id=CHAT)
        assert len(harness.api.edits) == edits + 1
        pages.append(harness.api.edits[-1])
    assert all(len(page.entities) <= 100 for page in pages)
    assert harness.api.rejected == []
    return pages


async def test_long_listing_is_paged_and_bounded(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """/list of 200 subscriptions with long titles is one message of pages, each within
    Telegram's length and entity limits, that together show every subscription once."""
    harness = await _bot(bot_factory)
    titles = [f"Feed {n} " + "long words " * 40 for n in range(200)]
    pages = await _list_of(harness, feed_server, titles)
    assert len(pages) > 1
    assert all(_proper(page).startswith("Subscriptions (200) · page") for page in pages)
    shown = "\n".join(_proper(page) for page in pages)
    assert [shown.count(f"#{n + 1} Feed {n} ") for n in range(200)] == [1] * 200


async def test_short_listing_with_many_links_is_paged(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """/list of 120 short subscriptions comes in pages of 20, each subscription once."""
    harness = await _bot(bot_factory)
    pages = await _list_of(harness, feed_server, [f"S{n}" for n in range(120)])
    assert len(pages) == 6
    shown = "\n".join(_proper(page) for page in pages)
    assert all(shown.count(f"#{n + 1} S{n}\n") == 1 for n in range(120))
