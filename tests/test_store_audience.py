"""A refresh's commit checks that the feed's followers are still those its entries were
planned for (``commit_entries``'s ``audience``): when someone subscribed, resumed, paused
or left meanwhile, nothing is written and ``AudienceChanged`` says to plan again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import pytest

from bot.models import OutgoingMessage, PlannedDelivery
from bot.store import AudienceChanged, Store
from bot.store.engine import for_postgres, pg_lock_statement
from tests.postgres import _asyncpg_dsn
from tests.test_store import T0, _followed_feed, _item, _two_chats
from tests.virtual_time import eventually

pytestmark = pytest.mark.both_engines

T = TypeVar("T")
KEY = "https://a.example/new-entry"
_WAITING = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
"""
_WAITING_FOR = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND $1 = ANY(pg_blocking_pids(pid))
"""


@pytest.fixture
def store(engine_store: Store) -> Store:
    return engine_store


async def _refused(store: Store, feed_id: int, change: Callable[[], Awaitable[object]]) -> None:
    """Read the followers, ``change`` them, commit a new entry for those read: refused, and
    not a trace of it stored (the key still unseen, no outbox row)."""
    followers = (await store.followers(feed_id)).subscriptions
    await change()
    items = [_item(sub.chat_id, sub.id, feed_id, KEY) for sub in followers]
    with pytest.raises(AudienceChanged):
        await store.commit_entries(
            feed_id, seen=[KEY], outbox=items, now=T0, audience=[sub.id for sub in followers]
        )
    assert await store.unseen_keys(feed_id, [KEY]) == [KEY]
    assert await store.pending_outbox(T0, 100) == []
    assert (await store.stats()).pending == 0


async def test_a_subscription_added_after_the_read_refuses_the_commit(store: Store) -> None:
    feed_id, _ = await _followed_feed(store)
    await store.ensure_chat(2)
    await _refused(store, feed_id, lambda: store.add_subscription(2, feed_id))


async def test_a_subscription_removed_after_the_read_refuses_the_commit(store: Store) -> None:
    feed_id, _, leaving = await _two_chats(store)
    await _refused(store, feed_id, lambda: store.remove_subscription(leaving))


async def test_a_subscription_resumed_after_the_read_refuses_the_commit(store: Store) -> None:
    feed_id, _, resuming = await _two_chats(store)
    await store.set_subscription_paused(resuming, True, now=T0 - 60)
    await _refused(store, feed_id, lambda: store.resume_subscription(resuming))


async def test_a_subscription_paused_after_the_read_refuses_the_commit(store: Store) -> None:
    feed_id, _, pausing = await _two_chats(store)
    await _refused(store, feed_id, lambda: store.set_subscription_paused(pausing, True, now=T0))


async def test_the_same_followers_commit(store: Store) -> None:
    """Followers as read (inactive chats and paused subscriptions are not among them): the
    entry is queued for each and marked seen."""
    feed_id, first, paused = await _two_chats(store)
    await store.set_subscription_paused(paused, True, now=T0 - 60)
    await store.ensure_chat(3)
    await store.add_subscription(3, feed_id)
    await store.set_chat_active(3, False)
    followers = (await store.followers(feed_id)).subscriptions
    assert [sub.id for sub in followers] == [first]
    queued = await store.commit_entries(
        feed_id, seen=[KEY], outbox=[_item(1, first, feed_id, KEY)], now=T0, audience=[first]
    )
    assert queued == 1
    assert await store.unseen_keys(feed_id, [KEY]) == []


@asynccontextmanager
async def _connections(url: str, count: int) -> AsyncIterator[list[asyncpg.Connection]]:
    """``count`` connections of the test's own to the store's database, closed at the end:
    one holds rows as a rival transaction would, another watches pg_stat_activity."""
    opened = [await asyncpg.connect(_asyncpg_dsn(url)) for _ in range(count)]
    try:
        yield opened
    finally:
        for connection in opened:
            await connection.close()


async def _wait_for_the_row(
    url: str,
    feed_id: int,
    changes: list[Coroutine[Any, Any, T]],
    *,
    marking: str | None = None,
) -> list[T]:
    """Hold the feed's row as a commit of it does (with ``marking``, marking that key seen
    as a refresh's commit does); each of ``changes`` waits until let go. What they return.
    Another connection watches: a transaction sees pg_stat_activity as it first read it."""
    async with _connections(url, 2) as (holder, watcher):
        async with holder.transaction():
            await holder.execute("SELECT id FROM feeds WHERE id = $1 FOR UPDATE", feed_id)
            if marking is not None:
                await holder.execute(
                    "INSERT INTO seen (feed_id, entry_key, first_seen) VALUES ($1, $2, $3)",
                    feed_id,
                    marking,
                    T0 + 30,
                )
            started = [asyncio.create_task(change) for change in changes]

            async def waiting_or_done() -> bool:
                waiting = int(await watcher.fetchval(_WAITING))
                return waiting == len(started) or any(task.done() for task in started)

            await eventually(waiting_or_done, what="the changes to wait for the feed's row")
            assert not any(task.done() for task in started), "a change did not wait"
        return await asyncio.gather(*started)


async def test_changes_to_the_followers_wait_for_a_commit_holding_the_feed(
    held_store: tuple[Store, str],
) -> None:
    """PostgreSQL: while a commit of the feed holds its row (FOR UPDATE, as ``Db.lock``),
    adding, resuming, pausing and removing a subscription of it (each locking the row)
    wait: each commits before that commit's read of the followers or after its end."""
    store, url = held_store
    feed_id, first, second = await _two_chats(store)
    await store.set_subscription_paused(first, True, now=T0)
    await store.ensure_chat(3)
    await _wait_for_the_row(
        url,
        feed_id,
        [
            store.add_subscription(3, feed_id),
            store.resume_subscription(first),
            store.set_subscription_paused(second, True, now=T0),
        ],
    )
    await _wait_for_the_row(url, feed_id, [store.remove_subscription(second)])
    await _wait_for_the_row(url, feed_id, [store.remove_all_subscriptions(3)])
    assert [sub.id for sub in (await store.followers(feed_id)).subscriptions] == [first]


