"""Compiled filters and the matching rules.

Rules (SPEC "Filter expressions"; the grammar is in `bot.filters.syntax`):

- Juxtaposed clauses, at the top or inside parentheses, pass when every ``+``
  clause matches, no ``-`` or ``NOT`` clause matches, and, if there are plain
  clauses, at least one of them matches; this is the rule filters had before
  operators existed, so stored filters keep their meaning. The empty filter passes
  everything. ``a AND b`` needs both, ``a OR b`` either, ``NOT a`` (or ``-a``
  inside an operator) the absence of a; ``+a`` inside an operator is just a.
  A chat-wide filter and a subscription filter must both pass (`match_all`).
- A term without a field searches title, content, author and tags; ``title:``,
  ``content:``, ``author:`` and ``tag:`` restrict it to one of them, and on a
  group restrict the group's terms that name no field.
- Entry text and terms are folded alike (see `normalize.fold`): NFKC, case
  folding, Traditional → Simplified, whitespace folding.
- A term (or phrase) that starts with a letter or digit of a spaced script must
  start at a word start: it may not follow another such letter or digit, so
  ``nato`` finds "NATO's" and "NATO-led" but not "senator", and ``stolt`` finds
  "Stoltenberg" (words match whole or as prefixes). Other terms (CJK, Thai,
  punctuation-led) match anywhere as substrings. A phrase is a sequence of
  words; its last word, like any word, may be a prefix.
- ``/regex/`` runs on the folded text with RE2 (linear time, no backreferences
  or lookarounds), case-insensitive; its Traditional characters and full-width
  forms are folded like the text. Patterns are capped at 256 characters and
  RE2's memory at 1 MiB.
- The terms reported as matched (the alert line) are those found in a part of
  the filter that made it pass, never one under ``-`` or ``NOT``: ``+`` clauses
  first, then plain ones, each in the order written.

Speed: an entry is folded once (`prepare`), and a prepared entry remembers each
term's outcome, so 10,000 filters sharing terms fold and search each text once.
Literal terms are found with ``str.__contains__`` first; only a hit pays for the
word-start check (a precompiled ``re`` from the escaped literal).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import re2

from bot.filters.canonical import canonical
from bot.filters.describe import describe_clauses
from bot.filters.normalize import WORD_CHAR_CLASS, fold, fold_pattern, is_word_char
from bot.filters.syntax import (
    And,
    Clauses,
    FilterSyntaxError,
    Group,
    Kind,
    Node,
    Not,
    Op,
    Term,
    column,
    leaves,
    parse,
)

_REGEX_MAX_MEM = 1 << 20
_FIELD_SEPARATOR = "\n"  # never inside a folded field, so no phrase spans two fields

_REGEX_PROBLEMS = (
    ("missing )", "missing_paren"),
    ("unexpected )", "unexpected_paren"),
    ("missing ]", "missing_bracket"),
    ("invalid repetition size", "repetition_size"),
    ("no argument for repetition operator", "repetition_operator"),
    ("bad repetition operator", "repetition_operator"),
    ("invalid character class", "bad_class"),
    ("invalid escape sequence", "bad_escape"),
    ("trailing \\", "trailing_backslash"),
    ("invalid perl operator", "unsupported_group"),
    ("invalid named capture group", "unsupported_group"),
    ("pattern too large", "too_large"),
)
"""RE2's error texts (re2/regexp.cc, ``RegexpErrorCode``) to the problems we word;
anything else is ``other``."""
REGEX_PROBLEMS = (*dict.fromkeys(problem for _, problem in _REGEX_PROBLEMS), "other")
"""Every ``problem`` of a ``bad_regex`` error."""


@dataclass(frozen=True, slots=True)
class FilterFields:
    """What an entry offers to filters, as plain text."""

    title: str
    content: str
    author: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FilterResult:
    """Whether an entry passed, and which plain and + terms matched, as written."""

    passed: bool
    matched: tuple[str, ...] = ()


class PreparedFields:
    """An entry's folded fields plus a memo of term outcomes; build with `prepare`."""

    __slots__ = ("_memo", "texts")

    def __init__(self, fields: FilterFields) -> None:
        title = fold(fields.title)
        content = fold(fields.content)
        author = fold(fields.author)
        tag = _FIELD_SEPARATOR.join(fold(tag) for tag in fields.tags)
        everything = _FIELD_SEPARATOR.join((title, content, author, tag))
        self.texts: dict[str | None, str] = {
            "title": title,
            "content": content,
            "author": author,
            "tag": tag,
            None: everything,
        }
        self._memo: dict[str, bool] = {}

    def hit(self, matcher: _Matcher) -> bool:
        """Whether the matcher's term occurs in its field, computed once per entry."""
        found = self._memo.get(matcher.memo_key)
        if found is None:
            found = matcher.search(self.texts[matcher.field])
            self._memo[matcher.memo_key] = found
        return found


