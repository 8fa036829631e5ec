"""OPML in and out: real-world shapes, round trips, caps and hostile XML."""

from __future__ import annotations

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
    """Entity bombs, external entities, non-OPML and oversized files fail with a reason."""
    with pytest.raises(OpmlError, match=reason):
        read_opml(data, max_outlines=100)


def test_deep_nesting_does_not_recurse() -> None:
    """Outlines nested thousands deep (within the size cap) are read without recursion."""
    depth = 20_000
    data = b"<opml><body>" + b"<outline>" * depth + b'<outline xmlUrl="https://deep/"/>'
    data += b"</outline>" * depth + b"</body></opml>"
    assert read_opml(data, max_outlines=5).outlines == (Outline("https://deep/"),)


NS = "https://ns.example/1"
SCOPED = f"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0" xmlns:a="{NS}" a:everywhere="root">
  <body>
    <outline text="A" xmlUrl="https://a.example/rss" a:x="1" x="plain" b:y="unbound"/>
    <outline text="folder" xmlns:other="{NS}">
      <outline text="B" xmlUrl="https://b.example/rss" other:x="2"/>
    </outline>
    <outline text="C" xmlUrl="https://c.example/rss" other:x="out of scope"/>
    <outline text="D" xmlns:a="https://elsewhere/" xmlUrl="https://d.example/rss" a:x="3"/>
    <outline text="E" xmlUrl="https://e.example/rss" a:x="4"/>
  </body>
</opml>
""".encode()


def test_namespaced_attributes_are_read_by_namespace_not_prefix() -> None:
    """A prefix means its namespace where it is declared (element and inside), nowhere else."""
    document = read_opml(SCOPED, max_outlines=10)
    assert document.extensions == ((f"{{{NS}}}everywhere", "root"),)
    assert [o.extensions for o in document.outlines] == [
        ((f"{{{NS}}}x", "1"),),
        ((f"{{{NS}}}x", "2"),),
        (),
        (("{https://elsewhere/}x", "3"),),
        ((f"{{{NS}}}x", "4"),),
    ]


@pytest.mark.parametrize(
    "data",
    [
        f'<opml xmlns:a="{NS}"><body><outline text="x&y" a:k="v" xmlUrl="https://a/?1&2"/>'
        "</body></opml>",
        f'<opml xmlns:a="{NS}"><body><outline text="<b>" a:k="v" xmlUrl="https://a/">'
        "</body></opml>",
    ],
    ids=["bare-ampersand", "tag-soup"],
)
def test_namespaced_attributes_survive_the_lenient_readings(data: str) -> None:
    """A file expat refuses keeps its namespaced attributes when it is read leniently."""
    document = read_opml(data.encode(), max_outlines=10)
    assert document.notes
    assert document.outlines[0].extensions == ((f"{{{NS}}}k", "v"),)


def test_deeply_nested_declarations_are_read() -> None:
    """A new prefix declared on each of 28,000 nested outlines is read (how fast: its
    time is in ``bench/opml.py``, 0.1 s here against 56 s with a prefix map per element)."""
    depth = 28_000
    opening = b"".join(b'<outline xmlns:p%d="u">' % n for n in range(depth))
    data = b"<opml><body>" + opening + b'<outline p7:x="1" xmlUrl="https://deep/"/>'
    data += b"</outline>" * depth + b"</body></opml>"
    document = read_opml(data, max_outlines=5)
    assert document.outlines[0].extensions == (("{u}x", "1"),)


def test_written_extensions_read_back_and_need_a_declared_namespace() -> None:
    """write_opml declares the prefixes and writes each namespaced attribute; an undeclared
    namespace is a programming error."""
    outline = Outline("https://a.example/rss", "A", extensions=((f"{{{NS}}}x", 'q"<&>\n'),))
    data = write_opml(
        "t", [outline], created=0, namespaces={"a": NS}, extensions=((f"{{{NS}}}r", "1"),)
    )
    assert f'xmlns:a="{NS}"'.encode() in data
    document = read_opml(data, max_outlines=5)
    assert document.notes == ()
    assert document.outlines == (outline,)
    assert document.extensions == ((f"{{{NS}}}r", "1"),)
    with pytest.raises(ValueError, match="no prefix"):
        write_opml("t", [outline], created=0)


def test_characters_xml_cannot_hold_are_replaced_when_writing() -> None:
    """A title with C0 controls (a JSON feed may have one) still makes a well-formed file."""
    outline = Outline("https://a.example/rss", "bell\x07 and \x01 end")
    data = write_opml("chat \x0b", [outline], created=0)
    document = read_opml(data, max_outlines=5)
    assert document.notes == ()  # read by expat as written, no lenient pass
    assert document.outlines[0].title == "bell\ufffd and \ufffd end"
