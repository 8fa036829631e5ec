"""The entry chain: refresh through the real store and fetcher, planning as a table,
and each audience of ``queue_entries`` through the real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.cadence import Bounds
from bot.config import FetchSettings
from bot.feeds.fetch import Fetcher
from bot.filters import compile_filter
from bot.models import DisplayOptions, Entry, ParsedFeed, Subscription, SummaryMode
from bot.pipeline import (
    MAX_BACKOFF_SECONDS,
    EverySubscriber,
    NewSubscriber,
    Queued,
    RefreshPolicy,
    RefreshStatus,
    ResumedSubscriber,
    backlog_keys,
    filter_verdicts,
    plan_deliveries,
    queue_entries,
    refresh_feed,
)
from bot.render import render_entry
from bot.store import Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.randomness import EdgeRandom

NOW = 1_800_000_000.0
INTERVAL = 300


def _clock() -> float:
    return NOW


@pytest.fixture
def store(engine_store: Store) -> Store:
    """A store on the test's engine."""
    return engine_store


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
        (429, "1", 2 * INTERVAL),
        (503, "99999999", MAX_BACKOFF_SECONDS),
        (500, "7200", 2 * INTERVAL),
    ],
)
async def test_retry_after_of_a_busy_feed_is_respected(
    store: Store,
    fetcher: Fetcher,
    feed_server: FeedServer,
    case: tuple[int, str, int],
) -> None:
    """A 429/503 with Retry-After is not fetched again before then (capped at the max backoff);
    without one, the first failure waits two intervals (jitter at its longest here)."""
    code, retry_after, expected = case
    feed_server.status("/busy.xml", code, {"Retry-After": retry_after})
    feed, _ = await store.get_or_create_feed(
        feed_server.url("/busy.xml"), title="Busy", interval_seconds=INTERVAL, now=NOW
    )
    policy = RefreshPolicy(Bounds(INTERVAL, 60, MAX_BACKOFF_SECONDS), rng=EdgeRandom(1.0))
    result = await refresh_feed(feed, fetcher=fetcher, store=store, clock=_clock, policy=policy)
    assert result.status is RefreshStatus.FAILED
    stored = await store.get_feed(feed.id)
    assert stored is not None
    assert stored.next_fetch_at == NOW + expected


# --- plan_deliveries: the pure middle of the chain, as a table -------------------------

TALKS = Entry(
    key="id:talks",
    title="Ukraine peace talks resume",
    link="https://news.example/talks",
    content_html="<p>Delegations met in Geneva.</p>",
)
FOOTBALL = Entry(
    key="id:football",
    title="Football results",
    link="https://news.example/football",
    content_html="<p>Scores from the weekend.</p>",
    tags=("sport",),
)
WEATHER = Entry(
    key="id:weather",
    title="Weather warning for Kyiv",
    link="https://news.example/weather",
    content_html="<p>Storms expected, Ukraine braces.</p>",
    images=("https://news.example/storm.jpg",),
)
ENTRIES = (TALKS, FOOTBALL, WEATHER)
BAD_FILTER = '"unclosed'
"""A stored filter the parser refuses (as a stricter parser might refuse an old one)."""
LONG_STORED = " ".join(
    ["标题：(Weather OR Football)", *(f"-标题：({'乌' * 13})" for _ in range(48))]
)
"""Typed in under 1000 characters; its canonical spelling (``-title:(…)``) is longer, and
must still apply when stored."""


def _sub(sub_id: int, chat_id: int, **fields: Any) -> Subscription:
    return Subscription(id=sub_id, chat_id=chat_id, feed_id=7, number=sub_id, **fields)


PLAIN = _sub(1, 100)
OTHER_CHAT = _sub(2, 200)
UKRAINE_ONLY = _sub(3, 300, filter_expr="+Ukraine")
UKRAINE_OR_WEATHER = _sub(4, 400, filter_expr="Ukraine Weather")
PAUSED = _sub(5, 500, paused=True)
GUARDED = _sub(6, 600, filter_expr=BAD_FILTER)


