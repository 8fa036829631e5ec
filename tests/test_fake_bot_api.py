"""The fake Telegram must refuse what Telegram refuses; these tests prove it is strict."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.telegram_rules import (
    Rejected,
    check_caption,
    check_entities,
    check_text,
    parse_html,
    utf16_len,
)

_PARSE = "Bad Request: can't parse entities: "


@pytest.mark.parametrize(
    ("text", "units"),
    [("", 0), ("abc", 3), ("中文", 2), ("😀", 2), ("a😀b", 4), ("🏟 🏟", 5)],
)
def test_utf16_len_counts_code_units(text: str, units: int) -> None:
    """Astral characters count as two units, everything else as one."""
    assert utf16_len(text) == units


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("<b>x</b>y", "xy", [{"type": "bold", "offset": 0, "length": 1}]),
        ("😀<i>中</i>", "😀中", [{"type": "italic", "offset": 2, "length": 1}]),
        (
            "<i>a<b>b</b></i>",
            "ab",
            [
                {"type": "italic", "offset": 0, "length": 2},
                {"type": "bold", "offset": 1, "length": 1},
            ],
        ),
        ("&lt;&gt;&amp;&quot;&#39;&#x1F600;", "<>&\"'😀", []),
        ("&nbsp;&laquo;&#12345678;", "&nbsp;&laquo;&#12345678;", []),
        ("&ltx &lt🏟", "&ltx <🏟", []),
        (
            '<a href="https://e.org/a?b=1&amp;c=2">l</a>',
            "l",
            [{"type": "text_link", "offset": 0, "length": 1, "url": "https://e.org/a?b=1&c=2"}],
        ),
        (
            "<a href=e.org>l</a>",
            "l",
            [{"type": "text_link", "offset": 0, "length": 1, "url": "http://e.org/"}],
        ),
        ('<a href="javascript:alert(1)">l</a>', "l", []),
        (
            '<pre><code class="language-py">x</code></pre>',
            "x",
            [{"type": "pre", "offset": 0, "length": 1, "language": "py"}],
        ),
        ('<code class="language-py">x</code>', "x", [{"type": "code", "offset": 0, "length": 1}]),
        ("<blockquote>q</blockquote>", "q", [{"type": "blockquote", "offset": 0, "length": 1}]),
        (
            "<blockquote expandable>q</blockquote>",
            "q",
            [{"type": "expandable_blockquote", "offset": 0, "length": 1}],
        ),
        ('<span class="tg-spoiler">s</span>', "s", [{"type": "spoiler", "offset": 0, "length": 1}]),
        ("<tg-spoiler>s</tg-spoiler>", "s", [{"type": "spoiler", "offset": 0, "length": 1}]),
        (
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            "👍",
            [
                {
                    "type": "custom_emoji",
                    "offset": 0,
                    "length": 2,
                    "custom_emoji_id": "5368324170671202286",
                }
            ],
        ),
        ("<S>x</s>", "x", [{"type": "strikethrough", "offset": 0, "length": 1}]),
        ("<b></b>x", "x", []),
        ("<i>a</>", "a", [{"type": "italic", "offset": 0, "length": 1}]),
    ],
)
def test_parse_html_accepts_telegram_html(
    html: str, text: str, entities: list[dict[str, Any]]
) -> None:
    """Supported markup becomes text plus entities with UTF-16 offsets."""
    assert parse_html(html) == (text, entities)


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("Hello world <p>x</p>", 'Unsupported start tag "p" at byte offset 12'),
        ("中文<p>x</p>", 'Unsupported start tag "p" at byte offset 6'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("😀 <b", "Unclosed start tag at byte offset 5"),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<i>x</em>", 'Unmatched end tag at byte offset 4, expected "</i>", found "</em>"'),
        ("<S>x</S>", 'Unmatched end tag at byte offset 4, expected "</s>", found "</S>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            "<i aba>x</i>",
            'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 0',
        ),
        ("<i =x>x</i>", 'Empty attribute name in the tag "i" at byte offset 0'),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
        (
            "&#xD83D;",
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units",
        ),
    ],
)
def test_parse_html_refuses_like_telegram(html: str, detail: str) -> None:
    """Bad markup is refused with Telegram's wording and UTF-8 byte offsets."""
    with pytest.raises(Rejected) as caught:
        parse_html(html)
    assert (caught.value.code, caught.value.description) == (400, _PARSE + detail)