@functools.lru_cache(maxsize=64)
def _prepare_cached(fields: FilterFields) -> PreparedFields:
    """Fold an entry once even when callers pass raw fields to several filters."""
    return PreparedFields(fields)


def prepare(fields: FilterFields | PreparedFields) -> PreparedFields:
    """Fold an entry's fields once, for checking many filters against it."""
    if isinstance(fields, PreparedFields):
        return fields
    return _prepare_cached(fields)


class _Matcher:
    """One term compiled to a search over one folded field."""

    __slots__ = ("field", "memo_key", "search")

    def __init__(self, term: Term, field: str | None, text: str) -> None:
        self.field = field
        self.search: Callable[[str], bool]
        if term.kind is Kind.REGEX:
            key, self.search = _compile_regex(term, text)
        else:
            key, self.search = _compile_literal(term, text)
        self.memo_key = f"{key}\x00{field or ''}"
        """Equal for the same search in the same field, whichever filter holds it; a string,
        whose hash Python keeps (a tuple's is computed again at every lookup)."""


def _compile_literal(term: Term, text: str) -> tuple[str, Callable[[str], bool]]:
    """A literal term, folded; a term that folds to nothing is the user's error."""
    needle = fold(term.text)
    if not needle:
        raise FilterSyntaxError("empty_term", column(text, term.index))
    return _literal_search(needle)


class _WordStart:
    """Finds a needle that starts a word; the `re` pattern is compiled on the first hit."""

    __slots__ = ("_pattern", "needle")

    def __init__(self, needle: str) -> None:
        self.needle = needle
        self._pattern: re.Pattern[str] | None = None

    def __call__(self, text: str) -> bool:
        if self.needle not in text:
            return False
        if self._pattern is None:
            # The literal comes first so `re` scans for it fast, then looks back past it.
            escaped = re.escape(self.needle)
            self._pattern = re.compile(f"{escaped}(?<!{WORD_CHAR_CLASS}{escaped})")
        return self._pattern.search(text) is not None


@functools.lru_cache(maxsize=4096)
def _literal_search(needle: str) -> tuple[str, Callable[[str], bool]]:
    """Substring test, then a word-start check when the needle starts a word; with the
    search's memo key."""
    if not is_word_char(needle[0]):
        return f"s\x00{needle}", lambda text: needle in text
    return f"w\x00{needle}", _WordStart(needle)


def _compile_regex(term: Term, text: str) -> tuple[str, Callable[[str], bool]]:
    """A user regex, compiled by RE2 with a memory cap; errors point at the term."""
    options = re2.Options()
    options.max_mem = _REGEX_MAX_MEM
    options.case_sensitive = False
    options.log_errors = False
    source = fold_pattern(term.text)
    try:
        compiled = re2.compile(source, options)
    except re2.error as exc:
        problem, fragment = _regex_problem(exc)
        raise FilterSyntaxError(
            "bad_regex", column(text, term.body_index), problem=problem, fragment=fragment
        ) from exc

    def search(text: str) -> bool:
        return compiled.search(text) is not None

    return f"r\x00{source}", search


