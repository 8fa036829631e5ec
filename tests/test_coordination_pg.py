"""Leases on a real PostgreSQL, two "processes" (two stores, two lease stores, two
coordinators) in one test process on one virtual clock: no due feed is claimed twice, a
lease left by a dead holder is taken over once it expires, and the sender's and the
poller's leases change hands within 30 s of a holder's death."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

import asyncpg
import pytest

from bot.coordination import LEASE_SECONDS, RENEW_SECONDS, Coordinator, Duty, FeedClaims, Role
from bot.coordination.notify import Listener
from bot.coordination.roles import ALL_ROLES
from bot.models import FetchSuccess, Rhythm
from bot.store import Store
from bot.store.engine import database_errors, for_postgres
from bot.store.leases import _CLAIM, OUTBOX_CHANNEL, REPLIES_CHANNEL, LeaseStore
from tests.fakes.cuttable import CuttableLink
from tests.postgres import DatabaseFactory, _asyncpg_dsn
from tests.virtual_time import VirtualClock, eventually

CHAT = 1001
FEEDS = 40


@dataclass
class Process:
    """What one bot process holds of the database; its coordination goes through ``link``."""

    store: Store
    leases: LeaseStore
    link: CuttableLink
    url: str


Opener = Callable[[], Awaitable[Process]]


@pytest.fixture
async def shared(postgres_database: DatabaseFactory) -> AsyncIterator[Opener]:
    """Open "processes" on one fresh database; all closed at the end."""
    url = await postgres_database()
    opened: list[Process] = []

    async def open_one() -> Process:
        link = CuttableLink(url)
        await link.start()
        process = Process(await Store.open_url(url), LeaseStore.connect(link.url), link, url)
        opened.append(process)
        return process

    yield open_one
    for process in opened:
        await process.leases.close()
        await process.store.close()
        await process.link.stop()


async def _run_for(clock: VirtualClock, seconds: float, *coordinators: Coordinator) -> None:
    """Let ``seconds`` of virtual time pass, never while a coordinator's round is under way."""
    until = clock.monotonic() + seconds
    await eventually(
        lambda: clock.monotonic() >= until,
        what=f"{seconds} virtual seconds",
        clock=clock,
        may_advance=lambda _s: not any(c.busy for c in coordinators),
    )


async def _due_feeds(store: Store, count: int, now: float) -> list[int]:
    """``count`` followed feeds, all due at ``now`` (one second apart, earliest first)."""
    await store.ensure_chat(CHAT, kind="private", now=now)
    ids = []
    for number in range(count):
        feed, _ = await store.get_or_create_feed(
            f"http://feeds.example/{number}",
            title=f"feed {number}",
            interval_seconds=300,
            now=now,
            next_fetch_at=now - count + number,
        )
        await store.add_subscription(CHAT, feed.id, now=now)
        ids.append(feed.id)
    return ids


async def _claiming(
    process: Process, count: int, clock: VirtualClock
) -> tuple[list[int], FeedClaims]:
    """``count`` due feeds (``_due_feeds``), all claimed by a fresh ``FeedClaims`` of
    ``process``; their ids and the claims."""
    now = clock.time()
    ids = await _due_feeds(process.store, count, now)
    claims = FeedClaims(process.leases, lease_seconds=LEASE_SECONDS)
    assert [feed.id for feed in await claims.due_feeds(now, count)] == ids
    return ids, claims


async def test_two_processes_claiming_at_once_never_get_the_same_feed(
    shared: Opener,
) -> None:
    """Two processes claiming due feeds at the same moment, round after round, share them
    out: every due feed is claimed exactly once, and each claim keeps the time it was due."""
    clock = VirtualClock()
    now = clock.time()
    a, b = await shared(), await shared()
    ids = await _due_feeds(a.store, FEEDS, now)
    claimed: list[int] = []
    for _ in range(FEEDS):
        first, second = await asyncio.gather(
            a.leases.claim_due_feeds(now, 3, until=now + LEASE_SECONDS),
            b.leases.claim_due_feeds(now, 3, until=now + LEASE_SECONDS),
        )
        claimed += [claim.feed.id for claim in (*first, *second)]
        for claim in (*first, *second):
            assert claim.feed.next_fetch_at == now - FEEDS + ids.index(claim.feed.id)
        if not first and not second:
            break
    assert sorted(claimed) == sorted(ids), "every due feed claimed exactly once"


