"""The fake Telegram must refuse what Telegram refuses; these tests prove it is strict."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
    MessageEntity,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from tests.fakes.bot_api import FakeBotAPI, ManualClock, Refusal
from tests.fakes.telegram_rules import (
    LinkError,
    Rejected,
    check_caption,
    check_entities,
    check_link,
    check_text,
    nesting_problem,
    parse_html,
    utf16_len,
)

_PARSE = "Bad Request: can't parse entities: "


@pytest.mark.parametrize(
    ("text", "units"),
    [("", 0), ("abc", 3), ("中文", 2), ("😀", 2), ("a😀b", 4), ("🏟 🏟", 5)],
)
def test_utf16_len_counts_code_units(text: str, units: int) -> None:
    """Astral characters count as two units, everything else as one."""
    assert utf16_len(text) == units


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("<b>x</b>y", "xy", [{"type": "bold", "offset": 0, "length": 1}]),
        ("😀<i>中</i>", "😀中", [{"type": "italic", "offset": 2, "length": 1}]),
        (
            "<i>a<b>b</b></i>",
            "ab",
            [
                {"type": "italic", "offset": 0, "length": 2},
                {"type": "bold", "offset": 1, "length": 1},
            ],
        ),
        ("&lt;&gt;&amp;&quot;&#39;&#x1F600;", "<>&\"'😀", []),
        ("&nbsp;&laquo;&#12345678;", "&nbsp;&laquo;&#12345678;", []),
        ("&ltx &lt🏟", "&ltx <🏟", []),
        (
            '<a href="https://e.org/a?b=1&amp;c=2">l</a>',
            "l",
            [{"type": "text_link", "offset": 0, "length": 1, "url": "https://e.org/a?b=1&c=2"}],
        ),
        (
            "<a href=e.org>l</a>",
            "l",
            [{"type": "text_link", "offset": 0, "length": 1, "url": "http://e.org/"}],
        ),
        ('<a href="javascript:alert(1)">l</a>', "l", []),
        ('<a href="http://localhost/x">l</a>', "l", []),
        ('<a href="ftp://e.org/f">l</a>', "l", []),
        (
            '<a href="mailto:x@y.org">m</a>',
            "m",
            [{"type": "text_link", "offset": 0, "length": 1, "url": "http://mailto:x@y.org/"}],
        ),
        (
            '<pre><code class="language-py">x</code></pre>',
            "x",
            [{"type": "pre", "offset": 0, "length": 1, "language": "py"}],
        ),
        ('<code class="language-py">x</code>', "x", [{"type": "code", "offset": 0, "length": 1}]),
        ("<blockquote>q</blockquote>", "q", [{"type": "blockquote", "offset": 0, "length": 1}]),
        (
            "<blockquote expandable>q</blockquote>",
            "q",
            [{"type": "expandable_blockquote", "offset": 0, "length": 1}],
        ),
        ('<span class="tg-spoiler">s</span>', "s", [{"type": "spoiler", "offset": 0, "length": 1}]),
        ("<tg-spoiler>s</tg-spoiler>", "s", [{"type": "spoiler", "offset": 0, "length": 1}]),
        (
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            "👍",
            [
                {
                    "type": "custom_emoji",
                    "offset": 0,
                    "length": 2,
                    "custom_emoji_id": "5368324170671202286",
                }
            ],
        ),
        ("<S>x</s>", "x", [{"type": "strikethrough", "offset": 0, "length": 1}]),
        ("<b></b>x", "x", []),
        ("<i>a</>", "a", [{"type": "italic", "offset": 0, "length": 1}]),
    ],
)
def test_parse_html_accepts_telegram_html(
    html: str, text: str, entities: list[dict[str, Any]]
) -> None:
    """Supported markup becomes text plus entities with UTF-16 offsets."""
    assert parse_html(html) == (text, entities)


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("Hello world <p>x</p>", 'Unsupported start tag "p" at byte offset 12'),
        ("中文<p>x</p>", 'Unsupported start tag "p" at byte offset 6'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("😀 <b", "Unclosed start tag at byte offset 5"),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<i>x</em>", 'Unmatched end tag at byte offset 4, expected "</i>", found "</em>"'),
        ("<S>x</S>", 'Unmatched end tag at byte offset 4, expected "</s>", found "</S>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            "<i aba>x</i>",
            'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 0',
        ),
        ("<i =x>x</i>", 'Empty attribute name in the tag "i" at byte offset 0'),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
        (
            "&#xD83D;",
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units",
        ),
    ],
)
def test_parse_html_refuses_like_telegram(html: str, detail: str) -> None:
    """Bad markup is refused with Telegram's wording and UTF-8 byte offsets."""
    with pytest.raises(Rejected) as caught:
        parse_html(html)
    assert (caught.value.code, caught.value.description) == (400, _PARSE + detail)


