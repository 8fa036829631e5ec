# full-width operators and separators are the subject here
"""Tokenizer and parser for filter expressions: text in, a flat tuple of terms out.

The language is flat (no parentheses, no AND/OR words): a sequence of terms
separated by whitespace. Each term is an optional operator (``+`` must, ``-``
must not; full-width ＋/－ too), an optional field prefix (``title:``,
``content:``, ``author:``, ``tag:``, their Chinese names 标题/正文/内容/作者/标签,
full-width colon accepted), then a body: a bare word, a ``"quoted phrase"``
(“curly” and full-width quotes too) or a ``/regex/`` (``\\/`` inside for a slash).

Outside quotes the Chinese list separators ``，`` ``、`` ``；`` separate terms like
spaces, since Chinese users list keywords that way. A ``word:`` prefix that is
not a field name is part of a plain word (``http://x``, ``12:30``). Positions in
errors are 1-based character offsets into the text the user typed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

MAX_EXPRESSION_CHARS = 1000
MAX_TERMS = 50
MAX_REGEX_CHARS = 256

_MUST_SIGNS = frozenset("+\uff0b")
_NOT_SIGNS = frozenset("-\uff0d\u2212")
_QUOTES = frozenset('"\uff02\u201c\u201d')
_SEPARATORS = frozenset("\uff0c\u3001\uff1b")
_COLONS = ":\uff1a"

FIELD_NAMES: dict[str, str] = {
    "title": "title",
    "content": "content",
    "author": "author",
    "tag": "tag",
    "标题": "title",
    "標題": "title",
    "正文": "content",
    "内容": "content",
    "內容": "content",
    "作者": "author",
    "标签": "tag",
    "標籤": "tag",
}
"""Field prefixes a user may type (casefolded), to the canonical field."""


class FilterSyntaxError(ValueError):
    """A filter expression the user must fix; str() is one line naming where.

    `code` is a stable identifier (``unclosed_quote``…) a caller can translate;
    `position` is the 1-based character where the problem starts.
    """

    def __init__(self, code: str, message: str, position: int) -> None:
        super().__init__(f"{message} at character {position}")
        self.code = code
        self.position = position


class Op(enum.Enum):
    """How a term takes part: any plain term, every must term, no not term."""

    ANY = ""
    MUST = "+"
    NOT = "-"


class Kind(enum.Enum):
    """The body of a term."""

    WORD = "word"
    PHRASE = "phrase"
    REGEX = "regex"


@dataclass(frozen=True, slots=True)
class Term:
    """One parsed term; `text` is the body as written (phrase whitespace folded)."""

    op: Op
    field: str | None
    kind: Kind
    text: str
    position: int
    """1-based character of the term's first character in the original expression."""
    body_position: int
    """1-based character where the body (word, opening quote or slash) starts."""

    @property
    def canonical(self) -> str:
        """The term as it appears in a canonical expression."""
        prefix = f"{self.op.value}{self.field + ':' if self.field else ''}"
        if self.kind is Kind.PHRASE:
            return f'{prefix}"{self.text}"'
        if self.kind is Kind.REGEX:
            return f"{prefix}/{self.text}/"
        return prefix + self.text

    @property
    def label(self) -> str:
        """The term as the user wrote it, without operator and field: for alert lines."""
        return f"/{self.text}/" if self.kind is Kind.REGEX else self.text


def _is_separator(char: str) -> bool:
    """Whitespace and the Chinese list separators end a bare term."""
    return char.isspace() or char in _SEPARATORS


