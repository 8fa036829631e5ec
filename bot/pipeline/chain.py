"""One chain, many doors: ``queue_entries`` queues a feed's entries for an audience.

The audience decides which entries are offered and which keys become seen; the
pure ``plan_deliveries`` dedupes, filters and renders; the store is written once,
in one transaction that marks the keys seen together with their outbox rows, so
an entry is either queued for its whole audience or not taken on at all. In that
transaction the store also drops a delivery whose article another feed queued for
the same chat within ``CROSS_FEED_WINDOW_SECONDS`` (cross-feed dedupe), and refuses a
refresh whose followers changed since they were read (``AudienceChanged``), which is
then planned again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.feeds.identity import all_keys
from bot.i18n import pick_language
from bot.models import Entry, ParsedFeed, Subscription
from bot.pipeline.plan import CROSS_FEED_WINDOW_SECONDS, FloodRule, chronological, plan_deliveries
from bot.redact import scrub
from bot.render import Boilerplate, detect_boilerplate
from bot.store import AudienceChanged, Chat, Store
from bot.zones import zone


@dataclass(frozen=True, slots=True)
class EverySubscriber:
    """A refresh: entries not seen before, for every running subscription of an active chat."""


@dataclass(frozen=True, slots=True)
class NewSubscriber:
    """/sub's backlog: the newest ``newest`` entries, for one new subscription only.

    On a feed read for the first time (``first_fetch``) every current entry is
    marked seen and the newest are offered. On a feed already followed only the
    newest entries whose keys are in ``seen_when_added`` are offered: the keys of
    ``backlog_keys`` the feed had seen when the subscription was added
    (``Store.add_subscription_seeing``, which says why then and not later); the
    others reach every subscriber, this one included, at the next refresh.
    The rows wait until ``hold_until`` (or ``Store.release``), after the confirmation.
    """

    subscription: Subscription
    newest: int
    first_fetch: bool
    hold_until: float | None = None
    seen_when_added: frozenset[str] = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class ResumedSubscriber:
    """/resume … backlog: the entries whose keys are in ``missed``, the newest ``at_most``.

    ``missed`` is what ``Store.resume_subscription`` read as first seen since the pause,
    in the transaction that unpaused the subscription (it says why then and not later).
    """

    subscription: Subscription
    missed: frozenset[str]
    at_most: int


Audience = EverySubscriber | NewSubscriber | ResumedSubscriber

AUDIENCE_ATTEMPTS = 3
"""How many times a refresh is planned for the followers as read before its commit gives
up (``AudienceChanged``: someone subscribed, paused, resumed or left meanwhile)."""


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
    followers: frozenset[int] | None = None
    """The subscription ids read as the feed's followers (a refresh): the commit checks them."""
    chats: Mapping[int, Chat] | None = None
    """The subscriptions' chats when read with them (a refresh), else None: read them."""


async def audience_chats(store: Store, subscriptions: Sequence[Subscription]) -> dict[int, Chat]:
    """The stored chat of each chat among the subscriptions (unknown chats are left out)."""
    return await store.get_chats({sub.chat_id for sub in subscriptions})


async def chat_filter_map(store: Store, subscriptions: Sequence[Subscription]) -> dict[int, str]:
    """The chat-wide filter expression of each chat among the subscriptions that has one."""
    chats = await audience_chats(store, subscriptions)
    return {chat_id: chat.filter_expr for chat_id, chat in chats.items() if chat.filter_expr}


def chat_languages(chats: Mapping[int, Chat]) -> dict[int, str]:
    """Each chat's reply language (its /lang, else English: the store keeps no user language)."""
    return {chat_id: pick_language(chat.language, None) for chat_id, chat in chats.items()}


async def _select(
    store: Store, feed_id: int, entries: list[Entry], audience: Audience, now: float
) -> _Selection | None:
    """What ``audience`` is offered of ``entries`` (oldest first); None when nothing to do."""
    match audience:
        case EverySubscriber():
            # Every key of every entry is asked about and recorded (bot.feeds.identity):
            # an entry is new when neither its key nor an alias was seen.
            unseen = await store.unseen_keys(feed_id, [k for e in entries for k in all_keys(e)])
            fresh = set(unseen)
            new = [e for e in entries if e.key in fresh and fresh.issuperset(e.aliases)]
            if not new:
                if unseen:  # only weaker keys are new: record them, queue nothing
                    await store.commit_entries(feed_id, seen=unseen, outbox=(), now=now)
                return None
            followers = await store.followers(feed_id)
            return _Selection(
                entries,
                followers.subscriptions,
                len(new),
                seen=frozenset(e.key for e in entries).difference(e.key for e in new),
                mark_seen=tuple(unseen),
                followers=frozenset(sub.id for sub in followers.subscriptions),
                chats=followers.chats,
            )
        case NewSubscriber(subscription, newest, first_fetch, hold_until, seen_when_added=seen):
            offered = _newest(entries, newest)
            if not first_fetch:
                offered = [entry for entry in offered if entry.key in seen]
            return _Selection(
                offered,
                [subscription],
                len(offered),
                mark_seen=tuple(k for e in entries for k in all_keys(e)) if first_fetch else (),
                backlog=True,
                hold_until=hold_until,
            )
        case ResumedSubscriber(subscription, missed_keys, at_most):
            missed = [entry for entry in entries if entry.key in missed_keys]
            # The subscription runs again by now, whatever the record it was read from says.
            running = dataclasses.replace(subscription, paused=False)
            offered = _newest(missed, at_most)
            return _Selection(offered, [running], len(missed), backlog=True)


