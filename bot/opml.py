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

Files from other apps are often not well-formed: many podcast and reader apps
write a bare ``&`` in an attribute (``htmlUrl="...?a=1&b=2"``) or an HTML entity
XML does not know (``&nbsp;``). When expat refuses a file that has no DOCTYPE, it
is read again the way a lenient reader would: first with each bare ``&`` escaped
and HTML entities turned into characters, then, if expat still refuses it, by
scanning its ``<outline>`` tags one by one. What was repaired or left out is
reported per outline (``OpmlDocument.notes``). A DOCTYPE is refused in every pass.

Attributes in a namespace (``prefix:name`` with ``xmlns:prefix`` declared on the
element or an ancestor, as "Namespaces in XML 1.0" scopes them) are kept on the
outline, and on the document for the root element, named ``{namespace}name``: the
OPML 2.0 specification lets a file carry elements and attributes that are not in
it only in a namespace, which is how apps extend it (``bot.opml_options`` reads and
writes newsrelay's own). An unprefixed attribute is in no namespace.

Writing uses ElementTree, which escapes every attribute value; characters XML 1.0
cannot carry at all (C0 controls but tab and line breaks, lone surrogates, U+FFFE,
U+FFFF), which a JSON feed's title may hold, become U+FFFD so the document stays
well-formed.
"""

from __future__ import annotations

import codecs
import html
import html.entities
import re
import xml.etree.ElementTree as ET  # writing only; reading goes through expat below
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from enum import StrEnum
from xml.parsers import expat

from bot.xml_namespaces import Extensions, Scopes, prefixed, xml_text

MAX_OPML_BYTES = 1024 * 1024
"""The chat's /import limit."""
CLI_MAX_OPML_BYTES = 16 * 1024 * 1024
"""The operator's ``import-opml`` limit: a 10,000-feed list with titles and site links is
2-3 MB, and the operator's own file is trusted more than a chat's upload."""
MAX_TEXT_CHARS = 500
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_EXPAT_NATIVE = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "iso8859-1", "ascii"}
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};|([A-Za-z][A-Za-z0-9]{0,31});)?")
_XML_NAMED = frozenset({"amp", "lt", "gt", "quot", "apos"})
_OUTLINE_TAG = re.compile(r"<outline\b((?:[^<>\"']|\"[^\"]*\"|'[^']*')*)>", re.IGNORECASE)
_TAG_ATTR = re.compile(r"""([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>/]+))""")
_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_OPML_TAG = re.compile(r"<opml\b((?:[^<>\"']|\"[^\"]*\"|'[^']*')*)>", re.IGNORECASE)


class OpmlErrorKind(StrEnum):
    """Why a document was refused, for a reader that words it in its own language."""

    NOT_OPML = "not_opml"
    DECLARATION = "declaration"
    """A DOCTYPE or entity declaration."""
    ENCODING = "encoding"
    NOT_WELL_FORMED = "not_well_formed"
    OTHER = "other"


class OpmlError(ValueError):
    """The document is not a usable OPML file; the message is one line for the user."""

    def __init__(self, message: str, kind: OpmlErrorKind = OpmlErrorKind.OTHER) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Outline:
    """One feed of a subscription list."""

    url: str
    title: str = ""
    html_url: str = ""
    extensions: Extensions = ()
    """The outline's attributes in a namespace (see the module docstring)."""


class NoteKind(StrEnum):
    """What an ``OutlineNote`` says, for a reader that words it in its own language."""

    AMPERSAND = "ampersand"
    """The outline was read with a bare ``&`` taken as ``&amp;``."""
    NO_FEED_ADDRESS = "no_feed_address"
    """A feed outline (type rss/atom) without an xmlUrl was left out."""
    NOT_WELL_FORMED = "not_well_formed"
    """The whole file (line 0): not XML, so its outline tags were read one by one."""


@dataclass(frozen=True, slots=True)
class OutlineNote:
    """Something said about one outline of a file that was not read as written."""

    line: int
    """1-based line of the outline's tag in the file."""
    name: str
    """The outline's title, text or URL, whichever it has."""
    note: str
    """One line in English: what was repaired, or why the outline was left out."""
    kind: NoteKind


@dataclass(frozen=True, slots=True)
class OpmlDocument:
    """The feeds of a list (first occurrence of each URL, in document order)."""

    title: str
    outlines: tuple[Outline, ...]
    truncated: bool = False
    """More feeds than ``max_outlines`` were in the file; the rest were dropped."""
    notes: tuple[OutlineNote, ...] = ()
    """Per outline, what a lenient reading repaired or left out (empty for a sound file)."""
    extensions: Extensions = ()
    """The root ``<opml>`` element's attributes in a namespace."""


class _RefusedError(Exception):
    """Raised inside an expat handler to stop parsing at once."""


