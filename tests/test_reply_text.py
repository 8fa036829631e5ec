"""Reply text safe by construction: values shown clean and bounded, replies split where they may.

``bot.i18n.values`` cleans and cuts every user- or feed-supplied string; ``bot.commands
.splitting`` cuts a reply into messages the fake Bot API (Telegram's rules) accepts.
"""

from __future__ import annotations

import string
from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands.splitting import MAX_PARTS, NOTICE_ROOM, split_reply, text_units
from bot.i18n import t
from bot.i18n.texts import EN, ZH, Plural
from bot.i18n.values import TITLE_UNITS, URL_UNITS, shown
from tests.fakes.telegram_rules import MAX_ENTITIES, MAX_TEXT, check_text, parse_html, utf16_len

RLO = "\u202e"


@pytest.mark.parametrize(
    ("raw", "limit", "expected"),
    [
        ("Plain title", 200, "Plain title"),
        (f"Evil{RLO}txt.exe", 200, "Eviltxt.exe"),
        ("a\u2066b\u200fc\x00d\ufeffe", 200, "abcde"),
        ("two\nlines\t and  spaces ", 200, "two lines and spaces"),
        ("word " * 100, 20, "word word word…"),
        ("x" * 500, 10, "xxxxxxxxx…"),
        ("😀" * 10, 5, "😀😀…"),
    ],
)
def test_shown(raw: str, limit: int, expected: str) -> None:
    """Controls and bidi marks go, whitespace folds, a cut ends in an ellipsis within the limit."""
    assert shown(raw, limit) == expected
    assert utf16_len(shown(raw, limit)) <= limit


def test_template_values_are_shown_and_escaped() -> None:
    """``t`` cleans, bounds (titles 200, other values 300 units) and escapes every value."""
    text = t("en", "sub_ok", title=f"<b>{RLO}" + "t" * 10_000, number=3)
    assert RLO not in text
    assert "&lt;b&gt;" in text
    assert utf16_len(text) < TITLE_UNITS + 60
    failed = t("en", "sub_failed", url="u" * 10_000, reason="r" * 10_000)
    assert utf16_len(failed) <= 2 * URL_UNITS + 10


@pytest.mark.parametrize(("lang", "table"), [("en", EN), ("zh", ZH)])
def test_every_template_line_is_balanced_html(lang: str, table: dict[str, str | Plural]) -> None:
    """Each line of each reply text parses alone, so a reply may be split after any line."""
    for key, template in table.items():
        forms = [template.one, template.other] if isinstance(template, Plural) else [template]
        names = {n for form in forms for _, n, _, _ in string.Formatter().parse(form) if n}
        values: dict[str, object] = dict.fromkeys(names, "x <&> y")
        for count in (1, 2):
            text = t(lang, key, **{**values, "count": count})
            for line in text.split("\n"):
                if line.strip():
                    parse_html(line)  # raises Rejected for a line that is not balanced


def _accepted(part: str) -> None:
    text, entities = parse_html(part)
    check_text(text, entities)


def test_split_keeps_lines_whole_and_counts_entities() -> None:
    """Lines with one link each: no message holds more than 100 entities or 4096 units."""
    lines = [f'#{n} <a href="https://e.org/{n}">Feed {n}</a>' for n in range(250)]
    parts, left_out = split_reply("\n".join(lines))
    assert left_out == 0
    assert len(parts) == 3
    for part in parts:
        _accepted(part)
        assert len(parse_html(part)[1]) <= MAX_ENTITIES
    assert "\n".join(parts).split("\n") == lines


def test_split_leaves_out_what_three_messages_cannot_hold() -> None:
    """Past three messages, lines are counted as left out and room stays for the notice."""
    lines = [f"<b>{n}</b> " + "w " * 500 for n in range(40)]
    parts, left_out = split_reply("\n".join(lines))
    assert len(parts) == MAX_PARTS
    kept = sum(len(part.split("\n")) for part in parts)
    assert kept + left_out == len(lines)
    assert text_units(parts[-1]) <= MAX_TEXT - NOTICE_ROOM
    for part in parts:
        _accepted(part)


def test_a_line_too_long_for_one_message_is_cut_as_plain_text() -> None:
    """One line over the limit loses its markup and is cut with an ellipsis, never broken."""
    line = "<b>Title</b> " + escape("<tag> & " * 2000, quote=False)
    [part], left_out = split_reply(line)
    assert left_out == 0
    assert part.endswith("…")
    assert "<b>" not in part
    _accepted(part)


def test_blank_parts_are_skipped() -> None:
    """A reply of blank lines sends nothing rather than an empty message Telegram refuses."""
    assert split_reply("\n \n") == ([], 0)


_SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=400
)
_LINE = st.one_of(
    _SAFE_TEXT.map(lambda text: escape(text, quote=False)),
    _SAFE_TEXT.map(lambda text: f"<b>{escape(text, quote=False)}</b>"),
    st.tuples(_SAFE_TEXT, st.integers(0, 9)).map(
        lambda pair: f'<a href="https://e.org/{pair[1]}">{escape(pair[0], quote=False)}x</a>'
    ),
)


@given(st.lists(_LINE, max_size=300))
def test_every_part_is_accepted(lines: list[str]) -> None:
    """Whatever balanced lines a reply has, each message it becomes passes Telegram's checks,
    and the lines kept are the reply's first lines, in order."""
    parts, left_out = split_reply("\n".join(lines))
    assert len(parts) <= MAX_PARTS
    for part in parts:
        _accepted(part)
    kept = "\n".join(parts).split("\n") if parts else []
    assert kept == lines[: len(kept)]
    if parts:
        assert len(kept) + left_out == len(lines)
