"""One refresh with the real store and fetcher: what is parsed, hints, rhythm, the scan guard."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.cadence import Bounds
from bot.config import FetchSettings
from bot.feeds.fetch import Fetcher
from bot.feeds.parse import MAX_ENTRIES
from bot.feeds.scan import EntryScan, scan_entries
from bot.models import Feed
from bot.pipeline import Parse, RefreshPolicy, RefreshResult, RefreshStatus, refresh_feed
from bot.store import Store
from tests.engines import NewDatabase
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.fakes.randomness import EdgeRandom

START = datetime(2026, 3, 2, 9, 10, tzinfo=UTC).timestamp()
CHAT = 31
BOUNDS = Bounds(base=300, minimum=60, maximum=6 * 3600)


def _item(n: int) -> Item:
    return Item(guid=f"urn:story:{n}", title=f"Story {n}", link=f"https://news.example/{n}",
                description_html=f"<p>Body {n}.</p><p>Shared footer line.</p>")  # fmt: skip


class Rig:
    """A followed feed, a clock that moves when told, and a refresh of it."""

    def __init__(self, store: Store, fetcher: Fetcher, server: FeedServer) -> None:
        self.store, self.fetcher, self.server = store, fetcher, server
        self.now = START
        self.policy = RefreshPolicy(BOUNDS, rng=EdgeRandom(0.0))
        self.url = server.url("/f.xml")

    async def follow(self, items: list[Item]) -> None:
        self.server.put("/f.xml", rss("Wire", items))
        await self.store.ensure_chat(CHAT)
        feed, _ = await self.store.get_or_create_feed(
            self.url, title="", interval_seconds=300, now=self.now, next_fetch_at=self.now
        )
        await self.store.add_subscription(CHAT, feed.id)

    async def feed(self) -> Feed:
        sub = await self.store.find_subscription(CHAT, self.url)
        assert sub is not None
        feed = await self.store.get_feed(sub.feed_id)
        assert feed is not None
        return feed

    async def refresh(self, advance: float = 0.0) -> RefreshResult:
        self.now += advance
        return await refresh_feed(
            await self.feed(),
            fetcher=self.fetcher,
            store=self.store,
            clock=lambda: self.now,
            policy=self.policy,
        )


@pytest.fixture
async def rig(new_database: NewDatabase, feed_server: FeedServer) -> AsyncIterator[Rig]:
    """A store on the test's engine, a fetcher allowed on loopback, and the feed server."""
    store = await Store.open_url(await new_database())
    fetcher = Fetcher(FetchSettings(allow_private_networks=True))
    yield Rig(store, fetcher, feed_server)
    await fetcher.aclose()
    await store.close()


async def test_cheap_when_nothing_changed(rig: Rig) -> None:
    """First read marks all seen; 304 and changed bytes without a new entry parse nothing;
    one new entry is parsed alone (with the boilerplate the full parse learned)."""
    items = [_item(n) for n in range(5, 0, -1)]
    await rig.follow(items)
    first = await rig.refresh()
    assert (first.status, first.parse, first.queued) == (RefreshStatus.FIRST_READ, Parse.FULL, 0)
    assert (await rig.refresh(300)).status is RefreshStatus.NOT_MODIFIED
    rig.server.put("/f.xml", rss("Wire", items) + b"<!-- rebuilt -->")
    changed = await rig.refresh(300)
    assert (changed.status, changed.parse) == (RefreshStatus.NOTHING_NEW, Parse.NONE)
    rig.server.put("/f.xml", rss("Wire", [_item(6), *items]))
    new = await rig.refresh(300)
    assert (new.status, new.parse, new.new_entries, new.queued) == (
        RefreshStatus.UPDATED, Parse.PARTIAL, 1, 1,
    )  # fmt: skip
    (row,) = await rig.store.pending_outbox(rig.now, 10)
    assert row.message.text.startswith("Story 6")
    assert "Shared footer line" not in row.message.text  # the learned boilerplate, cut


