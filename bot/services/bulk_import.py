"""``newsrelay import-opml``: subscribe one chat to thousands of feeds without fetching any.

The outlines become feed rows and subscriptions in one store transaction
(``Store.subscribe_many``). A new feed is first due at a random moment within one
polling interval (``bot.cadence.first_check``), so the running bot reads 10,000 imported
feeds spread over that interval instead of all at once. That first read marks the
feed's current entries seen and sends none: a chat importing hundreds of feeds wants
the news from now on, not a backlog of thousands. Feeds already in the database keep
their state; a URL that is not an http(s) address is reported and skipped.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.cadence import first_check
from bot.config import Settings
from bot.feeds.failure import FetchError
from bot.feeds.fetch import check_url
from bot.opml import Outline
from bot.services.subscriptions import normalise_url
from bot.store import BulkOutcome, BulkState, NewFeed, Store


@dataclass(frozen=True, slots=True)
class Refused:
    """An outline whose URL cannot be a feed address, and why (English, for the terminal)."""

    url: str
    reason: str


async def import_outlines(
    store: Store,
    settings: Settings,
    chat_id: int,
    outlines: Sequence[Outline],
    *,
    now: float,
    rng: random.Random,
    on_outline: Callable[[], None] = lambda: None,
) -> list[BulkOutcome | Refused]:
    """Subscribe ``chat_id`` (which must exist in the store) to every outline's feed.

    ``on_outline`` hears each outline as it is checked (a progress bar); the feeds are
    then written in one batch, and their first check happens in the running bot.

    Returns one result per outline with a distinct URL, in order: a ``BulkOutcome``
    (added with its number, already followed, or over the chat's limit), or ``Refused``.
    """
    interval = settings.polling.effective_interval
    results: list[BulkOutcome | Refused | str] = []
    feeds: list[NewFeed] = []
    for outline in outlines:
        on_outline()
        url = normalise_url(outline.url)
        try:
            check_url(url or outline.url)
        except FetchError as exc:
            results.append(Refused(outline.url, str(exc)))
            continue
        if url is None:
            results.append(Refused(outline.url, "not a web address"))
            continue
        results.append(url)
        feeds.append(NewFeed(url, outline.title, first_check(now, interval, rng)))
    outcomes = await store.subscribe_many(
        chat_id,
        feeds,
        interval_seconds=interval,
        limit=settings.access.max_subscriptions_per_chat,
        now=now,
    )
    by_url = {outcome.url: outcome for outcome in outcomes}
    done: list[BulkOutcome | Refused] = []
    reported: set[str] = set()
    for result in results:
        if isinstance(result, str):
            if result in reported:
                continue
            reported.add(result)
            done.append(by_url.get(result) or BulkOutcome(result, BulkState.EXISTS))
        else:
            done.append(result)
    return done
