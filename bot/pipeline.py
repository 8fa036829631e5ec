"""The entry chain: fetch → parse → dedupe → filter → render → outbox.

Many doors, one chain. Every way an entry reaches a chat hands a feed's parsed
document and an audience to ``queue_entries``:

- a refresh (``refresh_feed``, for the scheduler): ``EverySubscriber``;
- /sub, /import and ``import-opml``: ``NewSubscriber``, the newest few entries
  for the new subscription only;
- /resume … backlog: ``ResumedSubscriber``, the entries first seen during the
  pause, for that subscription only.

The audience decides which entries are offered and which keys become seen; the
pure ``plan_deliveries`` dedupes, filters and renders; the store is written once,
in one transaction that marks the keys seen together with their outbox rows, so
an entry is either queued for its whole audience or not taken on at all.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bot.feeds.failure import FetchError, classify
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


class RefreshStatus(StrEnum):
    """How one refresh ended."""

    NOT_MODIFIED = "not_modified"
    """The server answered 304."""
    UNCHANGED = "unchanged"
    """The body hash is the one stored: nothing was parsed."""
    UPDATED = "updated"
    """Parsed; new entries (maybe none) were queued."""
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one refresh did, for logs and tests."""

    feed_id: int
    status: RefreshStatus
    new_entries: int = 0
    queued: int = 0
    error: FetchError | None = None


@dataclass(frozen=True, slots=True)
class EverySubscriber:
    """A refresh: entries not seen before, for every running subscription of an active chat."""


@dataclass(frozen=True, slots=True)
class NewSubscriber:
    """/sub's backlog: the newest ``newest`` entries, for one new subscription only.

    On a feed read for the first time (``first_fetch``) every current entry is
    marked seen. On a feed already followed only entries already seen are sent:
    the unseen ones reach every subscriber, this one included, at the next refresh.
    The rows wait until ``hold_until`` (or ``Store.release``), after the confirmation.
    """

    subscription: Subscription
    newest: int
    first_fetch: bool
    hold_until: float | None = None


@dataclass(frozen=True, slots=True)
class ResumedSubscriber:
    """/resume … backlog: entries first seen since ``paused_at``, the newest ``at_most``."""

    subscription: Subscription
    paused_at: float
    at_most: int


Audience = EverySubscriber | NewSubscriber | ResumedSubscriber


@dataclass(frozen=True, slots=True)
class Queued:
    """What ``queue_entries`` did."""

    new: int
    """Entries new to the audience before any cap or filter: unseen ones for a refresh,
    the pause's for a resume, the backlog for a new subscriber."""
    queued: int
    """Outbox rows written."""


@dataclass(frozen=True, slots=True)
class _Selection:
    """An audience made concrete: what to offer whom, and which keys become seen."""

    entries: list[Entry]
    subscriptions: list[Subscription]
    new: int
    """See ``Queued.new``."""
    seen: frozenset[str] = frozenset()
    mark_seen: tuple[str, ...] = ()
    backlog: bool = False
    hold_until: float | None = None


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


def stored_filters(*expressions: str) -> list[CompiledFilter]:
    """The stored filter expressions that apply, compiled; empty ones are left out.

    Stored filters were validated when set; one that a stricter parser now
    refuses is left out too (logged), so it can never stop a feed.
    """
    compiled = []
    for expr in expressions:
        if not expr:
            continue
        try:
            compiled.append(compile_filter(expr))
        except FilterSyntaxError as exc:
            log.warning("stored_filter_skipped expr=%r error=%s", expr, exc)
    return compiled


def filter_verdicts(entries: Sequence[Entry], *expressions: str) -> list[tuple[Entry, bool]]:
    """Each entry with whether every one of the stored ``expressions`` lets it through."""
    filters = stored_filters(*expressions)
    return [(entry, match_all(filters, filter_fields(entry)).passed) for entry in entries]


def plan_deliveries(
    entries: Sequence[Entry],
    subscriptions: Sequence[Subscription],
    chat_filters: Mapping[int, str],
    *,
    feed_id: int,
    feed_title: str,
    seen: Collection[str] = frozenset(),
    boilerplate: Boilerplate | None = None,
    backlog: bool = False,
) -> list[PlannedDelivery]:
    """Dedupe, filter and render: the pure middle of the chain.

    Takes the entries oldest first, the audience's subscriptions, each chat's
    chat-wide filter expression and the keys already seen. Returns one delivery
    per entry and subscription, in entry order, where: the entry is not in
    ``seen`` (unless ``backlog``, which is made of seen entries); the subscription
    is not paused; the chat-wide filter and the subscription's filter both pass
    (see ``stored_filters`` for a stored filter that no longer compiles). Each
    entry is rendered once per display options and matched terms; an entry the
    renderer fails on is sent as its title and link.
    """
    audience = [
        (sub, stored_filters(chat_filters.get(sub.chat_id, ""), sub.filter_expr))
        for sub in subscriptions
        if not sub.paused
    ]
    items: list[PlannedDelivery] = []
    rendered: dict[tuple[str, DisplayOptions, tuple[str, ...]], OutgoingMessage] = {}
    for entry in entries:
        if entry.key in seen and not backlog:
            continue
        fields = filter_fields(entry) if any(filters for _, filters in audience) else None
        for sub, filters in audience:
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


def render_newest(parsed: ParsedFeed, options: DisplayOptions, count: int) -> list[OutgoingMessage]:
    """The newest ``count`` entries, newest first, rendered exactly as they would be sent."""
    newest = chronological(parsed.entries)[::-1][:count]
    boilerplate = detect_boilerplate(parsed.entries)
    return [_render_or_plain(entry, parsed.title, options, (), boilerplate) for entry in newest]


