"""The token filter: the bot token never reaches a log line, tracebacks included."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import TokenFilter

TOKEN = "123456789:AAE-secret_token-value"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through a token-filtered handler into a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(TokenFilter(TOKEN))
    logger = logging.getLogger("tests.logs.token")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


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
