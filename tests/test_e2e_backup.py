"""End to end: /export is a backup; /import of it restores filters, pauses and display options.

Chat A is set up with commands and buttons as a user would; its export is sent to a
fresh chat B with /import; the two chats are then compared through the store and
through the replies a user reads (/list, the /set keyboards).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.models import Subscription
from bot.opml import Outline, write_opml
from bot.opml_options import NAMESPACE
from tests.corpus import corpus_case
from tests.fakes.bot_api import FakeBotAPI, SentMessage
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

A = 7101
B = 7202
START = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)


def _feed(feeds: FeedServer, path: str, title: str, stories: list[str]) -> str:
    """Serve a feed whose entries have the given titles (the first is the oldest)."""
    items = [
        Item(
            guid=f"{path}-{n}",
            title=story,
            link=f"https://news.example{path}/{n}",
            description_html=f"<p>Summary of {story}. It has two sentences.</p>",
            pub_date=START + timedelta(minutes=n),
        )
        for n, story in enumerate(stories)
    ]
    feeds.put(path, rss(title, items[::-1]))
    return feeds.url(path)


async def _upload(api: FakeBotAPI, chat_id: int, data: bytes) -> list[SentMessage]:
    """A user sends ``data`` captioned /import; returns the bot's next two messages."""
    before = len(api.sent_to(chat_id))
    api.user_sends(chat_id, document=("backup.opml", data), caption="/import")
    return (await api.wait_for_sent(chat_id, before + 2, timeout=30))[before:]


def _state(subscriptions: list[Subscription]) -> list[tuple[object, ...]]:
    """What a backup must carry over, per subscription (ids and feed rows differ by chat)."""
    return [
        (s.number, s.url, s.title, s.filter_expr, s.paused, s.options, s.interval_seconds)
        for s in subscriptions
    ]


async def _set_options(harness: BotHarness, chat_id: int, number: int, presses: list[str]) -> None:
    """/set NUMBER, then press the keyboard's buttons as a user would."""
    assert harness.relay is not None
    sub = await harness.relay.store.get_subscription(chat_id, number)
    assert sub is not None
    shown = await harness.command(chat_id, f"/set {number}")
    for name in presses:
        await harness.press(chat_id, shown.message_id, f"set:{sub.id}:{name}", user_id=chat_id)


def _keyboard(message: SentMessage) -> list[str]:
    assert message.reply_markup is not None
    return [row[0]["text"] for row in message.reply_markup["inline_keyboard"]]


