"""What is said to the bot that is no known command: feed addresses, other text, unknown commands.

- In a private chat, a message made only of feed addresses (what ``/sub`` would take)
  is answered with a button that subscribes the chat to them; any other text, and an
  unknown command, gets a one-line hint.
- In a group or channel the bot answers only what is addressed to it, as Telegram's
  privacy mode would deliver (Bot API, "Privacy mode"): a command naming the bot
  (``/foo@NewsRelayBot``) or a message replying to one of the bot's own. A bot that is
  an administrator, or has privacy mode off, sees every message; the chatter of the
  group's members is not for it, and a bare ``/foo`` may be meant for another bot.

The subscribe button's data is ``subscribe:<token>`` (``bot.commands.pending``): the
addresses stay on the server, the press is checked against the chat the button was
shown in and the rights rule at press time, and the token is spent by the first press.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType

from bot.commands.buttons import Press, button, pressed_pending
from bot.commands.common import Context, Target, command, language, reply, services_of
from bot.commands.pending import Pending, pending_book
from bot.commands.subscriptions import subscribe_and_report
from bot.i18n import plain, t
from bot.i18n.values import LABEL_UNITS, shown
from bot.replies import Reply
from bot.services.subscriptions import normalise_url

MAX_OFFERED = 50
"""Addresses one message may offer at once; a longer list is better sent with /sub."""
OFFER_SECONDS = 24 * 3600.0
"""How long a subscribe button works."""


def feed_addresses(text: str) -> list[str] | None:
    """The addresses in ``text`` when it is made only of addresses /sub would take, else None."""
    words = text.split()
    if not 1 <= len(words) <= MAX_OFFERED:
        return None
    if any(normalise_url(word) is None for word in words):
        return None
    return list(dict.fromkeys(words))


def _to_this_bot(message: Message, context: Context) -> bool:
    """Whether a group or channel message is addressed to the bot: it replies to one of the
    bot's messages, or is a command naming the bot (``/foo@bot``)."""
    replied = message.reply_to_message
    author = replied.from_user if replied is not None else None
    if author is not None and author.id == context.bot.id:
        return True
    word = message.text.split(maxsplit=1)[0] if message.text else ""
    _, at, name = word.partition("@")
    return bool(at) and name.lower() == (context.bot.username or "").lower()


@command
async def unknown_command(update: Update, context: Context) -> None:
    """A command no handler took: a one-line hint, where the command was meant for the bot."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    word = message.text.split(maxsplit=1)[0]
    name, at, bot_name = word.partition("@")
    if at and bot_name.lower() != (context.bot.username or "").lower():
        return  # another bot's command
    if message.chat.type != ChatType.PRIVATE and not _to_this_bot(message, context):
        return
    lang = await language(services_of(context), update)
    await reply(update, context, t(lang, "hint_command", command=name))


@command
async def plain_text(update: Update, context: Context) -> None:
    """Text that is no command: feed addresses get a subscribe button, the rest a hint."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    private = message.chat.type == ChatType.PRIVATE
    if not private and not _to_this_bot(message, context):
        return
    services = services_of(context)
    lang = await language(services, update)
    urls = feed_addresses(message.text) if private else None
    if not urls:
        await reply(update, context, t(lang, "hint_text" if private else "hint_group"))
        return
    token = pending_book(context).offer(
        Pending(
            "subscribe",
            shown_in=message.chat_id,
            chat_id=message.chat_id,
            thread_id=None,
            expires=services.clock() + OFFER_SECONDS,
            urls=tuple(urls),
        )
    )
    if len(urls) == 1:
        text = t(lang, "offer_one", url=urls[0])
    else:
        text = t(lang, "offer_many", count=len(urls))
    label = shown(plain(lang, "offer_button", count=len(urls)), LABEL_UNITS)
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"subscribe:{token}")]]
    )
    await reply(update, context, text, markup)


@button("subscribe", fields=1)
async def subscribe_button(press: Press) -> str | None:
    """A press on an offer's button: subscribe the chat to the addresses it was shown for.

    Refused as stale (exactly as forged data) when the token names nothing, expired,
    was spent, or was shown in another chat; refused by the rights rule otherwise.
    """
    offer, message = await pressed_pending(press, press.fields[0], "subscribe", "button_stale")
    services = services_of(press.context)
    await press.answer_now()
    chat = message.chat  # offers are made in private chats, for the chat itself
    await services.store.ensure_chat(chat.id, kind=chat.type, title=chat.full_name or "")
    if services.replier is not None and isinstance(message, Message) and message.text:
        # The button goes: the offer is taken, and the message says what it offered.
        edit = Reply(message.chat.id, message.text_html, edit_of=message.message_id)
        await services.replier.send(edit)
    target = Target(offer.chat_id, offer.thread_id, press.lang)
    await subscribe_and_report(press.update, press.context, target, offer.urls)
    return None
