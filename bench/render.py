"""Render every entry of every XML feed in the shared corpus; print entries per second.

Run: ``.venv/bin/python bench/render.py``. Feeds are parsed once, outside the timed
part, with feedparser's own sanitiser and URL resolution off (as the parse stage
does); Entry objects are built minimally here, independent of ``bot.feeds.parse``.
Timed: ``detect_boilerplate`` per feed plus ``render_entry`` for each entry, on one
core, in the default display options and in FULL with pictures-as-album.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

if __package__ in {None, ""}:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.models import DisplayOptions, Entry, SummaryMode
from bot.render import detect_boilerplate, render_entry

FEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "feeds"


def _when(item: Any) -> datetime | None:
    # dict.get: feedparser's own get() warns when mapping updated_parsed to published_parsed
    parsed = dict.get(item, "published_parsed") or dict.get(item, "updated_parsed")
    if not parsed:
        return None
    year, month, day, hour, minute, second = parsed[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _images(item: Any) -> tuple[str, ...]:
    urls = [
        str(e.get("href", ""))
        for e in item.get("enclosures", [])
        if str(e.get("type", "")).startswith("image/")
    ]
    urls += [
        str(m.get("url", ""))
        for m in item.get("media_content", [])
        if m.get("medium") == "image" or str(m.get("type", "")).startswith("image/")
    ]
    urls += [str(m.get("url", "")) for m in item.get("media_thumbnail", [])]
    return tuple(u for u in urls if u)


def entry_of(item: Any) -> Entry:
    """A minimal Entry from a feedparser entry: enough to exercise the render stage."""
    bodies = [str(c.get("value", "")) for c in item.get("content", [])]
    bodies.append(str(item.get("summary", "")))
    return Entry(
        key=str(item.get("id") or item.get("link") or item.get("title", "")),
        title=str(item.get("title", "")),
        link=str(item.get("link", "")),
        content_html=max(bodies, key=len),
        author=str(item.get("author", "")),
        tags=tuple(str(t.get("term")) for t in item.get("tags", []) if t.get("term")),
        published=_when(item),
        images=_images(item),
    )


def corpus_feeds() -> list[tuple[str, str, tuple[Entry, ...]]]:
    """(file name, feed title, entries) for every XML/RDF document of the corpus."""
    found = []
    for path in sorted(FEEDS.iterdir()):
        if path.suffix not in {".xml", ".rdf"}:
            continue
        parsed = feedparser.parse(
            path.read_bytes(), sanitize_html=False, resolve_relative_uris=False
        )
        title = str(parsed.feed.get("title", ""))
        found.append((path.name, title, tuple(entry_of(item) for item in parsed.entries)))
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