@pytest.mark.parametrize(
    ("subscriptions", "chat_filters", "seen", "backlog", "expected"),
    [
        pytest.param(
            [PLAIN, OTHER_CHAT], {}, (), False,
            [(1, "id:talks"), (2, "id:talks"), (1, "id:football"), (2, "id:football"),
             (1, "id:weather"), (2, "id:weather")],
            id="several subscribers get every entry, entry by entry",
        ),
        pytest.param(
            [PLAIN, UKRAINE_ONLY], {}, (), False,
            [(1, "id:talks"), (3, "id:talks"), (1, "id:football"), (1, "id:weather"),
             (3, "id:weather")],
            id="a subscription filter applies to its subscription only",
        ),
        pytest.param(
            [PLAIN], {100: "+sport"}, (), False, [(1, "id:football")],
            id="a chat-wide filter alone",
        ),
        pytest.param(
            [UKRAINE_OR_WEATHER], {400: "-talks"}, (), False, [(4, "id:weather")],
            id="sub filter and chat-wide filter must both pass",
        ),
        pytest.param(
            [PAUSED, PLAIN], {}, (), False,
            [(1, "id:talks"), (1, "id:football"), (1, "id:weather")],
            id="a paused subscription gets nothing",
        ),
        pytest.param(
            [PLAIN], {}, ("id:talks", "id:weather"), False, [(1, "id:football")],
            id="an entry already seen is not planned again",
        ),
        pytest.param(
            [PLAIN], {}, ("id:talks",), True,
            [(1, "id:talks"), (1, "id:football"), (1, "id:weather")],
            id="a backlog is made of seen entries",
        ),
        pytest.param(
            [GUARDED], {}, (), False,
            [(6, "id:talks"), (6, "id:football"), (6, "id:weather")],
            id="a stored filter that no longer parses is left out, the feed goes on",
        ),
        pytest.param(
            [UKRAINE_ONLY], {300: BAD_FILTER}, (), False, [(3, "id:talks"), (3, "id:weather")],
            id="a broken chat-wide filter does not disable the subscription filter",
        ),
        pytest.param(
            [], {}, (), False, [], id="no audience, no deliveries",
        ),
    ],
)  # fmt: skip
def test_plan_deliveries(
    subscriptions: list[Subscription],
    chat_filters: dict[int, str],
    seen: tuple[str, ...],
    backlog: bool,
    expected: list[tuple[int, str]],
) -> None:
    """Who gets which entry: dedupe, paused subscriptions and both filters, in entry order."""
    planned = plan_deliveries(
        ENTRIES,
        subscriptions,
        chat_filters,
        feed_id=7,
        feed_title="News",
        seen=frozenset(seen),
        backlog=backlog,
    )
    assert [(p.subscription_id, p.entry_key) for p in planned] == expected
    by_id = {sub.id: sub for sub in subscriptions}
    for item in planned:
        sub = by_id[item.subscription_id]
        assert (item.chat_id, item.thread_id, item.feed_id, item.backlog) == (
            sub.chat_id,
            sub.thread_id,
            7,
            backlog,
        )


def test_plan_deliveries_renders_with_each_subscriptions_display_options() -> None:
    """Display options shape each subscriber's message; equal options share one rendering."""
    no_pictures = DisplayOptions(pictures=False, summary=SummaryMode.NONE)
    subscriptions = [PLAIN, _sub(8, 800, options=no_pictures), _sub(9, 900)]
    planned = plan_deliveries([WEATHER], subscriptions, {}, feed_id=7, feed_title="News")
    plain, bare, same = (item.message for item in planned)
    assert plain == render_entry(WEATHER, feed_title="News")
    assert bare == render_entry(WEATHER, feed_title="News", options=no_pictures)
    assert plain.photo_urls == WEATHER.images
    assert bare.photo_urls == ()
    assert same is plain


def test_plan_deliveries_marks_the_matched_terms() -> None:
    """The terms that let an entry through are passed to the renderer (shown as alerts)."""
    (item,) = plan_deliveries([TALKS], [UKRAINE_ONLY], {}, feed_id=7, feed_title="News")
    assert item.message == render_entry(TALKS, feed_title="News", alert_terms=("Ukraine",))


@pytest.mark.parametrize(
    ("expressions", "expected"),
    [
        ((), [True, True, True]),
        (("", "+Ukraine"), [True, False, True]),
        (("-talks", "Ukraine"), [False, False, True]),
        ((BAD_FILTER, "+sport"), [False, True, False]),
        ((compile_filter(LONG_STORED).expression,), [False, True, True]),
        (("(Ukraine OR sport) AND NOT content:storms",), [True, True, False]),
    ],
)
def test_filter_verdicts(expressions: tuple[str, ...], expected: list[bool]) -> None:
    """The /filter preview judges entries with the same guarded filters as deliveries."""
    verdicts = filter_verdicts(ENTRIES, *expressions)
    assert [(entry.key, passed) for entry, passed in verdicts] == list(
        zip([e.key for e in ENTRIES], expected, strict=True)
    )


# --- queue_entries: one chain, three audiences, through the real store -----------------


def _feed_doc(*entries: Entry) -> ParsedFeed:
    """A parsed feed whose document lists ``entries`` newest first, as most feeds do."""
    return ParsedFeed(title="News", link="https://news.example/", entries=tuple(entries[::-1]))


def _entry(number: int) -> Entry:
    return Entry(key=f"id:{number}", title=f"Entry {number}", link=f"https://n.example/{number}")


async def _following(store: Store, *chat_ids: int) -> tuple[int, list[Subscription]]:
    feed, _ = await store.get_or_create_feed(
        "https://n.example/feed", title="News", interval_seconds=INTERVAL, now=NOW
    )
    subscriptions = []
    for chat_id in chat_ids:
        await store.ensure_chat(chat_id)
        subscriptions.append(await store.add_subscription(chat_id, feed.id))
    return feed.id, subscriptions