async def test_a_commit_holds_its_feed_then_waits_for_its_chats(
    held_store: tuple[Store, str],
) -> None:
    """PostgreSQL: a commit with article keys locks the feed's row and then its chat's (one
    statement, ``Db.lock``): while another transaction holds the chat's row the commit
    waits there, already holding the feed's, and goes on once the chat is let go."""
    store, url = held_store
    feed_id, sub_id = await _followed_feed(store)
    item = PlannedDelivery(
        1, None, sub_id, feed_id, KEY, OutgoingMessage(text="story"),
        article_keys=("https://story.example/1",),
    )  # fmt: skip
    async with _connections(url, 2) as (holder, watcher):
        async with holder.transaction():
            # NO KEY: the outbox row's foreign key to the chat (KEY SHARE) does not wait for it.
            await holder.execute("SELECT id FROM chats WHERE id = 1 FOR NO KEY UPDATE")
            commit = asyncio.create_task(
                store.commit_entries(
                    feed_id, seen=[KEY], outbox=[item], now=T0, article_window=3600
                )
            )

            async def waiting_or_done() -> bool:
                return int(await watcher.fetchval(_WAITING)) == 1 or commit.done()

            await eventually(waiting_or_done, what="the commit to wait for the chat's row")
            assert not commit.done(), "the commit did not wait for the chat"
            async with watcher.transaction():
                with pytest.raises(asyncpg.LockNotAvailableError):
                    await watcher.execute(
                        "SELECT id FROM feeds WHERE id = $1 FOR UPDATE NOWAIT", feed_id
                    )
        assert await commit == 1


async def test_a_new_subscription_locks_a_chat_committed_while_it_waited(
    held_store: tuple[Store, str],
) -> None:
    """PostgreSQL: ``add_subscription_seeing`` waits for the feed's row, and the chat is
    committed meanwhile (``ensure_chat`` in another transaction). The chat's lock is a
    statement of its own, so it sees that row and waits for whoever holds it; a lock taken
    with the feed's in one statement would pick the chats from before the wait and skip it."""
    store, url = held_store
    feed_id, _ = await _followed_feed(store)
    async with _connections(url, 3) as (holder, chat_holder, watcher):
        async with chat_holder.transaction():
            async with holder.transaction():
                await holder.execute("SELECT id FROM feeds WHERE id = $1 FOR UPDATE", feed_id)
                adding = asyncio.create_task(store.add_subscription_seeing(2, feed_id, [KEY]))

                async def waiting_or_done() -> bool:
                    return int(await watcher.fetchval(_WAITING)) == 1 or adding.done()

                await eventually(waiting_or_done, what="the new subscription to wait for the feed")
                assert not adding.done(), "the new subscription did not wait for the feed"
                await store.ensure_chat(2)
                # NO KEY: the subscription's foreign key to the chat (KEY SHARE) does not
                # wait for it, so only an explicit lock of the chat's row does.
                await chat_holder.execute("SELECT id FROM chats WHERE id = 2 FOR NO KEY UPDATE")
            blocker = chat_holder.get_server_pid()

            async def waiting_for_the_chat_or_done() -> bool:
                waiting = await watcher.fetchval(_WAITING_FOR, blocker)
                return int(waiting) == 1 or adding.done()

            await eventually(
                waiting_for_the_chat_or_done, what="the new subscription to wait for the chat"
            )
            assert not adding.done(), "the new subscription did not wait for the chat"
        added = await adding
        assert added.subscription.chat_id == 2
        assert added.seen == frozenset()


