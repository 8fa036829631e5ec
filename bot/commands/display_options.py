"""/set: a subscription's display options, toggled on an inline keyboard, and its interval."""

from __future__ import annotations

import dataclasses

from telegram import InlineKeyboardMarkup, Update

from bot.cadence import MAX_ASKED_INTERVAL
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
from bot.durations import duration_text, parse_duration
from bot.i18n import t
from bot.models import DisplayOptions, Subscription, SummaryMode
from bot.services import Services

_INTERVAL_WORDS = frozenset({"interval", "every", "间隔"})
_DEFAULT_WORDS = frozenset({"default", "默认"})

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
    services = services_of(context)
    sub = await find_subscription(services, target.chat_id, args[0], target.lang)
    if len(args) > 1:
        # ID interval N; "1 小时" and "10 min" arrive as two arguments
        if len(args) not in {3, 4} or args[1].lower() not in _INTERVAL_WORDS:
            raise CommandError(t(target.lang, "set_usage"))
        value = " ".join(args[2:])
        await reply(update, context, await _set_interval(services, sub, value, target.lang))
        return
    every = sub.interval_seconds or services.settings.polling.effective_interval
    head = t(target.lang, "set_head", number=sub.number, title=sub.title or sub.url)
    hint = t(target.lang, "set_every", every=duration_text(target.lang, every), number=sub.number)
    await reply(update, context, f"{head}\n{hint}", options_keyboard(sub, target.lang))


async def _set_interval(services: Services, sub: Subscription, value: str, lang: str) -> str:
    """Record the interval ``value`` asks for (or the default); the reply's text.

    Raises CommandError for a value that is no duration or outside the bounds: never
    below ``polling.min_interval_seconds``, never above ``MAX_ASKED_INTERVAL``.
    """
    title, polling = sub.title or sub.url, services.settings.polling
    if value.lower() in _DEFAULT_WORDS:
        await services.store.set_subscription_interval(sub.id, None)
        every = duration_text(lang, polling.effective_interval)
        return t(lang, "set_interval_default", number=sub.number, title=title, every=every)
    seconds = parse_duration(value)
    if seconds is None:
        raise CommandError(t(lang, "set_interval_bad", what=value))
    if seconds < polling.min_interval_seconds:
        raise CommandError(
            t(lang, "set_interval_low", every=duration_text(lang, polling.min_interval_seconds))
        )
    if seconds > MAX_ASKED_INTERVAL:
        raise CommandError(
            t(lang, "set_interval_high", every=duration_text(lang, MAX_ASKED_INTERVAL))
        )
    # A shorter interval applies from now, not from the check already planned.
    due_by = services.clock() + seconds
    await services.store.set_subscription_interval(sub.id, seconds, due_by=due_by)
    every = duration_text(lang, seconds)
    return t(lang, "set_interval_ok", number=sub.number, title=title, every=every)


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
