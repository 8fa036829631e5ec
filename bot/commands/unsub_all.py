"""/unsub all: asks first, and removes everything only when someone allowed to confirms.

The question carries two buttons, ``unsuball:<token>:yes`` and ``…:no``
(``bot.commands.pending``). A press is refused unless its token was shown in the
chat it is pressed in and the presser may change the chat the question is about
(``rights.pressed_refusal``: the private chat's user, or an administrator of the
group or channel); it is spent by the first allowed press, so a second press, an
expired question (``CONFIRM_SECONDS``), one from before a restart and forged data
all get the same clear answer (``confirm_stale``).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.commands.buttons import ButtonRefused, Press, button, pressed_pending
from bot.commands.common import CommandError, Context, Target, reply, services_of
from bot.commands.pending import Pending, pending_book
from bot.i18n import plain, t
from bot.i18n.values import LABEL_UNITS, shown
from bot.replies import Reply

CONFIRM_SECONDS = 600.0
"""How long the question stays open."""


async def ask_unsub_all(update: Update, context: Context, target: Target) -> None:
    """Ask whether to remove every subscription of ``target`` (whose rights were checked)."""
    services = services_of(context)
    message = update.effective_message
    count = await services.store.count_subscriptions(target.chat_id)
    if message is None or count == 0:
        raise CommandError(t(target.lang, "list_empty"))
    token = pending_book(context).offer(
        Pending(
            "unsub_all",
            shown_in=message.chat_id,
            chat_id=target.chat_id,
            thread_id=target.thread_id,
            expires=services.clock() + CONFIRM_SECONDS,
        )
    )
    yes = shown(plain(target.lang, "unsub_all_yes", count=count), LABEL_UNITS)
    no = shown(plain(target.lang, "unsub_all_no"), LABEL_UNITS)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(yes, callback_data=f"unsuball:{token}:yes"),
                InlineKeyboardButton(no, callback_data=f"unsuball:{token}:no"),
            ]
        ]
    )
    await reply(update, context, t(target.lang, "unsub_all_confirm", count=count), markup)


@button("unsuball", fields=2)
async def unsub_all_button(press: Press) -> str | None:
    """A press on the question: remove everything (``yes``) or nothing (``no``), once."""
    token, choice = press.fields
    if choice not in {"yes", "no"}:
        raise ButtonRefused("confirm_stale")
    question, message = await pressed_pending(press, token, "unsub_all", "confirm_stale")
    services = services_of(press.context)
    if choice == "yes":
        count = await services.store.remove_all_subscriptions(question.chat_id)
        text = t(press.lang, "unsub_all", count=count)
    else:
        text = t(press.lang, "unsub_all_cancelled")
    if services.replier is not None:
        await services.replier.send(Reply(message.chat.id, text, edit_of=message.message_id))
    return None
