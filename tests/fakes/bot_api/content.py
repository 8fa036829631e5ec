"""What a message's content must look like: reply markup, link previews, text and entities.

Fake-specific choices: ``parse_mode`` MarkdownV2/Markdown is refused (we never send
it), and ``parse_mode`` together with explicit entities is refused.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.bot_api.records import JSON
from tests.fakes.bot_api.wire import Params
from tests.fakes.telegram_rules import LinkError, Rejected, check_link, check_text, parse_html


def check_inline_keyboard(markup: Any) -> None:
    """Refuse an inline keyboard Telegram would refuse (rows, button text, data, URL)."""
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise Rejected(400, "Bad Request: can't parse inline keyboard button: rows must be arrays")
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise Rejected(400, "Bad Request: can't parse inline keyboard button")
            text = button.get("text")
            if not isinstance(text, str) or not text.strip():
                raise Rejected(400, "Bad Request: BUTTON_DATA_INVALID")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise Rejected(400, "Bad Request: BUTTON_DATA_INVALID")
            elif "url" in button:
                url = button["url"]
                scheme = urlsplit(url).scheme if isinstance(url, str) else ""
                if scheme not in {"http", "https", "tg"}:
                    raise Rejected(400, "Bad Request: BUTTON_URL_INVALID")
            else:
                raise Rejected(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )


def check_reply_markup(markup: Any) -> None:
    """Refuse reply markup that is neither an inline keyboard nor a known reply keyboard."""
    if not isinstance(markup, dict):
        raise Rejected(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        check_inline_keyboard(markup)
    elif not ({"keyboard", "remove_keyboard", "force_reply"} & markup.keys()):
        raise Rejected(400, "Bad Request: can't parse reply keyboard markup JSON object")


def check_link_preview(options: Any) -> None:
    """Refuse link preview options with unknown fields or fields of the wrong type."""
    if not isinstance(options, dict):
        raise Rejected(400, "Bad Request: can't parse link preview options JSON object")
    for key, value in options.items():
        if key == "url":
            ok = isinstance(value, str)
        elif key in {"is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text"}:
            ok = isinstance(value, bool)
        else:
            ok = False
        if not ok:
            raise Rejected(400, f"Bad Request: can't parse link preview options: bad field {key}")


def _as_stored(entity: Any) -> Any:
    """A text link whose URL Telegram accepts, with the URL as Telegram stores it."""
    if isinstance(entity, dict) and entity.get("type") == "text_link":
        url = entity.get("url")
        with contextlib.suppress(LinkError):  # a refused URL is refused by the text check
            return {**entity, "url": check_link(url)} if isinstance(url, str) else entity
    return entity


def formatted(
    params: Params, text: str, entities_field: str, *, parse_mode: str | None
) -> tuple[str, list[JSON]]:
    """Apply parse_mode or explicit entities the way the Bot API does."""
    entities = params.get_json(entities_field)
    if parse_mode is None:
        if entities is None:
            return text, []
        if not isinstance(entities, list):
            raise Rejected(400, f"Bad Request: can't parse {entities_field} JSON object")
        return text, [_as_stored(entity) for entity in entities]
    if entities is not None:
        raise Rejected(400, f"Bad Request: fake refuses parse_mode together with {entities_field}")
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode in {"markdown", "markdownv2"}:
        raise Rejected(400, f"Bad Request: parse_mode {parse_mode} is not supported by the fake")
    raise Rejected(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")


def message_text(params: Params) -> tuple[str | None, str, list[JSON]]:
    """The parse mode, text and entities of sendMessage or editMessageText, checked."""
    parse_mode = params.get_str("parse_mode")
    text, entities = formatted(
        params, params.get_str("text") or "", "entities", parse_mode=parse_mode
    )
    check_text(text, entities)
    return parse_mode, text, entities
