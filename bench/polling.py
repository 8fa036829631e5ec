"""Polling at scale: the real bot keeping N feeds on an interval; CPU, memory, cadence, latency.

Run: ``.venv/bin/python bench/polling.py --feeds 10000 [--interval 300] [--compress 1]``.

A child process (``bench/feedfarm.py``) serves N feeds built from the corpus's ``feeds/``
(``../shared`` beside the clone, or ``TEST_SHARED_DIR``; without it the benchmark exits with
one line saying so) on several loopback hosts (80% of checks answer 304, 10% change bytes
without a new entry, 10% gain an entry) together with the fake Telegram. A second child
seeds the database through the store as a running bot would have left it: one private chat
per 1,000 feeds, each feed subscribed, read once (validators, body hash, seen entry keys,
the boilerplate its entries repeat) and due at a moment spread over the interval. This
process then runs the real bot (``bot.app.Relay``: scheduler, fetcher, pipeline, outbox and
sender) for a warm-up interval and ``--intervals`` measured ones (then half an interval
more, unmeasured, so that every feed's last check of the window is seen), and prints:

- bot CPU seconds per interval and average cores (user + system, all threads),
- peak RSS (VmHWM) of the bot process,
- requests per feed per measured interval (min / mean / max; counted from each feed's
  first check in the window, so a check a moment late at the window's edge does not
  count as skipped) and the shortest and longest gap between two checks of one feed,
- the first full cycle (every feed checked once after start),
- served-to-sent latency of new entries (the farm serving the entry → the fake
  Telegram accepting its message), and how many were sent.

``--compress F`` runs the bot's clock (schedule, send budgets) and the farm's clock F
times faster than real time; CPU figures are then per *virtual* interval and cores
are CPU seconds over the virtual interval, i.e. what the real cadence would cost.
``--profile FILE`` writes a cProfile of the measured intervals (it slows the bot:
use it for where the time goes, not for the figures). Logging is at WARNING.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import itertools
import json
import logging
import pstats
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import Relay
from bot.clock import Clock
from bot.config import Settings
from bot.logs import configure_logging
from bot.models import ParsedFeed
from bot.store import Store
from tests.corpus import CORPUS_MISSING, find_shared

FEEDS_PER_CHAT = 1000
FIRST_CHAT = 1001


class CompressedClock(Clock):
    """Time running ``factor`` times faster than the wall clock, from ``epoch`` on."""

    def __init__(self, factor: float, epoch: float) -> None:
        self._factor = factor
        self._epoch = epoch

    def time(self) -> float:
        """Compressed wall-clock seconds."""
        return self._epoch + (time.time() - self._epoch) * self._factor

    def monotonic(self) -> float:
        """Compressed monotonic seconds."""
        return time.monotonic() * self._factor

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of compressed time."""
        await asyncio.sleep(max(0.0, seconds) / self._factor)


def feed_url(hosts: list[list[Any]], feed: int) -> str:
    """The URL of feed ``feed`` on the farm."""
    host, port = hosts[feed % len(hosts)]
    return f"http://{host}:{port}/f/{feed}"


def chat_of(feed: int, chats: int | None = None) -> int:
    """The chat that follows feed ``feed``: one per 1,000 feeds, or feed ``i`` by chat
    ``i`` modulo ``chats`` when that many chats are asked for."""
    if chats:
        return FIRST_CHAT + feed % chats
    return FIRST_CHAT + feed // FEEDS_PER_CHAT


