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
    """Stable dedupe key: guid/id, else normalised link, else a hash of title and summary
    (the first that no other item of the document shares; see ``bot.feeds.identity``)."""
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
    aliases: tuple[str, ...] = ()
    """Other spellings of ``key`` this item may have been recorded under: seen if any is."""
    fallback_keys: tuple[str, ...] = ()
    """Weaker candidate keys, recorded with the item so that it is still known when a
    later document makes its key ambiguous; never consulted for this item itself."""


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
    album: bool = False
    """Send up to ten pictures as a media group instead of the first one alone."""
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

    The text form is always there. With one photo URL the message goes out as a
    photo with ``caption``; with two to ten, as a media group whose first item
    carries the caption. When Telegram refuses the pictures the text form is sent,
    and when it refuses the formatting, ``plain_text`` is sent once.
    """

    text: str
    """At most 4096 UTF-16 units."""
    entities: tuple[MessageEntity, ...] = ()
    link_preview_url: str | None = None
    """The URL to preview with the text form, or None to disable the link preview."""
    photo_urls: tuple[str, ...] = ()
    caption: str = ""
    """At most 1024 UTF-16 units; used only with photo_urls."""
    caption_entities: tuple[MessageEntity, ...] = ()
    plain_text: str = ""
    """Title, body and link as text, no entities: the last resort when the rich form is
    refused."""


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """One entry planned for one subscription: the planning stage's output, not yet queued.

    The pipeline builds these; the store turns them into outbox rows (read back as
    ``bot.store.OutboxRow``, which adds the row id, attempts and timing).
    """

    chat_id: int
    thread_id: int | None
    subscription_id: int
    feed_id: int
    entry_key: str
    message: OutgoingMessage
    backlog: bool = False
    """Queue even when the entry was already seen (backlog after /sub or /resume)."""
    article_keys: tuple[str, ...] = ()
    """The article's keys for the per-chat cross-feed dedupe (``bot.feeds.identity``):
    not queued when another feed queued one of them for this chat lately."""


@dataclass(frozen=True, slots=True)
class Rhythm:
    """What a feed told or taught the scheduler about how often to check it."""

    hint_seconds: int | None = None
    """The feed's own lower bound on the interval (``<ttl>``, ``sy:updatePeriod``/
    ``sy:updateFrequency``, ``Cache-Control: max-age``), the largest of them; None when it
    gave none."""
    skip_hours: int = 0
    """``<skipHours>`` as a bit mask: bit ``h`` set means "do not check during hour h, UTC"."""
    last_new_at: float | None = None
    """Unix time of the last check that found new entries."""
    new_gap_seconds: float | None = None
    """Learned mean time between two new entries (a moving average), seconds."""
    new_samples: int = 0
    """How many checks with new entries taught ``new_gap_seconds``."""


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
    """The interval of the last successful check (before jitter), seconds."""
    next_fetch_at: float = 0.0
    """Unix time at which the feed is next due."""
    created_at: float = 0.0
    last_success_at: float | None = None
    """None until the feed was read once: that first read marks its entries seen."""
    failing_since: float | None = None
    """Unix time of the first failure of the current run of failures; None while it works."""
    failure_notified: bool = False
    """The subscribers were told that this run of failures stopped the feed."""
    rhythm: Rhythm = field(default_factory=Rhythm)
    boilerplate: str | None = None
    """The blocks the feed repeats in every entry, learned at its last full parse (JSON,
    see ``bot.pipeline.learned``); None when not learned yet."""
    requested_interval: int | None = None
    """The shortest interval its running subscriptions asked for (``/set ID interval``),
    seconds; None when none asked."""


@dataclass(frozen=True, slots=True)
class FetchSuccess:
    """What a successful check stores on its feed (``Store.record_success``): the
    validators, the next due time and what the check learned. None leaves a stored title,
    interval, rhythm or boilerplate as it was."""

    feed_id: int
    next_fetch_at: float
    """Unix time of the next check."""
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    now: float
    """Unix time of the check."""
    title: str | None = None
    interval_seconds: int | None = None
    rhythm: Rhythm | None = None
    boilerplate: str | None = None


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
    interval_seconds: int | None = None
    """The check interval this subscription asked for, seconds; None for the default."""
    title: str = ""
    """The feed's title, joined in for listings."""
    url: str = ""
    """The feed's URL, joined in for listings."""
    last_error: str | None = None