async def chat_filter_map(store: Store, subscriptions: Sequence[Subscription]) -> dict[int, str]:
    """The chat-wide filter expression of each chat among the subscriptions that has one."""
    filters: dict[int, str] = {}
    for chat_id in {sub.chat_id for sub in subscriptions}:
        chat = await store.get_chat(chat_id)
        if chat is not None and chat.filter_expr:
            filters[chat_id] = chat.filter_expr
    return filters


async def _select(
    store: Store, feed_id: int, entries: list[Entry], audience: Audience
) -> _Selection | None:
    """What ``audience`` is offered of ``entries`` (oldest first); None when nothing to do."""
    keys = [entry.key for entry in entries]
    match audience:
        case EverySubscriber():
            unseen = await store.unseen_keys(feed_id, keys)
            if not unseen:
                return None
            return _Selection(
                entries,
                await store.subscriptions_for_feed(feed_id),
                len(unseen),
                seen=frozenset(keys).difference(unseen),
                mark_seen=tuple(unseen),
            )
        case NewSubscriber(subscription, newest, first_fetch, hold_until):
            offered = entries[len(entries) - newest :] if newest > 0 else []
            if not first_fetch:
                fresh = set(await store.unseen_keys(feed_id, [e.key for e in offered]))
                offered = [entry for entry in offered if entry.key not in fresh]
            return _Selection(
                offered,
                [subscription],
                len(offered),
                mark_seen=tuple(keys) if first_fetch else (),
                backlog=True,
                hold_until=hold_until,
            )
        case ResumedSubscriber(subscription, paused_at, at_most):
            recent = set(await store.keys_seen_since(feed_id, keys, paused_at))
            missed = [entry for entry in entries if entry.key in recent]
            # The subscription runs again by now, whatever the record it was read from says.
            running = dataclasses.replace(subscription, paused=False)
            offered = missed[-at_most:] if at_most > 0 else []
            return _Selection(offered, [running], len(missed), backlog=True)


async def queue_entries(
    store: Store, feed_id: int, parsed: ParsedFeed, audience: Audience, *, now: float
) -> Queued:
    """Queue the feed's entries for ``audience``: dedupe → filter → render → outbox.

    Takes the feed's parsed document and who the entries are for; returns how
    many entries were new to that audience and how many messages were queued.
    The seen marks and the outbox rows are written in one store transaction.
    """
    entries = chronological(parsed.entries)
    selection = await _select(store, feed_id, entries, audience)
    if selection is None:
        return Queued(new=0, queued=0)
    title = parsed.title
    if not title and len(selection.subscriptions) == 1:
        title = selection.subscriptions[0].title or selection.subscriptions[0].url
    items = plan_deliveries(
        selection.entries,
        selection.subscriptions,
        await chat_filter_map(store, selection.subscriptions),
        feed_id=feed_id,
        feed_title=title,
        seen=selection.seen,
        boilerplate=detect_boilerplate(parsed.entries),
        backlog=selection.backlog,
    )
    queued = await store.commit_entries(
        feed_id,
        seen=selection.mark_seen,
        outbox=items,
        now=now,
        hold_until=selection.hold_until,
    )
    return Queued(new=selection.new, queued=queued)


def next_interval(base: int, error_count: int) -> int:
    """Back off exponentially on failures, up to six hours."""
    return min(MAX_BACKOFF_SECONDS, base * 2 ** min(error_count, 10)) if error_count else base


async def refresh_feed(
    feed: Feed, *, fetcher: Fetcher, store: Store, clock: Callable[[], float]
) -> RefreshResult:
    """Fetch one feed and queue its new entries for every subscriber.

    Returns what the refresh did; a failure to read the feed is recorded on it
    (see ``record_refresh_failure``) and returned, never raised.
    """
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
            status = (
                RefreshStatus.NOT_MODIFIED if response.not_modified else RefreshStatus.UNCHANGED
            )
            return RefreshResult(feed.id, status)
        parsed = parse_feed(response.body, url=response.url, content_type=response.content_type)
    except (FetchError, NotAFeed) as exc:
        return await record_refresh_failure(store, feed, classify(exc), clock=clock)

    done = await queue_entries(store, feed.id, parsed, EverySubscriber(), now=clock())
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
    if done.new:
        event(log, logging.INFO, "feed_updated", feed_id=feed.id, new=done.new, queued=done.queued)
    return RefreshResult(feed.id, RefreshStatus.UPDATED, new_entries=done.new, queued=done.queued)


async def record_refresh_failure(
    store: Store, feed: Feed, error: FetchError, *, clock: Callable[[], float]
) -> RefreshResult:
    """Record that ``feed`` could not be refreshed; the one place that does.

    Backs the feed off (longer when the server sent Retry-After), stores the
    error's code for /list and stats, logs the failure, and returns the FAILED
    result carrying ``error``.
    """
    now = clock()
    interval = next_interval(feed.interval_seconds, feed.error_count + 1)
    if error.retry_after is not None:
        # The server said when to come back (429/503 Retry-After); within reason, obey.
        interval = max(interval, min(round(error.retry_after), MAX_BACKOFF_SECONDS))
    await store.record_fetch_failure(
        feed.id, next_fetch_at=now + interval, error=error.code, now=now
    )
    event(
        log,
        logging.WARNING,
        "fetch_failed",
        feed_id=feed.id,
        url=feed.url,
        kind=error.kind.value,
        error=str(error),
    )
    return RefreshResult(feed.id, RefreshStatus.FAILED, error=error)


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
