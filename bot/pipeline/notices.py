"""What subscribers are told about their feed's health: pure rules and messages.

A feed that keeps failing is reported once per run of failures: when at least
``FAILING_MIN_CHECKS`` checks in a row failed and the run has lasted
``polling.failure_notice_after_seconds``. Each unpaused subscription of an active chat
gets one line in its chat's language with the reason in plain words
(``bot.i18n.failures``). When a reported feed can be read again they are told once
more. A feed answering ``410 Gone`` on ``GONE_CONFIRMATIONS`` checks in a row is gone:
every subscriber (paused or not) is told which subscription was removed.

The messages are ``PlannedDelivery`` items: they go through the same outbox, send
slots and retries as entries, queued in the same transaction that records the state
saying they were sent (``bot.store``'s ``record_fetch_failure`` and friends).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.feeds.failure import FetchError, FetchErrorKind
from bot.i18n import plain
from bot.i18n.failures import fetch_failure_text
from bot.models import Feed, OutgoingMessage, PlannedDelivery, Subscription
from bot.redact import scrub

FAILING_MIN_CHECKS = 3
GONE_STATUS = 410
GONE_CONFIRMATIONS = 2
"""410 on this many checks in a row ends the feed: one stray 410 from a misconfigured
proxy must not remove thousands of subscriptions."""
MAX_TITLE = 200
HOUR = 3600
DAY = 86_400

_Text = Callable[[str, Subscription], str]
"""A notice's text for a chat language and a subscription."""


def should_report_failing(feed: Feed, *, failures: int, now: float, after_seconds: int) -> bool:
    """Whether this failure (the ``failures``-th in a row, at ``now``) is the one to report.

    Once per run: never when the run was already reported.
    """
    if feed.failure_notified or failures < FAILING_MIN_CHECKS:
        return False
    since = now if feed.failing_since is None else feed.failing_since
    return now - since >= after_seconds


def is_gone(feed: Feed, error: FetchError) -> bool:
    """Whether this failure ends the feed: 410 now and on the checks just before it."""
    if error.kind is not FetchErrorKind.HTTP_STATUS or error.status != GONE_STATUS:
        return False
    previous = FetchError.from_code(feed.last_error or "")
    earlier_gone = (
        previous is not None
        and previous.kind is FetchErrorKind.HTTP_STATUS
        and previous.status == GONE_STATUS
    )
    return earlier_gone and feed.error_count + 1 >= GONE_CONFIRMATIONS


def duration_text(lang: str, seconds: float) -> str:
    """ "14 hours", "3 days": how long a feed has failed, in whole hours below two days."""
    if seconds < 2 * DAY:
        return plain(lang, "duration_hours", count=max(1, int(seconds // HOUR)))
    return plain(lang, "duration_days", count=int(seconds // DAY))


def failing_notices(
    feed: Feed,
    error: FetchError,
    subscriptions: Sequence[Subscription],
    languages: Mapping[int, str],
    *,
    now: float,
) -> list[PlannedDelivery]:
    """One "your feed has been failing" message per subscription."""
    since = now if feed.failing_since is None else feed.failing_since

    def text(lang: str, _sub: Subscription) -> str:
        return plain(
            lang,
            "feed_failing",
            title=_title(feed),
            duration=duration_text(lang, now - since),
            reason=fetch_failure_text(lang, error),
        )

    return _notices(feed, subscriptions, languages, f"notice:failing:{since:.0f}", text)


def recovered_notices(
    feed: Feed, subscriptions: Sequence[Subscription], languages: Mapping[int, str]
) -> list[PlannedDelivery]:
    """One "your feed works again" message per subscription."""
    since = feed.failing_since or 0.0

    def text(lang: str, _sub: Subscription) -> str:
        return plain(lang, "feed_recovered", title=_title(feed))

    return _notices(feed, subscriptions, languages, f"notice:recovered:{since:.0f}", text)


def gone_notices(
    feed: Feed, subscriptions: Sequence[Subscription], languages: Mapping[int, str]
) -> list[PlannedDelivery]:
    """One "this feed is gone, subscription #N was removed" message per subscription."""

    def text(lang: str, sub: Subscription) -> str:
        return plain(lang, "feed_gone", title=_title(feed), number=sub.number)

    return _notices(feed, subscriptions, languages, "notice:gone", text)


def _title(feed: Feed) -> str:
    """The feed's name in a notice: its title, else its URL without secrets (``scrub``: a
    group's members are not all the one who subscribed a private feed)."""
    return (feed.title or scrub(feed.url))[:MAX_TITLE]


def _notices(
    feed: Feed,
    subscriptions: Sequence[Subscription],
    languages: Mapping[int, str],
    key: str,
    text: _Text,
) -> list[PlannedDelivery]:
    items = []
    for sub in subscriptions:
        line = text(languages.get(sub.chat_id, "en"), sub)
        items.append(
            PlannedDelivery(
                chat_id=sub.chat_id,
                thread_id=sub.thread_id,
                subscription_id=sub.id,
                feed_id=feed.id,
                entry_key=key,
                message=OutgoingMessage(text=line, plain_text=line),
            )
        )
    return items
