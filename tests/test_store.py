"""The store on both engines (SQLite files, PostgreSQL databases): numbering, dedupe, the outbox;
and on SQLite files: schema, migrations and crash safety."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.models import (
    DisplayOptions,
    MessageEntity,
    OutgoingMessage,
    PlannedDelivery,
    SummaryMode,
)
from bot.store import (
    SCHEMA_VERSION,
    FailingFeed,
    OutboxHeads,
    Store,
    SubscriptionExists,
    UnknownChatError,
    database_errors,
    decode_message,
    decode_options,
    encode_message,
    encode_options,
)
from bot.store.schema import MIGRATIONS

REPO_ROOT = Path(__file__).resolve().parents[1]
T0 = 1_700_000_000.0


pytestmark = pytest.mark.both_engines


@pytest.fixture
def store(engine_store: Store) -> Store:
    """A fresh store on the test's engine: a real SQLite file, or a PostgreSQL database."""
    return engine_store


async def _followed_feed(
    store: Store, chat_id: int = 1, url: str = "https://a.example/feed"
) -> tuple[int, int]:
    """A chat following a feed; returns (feed_id, subscription_id)."""
    await store.ensure_chat(chat_id)
    feed, _ = await store.get_or_create_feed(url, title="A", interval_seconds=300, now=T0)
    sub = await store.add_subscription(chat_id, feed.id)
    return feed.id, sub.id


async def _two_chats(store: Store) -> tuple[int, int, int]:
    """Chats 1 and 2 following one feed; returns (feed_id, sub of chat 1, sub of chat 2)."""
    feed_id, sub_1 = await _followed_feed(store, chat_id=1)
    await store.ensure_chat(2)
    return feed_id, sub_1, (await store.add_subscription(2, feed_id)).id


def _item(
    chat_id: int, sub_id: int, feed_id: int, key: str, *, backlog: bool = False
) -> PlannedDelivery:
    return PlannedDelivery(
        chat_id, None, sub_id, feed_id, key, OutgoingMessage(text=key), backlog=backlog
    )


def _count(path: Path, sql: str) -> int:
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(raw.execute(sql).fetchone()[0])
    finally:
        raw.close()


async def test_migrations_set_version_and_reopen_is_idempotent(tmp_path: Path) -> None:
    """A new file gets every table and the current version; opening again changes nothing."""
    path = tmp_path / "nested" / "dir" / "bot.db"
    store = await Store.open(path)
    assert await store.schema_version() == SCHEMA_VERSION
    await store.ensure_chat(7, kind="group", title="G")
    await store.close()
    with sqlite3.connect(path) as raw:
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"chats", "feeds", "subscriptions", "seen", "outbox", "deliveries"} <= tables
    again = await Store.open(path)
    assert await again.schema_version() == SCHEMA_VERSION
    assert (await again.get_chat(7)) is not None
    await again.close()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A file written by a newer program is not guessed at."""
    path = tmp_path / "bot.db"
    await (await Store.open(path)).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        await Store.open(path)


async def test_filters_stored_before_operators_keep_their_meaning(tmp_path: Path) -> None:
    """Migration 7 respells an older file's filters: its `OR` and `(a` were words."""
    path = tmp_path / "bot.db"
    with contextlib.closing(sqlite3.connect(path)) as raw:
        for script in MIGRATIONS[:3]:
            raw.executescript(script)
        raw.executescript(
            """
            INSERT INTO chats (id, filter_expr) VALUES (1, '(a OR b)'), (2, '');
            INSERT INTO feeds (id, url, interval_seconds, next_fetch_at, created_at)
                VALUES (1, 'https://a.example/feed', 300, 0, 0);
            INSERT INTO subscriptions (chat_id, feed_id, number, filter_expr)
                VALUES (1, 1, 1, '乌克兰 OR 俄罗斯 re:Invent'), (2, 1, 1, '');
            PRAGMA user_version = 3;
            """
        )
    store = await Store.open(path)
    try:
        chats = [await store.get_chat(chat_id) for chat_id in (1, 2)]
        assert [chat.filter_expr if chat else None for chat in chats] == ['\\(a "OR" b\\)', ""]
        subs = [*await store.list_subscriptions(1), *await store.list_subscriptions(2)]
        assert [sub.filter_expr for sub in subs] == ['乌克兰 "OR" 俄罗斯 re\\:Invent', ""]
    finally:
        await store.close()


