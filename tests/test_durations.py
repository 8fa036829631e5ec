"""Durations as typed in chats and as shown in replies; the bounds a requested interval gets."""

from __future__ import annotations

import pytest

from bot.cadence import Bounds
from bot.durations import duration_text, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90), ("90s", 90), ("10m", 600), ("10 min", 600), ("2h", 7200), ("2H", 7200),
        ("1d", 86400), ("3 days", 259200), ("30分钟", 1800), ("30分", 1800), ("2小时", 7200),
        ("1天", 86400), ("45秒", 45), (" 5m ", 300),
        ("", None), ("m", None), ("1h30m", None), ("-5m", None), ("5 weeks", None),
        ("10 分钟x", None), ("1234567m", None),
        ("５m", 300),  # a Chinese input method's full-width digits
    ],
)  # fmt: skip
def test_parse_duration(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("lang", "seconds", "text"),
    [
        ("en", 45, "45 s"), ("en", 600, "10 min"), ("en", 90, "90 s"), ("en", 7200, "2 h"),
        ("en", 86400, "1 day"), ("en", 604800, "7 days"), ("en", 5400, "90 min"),
        ("zh", 600, "10 分钟"), ("zh", 86400, "1 天"), ("zh", 60, "1 分钟"), ("fr", 60, "1 min"),
    ],
)  # fmt: skip
def test_duration_text(lang: str, seconds: int, text: str) -> None:
    assert duration_text(lang, seconds) == text


def test_an_asked_interval_replaces_the_base_within_the_minimum() -> None:
    bounds = Bounds(base=300, minimum=60, maximum=21600)
    assert bounds.asked(None) == bounds
    assert bounds.asked(120) == Bounds(base=120, minimum=60, maximum=21600)
    assert bounds.asked(10) == Bounds(base=60, minimum=60, maximum=21600)
    assert bounds.asked(86400) == Bounds(base=86400, minimum=60, maximum=86400)
