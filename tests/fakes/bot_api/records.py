"""What the fake records for tests to inspect: accepted sends and edits, refusals, calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class SentMessage:
    """One accepted send (or edit), as the bot asked for it after parse-mode parsing."""

    method: str
    chat_id: int
    message_id: int
    message_thread_id: int | None = None
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    """Photo URLs, or ``upload:<filename>`` for uploaded bytes; several for a media group."""
    media: list[JSON] = field(default_factory=list)
    """Media group items as parsed (type, media, caption, caption_entities)."""
    message_ids: list[int] = field(default_factory=list)
    link_preview_options: JSON | None = None
    reply_markup: JSON | None = None
    parse_mode: str | None = None
    document_name: str | None = None
    document_bytes: bytes | None = None


@dataclass(frozen=True)
class Refusal:
    """One call the fake refused, with Telegram's code and description."""

    method: str
    chat_id: int | None
    code: int
    description: str


@dataclass(frozen=True)
class Call:
    """Every call that reached a known method, accepted or not."""

    method: str
    params: JSON
