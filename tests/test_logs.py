"""The token filter: the bot token never reaches a log line, tracebacks included."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import JsonFormatter, TokenFilter, event

TOKEN = "123456789:AAE-secret_token-value"


def _capture(
    name: str, formatter: logging.Formatter, *more: str
) -> tuple[logging.Logger, io.StringIO]:
    """A logger writing through a handler filtering the token (and ``more`` secrets) with
    ``formatter`` into a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(TokenFilter(TOKEN, *more))
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


@pytest.fixture
def captured() -> tuple[logging.Logger, io.StringIO]:
    """A text-format logger into a string."""
    return _capture("tests.logs.token", logging.Formatter("%(levelname)s %(message)s"))


def test_token_in_message_arguments_is_scrubbed(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    """A URL with the token, passed as an argument, is logged with the token replaced."""
    logger, stream = captured
    logger.info("HTTP Request: POST %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
    assert TOKEN not in stream.getvalue()
    assert "/bot<token>/getMe" in stream.getvalue()


def test_token_in_a_logged_traceback_is_scrubbed(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    """An exception whose text carries the token is logged with its traceback, token replaced."""
    logger, stream = captured
    error = RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    logger.error("handler_failed error=%r", error, exc_info=error)
    assert "RuntimeError" in stream.getvalue()
    assert "was rejected" in stream.getvalue()
    assert TOKEN not in stream.getvalue()


def test_token_in_a_chained_cause_is_scrubbed(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    """The token hidden in an exception's cause is scrubbed too."""
    logger, stream = captured
    outer = RuntimeError("send failed")
    outer.__cause__ = ValueError(f"bad URL /bot{TOKEN}/sendMessage")
    logger.error("send_failed", exc_info=outer)
    assert "send failed" in stream.getvalue()
    assert TOKEN not in stream.getvalue()


@pytest.fixture
def json_captured() -> tuple[logging.Logger, io.StringIO]:
    """A JSON-lines logger into a string."""
    return _capture("tests.logs.json", JsonFormatter())


def test_json_lines_carry_the_event_and_its_fields(
    json_captured: tuple[logging.Logger, io.StringIO],
) -> None:
    """logging.format json: one object per line; the event's fields are keys, scrubbed."""
    logger, stream = json_captured
    event(logger, logging.WARNING, "send_retry", chat_id=-100, error=f"at /bot{TOKEN}/send", n=3)
    line = json.loads(stream.getvalue())
    assert line["event"] == "send_retry"
    assert line["level"] == "WARNING"
    assert line["logger"] == "tests.logs.json"
    assert (line["chat_id"], line["n"]) == (-100, 3)
    assert line["error"] == "at /bot<token>/send"
    assert line["time"].endswith("Z")
    assert TOKEN not in stream.getvalue()


def test_json_traceback_is_one_line_and_scrubbed(
    json_captured: tuple[logging.Logger, io.StringIO],
) -> None:
    """A traceback is a field of the one JSON line, with the token replaced."""
    logger, stream = json_captured
    logger.error("handler_failed", exc_info=RuntimeError(f"token {TOKEN} rejected"))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert "RuntimeError" in data["traceback"]
    assert TOKEN not in lines[0]


def test_the_database_password_is_scrubbed_too() -> None:
    """A driver's error may quote the password outside its URL; given, it goes too."""
    formatter = logging.Formatter("%(message)s")
    logger, stream = _capture("tests.logs.password", formatter, "pg-Pass-w0rd")
    logger.warning("password authentication failed: %s", "pg-Pass-w0rd")
    assert stream.getvalue() == "password authentication failed: <token>\n"
