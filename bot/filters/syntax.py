# full-width operators and separators are the subject here
"""Tokenizer and parser for filter expressions: text in, a tree of clauses out.

Grammar, loosest binding first (SPEC "Filter expressions", Lucene-style)::

    expression := clause*                         juxtaposed clauses
    clause     := and ("OR" and)*
    and        := unary ("AND" unary)*
    unary      := "NOT" unary | primary
    primary    := [sign][field:] (word | "phrase" | /regex/ | "(" clause+ ")")

So ``NOT`` binds tighter than ``AND``, ``AND`` tighter than ``OR``, and ``OR``
tighter than juxtaposition: ``乌克兰 OR 俄罗斯 -体育`` is two clauses, (乌克兰 OR
俄罗斯) and -体育. Juxtaposed clauses keep the meaning they had before operators
existed (see `bot.filters.match`): every ``+`` clause must match, no ``-`` or
``NOT`` clause may match, and at least one plain clause must match if there is one.
A parenthesised group is a list of clauses with the same rule.

Tokens. A sign is ``+`` (must) or ``-`` (must not), full-width ＋/－ too. A field
prefix is ``title:``, ``content:``, ``author:``, ``tag:`` or a Chinese name
(标题/正文/内容/作者/标签), full-width colon accepted; on a group it applies to the
terms inside that name no field of their own. A body is a bare word, a
``"quoted phrase"`` (“curly” and full-width quotes too) or a ``/regex/`` (``\\/``
inside for a slash). ``(`` and ``)`` group, and so do the full-width （ and ）
that a Chinese input method types. Outside quotes the Chinese list separators
``，`` ``、`` ``；`` separate terms like spaces.

Operators are the bare words ``AND``, ``OR`` and ``NOT`` in capitals (full-width
capitals too), as in Lucene: lowercase ``and``/``or``/``not`` are words. English
text is full of them (``"not guilty"``, the French ``or`` is gold), a lowercase
operator would turn a word someone searched for into logic without a sign, and
the capitals are what users of Lucene-style search, and the Chinese users who
wrote ``乌克兰 OR 俄罗斯``, type. A signed or fielded ``+OR`` or ``title:NOT``
is a word, and so is anything in quotes.

A ``name:`` prefix whose name is two or more letters and not a field is refused
as an unknown field (``auther:x``), unless ``//`` or ``:`` follows the colon
(``https://x``, ``std::map``); other ``word:`` forms stay words (``12:30``). In a
word, ``\\`` before a parenthesis or a colon takes it literally (``F\\(x\\)``,
``re\\:Invent``); quoting the term does the same.

Errors carry a code and the 1-based position of the character where the problem
starts, counted as the user sees characters (grapheme clusters: one per CJK
character or emoji, never bytes or UTF-16 units). Their words are in
``bot.i18n.filter_errors``, in the chat's language.

``LEGACY`` mode reads filters stored before operators and groups existed (a flat
list: parentheses, colons and capital words were parts of words) so that a
migration can rewrite them in today's syntax with the same meaning
(`bot.filters.legacy`).
"""

from __future__ import annotations

import dataclasses
import enum
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import regex

MAX_EXPRESSION_CHARS = 1000
"""What a user may type, in characters as seen (grapheme clusters)."""
MAX_STORED_CHARS = 4 * MAX_EXPRESSION_CHARS
"""A stored canonical expression, in code points: canonical spelling may be longer than
what was typed (``标题：`` becomes ``title:``, a space between groups), never 4 times."""
MAX_TERMS = 50
MAX_DEPTH = 10
"""Parentheses and NOTs nested in one another."""
MAX_REGEX_CHARS = 256

_MUST_SIGNS = frozenset("+\uff0b")
_NOT_SIGNS = frozenset("-\uff0d\u2212")
_QUOTES = frozenset('"\uff02\u201c\u201d')
_SEPARATORS = frozenset("\uff0c\u3001\uff1b")
_COLONS = frozenset(":\uff1a")
_OPEN = frozenset("(\uff08")
_CLOSE = frozenset(")\uff09")
PARENS = _OPEN | _CLOSE
ESCAPABLE = PARENS | _COLONS
ESCAPE = "\\"
KEYWORDS = frozenset({"AND", "OR", "NOT"})

ERROR_CODES = (
    "unclosed_quote",
    "unclosed_regex",
    "missing_term",
    "empty_regex",
    "empty_phrase",
    "text_after_regex",
    "empty_term",
    "bad_character",
    "regex_too_long",
    "too_long",
    "too_many_terms",
    "too_deep",
    "unknown_field",
    "unclosed_paren",
    "unopened_paren",
    "empty_group",
    "dangling_operator",
    "bad_regex",
)
"""Every ``FilterSyntaxError.code``; ``empty_term`` and ``bad_regex`` come from compiling
(``bot.filters.match``), the others from parsing."""

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

