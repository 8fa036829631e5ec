"""JSON forms of OutgoingMessage and DisplayOptions, as stored in the database.

Decoding is tolerant of missing and unknown keys so that rows written by an older
or newer version still load: a missing field takes the record's default. Text is
written with ASCII escapes, so even a lone surrogate from a hostile feed survives
the trip through SQLite's UTF-8.
"""

from __future__ import annotations

import json
from typing import Any

from bot.models import DisplayOptions, MessageEntity, OutgoingMessage, SummaryMode


class CodecError(ValueError):
    """A stored payload is not a JSON object of the expected shape."""


def _entity_to_dict(entity: MessageEntity) -> dict[str, Any]:
    data: dict[str, Any] = {"type": entity.type, "offset": entity.offset, "length": entity.length}
    if entity.url is not None:
        data["url"] = entity.url
    if entity.language is not None:
        data["language"] = entity.language
    return data


def _entity_from_dict(data: Any) -> MessageEntity:
    if not isinstance(data, dict):
        raise CodecError(f"entity is not an object: {data!r}")
    try:
        return MessageEntity(
            type=str(data["type"]),
            offset=int(data["offset"]),
            length=int(data["length"]),
            url=None if data.get("url") is None else str(data["url"]),
            language=None if data.get("language") is None else str(data["language"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"bad entity {data!r}") from exc


def _object(text: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CodecError("payload is not JSON") from exc
    if not isinstance(data, dict):
        raise CodecError("payload is not a JSON object")
    return data


def _entities(value: Any) -> tuple[MessageEntity, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise CodecError("entities is not a list")
    return tuple(_entity_from_dict(item) for item in value)


def encode_message(message: OutgoingMessage) -> str:
    """Serialise every field of an outgoing message."""
    return json.dumps(
        {
            "text": message.text,
            "entities": [_entity_to_dict(e) for e in message.entities],
            "link_preview_url": message.link_preview_url,
            "photo_urls": list(message.photo_urls),
            "caption": message.caption,
            "caption_entities": [_entity_to_dict(e) for e in message.caption_entities],
            "plain_text": message.plain_text,
        },
        ensure_ascii=True,
        separators=(",", ":"),
    )


def decode_message(text: str | bytes) -> OutgoingMessage:
    """Rebuild an outgoing message; raises CodecError on a payload of the wrong shape."""
    data = _object(text)
    preview = data.get("link_preview_url")
    photos = data.get("photo_urls") or []
    if not isinstance(photos, list):
        raise CodecError("photo_urls is not a list")
    return OutgoingMessage(
        text=str(data.get("text", "")),
        entities=_entities(data.get("entities")),
        link_preview_url=None if preview is None else str(preview),
        photo_urls=tuple(str(p) for p in photos),
        caption=str(data.get("caption", "")),
        caption_entities=_entities(data.get("caption_entities")),
        plain_text=str(data.get("plain_text", "")),
    )


def encode_options(options: DisplayOptions) -> str:
    """Serialise display options."""
    return json.dumps(
        {
            "pictures": options.pictures,
            "album": options.album,
            "link_preview": options.link_preview,
            "summary": options.summary.value,
        },
        separators=(",", ":"),
    )


def decode_options(text: str | bytes | None) -> DisplayOptions:
    """Rebuild display options; missing, unknown or ill-typed keys fall back to defaults."""
    default = DisplayOptions()
    if not text:
        return default
    try:
        data = _object(text)
    except CodecError:
        return default

    def flag(name: str, fallback: bool) -> bool:
        value = data.get(name)
        return value if isinstance(value, bool) else fallback

    try:
        summary = SummaryMode(data.get("summary", default.summary.value))
    except ValueError:
        summary = default.summary
    return DisplayOptions(
        pictures=flag("pictures", default.pictures),
        album=flag("album", default.album),
        link_preview=flag("link_preview", default.link_preview),
        summary=summary,
    )