@pytest.mark.parametrize(
    "entity",
    [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "bold", "offset": 2, "length": 3},
        {"type": "text_link", "offset": 0, "length": 1, "url": "tg://user?id=1"},
        {"type": "text_link", "offset": 0, "length": 1, "url": "mailto:a@b.c"},
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
    ],
)
def test_check_entities_accepts_valid_entities(entity: dict[str, Any]) -> None:
    """Entities inside the text with sound fields pass."""
    check_entities("ab😀c", [entity])


@pytest.mark.parametrize(
    ("entity", "fragment"),
    [
        ({"type": "boldish", "offset": 0, "length": 1}, "Unsupported entity type"),
        ({"type": "bold", "offset": -1, "length": 1}, "Invalid entity offset"),
        ({"type": "bold", "offset": 0, "length": 0}, "Invalid entity offset"),
        ({"type": "bold", "offset": 0, "length": 6}, "beyond the end of text"),
        ({"type": "bold", "offset": "0", "length": 1}, "must be integers"),
        ({"type": "bold", "offset": 0, "length": True}, "must be integers"),
        ({"type": "bold", "offset": 3, "length": 1}, "surrogate pair"),
        ({"type": "bold", "offset": 0, "length": 3}, "surrogate pair"),
        ({"type": "pre", "offset": 0, "length": 1, "language": 3}, "language"),
    ],
)
def test_check_entities_refuses_bad_entities(entity: dict[str, Any], fragment: str) -> None:
    """Out-of-range, split-surrogate, unknown or malformed entities are refused."""
    with pytest.raises(Rejected) as caught:
        check_entities("ab😀c", [entity])
    assert caught.value.code == 400
    assert caught.value.description.startswith(_PARSE)
    assert fragment in caught.value.description


# Telegram's text-link rule: TDLib's LinkManager::check_link (see telegram_rules).
_ACCEPTED_LINKS = [
    ("https://e.org", "https://e.org/"),
    ("HTTP://News.Example/Path?q=1#top", "http://news.example/Path?q=1#top"),
    ("e.org/a b", "http://e.org/a%20b"),
    ("http://127.0.0.1:8080/item", "http://127.0.0.1:8080/item"),
    ("http://[::1]/x", "http://[::1]/x"),
    ("https://例子.测试/路径", "https://例子.测试/路径"),
    ("mailto:x@y.org", "http://mailto:x@y.org/"),  # read as user info "mailto:x", host y.org
    ("tg://user?id=1", "tg://user?id=1"),
    ("tg://resolve?domain=news", "tg://resolve?domain=news"),
]
_REFUSED_LINKS = [
    ("http://localhost/x", "Wrong HTTP URL"),
    ("localhost", "Wrong HTTP URL"),
    ("https://intranet:8443/", "Wrong HTTP URL"),
    ("mailto:x@localhost", "Wrong HTTP URL"),
    ("mailto:?subject=Hi&body=https://e.org/a", "Wrong port number specified in the URL"),
    ("mailto:editor", "Wrong port number specified in the URL"),
    ("javascript:alert(1)", "Wrong port number specified in the URL"),
    ("http://e.org:99999/", "Wrong port number specified in the URL"),
    ("ftp://e.org/file", "Unsupported URL protocol"),
    ("/relative/path", "URL host is empty"),
    ("", "URL host is empty"),
    ("http://e .org/", "Disallowed character in URL host"),
    ("http://[zz]/", "Wrong IPv6 address specified in the URL"),
    ("tg://resolve:80?domain=news", "Wrong tg URL"),
    ("tg://a.b", "Unallowed characters in URL host"),
]


@pytest.mark.parametrize(("url", "stored"), _ACCEPTED_LINKS)
def test_check_link_accepts_and_normalises(url: str, stored: str) -> None:
    """http(s) URLs with a dotted host, and deep links, pass and return as Telegram stores them."""
    assert check_link(url) == stored


@pytest.mark.parametrize(("url", "reason"), _REFUSED_LINKS)
def test_check_link_refuses_with_tdlib_reason(url: str, reason: str) -> None:
    """Other schemes, dotless hosts and malformed URLs fail with TDLib's reason."""
    with pytest.raises(LinkError) as caught:
        check_link(url)
    assert str(caught.value) == reason


