"""Table tests of the filter language: operators, fields, folding, errors, speed safety."""

# full-width and Traditional characters are what these tests feed in

from __future__ import annotations

import re

import feedparser
import pytest

from bot.filters import (
    FilterFields,
    FilterResult,
    FilterSyntaxError,
    compile_filter,
    match_all,
    prepare,
)
from tests.corpus import DW_LIKE_ITEM, corpus_feed


def _fields(
    title: str = "", content: str = "", author: str = "", tags: tuple[str, ...] = ()
) -> FilterFields:
    """Filter fields with defaults, to keep the tables short."""
    return FilterFields(title=title, content=content, author=author, tags=tags)


def _dw_like_entry() -> FilterFields:
    """An item shaped like the founding DW one, its HTML crudely stripped."""
    entry = feedparser.parse(DW_LIKE_ITEM.read_bytes()).entries[0]
    text = re.sub(r"<[^>]+>", " ", entry.summary)
    return _fields(title=entry.title, content=text)


MATCH_TABLE: list[tuple[str, FilterFields, bool]] = [
    # plain terms are alternatives
    ("乌克兰 NATO", _fields("NATO summit"), True),
    ("乌克兰 NATO", _fields("乌克兰局势"), True),
    ("乌克兰 NATO", _fields("Weather"), False),
    # + is AND, - is NOT
    ("+乌克兰 +俄罗斯", _fields("乌克兰与俄罗斯"), True),
    ("+乌克兰 +俄罗斯", _fields("乌克兰"), False),
    ("-体育", _fields("俄罗斯新闻"), True),
    ("-体育", _fields("俄罗斯体育"), False),
    # the example
    ("-体育 +俄罗斯", _fields("俄罗斯外交"), True),
    ("-体育 +俄罗斯", _fields("俄罗斯体育新闻"), False),
    ("-体育 +俄罗斯", _fields("美国外交"), False),
    # plain terms and + together: a + term alone does not satisfy the plain group
    ("nato +俄罗斯", _fields("俄罗斯外交"), False),
    ("nato +俄罗斯", _fields("俄罗斯 NATO"), True),
    # phrases, with operators and whitespace folding
    ('"white house"', _fields("The White   House said"), True),
    ('"white house"', _fields("white, house"), False),
    ('+"white house"', _fields("house white"), False),
    ('-"white house"', _fields("White House"), False),
    ('-"white house"', _fields("a white car"), True),
    # fields
    ("title:nato", _fields("NATO", "x"), True),
    ("title:nato", _fields("x", "NATO"), False),
    ("content:nato", _fields("x", "NATO"), True),
    ("author:smith", _fields("x", "y", author="Jane Smith"), True),
    ("author:smith", _fields("Smith", "y"), False),
    ("tag:sport", _fields(tags=("Sports", "World")), True),
    ("tag:world", _fields("world"), False),
    ('title:"white house"', _fields("White House"), True),
    ("+title:x -content:y", _fields("x", "z"), True),
    ("+title:x -content:y", _fields("x", "y"), False),
    ("标题:乌克兰", _fields("乌克兰"), True),
    ("TITLE：乌克兰", _fields("x", "乌克兰"), False),
    # plain terms search every field; a phrase does not span two fields
    ("smith", _fields(author="Smith"), True),
    ("sport", _fields(tags=("sport",)), True),
    ('"end start"', _fields("the end", "start"), False),
    # Latin words: whole words and word prefixes, case-insensitive
    ("nato", _fields("NATO's allies"), True),
    ("nato", _fields("NATO-led mission"), True),
    ("nato", _fields("a senator spoke"), False),
    ("stolt", _fields("Jens Stoltenberg"), True),
    ("NaTo", _fields("nato"), True),
    ("nato", _fields("北约NATO峰会"), True),
    ("35", _fields("F-35"), True),
    ("35", _fields("F135"), False),
    # CJK terms are substrings
    ("克兰", _fields("乌克兰"), True),
    ("俄罗斯", _fields("美俄罗斯之间"), True),
    # Simplified and Traditional match each other
    ("乌克兰", _fields("烏克蘭危機"), True),
    ("烏克蘭", _fields("乌克兰危机"), True),
    ("台湾", _fields("臺灣"), True),
    # full-width and half-width forms
    ("ＮＡＴＯ", _fields("nato"), True),
    ("nato", _fields("ＮＡＴＯ"), True),
    ("ｉｐｈｏｎｅ", _fields("iPhone"), True),
    # mixed terms
    ("F-35战机", _fields("美军F-35 战机坠毁"), True),
    ("F-35战机", _fields("F‑35战机"), True),
    ('"iPhone 15"', _fields("the iPhone 15 Pro"), True),
    ('"iPhone 15"', _fields("the iPhone 16"), False),
    # curly apostrophes fold to straight ones
    ("nato's", _fields("NATO’s plan"), True),
    # regex, also with operators and fields
    ("/f-\\d+/", _fields("F-16 jets"), True),
    ("/f-\\d+/", _fields("F-x"), False),
    ("-/体育|足球/", _fields("足球赛"), False),
    ("+title:/^nato/", _fields("NATO plans"), True),
    ("+title:/^nato/", _fields("The NATO plans"), False),
    ("/烏克蘭/", _fields("乌克兰"), True),
    ("/a\\/b/", _fields("a/b"), True),
    # an unknown prefix is part of a plain term
    ("http://x.org", _fields("see http://x.org/page"), True),
    ("12:30", _fields("at 12:30 UTC"), True),
    ("foo:bar", _fields("foo bar"), False),
    # Chinese list separators separate terms
    ("乌克兰，北约", _fields("北约"), True),
    ("乌克兰、北约", _fields("乌克兰"), True),
]


