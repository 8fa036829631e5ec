"""Make styled spans obey Telegram's nesting rules, by dropping the ones that break them.

The Bot API allows entities to nest only this way: two entities that share
characters must be nested, never crossing; bold, italic, underline,
strikethrough and spoiler may contain and lie inside anything except that
nothing lies inside ``code`` or ``pre``; blockquotes do not nest; and every
other kind (links, code, pre, …) may not contain another of those kinds.
HTML allows all of that (a link inside ``<code>``, ``<b>`` inside ``<b>``), so
the converter's spans are tidied here: same-kind styles that overlap are merged,
and a span that breaks a rule is dropped, the outer one winning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar


class _Styled(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def rank(self) -> int: ...


Span = TypeVar("Span", bound=_Styled)

STYLES = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
QUOTES = frozenset({"blockquote", "expandable_blockquote"})
VERBATIM = frozenset({"code", "pre"})


def _merged_styles(spans: Sequence[Span]) -> list[Span]:
    """Overlapping or touching spans of one style become one span."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.type not in STYLES, s.type, s.start, -s.end)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and span.type in STYLES
            and span.type == last.type
            and span.start <= last.end
        ):
            widened: Any = dataclasses.replace(  # type: ignore[type-var]  # Span is a dataclass
                last, end=max(last.end, span.end), rank=min(last.rank, span.rank)
            )
            merged[-1] = widened
        else:
            merged.append(span)
    return merged


def _conflicts(outer: Span, inner: Span) -> bool:
    """Whether ``inner``, lying inside ``outer``, breaks a nesting rule."""
    if outer.type in VERBATIM:
        return True
    if inner.type in STYLES or outer.type in STYLES:
        return False
    if outer.type in QUOTES or inner.type in QUOTES:
        return outer.type in QUOTES and inner.type in QUOTES
    return True


def nestable(spans: Sequence[Span]) -> list[Span]:
    """The spans Telegram accepts together, outer and earlier spans winning, in start order."""
    kept: list[Span] = []
    for span in sorted(_merged_styles(spans), key=lambda s: (s.start, -s.end, s.rank)):
        fits = True
        for other in kept:
            if other.end <= span.start or span.end <= other.start:
                continue
            inside = other.start <= span.start and span.end <= other.end
            if not inside or _conflicts(other, span):
                fits = False
                break
        if fits:
            kept.append(span)
    return kept