async def test_state_survives_close_and_reopen(tmp_path: Path) -> None:
    """Chats, feeds, subscriptions, seen keys and the outbox are all on disk."""
    path = tmp_path / "bot.db"
    store = await Store.open(path)
    feed_id, sub_id = await _followed_feed(store)
    await store.set_chat_language(1, "zh")
    await store.set_subscription_filter(sub_id, "+rust -crypto")
    options = DisplayOptions(pictures=False, album=True, summary=SummaryMode.NONE)
    await store.set_subscription_options(sub_id, options)
    await store.commit_entries(feed_id, seen=["a"], outbox=[_item(1, sub_id, feed_id, "a")], now=T0)
    await store.close()

    store = await Store.open(path)
    chat = await store.get_chat(1)
    assert chat is not None
    assert chat.language == "zh"
    sub = await store.get_subscription(1, 1)
    assert sub is not None
    assert (sub.filter_expr, sub.options) == ("+rust -crypto", options)
    assert await store.unseen_keys(feed_id, ["a", "b"]) == ["b"]
    assert [r.entry_key for r in await store.pending_outbox(T0, 10)] == ["a"]
    await store.close()


async def test_feed_row_is_shared_by_two_chats(store: Store) -> None:
    """One URL is one feed row, fetched once for every chat that follows it."""
    feed_id, sub_a = await _followed_feed(store, chat_id=1)
    again, created = await store.get_or_create_feed(
        "https://a.example/feed", title="other", interval_seconds=60, now=T0 + 5
    )
    assert (again.id, created, again.title) == (feed_id, False, "A")
    await store.ensure_chat(2)
    sub_b = await store.add_subscription(2, feed_id)
    assert [s.id for s in (await store.followers(feed_id)).subscriptions] == [sub_a, sub_b.id]
    assert (await store.stats()).feeds == 1


async def test_followers_come_with_their_chats(store: Store) -> None:
    """``followers``: the subscriptions that get new entries and, read with them, their
    chats as ``get_chat`` reads them; a paused one and an inactive chat's are left out."""
    feed_id, sub_1, sub_2 = await _two_chats(store)
    await store.ensure_chat(3)
    sub_3 = (await store.add_subscription(3, feed_id)).id
    await store.ensure_chat(4)
    sub_4 = (await store.add_subscription(4, feed_id)).id
    await store.set_chat_filter(1, "+熊猫")
    await store.set_chat_language(1, "zh")
    await store.set_chat_timezone(2, "Asia/Shanghai")
    await store.set_subscription_filter(sub_2, "-sport")
    await store.set_subscription_paused(sub_3, True, now=T0)
    await store.set_chat_active(4, False, reason="blocked")
    followers = await store.followers(feed_id)
    assert [(sub.id, sub.filter_expr) for sub in followers.subscriptions] == [
        (sub_1, ""),
        (sub_2, "-sport"),
    ]
    assert followers.chats == {1: await store.get_chat(1), 2: await store.get_chat(2)}
    assert (followers.chats[1].filter_expr, followers.chats[1].language) == ("+熊猫", "zh")
    assert followers.chats[2].timezone == "Asia/Shanghai"
    assert sub_4 not in {sub.id for sub in followers.subscriptions}


async def test_new_feed_is_due_one_interval_later(store: Store) -> None:
    """A new feed waits one interval: the subscribe flow fetches it right away itself."""
    feed, created = await store.get_or_create_feed(
        "https://b.example/", title="B", interval_seconds=120, now=T0
    )
    assert created
    assert feed.next_fetch_at == T0 + 120
    assert feed == await store.get_feed(feed.id)


async def test_numbering_reuses_smallest_free_number(store: Store) -> None:
    """Users type #N, so removed numbers are handed out again, lowest first."""
    await store.ensure_chat(1)
    subs = []
    for i in range(4):
        feed, _ = await store.get_or_create_feed(
            f"https://{i}.example/", title="", interval_seconds=60, now=T0
        )
        subs.append(await store.add_subscription(1, feed.id))
    assert [s.number for s in subs] == [1, 2, 3, 4]
    await store.remove_subscription(subs[1].id)
    await store.remove_subscription(subs[0].id)
    numbers = []
    for i in range(4, 7):
        feed, _ = await store.get_or_create_feed(
            f"https://{i}.example/", title="", interval_seconds=60, now=T0
        )
        numbers.append((await store.add_subscription(1, feed.id)).number)
    assert numbers == [1, 2, 5]
    assert [s.number for s in await store.list_subscriptions(1)] == [1, 2, 3, 4, 5]
    assert await store.count_subscriptions(1) == 5


async def test_second_subscription_raises_with_the_existing_one(store: Store) -> None:
    """Subscribing twice names the subscription the chat already has."""
    feed_id, sub_id = await _followed_feed(store)
    with pytest.raises(SubscriptionExists) as caught:
        await store.add_subscription(1, feed_id)
    assert caught.value.existing.id == sub_id
    assert caught.value.existing.url == "https://a.example/feed"