def _regex_problem(exc: re2.error) -> tuple[str, str]:
    """RE2's complaint as one of our problem names and the fragment it quotes."""
    reason = exc.args[0] if exc.args else ""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    reason = " ".join(str(reason).split())
    for prefix, problem in _REGEX_PROBLEMS:
        if reason.startswith(prefix):
            return problem, reason[len(prefix) :].removeprefix(":").strip()
    return "other", ""


class _Leaf:
    """A term in its field; negated for ``-term`` inside an operator."""

    __slots__ = ("label", "matcher", "negated")

    def __init__(self, term: Term, field: str | None, text: str, *, negated: bool) -> None:
        self.matcher = _Matcher(term, field, text)
        self.label = term.label
        self.negated = negated

    def holds(self, prepared: PreparedFields, found: list[str] | None) -> bool:
        hit = prepared.hit(self.matcher)
        if self.negated:
            return not hit
        if hit and found is not None:
            found.append(self.label)
        return hit


class _Negation:
    """``NOT x`` or ``-(…)`` inside an operator; nothing under it is reported as matched."""

    __slots__ = ("operand",)

    def __init__(self, operand: _Check) -> None:
        self.operand = operand

    def holds(self, prepared: PreparedFields, found: list[str] | None) -> bool:
        return not self.operand.holds(prepared, None)


class _Every:
    """``a AND b``."""

    __slots__ = ("operands",)

    def __init__(self, operands: list[_Check]) -> None:
        self.operands = operands

    def holds(self, prepared: PreparedFields, found: list[str] | None) -> bool:
        mine: list[str] | None = None if found is None else []
        for operand in self.operands:
            if not operand.holds(prepared, mine):
                return False
        if found is not None and mine:
            found.extend(mine)
        return True


class _Some:
    """``a OR b``: every operand is looked at, so that each one found is reported, unless
    nothing is to be reported (under NOT)."""

    __slots__ = ("operands",)

    def __init__(self, operands: list[_Check]) -> None:
        self.operands = operands

    def holds(self, prepared: PreparedFields, found: list[str] | None) -> bool:
        if found is None:
            return any(operand.holds(prepared, None) for operand in self.operands)
        hit = False
        for operand in self.operands:
            mine: list[str] = []
            if operand.holds(prepared, mine):
                hit = True
                found.extend(mine)
        return hit


class _Clauses:
    """Juxtaposed clauses: every must, no must-not, one of the plain ones if any."""

    __slots__ = ("must", "must_not", "plain")

    def __init__(self, must: list[_Check], must_not: list[_Check], plain: list[_Check]) -> None:
        self.must = must
        self.must_not = must_not
        self.plain = _Some(plain) if plain else None

    def holds(self, prepared: PreparedFields, found: list[str] | None) -> bool:
        mine: list[str] | None = None if found is None else []
        for check in self.must:
            if not check.holds(prepared, mine):
                return False
        for check in self.must_not:
            if check.holds(prepared, None):
                return False
        if self.plain is not None and not self.plain.holds(prepared, mine):
            return False
        if found is not None and mine:
            found.extend(mine)
        return True


class _Terms:
    """Juxtaposed terms only, the shape of every filter stored before operators: the rule of
    `_Clauses` on the matchers directly, without a call per term."""

    __slots__ = ("must", "must_not", "plain")

    def __init__(self, must: list[_Leaf], must_not: list[_Leaf], plain: list[_Leaf]) -> None:
        self.must = tuple((leaf.matcher, leaf.label) for leaf in must)
        self.must_not = tuple(leaf.matcher for leaf in must_not)
        self.plain = tuple((leaf.matcher, leaf.label) for leaf in plain)

    def holds(self, prepared: PreparedFields, found: list[str] | None) -> bool:
        hit = prepared.hit
        for matcher, _ in self.must:
            if not hit(matcher):
                return False
        for matcher in self.must_not:
            if hit(matcher):
                return False
        if found is None:
            return not self.plain or any(hit(matcher) for matcher, _ in self.plain)
        plain = [label for matcher, label in self.plain if hit(matcher)]
        if self.plain and not plain:
            return False
        found.extend(label for _, label in self.must)
        found.extend(plain)
        return True


