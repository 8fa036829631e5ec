"""End to end: /pause, /resume (with and without backlog), /lang, /stats, /export and /import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.opml import Outline, read_opml, write_opml
from tests.fakes.bot_api import FakeBotAPI, SentMessage
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

CHAT = 9090
OTHER = 9191
START = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)


def _feed(feeds: FeedServer, path: str, title: str, count: int) -> str:
    """Serve a text-only feed of ``count`` stories (story 0 oldest) and return its URL."""
    items = [
        Item(
            guid=f"{path}-{n}",
            title=f"{title} story {n}",
            link=f"https://news.example{path}/{n}",
            description_html=f"<p>Story {n} of {title}.</p>",
            pub_date=START + timedelta(minutes=n),
        )
        for n in range(count)
    ]
    feeds.put(path, rss(title, items[::-1]))
    return feeds.url(path)


def _texts(messages: list[SentMessage]) -> list[str]:
    return [m.text or m.caption or "" for m in messages]


def _count(messages: list[SentMessage], needle: str) -> int:
    return sum(needle in text for text in _texts(messages))


async def _upload(
    api: FakeBotAPI, chat_id: int, name: str, data: bytes, caption: str | None = "/import"
) -> SentMessage:
    """A user sends a file (captioned /import by default); returns the bot's next message."""
    before = len(api.sent_to(chat_id))
    api.user_sends(chat_id, document=(name, data), caption=caption)
    return (await api.wait_for_sent(chat_id, before + 1))[before]


async def _bot(factory: HarnessFactory, **sections: dict[str, object]) -> BotHarness:
    return await factory(delivery={"backlog_on_subscribe": 0}, **sections)


