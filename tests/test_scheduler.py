"""The dispatcher on a virtual clock: no per-tick cap, the per-host limit, a phase per feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from bot.cadence import Bounds
from bot.config import FetchSettings
from bot.feeds.fetch import Fetcher
from bot.pipeline import RefreshPolicy
from bot.scheduler import Poller, host_of
from bot.store import NewFeed, Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.fakes.randomness import EdgeRandom
from tests.virtual_time import VirtualClock, eventually

CHAT = 77
INTERVAL = 300
SECOND_HOST = "127.0.0.2"


@pytest.fixture
async def farm() -> AsyncIterator[FeedServer]:
    """A feed server answering on two loopback addresses: two hosts for the per-host limit."""
    server = FeedServer()
    await server.start(SECOND_HOST)
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def store(engine_store: Store) -> Store:
    """A store on the test's engine, with the chat that follows every feed."""
    await engine_store.ensure_chat(CHAT)
    return engine_store


def _urls(farm: FeedServer, count: int, host: str = "127.0.0.1") -> list[str]:
    urls = []
    for n in range(count):
        path = f"/{host}/{n}.xml"
        farm.put(path, rss(f"Feed {n}", [Item(guid=f"{host}-{n}", title="one", link="")]))
        urls.append(farm.url(path).replace("127.0.0.1", host))
    return urls


async def _follow(store: Store, urls: list[str], due: Callable[[int], float]) -> None:
    feeds = [NewFeed(url, "", due(n)) for n, url in enumerate(urls)]
    await store.subscribe_many(
        CHAT, feeds, interval_seconds=INTERVAL, limit=len(feeds), now=due(0) - INTERVAL
    )


def _poller(store: Store, fetcher: Fetcher, clock: VirtualClock, **limits: int) -> Poller:
    return Poller(
        store,
        fetcher,
        clock=clock,
        on_queued=lambda: None,
        policy=RefreshPolicy(Bounds(INTERVAL, 60, 6 * 3600), rng=EdgeRandom(0.0)),
        **limits,  # type: ignore[arg-type]
    )


async def _running(poller: Poller) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(poller.run())
    try:
        yield task
    finally:
        task.cancel()
        await poller.stop()


def _still(_seconds: float) -> bool:
    return False


async def test_due_feeds_start_as_fast_as_slots_allow(farm: FeedServer, store: Store) -> None:
    """300 due feeds are all checked without the clock moving: nothing waits for a tick
    (the old scheduler started at most 4 × concurrency = 128 per 5-second tick)."""
    clock = VirtualClock()
    urls = _urls(farm, 150) + _urls(farm, 150, SECOND_HOST)
    await _follow(store, urls, lambda _: clock.time())
    fetcher = Fetcher(FetchSettings(allow_private_networks=True, per_host_concurrency=150))
    poller = _poller(store, fetcher, clock, concurrency=32, per_host=150)
    started = clock.monotonic()
    try:
        async for _ in _running(poller):
            await eventually(
                lambda: len(farm.requests) >= 300, clock=clock, may_advance=_still, what="300"
            )
    finally:
        await fetcher.aclose()
    assert clock.monotonic() == started
    assert sorted(r.path for r in farm.requests) == sorted(url.split(":", 2)[2][5:] for url in urls)


async def test_per_host_limit(farm: FeedServer, store: Store) -> None:
    """With 8 slots and 3 per host, two busy hosts get 3 fetches each at once, never more."""
    clock = VirtualClock()
    await _follow(store, _urls(farm, 12) + _urls(farm, 12, SECOND_HOST), lambda _: clock.time())
    fetcher = Fetcher(FetchSettings(allow_private_networks=True, per_host_concurrency=3))
    poller = _poller(store, fetcher, clock, concurrency=8, per_host=3)
    release = farm.hold_documents()
    try:
        async for _ in _running(poller):
            await eventually(
                lambda: farm.in_flight == 6, clock=clock, may_advance=_still, what="6 held"
            )
            await asyncio.sleep(0.05)  # time for a seventh, were the limit not kept
            assert (farm.in_flight, poller.running) == (6, 6)
            release.set()
            await eventually(
                lambda: len(farm.requests) == 24, clock=clock, may_advance=_still, what="all"
            )
    finally:
        await fetcher.aclose()
    assert farm.peak_in_flight == {"127.0.0.1": 3, SECOND_HOST: 3}


async def test_each_feed_once_per_interval_on_its_own_phase(farm: FeedServer, store: Store) -> None:
    """Feeds spread over the interval are checked once per interval each, at their phase:
    after three intervals every feed was checked three times and is due exactly 3 × 300 s
    after its first check."""
    clock = VirtualClock()
    start = clock.time()
    urls = _urls(farm, 20)
    await _follow(store, urls, lambda n: start + 15 * n)  # phases 0, 15 … 285 s
    fetcher = Fetcher(FetchSettings(allow_private_networks=True))
    poller = _poller(store, fetcher, clock, concurrency=4, per_host=4)

    def quiet(_seconds: float) -> bool:
        return poller.running == 0 and farm.in_flight == 0

    def counts() -> list[int]:
        return [farm.count(url.split(":", 2)[2][5:]) for url in urls]

    try:
        async for _ in _running(poller):
            await eventually(
                lambda: min(counts()) >= 3 and poller.running == 0,
                clock=clock,
                may_advance=quiet,
                what="three checks of every feed",
            )
    finally:
        await fetcher.aclose()
    assert counts() == [3] * 20
    for n, url in enumerate(urls):
        sub = await store.find_subscription(CHAT, url)
        assert sub is not None
        feed = await store.get_feed(sub.feed_id)
        assert feed is not None
        assert feed.next_fetch_at == start + 15 * n + 3 * INTERVAL


def test_host_of() -> None:
    """The per-host limit counts host names, case-blind, whatever the port or path."""
    assert host_of("https://Feeds.Example.com:8443/a.xml") == "feeds.example.com"
    assert host_of("http://127.0.0.1/x") == "127.0.0.1"
