"""The processes sharing a PostgreSQL database, as ``newsrelay stats`` lists them."""

from __future__ import annotations

from bot.coordination.coordinator import ALIVE_SECONDS
from bot.store.leases import LeaseStore, ProcessRow


async def process_lines(url: str, *, now: float) -> list[str]:
    """A summary line, then one line per registered process: host and pid, roles, the
    leases it holds (``send``: the outbox sender, ``updates``: the long poller), and its
    last heartbeat. A process silent for more than ``ALIVE_SECONDS`` is "not responding"
    (dead, or cut off; its row goes after a day). Raises the driver's error."""
    leases = LeaseStore.connect(url)
    try:
        rows = await leases.processes()
    finally:
        await leases.close()
    alive = [row for row in rows if now - row.heartbeat_at <= ALIVE_SECONDS]
    silent = len(rows) - len(alive)
    summary = f"processes: {len(alive)} running"
    if silent:
        summary += f", {silent} not responding"
    return [summary, *(_line(row, now) for row in rows)]


def _line(row: ProcessRow, now: float) -> str:
    age = max(0.0, now - row.heartbeat_at)
    state = " (not responding)" if age > ALIVE_SECONDS else ""
    holds = ",".join(row.holds) or "nothing"
    return (
        f"  {row.host} pid {row.pid}: roles {','.join(row.roles)}; holds {holds}; "
        f"last heartbeat {age:.0f} s ago{state}"
    )
