"""Feed bytes to text: BOM, valid UTF-8, charset and declaration that decode, then the detector.

Every document here is made in the test from our own text, encoded the way real
servers get it wrong; the assertion is on the text that comes out.
"""

from __future__ import annotations

import codecs

import pytest

from bot.feeds.encoding import codec_name, decode_document
from bot.feeds.parse import parse_feed
from tests.corpus import corpus_case

ORIGIN = "https://feeds.example/feed.xml"

CHINESE = (
    "今天上午，市政府召开新闻发布会，介绍了今年城市交通建设的进展情况。"
    "地铁新线路将在年底前开通运营，沿线居民出行将更加方便。"
)
TRADITIONAL = (
    "今天上午，市政府召開新聞發布會，介紹了今年城市交通建設的進展情況。"
    "捷運新路線將在年底前開通營運，沿線居民出行將更加方便。"
)
JAPANESE = (
    "今日の午前、市役所で記者会見が開かれ、今年の交通整備の進み具合が説明されました。"
    "新しい地下鉄の路線は年末までに開業する予定で、沿線の住民の移動が便利になります。"
)
KOREAN = (
    "오늘 오전 시청에서 기자회견이 열려 올해 교통 건설의 진행 상황이 소개되었습니다. "
    "새 지하철 노선은 연말까지 개통될 예정이며 주민들의 이동이 더욱 편리해질 것입니다."
)
HEBREW = (
    "הבוקר התקיימה מסיבת עיתונאים בעירייה שבה הוצגה התקדמות עבודות התחבורה השנה. "
    "קו הרכבת החדש ייפתח עד סוף השנה והתושבים ייהנו מנסיעה נוחה יותר."
)
RUSSIAN = (
    "Сегодня утром в мэрии прошла пресс-конференция, на которой рассказали о ходе "
    "строительства транспорта в этом году. Новая линия метро откроется до конца года."
)
PORTUGUESE = "Não há informações sobre a situação dos passageiros após a colisão no túnel."


def feed(text: str, *, declaration: str | None = None, category: str = "") -> str:
    """A small RSS document around ``text`` (title and description), with an optional category."""
    head = f'<?xml version="1.0" encoding="{declaration}"?>\n' if declaration else ""
    tag = f"<category>{category}</category>" if category else ""
    return (
        f'{head}<rss version="2.0"><channel><title>{text[:12]}</title>'
        "<link>https://site.example/</link>"
        f"<item><title>{text[:20]}</title><link>https://site.example/1</link>"
        f"<description>{text}</description>{tag}</item></channel></rss>"
    )


UNDECLARED = [
    ("gbk", CHINESE),
    ("gb2312", CHINESE),
    ("big5", TRADITIONAL),
    ("euc_jp", JAPANESE),
    ("shift_jis", JAPANESE),
    ("euc_kr", KOREAN),
    ("cp1255", HEBREW),
    ("cp1251", RUSSIAN),
    ("koi8_r", RUSSIAN),
    ("cp1252", PORTUGUESE),
]


@pytest.mark.parametrize(("codec", "text"), UNDECLARED, ids=[c for c, _ in UNDECLARED])
def test_undeclared_legacy_encodings_come_out_right(codec: str, text: str) -> None:
    """No declaration, no charset: the detector reads CJK, Hebrew and Cyrillic right."""
    body = feed(text).encode(codec)
    parsed = parse_feed(body, url=ORIGIN)
    assert parsed.entries[0].content_html == text
    assert parsed.entries[0].title == text[:20].strip()


@pytest.mark.parametrize(("codec", "text"), UNDECLARED, ids=[c for c, _ in UNDECLARED])
def test_legacy_encodings_served_with_a_latin1_charset(codec: str, text: str) -> None:
    """A server's default ``charset=ISO-8859-1`` over other bytes does not make mojibake."""
    body = feed(text).encode(codec)
    parsed = parse_feed(body, url=ORIGIN, content_type="text/xml; charset=ISO-8859-1")
    assert parsed.entries[0].content_html == text


@pytest.mark.parametrize(
    ("declaration", "content_type"),
    [
        ("ISO-8859-1", None),
        ("windows-1252", "application/rss+xml"),
        (None, "text/xml; charset=iso-8859-1"),
        ("UTF-16", None),
        ("UTF-16", "application/xml; charset=utf-16"),
        ("gb2312", None),
        ("utf-8", "application/rss+xml; charset=windows-1251"),
    ],
)
def test_utf8_bytes_win_over_what_is_declared(
    declaration: str | None, content_type: str | None
) -> None:
    """Valid UTF-8 with non-ASCII text is UTF-8, whatever the document or server says."""
    text = "Freiräume für Öffentlichkeit – 中文 – кириллица"
    body = feed(text, declaration=declaration).encode("utf-8")
    parsed = parse_feed(body, url=ORIGIN, content_type=content_type)
    assert parsed.entries[0].content_html == text


