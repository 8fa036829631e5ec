"""What a Telegram answer to a send means: one pure function from an error to an action.

(``unchanged`` says the same of an edit: "message is not modified" is no failure.)

The rules (Bot API documentation; python-telegram-bot 22's error mapping, which
strips "Bad Request: " and capitalises the rest):

- ``RetryAfter`` (429): Telegram did not take the message; only that chat waits
  ``retry_after`` seconds.
- ``Forbidden`` (403): the bot was blocked, kicked or the user is gone; the chat is
  deactivated until someone sends /start there again.
- ``ChatMigrated``: the group became a supergroup; everything moves to the new id.
- ``BadRequest`` naming a gone chat or topic: nothing more can be done; record it.
- ``BadRequest`` about pictures: send the entry again as its text form.
- ``BadRequest`` about anything else: send it once more as plain title + link; a
  plain message refused as well is recorded as failed.
- ``TimedOut`` and every other error (network errors, 5xx, 401, 409, new codes):
  retry later with exponential backoff, for as long as it lasts; a timeout means
  Telegram may have the message, so a picture message that keeps timing out goes
  as its text form instead (Telegram fetching the picture slowly is the usual cause).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut

MAX_BACKOFF_SECONDS = 600.0
PICTURE_TIMEOUTS = 3
"""Timeouts after which a picture message is sent as text instead."""

# Telegram's words when it cannot fetch or use a picture (PTB strips "Bad Request: ").
_PICTURE_ERRORS = (
    "wrong file identifier",
    "failed to get http url content",
    "wrong type of the web page content",
    "photo_invalid_dimensions",
    "image_process_failed",
    "webpage_curl_failed",
    "webpage_media_empty",
    "group send failed",
    "wrong remote file identifier",
    "photo_save_file_invalid",
)
_CHAT_GONE_ERRORS = ("chat not found", "message thread not found", "topic_closed", "topic_deleted")


class Action(enum.Enum):
    """What the sender does after an answer."""

    WAIT_CHAT = "wait_chat"
    DEACTIVATE = "deactivate"
    MIGRATE = "migrate"
    FAIL = "fail"
    WITHOUT_PICTURES = "without_pictures"
    PLAIN_TEXT = "plain_text"
    RETRY = "retry"
    RETRY_WITHOUT_PICTURES = "retry_without_pictures"


@dataclass(frozen=True, slots=True)
class Verdict:
    """An action and what it needs: seconds to wait (WAIT_CHAT, RETRY*), the new chat id."""

    action: Action
    reason: str
    seconds: float = 0.0
    new_chat_id: int | None = None


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(  # noqa: PLR0911 - one return per rule of the table in the module docstring
    error: TelegramError, *, has_pictures: bool, is_plain: bool, attempts: int
) -> Verdict:
    """The action for ``error``, Telegram's answer to one send.

    ``has_pictures``: the message carried photos; ``is_plain``: it was already the
    plain-text last resort; ``attempts``: failed tries of this message so far,
    this one included. Never raises.
    """
    reason = error.message
    if isinstance(error, RetryAfter):
        return Verdict(Action.WAIT_CHAT, reason, seconds=_seconds(error.retry_after))
    if isinstance(error, Forbidden):
        return Verdict(Action.DEACTIVATE, reason)
    if isinstance(error, ChatMigrated):
        return Verdict(Action.MIGRATE, reason, new_chat_id=error.new_chat_id)
    if isinstance(error, BadRequest):
        lowered = reason.lower()
        if is_plain or any(marker in lowered for marker in _CHAT_GONE_ERRORS):
            return Verdict(Action.FAIL, reason)
        if has_pictures and any(marker in lowered for marker in _PICTURE_ERRORS):
            return Verdict(Action.WITHOUT_PICTURES, reason)
        return Verdict(Action.PLAIN_TEXT, reason)
    backoff = min(MAX_BACKOFF_SECONDS, 2.0**attempts)
    if isinstance(error, TimedOut) and has_pictures and attempts >= PICTURE_TIMEOUTS:
        return Verdict(Action.RETRY_WITHOUT_PICTURES, reason, seconds=backoff)
    return Verdict(Action.RETRY, reason, seconds=backoff)


def unchanged(error: TelegramError) -> bool:
    """True when Telegram refused an edit only because it would change nothing.

    Telegram answers such an edit 400 "message is not modified: specified new
    message content and reply markup are exactly the same…" (PTB strips "Bad
    Request: "): the message already shows what the edit wanted, so all is well.
    """
    return isinstance(error, BadRequest) and "message is not modified" in error.message.lower()