async def test_a_dead_processes_claims_fall_due_when_the_lease_ends(
    shared: Opener,
) -> None:
    """A process claims feeds and dies (renews nothing): the other gets none of them while
    the lease runs and all of them once it ended (due since the lease's end: the row held the
    lease in place of the due time)."""
    clock = VirtualClock()
    a, b = await shared(), await shared()
    now = clock.time()
    ids = await _due_feeds(a.store, 5, now)
    dead = FeedClaims(a.leases, lease_seconds=LEASE_SECONDS)
    assert [feed.id for feed in await dead.due_feeds(now, 10)] == ids
    assert await b.leases.claim_due_feeds(now + LEASE_SECONDS - 1, 10, until=now + 99) == []
    clock.advance(LEASE_SECONDS + 0.5)
    later = clock.time()
    taken = await b.leases.claim_due_feeds(later, 10, until=later + LEASE_SECONDS)
    assert [claim.feed.id for claim in taken] == ids
    assert {claim.feed.next_fetch_at for claim in taken} == {now + LEASE_SECONDS}


async def test_renewed_claims_stay_and_given_back_ones_are_due_again(
    shared: Opener,
) -> None:
    """Claims the poller still holds are renewed past their first lease; a claim it dropped
    is given back with its due time; a feed whose check recorded its next time is left alone."""
    clock = VirtualClock()
    a, b = await shared(), await shared()
    now = clock.time()
    ids, claims = await _claiming(a, 3, clock)
    checked, held, dropped = ids
    claims.holding = lambda: {checked, held}
    await a.store.record_fetch_success(
        checked, next_fetch_at=now + 300, etag=None, last_modified=None, body_hash=None, now=now
    )
    clock.advance(RENEW_SECONDS)
    await claims.renew(clock.time())
    assert claims.held == 1  # the checked feed's row holds its own next time now
    clock.advance(LEASE_SECONDS - 1)  # past the first lease, within the renewed one
    taken = await b.leases.claim_due_feeds(clock.time(), 10, until=clock.time() + 1)
    assert [claim.feed.id for claim in taken] == [dropped]
    assert taken[0].feed.next_fetch_at == now - 3 + 2
    checked_feed = await a.store.get_feed(checked)
    assert checked_feed is not None
    assert checked_feed.next_fetch_at == now + 300


async def test_named_lease_has_one_holder_and_passes_on_after_expiry(
    shared: Opener,
) -> None:
    """One holder at a time; a renewal keeps it; once it expired, another process takes it,
    a later one only after the grace it was given, and the old holder's renewal fails."""
    a, b = await shared(), await shared()
    now = 1_000_000.0
    assert await a.leases.take_lease("send:1", "a", now=now, seconds=15)
    assert not await b.leases.take_lease("send:1", "b", now=now + 1, seconds=15)
    assert await a.leases.take_lease("send:1", "a", now=now + 10, seconds=15)
    assert not await b.leases.take_lease("send:1", "b", now=now + 20, seconds=15)
    assert not await b.leases.take_lease("send:1", "b", now=now + 30, seconds=15, grace=15)
    assert await b.leases.take_lease("send:1", "b", now=now + 26, seconds=15)
    assert not await a.leases.take_lease("send:1", "a", now=now + 27, seconds=15)
    assert (await a.leases.leases())["send:1"] == ("b", now + 41)


@dataclass
class Duties:
    """A coordinator's duty callbacks, recording when each duty started and stopped."""

    clock: VirtualClock
    log: list[tuple[str, bool, float]] = field(default_factory=list)

    def on(self, duty: Duty) -> Callable[[bool], Awaitable[None]]:
        async def change(held: bool) -> None:
            self.log.append((duty.value, held, self.clock.time()))

        return change


