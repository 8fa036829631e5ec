"""The /filter preview: which of a feed's latest entries a filter would let through."""

from __future__ import annotations

from dataclasses import dataclass

from bot.feeds.load import load_feed
from bot.models import Subscription
from bot.pipeline import chronological, filter_verdicts
from bot.services import Services

PREVIEW_ENTRIES = 10


@dataclass(frozen=True, slots=True)
class FilterPreview:
    """A feed's title and its newest entries' titles, each with whether it would be delivered."""

    title: str
    verdicts: tuple[tuple[str, bool], ...]


async def preview_filter(services: Services, sub: Subscription, expr: str) -> FilterPreview:
    """Fetch the subscription's feed and judge its newest entries by the chat filter and ``expr``.

    ``expr`` stands in for the subscription's own filter (the one just set, or the
    stored one); both go through the pipeline's guarded compile. Returns the
    preview, newest first, at most ``PREVIEW_ENTRIES``. Raises ``FetchError``
    when the feed cannot be read.
    """
    _, parsed, _ = await load_feed(services.fetcher, sub.url)
    chat = await services.store.get_chat(sub.chat_id)
    newest = chronological(parsed.entries)[::-1][:PREVIEW_ENTRIES]
    verdicts = filter_verdicts(newest, chat.filter_expr if chat else "", expr)
    return FilterPreview(
        title=parsed.title or sub.url,
        verdicts=tuple((entry.title or entry.link, passed) for entry, passed in verdicts),
    )