async def test_forum_topics_follow_a_feed_separately(store: Store) -> None:
    """Uniqueness is per (chat, topic, feed); "no topic" counts as one topic."""
    feed_id, _ = await _followed_feed(store)
    in_topic = await store.add_subscription(1, feed_id, thread_id=5)
    assert (in_topic.thread_id, in_topic.number) == (5, 2)
    with pytest.raises(SubscriptionExists):
        await store.add_subscription(1, feed_id, thread_id=5)
    with pytest.raises(SubscriptionExists):
        await store.add_subscription(1, feed_id, thread_id=None)
    first = await store.get_subscription(1, 1)
    assert first is not None
    assert first.thread_id is None
    found = await store.find_subscription(1, "https://a.example/feed")
    assert found is not None
    assert found.number == 1


async def test_subscribing_an_unknown_chat_is_refused(store: Store) -> None:
    """ensure_chat comes first; the store does not invent a chat kind."""
    feed, _ = await store.get_or_create_feed(
        "https://c.example/", title="", interval_seconds=60, now=T0
    )
    with pytest.raises(UnknownChatError):
        await store.add_subscription(99, feed.id)


async def test_ensure_chat_updates_names_but_never_reactivates(store: Store) -> None:
    """A blocked chat stays inactive until /start explicitly reactivates it."""
    await store.ensure_chat(-100, kind="channel", title="News")
    await store.set_chat_active(-100, False, reason="blocked")
    chat = await store.ensure_chat(-100, kind="channel", title="")
    assert (chat.title, chat.active, chat.deactivated_reason) == ("News", False, "blocked")
    await store.set_chat_active(-100, True)
    chat = await store.ensure_chat(-100, kind="channel", title="Renamed")
    assert (chat.title, chat.active, chat.deactivated_reason) == ("Renamed", True, None)
    await store.set_chat_filter(-100, "+熊猫")
    fetched = await store.get_chat(-100)
    assert fetched is not None
    assert fetched.filter_expr == "+熊猫"
    assert await store.get_chat(12345) is None


async def test_unseen_keys_keep_input_order(store: Store) -> None:
    """Unseen keys come back once each, in the order given, for a thousand keys at once."""
    feed_id, _ = await _followed_feed(store)
    keys = [f"key-{i}" for i in range(1000)]
    await store.commit_entries(feed_id, seen=keys[::2], outbox=[], now=T0)
    assert await store.unseen_keys(feed_id, [*reversed(keys), "key-1"]) == list(
        reversed(keys[1::2])
    )
    other, _ = await store.get_or_create_feed(
        "https://o.example/", title="", interval_seconds=60, now=T0
    )
    assert await store.unseen_keys(other.id, ["key-0"]) == ["key-0"]


async def test_a_read_that_finds_all_seen_forgets_what_departed(store: Store) -> None:
    """``forget_before``: old keys the feed no longer carries go once nothing asked is new;
    while something is new, nothing goes (the caller queues first, then prunes)."""
    feed_id, _ = await _followed_feed(store)
    await store.commit_entries(feed_id, seen=["gone", "kept", "carried"], outbox=[], now=T0)
    await store.commit_entries(feed_id, seen=["young"], outbox=[], now=T0 + 100)
    later = T0 + 50
    assert await store.unseen_keys(feed_id, ["carried", "new"], forget_before=later) == ["new"]
    assert await store.unseen_keys(feed_id, ["gone", "kept"]) == []  # nothing forgotten
    # Every key asked is seen (one spelled twice): the departed keys first seen before
    # ``later`` go; the carried one and the younger one stay.
    asked = ["carried", "kept", "carried"]
    assert await store.unseen_keys(feed_id, asked, forget_before=later) == []
    assert await store.unseen_keys(feed_id, ["gone", "kept", "young"]) == ["gone"]


async def test_hostile_keys_and_titles_are_stored(store: Store) -> None:
    """A lone surrogate from a hostile feed must not make every refresh of the feed fail."""
    feed_id, sub_id = await _followed_feed(store)
    key = "guid-\ud800"
    assert await store.unseen_keys(feed_id, [key]) == [key]
    message = OutgoingMessage(text="bad \udfff text")
    item = PlannedDelivery(1, None, sub_id, feed_id, key, message)
    assert await store.commit_entries(feed_id, seen=[key], outbox=[item], now=T0) == 1
    assert await store.unseen_keys(feed_id, [key]) == []
    await store.record_fetch_failure(feed_id, next_fetch_at=T0, error="\udcff", now=T0)
    [row] = await store.pending_outbox(T0, 10)
    assert row.message == message


async def test_racing_refreshes_queue_each_entry_once(store: Store) -> None:
    """Two refreshes that both saw the keys as new queue the entries once between them."""
    feed_id, sub_id = await _followed_feed(store)
    keys = await store.unseen_keys(feed_id, ["a", "b", "c"])
    items = [_item(1, sub_id, feed_id, k) for k in keys]
    first, second = await asyncio.gather(
        store.commit_entries(feed_id, seen=keys, outbox=items, now=T0),
        store.commit_entries(feed_id, seen=keys, outbox=items, now=T0),
    )
    assert sorted([first, second]) == [0, 3]
    assert await store.commit_entries(feed_id, seen=keys, outbox=items, now=T0 + 1) == 0
    assert [r.entry_key for r in await store.pending_outbox(T0, 10)] == ["a", "b", "c"]