class _Reader:
    """Collects outlines with an xmlUrl; refuses DTDs and entity declarations."""

    def __init__(self, max_outlines: int, repaired: frozenset[int] = frozenset()) -> None:
        self.max_outlines = max_outlines
        self.repaired = repaired
        self.outlines: list[Outline] = []
        self.notes: list[OutlineNote] = []
        self.urls: set[str] = set()
        self.truncated = False
        self.root: str | None = None
        self.in_title = False
        self.title = ""
        self.line = 0
        self.extensions: Extensions = ()
        self.scopes = Scopes()

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.scopes.enter(attrs)
        if self.root is None:
            self.root = name
            self.extensions = self.scopes.qualified(attrs)
        if name == "title":
            self.in_title = True
        if name == "outline":
            self.outline(attrs, self.line)

    def outline(self, attrs: dict[str, str], line: int) -> None:
        """Take one outline's attributes (from expat or the tag scan) found at ``line``.

        Its namespaced attributes are read with the prefixes ``self.scopes`` binds now.
        """
        url = (attrs.get("xmlUrl") or attrs.get("xmlurl") or attrs.get("xmlURL") or "").strip()
        title = (attrs.get("title") or attrs.get("text") or "").strip()
        name = (title or url)[:100]
        if not url:
            if (attrs.get("type") or "").lower() in {"rss", "atom", "feed"}:
                self.notes.append(
                    OutlineNote(
                        line, name, "left out: no feed address (xmlUrl)", NoteKind.NO_FEED_ADDRESS
                    )
                )
            return
        if url in self.urls:
            return
        if len(self.outlines) >= self.max_outlines:
            self.truncated = True
            return
        if line in self.repaired:
            note = "read with a bare '&' taken as '&amp;'"
            self.notes.append(OutlineNote(line, name, note, NoteKind.AMPERSAND))
        self.urls.add(url)
        extensions = self.scopes.qualified(attrs)
        html_url = (attrs.get("htmlUrl") or attrs.get("htmlurl") or "").strip()
        self.outlines.append(
            Outline(url[:2000], title[:MAX_TEXT_CHARS], html_url[:2000], extensions),
        )

    def end(self, name: str) -> None:
        self.scopes.leave()
        if name == "title":
            self.in_title = False

    def text(self, data: str) -> None:
        if self.in_title and len(self.title) < MAX_TEXT_CHARS:
            self.title += data

    def document(self) -> OpmlDocument:
        if self.root != "opml":
            raise OpmlError(
                "not an OPML file (the root element is not <opml>)", OpmlErrorKind.NOT_OPML
            )
        title = " ".join(self.title.split())
        return OpmlDocument(
            title, tuple(self.outlines), self.truncated, tuple(self.notes), self.extensions
        )

    @staticmethod
    def doctype(*_: object) -> None:
        raise _RefusedError("DOCTYPE declarations are not accepted in OPML files")

    @staticmethod
    def entity(*_: object) -> None:
        raise _RefusedError("entity declarations are not accepted in OPML files")


def _tag_attributes(tag: str) -> dict[str, str]:
    """The attributes of one tag's text, as a tag-soup reader takes them (first one wins)."""
    attrs: dict[str, str] = {}
    for m in _TAG_ATTR.finditer(tag):
        value = m.group(2) if m.group(2) is not None else m.group(3) or m.group(4) or ""
        attrs.setdefault(m.group(1), html.unescape(value))
    return attrs


def _for_expat(data: bytes) -> bytes | str:
    """Bytes expat decodes itself, or text when the declared encoding is one it lacks (GBK…)."""
    declared = _DECLARED.match(data[:200])
    if declared is None:
        return data
    try:
        codec = codecs.lookup(declared.group(1).decode("ascii"))
    except LookupError as exc:
        name = declared.group(1).decode("ascii")
        raise OpmlError(f"unknown encoding {name!r}", OpmlErrorKind.ENCODING) from exc
    if codec.name in _EXPAT_NATIVE:
        return data
    try:
        # Parsing a str makes expat ignore the declaration and read the text as given.
        return data.decode(codec.name, errors="replace")
    except LookupError as exc:  # a codec that is no text encoding (rot13, base64…)
        raise OpmlError(f"unknown encoding {codec.name!r}", OpmlErrorKind.ENCODING) from exc


def _parse(source: bytes | str, reader: _Reader) -> None:
    """Run expat over ``source`` into ``reader``; raises _RefusedError or ExpatError."""
    parser = expat.ParserCreate()

    def start(name: str, attrs: dict[str, str]) -> None:
        reader.line = parser.CurrentLineNumber
        reader.start(name, attrs)

    parser.StartElementHandler = start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    parser.StartDoctypeDeclHandler = reader.doctype
    parser.EntityDeclHandler = reader.entity
    parser.UnparsedEntityDeclHandler = reader.entity
    parser.Parse(source, True)


def _text(source: bytes | str) -> str:
    if isinstance(source, str):
        return source
    declared = _DECLARED.match(source[:200])
    codec = declared.group(1).decode("ascii") if declared is not None else "utf-8"
    return source.decode(codec, errors="replace").removeprefix("\ufeff")


