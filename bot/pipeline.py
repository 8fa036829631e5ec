"""One feed's refresh, stage by stage: fetch → parse → dedupe → filter → render → outbox.

This is the only place that chains the stages. Filtering and rendering are pure
(``plan_deliveries``); the store is touched once to learn what is new and once,
in one transaction, to record it as seen together with its outbox rows, so an
entry is either queued for every subscriber or not taken on at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.feeds.failure import FetchError
from bot.feeds.fetch import Fetcher
from bot.feeds.parse import NotAFeed, parse_feed
from bot.filters import CompiledFilter, FilterFields, FilterSyntaxError, compile_filter, match_all
from bot.logs import event
from bot.models import (
    DisplayOptions,
    Entry,
    Feed,
    OutgoingMessage,
    ParsedFeed,
    PlannedDelivery,
    Subscription,
)
from bot.render import Boilerplate, detect_boilerplate, html_to_plain, render_entry
from bot.store import Store

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 6 * 3600
SEEN_RETENTION_SECONDS = 60 * 86400
"""A key that left its feed is forgotten this long after it was first seen."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one refresh did, for logs and tests."""

    feed_id: int
    status: str
    """``not_modified``, ``unchanged``, ``updated`` or ``failed``."""
    new_entries: int = 0
    queued: int = 0
    error: str | None = None


def chronological(entries: Iterable[Entry]) -> list[Entry]:
    """Oldest first: by date when every entry has one, else reversed document order."""
    ordered = list(entries)[::-1]
    dates = [entry.published for entry in ordered]
    if all(date is not None for date in dates):
        return [entry for _, entry in sorted(zip(dates, ordered, strict=True), key=_by_date)]
    return ordered


def _by_date(pair: tuple[datetime | None, Entry]) -> datetime:
    return pair[0] or datetime.min.replace(tzinfo=UTC)


def filter_fields(entry: Entry) -> FilterFields:
    """What a keyword filter looks at: plain text of each field."""
    return FilterFields(
        title=entry.title,
        content=html_to_plain(entry.content_html),
        author=entry.author,
        tags=entry.tags,
    )


def _compiled(expr: str) -> CompiledFilter | None:
    if not expr:
        return None
    try:
        return compile_filter(expr)
    except FilterSyntaxError:
        # Stored filters were validated when set; a stricter parser must not stop a feed.
        return None


def plan_deliveries(
    entries: Sequence[Entry],
    subscriptions: Sequence[Subscription],
    chat_filters: Mapping[int, str],
    *,
    feed_id: int,
    feed_title: str,
    boilerplate: Boilerplate | None = None,
    backlog: bool = False,
) -> list[PlannedDelivery]:
    """Filter and render each entry for each subscription, entries in the given order."""
    items: list[PlannedDelivery] = []
    rendered: dict[tuple[str, object, tuple[str, ...]], OutgoingMessage] = {}
    for entry in entries:
        fields = (
            filter_fields(entry)
            if any(s.filter_expr or chat_filters.get(s.chat_id) for s in subscriptions)
            else None
        )
        for sub in subscriptions:
            filters = [
                f
                for f in (_compiled(chat_filters.get(sub.chat_id, "")), _compiled(sub.filter_expr))
                if f is not None
            ]
            alert_terms: tuple[str, ...] = ()
            if filters and fields is not None:
                result = match_all(filters, fields)
                if not result.passed:
                    continue
                alert_terms = result.matched
            cache_key = (entry.key, sub.options, alert_terms)
            message = rendered.get(cache_key)
            if message is None:
                message = _render_or_plain(entry, feed_title, sub.options, alert_terms, boilerplate)
                rendered[cache_key] = message
            items.append(
                PlannedDelivery(
                    chat_id=sub.chat_id,
                    thread_id=sub.thread_id,
                    subscription_id=sub.id,
                    feed_id=feed_id,
                    entry_key=entry.key,
                    message=message,
                    backlog=backlog,
                )
            )
    return items


def _render_or_plain(
    entry: Entry,
    feed_title: str,
    options: DisplayOptions,
    alert_terms: tuple[str, ...],
    boilerplate: Boilerplate | None,
) -> OutgoingMessage:
    """The rendered entry; if the renderer fails on it, its title and link as plain text.

    One entry's unforeseen HTML must not stop its feed: the entry is still delivered,
    and the failure is logged with its traceback so the renderer can be fixed.
    """
    try:
        return render_entry(
            entry,
            feed_title=feed_title,
            options=options,
            tz=UTC,
            alert_terms=alert_terms,
            boilerplate=boilerplate,
        )
    except Exception:
        log.exception("render_failed entry=%r link=%r", entry.key, entry.link)
        # 2,000 code points are at most 4,000 UTF-16 units: always within Telegram's limit.
        plain = "\n".join(p for p in (entry.title or feed_title, entry.link) if p)[:2000]
        return OutgoingMessage(text=plain or "…", plain_text=plain or "…")


