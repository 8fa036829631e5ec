"""Telegram's limits and the refusal every rule raises."""

from __future__ import annotations

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_ENTITIES = 100

PARSE_PREFIX = "Bad Request: can't parse entities: "
SPACE = " \t\r\n\v\f"
TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "date_time",
    }
)
URL_PART_CHARS = frozenset(".-_!$,~*'();&+=")


class Rejected(Exception):  # noqa: N818 -- the name is the shared contract other tests import
    """Telegram refused a call; code and description exactly as the Bot API answers."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, int] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units, so astral characters count twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def parse_error(detail: str) -> Rejected:
    """The 400 Telegram answers for text or entities it cannot parse."""
    return Rejected(400, PARSE_PREFIX + detail)