# TDLib's own table for check_link (tdlib/td test/link.cpp, TEST(Link, check_link)); "" = refused.
_TDLIB_TABLE = [
    ("sftp://google.com", ""),
    ("tg://google_com", "tg://google_com/"),
    ("tOn://google", "ton://google/"),
    ("httP://google.com?1#tes", "http://google.com/?1#tes"),
    ("httPs://google.com/?1#tes", "https://google.com/?1#tes"),
    ("http://google.com:0", ""),
    ("http://google.com:0000000001", "http://google.com:1/"),
    ("http://google.com:-1", ""),
    ("tg://google?1#tes", "tg://google?1#tes"),
    ("tg://google/?1#tes", "tg://google?1#tes"),
    ("TG:_", "tg://_/"),
    ("http:google.com", ""),
    ("tg://http://google.com", ""),
    ("tg:http://google.com", ""),
    ("tg:https://google.com", ""),
    ("tg:test@google.com", ""),
    ("tg:google.com:80", ""),
    ("tg:google-com", "tg://google-com/"),
    ("tg:google.com", ""),
    ("tg:google.com:0", ""),
    ("tg:google.com:a", ""),
    ("tg:[2001:db8:0:0:0:ff00:42:8329]", ""),
    ("tg:127.0.0.1", ""),
    ("http://[2001:db8:0:0:0:ff00:42:8329]", "http://[2001:db8:0:0:0:ff00:42:8329]/"),
    ("http://localhost", ""),
    ("http://..", "http://../"),
    ("..", "http://../"),
    ("https://.", ""),
    ("tOnSiTe://google", "tonsite://google/"),
    ("tOnSiTe://google.ton?t=1#we", "tonsite://google.ton?t=1#we"),
]


@pytest.mark.parametrize(("url", "expected"), _TDLIB_TABLE)
def test_check_link_matches_tdlib_own_table(url: str, expected: str) -> None:
    """The port gives TDLib's answers on TDLib's own check_link test cases."""
    try:
        stored = check_link(url)
    except LinkError:
        stored = ""
    assert stored == expected


@pytest.mark.parametrize(
    ("entity", "description"),
    [
        (
            {"type": "text_link", "offset": 0, "length": 1},
            "Bad Request: can't parse MessageEntity: Can't find field \"url\"",
        ),
        (
            {"type": "text_link", "offset": 0, "length": 1, "url": ["x"]},
            'Bad Request: can\'t parse MessageEntity: Field "url" must be of type String',
        ),
        (
            {"type": "text_link", "offset": 0, "length": 1, "url": "javascript:x"},
            "Bad Request: entity URL 'javascript:x' is invalid: "
            "Wrong port number specified in the URL",
        ),
    ],
)
def test_check_entities_refuses_bad_text_links(entity: dict[str, Any], description: str) -> None:
    """A text link without a usable URL is refused in the Bot API's words."""
    with pytest.raises(Rejected) as caught:
        check_entities("ab😀c", [entity])
    assert (caught.value.code, caught.value.description) == (400, description)


def test_check_entities_caps_the_count_at_100() -> None:
    """A hundred entities pass and the hundred-and-first is refused."""
    text = "x" * 101
    entities = [{"type": "bold", "offset": i, "length": 1} for i in range(101)]
    check_entities(text, entities[:100])
    with pytest.raises(Rejected, match=r"too many entities"):
        check_entities(text, entities)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("", "Bad Request: message text is empty"),
        (" \n\t", "Bad Request: message text is empty"),
        ("x" * 4097, "Bad Request: message is too long"),
        ("😀" * 2049, "Bad Request: message is too long"),
    ],
)
def test_check_text_limits(text: str, description: str) -> None:
    """Empty and over-long texts are refused with Telegram's words."""
    with pytest.raises(Rejected) as caught:
        check_text(text, [])
    assert caught.value.description == description


def test_check_text_accepts_the_maximum() -> None:
    """Exactly 4096 UTF-16 units is allowed."""
    check_text("😀" * 2048, [{"type": "bold", "offset": 4094, "length": 2}])


def test_check_caption_limits() -> None:
    """Captions may be empty, hold 1024 units, and no more."""
    check_caption("", [])
    check_caption("中" * 1024, [])
    with pytest.raises(Rejected, match=r"message caption is too long"):
        check_caption("中" * 1025, [])
    with pytest.raises(Rejected, match=r"beyond the end"):
        check_caption("ab", [{"type": "bold", "offset": 1, "length": 2}])


# --- the server, driven by the real python-telegram-bot client --------------------------------


def _bot(fake: FakeBotAPI, token: str | None = None) -> Bot:
    """A real PTB bot pointed at the fake, ignoring any proxy settings for loopback."""
    return Bot(
        token or fake.token,
        base_url=f"{fake.base_url}/bot",
        base_file_url=f"{fake.base_url}/file/bot",
        request=HTTPXRequest(httpx_kwargs={"trust_env": False}),
        get_updates_request=HTTPXRequest(httpx_kwargs={"trust_env": False}),
    )


