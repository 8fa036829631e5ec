"""Parsing: every corpus document, spot checks of encodings and URLs, and hostile input."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.feeds.parse import (
    MAX_ENTRIES,
    NotAFeed,
    defuse,
    first_entries,
    is_html_page,
    parse_feed,
)
from bot.models import ParsedFeed
from tests.corpus import DW_LIKE_ITEM, NOT_A_FEED_PAGE, corpus_feed, corpus_feed_names, corpus_files
from tests.fakes import feedgen

ORIGIN = "https://feeds.example/feed.xml"


def _parse(name: str, url: str = ORIGIN) -> ParsedFeed:
    return parse_feed(corpus_feed(name).read_bytes(), url=url)


def _is_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@pytest.mark.parametrize("name", corpus_feed_names())
def test_every_corpus_feed_parses(name: str) -> None:
    """Each corpus feed yields entries with unique keys, absolute links and aware UTC dates."""
    feed = _parse(name)
    assert feed.title
    assert feed.entries
    keys = [entry.key for entry in feed.entries]
    assert all(key.startswith(("id:", "link:", "hash:")) and len(key) > 4 for key in keys)
    assert len(set(keys)) == len(keys)
    assert all(_is_http(entry.link) for entry in feed.entries)
    for entry in feed.entries:
        assert entry.title or entry.content_html
        assert all(_is_http(image) for image in entry.images)
        assert len(set(entry.images)) == len(entry.images)
        if entry.published is not None:
            assert entry.published.utcoffset() is not None
            assert entry.published.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_corpus_covers_json_and_xml() -> None:
    """The parametrised corpus holds the five JSON feeds and dozens of XML ones."""
    suffixes = [path.suffix for path in corpus_files()]
    assert suffixes.count(".json") == 5
    assert len(suffixes) > 40


def test_html_page_is_not_a_feed() -> None:
    """The HTML error page a dead host serves at its feed URL is refused with a clear line."""
    with pytest.raises(NotAFeed, match=r"^not a feed \(looks like an HTML page\)$"):
        parse_feed(NOT_A_FEED_PAGE.read_bytes(), url=ORIGIN, content_type="text/html")
    with pytest.raises(NotAFeed):
        parse_feed(NOT_A_FEED_PAGE.read_bytes(), url=ORIGIN)


def test_seed_item() -> None:
    """The founding DW example keeps its title, link, date and HTML body."""
    feed = parse_feed(
        corpus_feed("zh_feedx_dw_seed_item.xml").read_bytes(), url="https://feedx.net/rss/dw.xml"
    )
    (entry,) = feed.entries
    assert feed.title == "德国之声 DW"
    assert entry.title.startswith("俄国称无意入侵乌克兰")
    assert entry.link.startswith("https://www.dw.com/zh/%E4%BF%84")
    assert entry.key == "id:" + entry.link
    assert entry.published == datetime(2022, 1, 11, 1, 33, 44, tzinfo=UTC)
    assert "<p>（德国之声中文网）美国与俄罗斯高官" in entry.content_html


@pytest.mark.parametrize(
    ("name", "feed_title", "entry_title", "body_text"),
    [
        (
            "zh_kc0011_gb18030.xml",
            "投资资讯网交易在线--流通纪念币最新20篇论坛主题-全文",
            "建国35周年纪念，华表，和平鸽",
            "包真包老",
        ),
        ("ru_ibash_windows1251.xml", "iBash.Org.Ru", "Цитата #17703", "жаба программер"),
        (
            "pt_jn_iso8859-1.xml",
            "Jornal de Notícias - Últimas",
            "Mãe de utente é a nova presidente da Raríssimas",
            "Sónia Laygue",
        ),
        (
            "pt_uol_noticias_undeclared_cp1252.xml",
            "UOL Noticias",
            "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno",
            "",
        ),
        ("zh_tmioe_unclosed_cdata_misdetected.xml", "ZAPRO · 杂铺", "赘婿", ""),
        ("ur_bbc_urdu.xml", "BBC News اردو", "امریکی", ""),
    ],
)
def test_encodings_come_out_right(
    name: str, feed_title: str, entry_title: str, body_text: str
) -> None:
    """GB18030, windows-1251, ISO-8859-1, undeclared cp1252 and cut-off UTF-8 all decode right."""
    feed = _parse(name)
    first = feed.entries[0]
    assert feed.title.startswith(feed_title)
    assert first.title.startswith(entry_title)
    assert body_text in first.content_html
    assert "\ufffd" not in feed.title + first.title


def test_relative_guids_resolve_against_feed_url() -> None:
    """Hugging Face gives only relative permalink guids; links resolve against the feed URL."""
    feed = _parse("en_huggingface_blog_relative_urls.xml", "https://huggingface.co/blog/feed.xml")
    assert feed.link == "https://huggingface.co/blog"
    assert feed.entries[0].link == "https://huggingface.co/blog/intro-graphml"
    assert all(e.link.startswith("https://") for e in feed.entries)
    assert sum(e.link.startswith("https://huggingface.co/blog/") for e in feed.entries) > 150
    assert len(feed.entries) == 175


def test_nixos_shared_link_items_are_all_kept() -> None:
    """99 items share one link and have no guid: all stay, keyed by content, stable on reparse.

    The shared link identifies none of them; each keeps its key from before link
    normalisation (``link:<url>#<fingerprint>``) as an alias.
    """
    feed = _parse("en_nixos_news_relative_duplinks.xml", "https://nixos.org/news-rss.xml")
    assert len(feed.entries) == 99
    assert {e.link for e in feed.entries} == {"https://nixos.org/news.html"}
    assert all(e.key.startswith("hash:") for e in feed.entries)
    assert all(e.aliases[0].startswith("link:https://nixos.org/news.html#") for e in feed.entries)
    reordered = parse_feed(
        corpus_feed("en_nixos_news_relative_duplinks.xml").read_bytes(),
        url="https://nixos.org/news-rss.xml",
    )
    assert [e.key for e in reordered.entries] == [e.key for e in feed.entries]


def test_paopao_xml_base_and_image_enclosures() -> None:
    """Paopao's items keep absolute links and each gives its image enclosure."""
    feed = _parse("zh_paopao_xmlbase_enclosures.xml")
    assert len(feed.entries) == 30
    assert all(e.link.startswith("https://") for e in feed.entries)
    assert all(len(e.images) == 1 for e in feed.entries)
    assert feed.entries[0].images[0].startswith("http://paopao2.global.ssl.fastly.net/sites/")


def test_xml_base_resolves_relative_links() -> None:
    """A relative item link resolves against xml:base, which itself resolves against the URL."""
    doc = (
        b'<?xml version="1.0"?><rss version="2.0" xml:base="/site/"><channel><title>t</title>'
        b"<item><title>a</title><link>posts/1.html</link></item>"
        b"<item><title>b</title><link>/root.html</link></item></channel></rss>"
    )
    feed = parse_feed(doc, url="https://host.example/feeds/rss.xml")
    assert [e.link for e in feed.entries] == [
        "https://host.example/site/posts/1.html",
        "https://host.example/root.html",
    ]


def test_atom_entry_xml_base() -> None:
    """hnapp's per-entry xml:base leaves off-site links absolute and titles decoded once."""
    feed = _parse("en_hnapp_hackernews.atom.xml", "http://hnapp.com/rss")
    first = feed.entries[0]
    assert first.link == "https://www.paulkocher.com/doc/MicrosoftCompilerSpectreMitigation.html"
    # type="html" title "37 &amp;#8211; ..." is the HTML "37 &#8211; ...": an en dash.
    assert first.title == "37 \u2013 Spectre Mitigations in Microsoft's C/C++ Compiler"


def test_duplicate_guids_keep_distinct_items() -> None:
    """Scripting News repeats two guids on different posts: all 50 posts stay."""
    body = corpus_feed("en_scriptingnews_dup_guids.xml").read_bytes()
    guids = Counter(re.findall(rb"<guid[^>]*>([^<]+)</guid>", body))
    repeated = {guid.decode(): n for guid, n in guids.items() if n > 1}
    assert len(repeated) == 2
    feed = parse_feed(body, url=ORIGIN)
    assert len(feed.entries) == 50
    for guid, count in repeated.items():
        holders = [e for e in feed.entries if f"id:{guid}" in e.fallback_keys]
        assert len(holders) == count
        assert not any(e.key.startswith("id:") for e in holders)
        assert all(e.aliases[0].startswith(f"id:{guid}#") for e in holders)


def test_verbatim_repeated_items_collapse() -> None:
    """The VMware feed repeats nine items verbatim: those collapse, the 11 distinct remain."""
    feed = _parse("ru-en_vmware_blogs_dup_guids_bad_amp.xml")
    assert len(feed.entries) == 11
    assert len({(e.title, e.link) for e in feed.entries}) == 11


def test_key_fallbacks_and_duplicates_in_generated_feed() -> None:
    """guid, then link, then a hash: the first no other item shares; order does not matter."""
    items = [
        feedgen.Item(guid="g1", title="first", link="https://e.example/1"),
        feedgen.Item(title="no guid", link="https://e.example/2"),
        feedgen.Item(title="bare", description_html="<p>only text</p>"),
        feedgen.Item(guid="dup", title="one", link="https://e.example/3"),
        feedgen.Item(guid="dup", title="two", link="https://e.example/4"),
        feedgen.Item(guid="g1", title="first", link="https://e.example/1"),
    ]
    entries = parse_feed(feedgen.rss("gen", items), url=ORIGIN).entries
    keys = [e.key for e in entries]
    assert keys[:2] == ["id:g1", "link:e.example/2"]
    assert keys[2].startswith("hash:")
    assert len(keys[2]) == len("hash:") + 64
    assert keys[3:] == ["link:e.example/3", "link:e.example/4"]
    assert entries[3].aliases[0].startswith("id:dup#")
    assert entries[1].aliases == ("link:https://e.example/2",)
    assert len(keys) == 5
    swapped = [items[4], items[3]]
    swapped_keys = [e.key for e in parse_feed(feedgen.rss("g", swapped), url=ORIGIN).entries]
    assert swapped_keys == [keys[4], keys[3]]


@pytest.mark.parametrize("build", [feedgen.rss, feedgen.atom], ids=["rss", "atom"])
def test_generated_feed_fields(build: Callable[..., bytes]) -> None:
    """Title, link, HTML body, tags, date and enclosure image come through in both formats."""
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    item = feedgen.Item(
        guid="urn:x:1",
        title="Tom & Jerry <3",
        link="https://e.example/p/1",
        description_html="<p>Hello <b>world</b></p>",
        pub_date=moment,
        categories=("news", "中文"),
        enclosure_image="https://img.example/1.jpg",
    )
    feed = parse_feed(build("Gen", [item]), url=ORIGIN)
    (entry,) = feed.entries
    assert feed.title == "Gen"
    assert (entry.key, entry.title, entry.link) == ("id:urn:x:1", item.title, item.link)
    assert entry.content_html == "<p>Hello <b>world</b></p>"
    assert entry.tags == ("news", "中文")
    assert entry.published == moment
    assert entry.images == ("https://img.example/1.jpg",)


def test_media_rss_images_in_order() -> None:
    """YouTube thumbnails and BBC media:thumbnail images come out absolute."""
    youtube = _parse("en_youtube_pbs_spacetime.atom.xml")
    assert youtube.entries[0].images == ("https://i2.ytimg.com/vi/q-6oU3jXAho/hqdefault.jpg",)
    assert "Patreon" in youtube.entries[0].content_html
    bbc = _parse("zh_bbc_chinese_simp.atom.xml")
    assert sum(len(e.images) for e in bbc.entries) > 60


def test_plain_text_summary_is_escaped() -> None:
    """A text-typed body becomes HTML that shows the same characters."""
    doc = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id>'
        b'<title>x</title><summary type="text">a &lt;b&gt; &amp; c\nline</summary></entry></feed>'
    )
    (entry,) = parse_feed(doc, url=ORIGIN).entries
    assert entry.content_html == "a &lt;b&gt; &amp; c<br>\nline"