async def test_backlog_items_are_queued_although_seen(store: Store) -> None:
    """After /sub the newest entries go out even though other chats already saw them."""
    feed_id, sub_id = await _followed_feed(store)
    await store.commit_entries(feed_id, seen=["old", "older"], outbox=[], now=T0)
    items = [_item(1, sub_id, feed_id, "old", backlog=True), _item(1, sub_id, feed_id, "older")]
    assert await store.commit_entries(feed_id, seen=[], outbox=items, now=T0) == 1
    [row] = await store.pending_outbox(T0, 10)
    assert row.entry_key == "old"


async def test_queued_keys_count_as_seen_and_repeats_are_dropped(store: Store) -> None:
    """A key queued but left out of `seen` is never queued again; a repeat in a call is dropped."""
    feed_id, sub_id = await _followed_feed(store)
    twice = [_item(1, sub_id, feed_id, "x"), _item(1, sub_id, feed_id, "x")]
    assert await store.commit_entries(feed_id, seen=[], outbox=twice, now=T0) == 1
    assert await store.unseen_keys(feed_id, ["x"]) == []


async def test_outbox_is_oldest_first_and_respects_not_before(store: Store) -> None:
    """Rows come out in insertion order, only once due, and the limit holds."""
    feed_id, sub_id = await _followed_feed(store)
    keys = ["e3", "e1", "e2", "e0"]
    await store.commit_entries(
        feed_id, seen=keys, outbox=[_item(1, sub_id, feed_id, k) for k in keys], now=T0
    )
    rows = await store.pending_outbox(T0, 10)
    assert [r.entry_key for r in rows] == keys
    assert [r.entry_key for r in await store.pending_outbox(T0, 2)] == keys[:2]
    assert await store.pending_outbox(T0 - 1, 10) == []
    assert (rows[0].attempts, rows[0].not_before, rows[0].created_at) == (0, T0, T0)
    assert (await store.outbox_heads(T0 - 1, 10)).next_at == T0


async def test_defer_counts_attempts_and_holds_the_row(store: Store) -> None:
    """A deferred row waits until its time and remembers its last error."""
    feed_id, sub_id = await _followed_feed(store)
    await store.commit_entries(
        feed_id, seen=["a", "b"], outbox=[_item(1, sub_id, feed_id, k) for k in "ab"], now=T0
    )
    first, _ = await store.pending_outbox(T0, 10)
    await store.defer(first.id, not_before=T0 + 30, error="timed out")
    await store.defer(first.id, not_before=T0 + 60)
    assert [r.entry_key for r in await store.pending_outbox(T0 + 59, 10)] == ["b"]
    # The chat's head is held back, so its later row does not overtake it.
    assert (await store.outbox_heads(T0 + 59, 10)).ready == []
    assert [r.entry_key for r in (await store.outbox_heads(T0 + 60, 10)).ready] == ["a"]
    later = await store.pending_outbox(T0 + 60, 10)
    assert (later[0].entry_key, later[0].attempts, later[0].not_before) == ("a", 2, T0 + 60)
    await store.mark_delivered(later[1].id, now=T0)
    assert (await store.outbox_heads(T0, 10)).next_at == T0 + 60


async def test_defer_chat_holds_only_that_chat(store: Store) -> None:
    """A 429 for one chat holds that chat's queue and nobody else's, and never shortens a wait."""
    feed_id, sub_1, sub_2 = await _two_chats(store)
    items = [
        _item(1, sub_1, feed_id, "a"),
        _item(2, sub_2, feed_id, "a"),
        _item(1, sub_1, feed_id, "b"),
    ]
    await store.commit_entries(feed_id, seen=["a", "b"], outbox=items, now=T0)
    first = (await store.pending_outbox(T0, 10))[0]
    await store.defer(first.id, not_before=T0 + 500)
    await store.defer_chat(1, not_before=T0 + 100)
    assert [r.chat_id for r in await store.pending_outbox(T0 + 99, 10)] == [2]
    ready = await store.pending_outbox(T0 + 100, 10)
    assert [(r.chat_id, r.entry_key, r.attempts) for r in ready] == [(2, "a", 0), (1, "b", 0)]
    assert [(r.chat_id, r.entry_key) for r in (await store.outbox_heads(T0 + 500, 10)).ready] == [
        (1, "a"),
        (2, "a"),
    ]


