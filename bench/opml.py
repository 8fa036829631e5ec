"""OPML reading speed: a 10,000-outline file, and a new namespace prefix on each of 28,000
nested outlines (a hostile file that costs quadratic time to a reader copying its prefix
map per element).

Run: .venv/bin/python bench/opml.py. Prints seconds (best of 3) per document.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.opml import CLI_MAX_OPML_BYTES, Outline, read_opml, write_opml

DEPTH = 28_000
OUTLINES = 10_000


def _nested(depth: int) -> bytes:
    opening = b"".join(b'<outline xmlns:p%d="u">' % n for n in range(depth))
    data = b"<opml><body>" + opening + b'<outline p7:x="1" xmlUrl="https://deep/"/>'
    return data + b"</outline>" * depth + b"</body></opml>"


def _best(data: bytes, max_outlines: int) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        read_opml(data, max_outlines=max_outlines, max_bytes=CLI_MAX_OPML_BYTES)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    """Print the reading time of each document."""
    many = write_opml(
        "bench",
        [Outline(f"https://feeds{n % 50}.example/f/{n}", f"Feed {n}") for n in range(OUTLINES)],
        created=0,
    )
    print(f"{OUTLINES:,} outlines ({len(many) / 1e6:.1f} MB): {_best(many, OUTLINES):.3f} s")
    nested = _nested(DEPTH)
    print(f"{DEPTH:,} nested prefix declarations ({len(nested) / 1e6:.1f} MB): "
          f"{_best(nested, 5):.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
