"""The outbox worker on its own: a real store, real PTB, the strict fake, virtual time.

These tests queue rows directly and run ``Deliverer`` alone (no commands, no feeds), so
each checks one promise of the dispatcher: order within a chat, chats in parallel,
the flood limits kept, and each verdict of ``bot.telegram_answers`` carried out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.delivery import IDLE_SECONDS, Deliverer
from bot.models import OutgoingMessage, PlannedDelivery
from bot.ratelimit import SendSlots
from bot.store import OutboxHeads, Store
from tests.engines import NewDatabase
from tests.fakes.bot_api import FakeBotAPI
from tests.virtual_time import VirtualClock, eventually

CHAT, OTHER, GROUP = 501, 502, -100503


@dataclass
class Worker:
    """A running deliverer and what it works on."""

    store: Store
    deliverer: Deliverer
    slots: SendSlots
    clock: VirtualClock
    feed_id: int
    subscriptions: dict[int, int]

    def may_advance(self, _seconds: float) -> bool:
        return self.slots.in_flight == 0 and not self.deliverer.busy

    async def queue(self, chat_id: int, keys: Sequence[str], **message: object) -> None:
        """Queue one row per key for ``chat_id``, texts "<key> story"."""
        items = [
            PlannedDelivery(
                chat_id,
                None,
                self.subscriptions[chat_id],
                self.feed_id,
                key,
                OutgoingMessage(text=f"{key} story", plain_text=f"{key}", **message),  # type: ignore[arg-type]
                backlog=False,
            )
            for key in keys
        ]
        await self.store.commit_entries(
            self.feed_id, seen=list(keys), outbox=items, now=self.clock.time()
        )
        self.deliverer.wake()

    async def settle(self) -> None:
        """Until no row of an active chat is pending and nothing is in flight."""

        async def done() -> bool:
            stats = await self.store.stats()
            if not self.may_advance(0):
                return False
            if stats.pending == 0:
                return True
            # Rows left pending only for inactive chats or paused subscriptions: no head.
            return await self.store.outbox_heads(self.clock.time(), 1) == OutboxHeads([], None)

        await eventually(done, clock=self.clock, may_advance=self.may_advance, what="the outbox")


@pytest.fixture
async def worker(
    bot_api: FakeBotAPI, virtual_clock: VirtualClock, new_database: NewDatabase
) -> AsyncIterator[Worker]:
    """A deliverer for three chats (two private, one group) following one feed."""
    store = await Store.open_url(await new_database())
    feed, _ = await store.get_or_create_feed(
        "https://news.example/feed", title="Wire", interval_seconds=300, now=virtual_clock.time()
    )
    subscriptions = {}
    for chat_id, kind in ((CHAT, "private"), (OTHER, "private"), (GROUP, "supergroup")):
        bot_api.add_chat(chat_id, kind)
        await store.ensure_chat(chat_id, kind=kind)
        subscriptions[chat_id] = (await store.add_subscription(chat_id, feed.id)).id
    bot = Bot(
        bot_api.token,
        base_url=f"{bot_api.base_url}/bot",
        request=HTTPXRequest(httpx_kwargs={"trust_env": False}),
    )
    slots = SendSlots(virtual_clock)
    deliverer = Deliverer(bot, store, clock=virtual_clock, slots=slots)
    work = Worker(store, deliverer, slots, virtual_clock, feed.id, subscriptions)
    bot_api.may_advance = work.may_advance
    async with bot:
        task = asyncio.create_task(deliverer.run())
        try:
            yield work
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await store.close()


def _texts(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [m.text or m.caption or "" for m in api.sent_to(chat_id)]


async def test_each_chat_in_order_and_chats_side_by_side(
    worker: Worker, bot_api: FakeBotAPI
) -> None:
    """A chat's rows go out in queue order; another chat does not wait for it to finish."""
    await worker.queue(CHAT, ["a1", "a2", "a3"])
    await worker.queue(OTHER, ["b1"])
    await worker.settle()
    assert _texts(bot_api, CHAT) == ["a1 story", "a2 story", "a3 story"]
    assert _texts(bot_api, OTHER) == ["b1 story"]
    # b1 went out with a1, not after a3: one message in flight per chat, chats in parallel.
    order = [m.text for m in bot_api.sent]
    assert order.index("b1 story") < order.index("a2 story")
    assert bot_api.rejected == []


async def test_a_slow_answer_is_not_sent_again_meanwhile(
    worker: Worker, bot_api: FakeBotAPI
) -> None:
    """While Telegram has not answered a send, the chat's next pass sends nothing more."""
    release = bot_api.hold_next("sendMessage", chat_id=CHAT)
    await worker.queue(CHAT, ["s1", "s2"])
    await eventually(
        lambda: bot_api.pending_calls("sendMessage") == 1,
        clock=worker.clock,
        may_advance=worker.may_advance,
        what="the held send",
    )
    # Telegram is slow: time passes while the send is in flight (past the chat's slot).
    for _ in range(5):
        worker.clock.advance(2.0)
        await worker.deliverer.dispatch()
    assert bot_api.pending_calls("sendMessage") == 1
    release.set()
    await worker.settle()
    assert _texts(bot_api, CHAT) == ["s1 story", "s2 story"]