async def test_heads_say_when_the_first_waiting_head_is_ready(store: Store) -> None:
    """``next_at`` is the earliest wait among the heads not ready, whatever the limit cut;
    a ready head, or a row behind a head, does not count."""
    feed_id, sub_1, sub_2 = await _two_chats(store)
    feed_3, sub_3 = await _followed_feed(store, chat_id=3, url="https://c.example/f")
    items = [_item(1, sub_1, feed_id, "a"), _item(1, sub_1, feed_id, "b")]
    await store.commit_entries(feed_id, seen=["a", "b"], outbox=items, now=T0)
    await store.commit_entries(feed_3, seen=["c"], outbox=[_item(3, sub_3, feed_3, "c")], now=T0)
    await store.commit_entries(
        feed_id, seen=[], outbox=[_item(2, sub_2, feed_id, "a", backlog=True)], now=T0
    )
    await store.defer_chat(2, not_before=T0 + 30)
    await store.defer_chat(3, not_before=T0 + 20)
    heads = await store.outbox_heads(T0, 1)
    assert ([r.entry_key for r in heads.ready], heads.next_at) == (["a"], T0 + 20)
    heads = await store.outbox_heads(T0 + 20, 10)
    assert ([r.chat_id for r in heads.ready], heads.next_at) == ([1, 3], T0 + 30)
    heads = await store.outbox_heads(T0 + 30, 10)
    assert ([r.chat_id for r in heads.ready], heads.next_at) == ([1, 3, 2], None)


async def test_delivered_and_failed_rows_leave_the_queue(store: Store) -> None:
    """Delivered rows are deleted and counted; failed rows stay for the record, never retried."""
    feed_id, sub_id = await _followed_feed(store)
    await store.commit_entries(
        feed_id, seen=[], outbox=[_item(1, sub_id, feed_id, k) for k in "abc"], now=T0
    )
    a, b, c = await store.pending_outbox(T0, 10)
    await store.mark_delivered(a.id, now=T0)
    await store.mark_delivered(a.id, now=T0)  # a repeated call counts nothing
    await store.mark_failed(b.id, error="Bad request: message is too long", now=T0)
    await store.replace_outbox_message(c.id, OutgoingMessage(text="plain", plain_text="plain"))
    [left] = await store.pending_outbox(T0, 10)
    assert (left.id, left.message.plain_text) == (c.id, "plain")
    stats = await store.stats()
    assert (stats.delivered, stats.pending, stats.failed) == (1, 1, 1)
    assert await store.delivered_since(T0) == 1
    assert await store.purge_failed(T0 + 1) == 1
    assert (await store.stats()).failed == 0


async def test_blocked_chat_fails_its_queue_and_waits(store: Store) -> None:
    """A 403 fails the chat's pending rows; an inactive chat's rows are not handed out."""
    feed_id, sub_1, sub_2 = await _two_chats(store)
    items = [
        _item(1, sub_1, feed_id, "a"),
        _item(1, sub_1, feed_id, "b"),
        _item(2, sub_2, feed_id, "a"),
    ]
    await store.commit_entries(feed_id, seen=["a", "b"], outbox=items, now=T0)
    assert (
        await store.fail_chat_outbox(1, error="Forbidden: bot was blocked by the user", now=T0) == 2
    )
    await store.set_chat_active(2, False, reason="kicked")
    assert await store.pending_outbox(T0, 10) == []
    assert await store.outbox_heads(T0 - 1, 10) == OutboxHeads([], None)
    await store.set_chat_active(2, True)
    assert [r.chat_id for r in await store.pending_outbox(T0, 10)] == [2]


async def test_blocked_chat_is_no_subscriber_until_reactivated(store: Store) -> None:
    """A refresh queues nothing for a chat that blocked the bot; /start brings it back."""
    feed_id, sub_id = await _followed_feed(store, chat_id=2)
    await store.set_chat_active(2, False, reason="blocked")
    assert (await store.followers(feed_id)).subscriptions == []
    await store.set_chat_active(2, True)
    assert [sub.id for sub in (await store.followers(feed_id)).subscriptions] == [sub_id]


async def test_paused_subscription_rows_wait(store: Store) -> None:
    """Pausing stops deliveries at once; resuming sends what was queued before the pause."""
    feed_id, sub_id = await _followed_feed(store)
    await store.commit_entries(feed_id, seen=["a"], outbox=[_item(1, sub_id, feed_id, "a")], now=T0)
    await store.set_subscription_paused(sub_id, True)
    assert await store.pending_outbox(T0, 10) == []
    assert (await store.followers(feed_id)).subscriptions == []
    await store.set_subscription_paused(sub_id, False)
    assert len(await store.pending_outbox(T0, 10)) == 1