async def test_commits_that_refer_to_each_others_article_chats_do_not_wait(
    held_store: tuple[Store, str],
) -> None:
    """PostgreSQL: feed G's commit holds chat 2 for its articles (``Db.lock``, replayed on
    a connection of the test's), and feed F's commit holds chat 1 for an article and
    queues a link-less entry for chat 2, whose foreign key takes KEY SHARE on chat 2's row.
    The article chats are held FOR NO KEY UPDATE, which KEY SHARE does not wait for: F's
    commit goes through. Held FOR UPDATE, it would wait, and with G queueing for chat 1 in
    turn the two would deadlock."""
    store, url = held_store
    feed_f, sub_f = await _followed_feed(store, chat_id=1, url="https://f.example/feed")
    feed_g, _ = await _followed_feed(store, chat_id=2, url="https://g.example/feed")
    sub_f2 = await store.add_subscription(2, feed_f)
    items = [
        PlannedDelivery(
            1, None, sub_f, feed_f, KEY, OutgoingMessage(text="story"),
            article_keys=("https://story.example/1",),
        ),
        PlannedDelivery(2, None, sub_f2.id, feed_f, KEY, OutgoingMessage(text="story")),
    ]  # fmt: skip
    statement = pg_lock_statement(feeds=[feed_g], chats=[2], referrers=False)
    assert statement is not None
    sql, params = statement
    async with _connections(url, 2) as (holder, watcher), holder.transaction():
        await holder.fetch(for_postgres(sql), *params)
        commit = asyncio.create_task(
            store.commit_entries(feed_f, seen=[KEY], outbox=items, now=T0, article_window=3600)
        )

        async def waiting_or_done() -> bool:
            return int(await watcher.fetchval(_WAITING)) == 1 or commit.done()

        await eventually(waiting_or_done, what="feed F's commit to end or wait")
        assert commit.done(), "feed F's commit waited for chat 2, held for G's articles"
        assert await commit == 2


async def test_a_new_subscription_waits_for_a_rival_insert_into_its_chat(
    held_store: tuple[Store, str],
) -> None:
    """PostgreSQL: another transaction has added chat 1's subscription number 2 and not
    committed (its foreign key holds the chat's row KEY SHARE). ``add_subscription_seeing``
    holds the chat FOR UPDATE (``referrers``), so it waits for that commit and then takes
    number 3; not waiting, it would pick number 2 as well and fail on the unique number."""
    store, url = held_store
    await _followed_feed(store, chat_id=1, url="https://a.example/feed")
    rival, _ = await store.get_or_create_feed(
        "https://b.example/feed", title="B", interval_seconds=300, now=T0
    )
    added, _ = await store.get_or_create_feed(
        "https://c.example/feed", title="C", interval_seconds=300, now=T0
    )
    async with _connections(url, 2) as (holder, watcher):
        async with holder.transaction():
            await holder.execute(
                "INSERT INTO subscriptions (chat_id, feed_id, number) VALUES (1, $1, 2)",
                rival.id,
            )
            adding = asyncio.create_task(store.add_subscription_seeing(1, added.id, [KEY]))

            async def waiting_or_done() -> bool:
                return int(await watcher.fetchval(_WAITING)) == 1 or adding.done()

            await eventually(waiting_or_done, what="the new subscription to wait for the rival")
            assert not adding.done(), "the new subscription did not wait for the rival insert"
        assert (await adding).subscription.number == 3
