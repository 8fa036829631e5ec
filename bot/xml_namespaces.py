"""Namespaced attributes for a reader that runs expat without namespace processing.

``bot.opml`` parses with plain expat (it must also read files that are not
namespace-well-formed), so ``xmlns:p`` declarations arrive as ordinary
attributes. These helpers scope them as "Namespaces in XML 1.0" says (a
declaration holds on its element and the elements inside it; an unprefixed
attribute is in no namespace, section 6.2) and name a namespaced attribute
``{namespace}local`` (James Clark's notation, as ElementTree does), so that a
reader matches namespaces, never prefixes. On the way out, ``prefixed`` turns that
name back into ``prefix:local`` for the prefixes the writer declares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

Extensions = tuple[tuple[str, str], ...]
"""Namespaced attributes as (``{namespace}local``, value) pairs, in document order."""

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Scopes:
    """The namespace prefixes bound at the current element, as expat walks the document.

    Each prefix keeps a stack of the namespaces bound to it, so entering and leaving
    an element costs only its own declarations and a lookup costs one dict access:
    a file that declares a new prefix on each of 30,000 nested elements is read in
    linear time (copying the whole mapping at each element took about a minute).
    """

    def __init__(self) -> None:
        self._bound: dict[str, list[str]] = {}
        self._declared: list[tuple[str, ...]] = []

    def enter(self, attrs: Mapping[str, str]) -> None:
        """An element starts: bind the prefixes its ``xmlns:p`` attributes declare."""
        declared = tuple(name[6:] for name in attrs if name.startswith("xmlns:"))
        for prefix in declared:
            self._bound.setdefault(prefix, []).append(attrs[f"xmlns:{prefix}"])
        self._declared.append(declared)

    def leave(self) -> None:
        """The element ``enter`` last saw ends: its declarations go out of scope."""
        if not self._declared:
            return
        for prefix in self._declared.pop():
            stack = self._bound[prefix]
            stack.pop()
            if not stack:
                del self._bound[prefix]

    def qualified(self, attrs: Mapping[str, str]) -> Extensions:
        """The attributes with a bound prefix, named ``{namespace}local``; others left out."""
        found = []
        for name, value in attrs.items():
            prefix, colon, local = name.partition(":")
            if colon and local and prefix != "xmlns" and prefix in self._bound:
                found.append((f"{{{self._bound[prefix][-1]}}}{local}", value))
        return tuple(found)


def prefixed(name: str, prefixes: Mapping[str, str]) -> str:
    """``{namespace}local`` as ``prefix:local`` (``prefixes`` maps namespaces to prefixes).

    Raises ValueError for a name that is not in that form or whose namespace has no prefix.
    """
    namespace, _, local = name.removeprefix("{").partition("}")
    if not name.startswith("{") or not local or namespace not in prefixes:
        raise ValueError(f"no prefix declared for the attribute {name!r}")
    return f"{prefixes[namespace]}:{local}"


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot hold at all replaced by U+FFFD.

    XML 1.0 section 2.2 ``Char`` excludes C0 controls but tab, line feed and carriage
    return, lone surrogates, U+FFFE and U+FFFF; not even a character reference may
    name them, so a writer must leave them out.
    """
    return _NOT_XML.sub("\ufffd", text)
