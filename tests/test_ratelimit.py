"""Send slots stay under the strict fake's limits, are booked atomically, and one chat's
wait holds back no other."""

from __future__ import annotations

import collections

import pytest

from bot.ratelimit import Limits, SendSlots
from tests.virtual_time import VirtualClock


def _booked_times(slots: SendSlots, clock: VirtualClock, chat_ids: list[int]) -> list[float]:
    """Book one slot per entry of ``chat_ids`` at the same instant; the moments they go."""
    return [clock.monotonic() + (slots.reserve(chat_id) or 0.0) for chat_id in chat_ids]


def _most_in_window(times: list[float], span: float) -> int:
    """The largest number of ``times`` inside any half-open window of ``span`` seconds."""
    ordered = sorted(times)
    window: collections.deque[float] = collections.deque()
    most = 0
    for moment in ordered:
        window.append(moment)
        # A nanosecond of tolerance: slot times are sums of 1/29, not exact in binary.
        while window[0] <= moment - span + 1e-9:
            window.popleft()
        most = max(most, len(window))
    return most


@pytest.mark.parametrize(
    ("chat_id", "span", "telegram_cap"),
    [(42, 1.0, 1), (42, 10.0, 10), (-100123, 60.0, 19)],
)
def test_booked_slots_stay_under_telegram_limits(
    chat_id: int, span: float, telegram_cap: int
) -> None:
    """Fifty messages booked at once for one chat never crowd a window past Telegram's limit."""
    clock = VirtualClock()
    slots = SendSlots(clock)
    times = _booked_times(slots, clock, [chat_id] * 50)
    assert times == sorted(times)
    assert _most_in_window(times, span) <= telegram_cap


def test_many_chats_at_once_stay_under_thirty_per_second() -> None:
    """1,000 chats booking at the same instant are spread to at most 29 in any second."""
    clock = VirtualClock()
    slots = SendSlots(clock)
    times = _booked_times(slots, clock, list(range(1, 1001)))
    assert _most_in_window(times, 1.0) == 29
    # ...and no slower than that: 1,000 messages take 1,000/29 s, not more.
    assert max(times) - min(times) == pytest.approx(999 / 29)


def test_concurrent_bookings_never_share_a_slot() -> None:
    """Booking is atomic: the second caller at the same instant gets the next slot, not "now"."""
    clock = VirtualClock()
    slots = SendSlots(clock)
    assert slots.reserve(7) == 0.0
    tick = Limits().global_interval
    assert Limits().private_interval <= slots.reserve(7) <= Limits().private_interval + tick
    assert slots.reserve(8) == pytest.approx(tick)


def test_max_wait_books_nothing_when_the_slot_is_too_far() -> None:
    """A reply that would wait too long is refused, and the refusal books nothing."""
    clock = VirtualClock()
    slots = SendSlots(clock)
    slots.reserve(7)
    assert slots.reserve(7, max_wait=0.5) is None
    assert slots.wait_time(7) == slots.reserve(7)


def test_a_new_chat_starts_with_one_message_not_a_burst() -> None:
    """After a restart, Telegram may still count earlier sends: only one goes out at once."""
    clock = VirtualClock()
    slots = SendSlots(clock)
    assert slots.wait_time(7) <= Limits().global_interval
    slots.reserve(7)
    assert 0 < slots.wait_time(7) <= Limits().private_interval + Limits().global_interval


def test_a_media_group_costs_one_slot_per_picture() -> None:
    """Three pictures in one album count as three messages for the chat's budget."""
    clock = VirtualClock()
    slots = SendSlots(clock)
    slots.reserve(7, cost=3)
    limits = Limits()
    assert 3 * limits.private_interval <= slots.wait_time(7)
    assert slots.wait_time(7) <= 3 * limits.private_interval + limits.global_interval


def test_blocked_chat_waits_and_others_do_not() -> None:
    """A 429's retry_after holds that chat only."""
    clock = VirtualClock()
    slots = SendSlots(clock)
    clock.advance(10.0)
    slots.block_chat(1, 5.0)
    tick = Limits().global_interval
    assert 5.0 <= slots.wait_time(1) <= 5.0 + tick
    assert slots.wait_time(2) <= tick
    clock.advance(5.0)
    assert slots.wait_time(1) <= tick
