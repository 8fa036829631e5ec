"""Fair concurrency: at most a few jobs at once per key (a chat), and a bound over all keys.

One chat's /sub of 200 feeds must not slow down another chat's /sub of one, and all
of them together must leave the fetcher's slots (``fetch.concurrency``) to the
feed poller. ``FairSlots.slot(key)`` admits a job once its key has a free place
(``per_key``) and then once there is a free place overall (``overall``): a key
waits for the overall bound with at most ``per_key`` jobs, so however many jobs
one key queues, another key's first job waits behind at most ``overall`` running
jobs and ``per_key`` queued ones of each other key. asyncio's semaphores wake
waiters in order, so nobody waits forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

SUBSCRIBE_PER_CHAT = 4
"""Feeds one chat's /sub or /import fetches at once."""
SUBSCRIBE_OVERALL = 12
"""Feeds all subscribing chats fetch at once (the fetcher itself allows ``fetch.concurrency``,
32 by default, which the poller needs too)."""


@dataclass(slots=True)
class _Key:
    semaphore: asyncio.Semaphore
    users: int = 0


@dataclass(slots=True)
class FairSlots:
    """At most ``per_key`` jobs at once per key and ``overall`` at once in all."""

    per_key: int = SUBSCRIBE_PER_CHAT
    overall: int = SUBSCRIBE_OVERALL
    _all: asyncio.Semaphore = field(init=False)
    _keys: dict[int, _Key] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.per_key < 1 or self.overall < 1:
            raise ValueError("FairSlots needs at least one place per key and overall")
        self._all = asyncio.Semaphore(self.overall)

    def running(self, key: int) -> int:
        """Jobs of ``key`` holding or waiting for a place (for tests and metrics)."""
        found = self._keys.get(key)
        return 0 if found is None else found.users

    @asynccontextmanager
    async def slot(self, key: int) -> AsyncIterator[None]:
        """Hold one place of ``key`` and one overall while the block runs."""
        entry = self._keys.get(key)
        if entry is None:
            entry = self._keys[key] = _Key(asyncio.Semaphore(self.per_key))
        entry.users += 1
        try:
            async with entry.semaphore, self._all:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                # Nobody holds or waits for it: a new one is the same.
                del self._keys[key]
