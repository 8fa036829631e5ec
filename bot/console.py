"""What the command line shows a person at a terminal, and nothing of it in a pipe.

- Colour (the ANSI styles of ``preview``) only when the stream is a terminal and
  ``NO_COLOR`` is unset or empty (https://no-color.org); otherwise the styles are removed.
- A progress bar (rich's) on stderr for long jobs, only on a terminal; rich itself
  honours ``NO_COLOR`` and ``TERM=dumb``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

_SGR = re.compile(r"\x1b\[[0-9;]*m")


def wants_colour(stream: TextIO) -> bool:
    """Whether to style text written to ``stream``: a terminal, and no NO_COLOR."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def plain(text: str) -> str:
    """``text`` without ANSI SGR styles (the renderer already strips every other escape)."""
    return _SGR.sub("", text)


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[], None]]:
    """A bar of ``total`` steps on stderr while the block runs; yields "one step done".

    Off a terminal the bar is not drawn and the callable does nothing.
    """
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)
