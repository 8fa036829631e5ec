"""Methods on messages already sent, and button presses: edits, deletes, callback answers.

An edit counts against the flood limits like a send: Telegram answers a bot that
edits one message too often (a progress display) with 429 ``Too Many Requests``
just the same. An edit that would change nothing is refused before it counts.
"""

from __future__ import annotations

from tests.fakes.bot_api.content import check_inline_keyboard, message_text
from tests.fakes.bot_api.records import JSON, SentMessage
from tests.fakes.bot_api.state import ServerChat, ServerState
from tests.fakes.bot_api.wire import Params
from tests.fakes.telegram_rules import Rejected

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def _replace_markup(message: JSON, markup: JSON | None) -> None:
    """An edit sets the message's inline keyboard, or removes it when none is given."""
    if markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = markup


class EditingMethods(ServerState):
    """editMessageText, editMessageReplyMarkup, deleteMessage and answerCallbackQuery."""

    def _own_message(self, params: Params, missing: str) -> tuple[ServerChat, JSON]:
        if params.has("inline_message_id"):
            raise Rejected(400, "Bad Request: fake does not support inline messages")
        chat = self._target(params)
        message = self._messages.get((chat.id, params.get_int("message_id") or 0))
        if message is None or message["from"].get("id") != self.bot_id:
            raise Rejected(400, f"Bad Request: {missing}")
        return chat, message

    async def _edit_message_text(self, params: Params) -> JSON:
        chat, message = self._own_message(params, "message to edit not found")
        if "text" not in message:
            raise Rejected(400, "Bad Request: there is no text in the message to edit")
        parse_mode, text, entities = message_text(params)
        markup = params.get_json("reply_markup")
        if markup is not None:
            check_inline_keyboard(markup)
        if (text, entities, markup) == (
            message["text"],
            message.get("entities", []),
            message.get("reply_markup"),
        ):
            raise Rejected(400, _NOT_MODIFIED)
        self._limits.take(chat.id)
        message.update(text=text, entities=entities, edit_date=self._now())
        _replace_markup(message, markup)
        self.edits.append(
            SentMessage(
                "editMessageText",
                chat.id,
                message["message_id"],
                text=text,
                entities=entities,
                parse_mode=parse_mode,
                reply_markup=markup,
            )
        )
        return message

    async def _edit_message_reply_markup(self, params: Params) -> JSON:
        chat, message = self._own_message(params, "message to edit not found")
        markup = params.get_json("reply_markup")
        if markup is not None:
            check_inline_keyboard(markup)
        if markup == message.get("reply_markup"):
            raise Rejected(400, _NOT_MODIFIED)
        self._limits.take(chat.id)
        _replace_markup(message, markup)
        self.edits.append(
            SentMessage(
                "editMessageReplyMarkup", chat.id, message["message_id"], reply_markup=markup
            )
        )
        return message

    async def _delete_message(self, params: Params) -> bool:
        chat = self._target(params)
        message_id = params.get_int("message_id") or 0
        if self._messages.pop((chat.id, message_id), None) is None:
            raise Rejected(400, "Bad Request: message to delete not found")
        self.deleted.append((chat.id, message_id))
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.get_str("callback_query_id")
        if query_id not in self._queries:
            raise Rejected(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._queries.discard(query_id)
        text = params.get_str("text")
        if text is not None and len(text) > 200:
            raise Rejected(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": text,
                "show_alert": params.get_bool("show_alert"),
            }
        )
        return True
