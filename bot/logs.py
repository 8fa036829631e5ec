"""Logging set up in one place: one line per event, snake_case keys, no secrets.

``configure_logging`` is called by the command line only, never at import time.
The token filter scrubs the bot token from every record, including those of
httpx, which logs request URLs (``…/bot<token>/getUpdates``) at INFO.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

_REDACTED = "<token>"
_TRACEBACKS = logging.Formatter()


class TokenFilter(logging.Filter):
    """Replaces every occurrence of the secret in a record's final message."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secret:
            message = record.getMessage()
            if self._secret in message:
                record.msg = message.replace(self._secret, _REDACTED)
                record.args = None
            if record.exc_info and not record.exc_text:
                # Handlers format the traceback after the filters ran: format it here
                # so the formatter reuses this (scrubbed) text instead.
                record.exc_text = _TRACEBACKS.formatException(record.exc_info)
            if record.exc_text and self._secret in record.exc_text:
                record.exc_text = record.exc_text.replace(self._secret, _REDACTED)
            if record.stack_info and self._secret in record.stack_info:
                record.stack_info = record.stack_info.replace(self._secret, _REDACTED)
        return True


def configure_logging(*, token: str = "", level: int = logging.INFO) -> None:
    """Log lines to stderr with the token scrubbed; quiet the chatty libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(TokenFilter(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "telegram.ext.Updater", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def event(logger: logging.Logger, level: int, name: str, /, **fields: Any) -> None:
    """Log ``name key=value …``; values are repr'd when they contain spaces."""
    parts = [name]
    for key, value in fields.items():
        text = str(value)
        parts.append(f"{key}={text!r}" if (" " in text or not text) else f"{key}={text}")
    logger.log(level, " ".join(parts))