def _coordinator(
    process: Process, clock: VirtualClock, duties: Duties, roles: frozenset[Role] = ALL_ROLES
) -> Coordinator:
    return Coordinator(
        clock=clock,
        roles=roles,
        duties={Duty.SEND: duties.on(Duty.SEND), Duty.UPDATES: duties.on(Duty.UPDATES)},
        leased=frozenset({Duty.SEND, Duty.UPDATES}),
        leases=process.leases,
        bot_id="123",
    )


async def test_survivor_takes_over_sending_and_polling_within_30_seconds(
    shared: Opener,
) -> None:
    """The first process sends and polls, the second waits; the first dies without a word
    (its rounds stop, its leases stay): the second takes both duties over within 30 s."""
    clock = VirtualClock()
    a_duties, b_duties = Duties(clock), Duties(clock)
    a = _coordinator(await shared(), clock, a_duties)
    b = _coordinator(await shared(), clock, b_duties)
    await a.start()
    await b.start()
    assert a.holds(Duty.SEND)
    assert a.holds(Duty.UPDATES)
    assert not b.holds(Duty.SEND)
    assert not b.holds(Duty.UPDATES)

    def calm(_seconds: float) -> bool:
        return not (a.busy or b.busy)

    await _run_for(clock, 60, a, b)  # a minute of both alive: nothing changes hands
    assert b_duties.log == []
    a.halt()  # dies: no more renewals, no release
    died = clock.time()
    await eventually(
        lambda: b.holds(Duty.SEND) and b.holds(Duty.UPDATES),
        what="the survivor to take both duties",
        clock=clock,
        may_advance=calm,
    )
    took = max(when for _, _, when in b_duties.log)
    assert took - died <= 30
    await b.close()


async def test_holder_cut_off_from_the_database_stops_before_its_lease_ends(
    shared: Opener,
) -> None:
    """A holder whose renewals fail stops sending before the lease it last wrote ends, so
    the process that takes over never sends at the same time."""
    clock = VirtualClock()
    a_duties, b_duties = Duties(clock), Duties(clock)
    cut_off = await shared()
    a = _coordinator(cut_off, clock, a_duties)
    b = _coordinator(await shared(), clock, b_duties)
    await a.start()
    await b.start()
    cut_off.link.cut()  # every statement of a's coordination fails from here on

    def calm(_seconds: float) -> bool:
        return not (a.busy or b.busy)

    await eventually(lambda: b.holds(Duty.SEND), what="the takeover", clock=clock, may_advance=calm)
    assert not a.holds(Duty.SEND)
    stopped = next(when for duty, held, when in a_duties.log if duty == "send" and not held)
    started = next(when for duty, held, when in b_duties.log if duty == "send" and held)
    assert stopped < started
    a.halt()
    await b.close()


async def test_a_notification_reaches_the_listening_process(shared: Opener) -> None:
    """What one process queues wakes the sender at once (LISTEN/NOTIFY), channel by channel;
    a queued reply notifies at its commit."""
    sender, other = await shared(), await shared()
    heard: list[str] = []
    woken = asyncio.Event()

    def hear(channel: str) -> Callable[[], None]:
        def handler() -> None:
            heard.append(channel)
            woken.set()

        return handler

    listener = Listener(
        sender.url, {OUTBOX_CHANNEL: hear(OUTBOX_CHANNEL), REPLIES_CHANNEL: hear(REPLIES_CHANNEL)}
    )
    await listener.ensure()
    try:
        assert listener.listening
        await other.leases.notify(OUTBOX_CHANNEL)
        await asyncio.wait_for(woken.wait(), timeout=10)
        woken.clear()
        await other.leases.queue_reply(CHAT, {"text": "hi"}, 1000.0)
        await asyncio.wait_for(woken.wait(), timeout=10)
        assert heard == [OUTBOX_CHANNEL, REPLIES_CHANNEL]
        [queued] = await sender.leases.take_replies(10)
        assert (queued.chat_id, queued.payload) == (CHAT, {"text": "hi"})
    finally:
        await listener.close()


