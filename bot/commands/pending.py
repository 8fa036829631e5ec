"""Button actions waiting for a press, looked up by a short random token and used once.

Some buttons must carry more than callback data can hold (64 bytes; a feed's URL
may be longer) or must work only once (the confirmation of /unsub all). Their data
is ``<prefix>:<token>[:<choice>]``, the token a random key into this book, which
remembers what the button would do, in which chat it was shown and which chat it
changes. A press is checked against that record and then, at press time, against
the one rights rule (``bot.commands.rights.pressed_refusal``).

Why a lookup rather than data signed with a key: the data must name a URL too long
for a button, and a confirmation must be spent once, which a signature alone cannot
express; the book does both and needs no key. Tokens come from ``secrets``, so data
cannot be forged to name an entry. The book is bounded (``MAX_PENDING`` entries,
the oldest dropped first) and each entry expires; it lives in memory, so after a
restart old buttons answer as stale, which is what they are.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass

from telegram.ext import ContextTypes

MAX_PENDING = 10_000
TOKEN_BYTES = 9
"""12 URL-safe characters: unguessable, and short enough for any prefix in 64 bytes."""


@dataclass(frozen=True, slots=True)
class Pending:
    """What a button will do when pressed."""

    action: str
    """Which handler may spend it (``subscribe``, ``unsub_all``)."""
    shown_in: int
    """The chat whose message carries the button; a press elsewhere is refused."""
    chat_id: int
    """The chat the action changes (``shown_in``, or a channel managed from there)."""
    thread_id: int | None
    expires: float
    """Wall-clock seconds after which the button is stale."""
    urls: tuple[str, ...] = ()


class PendingBook:
    """Pending actions by token, at most ``limit``; ``take`` spends one."""

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self._limit = limit
        self._entries: OrderedDict[str, Pending] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def offer(self, pending: Pending) -> str:
        """Remember ``pending``; returns its token (dropping the oldest entry when full)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self._entries[token] = pending
        while len(self._entries) > self._limit:
            self._entries.popitem(last=False)
        return token

    def peek(self, token: str, action: str, shown_in: int, now: float) -> Pending | None:
        """The entry for ``token`` if it is for ``action``, shown in ``shown_in`` and not
        expired; None otherwise (an expired entry is forgotten)."""
        found = self._entries.get(token)
        if found is not None and found.expires <= now:
            del self._entries[token]
            return None
        if found is None or found.action != action or found.shown_in != shown_in:
            return None
        return found

    def take(self, token: str, action: str, shown_in: int, now: float) -> Pending | None:
        """Like ``peek``, and the entry is spent: the next ``take`` of it finds nothing."""
        found = self.peek(token, action, shown_in, now)
        if found is not None:
            del self._entries[token]
        return found


def pending_book(context: ContextTypes.DEFAULT_TYPE) -> PendingBook:
    """The application's book, made on first use."""
    book = context.application.bot_data.setdefault("pending", PendingBook())
    assert isinstance(book, PendingBook)  # noqa: S101 - only this function stores it
    return book
