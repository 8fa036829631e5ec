"""The terminal view used by `newsrelay preview`."""

from __future__ import annotations

from bot.models import MessageEntity, OutgoingMessage
from bot.render import format_for_terminal


def test_styles_links_and_emoji_offsets() -> None:
    """Bold and links become ANSI codes at the right places, after UTF-16 offset mapping."""
    message = OutgoingMessage(
        text="😀 Title\nbody",
        entities=(
            MessageEntity("bold", 3, 5),
            MessageEntity("text_link", 3, 5, url="https://e.com/"),
        ),
    )
    shown = format_for_terminal(message)
    assert shown == "😀 \x1b[1;4;34mTitle\x1b[0m \x1b[2m<https://e.com/>\x1b[0m\nbody"


def test_photo_lines_then_caption() -> None:
    """A photo message shows its picture URLs, then the caption rather than the text."""
    message = OutgoingMessage(
        text="long text", photo_urls=("https://i/1.jpg", "https://i/2.jpg"), caption="cap"
    )
    assert format_for_terminal(message) == "🖼 https://i/1.jpg\n🖼 https://i/2.jpg\ncap"


def test_escape_sequences_in_text_are_removed() -> None:
    """A feed cannot drive the terminal with its own escape codes."""
    assert format_for_terminal(OutgoingMessage(text="a\x1b[2Jb")) == "a[2Jb"
