# Chinese replies use full-width punctuation on purpose
"""A filter in words, for /filter replies: English and Simplified Chinese.

The top-level clauses are grouped the way they act: "any of" the plain ones,
"must have" the ``+`` ones (and a lone plain one, which is required too), "must
not have" the ``-`` and ``NOT`` ones. Inside, operators are words ("or", "and",
"not"; 或、且、不含) and parentheses show what binds together wherever two
operators meet, so the words say exactly what the expression does.
"""

from __future__ import annotations

import dataclasses

from bot.filters.syntax import And, Clauses, Group, Kind, Node, Not, Op, Or, Term

_LABELS = {
    "en": {
        "any": "any of: ",
        "must": "must have: ",
        "must_not": "must not have: ",
        "empty": "no filter: every entry passes",
        "join": ", ",
        "groups": "; ",
        "open": '"',
        "close": '"',
        "title": " (in title)",
        "content": " (in content)",
        "author": " (in author)",
        "tag": " (in tags)",
        "regex": "pattern ",
        "or": " or ",
        "and": " and ",
        "not": "not ",
        "(": "(",
        ")": ")",
    },
    "zh": {
        "any": "任一：",
        "must": "必须有：",
        "must_not": "不能有：",
        "empty": "无过滤：全部推送",
        "join": "、",
        "groups": "；",
        "open": "“",
        "close": "”",
        "title": "（标题中）",
        "content": "（正文中）",
        "author": "（作者中）",
        "tag": "（标签中）",
        "regex": "正则 ",
        "or": " 或 ",
        "and": " 且 ",
        "not": "不含 ",
        "(": "（",
        ")": "）",
    },
}

_Words = tuple[str, bool]
"""Some words, and whether they join parts with an operator (and need parentheses
next to another operator)."""


def _split(clauses: Clauses) -> tuple[list[Node], list[Node], list[Node]]:
    """Plain, must and must-not clauses, each without its sign."""
    plain: list[Node] = []
    must: list[Node] = []
    must_not: list[Node] = []
    for node in clauses:
        if isinstance(node, Not):
            must_not.append(node.operand)
        elif isinstance(node, Term | Group) and node.op is not Op.ANY:
            unsigned = dataclasses.replace(node, op=Op.ANY)
            (must if node.op is Op.MUST else must_not).append(unsigned)
        else:
            plain.append(node)
    return plain, must, must_not


class _Describer:
    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels

    def top(self, clauses: Clauses) -> str:
        labels = self.labels
        if not clauses:
            return labels["empty"]
        plain, must, must_not = _split(clauses)
        if len(plain) == 1:
            must, plain = [*plain, *must], []
        groups = []
        for key, nodes in (("any", plain), ("must", must), ("must_not", must_not)):
            if nodes:
                alone = len(nodes) == 1
                items = [self.part(self.node(node), bare=alone) for node in nodes]
                groups.append(labels[key] + labels["join"].join(items))
        return labels["groups"].join(groups)

    def part(self, words: _Words, *, bare: bool = False) -> str:
        """Words placed next to others: in parentheses if they hold an operator."""
        text, compound = words
        return text if bare or not compound else f"{self.labels['(']}{text}{self.labels[')']}"

    def node(self, node: Node) -> _Words:
        labels = self.labels
        if isinstance(node, Term):
            text = self.term(node)
            return (labels["not"] + text, False) if node.op is Op.NOT else (text, False)
        if isinstance(node, Group):
            words = self.inline(node.clauses)
            if node.field:
                words = (self.part(words) + labels[node.field], False)
            if node.op is Op.NOT:
                return labels["not"] + self.part(words), False
            return words
        if isinstance(node, Not):
            return labels["not"] + self.part(self.node(node.operand)), False
        joiner = labels["and"] if isinstance(node, And) else labels["or"]
        assert isinstance(node, And | Or)  # noqa: S101 - the Node union is closed
        return joiner.join(self.part(self.node(operand)) for operand in node.operands), True

    def inline(self, clauses: Clauses) -> _Words:
        """Clauses inside parentheses as one boolean phrase: ``(a or b) and c and not d``."""
        labels = self.labels
        plain, must, must_not = _split(clauses)
        items = [self.part(self.node(node)) for node in must]
        items += [labels["not"] + self.part(self.node(node)) for node in must_not]
        if plain:
            either: _Words = (
                self.node(plain[0])
                if len(plain) == 1
                else (labels["or"].join(self.part(self.node(node)) for node in plain), True)
            )
            if not items:
                return either
            items.insert(0, self.part(either))
        if len(items) == 1:
            return items[0], False
        return labels["and"].join(items), True

    def term(self, term: Term) -> str:
        """One term: its text, quoted if a phrase, marked if a pattern, with its field."""
        labels = self.labels
        if term.kind is Kind.PHRASE:
            text = f"{labels['open']}{term.text}{labels['close']}"
        elif term.kind is Kind.REGEX:
            text = f"{labels['regex']}/{term.text}/"
        else:
            text = term.text
        return text + (labels[term.field] if term.field else "")


def describe_clauses(clauses: Clauses, lang: str = "en") -> str:
    """A parsed filter in words, in English or (for ``zh…``) Simplified Chinese."""
    zh = lang.lower().startswith("zh")
    words = _Describer(_LABELS["zh" if zh else "en"]).top(clauses)
    if zh:  # full-width parentheses carry their own space
        words = words.replace("） ", "）").replace(" （", "（")
    return words[:1].upper() + words[1:]
