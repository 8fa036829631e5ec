"""Boilerplate a feed repeats in its entries is learned from the feed and removed."""

# Full-width CJK punctuation and typographic dashes are the data under test here.

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import pytest

from bot.models import Entry
from bot.render import Boilerplate, detect_boilerplate, render_entry
from bot.render.boilerplate import strip_boilerplate
from tests.corpus import DW_LIKE_ITEM, corpus_feed


def first_entry(path: Path) -> Entry:
    """The first item of a feed file, as the parse stage would hand it over."""
    parsed = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
    item = parsed.entries[0]
    return Entry(key=item.id, title=item.title, link=item.link, content_html=item.summary)


@pytest.mark.parametrize("source", ["dw-like item", "corpus seed item"])
def test_feedx_footer_removed_from_a_single_entry(source: str) -> None:
    """A one-entry feed still loses the mirror footer (short, link-only block after <hr>)."""
    path = DW_LIKE_ITEM if source == "dw-like item" else corpus_feed("zh_feedx_dw_seed_item.xml")
    e = first_entry(path)
    assert "获取更多RSS" in e.content_html
    boilerplate = detect_boilerplate([e])
    message = render_entry(e, feed_title="德国之声 DW", boilerplate=boilerplate)
    for text in (message.text, message.caption):
        assert "feedx" not in text
        assert "获取更多RSS" not in text
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text)  # the bare date line goes too
        assert "（德国之声中文网）" in text


def test_statistical_detection_across_entries() -> None:
    """Blocks shared by most entries at their end or start are boilerplate; the rest is not."""
    footer = "<p>本文由极客公园原创发布，转载请注明。</p>"
    header = "<div>Sponsored by Acme</div>"
    entries = [
        Entry(key=str(n), title=f"t{n}", link="", content_html=f"{header}<p>Story {n}.</p>{footer}")
        for n in range(4)
    ]
    entries.append(Entry(key="x", title="x", link="", content_html="<p>Only a story.</p>"))
    boilerplate = detect_boilerplate(entries)
    assert boilerplate.trailing == {"本文由极客公园原创发布，转载请注明。"}
    assert boilerplate.leading == {"Sponsored by Acme"}
    message = render_entry(entries[0], feed_title="F", boilerplate=boilerplate)
    assert message.text == "t0\nF\n\nStory 0."
    alone = render_entry(entries[4], feed_title="F", boilerplate=boilerplate)
    assert alone.text == "x\nF\n\nOnly a story."


def test_a_block_in_few_entries_is_kept() -> None:
    """A closing line that only two of five entries share is not boilerplate."""
    bodies = [
        "<p>a</p><p>Thanks!</p>",
        "<p>b</p><p>Thanks!</p>",
        "<p>c</p>",
        "<p>d</p>",
        "<p>e</p>",
    ]
    entries = [Entry(key=b, title="t", link="", content_html=b) for b in bodies]
    assert detect_boilerplate(entries) == Boilerplate()


def test_link_footer_rule_spares_real_text() -> None:
    """After <hr>, a long or mostly-prose block is content, and a body of only links stays."""
    prose = (
        "<p>Body.</p><hr><p>An afterword with <a href='https://a.b'>one link</a>"
        " and much more prose here.</p>"
    )
    assert strip_boilerplate(prose) == prose
    only_links = "<hr><a href='https://a.b'>https://a.b</a>"
    assert strip_boilerplate(only_links) == only_links
    footer = "<p>Body.</p><hr><div>More: <a href='https://a.b'>https://a.b</a></div>"
    assert strip_boilerplate(footer) == "<p>Body.</p>"
