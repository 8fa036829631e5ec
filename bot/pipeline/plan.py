"""The pure middle of the chain: dedupe, filter and render entries for an audience.

Nothing here does I/O, so every rule is tested with literal values:
``plan_deliveries`` decides who gets which entry and how it looks, and collapses a
flood (``FloodRule``) into the newest few and one summary;
``stored_filters`` is the guard every stored filter goes through, also for the
/filter preview (``filter_verdicts``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from bot.config import DeliverySettings
from bot.feeds.identity import article_keys
from bot.filters import CompiledFilter, FilterFields, FilterSyntaxError, compile_filter, match_all
from bot.i18n import plain
from bot.models import (
    DisplayOptions,
    Entry,
    OutgoingMessage,
    ParsedFeed,
    PlannedDelivery,
    Subscription,
)
from bot.redact import scrub
from bot.render import Boilerplate, detect_boilerplate, html_to_plain, render_entry

log = logging.getLogger(__name__)

MAX_SUMMARY_TITLE = 200
MAX_SUMMARY_LINK = 2000
CROSS_FEED_WINDOW_SECONDS = 3 * 86400
"""How long an article queued for a chat by one feed keeps another feed from sending it."""


def chronological(entries: Iterable[Entry]) -> list[Entry]:
    """Oldest first: by date when the dates can be trusted, else reversed document order.

    Dates are trusted when every entry has one and no single instant holds more
    than half of three or more entries: a feed that stamps its items with the time
    it was generated says nothing about their order, while its document order does.
    """
    ordered = list(entries)[::-1]
    dates = [entry.published for entry in ordered]
    if not all(date is not None for date in dates):
        return ordered
    if len(dates) >= 3 and max(Counter(dates).values()) * 2 > len(dates):
        return ordered
    return [entry for _, entry in sorted(zip(dates, ordered, strict=True), key=_by_date)]


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
            compiled.append(compile_filter(expr, stored=True))
        except FilterSyntaxError as exc:
            log.warning("stored_filter_skipped expr=%r error=%s", expr, exc)
    return compiled


def filter_verdicts(entries: Sequence[Entry], *expressions: str) -> list[tuple[Entry, bool]]:
    """Each entry with whether every one of the stored ``expressions`` lets it through."""
    filters = stored_filters(*expressions)
    return [(entry, match_all(filters, filter_fields(entry)).passed) for entry in entries]


@dataclass(frozen=True, slots=True)
class FloodRule:
    """More than ``threshold`` new entries for one subscription in one refresh is a flood:
    the newest ``keep`` are sent, after one message saying how many more there are."""

    threshold: int
    keep: int

    @classmethod
    def from_settings(cls, delivery: DeliverySettings) -> FloodRule:
        """The rule ``delivery.flood_threshold`` and ``delivery.flood_keep`` set."""
        return cls(delivery.flood_threshold, min(delivery.flood_keep, delivery.flood_threshold))


def plan_deliveries(
    entries: Sequence[Entry],
    subscriptions: Sequence[Subscription],
    chat_filters: Mapping[int, str],
    *,
    chat_zones: Mapping[int, tzinfo] | None = None,
    feed_id: int,
    feed_title: str,
    seen: Collection[str] = frozenset(),
    boilerplate: Boilerplate | None = None,
    backlog: bool = False,
    flood: FloodRule | None = None,
    languages: Mapping[int, str] | None = None,
    site_link: str = "",
) -> list[PlannedDelivery]:
    """Dedupe, filter, collapse floods and render: the pure middle of the chain.

    Takes the entries oldest first, the audience's subscriptions, each chat's
    chat-wide filter expression and time zone (``chat_zones``, UTC where missing) and
    the keys already seen. Returns the deliveries in
    entry order, one per entry and subscription, where: the entry is not in ``seen``
    (unless ``backlog``, which is made of seen entries); the subscription is not
    paused; the chat-wide filter and the subscription's filter both pass (see
    ``stored_filters`` for a stored filter that no longer compiles). Each entry is
    rendered once per display options, matched terms and time zone; an entry the renderer fails
    on is sent as its title and link.

    With a ``flood`` rule, a subscription that would get more than its threshold
    (after filtering) gets only the newest ``keep``, preceded by one summary in the
    chat's language (``languages``, default English) naming how many more there are
    and ``site_link`` (else the subscription's feed URL). A backlog, which was asked
    for, is never collapsed.

    Each delivery carries the entry's article keys (``site_link``, the feed's home
    page, names the site of an entry without a link), by which the store drops the
    same article already queued for that chat by another feed (cross-feed dedupe).
    """
    audience = [
        (sub, stored_filters(chat_filters.get(sub.chat_id, ""), sub.filter_expr))
        for sub in subscriptions
        if not sub.paused
    ]
    offered = [entry for entry in entries if backlog or entry.key not in seen]
    passing: list[list[tuple[int, tuple[str, ...]]]] = [[] for _ in audience]
    any_filter = any(filters for _, filters in audience)
    for position, entry in enumerate(offered):
        fields = filter_fields(entry) if any_filter else None
        for index, (_, filters) in enumerate(audience):
            alert_terms: tuple[str, ...] = ()
            if filters and fields is not None:
                result = match_all(filters, fields)
                if not result.passed:
                    continue
                alert_terms = result.matched
            passing[index].append((position, alert_terms))
    planned: list[tuple[float, int, PlannedDelivery]] = []
    zones = chat_zones or {}
    rendered: dict[tuple[str, DisplayOptions, tuple[str, ...], tzinfo], OutgoingMessage] = {}
    for index, (sub, _) in enumerate(audience):
        chosen = passing[index]
        if flood is not None and not backlog and len(chosen) > flood.threshold:
            kept = chosen[len(chosen) - flood.keep :] if flood.keep else []
            skipped = chosen[: len(chosen) - len(kept)]
            lang = (languages or {}).get(sub.chat_id, "en")
            # The feed's own URL may carry its reader's key (bot.redact): shown without it.
            summary = flood_summary(lang, len(skipped), feed_title, site_link or scrub(sub.url))
            key = f"flood:{offered[skipped[-1][0]].key}"
            planned.append((skipped[-1][0] + 0.5, index, _delivery(sub, feed_id, key, summary)))
            chosen = kept
        for position, alert_terms in chosen:
            entry = offered[position]
            tz = zones.get(sub.chat_id, UTC)
            cache_key = (entry.key, sub.options, alert_terms, tz)
            message = rendered.get(cache_key)
            if message is None:
                message = _render_or_plain(
                    entry, feed_title, sub.options, alert_terms, boilerplate, tz=tz
                )
                rendered[cache_key] = message
            articles = article_keys(entry, site_link)
            delivery = _delivery(
                sub, feed_id, entry.key, message, backlog=backlog, articles=articles
            )
            planned.append((position, index, delivery))
    planned.sort(key=lambda item: (item[0], item[1]))
    return [delivery for _, _, delivery in planned]


def _delivery(
    sub: Subscription,
    feed_id: int,
    key: str,
    message: OutgoingMessage,
    *,
    backlog: bool = False,
    articles: tuple[str, ...] = (),
) -> PlannedDelivery:
    return PlannedDelivery(
        chat_id=sub.chat_id,
        thread_id=sub.thread_id,
        subscription_id=sub.id,
        feed_id=feed_id,
        entry_key=key,
        message=message,
        backlog=backlog,
        article_keys=articles,
    )


def flood_summary(lang: str, count: int, feed_title: str, link: str) -> OutgoingMessage:
    """The one message standing for ``count`` entries a flood did not send, in ``lang``.

    Plain text with the link written out (Telegram links it); the title and link are
    cut so the text stays far within Telegram's 4096 units.
    """
    link = link if len(link) <= MAX_SUMMARY_LINK else ""
    text = plain(lang, "flood_summary", count=count, title=feed_title[:MAX_SUMMARY_TITLE] or "…")
    if link:
        text = f"{text}\n{link}"
    return OutgoingMessage(text=text, plain_text=text)


def _render_or_plain(
    entry: Entry,
    feed_title: str,
    options: DisplayOptions,
    alert_terms: tuple[str, ...],
    boilerplate: Boilerplate | None,
    *,
    tz: tzinfo = UTC,
) -> OutgoingMessage:
    """The rendered entry (times in ``tz``); if the renderer fails on it, its title and link
    as plain text.

    One entry's unforeseen HTML must not stop its feed: the entry is still delivered,
    and the failure is logged with its traceback so the renderer can be fixed.
    """
    try:
        return render_entry(
            entry,
            feed_title=feed_title,
            options=options,
            tz=tz,
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
