"""Property tests: hostile HTML and Unicode never raise and never break Telegram's limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import DisplayOptions, Entry, MessageEntity, SummaryMode
from bot.render import detect_boilerplate, format_for_terminal, html_to_plain, render_entry
from bot.render import utf16_len as our_utf16_len
from bot.render.cut import cut
from bot.render.html import html_to_rich
from bot.render.rich import Rich, Span
from tests.fakes.telegram_rules import check_caption, check_text, nesting_problem, utf16_len
from tests.test_render_corpus import bot_api

TAGS = ["p", "b", "i", "a", "pre", "code", "ul", "ol", "li", "table", "td", "script", "style",
        "blockquote", "br", "hr", "img", "h1", "div", "svg", "noscript", "sup", "!--",
        "![CDATA["]  # fmt: skip
ATTRS = ['', ' href="javascript:x"', ' href="/rel"', ' href="https://a.b/c d"', ' src="x.jpg"',
         ' class="language-py"', ' href="http://[::1"', ' width="1"',
         " href='mailto:x@y'"]  # fmt: skip
TRICKY = ["&nbsp;", "&#0;", "&#xD800;", "&#x202E;", "&amp;", "&", "<", ">", "😀", "👩\u200d🦰",
          "🇨🇳", "\u202e", "\x00", "\x1b", "。", ". ", "\n", " ", "中文", "é", "\ud800"]  # fmt: skip

fragment = st.one_of(
    st.builds(lambda t, a: f"<{t}{a}>", st.sampled_from(TAGS), st.sampled_from(ATTRS)),
    st.builds(lambda t: f"</{t}>", st.sampled_from(TAGS)),
    st.sampled_from(TRICKY),
    st.text(max_size=30),
)
html_soup = st.lists(fragment, max_size=60).map("".join)
all_options = st.builds(
    DisplayOptions,
    pictures=st.booleans(),
    album=st.booleans(),
    link_preview=st.booleans(),
    summary=st.sampled_from(SummaryMode),
)


def assert_entities_valid(text: str, entities: tuple[MessageEntity, ...]) -> None:
    """Offsets and lengths lie inside the text and fall on code-point boundaries."""
    units = {0}
    position = 0
    for char in text:
        position += 2 if ord(char) > 0xFFFF else 1
        units.add(position)
    for e in entities:
        assert e.length > 0
        assert e.offset in units
        assert e.offset + e.length in units


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.one_of(st.text(max_size=400), html_soup),
    body=html_soup,
    link=st.one_of(st.just("https://example.com/a/b"), st.text(max_size=50), st.just("")),
    feed_title=st.text(max_size=300),
    tags=st.lists(st.text(max_size=40), max_size=8),
    alerts=st.lists(st.text(max_size=60), max_size=8),
    options=all_options,
)
def test_any_entry_renders_within_limits(
    *,
    title: str,
    body: str,
    link: str,
    feed_title: str,
    tags: list[str],
    alerts: list[str],
    options: DisplayOptions,
) -> None:
    """Whatever the entry holds, the message is one Telegram accepts."""
    entry = Entry(
        key="k",
        title=title,
        link=link,
        content_html=body * 20,
        tags=tuple(tags),
        published=datetime(2024, 5, 1, tzinfo=UTC),
        images=("https://i.example.com/x.jpg",) if len(body) % 2 else (),
    )
    boilerplate = detect_boilerplate([entry, entry])
    message = render_entry(
        entry, feed_title=feed_title, options=options, alert_terms=alerts, boilerplate=boilerplate
    )
    check_text(message.text, bot_api(message.entities))
    assert nesting_problem(bot_api(message.entities)) is None
    assert_entities_valid(message.text, message.entities)
    check_text(message.plain_text, [])
    if message.photo_urls:
        check_caption(message.caption, bot_api(message.caption_entities))
        assert_entities_valid(message.caption, message.caption_entities)
    assert "\x1b" not in format_for_terminal(message).replace("\x1b[", "")


@settings(max_examples=300, deadline=None)
@given(html=html_soup)
def test_converter_and_plain_never_raise(html: str) -> None:
    """Tag soup converts, spans stay inside the text, and plain text has no markup left."""
    rich = html_to_rich(html, base="https://e.com/x")
    for span in rich.spans:
        assert 0 <= span.start < span.end <= len(rich.text)
    plain = html_to_plain(html)
    assert "\x00" not in plain
    assert "\u202e" not in plain


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(min_size=1, max_size=300), budget=st.integers(0, 400), cut_at=st.integers(0, 300)
)
def test_cut_respects_budget_and_spans(text: str, budget: int, cut_at: int) -> None:
    """A cut never exceeds its budget and leaves spans inside the text."""
    rich = Rich(text, (Span("bold", 0, max(1, min(cut_at, len(text)))),))
    out = cut(rich, budget)
    assert utf16_len(out.text) <= budget
    assert our_utf16_len(out.text) == utf16_len(out.text)
    for span in out.spans:
        assert 0 <= span.start < span.end <= len(out.text)


def test_hostile_megabytes_stay_cheap() -> None:
    """Unclosed-tag and tag floods render in linear time (a quadratic scan would take minutes)."""
    floods = [
        "<p " * 300_000,
        "<a>" * 300_000,
        "<img " * 200_000,
        "<hr " * 200_000,
        "<" * 1_000_000,
    ]
    started = time.perf_counter()
    for html in floods:
        entry = Entry(key="k", title="t", link="https://e.com/", content_html=html)
        message = render_entry(
            entry, feed_title="F", boilerplate=detect_boilerplate([entry, entry])
        )
        check_text(message.text, bot_api(message.entities))
        html_to_plain(html)
    assert time.perf_counter() - started < 10
