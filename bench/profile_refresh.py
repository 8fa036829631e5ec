"""Where a feed check's CPU goes: the whole per-feed path (schedule, fetch, store) profiled.

Run it from the tree to measure: the ``bot`` it imports is the current directory's when
that has one (else this script's tree), so one script profiles any revision::

    cd /work/wt/before && .venv/bin/python /work/wt/prof/bench/profile_refresh.py --feeds 1000

A child process (``bench/feedfarm.py`` next to this script, run by the ``.venv`` of the
script's tree when it has one) serves N feeds on 50 loopback hosts: 80% of checks answer
304, 10% change bytes without a new entry, 10% gain an entry (the farm rolls once per
feed per cycle, with the same dice on every tree). The store is seeded as a running bot
leaves it (one chat per 1,000 feeds, each feed read once). Then the tree's own
``Poller`` (its scheduler, ``Fetcher``, ``refresh_feed`` and ``Store``; the outbox is
left unsent) runs a warm-up cycle (every check a 304 of the seeded state), ``--cycles``
cycles without the profiler and as many under cProfile. Before each cycle the bot's
clock jumps past the latest next check, so every feed is due; the scheduler's real wait
to notice (up to its 5 s tick) is part of the cycle.

Figures are CPU time (user + system) of this process, not wall time: the machine is
shared. CPU per check comes from the unprofiled cycles, split into the event-loop thread,
the store's SQLite thread and the rest; the warm-up's figure is the cost of a 304.
cProfile runs in the event-loop thread on that thread's own CPU clock; its own time is
grouped into buckets (a standard-library helper or builtin counted in its caller's
bucket) and the shares scaled to the loop's unprofiled CPU; the store's thread does
nothing but the store's SQL and round trips and counts wholly as store. The profiler
slows Python code more than C code, so the shares are a guide, not exact figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import importlib.util
import inspect
import json
import os
import pstats
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:
    sys.path.insert(0, os.getcwd() if os.path.isdir("bot") else str(Path(__file__).parents[1]))

import bot
from bot.clock import Clock
from bot.config import Settings
from bot.feeds.fetch import Fetcher
from bot.feeds.parse import parse_feed
from bot.logs import configure_logging
from bot.scheduler import Poller
from bot.store import Store
from bot.store.engine import SqliteEngine
from tests.corpus import CORPUS_MISSING, find_shared

FEEDS_PER_CHAT = 1000
FIRST_CHAT = 1001
INTERVAL = 300
CONNECT = "<method 'connect' of '_socket.socket' objects>"
FARM_ROLL_SECONDS = 1.0
"""Real seconds after which the farm rolls a feed's dice again (half its interval)."""
FARM = Path(__file__).resolve().with_name("feedfarm.py")

BUCKETS: list[tuple[str, str]] = [
    ("store: sqlite3, bot/store", "/bot/store/ sqlite3"),
    (
        "parse: feedparser, expat, scan, bot/feeds",
        "/feedparser/ sgmllib pyexpat /xml/ /html/ /json/ /bot/feeds/parse.py /bot/feeds/scan.py"
        " /bot/feeds/jsonfeed.py /bot/feeds/dates.py /bot/feeds/encoding.py"
        " /bot/feeds/identity.py /bot/feeds/textutil.py /bot/feeds/hints.py",
    ),
    (
        "HTTP: httpx/httpcore/h11/anyio, sockets, fetch",
        "/httpx/ /httpcore/ /h11/ /anyio/ /sniffio/ /idna/ _socket /socket.py /ssl.py _ssl"
        " /bot/feeds/fetch.py /bot/feeds/connections.py /bot/feeds/netguard.py"
        " /bot/feeds/failure.py",
    ),
    ("event loop: asyncio, epoll", "/asyncio/ select.epoll"),
    (
        "scheduling: Poller, cadence, APScheduler",
        "/bot/scheduler.py /bot/cadence.py /apscheduler/ /tzlocal/",
    ),
    (
        "pipeline: refresh, dedupe, plan, render",
        "/bot/pipeline/ /bot/render/ /bot/filters/ /bot/models.py",
    ),
    ("hashing, decompression", "hashlib zlib /gzip.py"),
    ("logging", "/logging/ /bot/logs.py"),
    ("this bench's callbacks", "profile_refresh.py"),
]
"""Buckets of own time, by pieces of the function's file name (or a builtin's name);
the first that matches wins. Anything else (builtins, re, typing, enum, dataclasses…)
is counted in the bucket of its callers, in proportion."""


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call with the keyword arguments this tree's ``function`` takes (older trees take fewer)."""
    known = inspect.signature(function).parameters
    return function(*args, **{k: v for k, v in kwargs.items() if k in known})


