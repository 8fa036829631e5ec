"""End to end: each field case of shared/cases behaves as its README says a user expects.

Feeds are served by the loopback feed server and reach the strict fake Bot API
through the real bot; the cases a user checks by eye (dates, show notes) go
through ``newsrelay preview`` as an operator would run it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.corpus import corpus_case
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.harness import HarnessFactory
from tests.processes import clean_environ

CHAT = 7070


def _texts(api: FakeBotAPI, chat: int) -> list[str]:
    return [m.text or m.caption or "" for m in api.sent_to(chat)]


async def _preview(url: str, cwd: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "preview", url, "-n", "5",
        cwd=cwd, env=clean_environ(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


async def test_01b_utf8_with_broken_bytes_reads_as_russian(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Served with charset=utf-8: every title Russian; the broken bytes are U+FFFD."""
    body = corpus_case("01b_utf8_invalid_bytes_undeclared.xml").read_bytes()
    feed_server.put("/ru.xml", body, "application/rss+xml; charset=utf-8")
    harness = await bot_factory(delivery={"backlog_on_subscribe": 4})
    reply = await harness.command(CHAT, f"/sub {feed_server.url('/ru.xml')}")
    assert "Комментарии к статье" in (reply.text or "")
    await harness.settle()
    texts = _texts(bot_api, CHAT)[1:]
    assert [t.split("\n")[0] for t in texts] == [
        "Новость номер 1: обновление каналов",
        "Новость номер 2: обновление каналов",
        "Новость номер 3: обновление каналов",
        "Комментарий: всё работает",
    ]
    assert "\ufffd \ufffd правильно" in texts[3]
    assert bot_api.rejected == []


async def _second_fetch(
    factory: HarnessFactory, feeds: FeedServer, api: FakeBotAPI, first: str, second: str
) -> list[str]:
    """Subscribe to case ``first`` (its one item sent as backlog), serve ``second`` at the
    same URL, refresh; returns the messages the second fetch sent."""
    feeds.put("/case.xml", corpus_case(first).read_bytes())
    harness = await factory(delivery={"backlog_on_subscribe": 1})
    await harness.command(CHAT, f"/sub {feeds.url('/case.xml')}")
    await harness.settle()
    assert len(_texts(api, CHAT)) == 2  # the confirmation and the one item
    feeds.put("/case.xml", corpus_case(second).read_bytes())
    await harness.poll()
    await harness.settle()
    assert feeds.count("/case.xml", 200) >= 2
    return _texts(api, CHAT)[2:]


async def test_04_shared_guid_delivers_only_the_new_item(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """The second fetch (same URL) brings only the "civil disorder" item."""
    later = await _second_fetch(
        bot_factory, feed_server, bot_api, "04a_dup_guid_fetch1.xml", "04b_dup_guid_fetch2.xml"
    )
    assert len(later) == 1
    assert "Italy has gone into civil disorder." in later[0]


async def test_19_tracking_parameter_change_sends_nothing(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Same post, only a tracking parameter in its link changed: the second fetch sends nothing."""
    later = await _second_fetch(
        bot_factory,
        feed_server,
        bot_api,
        "19a_tracking_param_fetch1.xml",
        "19b_tracking_param_fetch2.xml",
    )
    assert later == []


async def test_09_opml_with_bare_ampersands_imports_three_feeds(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """The podcast app's file (its hosts moved to loopback, its bare & kept): 3 feeds imported."""
    data = corpus_case("09_opml_bare_ampersand.opml").read_text(encoding="utf-8")
    for host, path in (
        ("https://first.example.com/feed.xml", "/first.xml"),
        ("https://lrc.example.org/feed", "/lrc.xml"),
        (
            "https://www.example.net/lmtyah/?category=Earth-C&format=rss",
            "/third.xml?c=E&format=rss",
        ),
    ):
        url = feed_server.url(path)
        feed_server.put(path.split("?")[0], corpus_case("05_slash_date.xml").read_bytes())
        data = data.replace(host, url)
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(CHAT, "/start")
    before = len(bot_api.sent_to(CHAT))
    bot_api.user_sends(CHAT, document=("podcasts.opml", data.encode()), caption="/import")
    sent = await bot_api.wait_for_sent(CHAT, before + 2, timeout=30)
    assert "Importing 3 feeds" in (sent[before].text or "")
    assert "3 new" in (sent[before + 1].text or "")
    assert harness.relay is not None
    assert len(await harness.relay.store.list_subscriptions(CHAT)) == 3


async def test_05_and_14b_preview_shows_dates_and_show_notes(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """preview: the slashed dates as written; the podcast's show notes, not its one-liner."""
    feed_server.put("/dates.xml", corpus_case("05_slash_date.xml").read_bytes())
    dates = await _preview(feed_server.url("/dates.xml"), tmp_path)
    for shown in ("2016-06-29 15:07", "2016-06-28 09:30", "2016-05-31 23:59"):
        assert shown in dates
    assert "2016-11-01" not in dates
    feed_server.put("/pod.xml", corpus_case("14b_itunes_summary_no_content.xml").read_bytes())
    notes = await _preview(feed_server.url("/pod.xml"), tmp_path)
    assert "Show notes: we talk about" in notes
    assert "<https://pod.example.com/42/links>" in notes
    assert "Chapters: 00:00 intro, 05:00 main topic." in notes
    assert "Itunes summary" not in notes
