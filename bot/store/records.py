"""Plain records the store hands out, beside the shared ones in bot.models."""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import OutgoingMessage, Subscription


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat the bot knows; inactive chats keep their subscriptions but get nothing."""

    id: int
    kind: str
    title: str
    active: bool
    language: str | None
    filter_expr: str
    deactivated_reason: str | None
    timezone: str | None = None
    """The IANA time zone its times are shown in (/tz); None: UTC."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A queued message as the delivery worker reads it back (a stored ``PlannedDelivery``)."""

    id: int
    chat_id: int
    thread_id: int | None
    subscription_id: int | None
    """None once the subscription is gone (only failed rows outlive it)."""
    feed_id: int
    entry_key: str
    message: OutgoingMessage
    attempts: int
    not_before: float
    created_at: float


@dataclass(frozen=True, slots=True)
class Followers:
    """Who gets a feed's new entries (``Store.followers``)."""

    subscriptions: list[Subscription]
    """The unpaused subscriptions of active chats, by id."""
    chats: dict[int, Chat]
    """Their chats, by id."""


@dataclass(frozen=True, slots=True)
class OutboxHeads:
    """What the sender reads on a pass (``Store.outbox_heads``)."""

    ready: list[OutboxRow]
    """The heads of the chats that may be sent now, oldest first."""
    next_at: float | None
    """When (Unix seconds) the first head not ready yet becomes ready; None if none waits."""


@dataclass(frozen=True, slots=True)
class FailingFeed:
    """A feed whose last checks failed, as `newsrelay stats` lists it."""

    url: str
    failures: int
    """Checks that failed in a row."""
    last_error: str
    """The last failure's ``FetchError.code`` (or older free text)."""
    next_check_at: float
    """Unix time of the next check."""
    failing_since: float | None = None
    """Unix time of the first failure of the run (None for rows from before migration 3)."""


@dataclass(frozen=True, slots=True)
class Stats:
    """The numbers behind `newsrelay stats` and /stats."""

    feeds: int
    subscriptions: int
    chats: int
    active_chats: int
    delivered: int
    pending: int
    failed: int
    failing_feeds: tuple[FailingFeed, ...]
    """Most failures in a row first."""
    failed_expired: int = 0
    """Failed rows older than the ``failed_before`` asked for (due for purging)."""
    orphan_feeds: int = 0
    """Feeds no subscription follows (due for deletion)."""


class SubscriptionExists(Exception):  # noqa: N818 - the name the callers were promised
    """The chat (or forum topic) already follows that feed."""

    def __init__(self, existing: Subscription) -> None:
        super().__init__(f"chat {existing.chat_id} already follows feed {existing.feed_id}")
        self.existing = existing


class UnknownChatError(LookupError):
    """A subscription was asked for a chat the store has never seen: call ensure_chat first."""

    def __init__(self, chat_id: int) -> None:
        super().__init__(f"unknown chat {chat_id}")
        self.chat_id = chat_id


class AudienceChanged(Exception):  # noqa: N818 - says what happened, as SubscriptionExists
    """A feed's followers changed between the read its entries were planned for and the commit
    (``OutboxMixin.commit_entries``'s ``audience``): nothing was written; plan again."""

    def __init__(self, feed_id: int) -> None:
        super().__init__(f"the followers of feed {feed_id} changed while its entries were planned")
        self.feed_id = feed_id


@dataclass(frozen=True, slots=True)
class NewSubscription:
    """A subscription just added (``add_subscription_seeing``) and which of the keys asked
    about its feed had seen when it was added: the backlog /sub may offer it."""

    subscription: Subscription
    seen: frozenset[str]
