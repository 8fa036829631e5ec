"""What tests script on the server: chats, topics, refusals, failures, and what users do."""

from __future__ import annotations

import asyncio

from tests.fakes.bot_api.sending import WRONG_FILE
from tests.fakes.bot_api.state import ScriptedFailure, ServerChat, ServerState
from tests.fakes.telegram_rules import MAX_CAPTION, MAX_TEXT, utf16_len

_ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot: never a member with rights


class Scripting(ServerState):
    """The test's side of the server: set the scene, then act as users."""

    def add_chat(
        self,
        chat_id: int,
        type: str = "private",  # mirrors the Bot API field name
        *,
        title: str | None = None,
        username: str | None = None,
        is_forum: bool = False,
        admins: list[int] | None = None,
        members: list[int] | None = None,
    ) -> None:
        """Make a chat known, as if the bot had been added to it or a user had written.

        ``members``: who else is in a group or channel (getChatMember says "left" for
        anyone else); without it, anyone asked about is a member.
        """
        if type not in {"private", "group", "supergroup", "channel"}:
            raise ValueError(f"unknown chat type {type!r}")
        if (type == "private") != (chat_id > 0):
            raise ValueError("private chats have positive ids, others negative")
        if is_forum and type != "supergroup":
            raise ValueError("only supergroups can be forums")
        self._chats[chat_id] = ServerChat(
            chat_id,
            type,
            title,
            username,
            is_forum,
            list(admins or []),
            members=None if members is None else set(members),
        )

    def add_topic(self, chat_id: int, thread_id: int) -> None:
        """Open a forum topic so sends with this message_thread_id are accepted."""
        chat = self._chats[chat_id]
        if not chat.is_forum:
            raise ValueError("topics exist only in forum supergroups")
        chat.topics.add(thread_id)

    def refuse_photo_url(self, url_or_prefix: str, description: str = WRONG_FILE) -> None:
        """Make Telegram's download of matching photo URLs fail."""
        self._photo_refusals.append((url_or_prefix, description))

    def hold_next(self, method: str, *, chat_id: int) -> asyncio.Event:
        """Keep the answer to the next ``method`` call to ``chat_id`` back until the returned
        event is set: a slow Telegram, for tests of what happens while a send is in flight."""
        release = asyncio.Event()
        self._holds[(method.lower(), chat_id)] = release
        return release

    def fail_next(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        code: int,
        description: str,
        parameters: dict[str, int] | None = None,
        times: int = 1,
    ) -> None:
        """Script the next ``times`` calls of ``method`` (to ``chat_id`` if given) to fail."""
        self._failures.append(
            ScriptedFailure(method.lower(), chat_id, code, description, parameters, times)
        )

    def flood_next(
        self, method: str, *, chat_id: int | None = None, retry_after: int, times: int = 1
    ) -> None:
        """Script the next ``times`` calls of ``method`` (to ``chat_id`` if given) to meet
        Telegram's flood control: 429 ``Too Many Requests: retry after N`` with
        ``parameters.retry_after`` N (seconds), as ``limits`` answers an over-limit send."""
        self.fail_next(
            method,
            chat_id=chat_id,
            code=429,
            description=f"Too Many Requests: retry after {retry_after}",
            parameters={"retry_after": retry_after},
            times=times,
        )

    def stop_failing(self, method: str) -> None:
        """Drop the failures still scripted for ``method``: its calls succeed again."""
        self._failures[:] = [f for f in self._failures if f.method != method.lower()]

    def bot_kicked(self, chat_id: int) -> int:
        """The user blocks the bot (private) or the bot is removed; later sends get 403."""
        chat = self._chats[chat_id]
        private = chat.type == "private"
        chat.gone = (
            "Forbidden: bot was blocked by the user"
            if private
            else f"Forbidden: bot was kicked from the {chat.type} chat"
        )
        actor = self._user(chat_id if private else (chat.admins or [1])[0])
        bot = self._bot_user()
        update = {
            "chat": chat.as_json(),
            "from": actor,
            "date": self._now(),
            "old_chat_member": {"status": "member", "user": bot},
            "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
        }
        return self._push("my_chat_member", update)

    def bot_restored(self, chat_id: int) -> int:
        """The user unblocks the bot (or it is added back): sends work again."""
        chat = self._chats[chat_id]
        chat.gone = None
        actor = self._user(chat_id if chat.type == "private" else (chat.admins or [1])[0])
        bot = self._bot_user()
        update = {
            "chat": chat.as_json(),
            "from": actor,
            "date": self._now(),
            "old_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
            "new_chat_member": {"status": "member", "user": bot},
        }
        return self._push("my_chat_member", update)

    def migrate_chat(self, chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group to a supergroup: sends to the old id now answer migrate_to_chat_id."""
        old = self._chats[chat_id]
        old.migrated_to = new_chat_id
        self.add_chat(new_chat_id, "supergroup", title=old.title, admins=old.admins)

    def user_sends(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        user_id: int | None = None,
        thread_id: int | None = None,
        document: tuple[str, bytes] | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
        anonymous: bool = False,
    ) -> int:
        """A user writes in a chat; returns the update_id of the new message update.

        ``anonymous``: an anonymous group admin, who writes as the group itself
        (``sender_chat`` is the chat, ``from`` is Telegram's GroupAnonymousBot).
        Raises ValueError for what no Telegram client can send: a text over 4096 or a
        caption over 1024 UTF-16 units.
        """
        if text is not None and utf16_len(text) > MAX_TEXT:
            raise ValueError(f"a user cannot send a text of more than {MAX_TEXT} characters")
        if caption is not None and utf16_len(caption) > MAX_CAPTION:
            raise ValueError(f"a user cannot send a caption of more than {MAX_CAPTION} characters")
        chat = self._chats.get(chat_id)
        if chat is None:
            kind = "private" if chat_id > 0 else "supergroup"
            self.add_chat(chat_id, kind)
            chat = self._chats[chat_id]
        sender = user_id if user_id is not None else (chat_id if chat_id > 0 else 1001)
        if anonymous:
            sender = _ANONYMOUS_ADMIN
        message = self._new_message(chat, self._user(sender), thread_id)
        if anonymous:
            message["sender_chat"] = chat.as_json()
        if text is not None:
            message["text"] = text
            command = text.split(maxsplit=1)[0] if text.strip() else ""
            if command.startswith("/") and len(command) > 1:
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if document is not None:
            message["document"] = self._store_document(*document)
        if caption is not None:
            message["caption"] = caption
        if reply_to is not None:
            message["reply_to_message"] = self._messages[(chat_id, reply_to)]
        return self._push("message", message)

    def user_presses(self, chat_id: int, message_id: int, data: str, *, user_id: int = 1001) -> int:
        """A user presses an inline button on a message the bot sent; returns the update_id.

        ``data`` need not be on any of the message's buttons: a modified client can
        send any callback data, but Telegram carries only 1-64 bytes of it (ValueError).
        """
        if not 1 <= len(data.encode("utf-8")) <= 64:
            raise ValueError("callback data holds 1-64 bytes")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        query_id = f"cq{self._next_update_id}"
        self._queries.add(query_id)
        query = {
            "id": query_id,
            "from": self._user(user_id),
            "message": message,
            "chat_instance": str(chat_id),
            "data": data,
        }
        return self._push("callback_query", query)
