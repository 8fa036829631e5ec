"""FairSlots: a bound per key (a chat) and one over all keys, and nobody waits behind a queue."""

from __future__ import annotations

import asyncio

import pytest

from bot.services.fairness import FairSlots


class Jobs:
    """Jobs that hold their slot until released, recording how many ran at once."""

    def __init__(self, slots: FairSlots) -> None:
        self.slots = slots
        self.running: dict[int, int] = {}
        self.most: dict[int, int] = {}
        self.started: list[tuple[int, int]] = []
        self.release = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def total(self) -> int:
        return sum(self.running.values())

    async def _job(self, key: int, n: int) -> None:
        async with self.slots.slot(key):
            self.started.append((key, n))
            self.running[key] = self.running.get(key, 0) + 1
            self.most[key] = max(self.most.get(key, 0), self.running[key])
            self.most[0] = max(self.most.get(0, 0), self.total())
            await self.release.wait()
            self.running[key] -= 1

    def start(self, key: int, count: int) -> None:
        self.tasks += [asyncio.create_task(self._job(key, n)) for n in range(count)]


async def _turns(count: int = 20) -> None:
    """Let every ready task run until it waits (a few loop turns)."""
    for _ in range(count):
        await asyncio.sleep(0)


async def test_per_key_and_overall_bounds() -> None:
    """Three keys with ten jobs each: at most two of a key and five of all run at once."""
    jobs = Jobs(FairSlots(per_key=2, overall=5))
    for key in (1, 2, 3):
        jobs.start(key, 10)
    await _turns()
    assert jobs.total() == 5
    assert all(jobs.running[key] <= 2 for key in (1, 2, 3))
    jobs.release.set()
    await asyncio.gather(*jobs.tasks)
    assert jobs.most[0] == 5
    assert max(jobs.most[key] for key in (1, 2, 3)) == 2
    assert len(jobs.started) == 30


async def test_a_late_key_waits_behind_running_jobs_not_behind_a_queue() -> None:
    """Key 1 queues 100 jobs; key 2's one job, started later, runs as soon as one of key 1's
    running jobs ends, before key 1's queued jobs."""
    slots = FairSlots(per_key=2, overall=2)
    jobs = Jobs(slots)
    jobs.start(1, 100)
    await _turns()
    jobs.start(2, 1)
    await _turns()
    assert (2, 0) not in jobs.started
    done = jobs.tasks[0]
    jobs.release.set()
    await done
    await _turns()
    assert jobs.started.index((2, 0)) <= 3
    await asyncio.gather(*jobs.tasks)


async def test_idle_keys_are_forgotten() -> None:
    """A key nobody holds or waits for leaves nothing behind."""
    slots = FairSlots(per_key=1, overall=1)
    async with slots.slot(7):
        assert slots.running(7) == 1
    assert slots.running(7) == 0
    assert not slots._keys  # the memory this test is about


def test_at_least_one_place() -> None:
    """A bound of zero would stop every job for good: refused."""
    with pytest.raises(ValueError, match="at least one place"):
        FairSlots(per_key=0)
