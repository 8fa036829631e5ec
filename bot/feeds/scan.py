"""A fast look at a feed document's entry keys, before (and mostly instead of) a full parse.

feedparser needs 15-350 ms for a 200 KB feed; expat with handlers only for element
starts and ends reads the same document in a millisecond or two. ``scan_entries``
returns each entry's dedupe key, as ``bot.feeds.parse`` would compute it, and where
the entry sits in the bytes. The refresh asks the store which keys are unseen: none
means the changed document brought nothing new and is not parsed at all; a few means
only those entries are parsed, cut out with the document's head and tail
(``EntryScan.partial``), and the refresh checks that the parser found exactly those
keys before trusting the result.

The document is first defused exactly as the parser defuses it (``parse.defuse``:
no DTD subset, no forbidden control bytes, a repaired UTF-8 declaration); a multi-byte
encoding expat cannot read (GB18030, Big5, Shift_JIS…) is decoded with the declared
codec and scanned, and cut, as UTF-8. The scan only answers when it is sure, and
returns None otherwise (the caller then parses the whole document):

- RSS 2.0 (``rss/channel/item``), RSS 1.0/0.90 (``rdf:RDF/item``) or Atom
  (``feed/entry``), well-formed;
- every entry has exactly one id -- ``guid``/``id`` as a direct child, or an RSS 1.0
  ``rdf:about`` -- or, in RSS, no id and exactly one ``link`` that is an absolute
  http(s) URL. An id with a URI scheme, or a ``guid`` marked ``isPermaLink="false"``,
  is taken as is; any other is resolved against the feed's URL, as the parser does,
  unless an ``xml:base`` (or feedparser's ``base``) could change that;
- no key repeats (the parser would append content hashes), no entry sits elsewhere or
  inside another, and there is at least one entry.

A key the scan gets wrong costs a full parse, never an entry: scanned keys are only
ever looked up, never stored, and a partial parse whose keys differ is thrown away.
``tests/test_scan.py`` checks the keys and the partial parses against ``parse_feed``
over the whole corpus.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urljoin
from xml.parsers import expat

from bot.feeds.identity import normalise_link
from bot.feeds.parse import defuse
from bot.feeds.textutil import absolute_http, one_line

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_DECLARATION = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where a format keeps its entries and their ids."""

    entry: str
    depth: int
    ident: str | None
    """The id element, or None (RSS 1.0: the ``rdf:about`` attribute)."""
    links: bool
    """An entry without id is keyed by its ``link`` (RSS)."""


_LAYOUTS = {
    "rss": _Layout("item", 3, "guid", links=True),
    "rdf:RDF": _Layout("item", 2, None, links=True),
    "feed": _Layout("entry", 2, "id", links=False),
}


class _UnsureError(Exception):
    """Raised inside an expat handler: the scan cannot vouch for this document."""


@dataclass(frozen=True, slots=True)
class EntryScan:
    """The entries of a document: keys in document order and their byte spans."""

    body: bytes
    """The document the spans refer to: defused, and UTF-8 when it was re-encoded."""
    keys: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]

    def partial(self, keys: Collection[str]) -> bytes:
        """The document with only the entries whose key is in ``keys``, in their order.

        The head (everything before the first entry: declaration, namespaces, channel
        title) and the tail (everything after the last one) are kept as they are.
        """
        head = self.body[: self.spans[0][0]]
        tail = self.body[self.spans[-1][1] :]
        chosen = [
            self.body[start:end]
            for key, (start, end) in zip(self.keys, self.spans, strict=True)
            if key in keys
        ]
        return head + b"\n".join(chosen) + tail

    def first(self, limit: int) -> EntryScan:
        """The scan of the document without its entries past the first ``limit``.

        ``bot.feeds.parse`` reads a document's first ``MAX_ENTRIES`` entries, so only
        those are ever seen; the rest are cut from the body too, so that a partial
        parse cannot read them as new. Scans of at most ``limit`` entries come back as
        they are.
        """
        if len(self.keys) <= limit:
            return self
        body = self.body[: self.spans[limit][0]] + self.body[self.spans[-1][1] :]
        return EntryScan(body, self.keys[:limit], self.spans[:limit])