def test_json_feed_fields() -> None:
    """JSON Feed: external_url fallback, entity titles decoded, missing ids and dates handled."""
    influx = _parse("en_influxdata_jsonfeed11.json")
    assert influx.title == "Blog \u2013 InfluxData"
    assert influx.language == "en-US"
    assert all(e.key.startswith("link:") for e in influx.entries)
    assert sum(e.published is None for e in influx.entries) == 1
    assert influx.entries[0].published == datetime(2019, 5, 31, 19, 17, 58, tzinfo=UTC)
    fireball = _parse("en_daringfireball_jsonfeed10.json")
    assert fireball.entries[0].author == "John Gruber"
    v2ex = _parse("zh_v2ex_node_jsonfeed10.json")
    assert v2ex.entries[0].title.startswith("什么插件可以做到 JSON")
    assert v2ex.entries[0].author == "DEVN"
    german = _parse("de_3960_jsonfeed11_iframes.json")
    assert german.entries[0].images == ("https://cdn.3960.org/favicon-192x192.png",)
    assert german.entries[0].tags == ("Lustiges",)


def test_json_feed_link_falls_back_to_external_url() -> None:
    """An item with only external_url links there; a text-only item is escaped into HTML."""
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "j",
        "items": [
            {"id": 7, "external_url": "/elsewhere", "content_text": "a < b"},
            {"id": "x", "url": "javascript:alert(1)", "content_html": "<p>hi</p>"},
        ],
    }
    first, second = parse_feed(json.dumps(doc).encode(), url="https://j.example/f.json").entries
    assert (first.key, first.link, first.content_html) == (
        "id:7",
        "https://j.example/elsewhere",
        "a &lt; b",
    )
    assert second.link == ""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not a feed: the document is empty"),
        (b"   \n\t", "not a feed: the document is empty"),
        (b"hello, world", "not a feed: no entries and no title"),
        (b"\x00\x01\x02garbage\xff", "not a feed: no entries and no title"),
        (b"<foo><bar/></foo>", "not a feed: no entries and no title"),
        (b'{"hello": 1}', "not a feed: JSON without a list of items"),
        (b'{"items": []}', "not a feed: JSON without a jsonfeed.org version"),
        (b"{not json", "not a feed: not valid JSON"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "not a feed (looks like an HTML page)"),
        (b'<!DOCTYPE rss [ <!ENTITY a "never closed', "not a feed: unterminated DOCTYPE"),
    ],
)
def test_not_feeds(body: bytes, message: str) -> None:
    """Empty, garbage, non-feed JSON and HTML raise NotAFeed with a one-line reason."""
    with pytest.raises(NotAFeed) as caught:
        parse_feed(body, url=ORIGIN)
    assert str(caught.value) == message