async def test_plain_resume_skips_entries_from_the_pause(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Entries published while paused never arrive after /resume; later ones do."""
    harness = await _bot(bot_factory)
    url = _feed(feed_server, "/a.xml", "Alpha", 1)
    await harness.command(CHAT, f"/sub {url}")
    paused = await harness.command(CHAT, "/pause 1")
    assert "Paused Alpha (#1)" in (paused.text or "")
    assert "paused" in ((await harness.command(CHAT, "/list")).text or "")
    _feed(feed_server, "/a.xml", "Alpha", 2)
    await harness.poll()
    resumed = await harness.command(CHAT, "/resume #1")
    assert "skipped" in (resumed.text or "")
    _feed(feed_server, "/a.xml", "Alpha", 3)
    await harness.poll()
    await harness.settle()
    sent = bot_api.sent_to(CHAT)
    assert _count(sent, "Alpha story 2") == 1
    assert _count(sent, "Alpha story 1") == 0
    assert bot_api.rejected == []


async def test_resume_all_with_backlog_sends_the_pause_once(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A shared feed (polled during the pause) and a feed only this chat follows both backfill."""
    harness = await _bot(bot_factory)
    shared = _feed(feed_server, "/x.xml", "Shared", 1)
    own = _feed(feed_server, "/y.xml", "Own", 1)
    await harness.command(CHAT, f"/sub {shared} {own}")
    await harness.command(OTHER, f"/sub {shared}")
    paused = await harness.command(CHAT, "/pause all")
    assert "Paused 2 subscriptions" in (paused.text or "")
    _feed(feed_server, "/x.xml", "Shared", 2)
    _feed(feed_server, "/y.xml", "Own", 2)
    await harness.poll()
    await harness.settle()
    assert _count(bot_api.sent_to(OTHER), "Shared story 1") == 1
    assert _count(bot_api.sent_to(CHAT), "story 1") == 0
    resumed = await harness.command(CHAT, "/resume all backlog")
    assert "Resumed 2 subscriptions" in (resumed.text or "")
    assert "1 entry from the pause" in (resumed.text or "")
    await harness.settle()
    await harness.poll()
    await harness.settle()
    sent = bot_api.sent_to(CHAT)
    assert _count(sent, "Shared story 1") == 1
    assert _count(sent, "Own story 1") == 1
    assert _count(bot_api.sent_to(OTHER), "Shared story 1") == 1
    assert bot_api.rejected == []


async def test_resume_backlog_is_capped_newest_first_kept(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Of sixty entries from the pause the newest fifty are queued, oldest first, as replied."""
    channel, admin = -100555, 4040
    bot_api.add_chat(channel, "channel", title="Wire", username="wire", admins=[admin])
    bot_api.add_chat(admin, "private")
    harness = await _bot(bot_factory)
    url = _feed(feed_server, "/f.xml", "Flood", 1)
    await harness.command(admin, f"/sub @wire {url}", user_id=admin)
    await harness.command(admin, "/pause @wire 1", user_id=admin)
    _feed(feed_server, "/f.xml", "Flood", 61)
    # Hold the channel's deliveries so the queue can be inspected whole.
    bot_api.flood_next("sendMessage", chat_id=channel, retry_after=3600)
    resumed = await harness.command(admin, "/resume @wire 1 backlog", user_id=admin)
    assert "the newest 50 of 60 entries" in (resumed.text or "")
    assert harness.relay is not None
    rows = await harness.relay.store.pending_outbox(harness.clock() + 86_400, 100)
    queued = [row.message.text for row in rows if row.chat_id == channel]
    assert len(queued) == 50
    assert "Flood story 11" in queued[0]
    assert "Flood story 60" in queued[-1]


async def test_pause_and_resume_bad_input(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """Every wrong use of /pause and /resume gets a one-line reason."""
    harness = await _bot(bot_factory)
    await harness.command(CHAT, f"/sub {_feed(feed_server, '/a.xml', 'Alpha', 1)}")
    # Two chats share the work: each chat's replies are paced at about one a second.
    cases = [
        (OTHER, "/pause", "Usage: /pause"),
        (CHAT, "/pause 9", "No subscription 9"),
        (OTHER, "/resume", "Usage: /resume"),
        (CHAT, "/resume 1", "is not paused"),
        (OTHER, "/resume all", "No paused subscriptions"),
        (CHAT, "/resume 1 later", "Usage: /resume"),
    ]
    for chat_id, text, expected in cases:
        answer = (await harness.command(chat_id, text)).text or ""
        assert expected in answer, (text, answer)
        assert "\n" not in answer
    await harness.command(CHAT, "/pause 1")
    assert "already paused" in ((await harness.command(CHAT, "/pause #1")).text or "")
    resumed = await harness.command(CHAT, "/resume 1 BACKLOG")
    assert "nothing from the pause" in (resumed.text or "")


async def test_group_members_cannot_pause(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """In a group only administrators may pause a subscription."""
    group = -7007
    bot_api.add_chat(group, "supergroup", title="Readers", admins=[1])
    harness = await _bot(bot_factory)
    await harness.command(group, f"/sub {_feed(feed_server, '/a.xml', 'A', 1)}", user_id=1)
    refused = await harness.command(group, "/pause 1", user_id=2)
    assert "administrators" in (refused.text or "")
    assert harness.relay is not None
    subs = await harness.relay.store.list_subscriptions(group)
    assert not subs[0].paused


async def test_lang_switches_the_chat_language(bot_factory: HarnessFactory) -> None:
    """/lang zh makes every later reply Chinese; a bad code gets the usage line."""
    harness = await _bot(bot_factory)
    assert "中文" in ((await harness.command(CHAT, "/lang zh")).text or "")
    assert "取消订阅" in ((await harness.command(CHAT, "/help")).text or "")
    assert "用法：/lang" in ((await harness.command(CHAT, "/lang fr")).text or "")
    assert "now in English" in ((await harness.command(CHAT, "/lang EN")).text or "")
    assert "unsubscribe" in ((await harness.command(CHAT, "/help")).text or "")


async def test_stats_only_for_bot_admins(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """/stats answers the configured admins with the numbers and refuses everyone else."""
    harness = await _bot(bot_factory, telegram={"admins": [CHAT]})
    await harness.command(CHAT, f"/sub {_feed(feed_server, '/a.xml', 'A', 1)}")
    numbers = (await harness.command(CHAT, "/stats")).text or ""
    assert "feeds: 1" in numbers
    assert "subscriptions: 1" in numbers
    assert "chats: 1 (1 active)" in numbers
    refused = await harness.command(OTHER, "/stats")
    assert "administrators" in (refused.text or "")


async def test_export_sends_an_opml_file(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """/export answers with an OPML document listing every subscription; none gives a reason."""
    harness = await _bot(bot_factory)
    assert "No subscriptions" in ((await harness.command(CHAT, "/export")).text or "")
    first = _feed(feed_server, "/a.xml", "Alpha & <Co>", 1)
    second = _feed(feed_server, "/b.xml", "贝塔", 1)
    await harness.command(CHAT, f"/sub {first} {second}")
    sent = await harness.command(CHAT, "/export")
    assert sent.method == "sendDocument"
    assert (sent.document_name or "").endswith(".opml")
    assert "2 subscriptions" in (sent.caption or "")
    document = read_opml(sent.document_bytes or b"", max_outlines=10)
    assert [(o.url, o.title) for o in document.outlines] == [
        (first, "Alpha & <Co>"),
        (second, "贝塔"),
    ]


async def test_import_from_a_captioned_file(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """An OPML file captioned /import subscribes each feed, one reply line per feed."""
    harness = await _bot(bot_factory)
    known = _feed(feed_server, "/known.xml", "Known", 1)
    await harness.command(CHAT, f"/sub {known}")
    fresh = _feed(feed_server, "/fresh.xml", "Fresh", 1)
    feed_server.status("/gone.xml", 404)
    outlines = [
        Outline(fresh, "Fresh"),
        Outline(known),
        Outline(feed_server.url("/gone.xml"), "Gone"),
        Outline("ftp://files.example/feed", "FTP"),
    ]
    data = write_opml("mine", outlines, created=0)
    before = len(bot_api.sent_to(CHAT))
    started = await _upload(bot_api, CHAT, "mine.opml", data)
    assert "Importing 4 feeds" in (started.text or "")
    sent = await bot_api.wait_for_sent(CHAT, before + 2, timeout=30)
    report = sent[before + 1].text or ""
    assert "2 new" not in report
    assert "1 new, 1 already here, 2 failed" in report
    assert "Subscribed to Fresh as #2" in report
    assert "Already subscribed to Known as #1" in report
    assert "not a web address" in report
    assert harness.relay is not None
    urls = [s.url for s in await harness.relay.store.list_subscriptions(CHAT)]
    assert urls == [known, fresh]
    assert bot_api.rejected == []


async def test_import_in_reply_and_refusals(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """/import in reply to a file works; no file, hostile XML and oversized files get reasons."""
    harness = await _bot(bot_factory)
    url = _feed(feed_server, "/a.xml", "Alpha", 1)
    fresh_chat = 9292
    bot_api.user_sends(fresh_chat, document=("a.opml", write_opml("t", [Outline(url)], created=0)))
    started = await harness.command(fresh_chat, "/import", reply_to=1)
    assert "Importing 1 feed…" in (started.text or "")
    done = await bot_api.wait_for_sent(fresh_chat, 2)
    assert "Subscribed to Alpha as #1" in (done[-1].text or "")

    assert "Send an OPML file" in ((await harness.command(CHAT, "/import")).text or "")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;">]><opml><body><outline xmlUrl="&b;"/></body></opml>'
    )
    assert "DOCTYPE" in ((await _upload(bot_api, CHAT, "x.opml", bomb)).text or "")
    huge = b"<opml>" + b" " * (1024 * 1024 + 1) + b"</opml>"
    refused = await _upload(bot_api, CHAT, "h.opml", huge)
    assert "larger than 1024 KB" in (refused.text or "")
    caption = f"/import@{bot_api.bot_username}"
    not_opml = await _upload(bot_api, CHAT, "r.xml", b"<rss/>", caption)
    assert "not an OPML file" in (not_opml.text or "")
    assert harness.relay is not None
    assert await harness.relay.store.list_subscriptions(CHAT) == []


async def test_import_backlog_follows_the_report_promptly(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """The newest entry of an imported feed comes right after the report, not after a hold."""
    harness = await bot_factory(delivery={"backlog_on_subscribe": 1})
    assert harness.relay is not None
    url = _feed(feed_server, "/imp.xml", "Imported", 2)
    started = await _upload(bot_api, CHAT, "i.opml", write_opml("t", [Outline(url)], created=0))
    assert "Importing 1 feed…" in (started.text or "")
    sent = await bot_api.wait_for_sent(CHAT, 3, timeout=10)
    assert "1 new" in (sent[1].text or "")
    assert "Imported story 1" in (sent[2].text or "")
