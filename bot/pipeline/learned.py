"""A feed's learned boilerplate, kept between checks so a partial parse renders like a full one.

``detect_boilerplate`` votes over all of a document's entries; a partial parse (only the
new entries, see ``bot.feeds.scan``) has too few voters. The refresh therefore stores the
result of each full parse on the feed row, as JSON, and renders partial parses with it.
Decoding is tolerant: anything unreadable counts as "not learned" and costs a full parse.
"""

from __future__ import annotations

import json

from bot.render import Boilerplate


def encode_boilerplate(boilerplate: Boilerplate) -> str:
    """The JSON stored on the feed row."""
    return json.dumps(
        {"leading": sorted(boilerplate.leading), "trailing": sorted(boilerplate.trailing)},
        ensure_ascii=True,
        separators=(",", ":"),
    )


def decode_boilerplate(text: str | None) -> Boilerplate | None:
    """The stored boilerplate, or None when none was learned or it cannot be read."""
    if not text:
        return None
    try:
        data = json.loads(text)
        leading, trailing = data["leading"], data["trailing"]
    except (ValueError, TypeError, KeyError):
        return None
    if not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in (leading, trailing)
    ):
        return None
    return Boilerplate(frozenset(leading), frozenset(trailing))
