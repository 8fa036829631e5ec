"""Over the shared corpus: how many entries with a picture get one sent, and with a summary show it.

Run: ``.venv/bin/python bench/corpus_shares.py [-v]``. Every entry of every feed in
``shared/feeds`` is parsed by the bot's parse stage and rendered with the default
display options (short summary, one picture), as a new subscriber would get it.

- An entry *has a picture* when the feed declares one (image enclosure,
  media:content, media:thumbnail, JSON Feed image) or its body has an ``<img>``
  whose address resolves to http(s), that is not declared 0-1 px (a tracking
  pixel) and whose address names no icon (``_NOT_A_PHOTO``: file-type glyphs,
  emoji, smileys, avatars, spacers, feed-counter buttons). It *gets one sent* when
  the message is a photo whose first picture is such a picture (a forum's
  ``filetype/jpg.gif`` sent instead of the post's photos does not count).
- An entry *has a summary* when its body has text beyond its title. It *shows it*
  when a piece of the body's first 240 characters appears in the message text.

The definitions are wider than the renderer's own picture rules (an SVG diagram,
a picture declared 48 px counts here): ``-v`` lists every miss, so each can be
judged by eye. The held-out targets are 95% and 99%.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from html import unescape
from pathlib import Path

if __package__ in {None, ""}:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.render import parse_corpus_file
from bot.models import Entry, OutgoingMessage
from bot.render import detect_boilerplate, html_to_plain, render_entry
from bot.render.links import resolve_web
from tests.corpus import CORPUS_MISSING, FEED_SUFFIXES, find_shared

_IMG = re.compile(r"<img\b([^<>]*)>", re.I)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_NOT_A_PHOTO = re.compile(
    r"filetype|icon|emoji|smil(?:e|ey|ies)|avatar|spacer|pixel|badge|button|feedburner\.com/~",
    re.I,
)
_PIECE = 12
_HEAD = 240


def _attrs(tag: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for m in _ATTR.finditer(tag):
        found.setdefault(m.group(1).lower(), m.group(2) or m.group(3) or m.group(4) or "")
    return found


def real_pictures(entry: Entry) -> list[str]:
    """The entry's pictures by the wide definition of the module docstring, absolute."""
    found = [url for url in entry.images if not _NOT_A_PHOTO.search(url)]
    for tag in _IMG.finditer(entry.content_html):
        attrs = _attrs(tag.group(1))
        sizes = (attrs.get("width", "").strip(), attrs.get("height", "").strip())
        if "0" in sizes or "1" in sizes:
            continue
        for name in ("data-src", "data-original", "data-lazy-src", "src"):
            value = unescape(attrs.get(name, ""))
            url = resolve_web(value, entry.link) if value else None
            if url is not None:
                if not _NOT_A_PHOTO.search(url):
                    found.append(url)
                break
    return found


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", unescape(text))


def summary_text(entry: Entry) -> str:
    """The body's text when it says more than the title, else ""."""
    body = html_to_plain(entry.content_html)
    if _squeeze(body) in {"", _squeeze(entry.title)}:
        return ""
    return body


def shows_summary(body: str, message: OutgoingMessage) -> bool:
    """Whether a piece of the body's beginning is in the message."""
    head = _squeeze(body)[:_HEAD]
    text = _squeeze(message.text)
    pieces = [head[i : i + _PIECE] for i in range(0, max(len(head) - _PIECE, 0) + 1, _PIECE)]
    return any(piece and piece in text for piece in pieces)


def main() -> None:
    """Print the two shares over the corpus (and, with -v, every miss)."""
    folder = find_shared("feeds")
    if folder is None:
        sys.exit(f"bench/corpus_shares.py: {CORPUS_MISSING}")
    verbose = "-v" in sys.argv[1:]
    counts: Counter[str] = Counter()
    for path in sorted(p for p in folder.iterdir() if p.suffix in FEED_SUFFIXES):
        name, title, entries = parse_corpus_file(path)
        boilerplate = detect_boilerplate(entries)
        for entry in entries:
            counts["entries"] += 1
            message = render_entry(entry, feed_title=title, boilerplate=boilerplate)
            real = real_pictures(entry)
            if real:
                counts["with a picture"] += 1
                if message.photo_urls and message.photo_urls[0] in real:
                    counts["picture sent"] += 1
                elif verbose:
                    print(f"  no picture  {name}: {entry.title[:60]!r}")
            body = summary_text(entry)
            if body:
                counts["with a summary"] += 1
                if shows_summary(body, message):
                    counts["summary shown"] += 1
                elif verbose:
                    print(f"  no summary  {name}: {entry.title[:50]!r}: {body[:60]!r}")
    pictures = counts["picture sent"] / max(counts["with a picture"], 1)
    summaries = counts["summary shown"] / max(counts["with a summary"], 1)
    print(f"{counts['entries']} entries")
    print(
        f"pictures: {counts['picture sent']} of {counts['with a picture']} entries with a "
        f"picture get one sent ({pictures:.1%})"
    )
    print(
        f"summaries: {counts['summary shown']} of {counts['with a summary']} entries with a "
        f"summary show it ({summaries:.1%})"
    )


if __name__ == "__main__":
    main()
