# Chinese replies use full-width punctuation on purpose
"""A filter in words, for /filter replies: English and Simplified Chinese."""

from __future__ import annotations

from bot.filters.syntax import Kind, Op, Term

_LABELS = {
    "en": {
        Op.ANY: "any of: ",
        Op.MUST: "must have: ",
        Op.NOT: "must not have: ",
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
    },
    "zh": {
        Op.ANY: "任一：",
        Op.MUST: "必须有：",
        Op.NOT: "不能有：",
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
    },
}


def _term_words(term: Term, labels: dict[object, str]) -> str:
    """One term: its text, quoted if a phrase, marked if a pattern, with its field."""
    if term.kind is Kind.PHRASE:
        text = f"{labels['open']}{term.text}{labels['close']}"
    elif term.kind is Kind.REGEX:
        text = f"{labels['regex']}/{term.text}/"
    else:
        text = term.text
    return text + (labels[term.field] if term.field else "")


def describe_terms(terms: tuple[Term, ...], lang: str = "en") -> str:
    """Group terms by operator (plain, must, must not) and say each group in words."""
    labels: dict[object, str] = _LABELS["zh" if lang.lower().startswith("zh") else "en"]
    if not terms:
        return labels["empty"]
    groups = []
    for op in (Op.ANY, Op.MUST, Op.NOT):
        words = [_term_words(term, labels) for term in terms if term.op is op]
        if words:
            groups.append(labels[op] + labels["join"].join(words))
    return labels["groups"].join(groups)
