"""Fan-out benchmark: one feed, many chats, the strict fake's flood limits on.

1,000 private chats and 50 groups follow one feed; it gains 10 new entries; the real
bot (store, pipeline, outbox worker, PTB) sends them to the fake Bot API. Bot and fake
share the tests' virtual clock, so Telegram's limits are measured exactly and the run
takes seconds, not the ~6 minutes of real time the sends would need; the figures:

- messages per (virtual) second while the outbox drains: the send policy's rate, to
  compare with Telegram's ~30/s (the bot books 29/s);
- lost and duplicated messages (each chat must get each entry exactly once);
- 429 answers per 1,000 sends;
- real CPU seconds per 1,000 messages: whether the process could keep up in real time
  (it can while this stays under 1000/29 = 34 s).

Run: ``python bench/fanout.py [--private 1000] [--groups 50] [--entries 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness
from tests.virtual_time import VirtualClock


async def _run(private: int, groups: int, entries: int) -> None:
    clock = VirtualClock()
    api = FakeBotAPI(clock=clock)
    feeds = FeedServer()
    await api.start()
    await feeds.start()
    items = [
        Item(guid=f"e{n}", title=f"Entry {n}", link=f"https://news.example/{n}")
        for n in range(entries + 1)
    ]
    feeds.put("/f.xml", rss("Wire", items[:1]))
    chats = [1_000_000 + n for n in range(private)] + [-1_000_000_000 - n for n in range(groups)]
    with tempfile.TemporaryDirectory() as folder:
        harness = BotHarness(
            api, clock, Path(folder) / "fanout.db", {"delivery": {"backlog_on_subscribe": 0}}
        )
        relay = await harness.start()
        try:
            store = relay.store
            feed, _ = await store.get_or_create_feed(
                feeds.url("/f.xml"), title="Wire", interval_seconds=60, now=clock.time()
            )
            for chat in chats:
                api.add_chat(chat, "private" if chat > 0 else "supergroup")
                await store.ensure_chat(chat, kind="private" if chat > 0 else "supergroup")
                await store.add_subscription(chat, feed.id)
            await harness.poll()  # the first fetch: every chat gets the one old entry
            await harness.settle(real_seconds=3600)
            feeds.put("/f.xml", rss("Wire", items[::-1]))
            sent_before = len(api.sent)
            cpu = time.process_time()
            await harness.poll()  # moves time an interval on, then queues the new entries
            virtual = clock.monotonic()
            await harness.settle(real_seconds=3600)
            cpu, virtual = time.process_time() - cpu, clock.monotonic() - virtual
        finally:
            await harness.stop()
            await feeds.stop()
            await api.stop()
    sent = api.sent[sent_before:]
    per_chat = collections.Counter((m.chat_id, (m.text or "").split("\n", 1)[0]) for m in sent)
    expected = {(chat, f"Entry {n}") for chat in chats for n in range(1, entries + 1)}
    lost = len(expected - set(per_chat))
    duplicated = sum(count - 1 for count in per_chat.values() if count > 1)
    too_many = sum(1 for r in api.rejected if r.code == 429)
    rate = len(sent) / virtual if virtual else float("inf")
    print(f"chats: {private} private + {groups} groups, {entries} new entries")
    print(f"messages sent: {len(sent)} (expected {len(expected)})")
    print(f"lost: {lost}, duplicated: {duplicated}")
    print(f"429 answers: {too_many} ({1000 * too_many / max(1, len(sent)):.2f} per 1,000 sends)")
    print(f"drain time: {virtual:.1f} s virtual -> {rate:.2f} messages/s sustained")
    print(f"real CPU: {cpu:.1f} s ({1000 * cpu / max(1, len(sent)):.2f} s per 1,000 messages)")


def main() -> None:
    """Parse the sizes and run the benchmark once."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--private", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--entries", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(_run(args.private, args.groups, args.entries))


if __name__ == "__main__":
    main()
