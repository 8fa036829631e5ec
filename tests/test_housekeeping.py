"""Housekeeping: expired failed rows and unfollowed feeds are deleted, when the clock says so."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.app import Relay
from bot.cli import main
from bot.models import OutgoingMessage, PlannedDelivery
from bot.pipeline.plan import CROSS_FEED_WINDOW_SECONDS
from bot.scheduler import (
    FAILED_RETENTION_SECONDS,
    HOUSEKEEPING_EVERY_SECONDS,
    ORPHAN_GRACE_SECONDS,
    Housekeeper,
    HousekeepingResult,
    housekeep,
)
from bot.store import Store
from tests.engines import NewDatabase
from tests.fakes.bot_api import FakeBotAPI
from tests.harness import make_settings
from tests.virtual_time import eventually

T0 = 1_700_000_000.0
DAY = 86_400.0
CHAT = 1


class FakeClock:
    """A clock that moves only when the test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


pytestmark = pytest.mark.both_engines


@pytest.fixture
async def store(engine_store: Store) -> Store:
    """A fresh store on the test's engine, with one chat."""
    await engine_store.ensure_chat(CHAT)
    return engine_store


async def _feed(store: Store, name: str, *, created: float) -> tuple[int, int]:
    """A feed created at ``created`` and followed by CHAT; (feed id, subscription id)."""
    feed, _ = await store.get_or_create_feed(
        f"https://{name}.example/feed", title=name, interval_seconds=300, now=created
    )
    return feed.id, (await store.add_subscription(CHAT, feed.id)).id


async def _orphan(store: Store, name: str, *, created: float) -> int:
    """A feed created at ``created`` that nobody follows any more, with a failed row; its id."""
    feed, sub = await _feed(store, name, created=created)
    await _fail(store, feed, sub, f"{name}-failure", at=created)
    await store.remove_subscription(sub)  # the failed row stays, detached
    return feed


async def _fail(store: Store, feed_id: int, sub_id: int, key: str, *, at: float) -> None:
    """One outbox row of the feed for CHAT, failed at ``at``."""
    item = PlannedDelivery(
        CHAT, None, sub_id, feed_id, key, OutgoingMessage(text=key), backlog=False
    )
    await store.commit_entries(feed_id, seen=[key], outbox=[item], now=at)
    [row] = [r for r in await store.pending_outbox(at, 100) if r.entry_key == key]
    await store.mark_failed(row.id, error="Bad Request: message is too long", now=at)


async def test_failed_rows_older_than_the_retention_go(store: Store) -> None:
    """A row failed 30 days and a second ago goes; one failed 20 days ago stays."""
    feed, sub = await _feed(store, "a", created=T0)
    await _fail(store, feed, sub, "old", at=T0)
    await _fail(store, feed, sub, "recent", at=T0 + 10 * DAY)
    now = T0 + FAILED_RETENTION_SECONDS + 1
    assert (await store.stats(failed_before=now - FAILED_RETENTION_SECONDS)).failed_expired == 1
    assert await housekeep(store, now) == HousekeepingResult(purged_failed=1, deleted_feeds=0)
    stats = await store.stats(failed_before=now - FAILED_RETENTION_SECONDS)
    assert (stats.failed, stats.failed_expired) == (1, 0)


async def test_unfollowed_feeds_go_followed_and_paused_ones_stay(store: Store) -> None:
    """Only feeds no subscription follows (paused counts as following) and past the grace go."""
    now = T0 + DAY
    followed, _ = await _feed(store, "followed", created=T0)
    paused, sub = await _feed(store, "paused", created=T0)
    await store.set_subscription_paused(sub, True)
    orphan = await _orphan(store, "orphan", created=T0)
    fresh = await _orphan(store, "fresh", created=now - ORPHAN_GRACE_SECONDS + 60)
    assert (await store.stats()).orphan_feeds == 2

    assert await housekeep(store, now) == HousekeepingResult(purged_failed=0, deleted_feeds=1)
    assert await store.get_feed(orphan) is None
    for kept in (followed, paused, fresh):
        assert await store.get_feed(kept) is not None
    stats = await store.stats()
    assert (stats.feeds, stats.orphan_feeds, stats.failed) == (3, 1, 1)  # fresh's row stays