async def seed(options: dict[str, Any]) -> None:
    """Subscribe every feed through the store, in the state a running bot leaves it.

    ``options``: ``db`` (a SQLite file) or ``url`` (any ``database.url``), ``hosts``,
    ``feeds``, ``interval``, ``corpus``, ``start``, and ``chats`` (optional, see ``chat_of``).
    """
    # Imported here: the seeding runs in its own process, and the bot's process should
    # not carry the farm's or the parser's memory in its peak RSS.
    from bench.feedfarm import corpus_documents, etag_of, render  # noqa: PLC0415
    from bot.feeds.identity import all_keys  # noqa: PLC0415
    from bot.pipeline.learned import encode_boilerplate  # noqa: PLC0415
    from bot.render import detect_boilerplate  # noqa: PLC0415

    hosts, feeds, interval = options["hosts"], options["feeds"], options["interval"]
    documents = corpus_documents(Path(options["corpus"]))
    now = options["start"]
    spread = random.Random(7)
    shared: dict[str, ParsedFeed | None] = {}
    chats = options.get("chats")
    url = options.get("url")
    store = await (Store.open_url(url) if url else Store.open(options["db"]))
    try:
        for chat in sorted({chat_of(i, chats) for i in range(feeds)}):
            await store.ensure_chat(chat, kind="private", now=now)
        for feed in range(feeds):
            document = documents[feed % len(documents)]
            url = feed_url(hosts, feed)
            body = render(document, feed, 0, [])
            parsed = _parsed(document.name, body, url, shared)
            due = now + spread.uniform(0, interval)
            row, _ = await store.get_or_create_feed(
                url, title=parsed.title, interval_seconds=interval, now=now, next_fetch_at=due
            )
            await store.add_subscription(chat_of(feed, chats), row.id, now=now)
            # Every key a first read records (bot.pipeline.refresh): the entry keys alone
            # would leave the aliases unseen, and each feed's first new entry would then
            # record a hundred of them at once, a cost no running bot pays.
            keys = [key for entry in parsed.entries for key in all_keys(entry)]
            await store.commit_entries(row.id, seen=keys, outbox=[], now=now)
            await store.record_fetch_success(
                row.id,
                next_fetch_at=due,
                etag=etag_of(feed, 0, 0),
                last_modified=None,
                body_hash=hashlib.sha256(body).hexdigest(),
                title=parsed.title,
                now=now,
                boilerplate=encode_boilerplate(detect_boilerplate(parsed.entries)),
            )
    finally:
        await store.close()


def _parsed(name: str, body: bytes, url: str, shared: dict[str, ParsedFeed | None]) -> ParsedFeed:
    """The document parsed as served at ``url``; parsed once when its keys ignore the URL."""
    from bot.feeds.parse import parse_feed  # noqa: PLC0415 - see seed()

    if name not in shared:
        one = parse_feed(body, url=url)
        other = parse_feed(body, url="https://elsewhere.example/x/y")
        same = [e.key for e in one.entries] == [e.key for e in other.entries]
        shared[name] = one if same else None
    return shared[name] or parse_feed(body, url=url)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run_bot(
    settings: Settings, clock: CompressedClock, args: argparse.Namespace, profile: bool
) -> dict[str, Any]:
    """Run the bot: a warm-up interval, then the measured ones; CPU and RSS figures."""
    relay = Relay(settings, clock=clock)
    interval = float(args.interval)
    started = clock.time()
    await relay.start()
    figures: dict[str, Any] = {"started": started}
    try:
        measure_from = started + interval
        await clock.sleep(measure_from - clock.time())
        profiler = cProfile.Profile() if profile else None
        cpu = _cpu()
        if profiler:
            profiler.enable()
        figures["from"] = clock.time()
        await clock.sleep(measure_from + args.intervals * interval - clock.time())
        figures["to"] = clock.time()
        if profiler:
            profiler.disable()
        figures["rss"] = _peak_rss_mb()
        figures["cpu"] = _cpu() - cpu
        # Half an interval more, unmeasured: every feed's cadence window is then complete.
        await clock.sleep(interval / 2)
        if profiler:
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text)
            stats.sort_stats("tottime").print_stats(40)
            stats.sort_stats("cumulative").print_stats(60)
            figures["profile"] = text.getvalue()  # type: ignore[assignment]
    finally:
        await relay.stop()
    return figures


def _cadence(report: dict[str, Any], figures: dict[str, Any], interval: float) -> dict[str, Any]:
    start, end, window = figures["from"], figures["to"], figures["to"] - figures["from"]
    intervals = window / interval
    counts, gaps, first = [], [], []
    for requests in report["requests"]:
        times = [when for when, _ in requests]
        # Counted from the feed's own first check in the window, over all but half an
        # interval of it: a check a moment late at a window edge is not a skipped one.
        first_in = next((when for when in times if when >= start), end)
        span = (intervals - 0.5) * interval
        counts.append(sum(1 for when in times if first_in <= when < first_in + span) / intervals)
        gaps.extend(b - a for a, b in itertools.pairwise(times) if a >= start)
        first.append(times[0] - figures["started"] if times else float("inf"))
    statuses = [
        status
        for requests in report["requests"]
        for when, status in requests
        if start <= when < end
    ]
    return {
        "per_interval": (min(counts), statistics.fmean(counts), max(counts)),
        "gaps": (min(gaps), max(gaps)) if gaps else (float("nan"), float("nan")),
        "first_cycle": max(first),
        "not_modified": statuses.count(304) / max(1, len(statuses)),
    }


