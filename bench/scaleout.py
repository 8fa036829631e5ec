"""Scale-out: 1, then 2 ``newsrelay run`` processes on one PostgreSQL against the feed farm.

Run: ``.venv/bin/python bench/scaleout.py [--feeds 2000] [--chats 20] [--interval 2]
[--seconds 60] [--database-url postgresql://…]``.

The far side is ``bench/feedfarm.py`` (the polling benchmark's): ``--feeds`` feeds built
from the corpus's ``feeds/`` (``../shared`` beside the clone, or ``TEST_SHARED_DIR``;
without it the benchmark exits with one line saying so) on ``--hosts`` loopback hosts, each
gaining a new entry in 10% of its cycles, and the fake Telegram. Feed ``i`` is followed by
chat ``i mod --chats``. The database is seeded as a running bot leaves it
(``bench/polling.py``'s seeding), every feed due at a moment spread over the interval. The
interval is short on purpose: the bots cannot keep up, so the figure is what they can do,
not what the schedule asks for. At the default 2 s, 2,000 feeds fall due at 1,000 a second,
more than two processes fetch on a 2-core machine (478-714 a second when measured for
issue 12); at 3 s (667 a second) two processes ran out of due feeds, their bots idle a
third of the time.

Three runs, each on a fresh database: one process; two processes; two processes of which
the one holding the sender's lease is killed with SIGKILL halfway through the measured
window. After ``--warmup`` seconds, ``--seconds`` are measured:

- feeds fetched per second (requests the farm answered in the window);
- CPU seconds per 1,000 fetches: the bot processes' (user + system, from /proc), and
  PostgreSQL's (its server processes) beside it;
- then the farm stops changing feeds, the bots read every feed once more and empty the
  outbox, and the entries the farm served are compared with the messages Telegram
  accepted: not delivered (served, not sent by the end: lost, or still held back by a
  check that failed and waits for its retry; the bots' logs count checks that crashed on
  the database; of which still queued: rows left in the outbox when the drain gave up,
  sent late rather than lost) and duplicated (sent more than once; with the number of
  chats they went to: one message in flight per chat may repeat after a SIGKILL);
- in the kill run: seconds from the SIGKILL until the survivor holds the sender's lease.

``--runs`` picks the runs (``1,2,2k`` by default). Each run of 2 is compared with the run
of 1 just before it: the speed of a shared virtual machine drifts by ±10% from one run to
the next, so ``--runs 1,2,1,2,1,2`` gives three pairs to report, not one.

Without ``--database-url`` a PostgreSQL server is started with ``pgserver`` (the test
extra) in a temporary folder, with its default durability settings. Logging of the bots
is at WARNING. The machine's cores are shared by the farm, PostgreSQL and the bots; the
figures say how the bots' work scales there, not what a dedicated host would do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from bench.polling import chat_of
from bot.store import Store
from bot.store.leases import LeaseStore
from tests.corpus import CORPUS_MISSING, find_shared

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DRAIN_STALL_SECONDS = 60.0
"""The drain gives up when the outbox has not shrunk for this long."""
DRAIN_SECONDS = 900.0
"""... or after this long in all."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_cpu(postmaster: int) -> float:
    """CPU seconds of the PostgreSQL server: the postmaster, its live children (backends,
    writers) and the children it has reaped (a backend that ended: a connection closed)."""
    try:
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    total = sum(int(field) for field in fields[11:15]) / CLOCK_TICKS  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


