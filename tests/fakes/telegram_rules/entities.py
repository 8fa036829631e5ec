"""Entities Telegram accepts beside a text or caption: ranges, counts, URLs, nesting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tests.fakes.telegram_rules.base import (
    ENTITY_TYPES,
    MAX_CAPTION,
    MAX_ENTITIES,
    MAX_TEXT,
    Rejected,
    parse_error,
    utf16_len,
)
from tests.fakes.telegram_rules.links import LinkError, check_link


def _splits_pair(text: str, unit: int) -> bool:
    """True when UTF-16 position ``unit`` falls between the halves of a surrogate pair."""
    position = 0
    for char in text:
        if position >= unit:
            return False
        position += 2 if ord(char) > 0xFFFF else 1
        if position > unit:
            return True
    return False


def _check_text_link(url: Any) -> None:
    """Refuse a ``text_link`` URL as the Bot API does (its field, then TDLib's check)."""
    if url is None:
        raise Rejected(400, "Bad Request: can't parse MessageEntity: Can't find field \"url\"")
    if not isinstance(url, str):
        raise Rejected(
            400, 'Bad Request: can\'t parse MessageEntity: Field "url" must be of type String'
        )
    try:
        check_link(url)
    except LinkError as error:
        raise Rejected(400, f"Bad Request: entity URL '{url}' is invalid: {error}") from None


def _check_entity(text: str, total: int, entity: Mapping[str, Any]) -> None:
    kind = entity.get("type")
    if not isinstance(kind, str) or kind not in ENTITY_TYPES:
        raise parse_error(f"Unsupported entity type {kind!r}")
    offset, length = entity.get("offset"), entity.get("length")
    if type(offset) is not int or type(length) is not int:
        raise parse_error("entity offset and length must be integers")
    if offset < 0 or length < 1:
        raise parse_error(f"Invalid entity offset {offset} or length {length}")
    if offset + length > total:
        raise parse_error(
            f"entity at offset {offset} with length {length} is beyond the end of text"
        )
    if _splits_pair(text, offset) or _splits_pair(text, offset + length):
        raise parse_error(f"entity at offset {offset} splits a UTF-16 surrogate pair")
    if kind == "text_link":
        _check_text_link(entity.get("url"))
    elif kind == "pre" and not isinstance(entity.get("language", ""), str):
        raise parse_error("pre language must be a string")
    elif kind == "text_mention" and not isinstance(entity.get("user"), Mapping):
        raise parse_error("text_mention needs a user")
    elif kind == "custom_emoji" and not str(entity.get("custom_emoji_id", "")).isdigit():
        raise parse_error("Invalid custom emoji identifier specified")


def check_entities(text: str, entities: Sequence[Mapping[str, Any]]) -> None:
    """Refuse entities Telegram would refuse (or that we promised never to send)."""
    if len(entities) > MAX_ENTITIES:
        raise parse_error(f"too many entities: {len(entities)} > {MAX_ENTITIES}")
    total = utf16_len(text)
    for entity in entities:
        if not isinstance(entity, Mapping):
            raise parse_error("entity must be an object")
        _check_entity(text, total, entity)


def check_text(text: str, entities: Sequence[Mapping[str, Any]]) -> None:
    """Check a message text after parse-mode parsing, as sendMessage and editMessageText do."""
    if not text.strip():
        raise Rejected(400, "Bad Request: message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise Rejected(400, "Bad Request: message is too long")
    check_entities(text, entities)


def check_caption(caption: str, entities: Sequence[Mapping[str, Any]]) -> None:
    """Check a media caption; an empty caption is allowed."""
    if utf16_len(caption) > MAX_CAPTION:
        raise Rejected(400, "Bad Request: message caption is too long")
    check_entities(caption, entities)


_STYLES = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
_QUOTES = frozenset({"blockquote", "expandable_blockquote"})


def nesting_problem(entities: Sequence[Mapping[str, Any]]) -> str | None:
    """Why these entities break the Bot API's nesting rules, or None when they keep them.

    Telegram does not refuse such a message: it silently drops entities to make them
    fit, which may be the title's link. Tests use this to prove we never rely on that.
    """
    spans = [(int(e["offset"]), int(e["offset"] + e["length"]), str(e["type"])) for e in entities]
    for index, (a_start, a_end, a_type) in enumerate(spans):
        for b_start, b_end, b_type in spans[index + 1 :]:
            if a_end <= b_start or b_end <= a_start:
                continue
            if a_start <= b_start and b_end <= a_end:
                outer, inner = a_type, b_type
            elif b_start <= a_start and a_end <= b_end:
                outer, inner = b_type, a_type
            else:
                return f"{a_type} and {b_type} cross"
            if outer in {"code", "pre"} or outer == inner:
                return f"{inner} inside {outer}"
            if outer in _STYLES or inner in _STYLES:
                continue
            if outer in _QUOTES and inner in _QUOTES:
                return f"{inner} inside {outer}"
            if outer not in _QUOTES and inner not in _QUOTES:
                return f"{inner} inside {outer}"
    return None
