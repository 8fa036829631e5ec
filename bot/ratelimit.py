"""Send slots: when the next message to a chat may go out, for replies and deliveries alike.

Telegram allows about 30 messages/s per bot, about one per second in a chat and 20
per minute in a group or channel (Bot API FAQ, "My bot is hitting limits"). Every
message the bot sends, a delivered entry or a command's reply, takes a slot here
first, so both kinds count against the same per-chat and bot-wide budgets.

A slot is *reserved*: ``reserve`` books the earliest moment at which the chat's
budget and the bot-wide budget both allow the send, in one synchronous step, so
concurrent callers can never all read "no wait" and go out together. A chat's
budget uses the generic cell rate algorithm (GCRA, ITU-T I.371): it keeps the
theoretical arrival time of the chat's next message, so booking ahead costs
nothing. The bot-wide budget is a calendar of 1/29-second slots: a booking far
ahead takes one slot and leaves the ones before it free for other chats, which a
single arrival time could not. A 429 blocks only its own chat (``block_chat``).

``in_flight`` counts sends between their slot and Telegram's answer; the test
harness moves virtual time only while it is zero, so the fake Bot API sees each
send at the instant its slot was booked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bot.clock import Clock


@dataclass(slots=True)
class Gcra:
    """One budget: ``burst`` messages at once, then one every ``interval`` seconds."""

    interval: float
    burst: float
    tat: float = 0.0
    """Theoretical arrival time: when the budget is fully refilled."""

    def earliest(self, now: float, cost: float) -> float:
        """The first moment >= ``now`` at which ``cost`` messages may go.

        A batch larger than the burst (an album of several pictures) goes once the
        budget is full and is paid for afterwards, as Telegram counts it.
        """
        return max(now, self.tat + (min(cost, self.burst) - self.burst) * self.interval)

    def book(self, at: float, cost: float) -> None:
        """Spend ``cost`` messages at ``at`` (which ``earliest`` allowed)."""
        self.tat = max(self.tat, at) + cost * self.interval


@dataclass(slots=True)
class Calendar:
    """Bot-wide slots of ``interval`` seconds each, at most one message in each."""

    interval: float
    taken: set[int] = field(default_factory=set)

    def first_free(self, at: float) -> int:
        """The first free slot that starts at ``at`` or later."""
        # A hair of tolerance so that a moment computed as k * interval maps to slot k.
        slot = math.ceil(at / self.interval - 1e-9)
        while slot in self.taken:
            slot += 1
        return slot

    def start(self, slot: int) -> float:
        """When ``slot`` begins, in seconds."""
        return slot * self.interval

    def take(self, slot: int, cost: int, now: float) -> None:
        """Take ``slot`` and ``cost - 1`` more free slots after it (an album's pictures)."""
        self.taken.add(slot)
        extra, following = cost - 1, slot + 1
        while extra > 0:
            if following not in self.taken:
                self.taken.add(following)
                extra -= 1
            following += 1
        if len(self.taken) > 4096:
            # Slots in the past constrain nothing any more.
            oldest = math.floor(now / self.interval) - 1
            self.taken = {taken for taken in self.taken if taken >= oldest}


@dataclass(frozen=True, slots=True)
class Limits:
    """Budgets a little under Telegram's published limits.

    No bursts in a chat: Telegram lets short bursts pass, but how short is not
    documented, and a headline reader does not notice one second between messages.
    """

    global_interval: float = 1 / 29
    """29 messages/s: just under the ~30/s Telegram allows a bot."""
    private_interval: float = 1.05
    group_interval: float = 3.2
    """18.75 per minute: under the 20/min of groups and channels."""


class SendSlots:
    """Books send slots per chat and bot-wide; one instance per bot token."""

    def __init__(self, clock: Clock, limits: Limits | None = None) -> None:
        self._clock = clock
        self._limits = limits or Limits()
        self._global = Calendar(self._limits.global_interval)
        self._chats: dict[int, Gcra] = {}
        self.in_flight = 0
        """Sends whose slot has come and whose answer has not (see ``sending``)."""

    def _chat(self, chat_id: int) -> Gcra:
        budget = self._chats.get(chat_id)
        if budget is None:
            # Negative ids are groups, supergroups and channels: the 20/min limit.
            interval = self._limits.group_interval if chat_id < 0 else self._limits.private_interval
            # One message now, not a burst: Telegram may still count what an earlier
            # process sent to this chat a moment ago.
            budget = Gcra(interval, burst=1, tat=self._clock.monotonic())
            self._chats[chat_id] = budget
        return budget

    def wait_time(self, chat_id: int, cost: int = 1) -> float:
        """Seconds until ``cost`` messages to the chat may go (0.0 when they may now)."""
        now = self._clock.monotonic()
        calendar = self._global
        return calendar.start(calendar.first_free(self._chat(chat_id).earliest(now, cost))) - now

    @property
    def tick(self) -> float:
        """The bot-wide slot length in seconds: the finest a booking can be."""
        return self._limits.global_interval

    def reserve(
        self, chat_id: int, cost: int = 1, *, max_wait: float | None = None
    ) -> float | None:
        """Book the earliest slot for ``cost`` messages to the chat.

        Returns the seconds to wait before sending (under ``tick``: about now), or
        None without booking anything when the wait would exceed ``max_wait`` seconds.
        """
        now = self._clock.monotonic()
        chat, calendar = self._chat(chat_id), self._global
        slot = calendar.first_free(chat.earliest(now, cost))
        at = calendar.start(slot)
        if max_wait is not None and at - now > max_wait:
            return None
        chat.book(at, cost)
        calendar.take(slot, cost, now)
        return max(0.0, at - now)

    def block_chat(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429 for this chat: book nothing there for ``seconds``."""
        chat = self._chat(chat_id)
        chat.tat = max(chat.tat, self._clock.monotonic() + seconds)

    def sending(self) -> _InFlight:
        """Context manager around one Bot API send call, for ``in_flight``."""
        return _InFlight(self)


class _InFlight:
    """Counts a send as in flight from entry until Telegram's answer (or failure)."""

    def __init__(self, slots: SendSlots) -> None:
        self._slots = slots

    def __enter__(self) -> None:
        self._slots.in_flight += 1

    def __exit__(self, *exc: object) -> None:
        self._slots.in_flight -= 1