class Postgres:
    """The server: one started with pgserver, or the one ``--database-url`` names."""

    def __init__(self, url: str | None) -> None:
        self._given = url
        self._folder: Path | None = None
        self._server: Any = None
        self.admin_url = url or ""
        self.postmaster = 0

    def __enter__(self) -> Postgres:
        if self._given:
            return self
        self._folder = Path(tempfile.mkdtemp(prefix="bench-scaleout-pg-"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver  # noqa: PLC0415 - only without --database-url

            self._server = pgserver.get_server(self._folder / "data", cleanup_mode="delete")
        self.admin_url = str(self._server.get_uri())
        pidfile = self._folder / "data" / "postmaster.pid"
        self.postmaster = int(pidfile.read_text().split()[0])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.cleanup()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def serialization_failures(self) -> Counter[str] | None:
        """Serialization failures the server logged so far, by the failing statement's first
        words (None for a server not ours)."""
        if self._folder is None:
            return None
        try:
            text = (self._folder / "data" / "log").read_text(errors="replace")
        except OSError:
            return None
        failures: Counter[str] = Counter()
        failing = False
        for line in text.splitlines():
            if "could not serialize access" in line:
                failing = True
                failures["total"] += 1
            elif failing and "STATEMENT:" in line:
                failures[" ".join(line.split("STATEMENT:", 1)[1].split())[:70]] += 1
                failing = False
        return failures

    def database(self, name: str) -> str:
        """Create database ``name``; its URL."""
        import asyncpg  # noqa: PLC0415 - PostgreSQL only
        from sqlalchemy.engine import make_url  # noqa: PLC0415

        admin = make_url(self.admin_url)

        async def create() -> None:
            dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
            connection = await asyncpg.connect(dsn)
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        asyncio.run(create())
        return admin.set(database=name).render_as_string(hide_password=False)


async def _pending(url: str) -> int:
    store = await Store.open_url(url)
    try:
        return (await store.stats()).pending
    finally:
        await store.close()


async def _transactions(url: str) -> tuple[int, int]:
    """(committed, rolled back) transactions of the database so far (PostgreSQL's counters,
    a few hundred milliseconds behind); a rollback here is mostly a serialization failure
    that was retried."""
    import asyncpg  # noqa: PLC0415 - PostgreSQL only
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        )
    finally:
        await connection.close()
    return int(row[0]), int(row[1])


async def _sender_pid(url: str) -> int | None:
    leases = LeaseStore.connect(url)
    try:
        holders = await leases.holders()
    finally:
        await leases.close()
    return next((row.pid for name, row in holders.items() if name.startswith("send:")), None)


def run(
    args: argparse.Namespace, pg: Postgres, processes: int, *, kill: bool, sqlite: bool = False
) -> dict[str, Any]:
    """One run on a fresh database (PostgreSQL, or a SQLite file for comparison); its figures."""
    corpus = find_shared("feeds")
    assert corpus is not None
    work = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    url = (
        f"sqlite:///{work / 'bench.db'}"
        if sqlite
        else pg.database(f"scaleout_{processes}_{int(kill)}")
    )
    chats = sorted({chat_of(i, args.chats) for i in range(args.feeds)})
    farm_options = {
        "factor": 1.0, "epoch": time.time(), "chats": chats, "corpus": str(corpus),
        "feeds": args.feeds, "interval": args.interval, "hosts": args.hosts, "seed": 1,
        "out": str(work / "farm.json"),
    }  # fmt: skip
    here = Path(__file__).resolve().parent
    farm = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(here / "feedfarm.py"), json.dumps(farm_options)],
        stdout=subprocess.PIPE,
        text=True,
    )
    bots: list[subprocess.Popen[bytes]] = []
    try:
        assert farm.stdout is not None
        endpoints = json.loads(farm.stdout.readline())
        seed = {
            "url": url, "hosts": endpoints["hosts"], "feeds": args.feeds, "chats": args.chats,
            "interval": args.interval, "corpus": str(corpus), "start": time.time() + 5,
        }  # fmt: skip
        subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(here / "polling.py"), "--seed-only", json.dumps(seed)], check=True
        )
        config = work / "newsrelay.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "telegram": {"token": endpoints["token"], "api_base_url": endpoints["api"]},
                    "database": {"url": url},
                    "polling": {
                        "interval_seconds": args.interval,
                        "min_interval_seconds": args.interval,
                    },
                    "fetch": {"allow_private_networks": True},
                    "delivery": {"backlog_on_subscribe": 0},
                    "access": {"max_subscriptions_per_chat": args.feeds},
                    "logging": {"level": "WARNING"},
                }
            )
        )
        for number in range(processes):
            log = (work / f"bot{number}.log").open("wb")
            bots.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter
                    [sys.executable, "-m", "bot", "run", "-c", str(config)],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        time.sleep(args.warmup)
        farm_cpu = cpu_seconds(farm.pid)
        figures = _measure(args, None if sqlite else pg, url, bots, kill=kill)
        figures["farm_cpu"] = cpu_seconds(farm.pid) - farm_cpu
        farm.send_signal(signal.SIGUSR1)  # no more new entries from here on
        figures["drain"], figures["queued"] = _drain(args, url)
    finally:
        for bot in bots:
            if bot.poll() is None:
                bot.send_signal(signal.SIGTERM)
        for bot in bots:
            try:
                bot.wait(timeout=30)
            except subprocess.TimeoutExpired:
                bot.kill()
        farm.send_signal(signal.SIGTERM)
        farm.wait(timeout=120)
    report = json.loads((work / "farm.json").read_text())
    start, end = figures["from"], figures["to"]
    fetched = sum(
        1 for requests in report["requests"] for when, _ in requests if start <= when < end
    )
    figures.update(
        fetched=fetched,
        served_new=report["served_new"],
        sent_new=report["sent_new"],
        lost=report["lost"],
        duplicates=report["duplicates"],
        duplicate_chats=len(
            {chat_of(feed, args.chats) for feed, _ in report["duplicated_entries"]}
        ),
        crashed=sum(
            path.read_text(errors="replace").count("refresh_crashed")
            for path in work.glob("bot*.log")
        ),
        rejected=report["rejected"],
        work=str(work),
    )
    return figures


