"""Feed bytes to text: trust the bytes, then what the server and the document say, then a detector.

The order, first that applies:

1. A byte order mark (UTF-8, UTF-16, UTF-32), or the NUL pattern of ``<?`` in
   UTF-16/32 (XML 1.0 appendix F).
2. Bytes that are valid UTF-8 and not plain ASCII are UTF-8, whatever is declared:
   text in a legacy encoding almost never forms valid multi-byte UTF-8 sequences,
   while servers and templates often declare ISO-8859-1 (or UTF-16) over UTF-8.
3. The HTTP ``charset``, then the XML declaration's ``encoding``, each used when it
   decodes the document cleanly or with a handful of broken sequences (a cut-off
   last character), and, for a single-byte encoding (which decodes anything),
   unless its text is a mess by charset-normalizer's measure and the detector's
   reading is cleaner (Windows-1251 bytes under a server's default ISO-8859-1).
   A declared wide encoding without NUL bytes, an unknown name or a codec that
   is no text encoding is passed over. Then UTF-8 with a handful of broken
   sequences, XML's default.
4. ``charset-normalizer``'s detector (chosen for CJK and Cyrillic), ties broken by
   how common an encoding is on the web.
5. UTF-8 with replacement characters.

Declared names are read the way browsers read them (WHATWG Encoding Standard):
GB2312/GBK as GB18030, Big5 as Big5-HKSCS, Shift_JIS as Windows-31J, EUC-KR as
Windows-949, ISO-8859-1/ASCII as Windows-1252 (bytes it leaves undefined as Latin-1).
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass

import charset_normalizer
from charset_normalizer.md import mess_ratio

_XML_DECLARED = re.compile(
    rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']"""
)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE_PATTERNS = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
_WHATWG = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "hz": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "iso8859_1": "cp1252",
    "ascii": "cp1252",
    "iso8859_9": "cp1254",
    "iso8859_11": "cp874",
    "tis_620": "cp874",
}
_WIDE = ("utf_16", "utf_32")
_DETECTOR_SAMPLE = 256 * 1024
_TIE = 0.01
_MESS = 0.2
_MESS_SAMPLE = 65_536
_COHERENCE_TIE = 0.2
# Web usage, most common first (W3Techs character-encoding survey): breaks a detector tie.
_COMMON = (
    "utf_8", "cp1252", "gb18030", "gb2312", "gbk", "cp932", "shift_jis", "euc_jp", "cp949",
    "euc_kr", "cp1251", "big5", "big5hkscs", "cp1250", "cp1256", "cp1255", "cp1254", "cp874",
    "koi8_r", "iso8859_2", "cp1253", "cp1257", "cp1258",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decoded:
    """A document's text and how it was read."""

    text: str
    encoding: str
    """Python codec name used (``utf-8``, ``gb18030``, ``cp1252``…)."""
    source: str
    """What decided it: ``bom``, ``utf-8``, ``http``, ``declared``, ``detected`` or ``fallback``."""


def codec_name(label: str) -> str | None:
    """The Python codec a declared encoding label means (browser aliases applied), or None."""
    try:
        info = codecs.lookup(label.strip().strip("\"'"))
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None  # rot13, base64, zlib...: codecs, not text encodings
    return _WHATWG.get(info.name.replace("-", "_"), info.name.replace("-", "_"))


def _handful(body: bytes) -> int:
    """How many broken sequences still count as a handful for a document this long."""
    return max(4, len(body) // 2000)


def _decode(body: bytes, codec: str) -> tuple[str, int] | None:
    """The text and its number of broken sequences, or None when the codec cannot run."""
    try:
        return body.decode(codec), 0
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    if codec == "cp1252":  # the five bytes Windows-1252 leaves undefined are Latin-1 controls
        return body.decode("latin-1"), 0
    text = body.decode(codec, errors="replace")
    genuine = body.decode(codec, errors="ignore").count("\ufffd")
    return text, text.count("\ufffd") - genuine


@functools.cache
def is_single_byte(codec: str) -> bool:
    """Whether every byte is one character in ``codec`` (so it decodes anything)."""
    try:
        return len(bytes(range(0x80, 0x100)).decode(codec, errors="replace")) == 0x80
    except LookupError:
        return False


def _candidates(body: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """(codec, source) pairs from the HTTP header and the XML declaration, in that order."""
    found: list[tuple[str, str]] = []
    header = _CHARSET.search(content_type or "")
    declared = _XML_DECLARED.match(body[:512])
    for label, source in ((header, "http"), (declared, "declared")):
        if label is None:
            continue
        raw = label.group(1)
        codec = codec_name(raw if isinstance(raw, str) else raw.decode("ascii"))
        if codec is not None and codec not in (c for c, _ in found):
            found.append((codec, source))
    return found


def _detect(body: bytes) -> str | None:
    """The detector's reading; between about equally clean and coherent ones, the commoner.

    Short texts leave several single-byte readings equally clean, and the language
    model's coherence is noisy then (Portuguese in Windows-1257 scores "English").
    """
    matches = charset_normalizer.from_bytes(body[:_DETECTOR_SAMPLE], preemptive_behaviour=False)
    best = matches.best()
    if best is None:
        return None
    clean = [m for m in matches if m.chaos <= best.chaos + _TIE]
    coherent = max(m.coherence for m in clean)
    tied = [m.encoding for m in clean if m.coherence >= coherent - _COHERENCE_TIE]
    ranked = sorted(tied, key=lambda e: _COMMON.index(e) if e in _COMMON else len(_COMMON))
    return codec_name(ranked[0]) if ranked else None


def _clearer(body: bytes, declared_text: str, detected: str) -> bool:
    """Whether the detector's reading is clearly better than the declared single-byte one.

    A single-byte encoding decodes any bytes, so "it decodes" proves nothing: the
    declared reading must not be a mess (charset-normalizer's mess ratio, 0.2 being
    its own threshold for one) while the detector's reading is cleaner.
    """
    declared_mess = mess_ratio(declared_text[:_MESS_SAMPLE], 1.0)
    if declared_mess < _MESS:
        return False
    other = _decode(body[: _MESS_SAMPLE * 2], detected)
    return other is not None and mess_ratio(other[0][:_MESS_SAMPLE], 1.0) < declared_mess


def _bom(body: bytes) -> Decoded | None:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(codec, errors="replace"), codec, "bom")
    for pattern, codec in _WIDE_PATTERNS:
        if body.startswith(pattern):
            return Decoded(body.decode(codec, errors="replace"), codec, "bom")
    return None


def decode_document(body: bytes, content_type: str | None = None) -> Decoded:
    """The text of a feed document, following the order in the module docstring.

    Takes the raw bytes and the HTTP Content-Type (None when there was none);
    never raises: the last resort is UTF-8 with replacement characters.
    """
    wide = _bom(body)
    if wide is not None:
        return wide
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return Decoded(text, "utf-8", "utf-8")
    detected: str | None = None
    candidates = _candidates(body, content_type)
    for codec, source in candidates:
        if codec.startswith(_WIDE):
            continue  # no NUL pattern, so not UTF-16/32 whatever it says
        decoded = _decode(body, codec)
        if decoded is None or decoded[1] > _handful(body):
            continue
        if is_single_byte(codec):
            detected = detected or _detect(body)
            if detected is not None and _clearer(body, decoded[0], detected):
                break  # a single-byte label over other bytes: the detector's reading wins
        return Decoded(decoded[0], codec, source)
    if not any(codec == "utf_8" for codec, _ in candidates):
        # XML's default: UTF-8 with a cut-off character or two is still UTF-8.
        decoded = _decode(body, "utf_8")
        if decoded is not None and decoded[1] <= _handful(body):
            return Decoded(decoded[0], "utf-8", "utf-8")
    detected = detected or _detect(body)
    if detected is not None:
        decoded = _decode(body, detected)
        if decoded is not None:
            return Decoded(decoded[0], detected, "detected")
    return Decoded(body.decode("utf-8", errors="replace"), "utf-8", "fallback")
