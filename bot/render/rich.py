"""Text with styled spans, the render stage's working form, and Unicode hygiene.

Spans count Python code points while a message is being built, because slicing and
concatenating then stays trivial; they become Telegram entities (UTF-16 code units)
once, at the very end, in ``to_entities``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.models import MessageEntity
from bot.render.nesting import nestable

# C0/C1 controls (newline and tab are whitespace and folded elsewhere), bidi
# embeddings/overrides/isolates and marks, BOM, interlinear annotation, and lone
# surrogates: a feed can use any of them to garble or spoof what a chat shows.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_SPACES = re.compile(r"\s+")


def utf16_len(text: str) -> int:
    """Telegram measures every limit and offset in UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clean(text: str) -> str:
    """Drop characters that must never reach a chat (controls, bidi overrides, lone surrogates)."""
    return _UNSAFE.sub("", text)


def fold(text: str) -> str:
    """One line of safe text: whitespace runs become one space, ends trimmed."""
    return _SPACES.sub(" ", clean(text)).strip()


@dataclass(frozen=True, slots=True)
class Span:
    """A styled range [start, end) in code points; url for text_link, language for pre."""

    type: str
    start: int
    end: int
    url: str | None = None
    language: str | None = None
    rank: int = 3
    """Importance when entities must be dropped: 0 is kept first."""

    def shifted(self, by: int) -> Span:
        """The same span placed ``by`` code points further on."""
        return Span(self.type, self.start + by, self.end + by, self.url, self.language, self.rank)


@dataclass(frozen=True, slots=True)
class Rich:
    """Plain text plus spans over it."""

    text: str = ""
    spans: tuple[Span, ...] = ()


def join(parts: Iterable[Rich | str]) -> Rich:
    """Concatenate pieces, moving each piece's spans to its new place."""
    texts: list[str] = []
    spans: list[Span] = []
    at = 0
    for part in parts:
        rich = Rich(part) if isinstance(part, str) else part
        texts.append(rich.text)
        spans.extend(span.shifted(at) for span in rich.spans)
        at += len(rich.text)
    return Rich("".join(texts), tuple(spans))


def styled(text: str, kind: str, *, url: str | None = None, rank: int = 3) -> Rich:
    """A piece of text wholly covered by one span."""
    return Rich(text, (Span(kind, 0, len(text), url, None, rank),) if text else ())


def clip(spans: Sequence[Span], end: int) -> tuple[Span, ...]:
    """Spans cut at ``end``; those left empty vanish."""
    out: list[Span] = []
    for span in spans:
        stop = min(span.end, end)
        if stop > span.start:
            out.append(
                span
                if stop == span.end
                else Span(span.type, span.start, stop, span.url, span.language, span.rank)
            )
    return tuple(out)


def to_entities(rich: Rich, *, limit: int = 100) -> tuple[MessageEntity, ...]:
    """Telegram entities in UTF-16 units, at most ``limit``, the most important kept."""
    text = rich.text
    spans = nestable(
        [s for s in rich.spans if s.end > s.start and s.start >= 0 and s.end <= len(text)]
    )
    if len(spans) > limit:
        order = sorted(range(len(spans)), key=lambda i: (spans[i].rank, spans[i].start))
        spans = [spans[i] for i in sorted(order[:limit])]
    astral = utf16_len(text) != len(text)

    def unit(index: int) -> int:
        return utf16_len(text[:index]) if astral else index

    entities = [
        MessageEntity(
            type=s.type,
            offset=unit(s.start),
            length=unit(s.end) - unit(s.start),
            url=s.url,
            language=s.language,
        )
        for s in spans
    ]
    entities.sort(key=lambda e: (e.offset, -e.length))
    return tuple(entities)