def test_body_naming_a_file_is_not_read_as_that_file() -> None:
    """feedparser opens a bytes argument as a path; a body naming a feed file stays text."""
    assert DW_LIKE_ITEM.is_file()  # a real feed file, so reading it would parse
    with pytest.raises(NotAFeed):
        parse_feed(str(DW_LIKE_ITEM).encode(), url=ORIGIN)


def _laughs(levels: int, fanout: int) -> bytes:
    entities = ['<!ENTITY lol0 "lololololololololololololololololololol">']
    entities += [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * fanout}">' for i in range(1, levels)
    ]
    subset = "\n".join(entities)
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n{subset}\n]>\n'
        f'<rss version="2.0"><channel><title>&lol{levels - 1};</title>'
        f"<item><title>x &lol{levels - 1};</title><link>https://e.example/1</link></item>"
        "</channel></rss>"
    ).encode()


def _quadratic() -> bytes:
    value = "A" * 20_000
    refs = "&big;" * 10_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "{value}">]>'
        f'<rss version="2.0"><channel><title>q</title><item><title>t</title>'
        f"<description>{refs}</description><link>https://e.example/q</link></item>"
        "</channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    "body",
    [_laughs(10, 10), _quadratic(), _laughs(10, 10).decode().encode("utf-16")],
    ids=["billion-laughs", "quadratic", "billion-laughs-utf16"],
)
def test_entity_bombs_stay_small(body: bytes) -> None:
    """Entity bombs (a billion laughs would be 3 GB, the quadratic one 200 MB) parse in
    little memory (tracemalloc's peak: deterministic, unlike a time limit)."""
    tracemalloc.start()
    try:
        feed = parse_feed(body, url=ORIGIN)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
    assert len(feed.entries) == 1
    assert feed.entries[0].link.startswith("https://e.example/")
    assert len(feed.entries[0].title) + len(feed.entries[0].content_html) < 300_000


