"""Logging set up in one place: one line per event, snake_case keys, no secrets.

``configure_logging`` is called by the command line only, never at import time.
The token filter passes every record through ``bot.redact.scrub``: the bot token (as
written and URL-encoded), tokens in ``/bot<token>/`` paths and URL credentials are
replaced, in the message, the traceback and the stack, including httpx's request lines
(``…/bot<token>/getUpdates``) and a Bot API endpoint's echoed error bodies.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from bot.redact import scrub

_TRACEBACKS = logging.Formatter()


class TokenFilter(logging.Filter):
    """Scrubs the secret, and anything ``scrub`` recognises, from each record's final text."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secrets = (secret,)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place with its text scrubbed; always let it through."""
        message = record.getMessage()
        scrubbed = scrub(message, self._secrets)
        if scrubbed != message:
            record.msg = scrubbed
            record.args = None
        if record.exc_info and not record.exc_text:
            # Handlers format the traceback after the filters ran: format it here
            # so the formatter reuses this (scrubbed) text instead.
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, self._secrets)
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
