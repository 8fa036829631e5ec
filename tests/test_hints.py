"""A feed's own polling hints, read from the document head and the Cache-Control header."""

from __future__ import annotations

import pytest

from bot.feeds.hints import DocumentHints, cache_max_age, document_hints

HEAD = b'<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title>'


def _doc(channel: bytes, items: bytes = b"<item><title>x</title></item>") -> bytes:
    return HEAD + channel + items + b"</channel></rss>"


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        (b"", DocumentHints()),
        (b"<ttl>60</ttl>", DocumentHints(ttl_seconds=3600)),
        (b"<ttl> 15 </ttl>", DocumentHints(ttl_seconds=900)),
        (b"<ttl>0</ttl>", DocumentHints()),
        (b"<ttl>soon</ttl>", DocumentHints()),
        (b"<sy:updatePeriod>hourly</sy:updatePeriod>", DocumentHints(update_seconds=3600)),
        (
            b"<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>",
            DocumentHints(update_seconds=21_600),
        ),
        (b"<syn:updatePeriod>weekly</syn:updatePeriod>", DocumentHints(update_seconds=604_800)),
        (b"<sy:updatePeriod>fortnightly</sy:updatePeriod>", DocumentHints()),
        (
            b"<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>0</sy:updateFrequency>",
            DocumentHints(),
        ),
        (
            b"<skipHours><hour>0</hour><hour>1</hour><hour>24</hour><hour>99</hour></skipHours>",
            DocumentHints(skip_hours=0b11),
        ),
    ],
)
def test_document_hints(channel: bytes, expected: DocumentHints) -> None:
    """ttl in minutes, sy:updatePeriod/Frequency, skipHours as a mask; nonsense is absent."""
    assert document_hints(_doc(channel)) == expected


def test_the_longest_document_hint_wins() -> None:
    """With both ttl and sy:update*, the feed asks for the longer of the two."""
    hints = document_hints(_doc(b"<ttl>30</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"))
    assert hints.interval_seconds == 3600


def test_hints_inside_entries_are_not_read() -> None:
    """Only the head counts: an entry quoting <ttl> (in CDATA) does not set the interval."""
    item = b"<item><description><![CDATA[<ttl>9999</ttl>]]></description></item>"
    assert document_hints(_doc(b"", item)) == DocumentHints()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("max-age=600", 600),
        ("public, max-age=3600, must-revalidate", 3600),
        ('max-age="120"', 120),
        ("s-maxage=900", None),
        ("max-age=0", None),
        ("no-cache", None),
        ("max-age=abc", None),
    ],
)
def test_cache_max_age(header: str | None, expected: int | None) -> None:
    """Cache-Control max-age in seconds (RFC 9111); zero, absent or garbled is no hint."""
    assert cache_max_age(header) == expected
