"""The benchmarks' seeding leaves the store as a running bot's first read does."""

from __future__ import annotations

from pathlib import Path

from bench.feedfarm import corpus_documents, render
from bench.polling import feed_url, seed
from bot.feeds.identity import all_keys
from bot.feeds.parse import parse_feed
from bot.store import Store
from tests.corpus import corpus_path

FEEDS = 6
HOSTS = [["127.0.0.2", 8001], ["127.0.0.3", 8002]]


async def test_every_key_a_first_read_records_is_seen_after_seeding(tmp_path: Path) -> None:
    # A first read records each entry's aliases too (bot.pipeline.refresh). Had the seed
    # recorded the entry keys alone, each feed's first new entry would record the rest at
    # once, a cost a running bot never pays, in the middle of the measured window.
    corpus = corpus_path("feeds")
    db = tmp_path / "seed.sqlite3"
    options = {"db": str(db), "hosts": HOSTS, "feeds": FEEDS, "interval": 60}
    await seed({**options, "corpus": str(corpus), "start": 1_800_000_000.0})
    documents = corpus_documents(corpus)
    store = await Store.open(db)
    try:
        aliases = 0
        for feed in range(FEEDS):
            url = feed_url(HOSTS, feed)
            parsed = parse_feed(render(documents[feed % len(documents)], feed, 0, []), url=url)
            keys = [key for entry in parsed.entries for key in all_keys(entry)]
            aliases += len(keys) - len(parsed.entries)
            row = await store.feed_by_url(url)
            assert row is not None
            assert await store.unseen_keys(row.id, keys) == []
        assert aliases > 0  # the documents seeded have aliases to record
    finally:
        await store.close()
