"""A progress message: one message that shows how far a long command has come, edited as it goes.

Telegram counts an edit like a send (429 for a chat edited too often) and every
edit costs the chat a send slot its deliveries and replies also need. So the
message is edited at most once every ``EDIT_GAP`` seconds, only when its text
changes, and each edit takes the chat's next send slot through the replier
(``bot.replies``): however fast the work goes, a 200-feed /sub costs a handful of
edits, not 200. The edits are made by a background task, never by the command's
handler, which only counts (``advance``) and, at the end, has the message show
the final count (``finish``) before its report.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from bot.replies import Replier, Reply

EDIT_GAP = 4.0
"""Seconds between two edits at least: over a group's send interval (3.2 s), so the
edits never queue up behind each other."""


class Progress:
    """A message counting ``done`` of ``total``, worded by ``text(done, total)`` (HTML)."""

    def __init__(
        self,
        replier: Replier,
        chat_id: int,
        thread_id: int | None,
        total: int,
        text: Callable[[int, int], str],
    ) -> None:
        self._replier = replier
        self._clock = replier.clock
        self._chat_id = chat_id
        self._thread_id = thread_id
        self._total = total
        self._text = text
        self._done = 0
        self._shown = ""
        self._message_id: int | None = None
        self._changed = asyncio.Event()
        self._calling = False
        """A Bot API call is under way: let it finish rather than cancel it half sent."""
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Send the message (on the chat's next slot) and keep it up to date from now on."""
        self._task = asyncio.create_task(self._run())

    def advance(self, *_result: object) -> None:
        """One more of ``total`` is done (takes and ignores any result it is handed)."""
        self._done += 1
        self._changed.set()

    async def finish(self, text: str) -> None:
        """Stop updating; if the message was sent, have it show ``text`` (on its slot)."""
        await self.stop()
        if self._message_id is not None and text != self._shown:
            self._shown = text
            await self._replier.send(Reply(self._chat_id, text, edit_of=self._message_id))

    async def stop(self) -> None:
        """Stop updating the message; a call already under way is let finish."""
        self._stopping = True
        self._changed.set()
        task, self._task = self._task, None
        if task is None:
            return
        if not self._calling:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        text = self._text(self._done, self._total)
        # Gaps count from the moment a call is made, not from Telegram's answer.
        last = self._clock.monotonic()
        self._calling = True
        try:
            message = await self._replier.send_waiting(Reply(self._chat_id, text, self._thread_id))
        finally:
            self._calling = False
        if message is None or self._stopping:
            # Not sent (slots taken) or no longer needed: ``finish`` edits what was sent.
            self._message_id = message.message_id if message is not None else None
            self._shown = text
            return
        self._message_id, self._shown = message.message_id, text
        while not self._stopping:
            await self._changed.wait()
            self._changed.clear()
            await self._clock.sleep(last + EDIT_GAP - self._clock.monotonic())
            text = self._text(self._done, self._total)
            if self._stopping or text == self._shown:
                continue
            self._shown, last = text, self._clock.monotonic()
            self._calling = True
            try:
                await self._replier.send(Reply(self._chat_id, text, edit_of=self._message_id))
            finally:
                self._calling = False