@pytest.fixture
async def bot(bot_api: FakeBotAPI) -> AsyncIterator[Bot]:
    """An initialised PTB bot talking to the per-test fake."""
    async with _bot(bot_api) as client:
        yield client


@pytest.fixture
async def clocked() -> AsyncIterator[tuple[FakeBotAPI, ManualClock]]:
    """A fake whose rate limits run on a hand-moved clock."""
    clock = ManualClock()
    fake = FakeBotAPI(clock=clock)
    await fake.start()
    try:
        yield fake, clock
    finally:
        await fake.stop()


async def test_send_message_is_recorded(bot_api: FakeBotAPI, bot: Bot) -> None:
    """An accepted message comes back as a Message and is recorded with its entities."""
    bot_api.add_chat(42)
    message = await bot.send_message(
        42, "<b>新闻</b> 😀 <a href='https://e.org'>x</a>", parse_mode="HTML"
    )
    assert message.text == "新闻 😀 x"
    assert message.from_user is not None
    assert message.from_user.username == bot_api.bot_username
    [sent] = bot_api.sent_to(42)
    assert (sent.method, sent.message_id, sent.text) == (
        "sendMessage",
        message.message_id,
        "新闻 😀 x",
    )
    assert sent.entities == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "text_link", "offset": 6, "length": 1, "url": "https://e.org/"},
    ]


async def test_explicit_entities_and_preview_options_are_recorded(
    bot_api: FakeBotAPI, bot: Bot
) -> None:
    """Entities and link preview options arrive JSON-encoded and are kept as sent."""
    bot_api.add_chat(42)
    await bot.send_message(
        42,
        "中文 title",
        entities=[MessageEntity("bold", 0, 2)],
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    [sent] = bot_api.sent
    assert sent.entities == [{"type": "bold", "offset": 0, "length": 2}]
    assert sent.link_preview_options == {"is_disabled": True}


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (
            {"text": "Hello world <p>x</p>", "parse_mode": "HTML"},
            'Unsupported start tag "p" at byte offset 12',
        ),
        ({"text": "<b>x", "parse_mode": "HTML"}, "Can't find end tag"),
        ({"text": "x" * 4097}, "Message is too long"),
        ({"text": "   "}, "Message text is empty"),
        ({"text": "abc", "entities": [MessageEntity("bold", 2, 2)]}, "beyond the end of text"),
        ({"text": "a😀", "entities": [MessageEntity("bold", 0, 2)]}, "surrogate pair"),
        ({"text": "x", "parse_mode": "MarkdownV2"}, "not supported by the fake"),
        (
            {
                "text": "x",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("b", callback_data="d" * 65)]]
                ),
            },
            "Button_data_invalid",
        ),
        (
            {
                "text": "x",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("b", url="javascript:x")]]
                ),
            },
            "Button_url_invalid",
        ),
        ({"text": "x", "message_thread_id": 7}, "Message thread not found"),
    ],
)
async def test_send_message_refusals(
    bot_api: FakeBotAPI, bot: Bot, kwargs: dict[str, Any], fragment: str
) -> None:
    """Content Telegram refuses raises BadRequest in PTB and is logged as a refusal, not a send."""
    bot_api.add_chat(42)
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(42, **kwargs)
    assert (
        fragment.lower() in caught.value.message.lower()
    )  # PTB lower-cases after the first letter
    assert bot_api.sent == []
    assert [(r.method, r.chat_id, r.code) for r in bot_api.rejected] == [("sendMessage", 42, 400)]


@pytest.mark.parametrize(("url", "stored"), _ACCEPTED_LINKS)
async def test_text_link_telegram_accepts(
    bot_api: FakeBotAPI, bot: Bot, url: str, stored: str
) -> None:
    """A text link with a URL Telegram accepts is sent, its URL stored as Telegram stores it."""
    bot_api.add_chat(42)
    message = await bot.send_message(42, "link", entities=[MessageEntity("text_link", 0, 4, url)])
    assert [e.url for e in message.entities] == [stored]
    assert bot_api.sent[0].entities == [
        {"type": "text_link", "offset": 0, "length": 4, "url": stored}
    ]


