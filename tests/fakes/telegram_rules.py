"""What Telegram accepts in a message, as pure functions the fake server and tests share.

Rules, following the Bot API documentation and TDLib's HTML parser:

- HTML parse mode knows only ``b strong i em u ins s strike del``, ``span
  class="tg-spoiler"``, ``tg-spoiler``, ``a href``, ``tg-emoji emoji-id``, ``code``,
  ``pre`` (an inner ``code class="language-x"`` names the language) and ``blockquote``
  (optionally ``expandable``). Errors name a byte offset in the UTF-8 input.
- Named character references are only ``&lt; &gt; &amp; &quot;`` (the ``;`` is
  optional); numeric ones decode unless out of range; anything else stays literal.
- Entity offsets and lengths count UTF-16 code units and must lie inside the text
  without splitting a surrogate pair; at most 100 entities per message.
- Text holds 1-4096 and a caption 0-1024 UTF-16 units (Telegram counts characters,
  so counting UTF-16 units is the strict, safe side).
- A text link's URL must pass TDLib's ``LinkManager::check_link`` (see ``check_link``):
  http or https (a URL without ``scheme://`` is read as http) with a host that has a
  dot or is an IPv6 literal, or a ``tg:``/``ton:``/``tonsite:`` deep link with a
  plain host. An explicit ``text_link`` entity that fails is refused with 400
  ``Bad Request: entity URL '<url>' is invalid: <reason>``, e.g. ``Wrong HTTP URL``
  for ``http://localhost/x``; an HTML ``<a href>`` that fails is dropped silently and
  its text kept. An accepted URL is stored normalised (``e.org`` → ``http://e.org/``).

  Sources, tdlib/td at 022d602: ``check_link`` and ``check_link_impl`` in
  td/telegram/LinkManager.cpp, ``parse_url`` in tdutils/td/utils/HttpUrl.cpp,
  ``get_message_entities`` in td/telegram/MessageEntity.cpp (``"Entity " +
  error``; its HTML parser calls ``get_checked_link`` and skips a failing link);
  tdlib/telegram-bot-api at 01a3679, ``Client::fail_query_with_error`` (adds ``Bad
  Request: `` and lower-cases the first letter). Field reports with this wording:
  littlebearapps/untether#157 (``entity URL '/Users/…' is invalid: URL host is
  empty``); yagop/node-telegram-bot-api#295 (a ``mailto:`` link shown as http).
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_ENTITIES = 100

_PARSE = "Bad Request: can't parse entities: "
_SPACE = " \t\r\n\v\f"
_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "date_time",
    }
)
_URL_PART_CHARS = frozenset(".-_!$,~*'();&+=")


class Rejected(Exception):  # noqa: N818 -- the name is the shared contract other tests import
    """Telegram refused a call; code and description exactly as the Bot API answers."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, int] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units, so astral characters count twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _bad(detail: str) -> Rejected:
    return Rejected(400, _PARSE + detail)