class _Scanner:
    """Expat handlers tracking depth, entries, and the text of their id and link."""

    def __init__(self, parser: expat.XMLParserType, body: bytes, base: str) -> None:
        self.parser = parser
        self.body = body
        self.base = base
        self.depth = 0
        self.layout: _Layout | None = None
        self.rebased = False
        """An ``xml:base`` was seen: relative ids are not resolved by the scan."""
        self.keys: list[str] = []
        self.spans: list[tuple[int, int]] = []
        self.entry_start = -1
        self.ident: list[str] | None = None
        self.permalink = True
        self.link: list[str] | None = None
        self.capturing = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if "xml:base" in attrs or "base" in attrs:  # feedparser reads both
            self.rebased = True
        if self.depth == 1:
            self.layout = _LAYOUTS.get(name)
            if self.layout is None:
                raise _UnsureError(name)
            return
        local = name.rpartition(":")[2]
        if local in ("item", "entry"):
            self._open_entry(name, attrs)
        elif self.entry_start >= 0 and local in ("guid", "id", "link"):
            self._capture(name, local, attrs)

    def _open_entry(self, name: str, attrs: dict[str, str]) -> None:
        layout = self.layout
        assert layout is not None  # noqa: S101 - set at depth 1
        if name != layout.entry or self.depth != layout.depth or self.entry_start >= 0:
            raise _UnsureError(name)
        self.entry_start = self.parser.CurrentByteIndex
        self.ident, self.link, self.permalink = None, None, True
        if layout.ident is None and "rdf:about" in attrs:
            self.ident = [attrs["rdf:about"]]

    def _capture(self, name: str, local: str, attrs: dict[str, str]) -> None:
        """Collect the text of an entry's id or link element."""
        layout = self.layout
        assert layout is not None  # noqa: S101 - set at depth 1
        child = self.depth == layout.depth + 1
        if local == "link" and not (layout.links and child):
            return  # Atom links, or links nested deeper, make no key
        if not child or name not in (layout.ident, "link"):
            raise _UnsureError(name)  # an id somewhere the parser might also look
        text: list[str] = []
        if name == layout.ident:
            if self.ident is not None:
                raise _UnsureError(name)
            self.ident = text
            # feedparser: a permalink unless the (case-blind) attribute is exactly "true".
            flag = next((v for k, v in attrs.items() if k.lower() == "ispermalink"), "true")
            if flag not in ("true", "false"):
                raise _UnsureError(f"isPermaLink={flag!r}")
            self.permalink = flag == "true"
        else:
            if self.link is not None:
                raise _UnsureError(name)
            self.link = text
        self.parser.CharacterDataHandler = text.append
        self.capturing = True

    def end(self, name: str) -> None:
        self.depth -= 1
        if self.capturing:
            self.parser.CharacterDataHandler = None
            self.capturing = False
        assert self.layout is not None  # noqa: S101 - set at depth 1
        if name != self.layout.entry or self.entry_start < 0:
            return
        at = self.parser.CurrentByteIndex
        end = self.body.index(b">", at) + 1
        self.keys.append(self._key())
        self.spans.append((self.entry_start, end))
        self.entry_start = -1

    def _key(self) -> str:
        if self.ident is not None:
            ident = one_line("".join(self.ident))
            if ident and (_SCHEME.match(ident) or not self.permalink):
                return "id:" + ident
            if ident and not self.rebased and self.base:
                return "id:" + urljoin(self.base, ident)
            if ident or self.layout is None or not self.layout.links:
                raise _UnsureError("relative id")
        if self.link is not None:
            link = one_line("".join(self.link))
            if _HTTP.match(link) and absolute_http(link, link) == link:
                # As ``identity.assign_keys`` keys it; the link as given is only an alias.
                return "link:" + normalise_link(link)
        raise _UnsureError("no usable id")

    @staticmethod
    def refuse(*_: object) -> None:
        raise _UnsureError("DOCTYPE or entity declaration")


_UNKNOWN_ENCODING = expat.errors.codes[expat.errors.XML_ERROR_UNKNOWN_ENCODING]


class _EncodingError(Exception):
    """Expat does not read the document's declared encoding."""


def _as_utf8(data: bytes) -> bytes | None:
    """The document decoded with its declared codec, re-encoded and re-declared as UTF-8."""
    declared = _DECLARED.match(data[:200])
    if declared is None:
        return None
    try:
        text = data.decode(declared.group(1).decode("ascii"))
    except (LookupError, UnicodeDecodeError):
        return None
    return _DECLARATION.sub(r"\1\2utf-8\2", text, count=1).encode("utf-8")


def _scan(data: bytes, url: str) -> EntryScan | None:
    # Whitespace before the XML declaration is an expat error that feedparser forgives.
    lead = len(data) - len(data.lstrip(b" \t\r\n"))
    parser = expat.ParserCreate()
    scanner = _Scanner(parser, data[lead:], url)
    parser.StartElementHandler = scanner.start
    parser.EndElementHandler = scanner.end
    parser.StartDoctypeDeclHandler = scanner.refuse
    parser.EntityDeclHandler = scanner.refuse
    parser.buffer_text = True
    try:
        parser.Parse(data[lead:], True)
    except expat.ExpatError as exc:
        if exc.code == _UNKNOWN_ENCODING:
            raise _EncodingError from exc
        return None
    except ValueError as exc:  # pyexpat: "multi-byte encodings are not supported"
        raise _EncodingError from exc
    except _UnsureError:
        return None
    if not scanner.keys or len(set(scanner.keys)) != len(scanner.keys):
        return None
    spans = tuple((start + lead, end + lead) for start, end in scanner.spans)
    return EntryScan(data, tuple(scanner.keys), spans)


def scan_entries(body: bytes, *, url: str = "") -> EntryScan | None:
    """The document's entry keys and spans, or None when the scan cannot be sure.

    ``url`` is the document's address, against which relative ids resolve (without
    it, a relative id makes the scan unsure).
    """
    data = defuse(body)
    try:
        return _scan(data, url)
    except _EncodingError:
        utf8 = _as_utf8(data)
    if utf8 is None:
        return None
    try:
        return _scan(utf8, url)
    except _EncodingError:
        return None