_Check = _Leaf | _Negation | _Every | _Some | _Clauses | _Terms


class _Compiler:
    """Turns a parsed tree into checks; ``text`` is the expression, for error positions."""

    def __init__(self, text: str) -> None:
        self.text = text

    def clauses(self, clauses: Clauses, field: str | None) -> _Clauses | _Terms:
        must: list[_Check] = []
        must_not: list[_Check] = []
        plain: list[_Check] = []
        for node in clauses:
            if isinstance(node, Not):
                must_not.append(self.node(node.operand, field))
            elif isinstance(node, Term | Group) and node.op is not Op.ANY:
                unsigned = self.node(dataclasses.replace(node, op=Op.ANY), field)
                (must if node.op is Op.MUST else must_not).append(unsigned)
            else:
                plain.append(self.node(node, field))
        if all(isinstance(check, _Leaf) for check in (*must, *must_not, *plain)):
            return _Terms(*(_leaves(checks) for checks in (must, must_not, plain)))
        return _Clauses(must, must_not, plain)

    def node(self, node: Node, field: str | None) -> _Check:
        """A node inside an operator (or a plain clause): a sign means NOT or nothing."""
        if isinstance(node, Term):
            effective = node.field or field
            return _Leaf(node, effective, self.text, negated=node.op is Op.NOT)
        if isinstance(node, Group):
            group = self.clauses(node.clauses, node.field or field)
            return _Negation(group) if node.op is Op.NOT else group
        if isinstance(node, Not):
            return _Negation(self.node(node.operand, field))
        operands = [self.node(operand, field) for operand in node.operands]
        return _Every(operands) if isinstance(node, And) else _Some(operands)


def _leaves(checks: list[_Check]) -> list[_Leaf]:
    return [check for check in checks if isinstance(check, _Leaf)]


class CompiledFilter:
    """A parsed and compiled filter expression; immutable, shared through a cache."""

    __slots__ = ("_check", "clauses", "expression", "is_empty", "terms")

    def __init__(self, clauses: Clauses, text: str) -> None:
        self.clauses = clauses
        self.terms = tuple(leaves(clauses))
        self.expression = canonical(clauses)
        self.is_empty = not clauses
        self._check = _Compiler(text).clauses(clauses, None)

    def __repr__(self) -> str:
        return f"CompiledFilter({self.expression!r})"

    def match(self, fields: FilterFields | PreparedFields) -> FilterResult:
        """Apply the rules; `matched` lists the terms found (empty on failure)."""
        if self.is_empty:
            return _PASS
        found: list[str] = []
        if not self._check.holds(prepare(fields), found):
            return _FAIL
        return FilterResult(True, tuple(dict.fromkeys(found)))

    def describe(self, lang: str = "en") -> str:
        """The filter in words, in English or (for ``zh…``) Simplified Chinese."""
        return describe_clauses(self.clauses, lang)


_PASS = FilterResult(True, ())
_FAIL = FilterResult(False, ())


@functools.lru_cache(maxsize=16384)
def compile_filter(expr: str, *, stored: bool = False) -> CompiledFilter:
    """Parse and compile an expression once; raises FilterSyntaxError on bad input.

    ``stored``: a canonical expression from the database (or a backup), which may be
    longer than what a user may type (``bot.filters.syntax.parse``).
    """
    return CompiledFilter(parse(expr, typed=not stored), expr)


def match_all(
    filters: Sequence[CompiledFilter], fields: FilterFields | PreparedFields
) -> FilterResult:
    """Pass only if every filter passes (chat-wide and subscription); merge matched terms."""
    prepared = prepare(fields)
    matched: dict[str, None] = {}
    for compiled in filters:
        result = compiled.match(prepared)
        if not result.passed:
            return _FAIL
        matched.update(dict.fromkeys(result.matched))
    return FilterResult(True, tuple(matched))
