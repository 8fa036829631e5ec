"""What feeds in the wild put in an entry: which body, which picture, what is not text at all."""

from __future__ import annotations

import pytest

from bench.render import parse_corpus_file
from bot.feeds.parse import parse_feed
from bot.models import DisplayOptions, Entry, SummaryMode
from bot.opml import read_opml
from bot.render import detect_boilerplate, render_entry
from bot.render.media import pick_images
from tests.corpus import corpus_case, corpus_feed

ORIGIN = "https://pod.example/feed.xml"
FULL = DisplayOptions(summary=SummaryMode.FULL)


def _rss(item: str, *, namespaces: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {namespaces}><channel>'
        f"<title>Feed</title><link>https://pod.example/</link><item>{item}</item></channel></rss>"
    ).encode()


ITUNES = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
CONTENT = 'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
NOTES = "<p>Show notes: we talk about feeds.</p><p>Chapters: 00:00 intro, 05:00 main topic.</p>"


@pytest.mark.parametrize(
    ("item", "namespaces", "expected"),
    [
        (
            f"<description><![CDATA[{NOTES}]]></description>"
            "<itunes:summary>One line</itunes:summary>",
            ITUNES,
            NOTES,
        ),
        (
            "<itunes:summary>One line</itunes:summary>"
            f"<description><![CDATA[{NOTES}]]></description>",
            ITUNES,
            NOTES,
        ),
        (
            f"<description>Short teaser.</description><content:encoded><![CDATA[{NOTES}]]>"
            "</content:encoded>",
            CONTENT,
            NOTES,
        ),
        (
            f"<description><![CDATA[{NOTES}]]></description><content:encoded>Teaser"
            "</content:encoded>",
            CONTENT,
            NOTES,
        ),
        ("<description>Only a description.</description>", "", "Only a description."),
    ],
    ids=["itunes-after", "itunes-before", "content-richer", "description-richer", "only-one"],
)
def test_the_richest_body_is_the_summary(item: str, namespaces: str, expected: str) -> None:
    """Of content, description and summary-like fields the richest wins, wherever it stands."""
    body = _rss(
        f"<title>Episode</title><link>https://pod.example/1</link>{item}", namespaces=namespaces
    )
    (entry,) = parse_feed(body, url=ORIGIN).entries
    assert entry.content_html == expected


def test_field_case_itunes_summary_one_liner() -> None:
    """shared/cases 14b: the message shows the show notes and their link, not "Itunes summary"."""
    parsed = parse_feed(corpus_case("14b_itunes_summary_no_content.xml").read_bytes(), url=ORIGIN)
    message = render_entry(parsed.entries[0], feed_title=parsed.title, options=FULL)
    assert "Show notes: we talk about feed parsing." in message.text
    assert "Chapters: 00:00 intro" in message.text
    assert "Itunes summary" not in message.text
    assert any(e.url == "https://pod.example.com/42/links" for e in message.entities)


@pytest.mark.parametrize(
    "title",
    [
        '<title type="html">safe&lt;script&gt;location.href="x"&lt;/script&gt; words</title>',
        '<title type="html"><![CDATA[safe<!-- a comment --> words]]></title>',
        '<title type="html"><![CDATA[safe<style>p{color:red}</style> words]]></title>',
    ],
)
def test_script_and_comment_text_never_reach_titles(title: str) -> None:
    """Script, style and comment text in an HTML title is not text: neither entry nor feed title."""
    body = (
        f'<feed xmlns="http://www.w3.org/2005/Atom">{title}'
        f"<entry><id>urn:1</id>{title}</entry></feed>"
    ).encode()
    parsed = parse_feed(body, url=ORIGIN)
    assert parsed.title == "safe words"
    assert parsed.entries[0].title == "safe words"


def test_picture_only_entry_is_headed_by_the_feed_name() -> None:
    """No title, no link, a picture: a photo headed by the feed's name linked to it, no bare •."""
    item = '<description>&lt;img src="https://img.example/cat.jpg"&gt;</description>'
    parsed = parse_feed(_rss(item), url=ORIGIN)
    message = render_entry(parsed.entries[0], feed_title=parsed.title)
    assert message.text.split("\n")[0] == "Feed"
    assert message.photo_urls == ("https://img.example/cat.jpg",)
    assert any(e.url == "https://img.example/cat.jpg" for e in message.entities)


