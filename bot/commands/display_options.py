"""/set: a subscription's display options, toggled on an inline keyboard."""

from __future__ import annotations

import dataclasses

from telegram import InlineKeyboardMarkup, Update

from bot.commands.buttons import ButtonRefused, Press, button, edit, pressed_subscription
from bot.commands.common import (
    CommandError,
    Context,
    command,
    command_args,
    find_subscription,
    keyboard,
    reply,
    resolve_target,
    services_of,
)
from bot.i18n import t
from bot.models import DisplayOptions, Subscription, SummaryMode

_SUMMARY_CYCLE = {
    SummaryMode.SHORT: SummaryMode.FULL,
    SummaryMode.FULL: SummaryMode.NONE,
    SummaryMode.NONE: SummaryMode.SHORT,
}


def _state(lang: str, value: bool) -> str:
    return t(lang, "on" if value else "off")


def options_keyboard(sub: Subscription, lang: str) -> InlineKeyboardMarkup:
    """One button per option; pressing it flips (or cycles) that option."""
    options = sub.options
    rows = [
        ("pictures", t(lang, "set_pictures", state=_state(lang, options.pictures))),
        ("album", t(lang, "set_album", state=_state(lang, options.album))),
        ("preview", t(lang, "set_preview", state=_state(lang, options.link_preview))),
        ("summary", t(lang, "set_summary", state=t(lang, f"summary_{options.summary.value}"))),
    ]
    return keyboard([(label, f"set:{sub.id}:{name}") for name, label in rows])


def toggled(options: DisplayOptions, name: str) -> DisplayOptions | None:
    """The options with ``name`` flipped or cycled; None for a name that is no option."""
    if name == "pictures":
        return dataclasses.replace(options, pictures=not options.pictures)
    if name == "album":
        return dataclasses.replace(options, album=not options.album)
    if name == "preview":
        return dataclasses.replace(options, link_preview=not options.link_preview)
    if name == "summary":
        return dataclasses.replace(options, summary=_SUMMARY_CYCLE[options.summary])
    return None


@command
async def set_command(update: Update, context: Context) -> None:
    """Show the display options of one subscription as a keyboard."""
    args = command_args(context)
    target = await resolve_target(update, context, args)
    if not args:
        raise CommandError(t(target.lang, "set_usage"))
    sub = await find_subscription(services_of(context), target.chat_id, args[0], target.lang)
    await reply(
        update,
        context,
        t(target.lang, "set_head", number=sub.number, title=sub.title or sub.url),
        options_keyboard(sub, target.lang),
    )


@button("set", fields=2)
async def set_button(press: Press) -> str | None:
    """A press on the /set keyboard: flip the option and redraw the keyboard."""
    sub = await pressed_subscription(press, press.fields[0])
    options = toggled(sub.options, press.fields[1])
    if options is None:
        raise ButtonRefused("button_stale")
    await services_of(press.context).store.set_subscription_options(sub.id, options)
    redrawn = options_keyboard(dataclasses.replace(sub, options=options), press.lang)
    await edit(press.query.edit_message_reply_markup(redrawn))
    return None
