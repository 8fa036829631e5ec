"""Feed HTML to Telegram text + spans, in one forgiving pass.

Why a converter on stdlib ``html.parser`` rather than nh3 + sulguk: feed HTML is
tag soup (unclosed ``<li>``, ``</a >``, tables, svg, iframes) and sulguk raises on
any tag it does not know, so it would need nh3 to rewrite the document first -- two
full parses per entry. Here every tag we do not map degrades to its text, the parse
stops as soon as enough text for a message exists (the 871 KB posts cost no more
than a short one), and nothing in the markup can raise: html.parser never rejects
input, and we decide per tag what survives.

Mapping: p/div/section/... and <br> become blank lines/newlines; ul/ol become
bullets or numbers (nested lists indent); h1-h6 become bold lines; b/strong,
i/em, u/ins, s/del/strike, code, pre (language from ``class="language-x"`` or
``lang-x`` on pre or its inner code) and blockquote keep their meaning; <a> becomes
a text link when its URL is one Telegram accepts (``links.resolve``), else plain text;
script/style/noscript/template/head lose their content; images are not text.
Entities are never nested inside code/pre, nor links in links, nor quotes in quotes.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from bot.render.links import resolve
from bot.render.rich import Rich, Span, clean

_SKIP = frozenset({"script", "style", "noscript", "template", "head", "title"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
_BLOCK = frozenset(
    {"p", "div", "section", "article", "header", "footer", "aside", "nav", "main", "figure",
     "figcaption", "table", "thead", "tbody", "tfoot", "caption", "address", "details",
     "summary", "dl", "dd", "dt", "center", "form", "fieldset", "video", "audio", "iframe",
     "picture", "hgroup", "svg"}
)  # fmt: skip
_LINE = frozenset({"tr", "li", "dt", "dd", "option"})
_INLINE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "cite": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "kbd": "code",
    "tt": "code",
    "samp": "code",
}
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LANGUAGE = re.compile(r"(?:^|\s)(?:language|lang)-([A-Za-z0-9_+#.-]{1,32})")
_SPACES = re.compile(r"\s+")
_MAX_DEPTH = 200
_CHUNK = 2048
MAX_HTML = 1 << 20
"""HTML past the first MiB is not read: no entry needs it and hostile input stays cheap."""
_MAX_TAGS = 20_000
"""Nor past this many tags: a tag flood without text costs the parser ~3 µs a tag."""


class _Open:
    """An element still open: its span start (None until text arrives) and its kind."""

    __slots__ = ("kind", "language", "start", "tag", "url")

    def __init__(self, tag: str, kind: str | None, url: str | None = None) -> None:
        self.tag = tag
        self.kind = kind
        self.url = url
        self.language: str | None = None
        self.start: int | None = None


_PEERS = {
    "p": frozenset({"p"}),
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "tr": frozenset({"tr", "td", "th"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "option": frozenset({"option"}),
}
_BARRIERS = frozenset({"ul", "ol", "table", "dl", "blockquote", "div", *_HEADINGS})


class _Converter(HTMLParser):
    """Collects text and spans; stops reading once ``limit`` characters are out."""

    def __init__(self, base: str, limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.spans: list[Span] = []
        self.stack: list[_Open] = []
        self.names: dict[str, int] = {}
        self.unstarted = 0  # open elements with a kind still waiting for their first text
        self.skip = 0
        self.newlines = 0
        self.space = False
        self.marker = False  # a list marker was just written: its item's blocks add no breaks
        self.done = False
        self.lists: list[list[int]] = []  # per open list: [next number], or [] for bullets
        self.pre = 0
        self.pre_fresh = False
        self.code = 0
        self.tags = 0

    # -- output ----------------------------------------------------------------

    def _block(self, count: int) -> None:
        if not self.marker:
            self.newlines = max(self.newlines, 1 if self.lists else count)

    def _separate(self) -> None:
        if self.size and (self.newlines or self.space):
            gap = "\n" * self.newlines if self.newlines else " "
            self.parts.append(gap)
            self.size += len(gap)
        self.newlines = 0
        self.space = False

    def _write(self, text: str) -> None:
        self._separate()
        self.marker = False
        if self.unstarted:
            for item in self.stack:
                if item.start is None and item.kind is not None:
                    item.start = self.size
            self.unstarted = 0
        self.parts.append(text)
        self.size += len(text)
        if self.size >= self.limit:
            self.done = True

    def handle_data(self, data: str) -> None:
        if self.done or self.skip:
            return
        data = clean(data[: self.limit - self.size + 256])  # one huge text node is cut early
        if self.pre:
            self._pre_data(data.replace("\r\n", "\n").replace("\t", "    "))
            return
        folded = _SPACES.sub(" ", data)
        if not folded:
            return
        if folded[0] == " ":
            self.space = True
        if folded != " ":
            self._write(folded.strip(" "))
            if folded[-1] == " ":
                self.space = True

    def _pre_data(self, data: str) -> None:
        """Preformatted text is kept verbatim, but not its trailing newlines nor the first one."""
        if self.pre_fresh:
            data = data.removeprefix("\n")
            self.pre_fresh = False
        body = data.rstrip("\n")
        if body:
            self._write(body)
        self.newlines += len(data) - len(body)

    # -- structure -------------------------------------------------------------

    def _push(self, tag: str, kind: str | None, url: str | None = None) -> _Open | None:
        if len(self.stack) >= _MAX_DEPTH:
            return None
        if (kind is not None and (self.pre or self.code)) or (
            kind == "blockquote" and self._inside("blockquote")
        ):
            kind = None
        opened = _Open(tag, kind, url)
        self.stack.append(opened)
        self.names[tag] = self.names.get(tag, 0) + 1
        if kind is not None:
            self.unstarted += 1
        if kind == "pre":
            self.pre += 1
            self.pre_fresh = True
        elif kind == "code":
            self.code += 1
        return opened

    def _inside(self, kind: str) -> bool:
        return any(item.kind == kind for item in self.stack)

    def _pop(self) -> None:
        item = self.stack.pop()
        self.names[item.tag] -= 1
        if item.kind == "pre":
            self.pre -= 1
        elif item.kind == "code":
            self.code -= 1
        if item.tag in {"ul", "ol"} and self.lists:
            self.lists.pop()
        if item.kind is not None:
            if item.start is None:
                self.unstarted -= 1
            elif self.size > item.start:
                rank = 1 if item.kind == "text_link" else 2 if item.kind in {"pre", "code"} else 3
                span = Span(item.kind, item.start, self.size, item.url, item.language, rank)
                self.spans.append(span)
        self._after(item.tag)

    def _after(self, tag: str) -> None:
        if tag in _HEADINGS or tag in {"p", "pre", "blockquote"}:
            self._block(2)
        elif tag in {"ul", "ol"}:
            self._block(1 if self.lists else 2)
        elif tag in _BLOCK or tag in _LINE:
            self._block(1)

    def _close(self, tag: str) -> None:
        if not self.names.get(tag):
            return
        while self.stack:
            top = self.stack[-1].tag
            self._pop()
            if top == tag:
                return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        if self.tags > _MAX_TAGS:
            self.done = True
        if self.done:
            return
        if tag in _SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if tag in _VOID:
            self._void(tag)
            return
        self._before(tag)
        kind, url = self._kind(tag, attrs)
        opened = self._push(tag, kind, url)
        if opened is None:
            return
        if tag in {"ul", "ol"}:
            self._block(1 if self.lists else 2)
            self.lists.append([self._start(attrs)] if tag == "ol" else [])
        elif tag == "li":
            self._bullet()
        elif tag == "code" and self.pre:
            self._language(attrs, [item for item in self.stack if item.kind == "pre"])
        elif kind == "pre":
            self._language(attrs, [opened])

    def _before(self, tag: str) -> None:
        """Close what the tag implicitly ends and ask for the break it starts with."""
        peers = _PEERS.get(tag)
        if peers is not None:
            self._implicit_close(peers)
        if tag in _HEADINGS or tag in {"p", "pre", "blockquote"}:
            self._block(2)
        elif tag in _BLOCK or tag in _LINE:
            self._block(1)
        elif tag in {"td", "th"}:
            self.space = True

    def _kind(self, tag: str, attrs: list[tuple[str, str | None]]) -> tuple[str | None, str | None]:
        if tag == "a":
            href = next((v for k, v in attrs if k == "href" and v), None)
            url = resolve(href, self.base) if href else None
            if url is None or self._inside("text_link"):
                return None, None
            return "text_link", url
        if tag in _HEADINGS:
            return "bold", None
        if tag in {"pre", "blockquote"}:
            return tag, None
        return _INLINE.get(tag), None

    @staticmethod
    def _start(attrs: list[tuple[str, str | None]]) -> int:
        value = (next((v for k, v in attrs if k == "start" and v), None) or "1").strip()
        return int(value) if value.isdigit() and len(value) < 7 else 1

    @staticmethod
    def _language(attrs: list[tuple[str, str | None]], owners: list[_Open]) -> None:
        found = _LANGUAGE.search(next((v for k, v in attrs if k == "class" and v), ""))
        if found is not None:
            for owner in owners:
                owner.language = owner.language or found.group(1).lower()

    def _bullet(self) -> None:
        """Write the item's marker outside every span, then hold its blocks on this line."""
        self._block(1)
        self._separate()
        depth = max(len(self.lists) - 1, 0)
        counter = self.lists[-1] if self.lists else []
        if counter:
            marker = f"{counter[0]}."
            counter[0] += 1
        else:
            marker = "•" if depth % 2 == 0 else "◦"
        marker = "  " * depth + marker
        if self.size:
            self.parts.append(marker)
            self.size += len(marker)
        else:
            self._write(marker)  # nothing precedes it, so no span can have started
        self.space = True
        self.marker = True

    def _implicit_close(self, closes: frozenset[str]) -> None:
        """A new <p>/<li>/row/cell closes the previous one still open, as browsers do."""
        for item in reversed(self.stack):
            if item.tag in closes:
                self._close(item.tag)
                return
            if item.tag in _BARRIERS:
                return

    def _void(self, tag: str) -> None:
        if tag == "br":
            if self.size:
                self.newlines = min(self.newlines + 1, 2)
        elif tag == "hr":
            self._block(2)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP or self.done or self.skip:
            return
        if tag in _VOID:
            self._void(tag)
        else:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        self.tags += 1
        if self.tags > _MAX_TAGS:
            self.done = True
        if self.done:
            return
        if tag in _SKIP:
            self.skip = max(self.skip - 1, 0)
        elif self.skip:
            return
        elif tag == "br":
            self._void(tag)
        else:
            self._close(tag)

    def result(self) -> Rich:
        while self.stack:
            self._pop()
        return Rich("".join(self.parts), tuple(self.spans))


