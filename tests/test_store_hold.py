"""Held backlog rows wait for their release (the /sub confirmation), or for their hold to end."""

from __future__ import annotations

import pytest

from bot.store import Store
from tests.test_store import T0, _followed_feed, _item, store  # noqa: F401 - the fixture

pytestmark = pytest.mark.both_engines


async def test_held_rows_wait_until_released(store: Store) -> None:  # noqa: F811 - fixture
    """Rows committed with hold_until are not ready before it, unless released."""
    feed_id, sub_id = await _followed_feed(store)
    await store.commit_entries(
        feed_id, seen=["a"], outbox=[_item(1, sub_id, feed_id, "a", backlog=True)],
        now=T0, hold_until=T0 + 60,
    )  # fmt: skip
    assert (await store.outbox_heads(T0 + 1, 10)).ready == []
    assert [r.entry_key for r in (await store.outbox_heads(T0 + 60, 10)).ready] == ["a"]
    await store.release(sub_id, now=T0 + 1)
    assert [r.entry_key for r in (await store.outbox_heads(T0 + 1, 10)).ready] == ["a"]


async def test_release_touches_only_that_subscription(store: Store) -> None:  # noqa: F811
    """Releasing one subscription leaves another's held rows held."""
    feed_id, sub_id = await _followed_feed(store)
    other_feed, other_sub = await _followed_feed(store, chat_id=2, url="https://b.example/f")
    for feed, sub, chat in ((feed_id, sub_id, 1), (other_feed, other_sub, 2)):
        await store.commit_entries(
            feed, seen=["k"], outbox=[_item(chat, sub, feed, "k", backlog=True)],
            now=T0, hold_until=T0 + 60,
        )  # fmt: skip
    await store.release(sub_id, now=T0 + 1)
    assert [r.chat_id for r in (await store.outbox_heads(T0 + 1, 10)).ready] == [1]
