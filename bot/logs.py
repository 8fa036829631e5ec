"""Logging set up in one place: one line per event, snake_case keys, no secrets.

``configure_logging`` is called by the command line only, never at import time, with
``logging.level`` and ``logging.format``: ``text`` (``time LEVEL logger event k=v …``)
or ``json`` (one JSON object per line: ``time``, ``level``, ``logger``, ``event``, the
event's fields as keys, ``message``, and ``traceback`` when there is one).
The token filter passes every record through ``bot.redact.scrub``: the bot token (as
written and URL-encoded), tokens in ``/bot<token>/`` paths and URL credentials are
replaced, in the message, the traceback and the stack, including httpx's request lines
(``…/bot<token>/getUpdates``) and a Bot API endpoint's echoed error bodies.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.redact import scrub

_TRACEBACKS = logging.Formatter()
_JSON_RESERVED = frozenset({"time", "level", "logger", "event", "message", "traceback"})


class TokenFilter(logging.Filter):
    """Scrubs the secrets (the bot token, the database password), and anything ``scrub``
    recognises, from each record's final text."""

    def __init__(self, secret: str, *more: str) -> None:
        super().__init__()
        self._secrets = (secret, *more)

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
        fields = getattr(record, "event_fields", None)
        if isinstance(fields, dict):
            record.event_fields = {
                key: value
                if isinstance(value, int | float | bool) or value is None
                else scrub(str(value), self._secrets)
                for key, value in fields.items()
            }
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record; an ``event`` record's fields become keys of their own."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (non-ASCII kept as is)."""
        when = datetime.fromtimestamp(record.created, UTC)
        data: dict[str, Any] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
        }
        name = getattr(record, "event_name", None)
        if name:
            data["event"] = name
        for key, value in (getattr(record, "event_fields", None) or {}).items():
            data[f"field_{key}" if key in _JSON_RESERVED else key] = value
        data["message"] = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["traceback"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(
    *,
    token: str = "",
    secrets: Sequence[str] = (),
    level: int | str = logging.INFO,
    json_lines: bool = False,
) -> None:
    """Log lines to stderr with the token and ``secrets`` (``bot.redact.secrets_of``: the
    database password, which a driver's error may quote outside its URL) scrubbed; quiet
    the chatty libraries.

    ``level`` is a logging level or its name (``"INFO"``); ``json_lines`` selects
    ``JsonFormatter`` instead of the text format.
    """
    handler = logging.StreamHandler(sys.stderr)
    formatter = (
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    handler.setFormatter(formatter)
    handler.addFilter(_ToldElsewhere())
    handler.addFilter(TokenFilter(token, *secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    noisy = ("httpx", "httpcore", "apscheduler", "telegram.ext.Updater", "asyncpg", "tornado")
    for name in noisy:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


class _ToldElsewhere(logging.Filter):
    """Drops PTB's traceback for a Bot API answer that is not JSON (a proxy's HTML page).

    PTB logs it at ERROR with the JSON decoder's traceback, then raises a
    TelegramError that our callers report in one line (``telegram_unreachable`` at
    start-up, the delivery classifier later): a traceback per attempt says nothing more.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for PTB's "Can not load invalid JSON data" record; True otherwise."""
        return not (
            record.name.startswith("telegram.request")
            and str(record.msg).startswith("Can not load invalid JSON data")
        )


def event(logger: logging.Logger, level: int, name: str, /, **fields: Any) -> None:
    """Log ``name key=value …``; values are repr'd when they contain spaces."""
    parts = [name]
    for key, value in fields.items():
        text = str(value)
        parts.append(f"{key}={text!r}" if (" " in text or not text) else f"{key}={text}")
    # The name and fields ride along for the JSON format (``JsonFormatter``).
    logger.log(level, " ".join(parts), extra={"event_name": name, "event_fields": fields})