@pytest.mark.parametrize(("expr", "fields", "passed"), MATCH_TABLE)
def test_match_table(expr: str, fields: FilterFields, passed: bool) -> None:
    """Each operator, field and folding rule decides delivery as SPEC describes."""
    assert compile_filter(expr).match(fields).passed is passed


@pytest.mark.parametrize("expr", ["", "   ", "，、"])
def test_empty_filter_passes_everything(expr: str) -> None:
    """A blank expression is empty and delivers every entry."""
    compiled = compile_filter(expr)
    assert compiled.is_empty
    assert compiled.expression == ""
    assert compiled.match(_fields("anything")) == FilterResult(True, ())
    assert compiled.match(_fields()).passed


def test_matched_terms_as_written() -> None:
    """Matched plain and + terms are reported as the user wrote them, - terms never."""
    compiled = compile_filter('乌克兰 ＮＡＴＯ senate +俄羅斯 -体育 title:"white house" /f-\\d+/')
    result = compiled.match(_fields("White House on F-16", "烏克蘭 俄罗斯 nato"))
    assert result == FilterResult(True, ("俄羅斯", "乌克兰", "ＮＡＴＯ", "white house", "/f-\\d+/"))
    assert compiled.match(_fields("体育 乌克兰 俄罗斯")) == FilterResult(False, ())


def test_dw_like_entry() -> None:
    """A DW-like Chinese news item matches a Chinese reader's filter, in either script."""
    entry = _dw_like_entry()
    assert compile_filter("乌克兰 北約 -体育 +俄國").match(entry) == FilterResult(
        True, ("俄國", "乌克兰", "北約")
    )
    assert compile_filter("+title:北约").match(entry).passed is False
    assert compile_filter("content:OSCE").match(entry).passed
    assert compile_filter('"Wendy Sherman"').match(entry).passed


def test_match_all_needs_every_filter() -> None:
    """Chat-wide and subscription filters must both pass; matched terms merge."""
    chat, sub = compile_filter("-体育"), compile_filter("乌克兰 nato")
    entry = _fields("乌克兰 NATO")
    assert match_all([chat, sub], entry) == FilterResult(True, ("乌克兰", "nato"))
    assert match_all([chat, sub], _fields("乌克兰体育")).passed is False
    assert match_all([chat, compile_filter("美国")], entry).passed is False
    assert match_all([], entry) == FilterResult(True, ())


def test_prepared_fields_give_the_same_answers() -> None:
    """Matching prepared fields equals matching raw fields, for the whole Guardian feed."""
    parsed = feedparser.parse(corpus_feed("en_guardian_world.xml").read_bytes())
    filters = [compile_filter(e) for e in ("ukraine russia", "+trump -obama", "title:/\\d{4}/")]
    hits = 0
    for item in parsed.entries:
        fields = _fields(item.title, re.sub(r"<[^>]+>", " ", item.summary))
        prepared = prepare(fields)
        for compiled in filters:
            raw = compiled.match(fields)
            assert compiled.match(prepared) == raw
            hits += raw.passed
    assert hits > 0


