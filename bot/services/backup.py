"""Restoring the settings a newsrelay export gives (``bot.opml_options``) as an import goes.

The door behind /import (``import_document``) and ``newsrelay import-opml`` (a
``Restorer`` around the bulk import). The order is what makes a restore exact:

1. the chat-wide filter first, so the new subscriptions' backlog already passes it;
2. on /import, each new subscription takes its filter, display options and pause
   before its backlog is planned (``subscribe_all``'s ``prepare``), so the backlog
   is filtered and rendered as the file says, and nothing is queued for a paused
   one (the bulk import queues no backlog, so it restores right after);
3. a subscription the chat already had takes the file's settings afterwards; one
   the file says runs but that is paused here resumes through ``resume_subscriptions``,
   which skips the entries of its pause as /resume does.

An interval outside this bot's bounds (``polling.min_interval_seconds`` up to
``max_interval``, what ``/set ID interval`` accepts) is refused like a bad value.
Outlines are matched to subscriptions by their URL as ``normalise_url`` spells it
(the first outline of a spelling counts). A file from another app carries none of
these attributes and imports as a plain list. What the file gives and the parser
refuses is returned, never raised.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.models import Subscription
from bot.opml import OpmlDocument
from bot.opml_options import INTERVAL, Refusal, SavedSettings, chat_settings, outline_settings
from bot.services import Services
from bot.services.pausing import Resumed, resume_subscriptions
from bot.services.subscriptions import (
    Subscribed,
    SubscribeResult,
    normalise_url,
    subscribe_all,
)


@dataclass(frozen=True, slots=True)
class Refused:
    """A value of the file not taken for one subscription (None: for the whole chat)."""

    subscription: Subscription | None
    refusal: Refusal


@dataclass(slots=True)
class Restored:
    """What the file's settings did, for the report."""

    restored: int = 0
    """Subscriptions whose settings came from the file."""
    paused: int = 0
    """Of those, how many are paused now."""
    chat_filter: str | None = None
    """The chat-wide filter set from the file, if it gave one that was taken."""
    time_zone: str | None = None
    """The chat's time zone set from the file, if it gave one that was taken."""
    refused: list[Refused] = field(default_factory=list)
    resumed: list[Resumed] = field(default_factory=list)
    """Subscriptions the chat had paused that the file says run, resumed."""


def _key(url: str) -> str:
    return normalise_url(url) or url