@pytest.mark.parametrize(
    "item",
    [
        "<author>someone@example.com (Someone)</author>",
        "<category>news</category><pubDate>Fri, 10 Jan 2020 14:33:00 GMT</pubDate>",
        "<description>&#8230;</description>",
        "<description>&lt;p&gt; &lt;/p&gt;</description>",
    ],
)
def test_entries_with_nothing_to_show_are_left_out(item: str) -> None:
    """No title, link, picture or words: no message at all rather than an empty one."""
    assert parse_feed(_rss(item), url=ORIGIN).entries == ()


def _entry(html: str, *images: str) -> Entry:
    return Entry(
        key="k", title="t", link="https://site.example/post/1", content_html=html, images=images
    )


@pytest.mark.parametrize(
    ("html", "declared", "expected"),
    [
        ('<img src="/a.jpg">', ("https://cdn.example/enclosure.jpg",), "https://cdn.example/enclosure.jpg"),
        ('<img src="/a.jpg">', (), "https://site.example/a.jpg"),
        ('<img src="/i.png" width="16" height="16"><img src="/b.jpg">', (), "https://site.example/b.jpg"),
        ('<img src="/i.png" width="32"><img src="/b.jpg">', (), "https://site.example/b.jpg"),
        ('<img src="/i.png" width="64" height="64"><img src="/b.jpg">', (), "https://site.example/b.jpg"),
        ('<img src="/p.gif" width="1" height="1"><img src="/b.jpg">', (), "https://site.example/b.jpg"),
        ('<img src="/s.gif" width="600" height="1"><img src="/b.jpg">', (), "https://site.example/b.jpg"),
        ('<img src="/t.jpg" width="106" height="60">', (), "https://site.example/t.jpg"),
        ('<img src="/skins/default/filetype/jpg.gif"><img src="/b.jpg">', (), "https://site.example/b.jpg"),
        ('<img src="/images/smilies/smile.gif"><img src="/b.jpg">', (), "https://site.example/b.jpg"),
        ('<img src="/wp-content/avatar_12.png"><img src="/b.jpg">', (), "https://site.example/b.jpg"),
        ('<img src="/images/spacer.gif"><img src="/b.jpg">', (), "https://site.example/b.jpg"),
        ('<img src="https://s.w.org/images/core/emoji/14/72x72/1f600.png"><img src="/b.jpg">', (), "https://site.example/b.jpg"),
    ],
    ids=[
        "enclosure-first", "inline", "icon-16", "icon-32-wide", "icon-64", "pixel-1x1",
        "spacer-600x1", "thumbnail-106x60", "filetype-glyph", "smiley", "avatar", "spacer", "emoji",
    ],
)  # fmt: skip
def test_which_picture(html: str, declared: tuple[str, ...], expected: str) -> None:
    """Declared pictures first, then the first large body picture; icons and pixels never."""
    assert pick_images(_entry(html, *declared), html, limit=1) == (expected,)


def test_declared_icon_sized_media_is_skipped() -> None:
    """media:content and media:thumbnail declared 48×48 are icons; 640×360 is the picture."""
    media = 'xmlns:media="http://search.yahoo.com/mrss/"'
    item = (
        "<title>t</title><link>https://site.example/1</link>"
        '<media:thumbnail url="https://site.example/icon.png" width="48" height="48"/>'
        '<media:content url="https://site.example/logo.png" medium="image" width="48" height="48"/>'
        '<media:content url="https://site.example/photo.jpg" medium="image" width="640"'
        ' height="360"/>'
    )
    (entry,) = parse_feed(_rss(item, namespaces=media), url=ORIGIN).entries
    assert entry.images == ("https://site.example/photo.jpg",)


