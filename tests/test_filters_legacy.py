"""Filters stored before AND/OR/NOT and parentheses match the same entries after migration 4.

``RECORDED`` was produced by the flat parser and matcher that stored these filters
(main before operators, run on ``ENTRIES``): for each stored expression, the entries
that passed and the terms each one reported. ``bot.filters.legacy.upgrade`` must
rewrite every stored expression so that today's parser and matcher give exactly
those answers.
"""

# full-width and CJK characters are what these tests feed in

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.filters import FilterFields, FilterResult, FilterSyntaxError, compile_filter
from bot.filters.legacy import upgrade
from bot.filters.match import CompiledFilter
from bot.filters.syntax import Kind, Term, parse, parse_legacy

ENTRIES: list[tuple[str, str]] = [
    ("Ukraine or Russia", "talks went on"),
    ("Order of the day", "nothing else"),
    ("俄罗斯外交", ""),
    ("(乌克兰 局势", "体育 新闻"),
    ("AWS re:Invent 2025", "keynote"),
    ("北约（NATO）峰会", ""),
    ("F(x) = y :-)", "smiley"),
    ("AND then", "OR else NOT"),
    ("foo:bar at 12:30", "see http://x.org/a"),
    ("std::map vector", ""),
    ("auther:smith wrote", ""),
    ("x", ":x in content"),
    ("x:y (z", ""),
    ("突发：地震", "突发地震"),
    ("ＯＲ", "乌克兰"),
    ("breaking: news", ""),
    ("a story", "with b"),
    ("a story", "without"),
    ("(x)", "(乌克兰) 局势"),
    ("Re:Zero season", "tag:x"),
    ("Not guilty", "and so on"),
    ("AND OR", ""),
    (":x marks", ""),
    ("x\\:y and \\(z", ""),
    ("(a story", ""),
]

RECORDED: list[tuple[str, dict[int, tuple[str, ...]]]] = [
    (
        "乌克兰 OR 俄罗斯",
        {
            0: ("OR",),
            1: ("OR",),
            2: ("俄罗斯",),
            3: ("乌克兰",),
            7: ("OR",),
            8: ("OR",),
            14: ("乌克兰", "OR"),
            18: ("乌克兰",),
            21: ("OR",),
        },
    ),
    (
        "(乌克兰 OR Ukraine) AND NOT 体育",
        {
            0: ("OR",),
            1: ("OR", "NOT"),
            3: ("(乌克兰", "体育"),
            7: ("OR", "AND", "NOT"),
            8: ("OR",),
            14: ("OR",),
            18: ("(乌克兰",),
            20: ("AND", "NOT"),
            21: ("OR", "AND"),
            23: ("AND",),
        },
    ),
    ("NOT 体育 新闻", {1: ("NOT",), 3: ("体育", "新闻"), 7: ("NOT",), 20: ("NOT",)}),
    ("re:Invent aws", {4: ("re:Invent", "aws")}),
    ("北约（NATO） 峰会", {5: ("北约（NATO）", "峰会")}),
    ("F(x) -:-)", {}),
    ("+AND title:OR -NOT", {21: ("AND", "OR")}),
    ("foo:bar 12:30 http://x.org/a", {8: ("foo:bar", "12:30", "http://x.org/a")}),
    ("std::map vector", {9: ("std::map", "vector")}),
    ("auther:smith", {10: ("auther:smith",)}),
    ("title::x", {22: (":x",)}),
    ("x\\:y \\(z", {23: ("x\\:y", "\\(z")}),
    ("突发：地震", {13: ("突发：地震",)}),
    (
        "ＯＲ 乌克兰",
        {
            0: ("ＯＲ",),
            1: ("ＯＲ",),
            3: ("乌克兰",),
            7: ("ＯＲ",),
            8: ("ＯＲ",),
            14: ("ＯＲ", "乌克兰"),
            18: ("乌克兰",),
            21: ("ＯＲ",),
        },
    ),
    ("breaking: news", {15: ("breaking:", "news")}),
    ("+(a -b)", {24: ("(a",)}),
    ('content:"(乌克兰)" /\\(x\\)/', {6: ("/\\(x\\)/",), 18: ("(乌克兰)", "/\\(x\\)/")}),
    (
        "or and not",
        {
            0: ("or",),
            1: ("or", "not"),
            7: ("or", "and", "not"),
            8: ("or",),
            14: ("or",),
            20: ("and", "not"),
            21: ("or", "and"),
            23: ("and",),
        },
    ),
    ("Re:Zero -title:tag:x", {19: ("Re:Zero",)}),
]


