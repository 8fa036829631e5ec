"""Table tests of the filter language: signs, operators, groups, fields, folding, errors
with their positions, the descriptions in words and the guards against hostile filters."""

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
from bot.filters.syntax import ERROR_CODES
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
    # a colon that makes no field is part of a word; escaped or quoted, any colon is
    ("http://x.org", _fields("see http://x.org/page"), True),
    ("12:30", _fields("at 12:30 UTC"), True),
    ("std::map", _fields("a std::map of names"), True),
    ("re\\:Invent", _fields("AWS re:Invent opens"), True),
    ('"re:Invent"', _fields("AWS re:Invent opens"), True),
    ("title\\:x", _fields("title:x", ""), True),
    ("title\\:x", _fields("x", ""), False),
    # Chinese list separators separate terms
    ("乌克兰，北约", _fields("北约"), True),
    ("乌克兰、北约", _fields("乌克兰"), True),
    # OR, AND, NOT
    ("乌克兰 OR 俄罗斯", _fields("俄罗斯外交"), True),
    ("乌克兰 OR 俄罗斯", _fields("Order of the day, or not"), False),
    ("乌克兰 AND 俄罗斯", _fields("乌克兰与俄罗斯"), True),
    ("乌克兰 AND 俄罗斯", _fields("乌克兰局势"), False),
    ("NOT 体育", _fields("体育新闻"), False),
    ("NOT 体育", _fields("国际新闻"), True),
    ("乌克兰 NOT 体育", _fields("乌克兰体育"), False),
    ("乌克兰 NOT 体育", _fields("乌克兰局势"), True),
    ("乌克兰 NOT 体育", _fields("国际新闻"), False),
    # SPEC's example
    ("(乌克兰 OR Ukraine) AND NOT 体育", _fields("Ukraine talks"), True),
    ("(乌克兰 OR Ukraine) AND NOT 体育", _fields("烏克蘭局勢"), True),
    ("(乌克兰 OR Ukraine) AND NOT 体育", _fields("乌克兰体育"), False),
    ("(乌克兰 OR Ukraine) AND NOT 体育", _fields("体育新闻"), False),
    # precedence: NOT over AND over OR over juxtaposition
    ("a OR b AND c", _fields("a"), True),
    ("a OR b AND c", _fields("b"), False),
    ("a OR b AND c", _fields("b c"), True),
    ("(a OR b) AND c", _fields("a"), False),
    ("(a OR b) AND c", _fields("a c"), True),
    ("NOT a AND b", _fields("b"), True),
    ("NOT a AND b", _fields("a b"), False),
    ("NOT (a AND b)", _fields("a"), True),
    ("NOT (a AND b)", _fields("a b"), False),
    ("a OR b -c", _fields("b"), True),
    ("a OR b -c", _fields("a c"), False),
    ("a b AND c", _fields("a"), True),
    ("a b AND c", _fields("b"), False),
    ("a b AND c", _fields("b c"), True),
    ("+a b OR c", _fields("a"), False),
    ("+a b OR c", _fields("a c"), True),
    ("+a b OR c", _fields("c"), False),
    # a sign inside an operator: - is NOT, + is the term itself
    ("-a OR b", _fields("x"), True),
    ("-a OR b", _fields("a"), False),
    ("-a OR b", _fields("a b"), True),
    ("+a AND b", _fields("a b"), True),
    ("a AND -b", _fields("a b"), False),
    # groups follow the juxtaposition rule inside
    ("(a b -c)", _fields("b"), True),
    ("(a b -c)", _fields("b c"), False),
    ("(a b -c)", _fields("x"), False),
    ("-(体育 OR 足球) 新闻", _fields("足球新闻"), False),
    ("-(体育 OR 足球) 新闻", _fields("国际新闻"), True),
    ("x +(a OR b)", _fields("x"), False),
    ("x +(a OR b)", _fields("x b"), True),
    ("((a))", _fields("a"), True),
    ("(/f-\\d+/ OR nato)", _fields("F-16 jets"), True),
    # a field on a group applies to its terms without a field of their own
    ("title:(乌克兰 OR 俄罗斯)", _fields("乌克兰", "x"), True),
    ("title:(乌克兰 OR 俄罗斯)", _fields("x", "乌克兰"), False),
    ("title:(a content:b)", _fields("x", "b"), True),
    ("-title:(a b)", _fields("x", "a"), True),
    ("-title:(a b)", _fields("b", "x"), False),
    # full-width parentheses and capitals, as a Chinese input method types them
    ("（乌克兰 OR 俄罗斯） -体育", _fields("俄罗斯体育"), False),
    ("（乌克兰 OR 俄罗斯） -体育", _fields("俄罗斯外交"), True),
    ("标题：（乌克兰 ＯＲ 俄罗斯）", _fields("俄罗斯", ""), True),
    ("乌克兰 ＯＲ 俄罗斯", _fields("order"), False),
    # lowercase operators, signed or fielded capitals and quoted ones are words
    ("ukraine or russia", _fields("Order of the day"), True),
    ("+ukraine and", _fields("Ukraine and Russia"), True),
    ("+ukraine and", _fields("Ukraine talks"), False),
    ('"not guilty"', _fields("Not guilty, says court"), True),
    ('"OR"', _fields("Ukraine or Russia"), True),
    ("+OR", _fields("OR"), True),
    ("title:NOT", _fields("Not now", ""), True),
    # an escaped or quoted parenthesis is text
    ("F\\(x\\)", _fields("F(x) = 1"), True),
    ('"F(x)"', _fields("F(x) = 1"), True),
    ("北约\\（NATO\\）", _fields("北约（NATO）峰会"), True),
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