def _routine(feed_id: int, now: float, etag: str) -> FetchSuccess:
    """The record of a routine check of ``feed_id`` at ``now``, due again 300 s later."""
    return FetchSuccess(
        feed_id, next_fetch_at=now + 300, etag=etag, last_modified=None, body_hash=None,
        now=now, rhythm=Rhythm(last_new_at=now, new_samples=1),
    )  # fmt: skip


async def test_kept_records_are_written_where_the_claim_still_holds(shared: Opener) -> None:
    """Records kept on the claims are written by a claim once a claim's worth is kept, each
    where the row still holds its claim's lease: a failure recorded meanwhile stands; an
    unclaimed feed, or a record without its rhythm, is not kept (its caller writes it)."""
    clock = VirtualClock()
    a, b = await shared(), await shared()
    now = clock.time()
    kept, failed, unclaimed = await _due_feeds(a.store, 3, now)
    claims = FeedClaims(a.leases, lease_seconds=LEASE_SECONDS)
    assert [feed.id for feed in await claims.due_feeds(now, 2)] == [kept, failed]
    assert claims.keep(_routine(kept, now, '"k"'))
    assert claims.keep(_routine(failed, now, '"f"'))
    assert not claims.keep(_routine(unclaimed, now, '"u"'))
    assert not claims.keep(replace(_routine(kept, now, '"x"'), rhythm=None))
    await a.store.record_fetch_failure(failed, next_fetch_at=now + 60, error="timeout", now=now)
    assert [feed.id for feed in await claims.due_feeds(now, 10)] == [unclaimed]
    waiting = await b.store.get_feed(kept)
    assert waiting is not None
    assert waiting.etag is None, "two kept records wait for a claim's worth (10)"
    assert await claims.due_feeds(now, 2) == []  # two is a claim's worth: written first
    assert claims.held == 1  # the two kept records let go of their claims
    written = await b.store.get_feed(kept)
    assert written is not None
    assert (written.etag, written.next_fetch_at, written.rhythm.new_samples) == (
        '"k"',
        now + 300,
        1,
    )
    failing = await b.store.get_feed(failed)
    assert failing is not None
    assert (failing.etag, failing.next_fetch_at, failing.error_count) == (None, now + 60, 1)


async def test_a_record_kept_as_the_round_looks_keeps_its_claim(shared: Opener) -> None:
    """A check that ends while the round decides which claims to renew has left the poller
    but its record is kept: its claim is renewed, not given back (given back, the feed would
    be due at once and the record's compare-and-set would fail); the record lands next."""
    clock = VirtualClock()
    a, b = await shared(), await shared()
    now = clock.time()
    (feed_id,), claims = await _claiming(a, 1, clock)

    def check_ends_now() -> set[int]:
        claims.keep(_routine(feed_id, now, '"r"'))
        return set()

    claims.holding = check_ends_now
    clock.advance(RENEW_SECONDS)
    await claims.renew(clock.time())
    claims.holding = set
    assert await b.leases.claim_due_feeds(clock.time(), 10, until=clock.time() + 1) == []
    await claims.flush()
    assert claims.held == 0
    feed = await b.store.get_feed(feed_id)
    assert feed is not None
    assert (feed.etag, feed.next_fetch_at) == ('"r"', now + 300)


