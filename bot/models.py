"""Plain frozen records passed between the pipeline stages.

Nothing here does I/O; every stage takes and returns these, so each stage can be
tested with literal values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed entry, as parsed, before any rendering."""

    key: str
    """Stable dedupe key: guid/id, else link, else a hash of title and summary."""
    title: str
    """Plain text title (feedparser already decoded entities; may be empty)."""
    link: str
    """Absolute URL of the entry, or "" when the feed gives none."""
    content_html: str = ""
    """The richest body the feed gives (content, else summary), as HTML."""
    author: str = ""
    tags: tuple[str, ...] = ()
    published: datetime | None = None
    """Timezone-aware UTC time, or None when the feed gives no date."""
    images: tuple[str, ...] = ()
    """Absolute image URLs from enclosures, media:content and media:thumbnail, in order."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed document."""

    title: str
    link: str
    """The site's home page, if the feed names one."""
    entries: tuple[Entry, ...]
    """In document order (for most feeds, newest first)."""
    language: str = ""


class SummaryMode(StrEnum):
    """How much of an entry's body a message carries."""

    FULL = "full"
    SHORT = "short"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class DisplayOptions:
    """Per-subscription display choices, set with /set."""

    pictures: bool = True
    link_preview: bool = True
    summary: SummaryMode = SummaryMode.SHORT


@dataclass(frozen=True, slots=True)
class MessageEntity:
    """A Telegram message entity; offset and length count UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What the delivery worker sends for one entry to one chat.

    With ``photo_urls`` empty it is a text message; with one URL, a photo whose
    caption is ``text``; with two to ten, a media group whose first item carries
    the caption. ``plain_text`` is the last resort when Telegram rejects the rich form.
    """

    text: str
    entities: tuple[MessageEntity, ...] = ()
    photo_urls: tuple[str, ...] = ()
    link_preview_url: str | None = None
    """The URL to preview, or None to disable the link preview."""
    plain_text: str = ""
    """Title and link only, no entities: sent once if the rich message is refused."""


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed row: one per distinct URL, shared by every subscriber."""

    id: int
    url: str
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_error: str | None = None
    error_count: int = 0
    interval_seconds: int = 300
    next_fetch_at: float = 0.0
    """Unix time at which the feed is next due."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A chat (or forum topic) following a feed."""

    id: int
    """Unique across the bot; shown to users per chat as #N via ``number``."""
    chat_id: int
    feed_id: int
    number: int
    """Small per-chat number that users type (#3)."""
    thread_id: int | None = None
    filter_expr: str = ""
    paused: bool = False
    options: DisplayOptions = field(default_factory=DisplayOptions)
    title: str = ""
    """The feed's title, joined in for listings."""
    url: str = ""
    """The feed's URL, joined in for listings."""
    last_error: str | None = None