_GRAPHEME = regex.compile(r"\X")


def column(text: str, index: int) -> int:
    """The 1-based position, in characters as the user sees them, of ``text[index]``.

    Counts grapheme clusters (``regex``'s ``\\X``, Unicode's extended clusters) before
    ``index``: 乌 and 👍🏽 are one character each, as on the user's screen.
    """
    return len(_GRAPHEME.findall(text, 0, index)) + 1


class FilterSyntaxError(ValueError):
    """A filter expression the user must fix.

    ``code`` names the problem (``unclosed_quote``, ``unknown_field``…), ``position``
    is the 1-based character (as seen, see `column`) where it starts and ``details``
    the values its sentence names (``field``, ``operator``, ``limit``…). The words
    are ``bot.i18n.filter_errors``'s; str() is for logs only.
    """

    def __init__(self, code: str, position: int, **details: str | int) -> None:
        shown = "".join(f" {name}={value!r}" for name, value in details.items())
        super().__init__(f"{code} at character {position}{shown}")
        self.code = code
        self.position = position
        self.details = details


class Op(enum.Enum):
    """A primary's sign: a plain clause, a must (+) clause, a must-not (-) clause."""

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
    """One term; `text` is the body (phrase whitespace folded, escapes resolved).

    Positions are 0-based code point indexes into the parsed text and do not take
    part in equality: two terms are equal when they mean the same.
    """

    op: Op
    field: str | None
    kind: Kind
    text: str
    index: int = dataclasses.field(default=0, compare=False)
    """Where the term (its sign, if any) starts."""
    body_index: int = dataclasses.field(default=0, compare=False)
    """Where the body (word, opening quote or slash) starts."""

    @property
    def label(self) -> str:
        """The term as the user wrote it, without operator and field: for alert lines."""
        return f"/{self.text}/" if self.kind is Kind.REGEX else self.text