def _newest(entries: list[Entry], count: int) -> list[Entry]:
    """The last ``count`` of ``entries`` (oldest first): the newest; none when ``count`` <= 0."""
    return entries[-count:] if count > 0 else []


def backlog_keys(parsed: ParsedFeed, newest: int) -> list[str]:
    """The keys of the entries a ``NewSubscriber`` backlog of ``newest`` may offer of
    ``parsed``: those to ask ``Store.add_subscription_seeing`` about."""
    return [entry.key for entry in _newest(chronological(parsed.entries), newest)]


async def queue_entries(
    store: Store,
    feed_id: int,
    parsed: ParsedFeed,
    audience: Audience,
    *,
    now: float,
    flood: FloodRule | None = None,
    boilerplate: Boilerplate | None = None,
) -> Queued:
    """Queue the feed's entries for ``audience``: dedupe → filter → render → outbox.

    Takes the feed's parsed document and who the entries are for; returns how
    many entries were new to that audience and how many messages were queued.
    The seen marks and the outbox rows are written in one store transaction.
    ``flood`` collapses a refresh that brings a subscription too many entries (see
    ``plan_deliveries``); ``boilerplate`` is what the feed's entries repeat, when the
    caller knows it better than ``parsed`` (a partial parse), else it is detected.
    Raises AudienceChanged when the feed's followers changed under each of
    ``AUDIENCE_ATTEMPTS`` plans of a refresh.
    """
    entries = chronological(parsed.entries)
    attempt = 1
    while True:
        try:
            return await _queue_once(
                store,
                feed_id,
                entries,
                audience,
                parsed=parsed,
                now=now,
                flood=flood,
                boilerplate=boilerplate,
            )
        except AudienceChanged:
            # Someone subscribed, paused, resumed or left between the read of the followers
            # and the commit, which wrote nothing: read and plan again. Past the bound the
            # error goes out: a check is then recorded as failed (bot.scheduler) and retried
            # after its backoff, its entries still unseen.
            if attempt >= AUDIENCE_ATTEMPTS:
                raise
            attempt += 1


async def _queue_once(
    store: Store,
    feed_id: int,
    entries: list[Entry],
    audience: Audience,
    *,
    parsed: ParsedFeed,
    now: float,
    flood: FloodRule | None,
    boilerplate: Boilerplate | None,
) -> Queued:
    """One plan and commit of ``queue_entries``; raises AudienceChanged as the store does."""
    selection = await _select(store, feed_id, entries, audience, now)
    if selection is None:
        return Queued(new=0, queued=0)
    title = parsed.title
    if not title and selection.subscriptions:
        # Every subscription here follows this one feed: its stored title or URL names it,
        # the URL without the reader's key a private feed carries (bot.redact).
        title = selection.subscriptions[0].title or scrub(selection.subscriptions[0].url)
    chats = selection.chats
    if chats is None:
        chats = await audience_chats(store, selection.subscriptions)
    items = plan_deliveries(
        selection.entries,
        selection.subscriptions,
        {chat_id: chat.filter_expr for chat_id, chat in chats.items() if chat.filter_expr},
        chat_zones={chat_id: zone(chat.timezone) for chat_id, chat in chats.items()},
        feed_id=feed_id,
        feed_title=title,
        seen=selection.seen,
        boilerplate=detect_boilerplate(parsed.entries) if boilerplate is None else boilerplate,
        backlog=selection.backlog,
        flood=flood,
        languages=chat_languages(chats),
        site_link=parsed.link,
    )
    queued = await store.commit_entries(
        feed_id,
        seen=selection.mark_seen,
        outbox=items,
        now=now,
        hold_until=selection.hold_until,
        article_window=CROSS_FEED_WINDOW_SECONDS,
        audience=selection.followers,
    )
    return Queued(new=selection.new, queued=queued)
