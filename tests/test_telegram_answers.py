"""Telegram's answers to a send map to one action each, by one pure function."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.telegram_answers import MAX_BACKOFF_SECONDS, PICTURE_TIMEOUTS, Action, classify

TEXT = {"has_pictures": False, "is_plain": False, "attempts": 1}
PHOTO = {"has_pictures": True, "is_plain": False, "attempts": 1}
PLAIN = {"has_pictures": False, "is_plain": True, "attempts": 1}


@pytest.mark.parametrize(
    ("error", "shape", "action", "seconds"),
    [
        (RetryAfter(7), TEXT, Action.WAIT_CHAT, 7.0),
        (RetryAfter(timedelta(seconds=3)), PHOTO, Action.WAIT_CHAT, 3.0),
        (Forbidden("Forbidden: bot was blocked by the user"), TEXT, Action.DEACTIVATE, 0.0),
        (Forbidden("Forbidden: bot was kicked from the group chat"), PHOTO, Action.DEACTIVATE, 0.0),
        (ChatMigrated(-100777), TEXT, Action.MIGRATE, 0.0),
        (BadRequest("Chat not found"), TEXT, Action.FAIL, 0.0),
        (BadRequest("Message thread not found"), PHOTO, Action.FAIL, 0.0),
        (BadRequest("Wrong file identifier/http url specified"), PHOTO, Action.WITHOUT_PICTURES, 0),
        (BadRequest("Failed to get http url content"), PHOTO, Action.WITHOUT_PICTURES, 0.0),
        (BadRequest("Wrong file identifier/http url specified"), TEXT, Action.PLAIN_TEXT, 0.0),
        (BadRequest("Can't parse entities: unsupported start tag"), TEXT, Action.PLAIN_TEXT, 0),
        (BadRequest("Entity url 'x' is invalid: wrong http url"), PHOTO, Action.PLAIN_TEXT, 0),
        (BadRequest("Message is too long"), PLAIN, Action.FAIL, 0.0),
        (TimedOut(), TEXT, Action.RETRY, 2.0),
        (NetworkError("Bad Gateway"), TEXT, Action.RETRY, 2.0),
        (InvalidToken("Unauthorized"), TEXT, Action.RETRY, 2.0),
        (Conflict("Conflict: terminated by other getUpdates request"), TEXT, Action.RETRY, 2.0),
        (TelegramError("a code nobody knows yet"), PHOTO, Action.RETRY, 2.0),
    ],
)
def test_each_answer_has_one_action(
    error: TelegramError, shape: dict[str, object], action: Action, seconds: float
) -> None:
    """The table of the module docstring: each kind of answer and what the sender does."""
    verdict = classify(error, **shape)  # type: ignore[arg-type]
    assert verdict.action is action
    assert verdict.seconds == pytest.approx(seconds)
    assert verdict.reason == error.message
    assert verdict.new_chat_id == (-100777 if action is Action.MIGRATE else None)


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    """2, 4, 8 … seconds, never more than the cap: an outage is waited out, not hammered."""
    waits = [
        classify(NetworkError("Bad Gateway"), has_pictures=False, is_plain=False, attempts=n)
        for n in range(1, 15)
    ]
    assert [w.seconds for w in waits[:3]] == [2.0, 4.0, 8.0]
    assert max(w.seconds for w in waits) == MAX_BACKOFF_SECONDS


def test_a_picture_that_keeps_timing_out_goes_as_text() -> None:
    """Telegram may be fetching the picture slowly; after a few timeouts the text goes instead."""
    early = classify(TimedOut(), has_pictures=True, is_plain=False, attempts=PICTURE_TIMEOUTS - 1)
    late = classify(TimedOut(), has_pictures=True, is_plain=False, attempts=PICTURE_TIMEOUTS)
    text = classify(TimedOut(), has_pictures=False, is_plain=False, attempts=PICTURE_TIMEOUTS)
    assert early.action is Action.RETRY
    assert late.action is Action.RETRY_WITHOUT_PICTURES
    assert text.action is Action.RETRY
