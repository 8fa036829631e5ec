"""Durations as chats type them (``10m``, ``2h``, ``1d``, ``30 分钟``) and as replies show them.

Used by ``/set ID interval``. Units: seconds (``s``, ``sec``, 秒), minutes (``m``,
``min``, 分, 分钟), hours (``h``, ``hr``, 时, 小时) and days (``d``, ``day(s)``, 天);
a bare number is seconds. One unit per value: ``1h30m`` is refused, ``90m`` is fine.
"""

from __future__ import annotations

import re

_UNITS = {
    "": 1,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "秒": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "分": 60,
    "分钟": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "时": 3600,
    "小时": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "天": 86400,
}
_DURATION = re.compile(r"(\d{1,6})\s*([a-z]{0,4}|[秒分钟时小天]{1,2})", re.IGNORECASE)

DAY = 86400
HOUR = 3600
MINUTE = 60


def parse_duration(text: str) -> int | None:
    """Seconds named by ``text`` (``"10m"`` → 600), or None when it names no duration."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    unit = _UNITS.get(match.group(2).lower())
    return None if unit is None else int(match.group(1)) * unit


_NAMES = {
    "en": (("day", "days"), ("h", "h"), ("min", "min"), ("s", "s")),
    "zh": (("天", "天"), ("小时", "小时"), ("分钟", "分钟"), ("秒", "秒")),
}


def duration_text(lang: str, seconds: int) -> str:
    """``seconds`` in the largest unit that divides it whole: ``"10 min"``, ``"1 day"``.

    Chinese (``lang`` ``"zh"``) reads ``"10 分钟"``; any other language, English.
    """
    names = _NAMES.get(lang, _NAMES["en"])
    for size, (one, many) in zip((DAY, HOUR, MINUTE, 1), names, strict=True):
        if seconds % size == 0 and (seconds >= size or size == 1):
            count = seconds // size
            return f"{count} {one if count == 1 else many}"
    return f"{seconds} {names[-1][1]}"  # unreachable: every whole number divides by 1
