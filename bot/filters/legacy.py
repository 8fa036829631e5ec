"""Filters stored before ``AND``/``OR``/``NOT`` and parentheses, rewritten to mean the same.

Until operators existed, an expression was a flat list of terms, and a stored
filter is that list's canonical text. Today's parser reads most of them alike,
but not all: a bare ``OR`` was a word (it matched "or", "order"…), ``(a`` and
``b)`` were words with a parenthesis in them, and ``re:Invent`` was a word, not
an unknown field. `upgrade` reads the stored text the old way and spells the same
terms so that today's parser reads them back unchanged (``"OR"``, ``\\(a``,
``re\\:Invent``): every stored filter matches the same entries as before. The
store runs it once over every stored filter (``bot.store.schema``, migration 4).
"""

from __future__ import annotations

import logging

from bot.filters.canonical import canonical
from bot.filters.syntax import parse_legacy

log = logging.getLogger(__name__)


def upgrade(expression: str) -> str:
    """``expression`` as stored before operators existed, in today's canonical spelling.

    Never raises (it runs inside a database migration): text the old reading
    refused, which no filter could have been stored as, is returned unchanged.
    """
    try:
        return canonical(parse_legacy(expression))
    except Exception:  # a migration must not stop on one odd row
        log.warning("legacy_filter_kept expr=%r", expression, exc_info=True)
        return expression