@pytest.mark.parametrize(
    "entity",
    [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "bold", "offset": 2, "length": 3},
        {"type": "text_link", "offset": 0, "length": 1, "url": "tg://user?id=1"},
        {"type": "text_link", "offset": 0, "length": 1, "url": "mailto:a@b.c"},
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
    ],
)
def test_check_entities_accepts_valid_entities(entity: dict[str, Any]) -> None:
    """Entities inside the text with sound fields pass."""
    check_entities("ab😀c", [entity])


@pytest.mark.parametrize(
    ("entity", "fragment"),
    [
        ({"type": "boldish", "offset": 0, "length": 1}, "Unsupported entity type"),
        ({"type": "bold", "offset": -1, "length": 1}, "Invalid entity offset"),
        ({"type": "bold", "offset": 0, "length": 0}, "Invalid entity offset"),
        ({"type": "bold", "offset": 0, "length": 6}, "beyond the end of text"),
        ({"type": "bold", "offset": "0", "length": 1}, "must be integers"),
        ({"type": "bold", "offset": 0, "length": True}, "must be integers"),
        ({"type": "bold", "offset": 3, "length": 1}, "surrogate pair"),
        ({"type": "bold", "offset": 0, "length": 3}, "surrogate pair"),
        ({"type": "text_link", "offset": 0, "length": 1}, "Wrong URL"),
        ({"type": "text_link", "offset": 0, "length": 1, "url": "javascript:x"}, "Wrong URL"),
        ({"type": "pre", "offset": 0, "length": 1, "language": 3}, "language"),
    ],
)
def test_check_entities_refuses_bad_entities(entity: dict[str, Any], fragment: str) -> None:
    """Out-of-range, split-surrogate, unknown or malformed entities are refused."""
    with pytest.raises(Rejected) as caught:
        check_entities("ab😀c", [entity])
    assert caught.value.code == 400
    assert caught.value.description.startswith(_PARSE)
    assert fragment in caught.value.description


def test_check_entities_caps_the_count_at_100() -> None:
    """A hundred entities pass and the hundred-and-first is refused."""
    text = "x" * 101
    entities = [{"type": "bold", "offset": i, "length": 1} for i in range(101)]
    check_entities(text, entities[:100])
    with pytest.raises(Rejected, match="too many entities"):
        check_entities(text, entities)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("", "Bad Request: message text is empty"),
        (" \n\t", "Bad Request: message text is empty"),
        ("x" * 4097, "Bad Request: message is too long"),
        ("😀" * 2049, "Bad Request: message is too long"),
    ],
)
def test_check_text_limits(text: str, description: str) -> None:
    """Empty and over-long texts are refused with Telegram's words."""
    with pytest.raises(Rejected) as caught:
        check_text(text, [])
    assert caught.value.description == description


def test_check_text_accepts_the_maximum() -> None:
    """Exactly 4096 UTF-16 units is allowed."""
    check_text("😀" * 2048, [{"type": "bold", "offset": 4094, "length": 2}])


def test_check_caption_limits() -> None:
    """Captions may be empty, hold 1024 units, and no more."""
    check_caption("", [])
    check_caption("中" * 1024, [])
    with pytest.raises(Rejected, match="message caption is too long"):
        check_caption("中" * 1025, [])
    with pytest.raises(Rejected, match="beyond the end"):
        check_caption("ab", [{"type": "bold", "offset": 1, "length": 2}])
