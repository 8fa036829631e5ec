"""Chat and member methods: getChat, getChatMember, getChatAdministrators.

A chat's first admin is its creator, the others are administrators with the
rights below; in a channel the bot itself is an administrator.
"""

from __future__ import annotations

from tests.fakes.bot_api.records import JSON
from tests.fakes.bot_api.state import ServerChat, ServerState
from tests.fakes.bot_api.wire import Params
from tests.fakes.telegram_rules import Rejected

_ADMIN_RIGHTS: JSON = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_post_messages": True,
}


class ChatMethods(ServerState):
    """What the bot may ask about a chat and the people in it."""

    async def _get_chat(self, params: Params) -> JSON:
        chat = self._target(params, sending=False)
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
        )
        return {
            **chat.as_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {**gifts, "gifts_from_channels": False},
        }

    def _bot_member(self, chat: ServerChat) -> JSON:
        if chat.gone is not None:
            return {"status": "kicked", "user": self._bot_user(), "until_date": 0}
        if chat.type == "channel":
            return {**_ADMIN_RIGHTS, "status": "administrator", "user": self._bot_user()}
        return {"status": "member", "user": self._bot_user()}

    def _member(self, chat: ServerChat, user_id: int) -> JSON:
        if user_id == self.bot_id:
            return self._bot_member(chat)
        user = self._user(user_id)
        if chat.type == "private":
            return {"status": "member" if user_id == chat.id else "left", "user": user}
        if chat.admins and user_id == chat.admins[0]:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in chat.admins:
            return {**_ADMIN_RIGHTS, "status": "administrator", "user": user}
        if chat.members is not None and user_id not in chat.members:
            return {"status": "left", "user": user}
        return {"status": "member", "user": user}

    async def _get_chat_member(self, params: Params) -> JSON:
        chat = self._target(params, sending=False)
        user_id = params.get_int("user_id")
        if user_id is None:
            raise Rejected(400, "Bad Request: user_id is empty")
        return self._member(chat, user_id)

    async def _get_chat_administrators(self, params: Params) -> list[JSON]:
        chat = self._target(params, sending=False)
        if chat.type == "private":
            raise Rejected(400, "Bad Request: there are no administrators in the private chat")
        members = [self._member(chat, user_id) for user_id in chat.admins]
        if chat.type == "channel":
            members.append(self._member(chat, self.bot_id))
        return members