def main() -> None:
    """Parse arguments, start the farm, seed, run the bot and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=300)
    parser.add_argument("--intervals", type=int, default=2)
    parser.add_argument("--compress", type=float, default=1.0)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=0, help="fetch.concurrency (default)")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--seed-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        asyncio.run(seed(json.loads(args.seed_only)))
        return
    corpus = find_shared("feeds")
    if corpus is None:
        sys.exit(f"bench/polling.py: {CORPUS_MISSING}")
    configure_logging(level=logging.WARNING)
    epoch = time.time()
    clock = CompressedClock(args.compress, epoch)
    work = Path(tempfile.mkdtemp(prefix="bench-polling-"))
    chats = sorted({chat_of(i) for i in range(args.feeds)})
    farm_options = {
        "factor": args.compress,
        "epoch": epoch,
        "chats": chats,
        "corpus": str(corpus),
        "feeds": args.feeds,
        "interval": args.interval,
        "hosts": args.hosts,
        "seed": 1,
        "out": str(work / "farm.json"),
    }
    farm = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(Path(__file__).with_name("feedfarm.py")), json.dumps(farm_options)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert farm.stdout is not None
        endpoints = json.loads(farm.stdout.readline())
        began = time.perf_counter()
        seed_options = {
            "db": str(work / "bench.db"),
            "hosts": endpoints["hosts"],
            "feeds": args.feeds,
            "interval": args.interval,
            "corpus": str(corpus),
            "start": clock.time() + 5 * args.compress,
        }
        subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, __file__, "--seed-only", json.dumps(seed_options)], check=True
        )
        seeding = time.perf_counter() - began
        fetch: dict[str, Any] = {"allow_private_networks": True}
        if args.concurrency:
            fetch["concurrency"] = args.concurrency
        settings = Settings.model_validate(
            {
                "telegram": {"token": endpoints["token"], "api_base_url": endpoints["api"]},
                "database": {"url": f"sqlite:///{work / 'bench.db'}"},
                "polling": {"interval_seconds": args.interval},
                "fetch": fetch,
                "delivery": {"backlog_on_subscribe": 0},
                "access": {"max_subscriptions_per_chat": FEEDS_PER_CHAT},
            }
        )
        figures = asyncio.run(run_bot(settings, clock, args, args.profile is not None))
        if args.profile:
            args.profile.write_text(figures.pop("profile"))
    finally:
        farm.send_signal(signal.SIGTERM)
        farm.wait(timeout=120)
    report = json.loads((work / "farm.json").read_text())
    (work / "figures.json").write_text(json.dumps(figures))
    cadence = _cadence(report, figures, args.interval)
    window = figures["to"] - figures["from"]
    per_interval = figures["cpu"] * args.interval / window
    low, mean, high = cadence["per_interval"]
    latencies = sorted(report["latencies"])

    def pct(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] if latencies else 0

    print(
        f"feeds={args.feeds} interval={args.interval}s compress={args.compress:g} "
        f"hosts={args.hosts} seeding={seeding:.0f}s (real) data in {work}\n"
        f"  CPU per interval: {per_interval:.1f} s   "
        f"average cores: {per_interval / args.interval:.3f}   "
        f"peak RSS (VmHWM): {figures['rss']:.0f} MB\n"
        f"  requests per feed per interval: min {low:.2f} mean {mean:.3f} max {high:.2f}"
        f"   gap between checks: {cadence['gaps'][0]:.0f}-{cadence['gaps'][1]:.0f} s"
        f"   304 share: {cadence['not_modified']:.0%}\n"
        f"  first full cycle: {cadence['first_cycle']:.0f} s\n"
        f"  new entries: served {report['served_new']}, sent {report['sent_new']}; "
        f"served-to-sent latency p50 {pct(0.5):.1f} s p95 {pct(0.95):.1f} s "
        f"max {pct(1.0):.1f} s; Telegram refusals {report['rejected']}"
    )


if __name__ == "__main__":
    main()