def test_a_line_repeated_in_one_entry_is_kept_once() -> None:
    """Eight copies of a forum's caption line become one; table cells and code keep repeats."""
    photos = "".join(f'此主题相关图片如下：<br/><img src="/p{n}.jpg"><br/>' for n in range(8))
    table = "<table>" + "<tr><td>Included</td></tr>" * 4 + "</table>"
    code = "<pre><code>" + "<span>return x</span>\n" * 4 + "</code></pre>"
    dialogue = "".join(f"<br/>duzorg: <br/>line {n} of the chat" for n in range(4))
    products = "".join(
        f"<p><b>Advantages:</b></p><img src='/x{n}.jpg'><p>fast</p>" for n in range(4)
    )
    entry = _entry(f"<p>Selling stamps.</p>{photos}{table}{code}{dialogue}{products}")
    message = render_entry(entry, feed_title="Forum", options=FULL)
    assert message.text.count("此主题相关图片如下") == 1
    assert message.text.count("Included") == 4
    assert message.text.count("return x") == 4
    assert message.text.count("duzorg:") == 4
    assert message.text.count("Advantages:") == 4


def test_kc0011_real_photo_dates_and_one_caption_line() -> None:
    """The GB18030 forum feed: its own dates, a real photo (not jpg.gif), the caption line once."""
    _, title, entries = parse_corpus_file(corpus_feed("zh_kc0011_gb18030.xml"))
    boilerplate = detect_boilerplate(entries)
    first = entries[0]
    assert first.title == "建国35周年纪念，华表，和平鸽"
    assert (first.published.year, first.published.month, first.published.day) == (2020, 1, 10)  # type: ignore[union-attr]
    for options in (DisplayOptions(), FULL, DisplayOptions(album=True)):
        message = render_entry(first, feed_title=title, options=options, boilerplate=boilerplate)
        assert (
            message.photo_urls[0]
            == "http://pic.kc0011.net/uploadfile/2020-1-10/202011014255757825.jpg"
        )
        assert not any("filetype" in url for url in message.photo_urls)
        assert message.caption.count("此主题相关图片如下") <= 1
        assert message.text.count("此主题相关图片如下") <= 1
    album = render_entry(first, feed_title=title, options=DisplayOptions(album=True))
    assert len(album.photo_urls) == 8


def test_field_case_opml_with_bare_ampersands() -> None:
    """shared/cases 09: three feeds imported; the two repaired outlines are named."""
    document = read_opml(corpus_case("09_opml_bare_ampersand.opml").read_bytes(), max_outlines=50)
    assert [o.url for o in document.outlines] == [
        "https://first.example.com/feed.xml",
        "https://lrc.example.org/feed",
        "https://www.example.net/lmtyah/?category=Earth-C&format=rss",
    ]
    assert (
        document.outlines[1].html_url
        == "https://www.example.org/shows/lrc?utm_source=X&utm_medium=RSS"
    )
    assert [(n.line, n.name) for n in document.notes] == [
        (6, "Left, Right & Center"),
        (7, "Third Show"),
    ]


@pytest.mark.parametrize(
    ("body", "urls"),
    [
        (
            b'<opml><body><outline text="A&nbsp;B" xmlUrl="https://a.example/f?x=1&y=2"/></body></opml>',
            ["https://a.example/f?x=1&y=2"],
        ),
        (
            b"<opml><head><title>Broken</title></head><body>"
            b'<outline text="One" xmlUrl="https://one.example/rss">'
            b'<outline text="Two" xmlUrl="https://two.example/rss"></body></opml>',
            ["https://one.example/rss", "https://two.example/rss"],
        ),
        (
            b'<opml><body><outline text="Unquoted <b>" xmlUrl="https://u.example/rss"/>'
            b'<outline text="no url" type="rss"/></body></opml>',
            ["https://u.example/rss"],
        ),
    ],
    ids=["html-entity-and-amp", "unclosed-outlines", "tag-soup"],
)
def test_opml_from_other_apps_is_read_leniently(body: bytes, urls: list[str]) -> None:
    """What a lenient reader recovers, we recover; what was left out is said per outline."""
    document = read_opml(body, max_outlines=50)
    assert [o.url for o in document.outlines] == urls
    if b'type="rss"/>' in body:
        assert any("no feed address" in n.note for n in document.notes)