# Python 3.11's html.parser rescans an unclosed start tag, comment or declaration to the
# end of input, once per occurrence (the CVE-2025-6069 family): "<p <p <p ..." or
# "<!-- <!-- ..." would be quadratic. So comments, declarations and processing
# instructions are removed first by consuming patterns (browsers show none of them), and
# a "<" whose tag is not closed before the next "<" is text anyway: it becomes "&lt;".
_DECLARATION = re.compile(r"<!--.*?(?:-->|\Z)|<[!?][^>]*(?:>|\Z)", re.S)
_UNCLOSED = re.compile(r"<(?=[^<>]*(?:<|\Z))")


def html_to_rich(html: str, *, base: str = "", limit: int = 4096) -> Rich:
    """Text and spans of ``html``, reading no further than about ``limit`` characters of text."""
    converter = _Converter(base, limit)
    html = html[:MAX_HTML]
    if "<!" in html or "<?" in html:  # most bodies have neither: skip a pass over them
        html = _DECLARATION.sub("", html)
    html = _UNCLOSED.sub("&lt;", html)
    for at in range(0, len(html), _CHUNK):
        converter.feed(html[at : at + _CHUNK])
        if converter.done:
            break
    else:
        converter.close()
    return converter.result()


_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_DROPPED = re.compile(
    r"<(script|style|noscript|template|head|title)\b[^<>]{0,2000}>.*?(?:</\1\s*>|\Z)", re.S | re.I
)
_TAG = re.compile(r"</?[A-Za-z][^>]*>?")


def html_to_plain(html: str) -> str:
    """The body's words on one line, for keyword filters and previews; regex-fast."""
    text = _COMMENT.sub(" ", html) if "<!--" in html else html
    text = _DROPPED.sub(" ", text)
    text = _TAG.sub(" ", text)
    return _SPACES.sub(" ", clean(unescape(text))).strip()
