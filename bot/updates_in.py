"""How updates come in: reaching Telegram at start, long polling or the webhook, poll errors.

- ``reach_telegram`` initializes PTB (its first call is getMe) and retries while
  Telegram cannot be reached, one log line per attempt, with backoff; a rejected token
  or a refusal is raised at once.
- ``receive_updates`` starts long polling, or PTB's webhook server when
  ``telegram.webhook.url`` is set (``setWebhook`` with the secret; PTB answers 403 to a
  request without it).
- ``PollErrors`` turns failed getUpdates calls into log lines: a 409 Conflict (another
  process polls the token) is one line per episode, never a traceback per retry.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.clock import Clock
from bot.config import WebhookSettings
from bot.i18n.values import shown
from bot.logs import event

log = logging.getLogger(__name__)

POLL_TIMEOUT_SECONDS = 10
ERROR_UNITS = 300
"""How much of Telegram's (or a proxy's) error text a start-up line shows."""
BOOTSTRAP_RETRIES = 3
"""PTB's own retries of deleteWebhook/setWebhook once getMe has worked."""


async def reach_telegram(
    application: Application,  # type: ignore[type-arg]
    *,
    clock: Clock,
    where: Callable[[], str],
    waits: Sequence[float],
) -> None:
    """Initialize ``application``, retrying while Telegram is unreachable.

    Each failed attempt (no answer, a timeout, a 5xx from Telegram's front end) is one
    WARNING line naming ``where()`` (the API, and the proxy if any); then the next of
    ``waits`` (seconds, non-empty: ``telegram.startup_retry_seconds``; the last repeats)
    on ``clock``. Raises InvalidToken and Telegram's refusals at once, since waiting
    would not change them; retries until cancelled.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            await application.initialize()
        except (InvalidToken, BadRequest):
            raise  # PTB's BadRequest is a NetworkError; a refusal, not an outage
        except NetworkError as exc:
            delay = waits[min(attempt, len(waits)) - 1]
            event(
                log,
                logging.WARNING,
                "telegram_unreachable",
                attempt=attempt,
                retry_in=f"{delay:g}s",
                # A proxy's answer can be a whole HTML page: one line, cut.
                error=f"cannot reach {where()}: {shown(exc.message, ERROR_UNITS)}",
            )
            await clock.sleep(delay)
        else:
            return


async def receive_updates(
    application: Application,  # type: ignore[type-arg]
    webhook: WebhookSettings,
    on_poll_error: Callable[[TelegramError], None],
) -> None:
    """Start long polling, or the webhook server when ``webhook.url`` is set.

    Raises OSError (naming the address) when the webhook port cannot be bound.
    """
    updater = application.updater
    assert updater is not None  # noqa: S101 - built with an updater
    if not webhook.url:
        await updater.start_polling(
            timeout=POLL_TIMEOUT_SECONDS,
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=BOOTSTRAP_RETRIES,
            error_callback=on_poll_error,
        )
        return
    # Without a configured secret, a fresh one per start: setWebhook tells Telegram
    # each time, and nobody else can guess it.
    secret = webhook.secret_token.get_secret_value() or secrets.token_urlsafe(32)
    try:
        await updater.start_webhook(
            listen=webhook.listen,
            port=webhook.port,
            url_path=urlsplit(webhook.url).path.lstrip("/"),
            webhook_url=webhook.url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=BOOTSTRAP_RETRIES,
        )
    except OSError as exc:
        where = f"{webhook.listen}:{webhook.port}"
        raise OSError(f"cannot listen for the webhook on {where}: {exc.strerror}") from exc


class PollErrors:
    """Log lines for failed getUpdates calls; PTB's polling loop retries by itself."""

    def __init__(self) -> None:
        self.conflicting = False
        """A 409 Conflict was logged and no getUpdates has succeeded since."""

    def failed(self, error: TelegramError) -> None:
        """One line per failure, never a traceback; a Conflict once per episode.

        A 409 means another process polls this token or a webhook is set, and repeats
        (PTB backs off up to 30 s) until that ends: only its first occurrence is
        logged, and ``/healthz`` shows the rest.
        """
        if isinstance(error, Conflict):
            if not self.conflicting:
                self.conflicting = True
                event(
                    log,
                    logging.ERROR,
                    "telegram_conflict",
                    detail=error.message,
                    hint="another process is receiving this bot's updates",
                )
            return
        event(log, logging.WARNING, "polling_failed", error=error.message)

    def answered(self, method: str, code: int | None, _seconds: float) -> None:
        """A Bot API call ended: a successful getUpdates ends a Conflict episode."""
        if method == "getUpdates" and code == 200 and self.conflicting:
            self.conflicting = False
            event(log, logging.WARNING, "telegram_conflict_ended")