@dataclass(frozen=True, slots=True)
class Group:
    """``[sign][field:](clause …)``: juxtaposed clauses; ``field`` is the default inside."""

    op: Op
    field: str | None
    clauses: tuple[Node, ...]
    index: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    """``NOT operand``."""

    operand: Node
    index: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    """``a AND b AND …``: every operand."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """``a OR b OR …``: any operand."""

    operands: tuple[Node, ...]


Node = Term | Group | Not | And | Or
Clauses = tuple[Node, ...]
"""A parsed expression: its juxtaposed top-level clauses (empty for an empty filter)."""


@dataclass(frozen=True, slots=True)
class _Open:
    """``[sign][field:](`` at ``index``."""

    op: Op
    field: str | None
    index: int


@dataclass(frozen=True, slots=True)
class _Close:
    index: int


@dataclass(frozen=True, slots=True)
class _Keyword:
    """``AND``, ``OR`` or ``NOT`` (``name``), as typed (``shown``)."""

    name: str
    shown: str
    index: int


_Token = Term | _Open | _Close | _Keyword


def _is_separator(char: str) -> bool:
    """Whitespace and the Chinese list separators end a bare term."""
    return char.isspace() or char in _SEPARATORS


def looks_like_field(name: str) -> bool:
    """A prefix the user most likely meant as a field: two or more letters (any script)."""
    return len(name) >= 2 and name.isalpha()


def keyword_of(word: str) -> str | None:
    """The operator a bare word spells (capitals, full-width too), or None."""
    folded = unicodedata.normalize("NFKC", word)
    return folded if folded in KEYWORDS else None


class _Scanner:
    """A cursor over the expression producing tokens; one method per token kind."""

    def __init__(self, text: str, *, legacy: bool) -> None:
        self.text = text
        self.pos = 0
        self.legacy = legacy

    def error(self, code: str, index: int, **details: str | int) -> FilterSyntaxError:
        """An error pointing at the 0-based ``index``."""
        return FilterSyntaxError(code, column(self.text, index), **details)

    def ends_word(self, char: str) -> bool:
        """Separators end a word; so do parentheses, unless reading a legacy filter."""
        return _is_separator(char) or (not self.legacy and char in PARENS)

    def at_end_of_term(self) -> bool:
        """True at the end of the text, at a separator, or at a group's closing parenthesis."""
        if self.pos >= len(self.text):
            return True
        char = self.text[self.pos]
        return _is_separator(char) or (not self.legacy and char in _CLOSE)

    def skip_separators(self) -> None:
        """Move past whitespace and separators."""
        while self.pos < len(self.text) and _is_separator(self.text[self.pos]):
            self.pos += 1

    def tokens(self) -> Iterator[_Token]:
        """Every token of the expression, at most ``MAX_TERMS`` terms."""
        terms = 0
        self.skip_separators()
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if not self.legacy and char in PARENS:
                self.pos += 1
                index = self.pos - 1
                yield _Open(Op.ANY, None, index) if char in _OPEN else _Close(index)
            else:
                token = self.term()
                if isinstance(token, Term):
                    if terms == MAX_TERMS:
                        raise self.error("too_many_terms", token.index, limit=MAX_TERMS)
                    terms += 1
                yield token
            self.skip_separators()

    def term(self) -> Term | _Open | _Keyword:
        """``[+|-][field:](word | "phrase" | /regex/ | "(")``, or an operator word."""
        start = self.pos
        op = Op.ANY
        char = self.text[self.pos]
        if char in _MUST_SIGNS or char in _NOT_SIGNS:
            op = Op.MUST if char in _MUST_SIGNS else Op.NOT
            self.pos += 1
            if self.at_end_of_term():
                raise self.error("missing_term", start, after=char)
        field_name = self.field_prefix()
        if field_name is not None and self.at_end_of_term():
            raise self.error("missing_term", start, after=self.text[start : self.pos])
        char, body_at = self.text[self.pos], self.pos
        if not self.legacy and char in _OPEN:
            self.pos += 1
            return _Open(op, field_name, start)
        if char in _QUOTES:
            return Term(op, field_name, Kind.PHRASE, self.phrase(), start, body_at)
        if char == "/":
            return Term(op, field_name, Kind.REGEX, self.regex(), start, body_at)
        raw, word = self.word()
        if op is Op.ANY and field_name is None and not self.legacy:
            name = keyword_of(raw)
            if name is not None:
                return _Keyword(name, raw, start)
        return Term(op, field_name, Kind.WORD, word, start, body_at)

    def field_prefix(self) -> str | None:
        """Consume ``name:`` when name is a field; refuse an unknown one; else leave it."""
        found = field_candidate(self.text, self.pos, legacy=self.legacy)
        if found is None:
            return None
        name, colon = found
        known = FIELD_NAMES.get(name.casefold())
        if known is not None:
            self.pos = colon + 1
            return known
        if not self.legacy and unknown_field(self.text, name, colon):
            raise self.error("unknown_field", self.pos, field=name)
        return None

    def word(self) -> tuple[str, str]:
        """A bare word runs to the next separator (or parenthesis): its raw text, and its
        text with ``\\(`` ``\\)`` ``\\:`` escapes resolved."""
        start = self.pos
        chars: list[str] = []
        text = self.text
        while self.pos < len(text) and not self.ends_word(text[self.pos]):
            char = text[self.pos]
            if (
                char == ESCAPE
                and not self.legacy
                and self.pos + 1 < len(text)
                and text[self.pos + 1] in ESCAPABLE
            ):
                char = text[self.pos + 1]
                self.pos += 1
            chars.append(char)
            self.pos += 1
        return text[start : self.pos], "".join(chars)

    def phrase(self) -> str:
        """Text up to the next quote, whitespace folded; it may not be blank."""
        start = self.pos
        end = start + 1
        while end < len(self.text) and self.text[end] not in _QUOTES:
            end += 1
        if end >= len(self.text):
            raise self.error("unclosed_quote", start)
        self.pos = end + 1
        body = " ".join(self.text[start + 1 : end].split())
        if not body:
            raise self.error("empty_phrase", start)
        return body

    def regex(self) -> str:
        """Text up to the next unescaped slash, which must end the term."""
        start = self.pos
        end = start + 1
        while end < len(self.text) and self.text[end] != "/":
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise self.error("unclosed_regex", start)
        body = self.text[start + 1 : end]
        self.pos = end + 1
        if not body:
            raise self.error("empty_regex", start)
        if len(body) > MAX_REGEX_CHARS:
            raise self.error("regex_too_long", start, limit=MAX_REGEX_CHARS)
        if not self.at_end_of_term():
            raise self.error("text_after_regex", end)
        return body


def field_candidate(text: str, start: int, *, legacy: bool = False) -> tuple[str, int] | None:
    """The ``name`` before the first colon from ``start``, and the colon's index; None
    when a separator (or, outside legacy mode, a parenthesis) comes first."""
    end = start
    while end < len(text):
        char = text[end]
        if _is_separator(char) or (not legacy and char in PARENS):
            return None
        if char in _COLONS:
            return text[start:end], end
        end += 1
    return None


def unknown_field(text: str, name: str, colon: int) -> bool:
    """Whether ``name:`` (not a field) is refused: two or more letters of any script, and
    no ``//`` or second colon after it (``https://x``, ``std::map`` are words)."""
    after = text[colon + 1 : colon + 3]
    return looks_like_field(name) and after != "//" and after[:1] not in _COLONS


class _Parser:
    """Recursive descent over the tokens; depth is bounded before each step down."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.at = 0

    def error(self, code: str, index: int, **details: str | int) -> FilterSyntaxError:
        return FilterSyntaxError(code, column(self.text, index), **details)

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expression(self) -> Clauses:
        clauses = self.clauses(0)
        extra = self.peek()
        if isinstance(extra, _Close):
            raise self.error("unopened_paren", extra.index)
        return clauses

    def clauses(self, depth: int) -> Clauses:
        """Juxtaposed clauses up to the end or a closing parenthesis."""
        found: list[Node] = []
        while (token := self.peek()) is not None and not isinstance(token, _Close):
            if isinstance(token, _Keyword) and token.name != "NOT":
                raise self.error("dangling_operator", token.index, operator=token.shown)
            found.append(self.either(depth))
        return tuple(found)

    def either(self, depth: int) -> Node:
        operands = [self.both(depth)]
        while isinstance(token := self.peek(), _Keyword) and token.name == "OR":
            self.take()
            self.expect_operand(token)
            operands.append(self.both(depth))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def both(self, depth: int) -> Node:
        operands = [self.unary(depth)]
        while isinstance(token := self.peek(), _Keyword) and token.name == "AND":
            self.take()
            self.expect_operand(token)
            operands.append(self.unary(depth))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def expect_operand(self, operator: _Keyword) -> None:
        """Something an operator can apply to must follow it."""
        token = self.peek()
        if (
            token is None
            or isinstance(token, _Close)
            or (isinstance(token, _Keyword) and token.name != "NOT")
        ):
            raise self.error("dangling_operator", operator.index, operator=operator.shown)

    def unary(self, depth: int) -> Node:
        token = self.take()
        if isinstance(token, _Keyword):  # only NOT gets here (see expect_operand, clauses)
            if depth == MAX_DEPTH:
                raise self.error("too_deep", token.index, limit=MAX_DEPTH)
            self.expect_operand(token)
            return Not(self.unary(depth + 1), token.index)
        if isinstance(token, _Open):
            if depth == MAX_DEPTH:
                raise self.error("too_deep", _paren_index(self.text, token.index), limit=MAX_DEPTH)
            inner = self.clauses(depth + 1)
            if not isinstance(self.peek(), _Close):
                raise self.error("unclosed_paren", _paren_index(self.text, token.index))
            self.take()
            if not inner:
                raise self.error("empty_group", _paren_index(self.text, token.index))
            return Group(token.op, token.field, inner, token.index)
        assert isinstance(token, Term)  # noqa: S101 - a closing parenthesis never starts a clause
        return token


def _paren_index(text: str, index: int) -> int:
    """The opening parenthesis itself, after a group's sign and field."""
    while text[index] not in _OPEN:
        index += 1
    return index


def parse(expression: str, *, typed: bool = True) -> Clauses:
    """Parse an expression into its top-level clauses, or raise FilterSyntaxError.

    ``typed`` (what a user sends) allows ``MAX_EXPRESSION_CHARS`` characters as
    seen; a stored canonical expression (``typed=False``) up to ``MAX_STORED_CHARS``
    code points, since its spelling may be longer than what was typed.
    """
    _check_length(expression, typed=typed)
    scanner = _Scanner(expression, legacy=False)
    return _Parser(expression, list(scanner.tokens())).expression()


def parse_legacy(expression: str) -> tuple[Term, ...]:
    """Read a filter stored before operators and groups existed: a flat list of terms."""
    _check_length(expression, typed=False)
    tokens = list(_Scanner(expression, legacy=True).tokens())
    return tuple(token for token in tokens if isinstance(token, Term))


def _check_length(expression: str, *, typed: bool) -> None:
    """Refuse an expression too long to look at, and characters no text may hold."""
    if typed and len(expression) > MAX_EXPRESSION_CHARS:  # fewer code points: fewer seen
        seen = len(_GRAPHEME.findall(expression, 0, MAX_STORED_CHARS + 1))
        if seen > MAX_EXPRESSION_CHARS or len(expression) > MAX_STORED_CHARS:
            raise FilterSyntaxError(
                "too_long", MAX_EXPRESSION_CHARS + 1, limit=MAX_EXPRESSION_CHARS
            )
    elif len(expression) > MAX_STORED_CHARS:
        raise FilterSyntaxError(
            "too_long", column(expression, MAX_STORED_CHARS), limit=MAX_STORED_CHARS
        )
    for index, char in enumerate(expression):
        if 0xD800 <= ord(char) <= 0xDFFF or char == "\x00":
            raise FilterSyntaxError("bad_character", column(expression, index))


def leaves(clauses: Clauses) -> Iterator[Term]:
    """Every term of a parsed expression, in the order written."""
    for node in clauses:
        if isinstance(node, Term):
            yield node
        elif isinstance(node, Group):
            yield from leaves(node.clauses)
        elif isinstance(node, Not):
            yield from leaves((node.operand,))
        else:
            yield from leaves(node.operands)
