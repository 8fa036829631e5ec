"""Who may change a chat's subscriptions: the one authorisation rule, for every path.

The rule (DESIGN.md, "One authorisation rule"; SPEC.md, "In groups and channels
only chat administrators may change subscriptions"), in ``refusal``:

1. With ``access.allowed_chats`` set, only a chat on the list may be changed.
2. A private chat only by its own user: in Telegram a private chat's id is its
   user's id, so the chat a user writes from is theirs and no other is.
3. A group, supergroup or channel only by the chat itself speaking (an anonymous
   group admin, whose message's ``sender_chat`` is the group; a channel post) or
   by a user whom Telegram (getChatMember) calls its creator or an administrator.
   A status Telegram cannot tell us grants nothing.

Reading a chat's subscriptions (/list) changes nothing, and whoever receives a
chat's deliveries sees them anyway, so ``read_refusal`` asks less: with
``allowed_chats`` set the chat must be on it; a command read in the chat it was sent
in is allowed to anyone there; a named chat (``/list @channel`` from a private chat)
only to its own user (a private chat) or to a member of the group or channel.

Every path applies it to the chat whose state would change: a command to its own
chat or to the chat it names (``@channel``, ``-100…``), and a button press to the
chat that owns the subscription in its callback data (``pressed_refusal``, which
answers a press on another chat's data exactly as one on data naming nothing). The
command line is outside: whoever runs it owns the database.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from telegram import Chat, ChatFullInfo, ChatMember, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

_ADMIN_STATUSES = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks for a change: a user, and the chat a message was sent on behalf of, if any."""

    user_id: int | None
    sender_chat_id: int | None = None


def actor_of(update: Update) -> Actor:
    """The sender of a command message: its user, and the chat it speaks for, if any."""
    message = update.effective_message
    sender_chat = message.sender_chat if message is not None else None
    user = update.effective_user
    return Actor(
        user.id if user is not None else None,
        sender_chat.id if sender_chat is not None else None,
    )


async def refusal(
    context: ContextTypes.DEFAULT_TYPE,
    chat: Chat | ChatFullInfo,
    actor: Actor,
    allowed_chats: Collection[int],
) -> str | None:
    """None when ``actor`` may change ``chat``'s subscriptions, else the reply key saying why not.

    Keys: ``not_allowed`` (outside ``allowed_chats``), ``not_your_chat`` (another
    user's private chat), ``admins_only`` (not an administrator of the group or
    channel, or Telegram could not say). Asks Telegram (getChatMember) only for
    groups and channels; never raises for Telegram's answers.
    """
    return await _rule(context, chat, actor, allowed_chats, _CHANGE)


_MEMBER_STATUSES = {*_ADMIN_STATUSES, ChatMemberStatus.MEMBER}


async def read_refusal(
    context: ContextTypes.DEFAULT_TYPE,
    chat: Chat | ChatFullInfo,
    actor: Actor,
    allowed_chats: Collection[int],
    *,
    here: bool,
) -> str | None:
    """None when ``actor`` may read ``chat``'s subscriptions, else the reply key saying why not.

    ``here``: the actor asks from inside ``chat`` (anyone there may read). Keys:
    ``not_allowed``, ``not_your_chat_read`` (another user's private chat),
    ``members_only_read`` (not a member of the group or channel, or Telegram could
    not say). Never raises for Telegram's answers.
    """
    if here and not (allowed_chats and chat.id not in allowed_chats):
        return None  # anyone in the chat may read it there
    return await _rule(context, chat, actor, allowed_chats, _READ)


@dataclass(frozen=True, slots=True)
class _Rule:
    """What a group or channel member must be, and the reply keys of a refusal."""

    passes: Callable[[ChatMember], bool]
    not_yours: str
    """Another user's private chat."""
    not_in: str
    """A group or channel the actor is not (enough) part of."""


_CHANGE = _Rule(lambda member: member.status in _ADMIN_STATUSES, "not_your_chat", "admins_only")
_READ = _Rule(
    lambda member: member.status in _MEMBER_STATUSES or bool(getattr(member, "is_member", False)),
    "not_your_chat_read",
    "members_only_read",
)


async def _rule(
    context: ContextTypes.DEFAULT_TYPE,
    chat: Chat | ChatFullInfo,
    actor: Actor,
    allowed_chats: Collection[int],
    rule: _Rule,
) -> str | None:
    """The rule of the module docstring for ``chat``; None or the refusal's reply key."""
    if allowed_chats and chat.id not in allowed_chats:
        return "not_allowed"
    if chat.type == ChatType.PRIVATE:
        return None if actor.user_id == chat.id else rule.not_yours
    if actor.sender_chat_id == chat.id:
        return None
    if actor.user_id is None:
        return rule.not_in
    try:
        member = await context.bot.get_chat_member(chat.id, actor.user_id)
    except TelegramError:
        return rule.not_in
    return None if rule.passes(member) else rule.not_in


async def pressed_refusal(
    context: ContextTypes.DEFAULT_TYPE,
    pressed_in: Chat,
    owner_id: int,
    user_id: int,
    allowed_chats: Collection[int],
    *,
    reading: bool = False,
) -> str | None:
    """None when a press in ``pressed_in`` by ``user_id`` may change chat ``owner_id``
    (the chat of the subscription or list its data names), else the reply key saying
    why not (see ``refusal``).

    Callback data is whatever the client sends, so the chat it names is checked
    against the chat the button was pressed in: it must be that chat, or the press
    must come from the presser's own private chat, where ``/unsub @channel`` and
    ``/set @channel 3`` put the keyboards of a group or channel they administer;
    then that chat is checked as a named target is. Any other press, and any refused
    press on another chat's data, is answered ``button_stale``, exactly as data that
    names nothing: a forged id never reaches another chat, nor tells whether it exists.
    ``reading``: the press only shows the chat's subscriptions (``read_refusal``).
    """
    actor = Actor(user_id)
    if owner_id == pressed_in.id:
        if reading:
            return await read_refusal(context, pressed_in, actor, allowed_chats, here=True)
        return await refusal(context, pressed_in, actor, allowed_chats)
    if pressed_in.type != ChatType.PRIVATE or pressed_in.id != user_id:
        return "button_stale"
    try:
        owner = await context.bot.get_chat(owner_id)
    except TelegramError:
        return "button_stale"
    if reading:
        refused = await read_refusal(context, owner, actor, allowed_chats, here=False)
    else:
        refused = await refusal(context, owner, actor, allowed_chats)
    return None if refused is None else "button_stale"
