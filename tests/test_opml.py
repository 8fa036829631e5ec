"""OPML in and out: real-world shapes, round trips, caps and hostile XML."""

from __future__ import annotations

import time

import pytest

from bot.opml import MAX_OPML_BYTES, OpmlError, Outline, read_opml, write_opml

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My   feeds</title></head>
  <body>
    <outline text="News">
      <outline text="DW" title="DW \xe4\xb8\xad\xe6\x96\x87" type="rss"
               xmlUrl="https://rss.dw.com/rdf/rss-chi-all" htmlUrl="https://www.dw.com/zh/"/>
      <outline text="BBC" type="rss" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
    </outline>
    <outline text="Again" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
    <outline text="Folder without feed"/>
    <outline text="lower case attribute" xmlurl="https://example.org/atom.xml"/>
  </body>
</opml>
"""


def test_nested_outlines_are_flattened_and_deduplicated() -> None:
    """Feeds inside folders are found; a repeated URL counts once; folders are skipped."""
    document = read_opml(NESTED, max_outlines=50)
    assert document.title == "My feeds"
    assert [o.url for o in document.outlines] == [
        "https://rss.dw.com/rdf/rss-chi-all",
        "https://feeds.bbci.co.uk/news/rss.xml",
        "https://example.org/atom.xml",
    ]
    assert document.outlines[0].title == "DW 中文"
    assert document.outlines[0].html_url == "https://www.dw.com/zh/"
    assert document.outlines[1].title == "BBC"
    assert not document.truncated


def test_outline_count_is_capped() -> None:
    """Past the cap the remaining feeds are dropped and the document says so."""
    body = "".join(f'<outline xmlUrl="https://f.example/{n}"/>' for n in range(30))
    document = read_opml(f"<opml><body>{body}</body></opml>".encode(), max_outlines=10)
    assert len(document.outlines) == 10
    assert document.truncated


def test_round_trip_keeps_urls_titles_and_escapes() -> None:
    """What write_opml writes reads back (an untitled feed is named by its URL), escapes intact."""
    outlines = [
        Outline("https://a.example/feed?x=1&y=<2>", 'Quotes " and <tags> & 中文', "https://a/"),
        Outline("https://b.example/rss"),
    ]
    data = write_opml("newsrelay: chat 5", outlines, created=1_700_000_000)
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b'version="2.0"' in data
    assert b"Tue, 14 Nov 2023 22:13:20 GMT" in data
    document = read_opml(data, max_outlines=10)
    assert document.title == "newsrelay: chat 5"
    assert document.outlines[0] == outlines[0]
    assert document.outlines[1] == Outline("https://b.example/rss", "https://b.example/rss")


def test_gbk_declared_document_is_read() -> None:
    """A document in an encoding expat lacks (GB18030) is decoded as declared."""
    text = (
        '<?xml version="1.0" encoding="GBK"?>'
        '<opml><body><outline text="新闻" xmlUrl="https://x.cn/rss"/></body></opml>'
    )
    document = read_opml(text.encode("gbk"), max_outlines=5)
    assert document.outlines == (Outline("https://x.cn/rss", "新闻"),)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE opml [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<opml><head><title>&f;</title></head><body><outline xmlUrl="https://x/&f;"/></body></opml>
"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE opml SYSTEM "http://127.0.0.1:9/evil.dtd">
<opml><body><outline text="x" xmlUrl="https://x.example/"/></body></opml>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<opml><body><outline text="&secret;" xmlUrl="https://x.example/"/></body></opml>
"""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "DOCTYPE"),
        (EXTERNAL, "DOCTYPE"),
        (EXTERNAL_ENTITY, "DOCTYPE"),
        (b"<!DOCTYPE x><opml><body><outline text='&' xmlUrl='u'/></body></opml>", "DOCTYPE"),
        (b"<opml><body><outline text='&' xmlUrl='u'/><!DOCTYPE x></body></opml>", "DOCTYPE"),
        (b"<rss><channel/></rss>", "not an OPML file"),
        (b"", "not well-formed"),
        (b"<opml><body>", "not well-formed"),
        (b"\xff\xfe\x00garbage", "not well-formed"),
        (b'<?xml version="1.0" encoding="x-made-up"?><opml/>', "unknown encoding"),
        (b'<?xml version="1.0" encoding="rot13"?><opml/>', "unknown encoding"),
        (b"<opml>" + b" " * MAX_OPML_BYTES + b"</opml>", "larger than"),
    ],
)
def test_hostile_or_broken_documents_are_refused_quickly(data: bytes, reason: str) -> None:
    """Entity bombs, external entities, non-OPML and oversized files fail fast with a reason."""
    started = time.perf_counter()
    with pytest.raises(OpmlError, match=reason):
        read_opml(data, max_outlines=100)
    assert time.perf_counter() - started < 0.5


def test_deep_nesting_does_not_recurse() -> None:
    """Outlines nested thousands deep (within the size cap) are read without recursion."""
    depth = 20_000
    data = b"<opml><body>" + b"<outline>" * depth + b'<outline xmlUrl="https://deep/"/>'
    data += b"</outline>" * depth + b"</body></opml>"
    assert read_opml(data, max_outlines=5).outlines == (Outline("https://deep/"),)