def _escape_ampersands(text: str) -> tuple[str, frozenset[int]]:
    """Bare ``&`` escaped, HTML-only entities made characters; the lines that changed."""
    lines: set[int] = set()

    def fix(match: re.Match[str]) -> str:
        name = match.group(1)
        if match.group() != "&" and (name is None or name in _XML_NAMED):
            return match.group()  # a sound reference
        if name is not None and f"{name};" in html.entities.html5:
            return html.escape(html.entities.html5[f"{name};"])
        lines.add(text.count("\n", 0, match.start()) + 1)
        return "&amp;"

    return _REFERENCE.sub(fix, text), frozenset(lines)


def _scan(text: str, reader: _Reader) -> None:
    """The last resort: every ``<outline>`` tag read on its own, as a tag-soup reader would."""
    root = _OPML_TAG.search(text)
    reader.root = "opml" if root is not None else None
    root_attrs = _tag_attributes(root.group(1)) if root is not None else {}
    reader.scopes.enter(root_attrs)  # no nesting here: the root's declarations hold for all
    reader.extensions = reader.scopes.qualified(root_attrs)
    title = _TITLE.search(text)
    reader.title = html.unescape(title.group(1))[:MAX_TEXT_CHARS] if title else ""
    for tag in _OUTLINE_TAG.finditer(text):
        attrs = _tag_attributes(tag.group(1))
        reader.scopes.enter(attrs)
        reader.outline(attrs, text.count("\n", 0, tag.start()) + 1)
        reader.scopes.leave()


def read_opml(data: bytes, *, max_outlines: int, max_bytes: int = MAX_OPML_BYTES) -> OpmlDocument:
    """The feeds listed in an OPML document (any nesting of outlines); raises OpmlError.

    A document over ``max_bytes`` is refused before it is parsed. A file expat
    refuses is read leniently, as the module docstring says; the document's
    ``notes`` then tell, per outline, what was repaired or left out.
    """
    if len(data) > max_bytes:
        raise OpmlError(f"the file is larger than {max_bytes // 1024} KB")
    source = _for_expat(data)
    reader = _Reader(max_outlines)
    try:
        _parse(source, reader)
    except _RefusedError as exc:
        raise OpmlError(str(exc), OpmlErrorKind.DECLARATION) from exc
    except expat.ExpatError as exc:
        text = _text(source)
        if _DOCTYPE.search(text):
            reason = "DOCTYPE declarations are not accepted in OPML files"
            raise OpmlError(reason, OpmlErrorKind.DECLARATION) from exc
        fixed, lines = _escape_ampersands(text)
        reader = _Reader(max_outlines, lines)
        try:
            _parse(fixed, reader)
        except _RefusedError as refused:  # unreachable without a DOCTYPE; kept as a guard
            raise OpmlError(str(refused), OpmlErrorKind.DECLARATION) from refused
        except expat.ExpatError:
            reader = _Reader(max_outlines)
            _scan(text, reader)
            if not reader.outlines:
                reason = expat.ErrorString(exc.code)
                kind = OpmlErrorKind.NOT_WELL_FORMED
                raise OpmlError(f"not well-formed XML ({reason})", kind) from exc
            reader.notes.insert(
                0,
                OutlineNote(
                    0,
                    "",
                    f"the file is not well-formed XML ({exc}); outlines read one by one",
                    NoteKind.NOT_WELL_FORMED,
                ),
            )
    return reader.document()


def write_opml(
    title: str,
    outlines: Sequence[Outline],
    *,
    created: float,
    namespaces: Mapping[str, str] | None = None,
    extensions: Extensions = (),
) -> bytes:
    """An OPML 2.0 document (UTF-8) listing ``outlines`` as RSS outlines.

    ``namespaces`` maps the prefixes to declare on ``<opml>`` to their namespaces;
    every namespace of the outlines' ``extensions`` and of ``extensions`` (the root
    element's own) must be among them, else ValueError. ``created`` is Unix seconds.
    """
    prefixes = {uri: prefix for prefix, uri in (namespaces or {}).items()}
    root = ET.Element("opml", version="2.0")
    for prefix, uri in (namespaces or {}).items():
        root.set(f"xmlns:{prefix}", xml_text(uri))
    for name, value in extensions:
        root.set(prefixed(name, prefixes), xml_text(value))
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml_text(title)
    ET.SubElement(head, "dateCreated").text = formatdate(created, usegmt=True)
    body = ET.SubElement(root, "body")
    for outline in outlines:
        attrs = {"type": "rss", "text": outline.title or outline.url}
        if outline.title:
            attrs["title"] = outline.title
        attrs["xmlUrl"] = outline.url
        if outline.html_url:
            attrs["htmlUrl"] = outline.html_url
        attrs.update((prefixed(name, prefixes), value) for name, value in outline.extensions)
        ET.SubElement(body, "outline", {name: xml_text(value) for name, value in attrs.items()})
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
