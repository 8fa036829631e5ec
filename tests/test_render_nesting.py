"""HTML nests anything, Telegram entities may not: only nestings Telegram allows are kept."""

from __future__ import annotations

import pytest

from bot.models import Entry
from bot.render import render_entry
from bot.render.nesting import nestable
from bot.render.rich import Span
from tests.fakes.telegram_rules import nesting_problem


def _kinds(spans: list[Span]) -> list[tuple[str, int, int]]:
    return [(s.type, s.start, s.end) for s in spans]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ([Span("bold", 0, 5), Span("bold", 3, 8)], [("bold", 0, 8)]),
        ([Span("code", 0, 9), Span("text_link", 2, 4, url="https://x.example/")], [("code", 0, 9)]),
        ([Span("code", 0, 9), Span("italic", 2, 4)], [("code", 0, 9)]),
        ([Span("text_link", 0, 9, url="https://x.example/"), Span("code", 2, 4)],
         [("text_link", 0, 9)]),
        ([Span("bold", 0, 9), Span("code", 2, 4)], [("bold", 0, 9), ("code", 2, 4)]),
        ([Span("blockquote", 0, 9), Span("blockquote", 2, 4)], [("blockquote", 0, 9)]),
        ([Span("blockquote", 0, 9), Span("pre", 2, 4)], [("blockquote", 0, 9), ("pre", 2, 4)]),
        ([Span("underline", 0, 5), Span("text_link", 3, 8, url="https://x.example/")],
         [("underline", 0, 5)]),
    ],
)  # fmt: skip
def test_nestable(given: list[Span], kept: list[tuple[str, int, int]]) -> None:
    """Same styles merge; nothing stays inside code; links and quotes do not nest; no crossing."""
    assert _kinds(nestable(given)) == kept


def test_link_inside_code_in_a_real_entry() -> None:
    """A feed's <code><a></a></code> renders to entities Telegram keeps as sent."""
    entry = Entry(
        key="k",
        title="T",
        link="https://news.example/t",
        content_html='<p>Run <code>pip <a href="https://pypi.org/">install</a> x</code> '
        "<b>bold <b>again</b></b></p>",
    )
    message = render_entry(entry, feed_title="F")
    as_json = [{"type": e.type, "offset": e.offset, "length": e.length} for e in message.entities]
    assert nesting_problem(as_json) is None
    assert any(e.type == "code" for e in message.entities)