@pytest.mark.parametrize(("url", "reason"), _REFUSED_LINKS)
async def test_text_link_telegram_refuses(
    bot_api: FakeBotAPI, bot: Bot, url: str, reason: str
) -> None:
    """A text link, in a text or a caption, with a URL Telegram refuses fails the whole send."""
    bot_api.add_chat(42)
    link = [MessageEntity("text_link", 0, 4, url)]
    with pytest.raises(BadRequest):
        await bot.send_message(42, "link", entities=link)
    with pytest.raises(BadRequest):
        await bot.send_photo(42, "https://img.example/1.jpg", caption="link", caption_entities=link)
    description = f"Bad Request: entity URL '{url}' is invalid: {reason}"
    assert [(r.method, r.description) for r in bot_api.rejected] == [
        ("sendMessage", description),
        ("sendPhoto", description),
    ]
    assert bot_api.sent == []


async def test_html_link_telegram_refuses_is_dropped(bot_api: FakeBotAPI, bot: Bot) -> None:
    """In HTML mode Telegram drops a link it refuses and keeps its text; the send succeeds."""
    bot_api.add_chat(42)
    html = '<a href="http://localhost/x">here</a> and <a href="https://e.org">there</a>'
    message = await bot.send_message(42, html, parse_mode="HTML")
    assert message.text == "here and there"
    assert bot_api.sent[0].entities == [
        {"type": "text_link", "offset": 9, "length": 5, "url": "https://e.org/"}
    ]


async def test_unknown_chat_is_not_found(bot_api: FakeBotAPI, bot: Bot) -> None:
    """A chat nobody registered or wrote in does not exist."""
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(-100123, "x")


async def test_known_forum_topic_is_accepted(bot_api: FakeBotAPI, bot: Bot) -> None:
    """A send into an open topic of a forum carries its thread id."""
    bot_api.add_chat(-1001, "supergroup", title="Forum", is_forum=True)
    bot_api.add_topic(-1001, 5)
    message = await bot.send_message(-1001, "x", message_thread_id=5)
    assert message.message_thread_id == 5
    assert bot_api.sent[0].message_thread_id == 5


async def test_wrong_token_is_invalid(bot_api: FakeBotAPI) -> None:
    """Any token but the fake's own is refused as unauthorized."""
    with pytest.raises(InvalidToken):
        await _bot(bot_api, "999:nope").get_me()


async def test_private_chat_rate_limit(clocked: tuple[FakeBotAPI, ManualClock]) -> None:
    """Three quick messages pass, the fourth gets a 429 until a second has passed."""
    fake, clock = clocked
    fake.add_chat(7)
    async with _bot(fake) as client:
        for n in range(3):
            await client.send_message(7, f"m{n}")
        with pytest.raises(RetryAfter) as caught:
            await client.send_message(7, "too fast")
        assert "retry in 1 seconds" in caught.value.message.lower()
        fake.add_chat(8)
        await client.send_message(8, "another chat has its own budget")
        clock.advance(1.0)
        await client.send_message(7, "after a second")
    assert [s.text for s in fake.sent_to(7)] == ["m0", "m1", "m2", "after a second"]
    assert fake.rejected[-1].description == "Too Many Requests: retry after 1"


async def test_group_rate_limit_is_twenty_a_minute(clocked: tuple[FakeBotAPI, ManualClock]) -> None:
    """A group takes 20 messages a minute even when paced at one a second."""
    fake, clock = clocked
    fake.add_chat(-5, "group", title="G")
    async with _bot(fake) as client:
        for n in range(20):
            await client.send_message(-5, f"m{n}")
            clock.advance(1.0)
        with pytest.raises(RetryAfter) as caught:
            await client.send_message(-5, "one too many")
    assert "retry in 40 seconds" in caught.value.message.lower()


async def test_global_rate_limit_is_thirty_a_second(
    clocked: tuple[FakeBotAPI, ManualClock],
) -> None:
    """Thirty different chats in one second pass; the thirty-first waits."""
    fake, _clock = clocked
    async with _bot(fake) as client:
        for chat_id in range(1, 32):
            fake.add_chat(chat_id)
        for chat_id in range(1, 31):
            await client.send_message(chat_id, "x")
        with pytest.raises(RetryAfter):
            await client.send_message(31, "x")


@pytest.mark.parametrize(
    ("code", "description", "parameters", "error"),
    [
        (403, "Forbidden: bot was blocked by the user", None, Forbidden),
        (
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": -1009},
            ChatMigrated,
        ),
        (429, "Too Many Requests: retry after 7", {"retry_after": 7}, RetryAfter),
        (500, "Internal Server Error", None, NetworkError),
    ],
)
async def test_scripted_failures(  # noqa: PLR0917 -- pytest passes parameters by position
    bot_api: FakeBotAPI,
    bot: Bot,
    code: int,
    description: str,
    parameters: dict[str, int] | None,
    error: type[TelegramError],
) -> None:
    """A scripted failure hits the next matching call only, as the right PTB exception."""
    bot_api.add_chat(42)
    bot_api.fail_next(
        "sendMessage", chat_id=42, code=code, description=description, parameters=parameters
    )
    with pytest.raises(error):
        await bot.send_message(42, "x")
    await bot.send_message(42, "y")
    assert [s.text for s in bot_api.sent] == ["y"]
    assert bot_api.rejected == [Refusal("sendMessage", 42, code, description)]