def _measure(
    args: argparse.Namespace,
    pg: Postgres | None,
    url: str,
    bots: list[subprocess.Popen[bytes]],
    *,
    kill: bool,
) -> dict[str, Any]:
    cpu = {bot.pid: cpu_seconds(bot.pid) for bot in bots}
    postmaster = pg.postmaster if pg is not None else 0
    pg_cpu = postgres_cpu(postmaster) if postmaster else 0.0
    transactions = asyncio.run(_transactions(url)) if pg is not None else (0, 0)
    failures = pg.serialization_failures() if pg is not None else None
    figures: dict[str, Any] = {"from": time.time()}
    spent: dict[int, float] = {}
    if kill:
        time.sleep(args.seconds / 2)
        victim = asyncio.run(_sender_pid(url))
        assert victim is not None, "no process holds the sender's lease"
        spent[victim] = cpu_seconds(victim) - cpu[victim]
        os.kill(victim, signal.SIGKILL)
        killed_at = time.time()
        survivor = next(bot.pid for bot in bots if bot.pid != victim)
        while asyncio.run(_sender_pid(url)) != survivor:
            time.sleep(0.25)
        figures["takeover"] = time.time() - killed_at
        time.sleep(max(0.0, figures["from"] + args.seconds - time.time()))
    else:
        time.sleep(args.seconds)
    figures["to"] = time.time()
    for bot in bots:
        spent.setdefault(bot.pid, cpu_seconds(bot.pid) - cpu[bot.pid])
    figures["cpu"] = spent
    figures["pg_cpu"] = (postgres_cpu(postmaster) - pg_cpu) if postmaster else None
    if pg is not None:
        time.sleep(0.6)  # the statistics collector's delay
        committed, rolled_back = asyncio.run(_transactions(url))
        figures["commits"] = committed - transactions[0]
        figures["rollbacks"] = rolled_back - transactions[1]
        after = pg.serialization_failures()
        if failures is not None and after is not None:
            figures["serialization_failures"] = (after - failures)["total"]
            figures["failing_statements"] = dict((after - failures).most_common(4)[1:])
    return figures


def _drain(args: argparse.Namespace, url: str) -> tuple[float, int]:
    """Let every feed be read once more, then wait for an empty outbox: (seconds it took,
    rows still queued at the end).

    Telegram's per-chat limit lets the outbox empty at about one message per chat a
    second, so a fast run leaves minutes of sending behind it: the wait goes on while
    the outbox shrinks, up to ``DRAIN_SECONDS``, and gives up after ``DRAIN_STALL_SECONDS``
    without progress.
    """
    began = time.time()
    time.sleep(2 * args.interval)
    calm = 0
    pending = asyncio.run(_pending(url))
    progress = time.time()
    while calm < 3:
        now = time.time()
        if now - began > DRAIN_SECONDS or now - progress > DRAIN_STALL_SECONDS:
            break
        time.sleep(1)
        before, pending = pending, asyncio.run(_pending(url))
        calm = calm + 1 if pending == 0 else 0
        if pending < before:  # shrinking, even from above an earlier low
            progress = time.time()
    return time.time() - began, pending


