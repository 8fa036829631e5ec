"""How often a feed is checked: pure rules on plain numbers, the scheduler's policy.

Every interval lies within ``[polling.min_interval_seconds, polling.max_interval_seconds]``
(``Bounds``). Within them:

- **Base.** A feed with nothing else to go by is checked every ``polling.interval_seconds``.
  Subscriptions have no interval of their own yet; when one exists, the base of a feed
  becomes the shortest interval its subscribers asked for.
- **Hints** (``Rhythm.hint_seconds``): ``<ttl>`` (RSS 2.0: minutes the channel may be
  cached), ``sy:updatePeriod``/``sy:updateFrequency`` (RSS 1.0 Syndication module) and
  ``Cache-Control: max-age`` (RFC 9111 §5.2.2.1) say how long the document stays fresh:
  the feed is never checked more often than that (up to the maximum).
- **Learned rhythm.** A busy feed, one that gained entries at least ``RHYTHM_SAMPLES`` times
  with a mean gap below ``BUSY_SHARE`` of the base, is checked about as often as it gains
  entries (down to the minimum). A quiet feed, nothing new for ``QUIET_AFTER`` seconds, is
  checked once per ``1/QUIET_DIVISOR`` of its silence (silent two weeks: every two hours).
- **skipHours** (RSS 2.0): a check that would fall in a skipped hour (UTC) moves to the
  start of the next hour that is not skipped, plus jitter.
- **Phase.** A check made on time keeps the feed's phase (next = previous due time plus
  the interval), so a feed is checked once per interval with no drift. A new feed, a
  changed interval or a check far behind schedule gets a fresh phase with jitter, so
  checks spread over the interval instead of firing together.
- **Backoff.** After ``n`` failures in a row the next try waits ``interval × 2ⁿ`` (capped
  at the maximum) times a random factor in ``[0.75, 1]``, never less than the minimum, and
  at least as long as a ``Retry-After`` asked for (RFC 9110 §10.2.3; capped at the maximum).

Randomness comes from the ``random.Random`` passed in, so tests choose it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from bot.config import PollingSettings
from bot.models import Rhythm

RHYTHM_SAMPLES = 3
BUSY_SHARE = 0.5
RHYTHM_WEIGHT = 0.3
"""Weight of the newest gap in the moving average."""
QUIET_AFTER = 7 * 86400
QUIET_DIVISOR = 168
PHASE_JITTER = 0.25
"""A fresh phase lands in ``[1, 1 + PHASE_JITTER]`` intervals from now."""
NEW_FEED_SPREAD = (0.75, 1.0)
"""A feed just read by /sub is next due within this share of an interval."""
LATE_SHARE = 0.5
"""A check later than this share of the interval gets a fresh phase."""
BACKOFF_JITTER = (0.75, 1.0)
MAX_DOUBLINGS = 16
HOUR = 3600
ALL_HOURS = (1 << 24) - 1
MAX_ASKED_INTERVAL = 7 * 86400
"""The longest interval a chat may ask for (``/set ID interval``, an imported OPML file's
``newsrelay:interval``), seconds; the configured maximum still applies on top."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """The base interval and the bounds every interval lies within, seconds."""

    base: int
    minimum: int
    maximum: int

    @classmethod
    def from_settings(cls, polling: PollingSettings) -> Bounds:
        """The bounds the configuration sets."""
        return cls(
            base=polling.effective_interval,
            minimum=polling.min_interval_seconds,
            maximum=polling.longest_interval,
        )

    def asked(self, seconds: int | None) -> Bounds:
        """The bounds for a feed whose subscribers asked for ``seconds`` (None: nobody did).

        The request replaces the base interval; it is never below the minimum, and a
        request longer than the maximum raises the maximum to it.
        """
        if seconds is None:
            return self
        base = max(self.minimum, seconds)
        return Bounds(base=base, minimum=self.minimum, maximum=max(self.maximum, base))

    def clamp(self, seconds: float) -> int:
        """``seconds`` brought within the bounds, rounded to whole seconds."""
        return round(min(self.maximum, max(self.minimum, seconds)))


def interval_for(rhythm: Rhythm, bounds: Bounds, *, now: float, since: float) -> int:
    """The interval for a feed with this rhythm, seconds (see the module docstring).

    ``since`` is when the feed was first followed (Unix seconds): its silence counts
    from then until it gains a first entry.
    """
    interval = float(bounds.base)
    gap = rhythm.new_gap_seconds
    if rhythm.new_samples >= RHYTHM_SAMPLES and gap is not None and gap < bounds.base * BUSY_SHARE:
        interval = gap
    silence = now - (since if rhythm.last_new_at is None else rhythm.last_new_at)
    if silence > QUIET_AFTER:
        interval = max(interval, silence / QUIET_DIVISOR)
    if rhythm.hint_seconds:
        interval = max(interval, rhythm.hint_seconds)
    return bounds.clamp(interval)


def learn(rhythm: Rhythm, new_entries: int, now: float) -> Rhythm:
    """The rhythm after a check at ``now`` that found ``new_entries`` new entries."""
    if new_entries <= 0:
        return rhythm
    if rhythm.last_new_at is None:
        return replace(rhythm, last_new_at=now)
    sample = max(0.0, now - rhythm.last_new_at) / new_entries
    old = rhythm.new_gap_seconds
    gap = sample if old is None else old + RHYTHM_WEIGHT * (sample - old)
    return replace(rhythm, last_new_at=now, new_gap_seconds=gap, new_samples=rhythm.new_samples + 1)


def next_check(
    *,
    now: float,
    due_at: float,
    interval: int,
    previous_interval: int,
    skip_hours: int,
    rng: random.Random,
) -> float:
    """When a feed checked at ``now`` (it was due at ``due_at``) is due next, Unix seconds."""
    late = now - due_at
    if interval == previous_interval and 0 <= late < interval * LATE_SHARE:
        due = due_at + interval
    else:
        due = now + interval * rng.uniform(1.0, 1.0 + PHASE_JITTER)
    return avoid_skipped_hours(due, skip_hours, rng)


def first_check(now: float, interval: int, rng: random.Random) -> float:
    """When a feed followed but never read (a bulk import) is first due: within an interval."""
    return now + interval * rng.random()


def after_subscribe(now: float, interval: int, rng: random.Random) -> float:
    """When a feed /sub just read is next due: a little under an interval from now."""
    return now + interval * rng.uniform(*NEW_FEED_SPREAD)


def retry_at(
    *,
    now: float,
    failures: int,
    interval: int,
    bounds: Bounds,
    retry_after: float | None,
    skip_hours: int,
    rng: random.Random,
) -> float:
    """When a feed that failed ``failures`` times in a row is tried again, Unix seconds."""
    raw = interval * 2 ** min(max(failures, 1), MAX_DOUBLINGS)
    delay = max(bounds.minimum, min(bounds.maximum, raw) * rng.uniform(*BACKOFF_JITTER))
    if retry_after is not None:
        delay = max(delay, min(retry_after, bounds.maximum))
    return avoid_skipped_hours(now + delay, skip_hours, rng)


def avoid_skipped_hours(when: float, skip_hours: int, rng: random.Random) -> float:
    """``when``, or the start of the next hour not in ``skip_hours`` plus jitter (UTC).

    A mask that skips every hour is ignored: the feed would never be checked.
    """
    mask = skip_hours & ALL_HOURS
    if not mask or mask == ALL_HOURS or not mask >> _hour(when) & 1:
        return when
    start = when - when % HOUR
    while mask >> _hour(start) & 1:
        start += HOUR
    return start + HOUR * PHASE_JITTER * rng.random()


def _hour(when: float) -> int:
    return int(when // HOUR) % 24
