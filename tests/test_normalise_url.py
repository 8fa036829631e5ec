"""What users type as a feed URL, and the one spelling a feed is stored under."""

from __future__ import annotations

import pytest

from bot.services.subscriptions import normalise_url


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("HTTPS://Feeds.Example.COM:443/Rss?x=1#top", "https://feeds.example.com/Rss?x=1"),
        ("feeds.example.com/rss", "https://feeds.example.com/rss"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:8080/a/", "http://example.com:8080/a/"),
        ("http://Example.COM./x", "http://example.com/x"),
        ("http://127.1/f", "http://127.0.0.1/f"),
        ("http://2130706433/f", "http://127.0.0.1/f"),
        ("http://0x7f.1/f", "http://127.0.0.1/f"),
        ("http://[::1]:8080/f", "http://[::1]:8080/f"),
        ("http://user:pw@Example.com/f", "http://user:pw@example.com/f"),
        ("<https://a.example/feed>", "https://a.example/feed"),
        ("http://example.com:99999/f", None),
        ("ftp://example.com/f", None),
        ("javascript:alert(1)", None),
    ],
)
def test_one_feed_one_spelling(typed: str, stored: str | None) -> None:
    assert normalise_url(typed) == stored