async def test_removing_a_subscription_drops_its_queue_but_keeps_failures(store: Store) -> None:
    """Unsubscribing stops pending messages; failed records stay, detached."""
    feed_id, sub_id = await _followed_feed(store)
    await store.commit_entries(
        feed_id, seen=[], outbox=[_item(1, sub_id, feed_id, k) for k in "ab"], now=T0
    )
    a, _ = await store.pending_outbox(T0, 10)
    await store.mark_failed(a.id, error="x", now=T0)
    await store.remove_subscription(sub_id)
    stats = await store.stats()
    assert (stats.pending, stats.failed, stats.subscriptions) == (0, 1, 0)
    assert await store.get_subscription_by_id(sub_id) is None
    assert await store.delete_orphan_feeds() == 1
    assert await store.get_feed(feed_id) is None
    assert (await store.stats()).failed == 0


async def test_remove_all_subscriptions_of_a_chat(store: Store) -> None:
    """`/unsub all` removes the chat's subscriptions and queue, and only the chat's."""
    feed_id, sub_1, sub_2 = await _two_chats(store)
    await _followed_feed(store, chat_id=1, url="https://z.example/")
    items = [_item(1, sub_1, feed_id, "a"), _item(2, sub_2, feed_id, "a")]
    await store.commit_entries(feed_id, seen=["a"], outbox=items, now=T0)
    assert await store.remove_all_subscriptions(1) == 2
    assert [r.chat_id for r in await store.pending_outbox(T0, 10)] == [2]
    assert await store.list_subscriptions(1) == []


async def test_migrate_chat_moves_everything_to_the_supergroup(store: Store) -> None:
    """Subscriptions, settings and queue follow a group upgraded to a supergroup."""
    feed_a, sub_a = await _followed_feed(store, chat_id=-5, url="https://a.example/")
    feed_b, sub_b = await _followed_feed(store, chat_id=-5, url="https://b.example/")
    await store.set_chat_language(-5, "zh")
    await store.set_chat_filter(-5, "-ads")
    await store.set_chat_timezone(-5, "Asia/Shanghai")
    await store.commit_entries(feed_a, seen=[], outbox=[_item(-5, sub_a, feed_a, "a1")], now=T0)
    await store.commit_entries(feed_b, seen=[], outbox=[_item(-5, sub_b, feed_b, "b1")], now=T0)
    # The supergroup already follows feed b as #1, queued with the same entry.
    await store.ensure_chat(-1005, kind="supergroup", title="Super")
    twin = await store.add_subscription(-1005, feed_b)
    await store.commit_entries(
        feed_b, seen=[], outbox=[_item(-1005, twin.id, feed_b, "b1", backlog=True)], now=T0
    )

    await store.migrate_chat(-5, -1005)

    assert await store.get_chat(-5) is None
    chat = await store.get_chat(-1005)
    assert chat is not None
    assert (chat.kind, chat.title, chat.language, chat.filter_expr, chat.timezone) == (
        "supergroup",
        "Super",
        "zh",
        "-ads",
        "Asia/Shanghai",
    )
    assert [(s.number, s.feed_id) for s in await store.list_subscriptions(-1005)] == [
        (1, feed_b),
        (2, feed_a),
    ]
    rows = await store.pending_outbox(T0, 10)
    assert sorted((r.chat_id, r.entry_key) for r in rows) == [(-1005, "a1"), (-1005, "b1")]
    assert await store.get_subscription_by_id(sub_b) is None


async def test_migrate_chat_to_a_new_id_keeps_numbers(store: Store) -> None:
    """Without a supergroup row yet, the group's row and numbers move as they are."""
    _, sub_id = await _followed_feed(store, chat_id=-5)
    await store.set_chat_active(-5, False, reason="kicked")
    await store.migrate_chat(-5, -1009)
    chat = await store.get_chat(-1009)
    assert chat is not None
    assert (chat.kind, chat.active, chat.deactivated_reason) == ("supergroup", False, "kicked")
    moved = await store.get_subscription_by_id(sub_id)
    assert moved is not None
    assert (moved.chat_id, moved.number) == (-1009, 1)


async def test_due_feeds_only_while_someone_listens(store: Store) -> None:
    """Feeds nobody actively follows are not fetched; the rest come soonest first."""
    feed_a, sub_a = await _followed_feed(store, chat_id=1, url="https://a.example/")
    feed_b, _ = await _followed_feed(store, chat_id=2, url="https://b.example/")
    feed_c, _ = await _followed_feed(store, chat_id=3, url="https://c.example/")
    for feed_id, due in ((feed_a, T0 + 30), (feed_b, T0 + 10), (feed_c, T0 + 20)):
        await store.record_fetch_success(
            feed_id, next_fetch_at=due, etag=None, last_modified=None, body_hash=None, now=T0
        )
    assert [f.id for f in await store.due_feeds(T0 + 30, 10)] == [feed_b, feed_c, feed_a]
    assert [f.id for f in await store.due_feeds(T0 + 30, 1)] == [feed_b]
    assert [f.id for f in await store.due_feeds(T0 + 15, 10)] == [feed_b]
    await store.set_subscription_paused(sub_a, True)
    await store.set_chat_active(2, False, reason="blocked")
    assert [f.id for f in await store.due_feeds(T0 + 30, 10)] == [feed_c]
    assert await store.next_due_time() == T0 + 20
    await store.set_chat_active(3, False)
    assert await store.next_due_time() is None