def test_declared_encoding_that_decodes_is_used() -> None:
    """GB2312 declared (read as GB18030), no charset: the declaration decides."""
    body = feed(CHINESE, declaration="gb2312").encode("gb18030")
    assert parse_feed(body, url=ORIGIN).entries[0].content_html == CHINESE
    assert decode_document(body).source == "declared"


def test_http_charset_comes_before_the_declaration() -> None:
    """A charset header that decodes the bytes beats a wrong declaration."""
    body = feed(RUSSIAN, declaration="iso-8859-5").encode("cp1251")
    decoded = decode_document(body, "application/rss+xml; charset=windows-1251")
    assert (decoded.encoding, decoded.source) == ("cp1251", "http")
    assert RUSSIAN in decoded.text


def test_a_handful_of_broken_bytes_keeps_utf8() -> None:
    """UTF-8 with two stray bytes, declared only by charset: text intact, U+FFFD for the two."""
    body = feed(RUSSIAN).encode("utf-8").replace("метро".encode(), b"\xd0 \xff")
    parsed = parse_feed(body, url=ORIGIN, content_type="application/rss+xml; charset=utf-8")
    assert parsed.entries[0].content_html == RUSSIAN.replace("метро", "\ufffd \ufffd")
    assert parse_feed(body, url=ORIGIN).entries[0].content_html.startswith("Сегодня утром")


def test_many_broken_sequences_are_not_utf8() -> None:
    """Declared UTF-8 but Windows-1251 throughout: the declaration lies, the detector reads it."""
    body = feed(RUSSIAN, declaration="utf-8").encode("cp1251")
    assert parse_feed(body, url=ORIGIN).entries[0].content_html == RUSSIAN


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_byte_order_mark_decides(bom: bytes, codec: str) -> None:
    """A BOM beats a declaration and a charset that say otherwise."""
    body = bom + feed(CHINESE, declaration="iso-8859-1").encode(codec)
    parsed = parse_feed(body, url=ORIGIN, content_type="text/xml; charset=windows-1252")
    assert parsed.entries[0].content_html == CHINESE


def test_utf16_without_bom_is_found_by_its_nul_bytes() -> None:
    """UTF-16 with no BOM: the ``<\\0?\\0`` pattern of XML's appendix F."""
    body = feed(JAPANESE, declaration="utf-16").encode("utf-16-le")
    assert parse_feed(body, url=ORIGIN).entries[0].content_html == JAPANESE


@pytest.mark.parametrize("content_type", [None, "application/atom+xml", "text/xml"])
def test_non_ascii_attributes_without_content_type(content_type: str | None) -> None:
    """Category terms and links keep their letters with or without a Content-Type."""
    body = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Kiez</title>'
        "<entry><title>Räume</title><id>urn:x:1</id>"
        '<link rel="alternate" href="https://kiez.example/freiräume"/>'
        '<category term="Freiräume"/><category term="Öffentlichkeit"/></entry></feed>'
    ).encode()
    (entry,) = parse_feed(body, url=ORIGIN, content_type=content_type).entries
    assert entry.tags == ("Freiräume", "Öffentlichkeit")
    assert entry.link == "https://kiez.example/freiräume"


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("Big5", "big5hkscs"),
        ("Shift_JIS", "cp932"),
        ("EUC-KR", "cp949"),
        ("ISO-8859-1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("utf8", "utf_8"),
        ("made-up", None),
        ("rot13", None),
        ("base64", None),
    ],
)
def test_declared_labels_are_read_as_browsers_read_them(label: str, codec: str | None) -> None:
    """WHATWG aliases apply; unknown names and non-text codecs are no encoding."""
    assert codec_name(label) == codec


def test_field_case_utf8_with_invalid_bytes_and_charset() -> None:
    """shared/cases 01b: Russian titles read as Russian; the broken bytes become U+FFFD."""
    body = corpus_case("01b_utf8_invalid_bytes_undeclared.xml").read_bytes()
    parsed = parse_feed(body, url=ORIGIN, content_type="application/rss+xml; charset=utf-8")
    assert parsed.title == "Комментарии к статье"
    assert [e.title for e in parsed.entries][:2] == [
        "Новость номер 1: обновление каналов",
        "Новость номер 2: обновление каналов",
    ]
    assert parsed.entries[3].content_html.count("\ufffd") == 2
    assert "показываются" in parsed.entries[3].content_html
    undeclared = parse_feed(body, url=ORIGIN)  # no charset either: XML's default, UTF-8
    assert [e.title for e in undeclared.entries] == [e.title for e in parsed.entries]
