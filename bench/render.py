"""Render every entry of every feed in the shared corpus; print entries per second.

Run: ``.venv/bin/python bench/render.py``. Feeds are parsed once by ``bot.feeds.parse``,
outside the timed part. Timed: ``detect_boilerplate`` per feed plus ``render_entry``
for each entry, on one core, in the default display options and in FULL with
pictures-as-album.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in {None, ""}:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.feeds.parse import parse_feed
from bot.models import DisplayOptions, Entry, SummaryMode
from bot.render import detect_boilerplate, render_entry

FEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "feeds"


def corpus_feeds() -> list[tuple[str, str, tuple[Entry, ...]]]:
    """(file name, feed title, entries) for every feed document of the corpus, JSON included.

    Parsed by the bot's own parse stage, as if served from a made-up address, so
    relative links resolve the way they do for a subscribed feed.
    """
    found = []
    for path in sorted(FEEDS.iterdir()):
        if path.suffix not in {".xml", ".rdf", ".json"}:
            continue
        parsed = parse_feed(path.read_bytes(), url=f"https://feeds.example/{path.name}")
        found.append((path.name, parsed.title, parsed.entries))
    return found


def main() -> None:
    """Time the render stage over the corpus and print the figures."""
    feeds = corpus_feeds()
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
            started = time.perf_counter()
            for _, title, entries in feeds:
                boilerplate = detect_boilerplate(entries)
                for entry in entries:
                    render_entry(entry, feed_title=title, options=options, boilerplate=boilerplate)
            best = min(best, time.perf_counter() - started)
        print(f"{label}: {total / best:,.0f} entries/s ({best * 1e3:.0f} ms for the corpus)")


if __name__ == "__main__":
    main()