async def _queued(store: Store) -> list[tuple[int, str]]:
    rows = await store.pending_outbox(NOW + 10**6, limit=100)
    return sorted((row.chat_id, row.entry_key) for row in rows)


async def test_every_subscriber_gets_each_new_entry_once(store: Store) -> None:
    """A refresh queues unseen entries for every running subscription, and only once."""
    feed_id, (_, _, paused) = await _following(store, 1, 2, 3)
    await store.set_subscription_paused(paused.id, True, now=NOW)
    doc = _feed_doc(_entry(1), _entry(2))
    done = await queue_entries(store, feed_id, doc, EverySubscriber(), now=NOW)
    assert done == Queued(new=2, queued=4)
    again = await queue_entries(store, feed_id, doc, EverySubscriber(), now=NOW)
    assert again == Queued(new=0, queued=0)
    more = await queue_entries(
        store, feed_id, _feed_doc(_entry(2), _entry(3)), EverySubscriber(), now=NOW
    )
    assert more == Queued(new=1, queued=2)
    assert await _queued(store) == [
        (1, "id:1"), (1, "id:2"), (1, "id:3"), (2, "id:1"), (2, "id:2"), (2, "id:3"),
    ]  # fmt: skip


async def test_new_subscriber_on_a_new_feed(store: Store) -> None:
    """/sub on a feed never read: the newest entry goes to the new chat, all are marked seen."""
    feed_id, (sub,) = await _following(store, 1)
    doc = _feed_doc(_entry(1), _entry(2), _entry(3))
    audience = NewSubscriber(sub, newest=1, first_fetch=True, seen_when_added=frozenset())
    assert await queue_entries(store, feed_id, doc, audience, now=NOW) == Queued(new=1, queued=1)
    assert await _queued(store) == [(1, "id:3")]
    assert await queue_entries(store, feed_id, doc, EverySubscriber(), now=NOW) == Queued(0, 0)


async def test_a_backlog_larger_than_the_feed_offers_every_entry(store: Store) -> None:
    """/sub's backlog of 5 on a feed of 3 entries offers all 3 (it offered the last 2)."""
    feed_id, (sub,) = await _following(store, 1)
    doc = _feed_doc(_entry(1), _entry(2), _entry(3))
    assert backlog_keys(doc, 5) == ["id:1", "id:2", "id:3"]
    audience = NewSubscriber(sub, newest=5, first_fetch=True, seen_when_added=frozenset())
    assert await queue_entries(store, feed_id, doc, audience, now=NOW) == Queued(new=3, queued=3)


async def test_new_subscriber_on_a_followed_feed_gets_seen_entries_only(store: Store) -> None:
    """Unseen entries are left to the next refresh, which brings them to every subscriber."""
    feed_id, _ = await _following(store, 1)
    await queue_entries(store, feed_id, _feed_doc(_entry(1), _entry(2)), EverySubscriber(), now=NOW)
    await store.ensure_chat(2)
    doc = _feed_doc(_entry(1), _entry(2), _entry(3))
    added = await store.add_subscription_seeing(2, feed_id, backlog_keys(doc, 2))
    assert added.seen == {"id:2"}
    audience = NewSubscriber(
        added.subscription,
        newest=2,
        first_fetch=False,
        hold_until=NOW + 60,
        seen_when_added=added.seen,
    )
    assert await queue_entries(store, feed_id, doc, audience, now=NOW) == Queued(new=1, queued=1)
    assert (2, "id:2") in await _queued(store)
    assert (2, "id:3") not in await _queued(store)
    refresh = await queue_entries(store, feed_id, doc, EverySubscriber(), now=NOW)
    assert refresh == Queued(new=1, queued=2)


async def test_resumed_subscriber_gets_the_pause_capped(store: Store) -> None:
    """/resume … backlog: entries first seen since the pause, the newest ``at_most`` of them."""
    feed_id, (sub,) = await _following(store, 1)
    before = _feed_doc(_entry(1))
    await queue_entries(store, feed_id, before, EverySubscriber(), now=NOW - 100)
    await store.set_subscription_paused(sub.id, True, now=NOW - 50)
    during = _feed_doc(_entry(1), _entry(2), _entry(3), _entry(4))
    await queue_entries(store, feed_id, during, EverySubscriber(), now=NOW - 10)
    missed = await store.resume_subscription(sub.id, [entry.key for entry in during.entries])
    assert missed == {"id:2", "id:3", "id:4"}
    audience = ResumedSubscriber(sub, missed=missed, at_most=2)
    done = await queue_entries(store, feed_id, during, audience, now=NOW)
    assert done == Queued(new=3, queued=2)
    assert await _queued(store) == [(1, "id:1"), (1, "id:3"), (1, "id:4")]
