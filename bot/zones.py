"""Time zones: a chat's /tz name checked against the IANA database, and times shown in it.

Names come from the IANA time zone database through the standard library's
``zoneinfo`` (with the ``tzdata`` package where the system has no database), so the
accepted names are exactly the database's (``Asia/Shanghai``, ``Europe/Berlin``,
``UTC``); a name is found whatever its letter case, and anything else (a path, an
offset such as ``+8``, an abbreviation such as ``CST``, which names several zones)
is refused: the caller words the refusal.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, available_timezones

MAX_NAME = 64
"""No IANA name is longer; a longer argument is refused without a lookup."""


@functools.cache
def _names() -> dict[str, str]:
    """Every IANA name by its case-folded form (read once)."""
    return {name.casefold(): name for name in available_timezones()}


def zone_name(text: str) -> str | None:
    """The IANA name ``text`` stands for (``asia/shanghai`` → ``Asia/Shanghai``), or None."""
    if not text or len(text) > MAX_NAME:
        return None
    return _names().get(text.casefold())


def zone(name: str | None) -> tzinfo:
    """The time zone a stored name stands for; UTC for None or a name no longer known."""
    if name is None or zone_name(name) is None:
        return UTC
    return ZoneInfo(name)


def local_time(moment: float, where: tzinfo) -> str:
    """``moment`` (Unix seconds) as ``2026-11-04 16:05 CST`` in ``where``: minutes and the
    zone's abbreviation (or offset), as delivered messages show times."""
    when = datetime.fromtimestamp(moment, tz=UTC).astimezone(where)
    return f"{when:%Y-%m-%d %H:%M} {when.tzname() or ''}".rstrip()
