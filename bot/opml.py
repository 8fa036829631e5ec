"""OPML 2.0 subscription lists in and out, as a pure stage on bytes.

Reading drives the standard library's expat parser directly rather than using
``listparser``: listparser's ``parse()`` also accepts URLs and file paths and
fetches them itself (the same hazard as ``feedparser.parse(url)``), parses via
``xml.sax`` whose entity handling depends on the linked expat, and would be one
more dependency for what is a flat walk over ``<outline>`` attributes. Here any
DOCTYPE is refused the moment expat reports it, before its internal subset is
read, so no entity is ever declared (no "billion laughs", no quadratic blow-up)
and no external entity or DTD is ever fetched (expat resolves none without a
handler, and we set none). Size and outline count are capped before and while
parsing, so a hostile upload costs at most ``MAX_OPML_BYTES`` of work (the
operator's command line allows ``CLI_MAX_OPML_BYTES``).

Writing uses ElementTree, which escapes every attribute value.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET  # writing only; reading goes through expat below
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formatdate
from xml.parsers import expat

MAX_OPML_BYTES = 1024 * 1024
"""The chat's /import limit."""
CLI_MAX_OPML_BYTES = 16 * 1024 * 1024
"""The operator's ``import-opml`` limit: a 10,000-feed list with titles and site links is
2-3 MB, and the operator's own file is trusted more than a chat's upload."""
MAX_TEXT_CHARS = 500
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_EXPAT_NATIVE = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "iso8859-1", "ascii"}


class OpmlError(ValueError):
    """The document is not a usable OPML file; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Outline:
    """One feed of a subscription list."""

    url: str
    title: str = ""
    html_url: str = ""


@dataclass(frozen=True, slots=True)
class OpmlDocument:
    """The feeds of a list (first occurrence of each URL, in document order)."""

    title: str
    outlines: tuple[Outline, ...]
    truncated: bool = False
    """More feeds than ``max_outlines`` were in the file; the rest were dropped."""


class _RefusedError(Exception):
    """Raised inside an expat handler to stop parsing at once."""


class _Reader:
    """Collects outlines with an xmlUrl; refuses DTDs and entity declarations."""

    def __init__(self, max_outlines: int) -> None:
        self.max_outlines = max_outlines
        self.outlines: list[Outline] = []
        self.urls: set[str] = set()
        self.truncated = False
        self.root: str | None = None
        self.in_title = False
        self.title = ""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.root is None:
            self.root = name
        if name == "title":
            self.in_title = True
        if name != "outline":
            return
        url = (attrs.get("xmlUrl") or attrs.get("xmlurl") or "").strip()
        if not url or url in self.urls:
            return
        if len(self.outlines) >= self.max_outlines:
            self.truncated = True
            return
        self.urls.add(url)
        title = (attrs.get("title") or attrs.get("text") or "").strip()
        html_url = (attrs.get("htmlUrl") or attrs.get("htmlurl") or "").strip()
        self.outlines.append(
            Outline(url[:2000], title[:MAX_TEXT_CHARS], html_url[:2000]),
        )

    def end(self, name: str) -> None:
        if name == "title":
            self.in_title = False

    def text(self, data: str) -> None:
        if self.in_title and len(self.title) < MAX_TEXT_CHARS:
            self.title += data

    @staticmethod
    def doctype(*_: object) -> None:
        raise _RefusedError("DOCTYPE declarations are not accepted in OPML files")

    @staticmethod
    def entity(*_: object) -> None:
        raise _RefusedError("entity declarations are not accepted in OPML files")


def _for_expat(data: bytes) -> bytes | str:
    """Bytes expat decodes itself, or text when the declared encoding is one it lacks (GBK…)."""
    declared = _DECLARED.match(data[:200])
    if declared is None:
        return data
    try:
        codec = codecs.lookup(declared.group(1).decode("ascii"))
    except LookupError as exc:
        raise OpmlError(f"unknown encoding {declared.group(1).decode('ascii')!r}") from exc
    if codec.name in _EXPAT_NATIVE:
        return data
    try:
        # Parsing a str makes expat ignore the declaration and read the text as given.
        return data.decode(codec.name, errors="replace")
    except LookupError as exc:  # a codec that is no text encoding (rot13, base64…)
        raise OpmlError(f"unknown encoding {codec.name!r}") from exc


def read_opml(data: bytes, *, max_outlines: int, max_bytes: int = MAX_OPML_BYTES) -> OpmlDocument:
    """The feeds listed in an OPML document (any nesting of outlines); raises OpmlError.

    A document over ``max_bytes`` is refused before it is parsed.
    """
    if len(data) > max_bytes:
        raise OpmlError(f"the file is larger than {max_bytes // 1024} KB")
    reader = _Reader(max_outlines)
    parser = expat.ParserCreate()
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    parser.StartDoctypeDeclHandler = reader.doctype
    parser.EntityDeclHandler = reader.entity
    parser.UnparsedEntityDeclHandler = reader.entity
    try:
        parser.Parse(_for_expat(data), True)
    except _RefusedError as exc:
        raise OpmlError(str(exc)) from exc
    except expat.ExpatError as exc:
        raise OpmlError(f"not well-formed XML ({expat.ErrorString(exc.code)})") from exc
    if reader.root != "opml":
        raise OpmlError("not an OPML file (the root element is not <opml>)")
    return OpmlDocument(" ".join(reader.title.split()), tuple(reader.outlines), reader.truncated)


def write_opml(title: str, outlines: Sequence[Outline], *, created: float) -> bytes:
    """An OPML 2.0 document (UTF-8) listing ``outlines`` as RSS outlines."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = formatdate(created, usegmt=True)
    body = ET.SubElement(root, "body")
    for outline in outlines:
        attrs = {"type": "rss", "text": outline.title or outline.url}
        if outline.title:
            attrs["title"] = outline.title
        attrs["xmlUrl"] = outline.url
        if outline.html_url:
            attrs["htmlUrl"] = outline.html_url
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