class JumpClock(Clock):
    """Real time, plus ``offset`` seconds moved forward between cycles."""

    offset = 0.0

    def time(self) -> float:
        """Wall-clock seconds plus the offset."""
        return time.time() + self.offset


def _farm_helpers() -> Any:
    """``bench/feedfarm.py`` next to this script, loaded by path (the measured tree may lack it)."""
    spec = importlib.util.spec_from_file_location("_feedfarm", FARM)
    assert spec is not None
    assert spec.loader is not None
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path  # the farm puts its own tree first; ours stays first
    return module


try:
    from bot.feeds.identity import all_keys as _recorded_keys
except ImportError:  # a measured tree from before aliases records the entry's key alone

    def _recorded_keys(entry: Any) -> tuple[str, ...]:
        return (entry.key,)


async def seed(store: Store, hosts: list[list[Any]], feeds: int, now: float) -> None:
    """Every feed subscribed and read once at ``now``, as a running bot leaves it, and due
    an interval later (the first cycle starts when the bench moves the clock there)."""
    farm = _farm_helpers()
    try:  # issue 10 stores the boilerplate a feed's entries repeat
        from bot.pipeline.learned import encode_boilerplate  # noqa: PLC0415
        from bot.render import detect_boilerplate  # noqa: PLC0415

        def learned(entries: Any) -> str | None:
            return encode_boilerplate(detect_boilerplate(entries))
    except ImportError:

        def learned(entries: Any) -> str | None:
            del entries  # nothing learned before issue 10
            return None

    corpus = find_shared("feeds")
    assert corpus is not None
    documents = farm.corpus_documents(corpus)
    parsed_once: dict[str, Any] = {}
    for chat in range(FIRST_CHAT, FIRST_CHAT + (feeds - 1) // FEEDS_PER_CHAT + 1):
        await store.ensure_chat(chat, kind="private", now=now)
    for feed in range(feeds):
        document = documents[feed % len(documents)]
        host, port = hosts[feed % len(hosts)]
        url = f"http://{host}:{port}/f/{feed}"
        body = farm.render(document, feed, 0, [])
        if document.name not in parsed_once:  # parsed once when its keys ignore the URL
            one, other = parse_feed(body, url=url), parse_feed(body, url="https://x.example/y")
            same = [e.key for e in one.entries] == [e.key for e in other.entries]
            parsed_once[document.name] = one if same else None
        parsed = parsed_once[document.name] or parse_feed(body, url=url)
        row, _ = await _call(
            store.get_or_create_feed,
            url,
            title=parsed.title,
            interval_seconds=INTERVAL,
            now=now,
            next_fetch_at=now + INTERVAL,
        )
        await store.add_subscription(FIRST_CHAT + feed // FEEDS_PER_CHAT, row.id, now=now)
        # every key a first read records, aliases included (trees before aliases: the keys)
        keys = [key for entry in parsed.entries for key in _recorded_keys(entry)]
        await store.commit_entries(row.id, seen=keys, outbox=[], now=now)
        await _call(
            store.record_fetch_success,
            row.id,
            next_fetch_at=now + INTERVAL,
            etag=farm.etag_of(feed, 0, 0),
            last_modified=None,
            body_hash=hashlib.sha256(body).hexdigest(),
            title=parsed.title,
            now=now,
            boilerplate=learned(parsed.entries),
        )


def make_poller(
    store: Store, fetcher: Fetcher, settings: Settings, clock: Clock, heard: Callable[..., None]
) -> Any:
    """This tree's Poller: per-feed schedules (issue 10) take a Clock and a RefreshPolicy;
    before, a clock function and the one fixed interval."""
    common: dict[str, Any] = {
        "concurrency": settings.fetch.concurrency,
        "on_queued": lambda: None,
        "on_refreshed": heard,
    }
    poller: Any = Poller
    if "policy" in inspect.signature(Poller).parameters:
        from bot.pipeline import RefreshPolicy  # noqa: PLC0415 - absent before issue 10

        return poller(
            store,
            fetcher,
            clock=clock,
            policy=RefreshPolicy.from_settings(settings),
            per_host=settings.fetch.per_host_concurrency,
            **common,
        )
    return poller(
        store,
        fetcher,
        clock=clock.time,
        interval_seconds=settings.polling.effective_interval,
        **common,
    )


class Cycle:
    """Counts refreshes until every feed has been checked once (``start`` begins a cycle)."""

    def __init__(self, feeds: int) -> None:
        self.feeds = feeds
        self.start()

    def start(self) -> None:
        """Forget the previous cycle."""
        self.seen: set[int] = set()
        self.statuses: Counter[str] = Counter()
        self.checks = 0
        self.complete = asyncio.Event()

    def heard(self, result: Any, _seconds: float) -> None:
        """The Poller's ``on_refreshed``."""
        self.checks += 1
        self.seen.add(result.feed_id)
        parsed = str(getattr(result, "parse", "none"))  # how much was parsed (issue 10 on)
        self.statuses[str(result.status) + ("" if parsed == "none" else f"/{parsed}")] += 1
        if len(self.seen) >= self.feeds:
            self.complete.set()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_cycles(
    db: Path, settings: Settings, feeds: int, cycles: int
) -> tuple[list[dict[str, Any]], pstats.Stats | None]:
    """The warm-up cycle, ``cycles`` unprofiled and ``cycles`` profiled: figures per cycle,
    and the profile of the event-loop thread."""
    clock = JumpClock()
    store = await Store.open(str(db))
    fetcher = Fetcher(settings.fetch)
    cycle = Cycle(feeds)
    poller = make_poller(store, fetcher, settings, clock, cycle.heard)
    # The SQLite engine's hook: runs a function in the store's thread (to read its CPU clock)
    engine = store.engine
    assert isinstance(engine, SqliteEngine)
    worker: Callable[..., Awaitable[Any]] = engine._in_thread
    profile = cProfile.Profile(time.thread_time)
    figures: list[dict[str, Any]] = []
    poller.start()
    try:
        for number in range(1 + 2 * cycles):
            profiled = number > cycles
            await asyncio.sleep(FARM_ROLL_SECONDS)  # the farm's next answers roll new dice
            with sqlite3.connect(db) as read:
                (latest,) = read.execute("SELECT MAX(next_fetch_at) FROM feeds").fetchone()
            clock.offset += max(0.0, latest - clock.time()) + 1
            cycle.start()
            cpu, loop_cpu, worker_cpu = _cpu(), time.thread_time(), await worker(time.thread_time)
            wall = time.perf_counter()
            if profiled:
                profile.enable()
            await cycle.complete.wait()
            profile.disable()
            worker_cpu = await worker(time.thread_time) - worker_cpu
            loop_cpu, cpu = time.thread_time() - loop_cpu, _cpu() - cpu
            figures.append(
                {
                    "kind": "warm-up" if not number else "profiled" if profiled else "measured",
                    "checks": cycle.checks,
                    "feeds": len(cycle.seen),
                    "statuses": dict(cycle.statuses),
                    "cpu": cpu,
                    "loop": loop_cpu,
                    "worker": worker_cpu,
                    "wall": time.perf_counter() - wall,
                }
            )
    finally:
        await poller.stop()
        await fetcher.aclose()
        await store.close()
    if not cycles:
        return figures, None
    return figures, pstats.Stats(profile)


def _bucket_of(function: tuple[str, int, str]) -> str | None:
    filename, _, name = function
    where = name if filename == "~" else filename
    return next(
        (bucket for bucket, parts in BUCKETS if any(p in where for p in parts.split())), None
    )


def buckets(stats: pstats.Stats) -> Counter[str]:
    """Own time (seconds) per bucket; a function no bucket names passes its time on to its
    callers, in proportion to the time spent in it from each (recursion included)."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    result: Counter[str] = Counter()
    unnamed = {function: own for function, (_, _, own, _, _) in table.items()}
    for _ in range(64):  # the time caught in recursion between unnamed functions shrinks fast
        passed: Counter[Any] = Counter()
        for function, own in unnamed.items():
            named = _bucket_of(function)
            callers = table[function][4] if function in table else {}
            weights = {c: t[2] or t[3] for c, t in callers.items() if c != function}
            total = sum(weights.values())
            if named or not total:
                result[named or "other"] += own
                continue
            for caller, weight in weights.items():
                passed[caller] += own * weight / total
        unnamed = passed
    result["other"] += sum(unnamed.values())
    return result


def _label(function: tuple[str, int, str]) -> str:
    filename, line, name = function
    if filename == "~":
        return name
    for marker in ("site-packages/", "/lib/python3.11/", str(Path(bot.__file__).parents[1]) + "/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
    return f"{filename}:{line}({name})"


def report(figures: list[dict[str, Any]], stats: pstats.Stats | None) -> None:
    """Print the cycles, CPU per check, the buckets and the top functions."""
    for cycle in figures:
        print(
            f"  {cycle['kind']:<9} {cycle['checks']} checks of {cycle['feeds']} feeds  "
            f"CPU {cycle['cpu']:.2f} s (loop {cycle['loop']:.2f}, store {cycle['worker']:.2f})"
            f"  wall {cycle['wall']:.1f} s  {cycle['statuses']}"
        )
    measured = [c for c in figures if c["kind"] == "measured"]
    checks = sum(c["checks"] for c in measured)
    if not checks or stats is None:
        return
    per = {k: 1000 * sum(c[k] for c in measured) / checks for k in ("cpu", "loop", "worker")}
    other = per["cpu"] - per["loop"] - per["worker"]
    print(
        f"CPU per check (unprofiled cycles): {per['cpu']:.2f} ms = event loop {per['loop']:.2f}"
        f" + store thread {per['worker']:.2f} + other threads {other:.2f}; "
        f"a 304 (warm-up): {1000 * figures[0]['cpu'] / max(1, figures[0]['checks']):.2f} ms"
    )
    profiled = sum(c["checks"] for c in figures if c["kind"] == "profiled")
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(own for _, _, own, _, _ in table.values())
    spent = Counter({b: per["loop"] * own / total for b, own in buckets(stats).items()})
    spent[BUCKETS[0][0]] += per["worker"]  # the store's thread: its SQL and hand-overs
    spent["other threads"] += other
    print(
        f"Profiled CPU per check, event loop: {1000 * total / profiled:.2f} ms"
        " (the profiler's overhead in)"
    )
    print("CPU by bucket, ms per check (the loop's profiled shares of its unprofiled CPU):")
    for bucket, ms in spent.most_common():
        if ms < 0.005:
            break
        print(f"  {ms:6.2f} ms {ms / sum(spent.values()):6.1%}  {bucket}")
    connects = sum(v[1] for f, v in table.items() if f[2] == CONNECT)
    trips = sum(v[1] for f, v in table.items() if f[2] == "_in_thread" and "bot/store" in f[0])
    print(
        f"Per check: {connects / profiled:.2f} TCP connects, "
        f"{trips / profiled:.1f} hand-overs to the store's thread"
    )
    print("Top 10 functions by own time (event loop, ms per check, profiled):")
    for function, (_, calls_, own, _, _) in sorted(table.items(), key=lambda item: -item[1][2])[
        :10
    ]:
        print(
            f"  {1000 * own / profiled:6.3f} ms {own / total:6.1%}  calls/check "
            f"{calls_ / profiled:6.1f}  {_label(function)}"
        )


def main() -> None:
    """Start the farm, seed the store, run and profile the cycles, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=2, help="unprofiled, then as many profiled")
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--dump", type=Path, help="write the event loop's profile here (pstats)")
    args = parser.parse_args()
    corpus = find_shared("feeds")
    if corpus is None:
        sys.exit(f"bench/profile_refresh.py: {CORPUS_MISSING}")
    configure_logging(level=30)  # WARNING, as polling.py runs the bot
    work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    venv = FARM.parents[1] / ".venv/bin/python"
    farm_options = {
        "factor": 1.0,
        "epoch": time.time(),
        "chats": list(range(FIRST_CHAT, FIRST_CHAT + (args.feeds - 1) // FEEDS_PER_CHAT + 1)),
        "corpus": str(corpus),
        "feeds": args.feeds,
        "interval": 2 * FARM_ROLL_SECONDS,  # it rolls after half its interval
        "hosts": args.hosts,
        "seed": 1,
        "out": str(work / "farm.json"),
    }
    farm = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [str(venv) if venv.exists() else sys.executable, str(FARM), json.dumps(farm_options)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert farm.stdout is not None
        hosts = json.loads(farm.stdout.readline())["hosts"]
        settings = Settings.model_validate(
            {
                "database": {"url": f"sqlite:///{work / 'bench.db'}"},
                "polling": {"interval_seconds": INTERVAL},
                "fetch": {"allow_private_networks": True},
            }
        )

        async def seeded() -> None:
            store = await Store.open(str(work / "bench.db"))
            try:
                await seed(store, hosts, args.feeds, time.time())
            finally:
                await store.close()

        asyncio.run(seeded())
        figures, stats = asyncio.run(
            run_cycles(work / "bench.db", settings, args.feeds, args.cycles)
        )
    finally:
        gone = farm.poll() is not None
        farm.send_signal(signal.SIGTERM)
        farm.wait(timeout=120)
    if gone:
        print("profile_refresh: THE FARM STOPPED DURING THE RUN; failed checks are not the bot's")
    print(
        f"profile_refresh: bot from {Path(bot.__file__).parents[1]}, {args.feeds} feeds on "
        f"{args.hosts} hosts, fetch.concurrency {settings.fetch.concurrency}; CPU time of this "
        f"process (user + system), shared machine; data in {work}"
    )
    report(figures, stats)
    if args.dump and stats is not None:
        stats.dump_stats(args.dump)


if __name__ == "__main__":
    main()