class Restorer:
    """The settings of one document, applied to one chat's subscriptions as they are made."""

    def __init__(
        self, services: Services, chat_id: int, document: OpmlDocument, *, max_interval: int
    ) -> None:
        self.services = services
        self.chat_id = chat_id
        self.chat = chat_settings(document)
        bounds = (services.settings.polling.min_interval_seconds, max_interval)
        self.saved: dict[str, SavedSettings] = {}
        for outline in document.outlines:
            self.saved.setdefault(_key(outline.url), _bounded(outline_settings(outline), bounds))
        self.done = Restored()
        self._resume: list[Subscription] = []

    async def restore_chat(self) -> None:
        """Set the chat-wide filter and time zone the file gives: before any subscription."""
        store = self.services.store
        self.done.refused += [Refused(None, refusal) for refusal in self.chat.refused]
        if self.chat.filter_expr is not None:
            await store.set_chat_filter(self.chat_id, self.chat.filter_expr)
            self.done.chat_filter = self.chat.filter_expr
        if self.chat.time_zone is not None:
            zone = None if self.chat.time_zone == "UTC" else self.chat.time_zone
            await store.set_chat_timezone(self.chat_id, zone)
            self.done.time_zone = self.chat.time_zone

    async def prepare(self, url: str, sub: Subscription) -> Subscription:
        """``subscribe_all``'s hook: a new subscription takes its settings before its backlog."""
        saved = self.saved.get(_key(url))
        return sub if saved is None else await self._apply(sub, saved)

    async def restore(self, url: str, sub: Subscription, *, prepared: bool) -> None:
        """Count (and unless ``prepared``, apply) what the file says of ``url``'s subscription."""
        saved = self.saved.get(_key(url))
        if saved is None:
            return
        self.done.refused += [Refused(sub, refusal) for refusal in saved.refused]
        if not saved.says_anything:
            return
        if not prepared:
            sub = await self._apply(sub, saved)
            if saved.paused is False and sub.paused:
                self._resume.append(sub)
                sub = dataclasses.replace(sub, paused=False)
        self.done.restored += 1
        self.done.paused += sub.paused

    async def restore_numbered(self, numbered: Mapping[int, str]) -> None:
        """``restore`` (applying) each of the chat's subscriptions ``numbered`` names by its
        number, with the URL it was imported from: after a bulk import, which queues no backlog.
        """
        if not numbered:
            return
        for sub in await self.services.store.list_subscriptions(self.chat_id):
            url = numbered.get(sub.number)
            if url is not None:
                await self.restore(url, sub, prepared=False)

    async def finish(self) -> Restored:
        """Resume what the file says runs and was paused here; what was done."""
        if self._resume:
            self.done.resumed = await resume_subscriptions(
                self.services, self._resume, backlog=False
            )
            self._resume = []
        return self.done

    async def _apply(self, sub: Subscription, saved: SavedSettings) -> Subscription:
        """Write what ``saved`` gives to ``sub`` (all but resuming); the subscription now."""
        store = self.services.store
        changed = sub
        if saved.filter_expr is not None and saved.filter_expr != sub.filter_expr:
            await store.set_subscription_filter(sub.id, saved.filter_expr)
            changed = dataclasses.replace(changed, filter_expr=saved.filter_expr)
        options = saved.options(sub.options)
        if options != sub.options:
            await store.set_subscription_options(sub.id, options)
            changed = dataclasses.replace(changed, options=options)
        if saved.interval is not None and (saved.interval or None) != sub.interval_seconds:
            seconds = saved.interval or None
            # A shorter interval applies from now, as /set ID interval does it.
            due_by = self.services.clock() + seconds if seconds else None
            await store.set_subscription_interval(sub.id, seconds, due_by=due_by)
            changed = dataclasses.replace(changed, interval_seconds=seconds)
        if saved.paused and not sub.paused:
            await store.set_subscription_paused(sub.id, True, now=self.services.clock())
            changed = dataclasses.replace(changed, paused=True)
        return changed


def _bounded(saved: SavedSettings, bounds: tuple[int, int]) -> SavedSettings:
    """``saved`` with an interval outside ``bounds`` (seconds) taken out and refused."""
    low, high = bounds
    if not saved.interval or low <= saved.interval <= high:
        return saved
    refusal = Refusal(INTERVAL, str(saved.interval), bounds=bounds)
    return dataclasses.replace(saved, interval=None, refused=(*saved.refused, refusal))


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What /import did: one result per outline, in order, and what the file restored."""

    results: list[SubscribeResult]
    restored: Restored


async def import_document(
    services: Services,
    chat_id: int,
    thread_id: int | None,
    document: OpmlDocument,
    *,
    max_interval: int,
    on_result: Callable[[SubscribeResult], None] | None = None,
) -> ImportOutcome:
    """Subscribe the chat (or topic) to the document's feeds and restore what it says of them.

    ``max_interval`` is the longest check interval a subscription may ask for,
    seconds; ``on_result`` hears each subscription result as it comes. The new
    subscriptions' backlog is held, as ``subscribe_all`` says: call
    ``release_backlog`` with ``results`` once the chat has been told.
    """
    restorer = Restorer(services, chat_id, document, max_interval=max_interval)
    await restorer.restore_chat()
    results = await subscribe_all(
        services,
        chat_id,
        thread_id,
        [outline.url for outline in document.outlines],
        on_result=on_result,
        prepare=restorer.prepare,
    )
    for result in results:
        if isinstance(result, Subscribed):
            await restorer.restore(result.url, result.subscription, prepared=not result.existed)
    return ImportOutcome(results, await restorer.finish())