def test_defuse_keeps_the_external_doctype_and_drops_the_subset() -> None:
    """Only the internal subset goes; quoted brackets and comments inside it do not confuse it."""
    doc = (
        b'<?xml version="1.0"?>\n<!-- c ]> -->\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//'
        b'DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd" '
        b"[ <!ENTITY a \"]>\"> <!-- ]> --> <!ENTITY b ']>'> ]>\n"
        b'<!ENTITY stray "x"><rss version="0.91"/>'
    )
    assert defuse(doc) == (
        b'<?xml version="1.0"?>\n<!-- c ]> -->\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//'
        b'DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"/>'
    )


def test_control_bytes_are_dropped() -> None:
    """Control bytes XML forbids (waerfa has one in a URL) are removed, not fatal."""
    doc = feedgen.rss("c", [feedgen.Item(guid="1", title="a\x08b", link="https://e.example/\x0b")])
    (entry,) = parse_feed(doc, url=ORIGIN).entries
    assert (entry.title, entry.link) == ("ab", "https://e.example/")


def test_utf16_feed_parses() -> None:
    """A UTF-16 feed with a BOM is read like any other."""
    doc = feedgen.rss("宽字符", [feedgen.Item(guid="1", title="标题", link="https://e.example/")])
    text = doc.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    feed = parse_feed(text.encode("utf-16"), url=ORIGIN)
    assert (feed.title, feed.entries[0].title) == ("宽字符", "标题")