async def test_migrated_and_kicked_chats_refuse_sends(bot_api: FakeBotAPI, bot: Bot) -> None:
    """A migrated group names its successor; a blocking user makes sends Forbidden."""
    bot_api.add_chat(-5, "group", title="G")
    bot_api.migrate_chat(-5, -1005)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-5, "x")
    assert caught.value.new_chat_id == -1005
    await bot.send_message(-1005, "x")
    bot_api.add_chat(9)
    bot_api.bot_kicked(9)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(9, "x")
    [update] = await bot.get_updates(timeout=0)
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"


async def test_get_updates_delivers_commands(bot_api: FakeBotAPI, bot: Bot) -> None:
    """A user's /command arrives with a bot_command entity, and the offset confirms it."""
    update_id = bot_api.user_sends(
        -1001, f"/sub@{bot_api.bot_username} https://e.org/feed", user_id=77
    )
    [update] = await bot.get_updates(timeout=0)
    assert update.update_id == update_id
    assert update.message is not None
    assert update.message.chat.type == "supergroup"
    assert update.message.parse_entities([MessageEntity.BOT_COMMAND]) == {
        MessageEntity("bot_command", 0, 17): f"/sub@{bot_api.bot_username}"
    }
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    await bot.send_message(-1001, "the chat is now known")


async def test_long_poll_wakes_when_a_user_writes(bot_api: FakeBotAPI, bot: Bot) -> None:
    """A waiting getUpdates answers as soon as an update arrives, well before its timeout."""
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await bot_api.wait_for_calls("getUpdates", 1)
    bot_api.user_sends(5, "hello")
    updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates if u.message] == ["hello"]


async def test_second_poller_terminates_the_first(bot_api: FakeBotAPI, bot: Bot) -> None:
    """Two concurrent getUpdates: the older is answered 409 Conflict."""
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await bot_api.wait_for_calls("getUpdates", 1)
    async with _bot(bot_api) as other:
        second = asyncio.create_task(other.get_updates(timeout=30))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
            await asyncio.wait_for(first, 5)
        bot_api.user_sends(5, "hi")
        assert len(await asyncio.wait_for(second, 5)) == 1


@pytest.mark.parametrize(
    ("url", "secret", "refusal"),
    [
        ("http://bot.example/hook", None, "HTTPS URL must be provided"),
        ("https://bot.example:9000/hook", None, "ports 80, 88, 443 or 8443"),
        ("https://bot.example/hook", "has space", "unallowed characters"),
    ],
)
async def test_set_webhook_refuses_what_telegram_refuses(
    bot_api: FakeBotAPI, bot: Bot, url: str, secret: str | None, refusal: str
) -> None:
    """setWebhook takes only https on Telegram's four ports, and a secret of allowed characters."""
    with pytest.raises(BadRequest, match=f"(?i){refusal}"):
        await bot.set_webhook(url, secret_token=secret)
    assert bot_api.webhook_url == ""


async def test_webhook_set_means_no_get_updates(bot_api: FakeBotAPI, bot: Bot) -> None:
    """While a webhook is set getUpdates is a 409; after deleteWebhook it works again."""
    assert await bot.set_webhook("https://bot.example/hook", secret_token="abc")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert (await bot.get_webhook_info()).url == "https://bot.example/hook"
    assert await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_photos(bot_api: FakeBotAPI, bot: Bot) -> None:
    """Photo URLs must be absolute http(s) and not refused; uploads are accepted too."""
    bot_api.add_chat(42)
    bot_api.refuse_photo_url("https://img.example/bad/")
    message = await bot.send_photo(
        42, "https://img.example/ok.jpg", caption="<i>c</i>", parse_mode="HTML"
    )
    assert message.photo
    assert message.caption == "c"
    await bot.send_photo(42, b"\x89PNG fake", filename="p.png")
    for photo in ("https://img.example/bad/1.jpg", "img.example/no-scheme.jpg"):
        with pytest.raises(BadRequest, match=r"(?i)Wrong file identifier/http url specified"):
            await bot.send_photo(42, photo)
    with pytest.raises(BadRequest, match=r"(?i)Message caption is too long"):
        await bot.send_photo(42, "https://img.example/ok.jpg", caption="字" * 1025)
    assert [s.photos for s in bot_api.sent] == [["https://img.example/ok.jpg"], ["upload:p.png"]]
    assert bot_api.sent[0].caption_entities == [{"type": "italic", "offset": 0, "length": 1}]