def main() -> None:
    """Run one process, two, and two with a SIGKILL; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--interval", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--database-url", help="a PostgreSQL server to use (else pgserver)")
    parser.add_argument(
        "--runs",
        default="1,2,2k",
        help="which runs: 1, 2, 2k (2 with a kill), 1s (one process on SQLite, for comparison)",
    )
    args = parser.parse_args()
    if find_shared("feeds") is None:
        sys.exit(f"bench/scaleout.py: {CORPUS_MISSING}")
    results = []
    with Postgres(args.database_url) as pg:
        for name in args.runs.split(","):
            processes, kill = int(name.rstrip("ks")), name.endswith("k")
            figures = run(args, pg, processes, kill=kill, sqlite=name.endswith("s"))
            results.append((name, processes, kill, figures))
            _print(args, name, figures)
    # Each run of 2 against the run of 1 just before it: on a shared machine the speed
    # drifts between runs, and a pair taken back to back is what compares.
    base = None
    for name, _, _, figures in results:
        if name == "1":
            base = figures
        elif name == "2" and base is not None:
            rate = _rate(figures) / _rate(base)
            cost = _per_thousand(figures) / _per_thousand(base)
            print(
                f"2 processes vs the 1 before: {rate:.2f}x the fetches per second,"
                f" {cost:.2f}x the CPU per fetch"
            )
            base = None


def _rate(figures: dict[str, Any]) -> float:
    return float(figures["fetched"]) / (figures["to"] - figures["from"])


def _per_thousand(figures: dict[str, Any]) -> float:
    return 1000 * sum(figures["cpu"].values()) / max(1, figures["fetched"])


def _print(args: argparse.Namespace, name: str, figures: dict[str, Any]) -> None:
    window = figures["to"] - figures["from"]
    cores = " + ".join(f"{seconds / window:.2f}" for seconds in figures["cpu"].values())
    pg = (
        f"{1000 * figures['pg_cpu'] / max(1, figures['fetched']):.2f} s"
        if figures["pg_cpu"] is not None
        else "n/a"
    )
    kill = (
        f"  takeover after SIGKILL: {figures['takeover']:.1f} s\n" if "takeover" in figures else ""
    )
    if "commits" in figures:
        per = 1000 / max(1, figures["fetched"])
        kill += (
            f"  PostgreSQL transactions per 1,000 fetches: {figures['commits'] * per:.0f}"
            f" committed, {figures['rollbacks'] * per:.0f} rolled back"
            + (
                f" ({figures['serialization_failures'] * per:.0f} serialization failures)"
                if "serialization_failures" in figures
                else ""
            )
            + "\n"
        )
        for statement, count in figures.get("failing_statements", {}).items():
            kill += f"    {count * per:.0f} per 1,000 fetches at: {statement}\n"
    print(
        f"run {name}: {args.feeds} feeds, {args.chats} chats, interval {args.interval} s, "
        f"{window:.0f} s measured (data in {figures['work']})\n"
        f"  feeds fetched per second: {_rate(figures):.1f}\n"
        f"  CPU per 1,000 fetches: bots {_per_thousand(figures):.2f} s (cores {cores}), "
        f"PostgreSQL {pg}; farm {figures['farm_cpu'] / window:.2f} cores\n"
        f"{kill}"
        f"  new entries served {figures['served_new']}, sent {figures['sent_new']}; "
        f"not delivered {figures['lost']} (of which still queued {figures['queued']}), "
        f"duplicated {figures['duplicates']}"
        f" (in {figures['duplicate_chats']} chats); "
        f"checks that crashed on the database {figures['crashed']}; "
        f"Telegram refusals {figures['rejected']}; drained in {figures['drain']:.0f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
