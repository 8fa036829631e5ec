"""`newsrelay import-opml` at scale, the running bot's first read, `newsrelay stats` on failures."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.opml import CLI_MAX_OPML_BYTES, MAX_OPML_BYTES, Outline, write_opml
from bot.services.bulk_import import Refused, import_outlines
from bot.store import BulkOutcome, BulkState, Store
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import HarnessFactory

CHAT = 9090
FEEDS = 10_000


def _config(tmp_path: Path, **polling: int) -> Path:
    config = tmp_path / "c.yaml"
    lines = [
        f"database:\n  url: sqlite:///{tmp_path / 'bot.db'}\n",
        f"access:\n  max_subscriptions_per_chat: {FEEDS}\n",
        "polling:\n  interval_seconds: 300\n",
        *(f"  {key}: {value}\n" for key, value in polling.items()),
    ]
    config.write_text("".join(lines))
    return config


def test_ten_thousand_outlines_in_one_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 10,000-feed OPML file (over the chat's 1 MB /import limit) is imported without a
    fetch: every feed subscribed and first due at a moment spread over one interval."""
    outlines = [
        Outline(
            f"https://feeds{n % 97}.example/{n}/rss.xml",
            f"Feed number {n} of the big list",
            f"https://site{n % 97}.example/{n}/",
        )
        for n in range(FEEDS)
    ]
    opml = tmp_path / "big.opml"
    opml.write_bytes(write_opml("big", outlines, created=0))
    assert opml.stat().st_size > MAX_OPML_BYTES
    config = _config(tmp_path)
    started = time.time()
    assert main(["import-opml", str(opml), "--chat", str(CHAT), "-c", str(config)]) == 0
    finished = time.time()
    out = capsys.readouterr().out
    assert out.count("\nadded  #") == FEEDS - 1  # every line but the first starts after one
    assert f"{FEEDS} feeds added: the running bot reads them" in out

    async def schedule() -> list[float]:
        store = await Store.open(tmp_path / "bot.db")
        try:
            stats = await store.stats()
            assert (stats.feeds, stats.subscriptions, stats.pending) == (FEEDS, FEEDS, 0)
            due = []
            for sub in await store.list_subscriptions(CHAT):
                feed = await store.get_feed(sub.feed_id)
                assert feed is not None
                due.append(feed.next_fetch_at)
            return due
        finally:
            await store.close()

    due = asyncio.run(schedule())
    assert started <= min(due)
    assert max(due) <= finished + 300
    buckets = [0] * 10
    for moment in due:
        buckets[min(9, int((moment - started) // 30))] += 1
    assert min(buckets) > FEEDS / 20, buckets  # spread over the interval, not one burst
    assert main(["import-opml", str(opml), "--chat", str(CHAT), "-c", str(config)]) == 0
    assert capsys.readouterr().out.count("exists  #") == FEEDS


async def test_the_running_bot_reads_imported_feeds_first_then_sends_news(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Imported feeds send nothing at their first read; what they publish later arrives once.
    Bad URLs, repeats and the chat's limit are reported per outline."""
    bot_api.add_chat(CHAT)
    harness = await bot_factory(access={"max_subscriptions_per_chat": 3})
    assert harness.relay is not None
    store = harness.relay.store
    for n in range(3):
        feed_server.put(f"/{n}.xml", rss(f"Feed {n}", [Item(guid=f"{n}-old", title="Old")]))
    urls = [feed_server.url(f"/{n}.xml") for n in range(3)]
    await store.ensure_chat(CHAT)
    outlines = [Outline(url) for url in urls] + [
        Outline("gopher://old.example/"),
        Outline(urls[0]),
        Outline(feed_server.url("/one-too-many.xml")),
    ]
    results = await import_outlines(
        store,
        harness.settings,
        CHAT,
        outlines,
        now=harness.clock.time(),
        rng=random.Random(5),  # noqa: S311
    )
    assert [r.state if isinstance(r, BulkOutcome) else "refused" for r in results] == [
        BulkState.ADDED, BulkState.ADDED, BulkState.ADDED, "refused", BulkState.LIMIT,
    ]  # fmt: skip
    assert isinstance(results[3], Refused)
    assert "only http:// and https://" in results[3].reason
    await harness.poll()
    await harness.settle()
    assert [feed_server.count(f"/{n}.xml") for n in range(3)] == [1, 1, 1]
    assert bot_api.sent_to(CHAT) == []
    feed_server.put(
        "/1.xml", rss("Feed 1", [Item(guid="1-new", title="Fresh news"), Item(guid="1-old")])
    )
    await harness.poll()
    sent = await bot_api.wait_for_sent(CHAT, 1)
    await harness.settle()
    assert len(bot_api.sent_to(CHAT)) == 1
    assert (sent[0].text or "").startswith("Fresh news")


def test_stats_lists_failing_feeds_with_error_count_and_next_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each failing feed: its URL, failures in a row and since when, the last error in
    words, and when it is checked next."""
    now = time.time()

    async def prepare() -> None:
        store = await Store.open(tmp_path / "bot.db")
        await store.ensure_chat(CHAT)
        feed, _ = await store.get_or_create_feed(
            "https://down.example/rss", title="Down", interval_seconds=300, now=now - 7200
        )
        await store.add_subscription(CHAT, feed.id)
        for at in (now - 3600, now - 1200):
            await store.record_fetch_failure(
                feed.id, next_fetch_at=now + 1500, error="http_status:503", now=at
            )
        await store.close()

    asyncio.run(prepare())
    assert main(["stats", "-c", str(_config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "failing feeds: 1" in out
    (line,) = [line for line in out.splitlines() if "down.example" in line]
    assert line.startswith("  https://down.example/rss (2× in a row since ")
    assert "the server answered HTTP 503 Service Unavailable; next check " in line
    assert line.endswith("(in 25 min)")


def test_the_command_line_refuses_a_file_over_its_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The operator's limit is 16 MB (the chat's /import keeps 1 MB): one line, exit 1."""
    huge = tmp_path / "huge.opml"
    huge.write_bytes(b"<opml>" + b" " * CLI_MAX_OPML_BYTES + b"</opml>")
    config = _config(tmp_path)
    assert main(["import-opml", str(huge), "--chat", str(CHAT), "-c", str(config)]) == 1
    assert capsys.readouterr().err.strip() == f"newsrelay: {huge}: the file is larger than 16384 KB"
