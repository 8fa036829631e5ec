# full-width forms are the subject here
"""The canonical spelling of a parsed filter: what is stored and shown back.

Parsing the canonical text gives the same tree (`bot.filters.syntax`, positions
aside): signs and field names in ASCII (``＋标题：`` becomes ``+title:``), one space
between clauses, ``AND``/``OR``/``NOT`` in ASCII capitals, groups as written. A word
that the parser would read otherwise is protected: a parenthesis in it, a colon
that would make a field of what precedes it, or a ``\\`` before either gets a
``\\``; a bare word that spells an operator (stored before operators existed) is
quoted, which matches the same text. A group whose last word ends in ``\\`` gets a
space before its closing parenthesis.
"""

from __future__ import annotations

from bot.filters.syntax import (
    ESCAPABLE,
    ESCAPE,
    FIELD_NAMES,
    PARENS,
    And,
    Clauses,
    Group,
    Kind,
    Node,
    Not,
    Op,
    Or,
    Term,
    field_candidate,
    keyword_of,
    unknown_field,
)


def canonical(clauses: Clauses) -> str:
    """The canonical text of parsed clauses; parsing it gives the same clauses."""
    return " ".join(_node(node) for node in clauses)


def _node(node: Node) -> str:
    if isinstance(node, Term):
        return _prefix(node.op, node.field) + _body(node)
    if isinstance(node, Group):
        inner = canonical(node.clauses)
        if inner.endswith(ESCAPE):  # a word ending in \ would escape the closing parenthesis
            inner += " "
        return f"{_prefix(node.op, node.field)}({inner})"
    if isinstance(node, Not):
        return f"NOT {_node(node.operand)}"
    joiner = " AND " if isinstance(node, And) else " OR "
    assert isinstance(node, And | Or)  # noqa: S101 - the Node union is closed
    return joiner.join(_node(operand) for operand in node.operands)


def _prefix(op: Op, field: str | None) -> str:
    return op.value + (f"{field}:" if field else "")


def _body(term: Term) -> str:
    if term.kind is Kind.PHRASE:
        return f'"{term.text}"'
    if term.kind is Kind.REGEX:
        return f"/{term.text}/"
    return word(term.text, bare=term.op is Op.ANY, fielded=term.field is not None)


def word(text: str, *, bare: bool, fielded: bool) -> str:
    """A word's text spelled so that the parser reads it back as that word.

    ``bare``: no sign before it (an operator word must then be quoted); ``fielded``: a
    field prefix before it (then no colon in it can start another field).
    """
    if bare and not fielded and keyword_of(text) is not None:
        return f'"{text}"'
    out: list[str] = []
    for index, char in enumerate(text):
        if char in PARENS or (char in ESCAPABLE and index and text[index - 1] == ESCAPE):
            out.append(ESCAPE)
        out.append(char)
    spelled = "".join(out)
    if fielded:
        return spelled
    found = field_candidate(spelled, 0)
    if found is not None:
        name, colon = found
        if name.casefold() in FIELD_NAMES or unknown_field(spelled, name, colon):
            spelled = f"{spelled[:colon]}{ESCAPE}{spelled[colon:]}"
    return spelled