async def test_media_group(bot_api: FakeBotAPI, bot: Bot) -> None:
    """An album holds 2-10 photos and each item's caption is checked."""
    bot_api.add_chat(42)
    urls = [f"https://img.example/{n}.jpg" for n in range(11)]
    messages = await bot.send_media_group(
        42,
        [InputMediaPhoto(urls[0], caption="<b>t</b>", parse_mode="HTML"), InputMediaPhoto(urls[1])],
    )
    assert len(messages) == 2
    assert messages[0].media_group_id == messages[1].media_group_id
    [sent] = bot_api.sent
    assert (sent.photos, sent.caption, sent.message_ids) == (
        urls[:2],
        "t",
        [m.message_id for m in messages],
    )
    for count in (1, 11):
        with pytest.raises(BadRequest, match=r"(?i)2-10 items"):
            await bot.send_media_group(42, [InputMediaPhoto(u) for u in urls[:count]])
    with pytest.raises(BadRequest, match=r"(?i)Unsupported start tag"):
        await bot.send_media_group(
            42,
            [InputMediaPhoto(urls[0], caption="<p>", parse_mode="HTML"), InputMediaPhoto(urls[1])],
        )


async def test_documents_both_ways(bot_api: FakeBotAPI, bot: Bot) -> None:
    """Uploads are recorded byte for byte; a user's document downloads via getFile."""
    bot_api.add_chat(42)
    await bot.send_document(42, b"<opml/>", filename="feeds.opml", caption="export")
    [sent] = bot_api.sent
    assert (sent.document_name, sent.document_bytes, sent.caption) == (
        "feeds.opml",
        b"<opml/>",
        "export",
    )
    bot_api.user_sends(42, None, document=("mine.opml", "<opml>中</opml>".encode()))
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.document is not None
    file = await bot.get_file(update.message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == "<opml>中</opml>".encode()
    with pytest.raises(BadRequest, match=r"(?i)Invalid file_id"):
        await bot.get_file("nope")


def test_users_cannot_send_what_telegram_clients_cannot(bot_api: FakeBotAPI) -> None:
    """Texts over 4096 units, captions over 1024 and callback data over 64 bytes never arrive."""
    bot_api.add_chat(42)
    bot_api.user_sends(42, "/sub " + "x" * 4091)
    with pytest.raises(ValueError, match="4096"):
        bot_api.user_sends(42, "/sub " + "x" * 4092)
    with pytest.raises(ValueError, match="1024"):
        bot_api.user_sends(42, caption="😀" * 513, document=("a.opml", b"<opml/>"))
    bot_api.user_presses(42, 1, "x" * 64)  # message 1 is the first /sub above
    for data in ("", "é" * 33):
        with pytest.raises(ValueError, match="1-64 bytes"):
            bot_api.user_presses(42, 1, data)


async def test_callback_queries_and_edits(bot_api: FakeBotAPI, bot: Bot) -> None:
    """A button press arrives as a callback query; answers, edits and deletes are checked."""
    bot_api.add_chat(42)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("删除", callback_data="del:1")]])
    message = await bot.send_message(42, "pick", reply_markup=keyboard)
    bot_api.user_presses(42, message.message_id, "del:1", user_id=42)
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query is not None
    assert update.callback_query.data == "del:1"
    await bot.answer_callback_query(update.callback_query.id, text="done")
    assert bot_api.callback_answers[0]["text"] == "done"
    with pytest.raises(BadRequest, match=r"(?i)Query is too old"):
        await bot.answer_callback_query(update.callback_query.id)
    with pytest.raises(BadRequest, match=r"(?i)Message is not modified"):
        await bot.edit_message_text(
            "pick", chat_id=42, message_id=message.message_id, reply_markup=keyboard
        )
    await bot.edit_message_text("picked", chat_id=42, message_id=message.message_id)
    assert bot_api.edits[0].text == "picked"
    await bot.delete_message(42, message.message_id)
    with pytest.raises(BadRequest, match=r"(?i)Message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=message.message_id)


async def test_commands_chat_and_members(bot_api: FakeBotAPI, bot: Bot) -> None:
    """Command lists round-trip and chats and members read back in PTB's types."""
    await bot.set_my_commands([BotCommand("sub", "Subscribe"), BotCommand("list", "订阅列表")])
    assert [c.command for c in await bot.get_my_commands()] == ["sub", "list"]
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    bot_api.add_chat(-1001, "supergroup", title="News", admins=[1, 2])
    chat = await bot.get_chat(-1001)
    assert (chat.title, chat.type) == ("News", "supergroup")
    assert (await bot.get_chat_member(-1001, 2)).status == "administrator"
    assert (await bot.get_chat_member(-1001, 3)).status == "member"
    assert [m.status for m in await bot.get_chat_administrators(-1001)] == [
        "creator",
        "administrator",
    ]


async def test_command_menus_by_scope_and_language(bot_api: FakeBotAPI, bot: Bot) -> None:
    """Menus are kept per scope and language; a regional code, an unknown chat or a chat
    scope Telegram does not allow in a private chat is refused."""
    bot_api.add_chat(42)
    await bot.set_my_commands([BotCommand("sub", "订阅")], language_code="zh")
    await bot.set_my_commands([BotCommand("stats", "numbers")], scope=BotCommandScopeChat(42))
    assert bot_api.commands_for(language_code="zh") == ["sub"]
    assert bot_api.commands_for() == []
    assert bot_api.commands_for({"type": "chat", "chat_id": 42}) == ["stats"]
    with pytest.raises(BadRequest, match=r"(?i)invalid language code"):
        await bot.set_my_commands([BotCommand("sub", "订阅")], language_code="zh-hans")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands([BotCommand("sub", "x")], scope=BotCommandScopeChat(43))
    with pytest.raises(BadRequest, match=r"(?i)private chat"):
        await bot.set_my_commands(
            [BotCommand("sub", "x")], scope=BotCommandScopeChatAdministrators(42)
        )


async def test_edits_count_against_the_flood_limits(
    clocked: tuple[FakeBotAPI, ManualClock],
) -> None:
    """Editing a message over and over meets the same 429 as sending; a refused "not
    modified" edit costs nothing."""
    fake, clock = clocked
    fake.add_chat(7)
    async with _bot(fake) as client:
        message = await client.send_message(7, "0/9")
        for n in range(1, 3):
            await client.edit_message_text(f"{n}/9", chat_id=7, message_id=message.message_id)
        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await client.edit_message_text("2/9", chat_id=7, message_id=message.message_id)
        with pytest.raises(RetryAfter):
            await client.edit_message_text("3/9", chat_id=7, message_id=message.message_id)
        clock.advance(1.0)
        await client.edit_message_text("3/9", chat_id=7, message_id=message.message_id)
    assert [edit.text for edit in fake.edits] == ["1/9", "2/9", "3/9"]


async def test_raw_requests(bot_api: FakeBotAPI) -> None:
    """JSON bodies are understood, and unknown methods answer 404 Not Found."""
    bot_api.add_chat(42)
    async with httpx.AsyncClient(
        base_url=f"{bot_api.base_url}/bot{bot_api.token}", trust_env=False
    ) as client:
        ok = await client.post(
            "/sendMessage",
            json={
                "chat_id": 42,
                "text": "json",
                "entities": [{"type": "bold", "offset": 0, "length": 4}],
            },
        )
        missing = await client.post("/sendTelepathy", data={"chat_id": "42"})
    assert ok.json()["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    assert (missing.status_code, missing.json()["description"]) == (404, "Not Found")


async def test_wait_for_sent_reports_refusals(bot_api: FakeBotAPI, bot: Bot) -> None:
    """A wait that times out says what was refused, and never leaks the token."""
    bot_api.add_chat(42)
    with pytest.raises(BadRequest):
        await bot.send_message(42, "<p>", parse_mode="HTML")
    with pytest.raises(AssertionError, match=r"(?i)Unsupported start tag") as caught:
        await bot_api.wait_for_sent(42, 1, timeout=0.05)
    assert bot_api.token not in str(caught.value)


@pytest.mark.parametrize(
    ("entities", "problem"),
    [
        ([("bold", 0, 10), ("italic", 2, 3)], None),
        ([("blockquote", 0, 10), ("code", 2, 3)], None),
        ([("text_link", 0, 10), ("bold", 0, 10)], None),
        ([("code", 0, 10), ("text_link", 2, 3)], "text_link inside code"),
        ([("code", 0, 10), ("bold", 2, 3)], "bold inside code"),
        ([("text_link", 0, 10), ("code", 2, 3)], "code inside text_link"),
        ([("blockquote", 0, 10), ("blockquote", 2, 3)], "blockquote inside blockquote"),
        ([("bold", 0, 5), ("italic", 3, 2), ("underline", 4, 4)], "bold and underline cross"),
    ],
)
def test_nesting_rules(entities: list[tuple[str, int, int]], problem: str | None) -> None:
    """The Bot API's nesting rules: styles nest freely, nothing inside code, no quote in a quote."""
    as_json = [{"type": t, "offset": o, "length": n} for t, o, n in entities]
    assert nesting_problem(as_json) == problem