def next_interval(base: int, error_count: int) -> int:
    """Back off exponentially on failures, up to six hours."""
    return min(MAX_BACKOFF_SECONDS, base * 2 ** min(error_count, 10)) if error_count else base


async def chat_filter_map(store: Store, subscriptions: Sequence[Subscription]) -> dict[int, str]:
    """The chat-wide filter of each chat among the subscriptions."""
    filters: dict[int, str] = {}
    for chat_id in {sub.chat_id for sub in subscriptions}:
        chat = await store.get_chat(chat_id)
        if chat is not None and chat.filter_expr:
            filters[chat_id] = chat.filter_expr
    return filters


async def refresh_feed(
    feed: Feed, *, fetcher: Fetcher, store: Store, clock: Callable[[], float]
) -> RefreshResult:
    """Fetch one feed and queue its new entries for every subscriber."""
    try:
        response = await fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        body_hash = feed.body_hash if response.not_modified else response.body_hash
        if body_hash == feed.body_hash:
            # Nothing new. A 304 need not repeat the validators: keep the ones we sent.
            await _succeeded(
                store,
                feed,
                clock,
                etag=response.etag or feed.etag,
                last_modified=response.last_modified or feed.last_modified,
                body_hash=body_hash,
            )
            return RefreshResult(feed.id, "not_modified" if response.not_modified else "unchanged")
        parsed = parse_feed(response.body, url=response.url, content_type=response.content_type)
    except (FetchError, NotAFeed) as exc:
        error = str(exc)
        now = clock()
        interval = next_interval(feed.interval_seconds, feed.error_count + 1)
        if isinstance(exc, FetchError) and exc.retry_after is not None:
            # The server said when to come back (429/503 Retry-After); within reason, obey.
            interval = max(interval, min(round(exc.retry_after), MAX_BACKOFF_SECONDS))
        await store.record_fetch_failure(
            feed.id, next_fetch_at=now + interval, error=error, now=now
        )
        event(log, logging.WARNING, "fetch_failed", feed_id=feed.id, url=feed.url, error=error)
        return RefreshResult(feed.id, "failed", error=error)

    new_count, queued = await queue_new_entries(store, feed.id, parsed, clock=clock)
    # Remember a key for as long as the feed carries it, and for a while after.
    await store.prune_seen(
        feed.id,
        keep=[entry.key for entry in parsed.entries],
        before=clock() - SEEN_RETENTION_SECONDS,
    )
    await _succeeded(
        store,
        feed,
        clock,
        etag=response.etag,
        last_modified=response.last_modified,
        body_hash=body_hash,
        title=parsed.title,
    )
    if new_count:
        event(log, logging.INFO, "feed_updated", feed_id=feed.id, new=new_count, queued=queued)
    return RefreshResult(feed.id, "updated", new_entries=new_count, queued=queued)


async def queue_new_entries(
    store: Store, feed_id: int, parsed: ParsedFeed, *, clock: Callable[[], float]
) -> tuple[int, int]:
    """Record the feed's unseen entries as seen and queue them; returns (new, queued)."""
    unseen = set(await store.unseen_keys(feed_id, [entry.key for entry in parsed.entries]))
    if not unseen:
        return 0, 0
    new_entries = chronological(entry for entry in parsed.entries if entry.key in unseen)
    subscriptions = await store.subscriptions_for_feed(feed_id)
    items = plan_deliveries(
        new_entries,
        subscriptions,
        await chat_filter_map(store, subscriptions),
        feed_id=feed_id,
        feed_title=parsed.title,
        boilerplate=detect_boilerplate(parsed.entries),
    )
    queued = await store.commit_entries(
        feed_id, seen=[entry.key for entry in new_entries], outbox=items, now=clock()
    )
    return len(new_entries), queued


async def _succeeded(
    store: Store,
    feed: Feed,
    clock: Callable[[], float],
    *,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
    title: str | None = None,
) -> None:
    now = clock()
    await store.record_fetch_success(
        feed.id,
        next_fetch_at=now + feed.interval_seconds,
        interval_seconds=feed.interval_seconds,
        etag=etag,
        last_modified=last_modified,
        body_hash=body_hash,
        title=title,
        now=now,
    )