@pytest.mark.parametrize("encoding", ["GBK", "GB2312", "GB18030"])
def test_gbk_family_feed_decodes(encoding: str) -> None:
    """A feed declared in the GBK family (which expat lacks) decodes as declared."""
    item = feedgen.Item(
        guid="1", title="乌克兰局势：北约峰会", link="https://e.example/1",
        description_html="<p>（本报讯）各方代表今日在布鲁塞尔会面。</p>",
    )  # fmt: skip
    text = feedgen.rss("国际新闻", [item]).decode()
    doc = text.replace('encoding="UTF-8"', f'encoding="{encoding}"').encode(encoding)
    feed = parse_feed(doc, url=ORIGIN)
    (entry,) = feed.entries
    assert (feed.title, entry.title) == ("国际新闻", "乌克兰局势：北约峰会")
    assert "布鲁塞尔" in entry.content_html


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"<!DOCTYPE html><html></html>", None, True),
        (b"  <html lang=en><head>", "text/xml", True),
        (b'<?xml version="1.0"?><rss version="2.0"/>', "text/html", False),
        (b'<feed xmlns="http://www.w3.org/2005/Atom">', "text/html; charset=utf-8", False),
        (b"<rdf:RDF>", None, False),
        (b'{"version": "https://jsonfeed.org/version/1"}', "text/html", False),
        (b"<p>hello</p>", "text/html", True),
        (b"<p>hello</p>", "application/xml", False),
    ],
)
def test_is_html_page(body: bytes, content_type: str | None, expected: bool) -> None:
    """The root element beats a wrong content type; the type decides when the root is unclear."""
    assert is_html_page(body, content_type) is expected


def test_a_large_feed_parses_whole() -> None:
    """A 150 KB, 55-entry feed gives all 55 entries (its speed: bench/render.py)."""
    body = corpus_feed("en_guardian_world.xml").read_bytes()
    feed = parse_feed(body, url=ORIGIN)
    assert len(feed.entries) == 55


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_not_a_feed(data: bytes) -> None:
    """Arbitrary bytes either parse or raise NotAFeed; nothing else escapes."""
    try:
        keys = [e.key for e in parse_feed(data, url=ORIGIN).entries]
    except NotAFeed as exc:
        message, keys = str(exc), []
    else:
        message = ""
    assert "\n" not in message
    assert len(set(keys)) == len(keys)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet='<>!?[]"&;/= rsitemtlk#xDOCTYPEN', max_size=200))
def test_markup_noise_raises_only_not_a_feed(text: str) -> None:
    """Markup-shaped noise, which walks the DOCTYPE scanner's corners, raises only NotAFeed."""
    try:
        parse_feed(text.encode(), url=ORIGIN)
    except NotAFeed as exc:
        message = str(exc)
    else:
        message = "not a feed: parsed"
    assert message.startswith("not a feed")


def _many_items(count: int) -> bytes:
    items = "".join(
        f"<item><title>t{n}</title><link>https://e.example/{n}</link><guid>g{n}</guid></item>"
        for n in range(count)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>{items}'.encode()
        + (b"</channel></rss>")
    )


def test_a_document_gives_at_most_its_first_max_entries() -> None:
    """A hostile document of 20,000 tiny items is read as its first MAX_ENTRIES: feedparser
    costs CPU per item on the loop every chat shares (a 9 MB one held the bot 57 s)."""
    feed = parse_feed(_many_items(20_000), url=ORIGIN)
    assert len(feed.entries) == MAX_ENTRIES
    assert [feed.entries[0].title, feed.entries[-1].title] == ["t0", f"t{MAX_ENTRIES - 1}"]
    whole = parse_feed(_many_items(MAX_ENTRIES), url=ORIGIN)
    assert len(whole.entries) == MAX_ENTRIES


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (b"<rss><channel><item>a</item><item>b</item><item>c</item>\n</channel></rss>",
         b"<rss><channel><item>a</item><item>b</item>\n</channel></rss>"),
        (b"<feed><entry>a</entry><atom:entry x='1'>b</atom:entry><entry>c</entry></feed>",
         b"<feed><entry>a</entry><atom:entry x='1'>b</atom:entry></feed>"),
        (b"<rss><channel><items>x</items><item>a</item><item>b</item></channel></rss>",
         b"<rss><channel><items>x</items><item>a</item><item>b</item></channel></rss>"),
    ],
)  # fmt: skip
def test_first_entries_cuts_before_the_one_past_the_limit(body: bytes, kept: bytes) -> None:
    assert first_entries(body, limit=2) == kept
