"""Compiled filters and the matching rules.

Rules (SPEC "Filter expressions"):

- An entry passes when every ``+`` term matches, no ``-`` term matches, and, if
  there are plain terms, at least one of them matches. The empty filter passes
  everything. A chat-wide filter and a subscription filter must both pass
  (`match_all`).
- A term without a field searches title, content, author and tags; ``title:``,
  ``content:``, ``author:`` and ``tag:`` restrict it to one of them.
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

Speed: an entry is folded once (`prepare`), and a prepared entry remembers each
term's outcome, so 10,000 filters sharing terms fold and search each text once.
Literal terms are found with ``str.__contains__`` first; only a hit pays for the
word-start check (a precompiled ``re`` from the escaped literal).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import re2

from bot.filters.describe import describe_terms
from bot.filters.normalize import WORD_CHAR_CLASS, fold, fold_pattern, is_word_char
from bot.filters.syntax import FilterSyntaxError, Kind, Op, Term, canonical, parse

_REGEX_MAX_MEM = 1 << 20
_FIELD_SEPARATOR = "\n"  # never inside a folded field, so no phrase spans two fields


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
        self._memo: dict[tuple[object, str | None], bool] = {}

    def hit(self, matcher: _Matcher) -> bool:
        """Whether the matcher's term occurs in its field, computed once per entry."""
        key = (matcher.key, matcher.field)
        found = self._memo.get(key)
        if found is None:
            found = matcher.search(self.texts[matcher.field])
            self._memo[key] = found
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

    __slots__ = ("field", "key", "search", "term")

    def __init__(self, term: Term) -> None:
        self.term = term
        self.field = term.field
        self.search: Callable[[str], bool]
        self.key: object
        if term.kind is Kind.REGEX:
            self.key, self.search = _compile_regex(term)
        else:
            self.key, self.search = _compile_literal(term)


def _compile_literal(term: Term) -> tuple[object, Callable[[str], bool]]:
    """A literal term, folded; a term that folds to nothing is the user's error."""
    needle = fold(term.text)
    if not needle:
        raise FilterSyntaxError("empty_term", "term has nothing to match", term.position)
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
def _literal_search(needle: str) -> tuple[object, Callable[[str], bool]]:
    """Substring test, then a word-start check when the needle starts a word."""
    if not is_word_char(needle[0]):
        return needle, lambda text: needle in text
    return ("word", needle), _WordStart(needle)


def _compile_regex(term: Term) -> tuple[object, Callable[[str], bool]]:
    """A user regex, compiled by RE2 with a memory cap; errors point at the term."""
    options = re2.Options()
    options.max_mem = _REGEX_MAX_MEM
    options.case_sensitive = False
    options.log_errors = False
    source = fold_pattern(term.text)
    try:
        compiled = re2.compile(source, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        reason = " ".join(str(reason).split())
        raise FilterSyntaxError(
            "bad_regex", f"invalid regex ({reason})", term.body_position
        ) from exc

    def search(text: str) -> bool:
        return compiled.search(text) is not None

    return ("regex", source), search


class CompiledFilter:
    """A parsed and compiled filter expression; immutable, shared through a cache."""

    __slots__ = ("_must", "_not", "_plain", "expression", "is_empty", "terms")

    def __init__(self, terms: tuple[Term, ...]) -> None:
        self.terms = terms
        self.expression = canonical(terms)
        self.is_empty = not terms
        matchers = [_Matcher(term) for term in terms]
        self._must = tuple(m for m in matchers if m.term.op is Op.MUST)
        self._not = tuple(m for m in matchers if m.term.op is Op.NOT)
        self._plain = tuple(m for m in matchers if m.term.op is Op.ANY)

    def __repr__(self) -> str:
        return f"CompiledFilter({self.expression!r})"

    def match(self, fields: FilterFields | PreparedFields) -> FilterResult:
        """Apply the rules; `matched` lists the plain and + terms found (empty on failure)."""
        if self.is_empty:
            return _PASS
        prepared = prepare(fields)
        for matcher in self._must:
            if not prepared.hit(matcher):
                return _FAIL
        for matcher in self._not:
            if prepared.hit(matcher):
                return _FAIL
        plain = [m.term.label for m in self._plain if prepared.hit(m)]
        if self._plain and not plain:
            return _FAIL
        matched = [m.term.label for m in self._must]
        matched.extend(plain)
        return FilterResult(True, tuple(dict.fromkeys(matched)))

    def describe(self, lang: str = "en") -> str:
        """The filter in words, in English or (for ``zh…``) Simplified Chinese."""
        return describe_terms(self.terms, lang)


_PASS = FilterResult(True, ())
_FAIL = FilterResult(False, ())


@functools.lru_cache(maxsize=16384)
def compile_filter(expr: str) -> CompiledFilter:
    """Parse and compile an expression once; raises FilterSyntaxError on bad input."""
    return CompiledFilter(parse(expr))


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