@pytest.mark.parametrize(
    ("expr", "fields", "matched"),
    [
        ("(乌克兰 OR Ukraine) AND NOT 体育", _fields("乌克兰 Ukraine"), ("乌克兰", "Ukraine")),
        ("+俄罗斯 (乌克兰 OR nato) -体育", _fields("俄罗斯 NATO"), ("俄罗斯", "nato")),
        ("a AND NOT b", _fields("a"), ("a",)),
        ("-a OR b", _fields("b"), ("b",)),
        ("NOT (a AND b) c", _fields("a c"), ("c",)),
        ("title:(x OR y)", _fields("y", "x"), ("y",)),
    ],
)
def test_matched_terms_with_operators(
    expr: str, fields: FilterFields, matched: tuple[str, ...]
) -> None:
    """Terms found in the parts that made the filter pass; never one under NOT or -."""
    assert compile_filter(expr).match(fields) == FilterResult(True, matched)


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
    spelled = compile_filter("  （乌克兰   ＯＲ ukraine）AND NOT  标题：( a  b )-c")
    assert spelled.expression == "(乌克兰 OR ukraine) AND NOT title:(a b) -c"
    assert compile_filter("F\\(x\\) re\\:x").expression == "F\\(x\\) re\\:x"


def test_describe_en_and_zh() -> None:
    """The filter in words, in English and Chinese, grouped by operator."""
    compiled = compile_filter('乌克兰 NATO +俄罗斯 -体育 title:"a b" /x/')
    assert compiled.describe() == (
        'Any of: 乌克兰, NATO, "a b" (in title), pattern /x/; must have: 俄罗斯; '
        "must not have: 体育"
    )
    assert compiled.describe("zh") == (
        "任一：乌克兰、NATO、“a b”（标题中）、正则 /x/；必须有：俄罗斯；不能有：体育"
    )
    assert compile_filter("").describe("zh-hans") == "无过滤：全部推送"
    assert compile_filter("").describe() == "No filter: every entry passes"


