"""The only place that speaks SQL (SQLite or PostgreSQL): migrations, chats, feeds,
subscriptions, seen keys, outbox."""

from bot.store.bulk import BulkOutcome, BulkState, NewFeed
from bot.store.codec import (
    CodecError,
    decode_message,
    decode_options,
    encode_message,
    encode_options,
)
from bot.store.engine import database_errors, error_reason
from bot.store.records import (
    AudienceChanged,
    Chat,
    FailingFeed,
    Followers,
    NewSubscription,
    OutboxHeads,
    OutboxRow,
    Stats,
    SubscriptionExists,
    UnknownChatError,
)
from bot.store.schema import SCHEMA_VERSION
from bot.store.store import Store

__all__ = [
    "SCHEMA_VERSION",
    "AudienceChanged",
    "BulkOutcome",
    "BulkState",
    "Chat",
    "CodecError",
    "FailingFeed",
    "Followers",
    "NewFeed",
    "NewSubscription",
    "OutboxHeads",
    "OutboxRow",
    "Stats",
    "Store",
    "SubscriptionExists",
    "UnknownChatError",
    "database_errors",
    "decode_message",
    "decode_options",
    "encode_message",
    "encode_options",
    "error_reason",
]