async def test_fetch_results_and_failing_feeds_in_stats(store: Store) -> None:
    """Failures count up with their message and a success clears them."""
    feed_id, _ = await _followed_feed(store)
    for _ in range(2):
        await store.record_fetch_failure(feed_id, next_fetch_at=T0 + 60, error="HTTP 503", now=T0)
    feed = await store.get_feed(feed_id)
    assert feed is not None
    assert (feed.error_count, feed.last_error, feed.next_fetch_at) == (2, "HTTP 503", T0 + 60)
    stats = await store.stats()
    assert stats.failing_feeds == (
        FailingFeed("https://a.example/feed", 2, "HTTP 503", T0 + 60, failing_since=T0),
    )
    assert (stats.chats, stats.active_chats, stats.subscriptions) == (1, 1, 1)
    listed = await store.list_subscriptions(1)
    assert listed[0].last_error == "HTTP 503"
    await store.record_fetch_success(
        feed_id, next_fetch_at=T0 + 300, etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT",
        body_hash="h", title="德国之声", now=T0,
    )  # fmt: skip
    feed = await store.get_feed(feed_id)
    assert feed is not None
    assert (feed.error_count, feed.last_error, feed.etag, feed.title) == (
        0,
        None,
        '"v1"',
        "德国之声",
    )
    await store.record_fetch_success(
        feed_id, next_fetch_at=T0, etag=None, last_modified=None, body_hash=None, title="", now=T0
    )
    assert (await store.get_feed(feed_id) or feed).title == "德国之声"
    assert (await store.stats()).failing_feeds == ()


async def test_failed_transaction_leaves_nothing_half_written(store: Store) -> None:
    """An error mid-transaction rolls back the rows already inserted and the seen keys."""
    feed_id, sub_id = await _followed_feed(store)
    items = [_item(1, sub_id, feed_id, "a"), _item(404, sub_id, feed_id, "b")]  # chat 404 unknown
    with pytest.raises(database_errors(), match=r"(?i)foreign key"):
        await store.commit_entries(feed_id, seen=["a", "b"], outbox=items, now=T0)
    assert await store.unseen_keys(feed_id, ["a", "b"]) == ["a", "b"]
    assert await store.pending_outbox(T0, 10) == []
    assert await store.engine.read(lambda db: db.scalar("SELECT COUNT(*) FROM outbox")) == 0
    # The store is still usable after the rollback.
    assert await store.commit_entries(feed_id, seen=["a"], outbox=items[:1], now=T0) == 1


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 5, 8])
async def test_cancelled_commit_is_all_or_nothing(store: Store, steps: int) -> None:
    """A refresh cancelled at any await commits all or nothing, and the store goes on working."""
    feed_id, sub_id = await _followed_feed(store)
    keys = [f"k{i}" for i in range(200)]
    items = [_item(1, sub_id, feed_id, k) for k in keys]
    task = asyncio.create_task(store.commit_entries(feed_id, seen=keys, outbox=items, now=T0))
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    queued = len(await store.pending_outbox(T0, 1000))
    unseen = await store.unseen_keys(feed_id, keys)
    assert (queued, len(unseen)) in {(0, 200), (200, 0)}
    assert await store.commit_entries(feed_id, seen=unseen, outbox=items, now=T0) == 200 - queued


def _outbox_rows(path: Path) -> int:
    """Rows the child has committed so far, read by another connection (0 before the schema)."""
    try:
        return _count(path, "SELECT COUNT(*) FROM outbox")
    except sqlite3.OperationalError:  # the file or its tables do not exist yet
        return 0


_CHILD = """
import asyncio, sys
from bot.models import OutgoingMessage, PlannedDelivery
from bot.store import Store

async def main() -> None:
    store = await Store.open(sys.argv[1])
    await store.ensure_chat(1)
    feed, _ = await store.get_or_create_feed("https://k/", title="", interval_seconds=60, now=0)
    sub = await store.add_subscription(1, feed.id)
    for i in range(100_000):
        key = f"k{i}"
        item = PlannedDelivery(1, None, sub.id, feed.id, key, OutgoingMessage(text="x" * 2000))
        seen = [key, *(f"{key}-extra{j}" for j in range(3000))]
        await store.commit_entries(feed.id, seen=seen, outbox=[item], now=float(i))

asyncio.run(main())
"""