DESCRIBE_TABLE = [
    ("nato", "Must have: nato", "必须有：nato"),
    ("nato -体育", "Must have: nato; must not have: 体育", "必须有：nato；不能有：体育"),
    ("(乌克兰 OR Ukraine) AND NOT 体育",
     "Must have: (乌克兰 or Ukraine) and not 体育", "必须有：（乌克兰 或 Ukraine）且 不含 体育"),
    ("乌克兰 OR 俄罗斯 -体育",
     "Must have: 乌克兰 or 俄罗斯; must not have: 体育", "必须有：乌克兰 或 俄罗斯；不能有：体育"),
    ("a b AND c", "Any of: a, (b and c)", "任一：a、（b 且 c）"),
    ("a OR b AND c", "Must have: a or (b and c)", "必须有：a 或（b 且 c）"),
    ("-a OR b", "Must have: not a or b", "必须有：不含 a 或 b"),
    ("title:(a OR b) NOT c",
     "Must have: (a or b) (in title); must not have: c", "必须有：（a 或 b）（标题中）；不能有：c"),
    ("x -(a b)", "Must have: x; must not have: a or b", "必须有：x；不能有：a 或 b"),
    ("(a b +c -d) e",
     "Any of: ((a or b) and c and not d), e", "任一：（（a 或 b）且 c 且 不含 d）、e"),
    ("NOT (a AND b)", "Must not have: a and b", "不能有：a 且 b"),
    ('F\\(x\\) "re:Invent"', 'Any of: F(x), "re:Invent"', "任一：F(x)、“re:Invent”"),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "en", "zh"), DESCRIBE_TABLE)
def test_describe_operators_and_groups(expr: str, en: str, zh: str) -> None:
    """Operators and groups in words, parenthesised wherever two operators meet."""
    compiled = compile_filter(expr)
    assert (compiled.describe("en"), compiled.describe("zh")) == (en, zh)


ERROR_TABLE: list[tuple[str, str, int, dict[str, str | int]]] = [
    ('"abc', "unclosed_quote", 1, {}),
    ('x title:"abc', "unclosed_quote", 9, {}),
    ("/abc", "unclosed_regex", 1, {}),
    ("a /abc\\/", "unclosed_regex", 3, {}),
    ("+", "missing_term", 1, {"after": "+"}),
    ("x - y", "missing_term", 3, {"after": "-"}),
    ("title:", "missing_term", 1, {"after": "title:"}),
    ("a +title: b", "missing_term", 3, {"after": "+title:"}),
    ("(a +)", "missing_term", 4, {"after": "+"}),
    ("/(?=a)/", "bad_regex", 1, {"problem": "unsupported_group", "fragment": "(?="}),
    ("x +title:/(/", "bad_regex", 10, {"problem": "missing_paren", "fragment": "("}),
    ("＋标题：/a)/", "bad_regex", 5, {"problem": "unexpected_paren", "fragment": "a)"}),
    ("/a{2000}/", "bad_regex", 1, {"problem": "repetition_size", "fragment": "{2000}"}),
    ("//", "empty_regex", 1, {}),
    ('"  "', "empty_phrase", 1, {}),
    ("/a/b", "text_after_regex", 3, {}),
    ("\u200b", "empty_term", 1, {}),
    ("x\ud800", "bad_character", 2, {}),
    ("/" + "a" * 257 + "/", "regex_too_long", 1, {"limit": 256}),
    ("a" * 1001, "too_long", 1001, {"limit": 1000}),
    ("x " * 51, "too_many_terms", 101, {"limit": 50}),
    # unknown fields, in any script; a URL or std::map is no field
    ("auther:smith", "unknown_field", 1, {"field": "auther"}),
    ("乌克兰 +titel:x", "unknown_field", 6, {"field": "titel"}),
    ("乌克兰 作着：张三", "unknown_field", 5, {"field": "作着"}),
    ("(a OR re:Invent)", "unknown_field", 7, {"field": "re"}),
    # parentheses
    ("(a OR b", "unclosed_paren", 1, {}),
    ("乌克兰 (北约 OR 俄罗斯", "unclosed_paren", 5, {}),
    ("-title:(a", "unclosed_paren", 8, {}),
    ("a OR b)", "unopened_paren", 7, {}),
    ("（乌克兰））", "unopened_paren", 6, {}),
    ("()", "empty_group", 1, {}),
    ("a +title:( )", "empty_group", 10, {}),
    # operators with nothing on one side
    ("a OR", "dangling_operator", 3, {"operator": "OR"}),
    ("OR a", "dangling_operator", 1, {"operator": "OR"}),
    ("a AND OR b", "dangling_operator", 3, {"operator": "AND"}),
    ("(AND a)", "dangling_operator", 2, {"operator": "AND"}),
    ("a (b OR)", "dangling_operator", 6, {"operator": "OR"}),
    ("a NOT", "dangling_operator", 3, {"operator": "NOT"}),
    ("乌克兰 ＯＲ", "dangling_operator", 5, {"operator": "ＯＲ"}),
    # nesting
    ("(" * 11 + "a" + ")" * 11, "too_deep", 11, {"limit": 10}),
    ("NOT " * 11 + "a", "too_deep", 41, {"limit": 10}),
    ("(NOT " * 6 + "a" + ")" * 6, "too_deep", 26, {"limit": 10}),
    # positions count characters as seen: CJK, an emoji sequence, a combining accent
    ('乌克兰 北约 "峰会', "unclosed_quote", 8, {}),
    ("👨\u200d👩\u200d👧 (a", "unclosed_paren", 3, {}),
    ("🇨🇳 auther:x", "unknown_field", 3, {"field": "auther"}),
    ("e\u0301 )", "unopened_paren", 3, {}),
    ("烏克蘭𠀋 OR", "dangling_operator", 6, {"operator": "OR"}),
]


