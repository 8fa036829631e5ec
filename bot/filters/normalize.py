# full-width and CJK characters are the subject here
"""Text folding shared by filter terms and entry text, so both sides compare alike.

`fold` applies, in order: NFKC (full-width ``ＮＡＴＯ`` becomes ``NATO``), case folding,
a character table mapping Traditional to Simplified Chinese, a few punctuation
folds (curly apostrophes, Unicode dashes), removal of invisible characters, and
whitespace folding (runs become one space; a space next to a CJK character is
dropped, because Chinese text puts spaces around Latin words at whim:
``F-35 战机`` and ``F-35战机`` fold alike).

Why a character table rather than calling OpenCC on every text: OpenCC's t2s
converts phrase by phrase, so a term folded on its own can differ from the same
characters folded inside a longer text (乾 alone becomes 干, inside 乾隆 it
stays), and substring matching would then miss. The table is built once from
OpenCC's own single-character conversions (t2s, then tw2s and hk2s for regional
variants), which keeps folding consistent: a substring of a text folds to a
substring of the folded text. It is applied with a regular expression whose
character class holds only the mapped characters, so Simplified text (the usual
case) is scanned in C and left alone.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

import opencc

# Scripts written without spaces between words: terms in them match as substrings.
_UNSPACED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B-G
)


def _class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    """Regex character-class body for code point ranges."""
    return "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in ranges)


UNSPACED_CLASS = _class_body(_UNSPACED_RANGES)
"""Body of a regex character class (no brackets) matching unspaced-script characters."""

WORD_CHAR_CLASS = rf"[^\W{UNSPACED_CLASS}]"
"""A character of a word in a spaced script: letters, digits, underscore, not CJK."""

_WORD_CHAR_RE = re.compile(WORD_CHAR_CLASS)
_SPACE_NEAR_CJK_RE = re.compile(rf" (?:(?<=[{UNSPACED_CLASS}] )|(?=[{UNSPACED_CLASS}]))")

# Folds that NFKC leaves alone but readers treat as the same character.
_PUNCTUATION: dict[str, str] = {
    "\u2018": "'",
    "\u2019": "'",
    "\u02bc": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u201c": '"',
    "\u201d": '"',
}
# Invisible characters that split words without showing: soft hyphen, zero widths, BOM.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"


def is_unspaced(char: str) -> bool:
    """True for a character of a script written without spaces (CJK, Thai…)."""
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _UNSPACED_RANGES)


def is_word_char(char: str) -> bool:
    """True for a letter/digit of a spaced script: what a Latin term may not follow."""
    return _WORD_CHAR_RE.match(char) is not None


def _han_code_points() -> Iterator[int]:
    """Code points worth asking OpenCC about: the Han blocks."""
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F)):
        yield from range(lo, hi + 1)


@functools.cache
def t2s_table() -> dict[str, str]:
    """Traditional → Simplified, one character to one character, from OpenCC's data.

    Characters are converted one per line, so OpenCC's phrase matching never
    joins neighbours; about 10 ms per configuration, once per process.
    """
    chars = [chr(code) for code in _han_code_points()]
    joined = "\n".join(chars)
    table: dict[str, str] = {}
    for config in ("t2s", "tw2s", "hk2s"):
        converted = opencc.OpenCC(config).convert(joined).split("\n")
        if len(converted) != len(
            chars
        ):  # pragma: no cover - OpenCC kept lines in every version seen
            continue
        for source, target in zip(chars, converted, strict=True):
            if target != source and len(target) == 1 and source not in table:
                table[source] = target
    # A chain such as A→B, B→C would fold A and B differently from C; resolve it.
    for source, first in list(table.items()):
        target, seen = first, {source}
        while target in table and target not in seen:
            seen.add(target)
            target = table[target]
        table[source] = target
    return table


@functools.cache
def _char_tables() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    """Regexes finding characters that fold to something else (BMP, astral), and the table.

    Full-width ASCII is in the table so that typical Chinese text (full-width
    punctuation) is already NFKC-normal afterwards and skips the slow NFKC pass.
    The BMP and astral characters live in separate classes because `re` only
    builds its fast bitmap for a class of BMP characters.
    """
    table = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    table["\u3000"] = " "
    table.update(t2s_table())
    table.update(_PUNCTUATION)
    table.update(dict.fromkeys(_INVISIBLE, ""))
    bmp = "".join(sorted(char for char in table if ord(char) < 0x10000))
    astral = "".join(sorted(char for char in table if ord(char) >= 0x10000))
    return re.compile(f"[{re.escape(bmp)}]"), re.compile(f"[{re.escape(astral)}]"), table


_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


def _map_chars(text: str) -> str:
    """Apply the character table."""
    bmp, astral, table = _char_tables()
    text = bmp.sub(lambda m: table[m.group()], text)
    if _ASTRAL_RE.search(text):
        text = astral.sub(lambda m: table[m.group()], text)
    return text


def fold(text: str) -> str:
    """Fold text for matching: NFKC, casefold, Simplified, punctuation and whitespace."""
    if text.isascii():
        return " ".join(text.lower().split())
    text = _map_chars(text)
    if not unicodedata.is_normalized("NFKC", text):
        text = _map_chars(unicodedata.normalize("NFKC", text))
    text = " ".join(text.casefold().split())
    return _SPACE_NEAR_CJK_RE.sub("", text)


def fold_pattern(pattern: str) -> str:
    """Fold a user regex so its literal characters meet the folded text.

    Only NFKC and the Traditional→Simplified table: case folding would change
    escapes such as ``\\D`` into ``\\d``, so case is handled by a
    case-insensitive compile instead.
    """
    text = unicodedata.normalize("NFKC", pattern)
    table = t2s_table()
    return "".join(table.get(char, char) for char in text)
