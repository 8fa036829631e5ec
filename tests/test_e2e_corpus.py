"""End to end: the newest entries of every real feed in the corpus reach a chat through real PTB.

The strict fake Bot API accepts every message, each holding the entry's title (or, untitled,
its first words) and its link. The render tests check every entry against the same rules;
this test proves the whole path (fetch, parse, render, outbox, PTB) on real bytes.
"""

from __future__ import annotations

from bot.feeds.parse import parse_feed
from tests.corpus import corpus_files
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.harness import HarnessFactory

BACKLOG = 2
FIRST_CHAT = 900_000


async def test_every_corpus_feed_delivers_its_newest_entries(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Each feed subscribed in its own chat sends its backlog; nothing is rejected."""
    files = corpus_files()
    harness = await bot_factory(delivery={"backlog_on_subscribe": BACKLOG})
    chats: dict[str, tuple[int, int]] = {}
    for index, path in enumerate(files):
        content_type = "application/json" if path.suffix == ".json" else "application/xml"
        feed_server.put(f"/{path.name}", path.read_bytes(), content_type)
        chat = FIRST_CHAT + index
        reply = await harness.command(chat, f"/sub {feed_server.url('/' + path.name)}")
        assert "#1" in (reply.text or ""), (path.name, reply.text)
        entries = len(parse_feed(path.read_bytes(), url=feed_server.url("/" + path.name)).entries)
        chats[path.name] = (chat, min(BACKLOG, entries))
    await harness.settle()
    assert bot_api.rejected == []
    for name, (chat, expected) in chats.items():
        entries = bot_api.sent_to(chat)[1:]
        assert len(entries) == expected, name
        for message in entries:
            links = [
                e["url"]
                for e in (message.entities or message.caption_entities)
                if e["type"] == "text_link"
            ]
            body = message.text or message.caption or ""
            assert body.strip(), name
            assert links or "http" in body, (name, body[:200])
