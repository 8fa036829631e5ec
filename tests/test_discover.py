"""Feed autodiscovery on web pages, as a table, plus garbage that must not raise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.feeds.discover import find_feed_links
from tests.corpus import corpus_feed

BASE = "https://blog.example/posts/today.html"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<link rel="alternate" type="application/rss+xml" href="/feed.xml">',
            ["https://blog.example/feed.xml"],
        ),
        (
            '<link rel="alternate" type="application/atom+xml" href="atom.xml">'
            '<link rel="alternate" type="application/feed+json" href="feed.json">',
            ["https://blog.example/posts/atom.xml", "https://blog.example/posts/feed.json"],
        ),
        (
            "<LINK REL='Alternate Home' TYPE='Application/RSS+XML; charset=utf-8' "
            "HREF=' https://cdn.example/rss '>",
            ["https://cdn.example/rss"],
        ),
        (
            '<link rel="alternate" type="application/rdf+xml" href="//other.example/index.rdf"/>'
            '<link rel="alternate" type="application/json" href="?format=json"/>',
            [
                "https://other.example/index.rdf",
                "https://blog.example/posts/today.html?format=json",
            ],
        ),
        (
            '<base href="https://mirror.example/sub/">'
            '<link rel="alternate" type="application/rss+xml" href="rss">',
            ["https://mirror.example/sub/rss"],
        ),
        (
            '<link rel="alternate" type="application/rss+xml" href="/a">'
            '<link rel="alternate" type="application/atom+xml" href="https://blog.example/a">',
            ["https://blog.example/a"],
        ),
        ('<link rel="stylesheet" type="text/css" href="/style.css">', []),
        ('<link rel="alternate" type="text/html" hreflang="de" href="/de/">', []),
        ('<link rel="alternate" href="/no-type">', []),
        ('<link rel="alternate" type="application/rss+xml">', []),
        ('<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">', []),
        ('<link rel="alternate" type="application/rss+xml" href="ftp://x.example/f">', []),
        ('<a rel="alternate" type="application/rss+xml" href="/anchor-not-link">x</a>', []),
        (
            '<link rel="alternate" type="application/rss+xml" href="/ok">'
            "<p>unclosed <![zzz[ broken ]]> <![ \x00 >"
            '<link rel="alternate" type="application/rss+xml" href="/after">',
            ["https://blog.example/ok", "https://blog.example/after"],
        ),
        (
            '<link rel="alternate" type="application/rss+xml" href="/before">'
            "<!DOCTYPE html [ ] junk>"
            '<link rel="alternate" type="application/rss+xml" href="/after-doctype">',
            ["https://blog.example/before", "https://blog.example/after-doctype"],
        ),
        ("", []),
    ],
)
def test_find_feed_links(html: str, expected: list[str]) -> None:
    """Alternate feed links of a page come back absolute, deduplicated, in page order."""
    assert find_feed_links(html.encode(), BASE) == expected


def test_links_with_non_ascii_bytes_and_entities() -> None:
    """A page in UTF-8 with entity-escaped hrefs yields the decoded URL."""
    page = (
        "<html><head><title>博客</title>"
        '<link rel="alternate" type="application/rss+xml" href="/feed?a=1&amp;b=2">'
        "</head><body>你好</body></html>"
    ).encode()
    assert find_feed_links(page, BASE) == ["https://blog.example/feed?a=1&b=2"]


def test_html_error_page_from_corpus_has_no_feeds() -> None:
    """The real 'account suspended' page served at a feed URL advertises no feed."""
    page = corpus_feed("xx_html_instead_of_feed_account_suspended.html").read_bytes()
    assert find_feed_links(page, "http://maodoupi.com/feed") == []


@given(st.binary(max_size=400))
def test_garbage_bytes_never_raise(data: bytes) -> None:
    """Any byte string gives a list of http(s) URLs and never an exception."""
    links = find_feed_links(data, BASE)
    assert all(link.startswith(("http://", "https://")) for link in links)


@given(st.text(alphabet="<>!-[]\"'=/ abclinkrefhtyp", max_size=200))
def test_tag_soup_never_raises(text: str) -> None:
    """Markup-shaped noise, which exercises the tokenizer's corners, never raises."""
    assert isinstance(find_feed_links(text.encode(), BASE), list)
