"""The benchmarks' far side: the seed leaves the store as a first read does, and the farm
speaks HTTP as the fetcher needs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bench.feedfarm import Document, Farm, FeedProtocol, corpus_documents, etag_of, render
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


async def test_the_farm_answers_keep_alive_gets_with_etags_and_304s() -> None:
    """The benchmarks' feed server speaks enough HTTP/1.1 for the bot's fetcher (httpx)."""
    base = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
    farm = Farm(
        [Document("a.xml", "rss", base, 0)], feeds=2, interval=60, clock=lambda: 1.0, seed=1
    )
    loop = asyncio.get_running_loop()
    connections: list[FeedProtocol] = []

    def accept() -> FeedProtocol:
        connections.append(FeedProtocol(farm))
        return connections[-1]

    server = await loop.create_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            first = await client.get("/f/1")
            again = await client.get("/f/1", headers={"If-None-Match": first.headers["ETag"]})
            other = await client.get("/f/0", headers={"If-None-Match": first.headers["ETag"]})
            missing = await client.get("/f/9")
            kept = len(connections)
            closing = await client.get("/f/1", headers={"Connection": "close"})
        # the farm closes its side too: a client that waits for the end of the stream
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /f/0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        whole = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
    finally:
        server.close()
    assert (first.status_code, first.content) == (200, base)
    assert first.headers["Content-Type"] == "application/xml"
    assert (again.status_code, again.content) == (304, b"")
    assert (other.status_code, other.headers["ETag"]) == (200, etag_of(0, 0, 0))
    assert missing.status_code == 404
    assert closing.status_code == 200
    assert kept == 1  # four requests on one kept-alive connection
    assert whole.startswith(b"HTTP/1.1 200 OK\r\n")
    assert whole.endswith(base)
    assert farm.states[1].requests == [(1.0, 200), (1.0, 304), (1.0, 200)]
