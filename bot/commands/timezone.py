"""/tz: the time zone a chat's times are shown in (delivered entries, /list, this reply)."""

from __future__ import annotations

from telegram import Update

from bot.commands.common import (
    CommandError,
    Context,
    command,
    command_args,
    is_chat_ref,
    reply,
    resolve_target,
    services_of,
)
from bot.i18n import t
from bot.zones import local_time, zone, zone_name


@command
async def tz(update: Update, context: Context) -> None:
    """Show or set the chat's time zone (an IANA Area/City name; ``UTC`` resets it)."""
    args = command_args(context)
    services = services_of(context)
    # "/tz @channel" shows the channel's zone; "-8" is someone's UTC offset, not a chat.
    if not args or (len(args) == 1 and is_chat_ref(args[0]) and len(args[0]) > 3):
        target = await resolve_target(update, context, args, reading=True)
        stored = await services.store.get_chat(target.chat_id)
        name = stored.timezone if stored is not None and stored.timezone else "UTC"
        now = local_time(services.clock(), zone(name))
        await reply(update, context, t(target.lang, "tz_current", zone=name, time=now))
        return
    target = await resolve_target(update, context, args)
    chosen = zone_name(args[0]) if len(args) == 1 else None
    if chosen is None:
        raise CommandError(t(target.lang, "tz_bad", name=" ".join(args)))
    await services.store.set_chat_timezone(target.chat_id, None if chosen == "UTC" else chosen)
    now = local_time(services.clock(), zone(chosen))
    await reply(update, context, t(target.lang, "tz_set", zone=chosen, time=now))
