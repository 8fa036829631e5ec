"""Cutting to a UTF-16 budget at sentence, word or safe character boundaries."""

# Full-width CJK punctuation and typographic dashes are the data under test here.

from __future__ import annotations

import pytest

from bot.render import utf16_len
from bot.render.cut import cut, cut_plain, fit
from bot.render.rich import Rich, Span


@pytest.mark.parametrize(
    ("text", "budget", "expected"),
    [
        (
            "今天天气很好。我们去公园玩吧！然后回家吃饭吃饭吃饭吃饭",
            20,
            "今天天气很好。我们去公园玩吧！…",
        ),
        (
            "他说：「天气很好，我们出去吧。」然后走了，走了很远很远",
            20,
            "他说：「天气很好，我们出去吧。」…",
        ),
        (
            "A sentence that ends here. Then another that goes on and on",
            40,
            "A sentence that ends here.…",
        ),
        (
            "Early. Then a long tail of words without any sentence end",
            40,
            "Early. Then a long tail of words…",
        ),
        ("Latin words without any sentence end goes on and on", 30, "Latin words without any…"),
        ("中文没有标点也没有空格一直写下去一直写下去", 10, "中文没有标点也没有…"),
        ("short", 10, "short"),
        ("anything", 0, ""),
    ],
)
def test_cut_plain(text: str, budget: int, expected: str) -> None:
    """The cut prefers a sentence end (CJK ones too), then a space, then a character."""
    assert cut_plain(text, budget) == expected
    assert utf16_len(cut_plain(text, budget)) <= budget


def test_emoji_surrogate_pairs_count_twice() -> None:
    """An astral emoji is two UTF-16 units and is never split."""
    text = "ab" + "😀" * 10
    out = cut_plain(text, 8)
    assert out == "ab😀😀…"
    assert utf16_len(out) == 7


def test_zwj_sequence_is_not_split() -> None:
    """A ZWJ emoji sequence is dropped whole rather than cut in the middle."""
    woman_redhead = "👩\u200d🦰"
    out = cut_plain("x" + woman_redhead * 3, 9)
    assert out == "x" + woman_redhead + "…"


def test_flag_and_skin_tone_are_not_split() -> None:
    """Regional-indicator pairs and skin-tone modifiers stay with their base."""
    assert cut_plain("a" + "🇨🇳" * 3, 8) == "a🇨🇳…"
    assert cut_plain("a" + "👋🏻" * 3, 8) == "a👋🏻…"


def test_spans_are_clipped_and_empty_ones_removed() -> None:
    """Spans crossing the cut end at it; spans after it disappear."""
    rich = Rich("Hello world. More text here", (Span("bold", 6, 20), Span("italic", 13, 17)))
    out = cut(rich, 14)
    assert out.text == "Hello world.…"
    assert out.spans == (Span("bold", 6, 12),)


def test_fit_counts_units() -> None:
    """fit returns the longest code-point prefix within a UTF-16 budget."""
    assert fit("a😀b", 2) == 1
    assert fit("a😀b", 3) == 2
    assert fit("abc", 10) == 3
