"""Render every entry of every feed in the shared corpus; print entries per second.

Run: ``.venv/bin/python bench/render.py``. Feeds are parsed once by ``bot.feeds.parse``,
outside the timed part. Timed: ``detect_boilerplate`` per feed plus ``render_entry``
for each entry, on one core, in the default display options and in FULL with
pictures-as-album. The render stage's memos are cleared before each round.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in {None, ""}:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.feeds.parse import parse_feed
from bot.models import DisplayOptions, Entry, SummaryMode
from bot.render import clear_caches, detect_boilerplate, render_entry
from tests.corpus import CORPUS_MISSING, FEED_SUFFIXES, find_shared


def parse_corpus_file(path: Path) -> tuple[str, str, tuple[Entry, ...]]:
    """(file name, feed title, entries) of one corpus document, XML or JSON.

    Parsed by the bot's own parse stage, as if served from a made-up address, so
    relative links resolve the way they do for a subscribed feed.
    """
    parsed = parse_feed(path.read_bytes(), url=f"https://feeds.example/{path.name}")
    return path.name, parsed.title, parsed.entries


def main() -> None:
    """Time the render stage over the corpus and print the figures."""
    folder = find_shared("feeds")
    if folder is None:
        sys.exit(f"bench/render.py: {CORPUS_MISSING}")
    feeds = [parse_corpus_file(p) for p in sorted(folder.iterdir()) if p.suffix in FEED_SUFFIXES]
    total = sum(len(entries) for _, _, entries in feeds)
    size = sum(len(e.content_html) for _, _, entries in feeds for e in entries)
    print(f"{len(feeds)} feeds, {total} entries, {size / 1e6:.1f} M characters of HTML")
    full = DisplayOptions(album=True, summary=SummaryMode.FULL)
    for label, options in (
        ("default (short, 1 picture)", DisplayOptions()),
        ("full + album", full),
    ):
        best = float("inf")
        for _ in range(3):
            clear_caches()  # every round starts cold, as the first refresh after a start
            started = time.perf_counter()
            for _, title, entries in feeds:
                boilerplate = detect_boilerplate(entries)
                for entry in entries:
                    render_entry(entry, feed_title=title, options=options, boilerplate=boilerplate)
            best = min(best, time.perf_counter() - started)
        print(f"{label}: {total / best:,.0f} entries/s ({best * 1e3:.0f} ms for the corpus)")


if __name__ == "__main__":
    main()