async def test_export_then_import_into_a_fresh_chat_restores_everything(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Must show: /export then /import into a fresh chat restores filters, pause and options."""
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    assert harness.relay is not None
    store = harness.relay.store
    urls = [
        _feed(feed_server, "/world.xml", "World & <Co>", ["Talks resume"]),
        _feed(feed_server, "/cn.xml", "北京新闻", ["乌克兰局势"]),
        _feed(feed_server, "/tech.xml", "Tech “Daily”", ["New chip"]),
    ]
    await harness.command(A, "/sub " + " ".join(urls))
    await harness.command(A, '/filter 1 乌克兰 "peace talks" -/广告\\d+/ +title:"R&D <b>"')
    await harness.command(A, "/filter 2 标题:新闻，俄罗斯、北约 -体育")
    await harness.command(A, '/filter all -"sponsored content" -/^\\[AD\\]/')
    await harness.command(A, "/pause 2")
    await harness.command(A, "/set 3 interval 2h")
    await harness.command(A, "/tz Asia/Shanghai")
    await _set_options(harness, A, 1, ["pictures", "summary"])  # pictures off, summary full
    await _set_options(harness, A, 3, ["album", "preview", "summary", "summary"])  # … none
    before = _state(await store.list_subscriptions(A))
    assert [row[3:] for row in before] != [before[0][3:]] * 3  # three different settings

    exported = await harness.command(A, "/export")
    assert exported.method == "sendDocument"
    report = await _upload(bot_api, B, exported.document_bytes or b"")
    assert "Importing 3 feeds" in (report[0].text or "")
    text = report[1].text or ""
    assert "3 new, 0 already here, 0 failed" in text
    assert "Chat filter restored" in text
    assert "restored for 3 subscriptions (1 paused)" in text
    assert "not restored" not in text

    assert _state(await store.list_subscriptions(B)) == before
    chat_a, chat_b = await store.get_chat(A), await store.get_chat(B)
    assert chat_a is not None
    assert chat_b is not None
    assert chat_b.filter_expr == chat_a.filter_expr != ""
    assert chat_b.timezone == chat_a.timezone == "Asia/Shanghai"
    assert "Time zone restored: Asia/Shanghai" in text
    # A pause runs from when it was made: in B, from the import (what /resume backlog uses).
    since = re.compile(r"paused since [\d: -]+ CST")
    listed_a = since.sub("paused since …", (await harness.command(A, "/list")).text or "")
    listed_b = since.sub("paused since …", (await harness.command(B, "/list")).text or "")
    assert listed_a == listed_b
    assert "⏸ paused since …" in listed_b
    for number in (1, 2, 3):
        shown_a = await harness.command(A, f"/set {number}")
        shown_b = await harness.command(B, f"/set {number}")
        assert _keyboard(shown_a) == _keyboard(shown_b)
    assert bot_api.rejected == []


async def test_the_backlog_of_an_import_follows_the_restored_settings(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """The newest entry after /import skips a paused feed, a filtered one and one the chat
    filter refuses, and comes rendered with the restored summary setting."""
    harness = await bot_factory(delivery={"backlog_on_subscribe": 1})
    paused = _feed(feed_server, "/p.xml", "Paused feed", ["Paused story"])
    filtered = _feed(feed_server, "/f.xml", "Filtered feed", ["Sports results"])
    sponsored = _feed(feed_server, "/c.xml", "Chat-filtered feed", ["Sponsored story"])
    plain = _feed(feed_server, "/s.xml", "Short feed", ["Plain story"])

    def outline(url: str, **values: str) -> Outline:
        return Outline(url, extensions=tuple((f"{{{NAMESPACE}}}{k}", v) for k, v in values.items()))

    data = write_opml(
        "backup",
        [
            outline(paused, paused="true"),
            outline(filtered, filter="-sports"),
            outline(sponsored),
            outline(plain, summary="none", linkPreview="false"),
        ],
        created=0,
        namespaces={"newsrelay": NAMESPACE},
        extensions=((f"{{{NAMESPACE}}}chatFilter", "-sponsored"),),
    )
    report = await _upload(bot_api, B, data)
    assert "restored for 3 subscriptions (1 paused)" in (report[1].text or "")
    await harness.settle()
    delivered = [m.text or m.caption or "" for m in bot_api.sent_to(B)[2:]]
    assert len(delivered) == 1, delivered
    assert "Plain story" in delivered[0]
    assert "Summary of" not in delivered[0]  # summary "none" from the file
    assert bot_api.rejected == []


BAD_FILE = f"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0" xmlns:nr="{NAMESPACE}" nr:chatFilter="&quot;open" nr:timeZone="+8">
<body>
<outline text="One" xmlUrl="URL1" nr:filter="{"x" * 100_000}" nr:summary="long"
         nr:paused="true" nr:pictures="false"/>
<outline text="Two" xmlUrl="URL2" nr:filter="/(a)\\1/ /((a{{30}}){{30}}){{30}}/"
         nr:album="tr&#9;ue" nr:colour="red"/>
<outline text="Three" xmlUrl="URL3" nr:linkPreview="maybe" nr:filter="ok" nr:interval="8d"/>
<outline text="Four &amp; more" type="rss"/>
</body>
</opml>
"""


async def test_hostile_values_are_refused_with_a_line_each_in_the_chats_language(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Huge, control-character and regex-bomb values: one line each, in English or Chinese;
    the values that are fine still apply and every feed is subscribed."""
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    assert harness.relay is not None
    data = BAD_FILE
    for n in (1, 2, 3):
        data = data.replace(f"URL{n}", _feed(feed_server, f"/{n}.xml", f"Feed {n}", ["S"]))
    english = (await _upload(bot_api, A, data.encode()))[1].text or ""
    await harness.command(B, "/lang zh")
    chinese = (await _upload(bot_api, B, data.encode()))[1].text or ""

    assert "3 new, 0 already here, 0 failed" in english
    assert "line 9 (Four & more): left out, it has no feed address (xmlUrl)" in english
    expected_en = [
        "Chat setting newsrelay:chatFilter not restored: a bad filter at character 1: "
        "this quote is never closed",
        "#1 Feed 1: newsrelay:filter not restored: a bad filter at character 1001: "
        "a filter may have at most 1000 characters",
        "#1 Feed 1: newsrelay:summary not restored: “long” is not one of full, short, none",
        "#2 Feed 2: newsrelay:filter not restored: a bad filter at character 1: bad regex: "
        "“\\1” is not a supported escape",
        "#2 Feed 2: newsrelay:album not restored: “tr ue” is not one of true, false",
        "#3 Feed 3: newsrelay:linkPreview not restored: “maybe” is not one of true, false",
        "Chat setting newsrelay:timeZone not restored: “+8” is not a time zone name such as "
        "Asia/Shanghai",
        "#3 Feed 3: newsrelay:interval not restored: 8 days is not between 1 min and 7 days",
    ]
    for line in expected_en:
        assert line in english, line
    assert "restored for 2 subscriptions (1 paused)" in english  # #2: nothing was fine
    assert "colour" not in english
    assert len(english) < 3000

    assert "新增 3 个，已有 0 个，失败 0 个" in chinese
    assert "第 9 行（Four & more）：没有订阅源地址（xmlUrl），已略过" in chinese
    assert (
        "未恢复本聊天的设置 newsrelay:chatFilter：过滤器第 1 个字符处有误：引号没有闭合" in chinese
    )
    assert (
        "#1 Feed 1：未恢复 newsrelay:filter：过滤器第 1001 个字符处有误：过滤器最多 1000 个字符"
        in (chinese)
    )
    assert "“long”不是 full、short、none 之一" in chinese
    assert (
        "未恢复本聊天的设置 newsrelay:timeZone：“+8”不是时区名称（例如 Asia/Shanghai）" in chinese
    )
    assert "未恢复 newsrelay:interval：8 天不在 1 分钟到 7 天之间" in chinese
    assert "已按文件恢复 2 个订阅的设置（过滤器、暂停状态、显示选项），其中 1 个已暂停" in chinese
    words = re.sub(r"newsrelay:\w+|Feed \d|Four & more|xmlUrl|full|short|none", "", chinese)
    words = re.sub(r"“[^”]*”|true|false|XML|OPML|Asia/Shanghai", "", words)
    assert not re.search("[A-Za-z]{2,}", words), words

    store = harness.relay.store
    one, two, three = await store.list_subscriptions(A)
    assert (one.filter_expr, one.paused, one.options.pictures, one.options.summary.value) == (
        "",
        True,
        False,
        "short",
    )
    assert (two.filter_expr, two.options.album) == ("", False)
    assert (three.filter_expr, three.options.link_preview, three.interval_seconds) == (
        "ok",
        True,
        None,
    )
    chat = await store.get_chat(A)
    assert chat is not None
    assert chat.filter_expr == ""
    assert bot_api.rejected == []


async def test_another_apps_file_imports_as_before_and_its_repairs_are_told(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """shared/cases 09 (a podcast app's file, bare & in it): three feeds, nothing restored,
    the two repaired outlines named; a feed the chat already had keeps its own settings."""
    data = corpus_case("09_opml_bare_ampersand.opml").read_text(encoding="utf-8")
    hosts = {
        "https://first.example.com/feed.xml": "/first.xml",
        "https://lrc.example.org/feed": "/lrc.xml",
        "https://www.example.net/lmtyah/?category=Earth-C&format=rss": "/third.xml?c=E&f=rss",
    }
    for host, path in hosts.items():
        feed_server.put(path.split("?")[0], corpus_case("05_slash_date.xml").read_bytes())
        data = data.replace(host, feed_server.url(path))
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    assert harness.relay is not None
    await harness.command(A, f"/sub {feed_server.url('/first.xml')}")
    await harness.command(A, "/filter 1 keep")
    await harness.command(A, "/pause 1")
    text = (await _upload(bot_api, A, data.encode()))[1].text or ""
    assert "2 new, 1 already here, 0 failed" in text
    assert "read leniently" in text
    assert "line 6 (Left, Right & Center): an unescaped “&” was read" in text
    assert "line 7 (Third Show): an unescaped" in text
    assert "restored" not in text
    first, *others = await harness.relay.store.list_subscriptions(A)
    assert (first.filter_expr, first.paused) == ("keep", True)
    assert [(s.filter_expr, s.paused) for s in others] == [("", False), ("", False)]


async def test_importing_a_backup_over_existing_subscriptions_applies_it(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """The file's settings replace a chat's own for the feeds it lists; a feed paused here
    that the file says runs is resumed (the pause's entries skipped, as /resume does)."""
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    assert harness.relay is not None
    url = _feed(feed_server, "/a.xml", "Alpha", ["Old story"])
    await harness.command(A, f"/sub {url}")
    await harness.command(A, "/filter 1 mine")
    await harness.command(A, "/pause 1")
    _feed(feed_server, "/a.xml", "Alpha", ["Old story", "From the pause"])
    await harness.poll()
    backup = Outline(
        url,
        "Alpha",
        extensions=(
            (f"{{{NAMESPACE}}}filter", ""),
            (f"{{{NAMESPACE}}}paused", "false"),
            (f"{{{NAMESPACE}}}summary", "full"),
        ),
    )
    data = write_opml("b", [backup], created=0, namespaces={"newsrelay": NAMESPACE})
    text = (await _upload(bot_api, A, data))[1].text or ""
    assert "0 new, 1 already here, 0 failed" in text
    assert "restored for 1 subscription (0 paused)" in text
    [sub] = await harness.relay.store.list_subscriptions(A)
    assert (sub.filter_expr, sub.paused, sub.options.summary.value) == ("", False, "full")
    _feed(feed_server, "/a.xml", "Alpha", ["Old story", "From the pause", "After"])
    await harness.poll()
    await harness.settle()
    sent = [m.text or "" for m in bot_api.sent_to(A)]
    assert any("After" in t for t in sent)
    assert not any("From the pause" in t for t in sent)


async def test_many_notes_and_refused_values_are_bounded(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Thirty outlines left out and 25 bad values: ten notes and twenty values are named,
    one line each counts the rest."""
    await bot_factory(delivery={"backlog_on_subscribe": 0})
    url = _feed(feed_server, "/a.xml", "Alpha", ["S"])
    body = "".join(f'<outline text="Left {n}" type="rss"/>\n' for n in range(30))
    body += "".join(
        f'<outline text="A" xmlUrl="{url}?n={n}" nr:paused="nope"/>\n' for n in range(25)
    )
    data = f'<opml xmlns:nr="{NAMESPACE}"><body>{body}</body></opml>'
    text = (await _upload(bot_api, A, data.encode()))[1].text or ""
    assert "25 new, 0 already here, 0 failed" in text
    assert text.count("left out, it has no feed address") == 10
    assert "… 20 more notes" in text
    assert text.count("“nope” is not one of true, false") == 20
    assert "… 5 more values not restored" in text


async def test_an_unreadable_file_is_refused_in_the_chats_language(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """Not OPML, a DOCTYPE, broken XML, an unknown encoding: one line each, in Chinese too."""
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(B, "/lang zh")
    files = {
        b"<rss/>": ("this is not an OPML file", "这不是 OPML 文件（根元素不是“opml”）"),
        b"<!DOCTYPE opml><opml/>": ("DOCTYPE and entity declarations", "不接受文档类型"),
        b"<opml><body>": ("not well-formed XML", "这不是格式正确的 XML"),
        b'<?xml version="1.0" encoding="x-nope"?><opml/>': ("encoding", "编码无法识别"),
    }
    for data, (english, chinese) in files.items():
        for chat, expected in ((A, english), (B, chinese)):
            before = len(bot_api.sent_to(chat))
            bot_api.user_sends(chat, document=("x.opml", data), caption="/import")
            [reply] = (await bot_api.wait_for_sent(chat, before + 1))[before:]
            assert expected in (reply.text or ""), reply.text
            if chat == B:
                shown = (reply.text or "").replace("“opml”", "")
                assert not re.search("[a-z]{2,}", shown), shown
