"""The backlog of /sub and /resume is what the feed had seen at the change, read in the
change's own transaction under the feed's row (``add_subscription_seeing``,
``resume_subscription``): a refresh committing right after the change brings the newer
entries to the newcomer, and the backlog does not offer them a second time."""

from __future__ import annotations

import pytest

from bot.models import Entry, ParsedFeed
from bot.pipeline import (
    EverySubscriber,
    NewSubscriber,
    Queued,
    ResumedSubscriber,
    backlog_keys,
    queue_entries,
)
from bot.store import Store
from tests.test_store import T0, _followed_feed, _two_chats
from tests.test_store_audience import _wait_for_the_row

pytestmark = pytest.mark.both_engines

NEWCOMER = 2


@pytest.fixture
def store(engine_store: Store) -> Store:
    return engine_store


def _doc(*numbers: int) -> ParsedFeed:
    """A document listing entries ``numbers`` (keys ``id:N``), newest first as feeds do."""
    entries = [
        Entry(key=f"id:{n}", title=f"Entry {n}", link=f"https://n.example/{n}") for n in numbers
    ]
    return ParsedFeed(title="News", link="https://n.example/", entries=tuple(entries[::-1]))


async def _keys(store: Store, chat_id: int) -> list[str]:
    """The entry keys queued for the chat, one per row: a key twice is a duplicate."""
    rows = await store.pending_outbox(T0 + 10**6, limit=100)
    return sorted(row.entry_key for row in rows if row.chat_id == chat_id)


async def test_a_refresh_right_after_a_sub_brings_its_new_entry_once(store: Store) -> None:
    """Entries 1 and 2 were seen when the newcomer subscribed, 3 was not. A refresh commits
    before the backlog is planned: it brings 3 to the newcomer (a follower by now) and
    marks it seen; the backlog offers what was seen at the change, 1 and 2, not 3 again."""
    feed_id, _ = await _followed_feed(store)
    await queue_entries(store, feed_id, _doc(1, 2), EverySubscriber(), now=T0)
    doc = _doc(1, 2, 3)
    await store.ensure_chat(NEWCOMER)
    added = await store.add_subscription_seeing(NEWCOMER, feed_id, backlog_keys(doc, 3))
    assert added.seen == {"id:1", "id:2"}

    refresh = await queue_entries(store, feed_id, doc, EverySubscriber(), now=T0 + 1)
    assert refresh == Queued(new=1, queued=2)
    backlog = NewSubscriber(
        added.subscription, newest=3, first_fetch=False, seen_when_added=added.seen
    )
    assert await queue_entries(store, feed_id, doc, backlog, now=T0 + 2) == Queued(2, 2)
    assert await _keys(store, NEWCOMER) == ["id:1", "id:2", "id:3"]
    assert await _keys(store, 1) == ["id:1", "id:2", "id:3"]


async def test_a_refresh_right_after_a_resume_brings_its_new_entry_once(store: Store) -> None:
    """Entry 2 came during the pause, 3 after it ended. A refresh commits before the resume's
    backlog is planned: it brings 3 to the resumed subscription; the backlog offers what
    was first seen during the pause, read as it ended: 2, not 3 again."""
    feed_id, _, resuming = await _two_chats(store)
    await queue_entries(store, feed_id, _doc(1), EverySubscriber(), now=T0)
    await store.set_subscription_paused(resuming, True, now=T0 + 10)
    await queue_entries(store, feed_id, _doc(1, 2), EverySubscriber(), now=T0 + 20)
    doc = _doc(1, 2, 3)
    missed = await store.resume_subscription(resuming, [entry.key for entry in doc.entries])
    assert missed == {"id:2"}

    refresh = await queue_entries(store, feed_id, doc, EverySubscriber(), now=T0 + 30)
    assert refresh == Queued(new=1, queued=2)
    subscription = await store.get_subscription_by_id(resuming)
    assert subscription is not None
    audience = ResumedSubscriber(subscription, missed=missed, at_most=50)
    assert await queue_entries(store, feed_id, doc, audience, now=T0 + 31) == Queued(1, 1)
    assert await _keys(store, NEWCOMER) == ["id:1", "id:2", "id:3"]


async def test_the_change_reads_the_marks_of_the_commit_it_waited_for(
    held_store: tuple[Store, str],
) -> None:
    """PostgreSQL: adding or resuming a subscription waits while a refresh's commit holds the
    feed's row, and then sees the keys that commit marked seen. That commit could not bring
    them to the newcomer (it was not a follower yet): the backlog must offer them. A read
    from a snapshot taken before the wait (SERIALIZABLE) would leave them out for good."""
    store, url = held_store
    feed_id, _, resuming = await _two_chats(store)
    await store.set_subscription_paused(resuming, True, now=T0 + 10)
    await store.ensure_chat(3)
    adding = store.add_subscription_seeing(3, feed_id, ["id:new", "x"])
    (added,) = await _wait_for_the_row(url, feed_id, [adding], marking="id:new")
    assert added.seen == {"id:new"}
    resuming_now = store.resume_subscription(resuming, ["id:late", "x"])
    (missed,) = await _wait_for_the_row(url, feed_id, [resuming_now], marking="id:late")
    assert missed == {"id:late"}