async def test_a_long_archive_is_scanned_as_its_first_entries(rig: Rig) -> None:
    """A document longer than MAX_ENTRIES (a podcast's whole archive) costs no full parse when
    it changes: the scan looks up the same first entries the parser reads, and an entry
    past them (never read, so never seen) is not taken for a new one."""
    items = [_item(n) for n in range(MAX_ENTRIES + 100, 0, -1)]
    await rig.follow(items)
    assert (await rig.refresh()).status is RefreshStatus.FIRST_READ
    rig.server.put("/f.xml", rss("Wire", items) + b"<!-- rebuilt -->")
    changed = await rig.refresh(300)
    assert (changed.status, changed.parse) == (RefreshStatus.NOTHING_NEW, Parse.NONE)
    rig.server.put("/f.xml", rss("Wire", [_item(MAX_ENTRIES + 101), *items]))
    new = await rig.refresh(300)
    assert (new.status, new.parse, new.new_entries, new.queued) == (
        RefreshStatus.UPDATED, Parse.PARTIAL, 1, 1,
    )  # fmt: skip


async def test_a_lying_scan_costs_a_full_parse_not_an_entry(rig: Rig) -> None:
    """A scan whose keys disagree with the parser's is caught by the partial parse: the whole
    document is parsed and every new entry is queued, also one the scan called seen."""
    await rig.follow([_item(1)])
    await rig.refresh()

    def liar(body: bytes, *, url: str) -> EntryScan | None:
        scan = scan_entries(body, url=url)
        assert scan is not None
        # Story 3 is claimed to be the seen story 1; story 2 gets a key the parser never makes.
        keys = tuple({"urn:story:3": "id:urn:story:1"}.get(k[3:], k + "#lie") for k in scan.keys)
        return dataclasses.replace(scan, keys=keys)

    rig.policy = dataclasses.replace(rig.policy, scan=liar)
    rig.server.put("/f.xml", rss("Wire", [_item(3), _item(2), _item(1)]))
    result = await rig.refresh(300)
    assert (result.parse, result.new_entries) == (Parse.FULL, 2)
    titles = [
        row.message.text.splitlines()[0] for row in await rig.store.pending_outbox(rig.now, 9)
    ]
    assert titles == ["Story 2", "Story 3"]


async def test_a_feeds_own_hints_set_its_interval(rig: Rig) -> None:
    """<ttl>60</ttl> means checks an hour apart (a fresh phase: the interval changed)."""
    channel = b"<description>generated</description>"
    body = rss("Wire", [_item(1)]).replace(channel, channel + b"<ttl>60</ttl>")
    rig.server.put("/f.xml", body)
    await rig.follow([_item(1)])
    rig.server.put("/f.xml", body)
    await rig.refresh()
    feed = await rig.feed()
    assert (feed.interval_seconds, feed.rhythm.hint_seconds) == (3600, 3600)
    assert feed.next_fetch_at == rig.now + 3600


async def test_cache_control_max_age_is_a_hint(rig: Rig) -> None:
    """Cache-Control: max-age=1800 on the document: checked every 30 minutes."""
    await rig.follow([_item(1)])
    rig.server.status(
        "/f.xml",
        200,
        {"Cache-Control": "public, max-age=1800", "Content-Type": "application/rss+xml"},
        rss("Wire", [_item(1)]),
    )
    await rig.refresh()
    assert (await rig.feed()).interval_seconds == 1800


async def test_skip_hours_move_the_next_check(rig: Rig) -> None:
    """A feed skipping 9:00-10:59 UTC, checked at 9:10, is next due at 11:00."""
    body = rss("Wire", [_item(1)]).replace(
        b"<description>generated</description>",
        b"<description>generated</description><skipHours><hour>9</hour><hour>10</hour></skipHours>",
    )
    await rig.follow([_item(1)])
    rig.server.put("/f.xml", body)
    await rig.refresh()
    assert (await rig.feed()).next_fetch_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC).timestamp()


async def test_a_busy_feed_is_checked_as_often_as_it_publishes(rig: Rig) -> None:
    """Three new entries at every 300 s check: after three such checks, every 100 s."""
    items = [_item(0)]
    await rig.follow(items)
    await rig.refresh()
    for check in range(4):
        items = [_item(10 * check + k) for k in (3, 2, 1)] + items
        rig.server.put("/f.xml", rss("Wire", items))
        await rig.refresh(300)
    feed = await rig.feed()
    assert feed.rhythm.new_samples == 3
    assert feed.interval_seconds == 100
