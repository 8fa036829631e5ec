"""One feed's check: fetch, read what is new, queue it, and decide when to look again.

Each step is cheaper than the next, and most checks stop early:

1. a conditional GET answered 304, or a body whose hash is the stored one: nothing
   changed, nothing parsed;
2. a feed never read before (a bulk import): parsed in full, every entry marked seen,
   nothing queued (new entries reach its subscribers from then on);
3. a scan of the entry ids (``bot.feeds.scan``): when all are seen the changed body
   brought nothing new and is not parsed; when some are new and the feed's boilerplate
   is known, only those entries are parsed, and only if the parser finds exactly the
   keys the scan promised is that partial parse used;
4. otherwise the whole document is parsed.

New entries then go through the one chain (``queue_entries``, with flood collapse), the
rhythm is learned, and the validators, hints and next check (``bot.cadence``) are
stored. A permanent redirect then moves the feed to its new URL (merging with a feed
that has it, see ``_moved``). A failure goes to ``bot.pipeline.health``: backoff, the
failing notice once, and the end of a feed that is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.cadence import interval_for, learn, next_check
from bot.feeds.failure import FetchError, classify
from bot.feeds.fetch import Fetcher, FetchResult
from bot.feeds.hints import cache_max_age, document_hints
from bot.feeds.identity import all_keys
from bot.feeds.parse import MAX_ENTRIES, NotAFeed, parse_feed
from bot.logs import event
from bot.models import Feed, FetchSuccess, ParsedFeed, Rhythm
from bot.pipeline.chain import EverySubscriber, queue_entries
from bot.pipeline.health import record_refresh_failure, tell_recovered
from bot.pipeline.learned import decode_boilerplate, encode_boilerplate
from bot.pipeline.outcome import (
    SEEN_RETENTION_SECONDS,
    Parse,
    RefreshPolicy,
    RefreshResult,
    RefreshStatus,
    Scanner,
)
from bot.render import Boilerplate, detect_boilerplate
from bot.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Reading:
    """What reading a changed document gave."""

    parsed: ParsedFeed | None
    """None when the scan found nothing new."""
    keys: tuple[str, ...]
    """The keys to keep in the seen table: every key (``identity.all_keys``) of the
    entries parsed, and the scanned key of each entry that was not."""
    parse: Parse
    boilerplate: Boilerplate | None = None
    learned: bool = False
    """``boilerplate`` was detected now (a full parse) and is worth storing."""


async def refresh_feed(
    feed: Feed,
    *,
    fetcher: Fetcher,
    store: Store,
    clock: Callable[[], float],
    policy: RefreshPolicy | None = None,
) -> RefreshResult:
    """Check one feed and queue its new entries for every subscriber.

    Returns what the refresh did; a failure to read the feed is recorded on it
    (see ``record_refresh_failure``) and returned, never raised.
    """
    policy = policy or RefreshPolicy.for_interval(feed.interval_seconds)
    try:
        response = await fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
    except FetchError as exc:
        return await record_refresh_failure(store, feed, exc, clock=clock, policy=policy)
    if response.moved_to is not None and response.moved_to != feed.url:
        return await _moved(store, feed, response, response.moved_to, clock=clock, policy=policy)
    return await _checked(store, feed, response, clock, policy)


async def _moved(
    store: Store,
    feed: Feed,
    response: FetchResult,
    url: str,
    *,
    clock: Callable[[], float],
    policy: RefreshPolicy,
) -> RefreshResult:
    """A feed that moved for good to ``url``: read the document for its subscribers, then
    move it there, merging with the feed that already has that URL.

    Before the merge the document is also read for that feed's own subscribers (unless it
    came as a 304 to this feed's validators, which says nothing about the other's): each
    side gets what its own feed had not seen, so this feed's chats get nothing again, and
    the merge unites the seen keys. A chat that followed both keeps one subscription and
    loses the queued rows of entries the other feed had already sent it.
    """
    result = await _checked(store, feed, response, clock, policy)
    if result.status is RefreshStatus.FAILED:
        return result  # not a feed at the new address: nothing moves
    queued = result.queued
    other = await store.feed_by_url(url)
    if other is not None and other.id != feed.id and not response.not_modified:
        queued += (await _checked(store, other, response, clock, policy)).queued
    moved = await store.move_feed(feed.id, url)
    event(log, logging.INFO, "feed_moved", feed_id=feed.id, to_feed=moved and moved.id)
    return replace(result, feed_id=moved.id if moved else feed.id, queued=queued)


async def _checked(
    store: Store,
    feed: Feed,
    response: FetchResult,
    clock: Callable[[], float],
    policy: RefreshPolicy,
) -> RefreshResult:
    """Read a successful response for ``feed``: queue what is new, record the check."""
    told = await tell_recovered(store, feed, clock()) if feed.failure_notified else 0
    if response.not_modified or response.body_hash == feed.body_hash:
        status = RefreshStatus.NOT_MODIFIED if response.not_modified else RefreshStatus.UNCHANGED
        await _succeeded(store, feed, response, clock, policy)
        return RefreshResult(feed.id, status, queued=told)
    try:
        reading = await _read(store, feed, response, policy.scan, clock())
    except NotAFeed as exc:
        return await record_refresh_failure(store, feed, classify(exc), clock=clock, policy=policy)
    result = await _queue(store, feed, response, reading, clock=clock, policy=policy)
    return replace(result, queued=result.queued + told)


async def _read(
    store: Store, feed: Feed, response: FetchResult, scanner: Scanner, now: float
) -> _Reading:
    """The new entries of a changed document, parsing as little of it as is safe. When the
    scan finds nothing new, the keys the feed no longer carries are forgotten meanwhile
    (``Store.unseen_keys``); otherwise the caller forgets them after queueing."""
    body, url, kind = response.body, response.url, response.content_type
    known = decode_boilerplate(feed.boilerplate)
    scan = scanner(body, url=url) if feed.last_success_at is not None else None
    if scan is not None:
        scan = scan.first(MAX_ENTRIES)  # as the full parse: a long archive is no full parse
        # Nothing new: the departed keys are forgotten in the same query.
        forget_before = now - SEEN_RETENTION_SECONDS
        unseen = await store.unseen_keys(feed.id, scan.keys, forget_before=forget_before)
        if not unseen:
            return _Reading(None, scan.keys, Parse.NONE)
        if known is not None:
            try:
                partial = parse_feed(scan.partial(set(unseen)), url=url, content_type=kind)
            except NotAFeed:
                partial = None
            if partial is not None and sorted(e.key for e in partial.entries) == sorted(unseen):
                keys = (*scan.keys, *(k for e in partial.entries for k in all_keys(e)))
                return _Reading(partial, keys, Parse.PARTIAL, known)
            event(log, logging.WARNING, "partial_parse_mismatch", feed_id=feed.id, url=feed.url)
    parsed = parse_feed(body, url=url, content_type=kind)
    keys = tuple(key for entry in parsed.entries for key in all_keys(entry))
    return _Reading(parsed, keys, Parse.FULL, detect_boilerplate(parsed.entries), learned=True)


async def _queue(
    store: Store,
    feed: Feed,
    response: FetchResult,
    reading: _Reading,
    *,
    clock: Callable[[], float],
    policy: RefreshPolicy,
) -> RefreshResult:
    """Queue what the reading found, then record the check."""
    parsed, now = reading.parsed, clock()
    learned = (
        encode_boilerplate(reading.boilerplate) if reading.learned and reading.boilerplate else None
    )
    if parsed is None:  # the departed keys were forgotten as the scan was read
        await _succeeded(store, feed, response, clock, policy)
        return RefreshResult(feed.id, RefreshStatus.NOTHING_NEW)
    if feed.last_success_at is None:
        await store.commit_entries(feed.id, seen=reading.keys, outbox=[], now=now)
        await _succeeded(
            store, feed, response, clock, policy, title=parsed.title, boilerplate=learned
        )
        return RefreshResult(feed.id, RefreshStatus.FIRST_READ, parse=reading.parse)
    done = await queue_entries(
        store,
        feed.id,
        parsed,
        EverySubscriber(),
        now=now,
        flood=policy.flood,
        boilerplate=reading.boilerplate,
    )
    await _forget_departed(store, feed, reading.keys, now)
    if done.new:
        event(log, logging.INFO, "feed_updated", feed_id=feed.id, new=done.new, queued=done.queued)
    await _succeeded(
        store,
        feed,
        response,
        clock,
        policy,
        title=parsed.title,
        boilerplate=learned,
        new_entries=done.new,
    )
    return RefreshResult(
        feed.id,
        RefreshStatus.UPDATED,
        new_entries=done.new,
        queued=done.queued,
        parse=reading.parse,
    )


async def _forget_departed(store: Store, feed: Feed, keys: tuple[str, ...], now: float) -> None:
    """Remember a key for as long as the feed carries it, and for a while after."""
    await store.prune_seen(feed.id, keep=keys, before=now - SEEN_RETENTION_SECONDS)


async def _succeeded(
    store: Store,
    feed: Feed,
    response: FetchResult,
    clock: Callable[[], float],
    policy: RefreshPolicy,
    *,
    title: str | None = None,
    boilerplate: str | None = None,
    new_entries: int = 0,
) -> None:
    """Record a successful check: validators, rhythm and the next check."""
    now = clock()
    rhythm = learn(_hinted(feed.rhythm, response), new_entries, now)
    bounds = policy.bounds.asked(feed.requested_interval)
    interval = interval_for(rhythm, bounds, now=now, since=feed.created_at)
    due = next_check(
        now=now,
        due_at=feed.next_fetch_at,
        interval=interval,
        previous_interval=feed.interval_seconds,
        skip_hours=rhythm.skip_hours,
        rng=policy.rng,
    )
    # A 304 need not repeat the validators: keep the ones we sent.
    record = FetchSuccess(
        feed.id,
        next_fetch_at=due,
        etag=response.etag or (feed.etag if response.not_modified else None),
        last_modified=response.last_modified
        or (feed.last_modified if response.not_modified else None),
        body_hash=feed.body_hash if response.not_modified else response.body_hash,
        now=now,
        title=title,
        interval_seconds=interval,
        rhythm=rhythm,
        boilerplate=boilerplate,
    )
    routine = _routine(feed)
    if routine and policy.keep_record is not None and policy.keep_record(record):
        return
    await store.record_success(record, durable=not routine)


def _routine(feed: Feed) -> bool:
    """Whether the feed was read before and is not failing: then the record of this check
    only moves its validators, rhythm and due time, and losing it (a PostgreSQL crash, see
    ``Store.record_success``, or a process's death with the record kept, see
    ``RefreshPolicy.keep_record``) costs one more fetch. Otherwise it also ends a failure
    run or a first read, which decide what later checks do and must not be lost."""
    # A failure run (``failing_since``, ``failure_notified``, ``last_error``) has at least
    # one failure counted: ``error_count`` alone tells it.
    return feed.last_success_at is not None and feed.error_count == 0


def _hinted(rhythm: Rhythm, response: FetchResult) -> Rhythm:
    """The rhythm with the hints this response carries (a 304 carries none of the document's)."""
    if response.not_modified:
        return rhythm
    hints = document_hints(response.body)
    found = [s for s in (hints.interval_seconds, cache_max_age(response.cache_control)) if s]
    return replace(rhythm, hint_seconds=max(found) if found else None, skip_hours=hints.skip_hours)
