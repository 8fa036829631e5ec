"""The scheduling rules of ``bot.cadence`` as tables: hints, rhythm, bounds, phase, backoff."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.cadence import (
    PHASE_JITTER,
    QUIET_AFTER,
    QUIET_DIVISOR,
    Bounds,
    after_subscribe,
    avoid_skipped_hours,
    first_check,
    interval_for,
    learn,
    next_check,
    retry_at,
)
from bot.config import PollingSettings
from bot.models import Rhythm
from tests.fakes.randomness import EdgeRandom

NOW = 1_800_000_000.0
BOUNDS = Bounds(base=300, minimum=60, maximum=6 * 3600)
DAY = 86_400


def _busy(gap: float, samples: int = 3) -> Rhythm:
    return Rhythm(last_new_at=NOW - gap, new_gap_seconds=gap, new_samples=samples)


@pytest.mark.parametrize(
    ("rhythm", "expected"),
    [
        (Rhythm(last_new_at=NOW), 300),  # nothing to go by: the base
        (Rhythm(last_new_at=NOW, hint_seconds=3600), 3600),  # <ttl>60</ttl>, sy hourly
        (Rhythm(last_new_at=NOW, hint_seconds=10), 300),  # a hint never speeds a feed up
        (Rhythm(last_new_at=NOW, hint_seconds=30 * DAY), 6 * 3600),  # capped at the maximum
        (_busy(100), 100),  # gains an entry every 100 s: checked as often
        (_busy(20), 60),  # busier than allowed: the minimum
        (_busy(100, samples=2), 300),  # not enough evidence yet
        (_busy(200), 300),  # not busy enough to leave the base (over half of it)
        (replace(_busy(100), hint_seconds=900), 900),  # busy, but the feed asks for 15 min
        (Rhythm(last_new_at=NOW - 14 * DAY), 14 * DAY // QUIET_DIVISOR),  # quiet: 2 hours
        (Rhythm(last_new_at=NOW - 6 * DAY), 300),  # not quiet for a week yet
        (Rhythm(last_new_at=NOW - 365 * DAY), 6 * 3600),  # silent a year: the maximum
    ],
)
def test_interval_for(rhythm: Rhythm, expected: int) -> None:
    """Hints raise the interval, a busy feed lowers it, a quiet one raises it, within bounds."""
    assert interval_for(rhythm, BOUNDS, now=NOW, since=NOW - 30 * DAY) == expected


def test_quiet_counts_from_the_first_follow_until_a_first_entry() -> None:
    """A feed that never gained an entry is quiet from the moment it was first followed."""
    never = Rhythm()
    assert interval_for(never, BOUNDS, now=NOW, since=NOW - DAY) == 300
    assert interval_for(never, BOUNDS, now=NOW, since=NOW - QUIET_AFTER - 7 * DAY) == 7200


def test_bounds_from_settings_keep_min_below_max() -> None:
    """A maximum below the minimum is read as the minimum; the base lies within both."""
    polling = PollingSettings(
        interval_seconds=30, min_interval_seconds=120, max_interval_seconds=60
    )
    assert Bounds.from_settings(polling) == Bounds(base=120, minimum=120, maximum=120)


def test_learn_a_rhythm_from_new_entries() -> None:
    """The first new entry starts the clock; later ones average the gap per entry."""
    first = learn(Rhythm(), 1, NOW)
    assert first == Rhythm(last_new_at=NOW)
    second = learn(first, 2, NOW + 600)  # two entries in 600 s: 300 s each
    assert (second.new_gap_seconds, second.new_samples) == (300, 1)
    third = learn(second, 1, NOW + 700)  # one more 100 s later: the average moves toward it
    assert third.new_gap_seconds == pytest.approx(300 + 0.3 * (100 - 300))
    assert learn(third, 0, NOW + 800) == third


def test_on_time_checks_keep_their_phase() -> None:
    """A feed checked a little late each time is still due every interval from its phase."""
    due = NOW
    for lateness in (0.0, 0.7, 3.0, 0.2, 149.0):
        due = next_check(
            now=due + lateness,
            due_at=due,
            interval=300,
            previous_interval=300,
            skip_hours=0,
            rng=EdgeRandom(1.0),
        )
    assert due == NOW + 5 * 300


@pytest.mark.parametrize(
    ("late", "previous"),
    [(150.0, 300), (3600.0, 300), (0.0, 600), (-10.0, 300)],
    ids=["half an interval late", "far behind", "interval changed", "checked early"],
)
def test_a_fresh_phase_gets_jitter(late: float, previous: int) -> None:
    """Behind schedule, early, or with a new interval: next due within [1, 1 + jitter] intervals."""

    def check(at: float) -> float:
        return next_check(
            now=NOW + late,
            due_at=NOW,
            interval=300,
            previous_interval=previous,
            skip_hours=0,
            rng=EdgeRandom(at),
        )

    assert check(0.0) == NOW + late + 300
    assert check(1.0) == NOW + late + 300 * (1 + PHASE_JITTER)


def test_new_feeds_spread_over_the_interval() -> None:
    """1,000 imported feeds fall due evenly over one interval, not all at once."""
    rng = random.Random(1)  # noqa: S311 - spreading checks, not a secret
    offsets = [first_check(NOW, 300, rng) - NOW for _ in range(1000)]
    assert min(offsets) >= 0
    assert max(offsets) < 300
    buckets = [0] * 10
    for offset in offsets:
        buckets[int(offset // 30)] += 1
    assert all(60 <= count <= 140 for count in buckets), buckets


def test_a_subscribed_feed_is_due_a_little_under_an_interval_later() -> None:
    """/sub reads the feed now; the next check is within [0.75, 1] interval, spread."""
    assert after_subscribe(NOW, 300, EdgeRandom(0.0)) == NOW + 225
    assert after_subscribe(NOW, 300, EdgeRandom(1.0)) == NOW + 300


@pytest.mark.parametrize(
    ("failures", "retry_after", "low", "high"),
    [
        (1, None, 450, 600),  # twice the interval, times a factor in [0.75, 1]
        (2, None, 900, 1200),
        (3, None, 1800, 2400),
        (8, None, 16200, 21600),  # the cap, jittered below it
        (50, None, 16200, 21600),
        (1, 7200.0, 7200, 7200),  # Retry-After longer than the backoff: obeyed
        (1, 1.0, 450, 600),  # shorter: the backoff wins
        (1, 10.0 * DAY, 21600, 21600),  # capped at the maximum
    ],
)
def test_backoff(failures: int, retry_after: float | None, low: float, high: float) -> None:
    """Exponential backoff with jitter, capped, never shorter than a Retry-After asked."""
    for at, expected in ((0.0, low), (1.0, high)):
        when = retry_at(
            now=NOW,
            failures=failures,
            interval=300,
            bounds=BOUNDS,
            retry_after=retry_after,
            skip_hours=0,
            rng=EdgeRandom(at),
        )
        assert when == NOW + expected


def test_backoff_never_below_the_minimum() -> None:
    """With bounds that leave no room, a failure still waits the minimum."""
    tight = Bounds(base=60, minimum=60, maximum=60)
    when = retry_at(
        now=NOW,
        failures=1,
        interval=60,
        bounds=tight,
        retry_after=None,
        skip_hours=0,
        rng=EdgeRandom(0.0),
    )
    assert when == NOW + 60


def _at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 3, 1, hour, minute, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("when", "skip", "expected"),
    [
        (_at(3, 20), {3}, _at(4)),
        (_at(3, 20), {3, 4, 5}, _at(6)),
        (_at(23, 50), {23, 0}, _at(1) + 86_400),
        (_at(2, 59), {3}, _at(2, 59)),  # not in a skipped hour
        (_at(3, 20), set(range(24)), _at(3, 20)),  # every hour skipped: ignored
    ],
)
def test_skip_hours(when: float, skip: set[int], expected: float) -> None:
    """A check in a skipped hour (UTC) moves to the start of the next allowed hour."""
    mask = sum(1 << hour for hour in skip)
    assert avoid_skipped_hours(when, mask, EdgeRandom(0.0)) == expected
