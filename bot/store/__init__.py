"""The only place that speaks SQL: migrations, chats, feeds, subscriptions, seen keys, outbox."""

from bot.store.codec import (
    CodecError,
    decode_message,
    decode_options,
    encode_message,
    encode_options,
)
from bot.store.records import (
    Chat,
    OutboxItem,
    OutboxRow,
    Stats,
    SubscriptionExists,
    UnknownChatError,
)
from bot.store.schema import SCHEMA_VERSION
from bot.store.store import Store

__all__ = [
    "SCHEMA_VERSION",
    "Chat",
    "CodecError",
    "OutboxItem",
    "OutboxRow",
    "Stats",
    "Store",
    "SubscriptionExists",
    "UnknownChatError",
    "decode_message",
    "decode_options",
    "encode_message",
    "encode_options",
]