async def test_sigkill_mid_stream_leaves_whole_transactions(tmp_path: Path) -> None:
    """A process killed while committing leaves every entry either fully committed or absent."""
    path = tmp_path / "bot.db"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(_CHILD))
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(path), cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # Kill at a moment unrelated to the child's loop: it spends most of its time
        # inside transactions, so the kill usually lands in the middle of one.
        async with asyncio.timeout(30):
            while _outbox_rows(path) < 20:
                assert child.returncode is None, "the child died on its own"
                await asyncio.sleep(0.005)
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL

    store = await Store.open(path)
    rows = await store.pending_outbox(1e12, 1_000_000)
    keys = [row.entry_key for row in rows]
    assert len(keys) >= 20
    assert keys == [f"k{i}" for i in range(len(keys))]
    assert _count(path, "SELECT COUNT(*) FROM seen") == 3001 * len(keys)
    await store.close()


_entities = st.builds(
    MessageEntity,
    type=st.sampled_from(["bold", "text_link", "pre", "custom_emoji"]),
    offset=st.integers(0, 4096),
    length=st.integers(1, 4096),
    url=st.none() | st.text(max_size=50),
    language=st.none() | st.text(max_size=10),
)
_texts = st.text(
    st.characters(codec=None, categories=["L", "N", "P", "S", "Z", "Cs", "Cc"]), max_size=80
)


@given(
    st.builds(
        OutgoingMessage,
        text=_texts,
        entities=st.tuples(*[_entities] * 2) | st.just(()),
        link_preview_url=st.none() | _texts,
        photo_urls=st.lists(_texts, max_size=3).map(tuple),
        caption=_texts,
        caption_entities=st.lists(_entities, max_size=3).map(tuple),
        plain_text=_texts,
    )
)
def test_message_codec_round_trips(message: OutgoingMessage) -> None:
    """Every field of a message survives the JSON form, lone surrogates included."""
    payload = encode_message(message)
    assert payload.isascii()
    assert decode_message(payload) == message


@given(
    st.builds(
        DisplayOptions, st.booleans(), st.booleans(), st.booleans(), st.sampled_from(SummaryMode)
    )
)
def test_options_codec_round_trips(options: DisplayOptions) -> None:
    """Display options survive their JSON form."""
    assert decode_options(encode_options(options)) == options


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("{}", DisplayOptions()),
        ('{"pictures": false}', DisplayOptions(pictures=False)),
        ('{"summary": "none", "future_key": 1}', DisplayOptions(summary=SummaryMode.NONE)),
        ('{"summary": "bogus", "album": "yes"}', DisplayOptions()),
        ("not json", DisplayOptions()),
        ("[]", DisplayOptions()),
        (None, DisplayOptions()),
    ],
)
def test_options_decoding_tolerates_old_and_new_rows(
    stored: str | None, expected: DisplayOptions
) -> None:
    """Rows written by other versions load with defaults for what they lack."""
    assert decode_options(stored) == expected


def test_message_decoding_fills_missing_fields() -> None:
    """An older payload with only text still loads; a non-object is an error, not a crash later."""
    assert decode_message('{"text": "hi"}') == OutgoingMessage(text="hi")
    with pytest.raises(ValueError, match="object"):
        decode_message("[1]")


async def test_pause_time_is_kept_until_resume(store: Store) -> None:
    """The first pause time is recorded, survives a second pause and is cleared on resume."""
    _, sub_id = await _followed_feed(store)
    assert await store.paused_since(sub_id) is None
    await store.set_subscription_paused(sub_id, True, now=T0)
    await store.set_subscription_paused(sub_id, True, now=T0 + 50)
    assert await store.paused_since(sub_id) == T0
    sub = await store.get_subscription_by_id(sub_id)
    assert sub is not None
    assert sub.paused
    await store.set_subscription_paused(sub_id, False)
    assert await store.paused_since(sub_id) is None
    await store.set_subscription_paused(sub_id, True, now=T0 + 90)
    assert await store.paused_since(sub_id) == T0 + 90


async def test_resuming_reads_the_keys_first_seen_since_the_pause(store: Store) -> None:
    """Only keys first seen at or after the pause come back; the subscription runs again;
    one not paused (any more) has no pause to offer."""
    feed_id, sub_id = await _followed_feed(store)
    await store.commit_entries(feed_id, seen=["old"], outbox=[], now=T0)
    await store.set_subscription_paused(sub_id, True, now=T0 + 10)
    await store.commit_entries(feed_id, seen=["new-1", "new-2"], outbox=[], now=T0 + 10)
    await store.commit_entries(feed_id, seen=["old", "new-1"], outbox=[], now=T0 + 20)
    found = await store.resume_subscription(sub_id, ["new-2", "unknown", "old", "new-1"])
    assert found == {"new-2", "new-1"}
    assert await store.paused_since(sub_id) is None
    assert [sub.id for sub in (await store.followers(feed_id)).subscriptions] == [sub_id]
    assert await store.resume_subscription(sub_id, ["new-1"]) is None
