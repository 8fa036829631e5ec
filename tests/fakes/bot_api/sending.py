"""Sending methods: sendMessage, sendPhoto, sendMediaGroup, sendDocument.

Fake-specific choices: only photos are accepted in media groups, and a media group
counts as one send for the flood limits and is recorded as one ``SentMessage``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.fakes.bot_api.content import check_link_preview, formatted, message_text
from tests.fakes.bot_api.records import JSON, SentMessage
from tests.fakes.bot_api.state import ServerState
from tests.fakes.bot_api.wire import Params
from tests.fakes.telegram_rules import Rejected, check_caption

WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"


class SendingMethods(ServerState):
    """The methods that post new messages into a chat."""

    def _photo(self, value: Any, files: dict[str, tuple[str, bytes]]) -> str:
        """Check a photo reference: an uploaded file, an issued file_id or an http(s) URL."""
        if isinstance(value, tuple):
            return f"upload:{value[0]}"
        if not isinstance(value, str) or not value:
            raise Rejected(400, "Bad Request: there is no photo in the request")
        if value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
            if attached is None:
                raise Rejected(400, WRONG_FILE)
            return f"upload:{attached[0]}"
        if value in self._files:
            return value
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise Rejected(400, WRONG_FILE)
        for prefix, description in self._photo_refusals:
            if value.startswith(prefix):
                raise Rejected(400, description)
        return value

    def _photo_sizes(self, reference: str) -> list[JSON]:
        file_id = f"photo{len(self._files) + 1}"
        self._files[file_id] = (f"photos/{file_id}.jpg", reference.encode())
        return [
            {"file_id": f"{file_id}s", "file_unique_id": f"u{file_id}s", "width": 90, "height": 90},
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 800, "height": 600},
        ]

    async def _send_message(self, params: Params) -> JSON:
        chat, thread_id, markup = self._common(params)
        parse_mode, text, entities = message_text(params)
        preview = params.get_json("link_preview_options")
        if preview is not None:
            check_link_preview(preview)
        record = SentMessage(
            "sendMessage",
            chat.id,
            0,
            thread_id,
            text,
            entities,
            parse_mode=parse_mode,
            link_preview_options=preview,
            reply_markup=markup,
        )
        return self._deliver(chat, record, {})

    async def _send_photo(self, params: Params) -> JSON:
        chat, thread_id, markup = self._common(params)
        photo = params.files.get("photo") or params.values.get("photo")
        reference = self._photo(photo, params.files)
        caption, entities = self._caption(params)
        record = SentMessage(
            "sendPhoto",
            chat.id,
            0,
            thread_id,
            caption=caption,
            caption_entities=entities,
            photos=[reference],
            parse_mode=params.get_str("parse_mode"),
            reply_markup=markup,
        )
        return self._deliver(chat, record, {"photo": self._photo_sizes(reference)})

    async def _send_media_group(self, params: Params) -> list[JSON]:
        chat = self._target(params)
        thread_id = self._thread(chat, params)
        media = params.get_json("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise Rejected(400, "Bad Request: media must contain 2-10 items")
        items: list[JSON] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise Rejected(400, "Bad Request: fake accepts only photo items in media groups")
            item_params = Params(item, {})
            caption, entities = "", list[JSON]()
            if item.get("caption") is not None:
                caption, entities = formatted(
                    item_params,
                    item_params.get_str("caption") or "",
                    "caption_entities",
                    parse_mode=item_params.get_str("parse_mode"),
                )
                check_caption(caption, entities)
            reference = self._photo(item.get("media"), params.files)
            items.append(
                {
                    "type": "photo",
                    "media": reference,
                    "caption": caption,
                    "caption_entities": entities,
                }
            )
        captioned = next((item for item in items if item["caption"]), items[0])
        record = SentMessage(
            "sendMediaGroup",
            chat.id,
            0,
            thread_id,
            caption=captioned["caption"] or None,
            caption_entities=captioned["caption_entities"],
            photos=[item["media"] for item in items],
            media=items,
        )
        self._limits.take(chat.id)
        group_id = f"album{len(self.sent) + 1}"
        messages = []
        for item in items:
            message = self._new_message(chat, self._bot_user(), thread_id)
            message.update(photo=self._photo_sizes(item["media"]), media_group_id=group_id)
            if item["caption"]:
                message["caption"] = item["caption"]
            if item["caption_entities"]:
                message["caption_entities"] = item["caption_entities"]
            messages.append(message)
        record.message_ids = [m["message_id"] for m in messages]
        record.message_id = record.message_ids[0]
        self.sent.append(record)
        return messages

    async def _send_document(self, params: Params) -> JSON:
        chat, thread_id, markup = self._common(params)
        upload = params.files.get("document")
        if upload is None:
            raise Rejected(400, "Bad Request: there is no document in the request")
        caption, entities = self._caption(params)
        record = SentMessage(
            "sendDocument",
            chat.id,
            0,
            thread_id,
            caption=caption,
            caption_entities=entities,
            parse_mode=params.get_str("parse_mode"),
            reply_markup=markup,
            document_name=upload[0],
            document_bytes=upload[1],
        )
        return self._deliver(chat, record, {"document": self._store_document(*upload)})