def test_canonical_expression() -> None:
    """Full-width operators, aliases and quotes become one canonical spelling."""
    compiled = compile_filter("  ＋標題：烏克蘭   －“a   b”  x，y /a b/ ")
    assert compiled.expression == '+title:烏克蘭 -"a b" x y /a b/'
    assert compile_filter(compiled.expression).expression == compiled.expression


def test_describe_en_and_zh() -> None:
    """The filter in words, in English and Chinese, grouped by operator."""
    compiled = compile_filter('乌克兰 NATO +俄罗斯 -体育 title:"a b" /x/')
    assert compiled.describe() == (
        'any of: 乌克兰, NATO, "a b" (in title), pattern /x/; must have: 俄罗斯; '
        "must not have: 体育"
    )
    assert compiled.describe("zh") == (
        "任一：乌克兰、NATO、“a b”（标题中）、正则 /x/；必须有：俄罗斯；不能有：体育"
    )
    assert compile_filter("").describe("zh-hans") == "无过滤：全部推送"
    assert compile_filter("").describe() == "no filter: every entry passes"


ERROR_TABLE: list[tuple[str, str, int, str]] = [
    ('"abc', "unclosed_quote", 1, "unclosed quote at character 1"),
    ('x title:"abc', "unclosed_quote", 9, "unclosed quote at character 9"),
    ("/abc", "unclosed_regex", 1, "unclosed regex at character 1"),
    ("a /abc\\/", "unclosed_regex", 3, "unclosed regex at character 3"),
    ("+", "missing_term", 1, "missing term after '+' at character 1"),
    ("x - y", "missing_term", 3, "missing term after '-' at character 3"),
    ("title:", "missing_term", 1, "missing term after 'title:' at character 1"),
    ("a +title: b", "missing_term", 3, "missing term after '+title:' at character 3"),
    ("/(?=a)/", "bad_regex", 1, "invalid regex (invalid perl operator: (?=) at character 1"),
    ("x +title:/(/", "bad_regex", 10, "invalid regex (missing ): () at character 10"),
    ("＋标题：/a)/", "bad_regex", 5, "invalid regex (unexpected ): a)) at character 5"),
    ("//", "empty_regex", 1, "empty regex at character 1"),
    ('"  "', "empty_phrase", 1, "empty phrase at character 1"),
    ("/a/b", "text_after_regex", 3, "a space must follow a regex's closing '/' at character 3"),
    ("\u200b", "empty_term", 1, "term has nothing to match at character 1"),
    ("x\ud800", "bad_character", 2, "invalid character at character 2"),
    ("/" + "a" * 257 + "/", "regex_too_long", 1, "regex longer than 256 characters at character 1"),
    ("a" * 1001, "too_long", 1001, "filter longer than 1000 characters at character 1001"),
    ("x " * 51, "too_many_terms", 101, "too many terms (max 50) at character 101"),
]


@pytest.mark.parametrize(("expr", "code", "position", "message"), ERROR_TABLE)
def test_syntax_errors(expr: str, code: str, position: int, message: str) -> None:
    """Bad input gets a one-line reason naming the 1-based character where it starts."""
    with pytest.raises(FilterSyntaxError) as caught:
        compile_filter(expr)
    assert (caught.value.code, caught.value.position, str(caught.value)) == (
        code,
        position,
        message,
    )
    assert isinstance(caught.value, ValueError)


def test_limits_are_inclusive() -> None:
    """Exactly 50 terms, 1000 characters and a 256-character regex are accepted."""
    assert len(compile_filter("x " * 50).terms) == 50
    assert not compile_filter("a" * 1000).is_empty
    assert not compile_filter("/" + "a" * 256 + "/").is_empty


def test_catastrophic_regex_runs_in_linear_time() -> None:
    """A classic backtracking bomb finishes on a long hostile text, because RE2 is linear."""
    hostile = _fields("a" * 50_000 + "b", "(" * 10_000)
    assert compile_filter("/(a+)+$/").match(hostile).passed is False
    assert compile_filter("/(a|aa)+b/").match(hostile).passed is True


def test_huge_regex_program_is_refused() -> None:
    """A short pattern that expands past RE2's memory cap is a syntax error, not a stall."""
    with pytest.raises(FilterSyntaxError) as caught:
        compile_filter("/((a{100}){100}){100}/")
    assert caught.value.code == "bad_regex"


def test_compile_is_cached() -> None:
    """The same expression compiles once and is shared."""
    assert compile_filter("乌克兰 nato") is compile_filter("乌克兰 nato")
