"""One feed's refresh through the real store and fetcher against the loopback feed server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import FetchSettings
from bot.feeds.fetch import Fetcher
from bot.pipeline import MAX_BACKOFF_SECONDS, RefreshStatus, next_interval, refresh_feed
from bot.store import Store
from tests.fakes.feed_server import FeedServer

NOW = 1_800_000_000.0
INTERVAL = 300


def _clock() -> float:
    return NOW


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A store on a real SQLite file."""
    opened = await Store.open(tmp_path / "p.db")
    yield opened
    await opened.close()


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    """A fetcher allowed to reach the loopback feed server."""
    client = Fetcher(FetchSettings.model_validate({"allow_private_networks": True}))
    yield client
    await client.aclose()


@pytest.mark.parametrize(
    "case",
    [
        (429, "7200", 7200),
        (503, "3600", 3600),
        (429, "1", next_interval(INTERVAL, 1)),
        (503, "99999999", MAX_BACKOFF_SECONDS),
        (500, "7200", next_interval(INTERVAL, 1)),
    ],
)
async def test_retry_after_of_a_busy_feed_is_respected(
    store: Store,
    fetcher: Fetcher,
    feed_server: FeedServer,
    case: tuple[int, str, int],
) -> None:
    """A 429/503 with Retry-After is not fetched again before then (capped at the max backoff)."""
    code, retry_after, expected = case
    feed_server.status("/busy.xml", code, {"Retry-After": retry_after})
    feed, _ = await store.get_or_create_feed(
        feed_server.url("/busy.xml"), title="Busy", interval_seconds=INTERVAL, now=NOW
    )
    result = await refresh_feed(feed, fetcher=fetcher, store=store, clock=_clock)
    assert result.status is RefreshStatus.FAILED
    stored = await store.get_feed(feed.id)
    assert stored is not None
    assert stored.next_fetch_at == NOW + expected
