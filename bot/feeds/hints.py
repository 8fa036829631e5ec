"""What a feed says about how often to check it: channel elements and HTTP headers.

- ``<ttl>`` (RSS 2.0): minutes the channel may be cached before it is refreshed.
- ``<sy:updatePeriod>`` and ``<sy:updateFrequency>`` (RSS 1.0 Syndication module):
  the feed is updated ``frequency`` times per ``period`` (hourly, daily, weekly,
  monthly, yearly; frequency 1 when absent).
- ``<skipHours><hour>…`` (RSS 2.0): hours (0-23, GMT) in which aggregators may not read
  the feed.
- ``Cache-Control: max-age`` (RFC 9111 §5.2.2.1): seconds the response stays fresh;
  ``no-cache``/``no-store`` say nothing about an interval and are ignored.

Read with small patterns over the document's head (before its first item or entry),
never through the feed parser: a hint must cost nothing on a document that is not
parsed, and the channel elements come before the items in practice. The namespace
prefix of ``sy:`` is not checked (feeds use others). Values that make no sense (a
negative or huge number, an unknown period) count as absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEAD_LIMIT = 65_536
"""Bytes looked at when the document has no item or entry."""
MAX_HINT_SECONDS = 365 * 86_400

_FIRST_ITEM = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>/]")
_TTL = re.compile(rb"<ttl\s*>\s*(\d{1,9})\s*</ttl\s*>", re.IGNORECASE)
_PERIOD = re.compile(rb"<(?:\w+:)?updatePeriod\s*>\s*(\w{1,20})\s*<", re.IGNORECASE)
_FREQUENCY = re.compile(rb"<(?:\w+:)?updateFrequency\s*>\s*(\d{1,9})\s*<", re.IGNORECASE)
_SKIP_HOURS = re.compile(rb"<skipHours\s*>(.{0,2000}?)</skipHours\s*>", re.IGNORECASE | re.DOTALL)
_HOUR = re.compile(rb"<hour\s*>\s*(\d{1,2})\s*</hour\s*>", re.IGNORECASE)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)
_PERIODS = {
    b"hourly": 3600,
    b"daily": 86_400,
    b"weekly": 7 * 86_400,
    b"monthly": 30 * 86_400,
    b"yearly": 365 * 86_400,
}


@dataclass(frozen=True, slots=True)
class DocumentHints:
    """The channel's own hints."""

    ttl_seconds: int | None = None
    update_seconds: int | None = None
    """``sy:updatePeriod`` divided by ``sy:updateFrequency``."""
    skip_hours: int = 0
    """Bit ``h`` set: hour ``h`` (GMT) is skipped."""

    @property
    def interval_seconds(self) -> int | None:
        """The longest interval the document asks for, or None."""
        found = [s for s in (self.ttl_seconds, self.update_seconds) if s]
        return max(found) if found else None


def _sane(seconds: int) -> int | None:
    return seconds if 0 < seconds <= MAX_HINT_SECONDS else None


def document_hints(body: bytes) -> DocumentHints:
    """The hints in the head of a feed document (see the module docstring)."""
    first = _FIRST_ITEM.search(body, 0, HEAD_LIMIT)
    head = body[: first.start() if first else HEAD_LIMIT]
    ttl = _TTL.search(head)
    ttl_seconds = _sane(int(ttl.group(1)) * 60) if ttl else None
    update_seconds = None
    period = _PERIOD.search(head)
    if period is not None and period.group(1).lower() in _PERIODS:
        frequency = _FREQUENCY.search(head)
        times = int(frequency.group(1)) if frequency else 1
        if times > 0:
            update_seconds = _sane(_PERIODS[period.group(1).lower()] // times)
    mask = 0
    skip = _SKIP_HOURS.search(head)
    if skip is not None:
        for hour in _HOUR.findall(skip.group(1)):
            # RSS 2.0 says 0-23; some feeds write 24 for midnight.
            mask |= 1 << (int(hour) % 24) if int(hour) <= 24 else 0
    return DocumentHints(ttl_seconds, update_seconds, mask)


def cache_max_age(cache_control: str | None) -> int | None:
    """``max-age`` of a Cache-Control header in seconds, or None (absent, zero or senseless)."""
    if not cache_control:
        return None
    found = _MAX_AGE.search(cache_control)
    return _sane(int(found.group(1))) if found else None
