"""Services: what command handlers call, between the chat commands and the pipeline.

``Services`` holds what handlers and jobs share, built once in ``bot.app``, never
global. The modules beside it are the doors to the entry chain:
``subscriptions`` (/sub, /import, ``import-opml``), ``pausing`` (/pause, /resume)
and ``filter_preview`` (/filter's preview).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.feeds.fetch import Fetcher
from bot.ratelimit import SendSlots
from bot.services.fairness import FairSlots
from bot.store import Store

if TYPE_CHECKING:  # the Telegram side: `newsrelay import-opml` runs without it
    from bot.replies import Replier


@dataclass(slots=True)
class Services:
    """The collaborators of a running bot."""

    settings: Settings
    store: Store
    fetcher: Fetcher
    clock: Callable[[], float]
    wake_delivery: Callable[[], None]
    slots: SendSlots
    """Replies book the same per-chat send slots as deliveries: Telegram counts both."""
    replier: Replier | None = None
    """Sends command replies; None where nothing replies (the command line)."""
    feed_locks: defaultdict[str, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock)
    )
    """One lock per feed URL: subscriptions to one feed are set up one at a time."""
    chat_locks: defaultdict[int, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock)
    )
    """One lock per chat: a chat's subscriptions are added one at a time (its limit)."""
    subscribing: FairSlots = field(default_factory=FairSlots)
    """How many feeds subscribing fetches at once, per chat and overall."""
