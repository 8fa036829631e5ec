"""Importing an OPML document with the settings a newsrelay export gives (``bot.opml_options``).

The door behind /import and ``newsrelay import-opml``. The order is what makes a
restore exact:

1. the chat-wide filter first, so the new subscriptions' backlog already passes it;
2. each new subscription takes its filter, display options and pause before its
   backlog is planned (``subscribe_all``'s ``prepare``), so the backlog is filtered
   and rendered as the file says, and nothing is queued for a paused one;
3. a subscription the chat already had takes the file's settings afterwards; one
   the file says runs but that is paused here resumes through ``resume_subscriptions``,
   which skips the entries of its pause as /resume does.

A file from another app carries none of these attributes and imports as a plain
list. What the file gives and the parser refuses is returned, never raised.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.models import Subscription
from bot.opml import OpmlDocument
from bot.opml_options import Refusal, SavedSettings, chat_settings, outline_settings
from bot.services import Services
from bot.services.pausing import Resumed, resume_subscriptions
from bot.services.subscriptions import Subscribed, SubscribeResult, subscribe_all


@dataclass(frozen=True, slots=True)
class Refused:
    """A value of the file not taken for one subscription (None: for the whole chat)."""

    subscription: Subscription | None
    refusal: Refusal


@dataclass(slots=True)
class ImportOutcome:
    """What importing a document did, for the report."""

    results: list[SubscribeResult] = field(default_factory=list)
    """One per outline, in order (as ``subscribe_all`` returns them)."""
    restored: int = 0
    """Subscriptions whose settings came from the file."""
    paused: int = 0
    """Of those, how many are paused now."""
    chat_filter: str | None = None
    """The chat-wide filter set from the file, if it gave one that was taken."""
    refused: list[Refused] = field(default_factory=list)
    resumed: list[Resumed] = field(default_factory=list)
    """Subscriptions the chat had paused that the file says run, resumed."""


async def _apply(services: Services, sub: Subscription, saved: SavedSettings) -> Subscription:
    """Write what ``saved`` gives to ``sub`` (except resuming); the subscription as it is now."""
    store = services.store
    changed = sub
    if saved.filter_expr is not None and saved.filter_expr != sub.filter_expr:
        await store.set_subscription_filter(sub.id, saved.filter_expr)
        changed = dataclasses.replace(changed, filter_expr=saved.filter_expr)
    options = saved.options(sub.options)
    if options != sub.options:
        await store.set_subscription_options(sub.id, options)
        changed = dataclasses.replace(changed, options=options)
    if saved.paused and not sub.paused:
        await store.set_subscription_paused(sub.id, True, now=services.clock())
        changed = dataclasses.replace(changed, paused=True)
    return changed


async def import_document(
    services: Services,
    chat_id: int,
    thread_id: int | None,
    document: OpmlDocument,
    *,
    on_result: Callable[[SubscribeResult], None] | None = None,
) -> ImportOutcome:
    """Subscribe the chat (or topic) to the document's feeds and restore what it says of them.

    ``on_result`` hears each subscription result as it comes. The new
    subscriptions' backlog is held, as ``subscribe_all`` says: call
    ``release_backlog`` with ``results`` once the chat has been told.
    """
    outcome = ImportOutcome()
    saved = {outline.url: outline_settings(outline) for outline in document.outlines}
    chat = chat_settings(document)
    outcome.refused += [Refused(None, refusal) for refusal in chat.refused]
    if chat.filter_expr is not None:
        await services.store.set_chat_filter(chat_id, chat.filter_expr)
        outcome.chat_filter = chat.filter_expr

    async def prepare(url: str, sub: Subscription) -> Subscription:
        given = saved.get(url)
        return sub if given is None else await _apply(services, sub, given)

    outcome.results = await subscribe_all(
        services,
        chat_id,
        thread_id,
        [outline.url for outline in document.outlines],
        on_result=on_result,
        prepare=prepare,
    )
    to_resume: list[Subscription] = []
    for result in outcome.results:
        given = saved.get(result.url)
        if not isinstance(result, Subscribed) or given is None:
            continue
        sub = result.subscription
        outcome.refused += [Refused(sub, refusal) for refusal in given.refused]
        if not given.says_anything:
            continue
        if result.existed:
            sub = await _apply(services, sub, given)
            if given.paused is False and sub.paused:
                to_resume.append(sub)
                sub = dataclasses.replace(sub, paused=False)
        outcome.restored += 1
        outcome.paused += sub.paused
    if to_resume:
        outcome.resumed = await resume_subscriptions(services, to_resume, backlog=False)
    return outcome
