"""Telegram's HTML parse mode: the tags it knows, references, and the text + entities it makes."""

from __future__ import annotations

from typing import Any

from tests.fakes.telegram_rules.base import (
    NAMED_REFERENCES,
    SIMPLE_TAGS,
    SPACE,
    TAGS,
    parse_error,
    utf16_len,
)
from tests.fakes.telegram_rules.links import normalize_link


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
            raise parse_error(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        char = chr(value)
    else:
        while end < len(html) and html[end].isascii() and html[end].isalpha():
            end += 1
        found = NAMED_REFERENCES.get(html[pos + 1 : end])
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
        return index >= len(self.html) or self.html[index] in SPACE

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
            raise parse_error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def skip_spaces(self, i: int) -> int:
        while i < len(self.html) and self.html[i] in SPACE:
            i += 1
        return i

    def start_tag(self, begin: int) -> int:
        html = self.html
        where = self.byte_offset(begin)
        i = begin + 1
        while not self.is_space(i) and html[i] != ">":
            i += 1
        if i >= len(html):
            raise parse_error(f"Unclosed start tag at byte offset {where}")
        name = html[begin + 1 : i].lower()
        if name not in TAGS:
            raise parse_error(f'Unsupported start tag "{name}" at byte offset {where}')
        argument, i = self.attributes(i, name, where)
        if name == "span" and argument != "spoiler":
            raise parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
        self.stack.append(_Open(name, argument, self.offset, len(self.out)))
        return i + 1

    def attributes(self, i: int, name: str, where: int) -> tuple[str, int]:
        """Read attributes up to the closing ``>``; return the tag's argument and its index."""
        html = self.html
        argument = ""
        while self.at(i) != ">":
            i = self.skip_spaces(i)
            if i >= len(html):
                raise parse_error(f"Unclosed start tag at byte offset {where}")
            if html[i] == ">":
                break
            attr_begin = i
            while not self.is_space(i) and html[i] not in "=>":
                i += 1
            attribute = html[attr_begin:i].lower()
            if not attribute:
                raise parse_error(
                    f'Empty attribute name in the tag "{name}" at byte offset {where}'
                )
            i = self.skip_spaces(i)
            if self.at(i) != "=":
                if name == "blockquote" and attribute == "expandable":
                    argument = "1"
                    continue
                raise parse_error(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {where}'
                )
            i = self.skip_spaces(i + 1)
            if i >= len(html):
                raise parse_error(f'Unclosed start tag "{name}" at byte offset {where}')
            value, i = self.attribute_value(i, where)
            argument = self.tag_argument(name, attribute, value, argument)
        return argument, i

    def attribute_value(self, i: int, where: int) -> tuple[str, int]:
        html = self.html
        if html[i] in "'\"":
            quote = html[i]
            close = html.find(quote, i + 1)
            if close < 0:
                raise parse_error(f"Unclosed start tag at byte offset {where}")
            return _decode_attribute(html[i + 1 : close]), close + 1
        token_begin = i
        while i < len(html) and ((html[i].isascii() and html[i].isalnum()) or html[i] in ".-"):
            i += 1
        if not self.is_space(i) and html[i] != ">":
            raise parse_error(
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
            raise parse_error(f"Unexpected end tag at byte offset {where}")
        i = begin + 2
        while not self.is_space(i) and html[i] != ">":
            i += 1
        end_name = html[begin + 2 : i]
        while i < len(html) and html[i] in SPACE:
            i += 1
        if self.at(i) != ">":
            raise parse_error(f"Unclosed end tag at byte offset {where}")
        opened = self.stack.pop()
        if end_name and end_name != opened.name:
            raise parse_error(
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
        if name in SIMPLE_TAGS:
            entity["type"] = SIMPLE_TAGS[name]
        elif name == "a":
            url = normalize_link(argument or "".join(self.out[opened.text_start :]))
            if url is None:
                return  # Telegram silently drops a link it cannot use
            entity.update(type="text_link", url=url)
        elif name == "tg-emoji":
            if not argument.isdigit() or int(argument) == 0:
                raise parse_error("Invalid custom emoji identifier specified")
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