def _decode_reference(html: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``pos`` (an ``&``): (character, next index) or None."""
    end = pos + 1
    if html.startswith("#", end):
        end += 1
        hexadecimal = html.startswith(("x", "X"), end)
        end += hexadecimal
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        start = end
        while end < len(html) and html[end] in digits:
            end += 1
        if end == start:
            return None
        value = int(html[start:end], 16 if hexadecimal else 10)
        if value == 0 or value >= 0x10FFFF:
            return None
        if 0xD800 <= value <= 0xDFFF:
            raise _bad(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        char = chr(value)
    else:
        while end < len(html) and html[end].isascii() and html[end].isalpha():
            end += 1
        found = _NAMED.get(html[pos + 1 : end])
        if found is None:
            return None
        char = found
    if html.startswith(";", end):
        end += 1
    return char, end


def _decode_attribute(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        ref = _decode_reference(value, i) if value[i] == "&" else None
        if ref is None:
            out.append(value[i])
            i += 1
        else:
            out.append(ref[0])
            i = ref[1]
    return "".join(out)


class LinkError(ValueError):
    """Why Telegram refuses a URL as a text link, in TDLib's words (e.g. ``Wrong HTTP URL``)."""


@dataclass(frozen=True)
class _HttpUrl:
    """What TDLib's ``parse_url`` makes of a link: ``[https?://][userinfo@]host[:port]query``."""

    protocol: str
    userinfo: str
    host: str
    is_ipv6: bool
    specified_port: int
    query: str

    def get_url(self) -> str:
        userinfo = f"{self.userinfo}@" if self.userinfo else ""
        port = f":{self.specified_port}" if self.specified_port > 0 else ""
        return f"{self.protocol}://{userinfo}{self.host}{port}{self.query}"


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _check_url_part(part: str, name: str, *, allow_colon: bool) -> None:
    """RFC 3986 characters, percent escapes and any non-ASCII character pass."""
    i = 0
    while i < len(part):
        char = part[i]
        if (
            (char.isascii() and char.isalnum())
            or char in _URL_PART_CHARS
            or (allow_colon and char == ":")
        ):
            i += 1
        elif char == "%":
            pair = part[i + 1 : i + 3]
            if len(pair) == 2 and all(c in string.hexdigits for c in pair):
                i += 3
            else:
                raise LinkError(f"Wrong percent-encoded symbol in URL {name}")
        elif ord(char) >= 128:
            i += 1
        else:
            raise LinkError(f"Disallowed character in URL {name}")


def _parse_port(text: str) -> int:
    """The port after the last colon: 1-65535 in plain decimal (leading zeros ignored)."""
    digits = text.lstrip("0") or "0"
    if not re.fullmatch(r"[1-9][0-9]{0,4}", digits) or int(digits) > 65535:
        raise LinkError("Wrong port number specified in the URL")
    return int(digits)


def _parse_url(url: str) -> _HttpUrl:
    """TDLib's ``parse_url`` (tdutils/td/utils/HttpUrl.cpp); a URL without ``://`` is http."""
    head = re.match(r"[^:/?#@\[\]]*", url)
    assert head is not None  # an empty match at least
    protocol, rest = "http", url
    if url.startswith("://", head.end()):
        protocol = _ascii_lower(head.group())
        if protocol not in {"http", "https"}:
            raise LinkError("Unsupported URL protocol")
        rest = url[head.end() + 3 :]
    authority = re.match(r"[^/?#]*", rest)
    assert authority is not None
    userinfo_host_port, query = authority.group(), rest[authority.end() :]
    port = 0
    colon = max(userinfo_host_port.rfind(c) for c in ":]@")
    if colon > 0 and userinfo_host_port[colon] == ":":
        port = _parse_port(userinfo_host_port[colon + 1 :])
        userinfo_host_port = userinfo_host_port[:colon]
    userinfo, _, host = userinfo_host_port.rpartition("@")
    is_ipv6 = host.startswith("[") and host.endswith("]") and len(host) > 1
    if is_ipv6:
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise LinkError("Wrong IPv6 address specified in the URL") from None
    if not host:
        raise LinkError("URL host is empty")
    if host == ".":
        raise LinkError("Host is invalid")
    query = query.rstrip(" \t\r\n\0\v") or "/"
    query = ("" if query.startswith("/") else "/") + "".join(
        f"%{ord(c):02X}" if ord(c) <= 0x20 else c for c in query
    )
    host = _ascii_lower(host)
    if is_ipv6:
        if any(c not in ":.0123456789abcdef" for c in host[1:-1]):
            raise LinkError("Wrong IPv6 URL host")
    else:
        _check_url_part(host, "host", allow_colon=False)
        _check_url_part(userinfo, "userinfo", allow_colon=True)
    return _HttpUrl(protocol, userinfo, host, is_ipv6, port, query)


def check_link(url: str) -> str:
    """The URL as Telegram stores a text link, or ``LinkError`` saying why it is refused.

    A port of TDLib's ``LinkManager::check_link_impl`` (td/telegram/LinkManager.cpp):
    http and https links need a host with a dot (or an IPv6 literal); ``tg:``,
    ``ton:`` and ``tonsite:`` deep links need a plain host and no port or user info.
    Every other scheme fails to parse: ``ftp://`` as an unsupported protocol, most
    ``scheme:rest`` forms as a bad port, and ``mailto:user@host.tld`` *passes* as
    ``http://mailto:user@host.tld/`` (user info ``mailto:user``), as Telegram shows it.
    """
    lowered = _ascii_lower(url)
    deep = next((s for s in ("tg", "ton", "tonsite") if lowered.startswith(s + ":")), None)
    rest = url[len(deep) + 1 :] if deep else url
    if deep and rest.startswith("//"):
        rest = rest[2:]
    parsed = _parse_url(rest)
    if deep is None:
        if "." not in parsed.host and not parsed.is_ipv6:
            raise LinkError("Wrong HTTP URL")
        return parsed.get_url()
    if (
        _ascii_lower(rest).startswith("http://")
        or parsed.protocol == "https"
        or parsed.userinfo
        or parsed.specified_port
        or parsed.is_ipv6
    ):
        raise LinkError("Wrong tg URL" if deep == "tg" else "Wrong ton URL")
    allowed = "-_." if deep == "tonsite" else "-_"
    if any(not (c.isascii() and c.isalnum()) and c not in allowed for c in parsed.host):
        raise LinkError("Unallowed characters in URL host")
    query = parsed.query[1:] if parsed.query.startswith("/?") else parsed.query
    return f"{deep}://{parsed.host}{query}"


def normalize_link(url: str) -> str | None:
    """The URL as Telegram stores an HTML ``<a href>``, or None when Telegram drops the link."""
    try:
        return check_link(url)
    except LinkError:
        return None


class _Open:
    """A start tag waiting for its end tag."""

    __slots__ = ("argument", "name", "offset", "text_start")

    def __init__(self, name: str, argument: str, offset: int, text_start: int) -> None:
        self.name = name
        self.argument = argument
        self.offset = offset
        self.text_start = text_start


class _HtmlParser:
    """One pass over the markup; positions are Python indices, reported as UTF-8 bytes."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, index: int) -> int:
        return len(self.html[:index].encode("utf-8", "surrogatepass"))

    def at(self, index: int) -> str:
        return self.html[index] if index < len(self.html) else ""

    def is_space(self, index: int) -> bool:
        """Like TDLib, the end of input counts as a space."""
        return index >= len(self.html) or self.html[index] in _SPACE

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.offset += utf16_len(text)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        html = self.html
        i = 0
        while i < len(html):
            char = html[i]
            if char == "&":
                ref = _decode_reference(html, i)
                if ref is not None:
                    self.emit(ref[0])
                    i = ref[1]
                    continue
            if char != "<":
                self.emit(char)
                i += 1
            elif self.at(i + 1) == "/":
                i = self.end_tag(i)
            else:
                i = self.start_tag(i)
        if self.stack:
            raise _bad(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def skip_spaces(self, i: int) -> int:
        while i < len(self.html) and self.html[i] in _SPACE:
            i += 1
        return i

    def start_tag(self, begin: int) -> int:
        html = self.html
        where = self.byte_offset(begin)
        i = begin + 1
        while not self.is_space(i) and html[i] != ">":
            i += 1
        if i >= len(html):
            raise _bad(f"Unclosed start tag at byte offset {where}")
        name = html[begin + 1 : i].lower()
        if name not in _TAGS:
            raise _bad(f'Unsupported start tag "{name}" at byte offset {where}')
        argument, i = self.attributes(i, name, where)
        if name == "span" and argument != "spoiler":
            raise _bad(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
        self.stack.append(_Open(name, argument, self.offset, len(self.out)))
        return i + 1

    def attributes(self, i: int, name: str, where: int) -> tuple[str, int]:
        """Read attributes up to the closing ``>``; return the tag's argument and its index."""
        html = self.html
        argument = ""
        while self.at(i) != ">":
            i = self.skip_spaces(i)
            if i >= len(html):
                raise _bad(f"Unclosed start tag at byte offset {where}")
            if html[i] == ">":
                break
            attr_begin = i
            while not self.is_space(i) and html[i] not in "=>":
                i += 1
            attribute = html[attr_begin:i].lower()
            if not attribute:
                raise _bad(f'Empty attribute name in the tag "{name}" at byte offset {where}')
            i = self.skip_spaces(i)
            if self.at(i) != "=":
                if name == "blockquote" and attribute == "expandable":
                    argument = "1"
                    continue
                raise _bad(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {where}'
                )
            i = self.skip_spaces(i + 1)
            if i >= len(html):
                raise _bad(f'Unclosed start tag "{name}" at byte offset {where}')
            value, i = self.attribute_value(i, where)
            argument = self.tag_argument(name, attribute, value, argument)
        return argument, i

    def attribute_value(self, i: int, where: int) -> tuple[str, int]:
        html = self.html
        if html[i] in "'\"":
            quote = html[i]
            close = html.find(quote, i + 1)
            if close < 0:
                raise _bad(f"Unclosed start tag at byte offset {where}")
            return _decode_attribute(html[i + 1 : close]), close + 1
        token_begin = i
        while i < len(html) and ((html[i].isascii() and html[i].isalnum()) or html[i] in ".-"):
            i += 1
        if not self.is_space(i) and html[i] != ">":
            raise _bad(
                f"Unexpected end of name token at byte offset {self.byte_offset(token_begin)}"
            )
        return html[token_begin:i].lower(), i

    @staticmethod
    def tag_argument(name: str, attribute: str, value: str, current: str) -> str:
        if (name, attribute) in {("a", "href"), ("tg-emoji", "emoji-id")}:
            return value
        if name == "code" and attribute == "class" and value.startswith("language-"):
            return value.removeprefix("language-")
        if name == "span" and attribute == "class" and value.startswith("tg-"):
            return value.removeprefix("tg-")
        if name == "blockquote" and attribute == "expandable":
            return "1"
        return current

    def end_tag(self, begin: int) -> int:
        html = self.html
        where = self.byte_offset(begin)
        if not self.stack:
            raise _bad(f"Unexpected end tag at byte offset {where}")
        i = begin + 2
        while not self.is_space(i) and html[i] != ">":
            i += 1
        end_name = html[begin + 2 : i]
        while i < len(html) and html[i] in _SPACE:
            i += 1
        if self.at(i) != ">":
            raise _bad(f"Unclosed end tag at byte offset {where}")
        opened = self.stack.pop()
        if end_name and end_name != opened.name:
            raise _bad(
                f'Unmatched end tag at byte offset {where}, expected "</{opened.name}>", '
                f'found "</{end_name}>"'
            )
        if self.offset > opened.offset:
            self.close(opened)
        return i + 1

    def close(self, opened: _Open) -> None:
        offset, length = opened.offset, self.offset - opened.offset
        name, argument = opened.name, opened.argument
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (offset, length)
        entity: dict[str, Any] = {"offset": offset, "length": length}
        if name in _SIMPLE:
            entity["type"] = _SIMPLE[name]
        elif name == "a":
            url = normalize_link(argument or "".join(self.out[opened.text_start :]))
            if url is None:
                return  # Telegram silently drops a link it cannot use
            entity.update(type="text_link", url=url)
        elif name == "tg-emoji":
            if not argument.isdigit() or int(argument) == 0:
                raise _bad("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=argument)
        elif name == "blockquote":
            entity["type"] = "expandable_blockquote" if argument else "blockquote"
        elif name == "pre":
            if same_span and last is not None and last["type"] == "code" and "language" in last:
                last["type"] = "pre"
                return
            entity["type"] = "pre"
        elif same_span and last is not None and last["type"] == "pre" and argument:
            last["language"] = argument
            return
        else:
            entity["type"] = "code"
            if argument:
                entity["language"] = argument  # kept only until an enclosing pre claims it
        self.entities.append(entity)


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Turn Telegram-HTML into text and Bot API entities, refusing what Telegram refuses."""
    text, entities = _HtmlParser(html).run()
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return text, entities


def _splits_pair(text: str, unit: int) -> bool:
    """True when UTF-16 position ``unit`` falls between the halves of a surrogate pair."""
    position = 0
    for char in text:
        if position >= unit:
            return False
        position += 2 if ord(char) > 0xFFFF else 1
        if position > unit:
            return True
    return False


def _check_text_link(url: Any) -> None:
    """Refuse a ``text_link`` URL as the Bot API does (its field, then TDLib's check)."""
    if url is None:
        raise Rejected(400, "Bad Request: can't parse MessageEntity: Can't find field \"url\"")
    if not isinstance(url, str):
        raise Rejected(
            400, 'Bad Request: can\'t parse MessageEntity: Field "url" must be of type String'
        )
    try:
        check_link(url)
    except LinkError as error:
        raise Rejected(400, f"Bad Request: entity URL '{url}' is invalid: {error}") from None


def _check_entity(text: str, total: int, entity: Mapping[str, Any]) -> None:
    kind = entity.get("type")
    if not isinstance(kind, str) or kind not in ENTITY_TYPES:
        raise _bad(f"Unsupported entity type {kind!r}")
    offset, length = entity.get("offset"), entity.get("length")
    if type(offset) is not int or type(length) is not int:
        raise _bad("entity offset and length must be integers")
    if offset < 0 or length < 1:
        raise _bad(f"Invalid entity offset {offset} or length {length}")
    if offset + length > total:
        raise _bad(f"entity at offset {offset} with length {length} is beyond the end of text")
    if _splits_pair(text, offset) or _splits_pair(text, offset + length):
        raise _bad(f"entity at offset {offset} splits a UTF-16 surrogate pair")
    if kind == "text_link":
        _check_text_link(entity.get("url"))
    elif kind == "pre" and not isinstance(entity.get("language", ""), str):
        raise _bad("pre language must be a string")
    elif kind == "text_mention" and not isinstance(entity.get("user"), Mapping):
        raise _bad("text_mention needs a user")
    elif kind == "custom_emoji" and not str(entity.get("custom_emoji_id", "")).isdigit():
        raise _bad("Invalid custom emoji identifier specified")


def check_entities(text: str, entities: Sequence[Mapping[str, Any]]) -> None:
    """Refuse entities Telegram would refuse (or that we promised never to send)."""
    if len(entities) > MAX_ENTITIES:
        raise _bad(f"too many entities: {len(entities)} > {MAX_ENTITIES}")
    total = utf16_len(text)
    for entity in entities:
        if not isinstance(entity, Mapping):
            raise _bad("entity must be an object")
        _check_entity(text, total, entity)


def check_text(text: str, entities: Sequence[Mapping[str, Any]]) -> None:
    """Check a message text after parse-mode parsing, as sendMessage and editMessageText do."""
    if not text.strip():
        raise Rejected(400, "Bad Request: message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise Rejected(400, "Bad Request: message is too long")
    check_entities(text, entities)


def check_caption(caption: str, entities: Sequence[Mapping[str, Any]]) -> None:
    """Check a media caption; an empty caption is allowed."""
    if utf16_len(caption) > MAX_CAPTION:
        raise Rejected(400, "Bad Request: message caption is too long")
    check_entities(caption, entities)


_STYLES = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
_QUOTES = frozenset({"blockquote", "expandable_blockquote"})


def nesting_problem(entities: Sequence[Mapping[str, Any]]) -> str | None:
    """Why these entities break the Bot API's nesting rules, or None when they keep them.

    Telegram does not refuse such a message: it silently drops entities to make them
    fit, which may be the title's link. Tests use this to prove we never rely on that.
    """
    spans = [(int(e["offset"]), int(e["offset"] + e["length"]), str(e["type"])) for e in entities]
    for index, (a_start, a_end, a_type) in enumerate(spans):
        for b_start, b_end, b_type in spans[index + 1 :]:
            if a_end <= b_start or b_end <= a_start:
                continue
            if a_start <= b_start and b_end <= a_end:
                outer, inner = a_type, b_type
            elif b_start <= a_start and a_end <= b_end:
                outer, inner = b_type, a_type
            else:
                return f"{a_type} and {b_type} cross"
            if outer in {"code", "pre"} or outer == inner:
                return f"{inner} inside {outer}"
            if outer in _STYLES or inner in _STYLES:
                continue
            if outer in _QUOTES and inner in _QUOTES:
                return f"{inner} inside {outer}"
            if outer not in _QUOTES and inner not in _QUOTES:
                return f"{inner} inside {outer}"
    return None
