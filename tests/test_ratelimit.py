"""Send budgets stay under the strict fake's limits, and one chat's wait holds back no other."""

from __future__ import annotations

import pytest

from bot.ratelimit import Limits, SendBudget
from tests.fakes.bot_api import ManualClock


def _sends_within(budget: SendBudget, clock: ManualClock, chat_id: int, seconds: float) -> int:
    """How many messages the budget lets out to one chat in ``seconds``, stepping 10 ms."""
    sent = 0
    end = clock() + seconds
    while clock() < end:
        if budget.wait_time(chat_id) == 0:
            budget.spend(chat_id)
            sent += 1
        clock.advance(0.01)
    return sent


@pytest.mark.parametrize(
    ("chat_id", "window", "telegram_cap"),
    [(42, 10.0, 3 + 10), (-100123, 60.0, 20)],
)
def test_budget_is_under_telegram_limits(chat_id: int, window: float, telegram_cap: int) -> None:
    """Over a window the budget allows fewer sends than Telegram's limit for that kind of chat."""
    clock = ManualClock()
    budget = SendBudget(clock)
    sent = _sends_within(budget, clock, chat_id, window)
    assert 0 < sent <= telegram_cap


def test_global_budget_under_thirty_per_second() -> None:
    """Across many chats, no one-second window carries 30 sends."""
    clock = ManualClock()
    budget = SendBudget(clock)
    chats = range(1, 200)
    for chat_id in chats:
        budget.wait_time(chat_id)
    clock.advance(10.0)  # every chat's own bucket is full now: only the global one limits
    sent = 0
    for chat_id in chats:
        if budget.wait_time(chat_id) == 0:
            budget.spend(chat_id)
            sent += 1
        clock.advance(1.0 / len(chats))
    assert 20 <= sent < 30


def test_a_new_chat_starts_with_one_message_not_a_burst() -> None:
    """After a restart, Telegram may still count earlier sends: only one goes out at once."""
    clock = ManualClock()
    budget = SendBudget(clock)
    assert budget.wait_time(7) == 0
    budget.spend(7)
    assert 0 < budget.wait_time(7) <= Limits().private_interval


def test_blocked_chat_waits_and_others_do_not() -> None:
    """A 429's retry_after holds that chat only."""
    clock = ManualClock()
    budget = SendBudget(clock, Limits())
    budget.wait_time(1)
    budget.wait_time(2)
    clock.advance(10.0)
    budget.block_chat(1, 5.0)
    assert budget.wait_time(1) >= 5.0
    assert budget.wait_time(2) == 0
    clock.advance(5.0)
    assert budget.wait_time(1) == 0