class _Parser:
    """A cursor over the expression; one method per grammar element."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, code: str, message: str, index: int) -> FilterSyntaxError:
        """An error pointing at a 0-based index."""
        return FilterSyntaxError(code, message, index + 1)

    def at_end_of_term(self) -> bool:
        """True at the end of the text or at a separator."""
        return self.pos >= len(self.text) or _is_separator(self.text[self.pos])

    def skip_separators(self) -> None:
        """Move past whitespace and separators."""
        while self.pos < len(self.text) and _is_separator(self.text[self.pos]):
            self.pos += 1

    def terms(self) -> tuple[Term, ...]:
        """Every term of the expression."""
        found: list[Term] = []
        self.skip_separators()
        while self.pos < len(self.text):
            if len(found) == MAX_TERMS:
                raise self.error("too_many_terms", f"too many terms (max {MAX_TERMS})", self.pos)
            found.append(self.term())
            self.skip_separators()
        return tuple(found)

    def term(self) -> Term:
        """``[+|-][field:](word | "phrase" | /regex/)``."""
        start = self.pos
        op = Op.ANY
        char = self.text[self.pos]
        if char in _MUST_SIGNS or char in _NOT_SIGNS:
            op = Op.MUST if char in _MUST_SIGNS else Op.NOT
            self.pos += 1
            if self.at_end_of_term():
                raise self.error("missing_term", f"missing term after '{char}'", start)
        field = self.field_prefix()
        if field is not None and self.at_end_of_term():
            raise self.error(
                "missing_term", f"missing term after '{self.text[start : self.pos]}'", start
            )
        char, body_at = self.text[self.pos], self.pos + 1
        if char in _QUOTES:
            return Term(op, field, Kind.PHRASE, self.phrase(), start + 1, body_at)
        if char == "/":
            return Term(op, field, Kind.REGEX, self.regex(), start + 1, body_at)
        return Term(op, field, Kind.WORD, self.word(), start + 1, body_at)

    def field_prefix(self) -> str | None:
        """Consume ``name:`` when name is a known field; leave anything else alone."""
        end = self.pos
        while end < len(self.text) and not _is_separator(self.text[end]):
            if self.text[end] in _COLONS:
                field = FIELD_NAMES.get(self.text[self.pos : end].casefold())
                if field is not None:
                    self.pos = end + 1
                return field
            end += 1
        return None

    def word(self) -> str:
        """A bare word runs to the next separator."""
        start = self.pos
        while not self.at_end_of_term():
            self.pos += 1
        return self.text[start : self.pos]

    def phrase(self) -> str:
        """Text up to the next quote, whitespace folded; it may not be blank."""
        start = self.pos
        end = start + 1
        while end < len(self.text) and self.text[end] not in _QUOTES:
            end += 1
        if end >= len(self.text):
            raise self.error("unclosed_quote", "unclosed quote", start)
        self.pos = end + 1
        body = " ".join(self.text[start + 1 : end].split())
        if not body:
            raise self.error("empty_phrase", "empty phrase", start)
        return body

    def regex(self) -> str:
        """Text up to the next unescaped slash, which must end the term."""
        start = self.pos
        end = start + 1
        while end < len(self.text) and self.text[end] != "/":
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise self.error("unclosed_regex", "unclosed regex", start)
        body = self.text[start + 1 : end]
        self.pos = end + 1
        if not body:
            raise self.error("empty_regex", "empty regex", start)
        if len(body) > MAX_REGEX_CHARS:
            raise self.error(
                "regex_too_long", f"regex longer than {MAX_REGEX_CHARS} characters", start
            )
        if not self.at_end_of_term():
            raise self.error("text_after_regex", "a space must follow a regex's closing '/'", end)
        return body


def parse(expression: str) -> tuple[Term, ...]:
    """Parse an expression into terms, or raise FilterSyntaxError."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise FilterSyntaxError(
            "too_long",
            f"filter longer than {MAX_EXPRESSION_CHARS} characters",
            MAX_EXPRESSION_CHARS + 1,
        )
    for index, char in enumerate(expression):
        if 0xD800 <= ord(char) <= 0xDFFF or char == "\x00":
            raise FilterSyntaxError("bad_character", "invalid character", index + 1)
    return _Parser(expression).terms()


def canonical(terms: tuple[Term, ...]) -> str:
    """The canonical text of parsed terms; parsing it gives the same terms."""
    return " ".join(term.canonical for term in terms)
