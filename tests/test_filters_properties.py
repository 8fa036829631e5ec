"""Property tests: the parser fails only with FilterSyntaxError, and canonical text round-trips
(operators, groups and escapes included)."""

# full-width operators and quotes are what these tests feed in

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.filters import CompiledFilter, FilterFields, FilterSyntaxError, compile_filter
from bot.filters.syntax import ERROR_CODES, parse

# Pieces that exercise every branch of the grammar, mixed with arbitrary text.
_PIECES = st.sampled_from(
    [
        " ", "+", "-", "＋", "－", '"', "“", "”", "/", "\\", ":", "：", "，", "、",
        "title:", "tag:", "author:", "标题:", "http:", "(", ")", "[", "*", "?", "{2}",
        "a", "nato", "乌克兰", "烏克蘭", "ＮＡＴＯ", "35", "\u200b", "\t", "\n", "$",
        "（", "）", " OR ", " AND ", "NOT ", "ＯＲ", "or", "\\(", "\\:", "re:", "std::", "-(",
        "title:(", "(NOT ",
    ]
)  # fmt: skip
_EXPRESSIONS = st.lists(_PIECES | st.text(max_size=4), max_size=30).map("".join)

_SAMPLES = (
    FilterFields("NATO summit in 烏克蘭", "content about 体育 and F-35 战机", "Jane", ("World",)),
    FilterFields("乌克兰 a/b", 'http://x title: "quoted" tag', "nato", ("sport", "体育")),
    FilterFields("", "", "", ()),
    FilterFields("aaa", "+-/ ：“”", "", ("35",)),
)


def _compile_or_none(expr: str) -> CompiledFilter | None:
    """Compile, returning None only for a FilterSyntaxError (anything else propagates)."""
    try:
        return compile_filter(expr)
    except FilterSyntaxError as exc:
        error = exc
    assert "\n" not in str(error)
    assert 1 <= error.position <= len(expr) + 1
    assert error.code in ERROR_CODES
    return None


@settings(max_examples=400, deadline=None)
@given(_EXPRESSIONS)
@example('title:"a b" +/x\\/y/ -http://z ＋标题：烏克蘭')
@example("(a OR b\\)) AND NOT -title:(c d) F\\(x\\:")
@example("orＮＡＴＯ(NOT \\，)\\\\([")  # a word ending in \\ just before a closing parenthesis
def test_parser_raises_only_syntax_errors_and_round_trips(expr: str) -> None:
    """Any input compiles or raises FilterSyntaxError; the canonical text means the same."""
    compiled = _compile_or_none(expr)
    if compiled is None:
        return
    again = compile_filter(compiled.expression, stored=True)
    assert again.expression == compiled.expression
    assert parse(compiled.expression, typed=False) == compiled.clauses
    assert again.describe() == compiled.describe()
    assert again.describe("zh") == compiled.describe("zh")
    for fields in _SAMPLES:
        assert again.match(fields) == compiled.match(fields)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(expr: str) -> None:
    """Arbitrary Unicode never raises anything but FilterSyntaxError, and matching is safe."""
    compiled = _compile_or_none(expr)
    if compiled is not None:
        for fields in _SAMPLES:
            assert isinstance(compiled.match(fields).passed, bool)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(min_size=1, max_size=8))
def test_term_found_in_its_own_text(text: str, word: str) -> None:
    """A quoted phrase taken from a text's words always finds that text."""
    words = (text + " " + word).split()
    phrase = " ".join(
        w for w in words if '"' not in w and "“" not in w and "”" not in w and "＂" not in w
    )
    compiled = _compile_or_none(f'"{phrase}"')
    if compiled is not None and phrase:
        assert compiled.match(FilterFields(title=phrase, content="")).passed