@pytest.mark.parametrize(("expr", "code", "position", "details"), ERROR_TABLE)
def test_syntax_errors(expr: str, code: str, position: int, details: dict[str, object]) -> None:
    """Bad input names its problem (a code the chat's language words) and the 1-based
    character, as the user sees characters, where it starts."""
    with pytest.raises(FilterSyntaxError) as caught:
        compile_filter(expr)
    error = caught.value
    assert (error.code, error.position, error.details) == (code, position, details)
    assert isinstance(error, ValueError)
    assert "\n" not in str(error)


def test_every_error_code_is_in_the_table() -> None:
    """The table above shows each code the parser and the compiler may raise."""
    assert {code for _, code, _, _ in ERROR_TABLE} == set(ERROR_CODES)


def test_limits_are_inclusive() -> None:
    """Exactly 50 terms, 1000 characters as seen, a 256-character regex and 10 levels of
    nesting are accepted; a canonical spelling longer than what was typed compiles stored."""
    assert len(compile_filter("x " * 50).terms) == 50
    assert not compile_filter("a" * 1000).is_empty
    assert not compile_filter("乌" * 1000).is_empty
    assert not compile_filter("👍🏽" * 1000).is_empty  # 2000 code points, 1000 characters seen
    assert not compile_filter("/" + "a" * 256 + "/").is_empty
    assert not compile_filter("(" * 10 + "a" + ")" * 10).is_empty
    assert not compile_filter("NOT " * 10 + "a").is_empty
    typed = " ".join(f"标题：({'乌' * 12})" for _ in range(50))
    spelled = compile_filter(typed).expression
    assert len(typed) < 1000 < len(spelled)
    assert compile_filter(spelled, stored=True).expression == spelled


def test_hostile_nesting_is_refused_before_it_recurses() -> None:
    """Hundreds of parentheses or NOTs are a syntax error at the 11th, never a RecursionError
    (which would escape the guard around stored filters and stop a feed's refresh)."""
    for hostile in ("(" * 499 + "a" + ")" * 499, "NOT " * 249 + "a", "-(" * 333 + "a"):
        with pytest.raises(FilterSyntaxError) as caught:
            compile_filter(hostile)
        assert caught.value.code == "too_deep"
    with pytest.raises(FilterSyntaxError) as stored:
        compile_filter("(" * 1999 + "a" + ")" * 1999, stored=True)
    assert (stored.value.code, stored.value.position) == ("too_deep", 11)


def test_stored_expressions_are_bounded_too() -> None:
    """A stored (or restored) expression may be longer than a typed one, but not unbounded."""
    assert not compile_filter("a" * 4000, stored=True).is_empty
    with pytest.raises(FilterSyntaxError) as caught:
        compile_filter("a" * 4001, stored=True)
    assert (caught.value.code, caught.value.details) == ("too_long", {"limit": 4000})


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