async def test_a_burst_keeps_every_flood_limit(worker: Worker, bot_api: FakeBotAPI) -> None:
    """Forty rows for a group and forty for a private chat: no 429 from the strict fake."""
    await worker.queue(GROUP, [f"g{n}" for n in range(40)])
    await worker.queue(CHAT, [f"p{n}" for n in range(40)])
    await worker.settle()
    assert len(bot_api.sent_to(GROUP)) == 40
    assert len(bot_api.sent_to(CHAT)) == 40
    assert bot_api.rejected == []


async def test_a_row_waiting_for_its_slot_is_not_polled_for(
    worker: Worker, bot_api: FakeBotAPI
) -> None:
    """A group's rows wait about 3.2 s each for the 20/min limit: the worker sleeps until
    the slot, it does not look at the outbox again and again meanwhile: each look is a
    database query, and the sender of a busy instance would make dozens a second."""
    await worker.queue(GROUP, ["g1", "g2", "g3", "g4"])
    start, moves = worker.clock.monotonic(), worker.clock.moves
    await worker.settle()
    assert _texts(bot_api, GROUP) == ["g1 story", "g2 story", "g3 story", "g4 story"]
    assert worker.clock.monotonic() - start >= 9.0  # three waits for the limit
    # One move per wait; polling on the dispatcher's 10 ms floor would make ~960.
    assert worker.clock.moves - moves <= 12


async def test_a_429_holds_only_its_chat(worker: Worker, bot_api: FakeBotAPI) -> None:
    """retry_after is honoured for that chat; the other chat's rows go on meanwhile."""
    bot_api.flood_next("sendMessage", chat_id=CHAT, retry_after=30)
    start = worker.clock.monotonic()
    await worker.queue(CHAT, ["a1"])
    await worker.queue(OTHER, ["b1", "b2"])
    await eventually(
        lambda: len(bot_api.sent_to(OTHER)) == 2,
        clock=worker.clock,
        may_advance=worker.may_advance,
        what="the other chat's rows",
    )
    assert bot_api.sent_to(CHAT) == []
    await worker.settle()
    assert _texts(bot_api, CHAT) == ["a1 story"]
    assert worker.clock.monotonic() - start >= 30


async def test_a_held_row_goes_when_its_wait_ends_not_at_the_idle_timer(
    worker: Worker, bot_api: FakeBotAPI
) -> None:
    """A 429 asking for 5 s: the row goes 5 s on. With nothing ready, the sender sleeps
    until the outbox's next row is due (``OutboxHeads.next_at``), not its 30 s idle nap."""
    bot_api.flood_next("sendMessage", chat_id=CHAT, retry_after=5)
    start = worker.clock.monotonic()
    await worker.queue(CHAT, ["a1"])
    await worker.settle()
    assert _texts(bot_api, CHAT) == ["a1 story"]
    assert 5 <= worker.clock.monotonic() - start < IDLE_SECONDS


async def test_a_blocked_chat_is_deactivated_and_its_queue_recorded(
    worker: Worker, bot_api: FakeBotAPI
) -> None:
    """403: the chat is marked inactive, its rows failed with the reason, nothing retried."""
    bot_api.bot_kicked(CHAT)
    await worker.queue(CHAT, ["a1", "a2"])
    await worker.settle()
    chat = await worker.store.get_chat(CHAT)
    assert chat is not None
    assert not chat.active
    assert (await worker.store.stats()).failed == 2
    assert [c.method for c in bot_api.calls if c.params.get("chat_id") == str(CHAT)] == [
        "sendMessage"
    ]


async def test_a_migrated_group_gets_its_rows_at_the_new_id(
    worker: Worker, bot_api: FakeBotAPI
) -> None:
    """ChatMigrated moves the queue to the supergroup id, where it is delivered."""
    bot_api.add_chat(-600, "group")
    await worker.store.ensure_chat(-600, kind="group")
    worker.subscriptions[-600] = (await worker.store.add_subscription(-600, worker.feed_id)).id
    bot_api.migrate_chat(-600, -100600)
    await worker.queue(-600, ["m1", "m2"])
    await worker.settle()
    assert _texts(bot_api, -100600) == ["m1 story", "m2 story"]


async def test_a_refused_picture_goes_as_text_and_refused_formatting_as_plain(
    worker: Worker, bot_api: FakeBotAPI
) -> None:
    """Each refusal degrades the message one step; the entry still arrives."""
    bot_api.refuse_photo_url("https://img.example/")
    await worker.queue(
        CHAT, ["p1"], photo_urls=("https://img.example/a.jpg",), caption="p1 caption"
    )
    bot_api.fail_next(
        "sendMessage",
        chat_id=OTHER,
        code=400,
        description="Bad Request: can't parse entities: unexpected end tag",
    )
    await worker.queue(OTHER, ["f1"])
    await worker.settle()
    assert _texts(bot_api, CHAT) == ["p1 story"]
    assert _texts(bot_api, OTHER) == ["f1"]
    assert (await worker.store.stats()).failed == 0


async def test_an_outage_is_waited_out_and_nothing_is_lost(
    worker: Worker, bot_api: FakeBotAPI
) -> None:
    """Five 502s in a row: the row is retried with backoff and finally delivered once."""
    bot_api.fail_next("sendMessage", code=502, description="Bad Gateway", times=5)
    await worker.queue(CHAT, ["o1"])
    await worker.settle()
    assert _texts(bot_api, CHAT) == ["o1 story"]
    assert len([r for r in bot_api.rejected if r.code == 502]) == 5
