"""A feed's audience: its chats read in one statement however many follow it."""

from __future__ import annotations

import pytest

from bot.store import Store
from tests.test_store import _two_chats

pytestmark = pytest.mark.both_engines


async def test_the_chats_of_an_audience_come_in_one_call(engine_store: Store) -> None:
    """Known chats by id; an unknown id is left out; no ids, no chats."""
    store = engine_store
    await _two_chats(store)
    chats = await store.get_chats({1, 2, 404})
    assert sorted(chats) == [1, 2]
    assert chats[2] == await store.get_chat(2)
    assert await store.get_chats(()) == {}