async def test_housekeeper_runs_at_once_then_once_per_period(store: Store) -> None:
    """The first tick runs a pass; later ticks run one only when the period has passed."""
    clock = FakeClock(T0)
    keeper = Housekeeper(store, clock=clock)
    assert await keeper.tick() == HousekeepingResult(0, 0)
    orphan = await _orphan(store, "orphan", created=T0)

    clock.advance(HOUSEKEEPING_EVERY_SECONDS - 1)
    assert await keeper.tick() is None  # not due: nothing deleted yet
    assert await store.get_feed(orphan) is not None

    clock.advance(1)
    assert await keeper.tick() == HousekeepingResult(purged_failed=0, deleted_feeds=1)
    feed, sub = await _feed(store, "kept", created=clock.now)
    await _fail(store, feed, sub, "k", at=clock.now)
    clock.advance(FAILED_RETENTION_SECONDS + 1)
    assert await keeper.tick() == HousekeepingResult(purged_failed=1, deleted_feeds=0)
    assert await keeper.tick() is None


def test_cli_stats_shows_what_housekeeping_deletes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], new_database: NewDatabase
) -> None:
    """`newsrelay stats` counts failed rows past the retention and feeds nobody follows."""
    db = asyncio.run(new_database())

    async def prepare() -> None:
        store = await Store.open_url(db)
        await store.ensure_chat(CHAT)
        now = time.time()
        feed, sub = await _feed(store, "a", created=now)
        await _fail(store, feed, sub, "old", at=now - FAILED_RETENTION_SECONDS - DAY)
        await _fail(store, feed, sub, "new", at=now)
        await _orphan(store, "orphan", created=now)
        await store.close()

    asyncio.run(prepare())
    config = tmp_path / "c.yaml"
    config.write_text(f"database:\n  url: {db}\n")
    assert main(["stats", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "failed deliveries: 3 (1 older than 30 days, purged by the running bot)" in out
    assert "feeds nobody follows: 1 (deleted by the running bot)" in out


async def test_the_running_bot_keeps_house(bot_api: FakeBotAPI, new_database: NewDatabase) -> None:
    """`Relay` wires a housekeeper into its scheduler: an old unfollowed feed is gone at start."""
    db = await new_database()
    store = await Store.open_url(db)
    await store.ensure_chat(CHAT)
    orphan = await _orphan(store, "orphan", created=time.time() - DAY)
    await store.close()

    relay = Relay(make_settings(bot_api, db))
    await relay.start()
    try:

        async def deleted() -> bool:
            return await relay.store.get_feed(orphan) is None

        await eventually(deleted, what="housekeeping to delete the orphan feed", real_seconds=10)
    finally:
        await relay.stop()


async def test_a_gone_feed_stays_until_its_notice_is_sent(store: Store) -> None:
    """A feed ended by 410 has no subscriptions left, but housekeeping keeps it (and the
    notice queued for it) until the notice went out; then it is deleted like any orphan."""
    feed_id, sub_id = await _feed(store, "gone", created=0)
    subscription = await store.get_subscription_by_id(sub_id)
    assert subscription is not None
    notice = PlannedDelivery(
        CHAT, None, sub_id, feed_id, "notice:gone", OutgoingMessage(text="gone"), backlog=False
    )
    await store.end_feed(feed_id, error="http_status:410", now=10, notices=[notice])
    assert await store.list_subscriptions(CHAT) == []
    assert await store.delete_orphan_feeds(created_before=100) == 0
    [row] = await store.pending_outbox(10, 10)
    assert (row.entry_key, row.subscription_id) == ("notice:gone", None)
    await store.mark_delivered(row.id, now=11)
    assert await store.delete_orphan_feeds(created_before=100) == 1


async def test_article_keys_past_the_cross_feed_window_go(store: Store) -> None:
    """Housekeeping forgets article keys queued before the cross-feed window, not later ones;
    a recent key still stops the same article arriving through a second feed."""
    first, first_sub = await _feed(store, "first", created=T0)
    second, second_sub = await _feed(store, "second", created=T0)

    async def queue(feed: int, sub: int, key: str, *, at: float) -> int:
        item = PlannedDelivery(
            CHAT,
            None,
            sub,
            feed,
            key,
            OutgoingMessage(text=key),
            backlog=False,
            article_keys=(f"article:{key}",),
        )
        return await store.commit_entries(
            feed, seen=[key], outbox=[item], now=at, article_window=CROSS_FEED_WINDOW_SECONDS
        )

    assert await queue(first, first_sub, "old", at=T0) == 1
    now = T0 + CROSS_FEED_WINDOW_SECONDS + 1
    assert await queue(first, first_sub, "recent", at=now - 60) == 1

    assert await housekeep(store, now) == HousekeepingResult(
        purged_failed=0, deleted_feeds=0, forgotten_articles=1
    )
    assert await housekeep(store, now) == HousekeepingResult(purged_failed=0, deleted_feeds=0)
    assert await queue(second, second_sub, "recent", at=now) == 0  # still known