def test_recorded_answers_survive_the_upgrade() -> None:
    """Each stored filter, upgraded, passes the same entries with the same matched terms."""
    for stored, passing in RECORDED:
        compiled = compile_filter(upgrade(stored), stored=True)
        for index, (title, content) in enumerate(ENTRIES):
            expected = FilterResult(index in passing, passing.get(index, ()))
            assert compiled.match(FilterFields(title, content)) == expected, (stored, index)


UPGRADES = [
    ("乌克兰 NATO -体育 +\"European Union\" title:breaking /F-?35/",
     "乌克兰 NATO -体育 +\"European Union\" title:breaking /F-?35/"),
    ("乌克兰 OR 俄罗斯", '乌克兰 "OR" 俄罗斯'),
    ("(乌克兰 OR Ukraine) AND NOT 体育", '\\(乌克兰 "OR" Ukraine\\) "AND" "NOT" 体育'),
    ("北约（NATO） 峰会", "北约\\（NATO\\） 峰会"),
    ("re:Invent 12:30 https://x.org std::map", "re\\:Invent 12:30 https://x.org std::map"),
    ("+AND title:OR -NOT", "+AND title:OR -NOT"),
    ("title::x x\\:y", "title::x x\\\\:y"),
    ("", ""),
    ('"unclosed', '"unclosed'),
]  # fmt: skip


def test_upgrade_spelling() -> None:
    """Only what today's parser would read otherwise changes: operator words are quoted,
    parentheses and field-like colons escaped; text the old parser refused is kept."""
    for stored, upgraded in UPGRADES:
        assert upgrade(stored) == upgraded


_PIECES = st.sampled_from(
    [
        " ", "+", "-", "＋", "－", '"', "“", "/", "\\", ":", "：", "，", "(", ")", "（", "）",
        "OR", "AND", "NOT", "ＯＲ", "title:", "标题：", "re:", "std::", "http://", "a", "乌克兰",
        "\\(", "\\:", "//", "x",
    ]
)  # fmt: skip
_SAMPLES = [FilterFields(title, content) for title, content in ENTRIES]


def _unquoted(term: Term) -> Term:
    """A quoted operator word is the same term as the bare word it was."""
    return Term(term.op, term.field, Kind.WORD, term.text) if term.kind is Kind.PHRASE else term


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES | st.text(max_size=3), max_size=25).map("".join))
@example("(a OR b) re:x \\(c")
def test_upgrade_reads_back_as_the_same_terms(stored: str) -> None:
    """For any text the old parser accepted, today's parser reads the upgraded text as the
    same flat list of terms, and it matches like the old list did."""
    try:
        old = parse_legacy(stored)
    except FilterSyntaxError:
        return
    new = parse(upgrade(stored), typed=False)
    assert all(isinstance(node, Term) for node in new)
    assert [_unquoted(t) for t in new if isinstance(t, Term)] == [_unquoted(t) for t in old]
    try:
        before = CompiledFilter(old, stored)
    except FilterSyntaxError:
        return  # a term the old matcher refused too (an empty term, a bad regex)
    after = compile_filter(upgrade(stored), stored=True)
    for fields in _SAMPLES:
        assert after.match(fields) == before.match(fields)