async def test_a_claim_walks_the_due_feeds_not_every_subscription(shared: Opener) -> None:
    """Many feeds due, a chats table never analyzed (too small for autovacuum): the claim's
    plan still reads the due feeds in order from their index and stops at its limit; it
    never reads the whole subscriptions table (PostgreSQL turned the follower test into a
    join with every active subscription)."""
    clock = VirtualClock()
    a = await shared()
    now = clock.time()
    await a.store.ensure_chat(CHAT, kind="private", now=now)
    admin = await asyncpg.connect(_asyncpg_dsn(a.url))
    try:
        await admin.execute(
            """INSERT INTO feeds (url, title, interval_seconds, next_fetch_at, created_at)
               SELECT 'http://feeds.example/' || g, '', 300, $1 - g, $1
               FROM generate_series(1, 2000) AS g""",
            now,
        )
        await admin.execute(
            """INSERT INTO subscriptions (chat_id, feed_id, number)
               SELECT $1, id, id FROM feeds""",
            CHAT,
        )
        async with admin.transaction():
            plan = "\n".join(
                row[0]
                for row in await admin.fetch(
                    f"EXPLAIN {for_postgres(_CLAIM)}", now, 32, now + LEASE_SECONDS, []
                )
            )
            assert "Index Scan using feeds_next_fetch" in plan, plan
            assert "Seq Scan on subscriptions" not in plan, plan
    finally:
        await admin.close()
    assert len(await a.leases.claim_due_feeds(now, 32, until=now + LEASE_SECONDS)) == 32


async def test_kept_records_lock_their_rows_in_id_order(shared: Opener) -> None:
    """The statement writing kept records locks the feeds' rows in id order, as every
    statement locking several feed rows does (``Db.lock``), whatever order the checks
    ended in: with the lower row held by another transaction it waits there holding
    nothing, where the order the checks ended in (the higher first) held the higher row
    meanwhile, and a locker going in id order then deadlocked with it."""
    clock = VirtualClock()
    a = await shared()
    now = clock.time()
    (low, high), claims = await _claiming(a, 2, clock)
    holder = await asyncpg.connect(_asyncpg_dsn(a.url))
    prober = await asyncpg.connect(_asyncpg_dsn(a.url))
    try:
        # A table of some size, analyzed: the update reaches each row by its key in the
        # order of the arrays (a small one is scanned whole, in storage order).
        await holder.execute(
            """INSERT INTO feeds (url, interval_seconds, next_fetch_at, created_at)
               SELECT 'http://filler.example/' || g, 300, 1e12, 0
               FROM generate_series(1, 20000) AS g"""
        )
        await holder.execute("ANALYZE feeds")
        assert claims.keep(_routine(high, now, '"h"'))  # the later feed's check ended first
        assert claims.keep(_routine(low, now, '"l"'))
        async with holder.transaction():
            await holder.execute("SELECT id FROM feeds WHERE id = $1 FOR UPDATE", low)
            flush = asyncio.create_task(claims.flush())

            async def flush_waits() -> bool:
                waiting = await prober.fetchval(
                    """SELECT count(*) FROM pg_stat_activity
                       WHERE datname = current_database() AND wait_event_type = 'Lock'"""
                )
                return int(waiting) == 1

            await eventually(flush_waits, what="the flush to wait for the lower row")
            async with prober.transaction():
                # Raises LockNotAvailableError if the flush holds the higher row.
                await prober.execute("SELECT id FROM feeds WHERE id = $1 FOR UPDATE NOWAIT", high)
        await flush
    finally:
        await holder.close()
        await prober.close()
    written = await a.store.get_feed(high)
    assert written is not None
    assert written.etag == '"h"'


async def test_a_record_the_database_refuses_cannot_stop_the_renewals(shared: Opener) -> None:
    """A kept record the database refuses (here a NUL, which PostgreSQL's text cannot
    hold) makes the claim's flush fail, and the record stays kept for the next try; the
    round then drops it (one more fetch) and renews the claims anyway, rather than failing
    every round after it."""
    clock = VirtualClock()
    a = await shared()
    now = clock.time()
    (refused, running), claims = await _claiming(a, 2, clock)
    claims.holding = lambda: {running}
    assert claims.keep(_routine(refused, now, '"\x00"'))
    with pytest.raises(database_errors()):
        await claims.flush()
    clock.advance(RENEW_SECONDS)
    await claims.renew(clock.time())
    assert claims.held == 1  # the running check's claim, renewed; the other given back
    clock.advance(LEASE_SECONDS - 1)  # past the first lease, within the renewed one
    due = await a.leases.claim_due_feeds(clock.time(), 10, until=clock.time() + 1)
    assert [claim.feed.id for claim in due] == [refused]
