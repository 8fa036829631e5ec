"""/export and /import: a chat's subscriptions as an OPML file, and back.

/import works two ways, as Telegram users send files: an OPML document whose
caption is ``/import`` (Telegram runs no command handler on captions, so a
message handler matches it), or ``/import`` sent in reply to such a document.
The file is checked against ``MAX_OPML_BYTES`` before it is downloaded, and at
most ``access.max_subscriptions_per_chat`` outlines are read. Feeds are
subscribed one after the other through ``bot.services.backup.import_document``
(``subscribe_all`` enforces the per-chat limit and gives each failure its reason),
which also restores the filters, pauses and display options a newsrelay export
carries (``bot.opml_options``). The report adds what the lenient OPML reader
repaired or left out, and what the file gave that was refused.
"""

from __future__ import annotations

import logging
import re

from telegram import Document, Update
from telegram.error import TelegramError

from bot.cadence import MAX_ASKED_INTERVAL
from bot.commands.common import (
    CommandError,
    Context,
    command,
    command_args,
    reply,
    reply_lines,
    resolve_target,
    services_of,
    thread_of,
)
from bot.commands.import_report import note_lines, restore_lines
from bot.commands.subscriptions import result_line
from bot.i18n import t
from bot.i18n.refusals import opml_failure_text
from bot.logs import event
from bot.opml import MAX_OPML_BYTES, OpmlError, read_opml
from bot.opml_options import write_backup
from bot.replies import Reply
from bot.services.backup import import_document
from bot.services.subscriptions import NotSubscribed, Subscribed, release_backlog

log = logging.getLogger(__name__)
IMPORT_CAPTION = re.compile(r"^/import(?:@(\w+))?(?:\s|$)", re.IGNORECASE)


async def _send_document(
    update: Update, context: Context, data: bytes, filename: str, caption: str
) -> None:
    """Send a file where the command came from, on the chat's send slots like ``reply``."""
    message = update.effective_message
    replier = services_of(context).replier
    if message is None or replier is None:
        return
    await replier.send_document(Reply(message.chat_id, caption, thread_of(message)), data, filename)


@command
async def export(update: Update, context: Context) -> None:
    """The chat's subscriptions, with their settings and the chat's filter, as OPML 2.0."""
    args = command_args(context)
    target = await resolve_target(update, context, args)
    services = services_of(context)
    subscriptions = await services.store.list_subscriptions(target.chat_id)
    if not subscriptions:
        raise CommandError(t(target.lang, "list_empty"))
    chat = await services.store.get_chat(target.chat_id)
    name = (chat.title if chat is not None else "") or str(target.chat_id)
    data = write_backup(
        f"newsrelay: {name}",
        subscriptions,
        chat_filter=chat.filter_expr if chat is not None else "",
        time_zone=chat.timezone if chat is not None else None,
        created=services.clock(),
    )
    caption = t(target.lang, "export_caption", count=len(subscriptions), chat=name)
    await _send_document(update, context, data, f"newsrelay-{target.chat_id}.opml", caption)


@command
async def import_command(update: Update, context: Context) -> None:
    """``/import`` sent in reply to an OPML file."""
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    document = replied.document if replied is not None else None
    args = command_args(context)
    if document is None:
        target = await resolve_target(update, context, args)
        raise CommandError(t(target.lang, "import_usage"))
    await _import(update, context, args, document)


@command
async def import_caption(update: Update, context: Context) -> None:
    """An OPML file sent with ``/import`` as its caption."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    found = IMPORT_CAPTION.match(message.caption or "")
    if found is None:
        return
    addressed = found.group(1)
    if addressed and addressed.lower() != (context.bot.username or "").lower():
        return  # "/import@OtherBot": not for us
    args = (message.caption or "").split()[1:]
    await _import(update, context, args, message.document)


async def _download(context: Context, document: Document, lang: str) -> bytes:
    if document.file_size is not None and document.file_size > MAX_OPML_BYTES:
        raise CommandError(t(lang, "import_too_big", limit=MAX_OPML_BYTES // 1024))
    try:
        file = await context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        # Telegram's own words (or a proxy's) never reach the chat; the log has them.
        event(log, logging.WARNING, "import_download_failed", error=exc.message)
        raise CommandError(t(lang, "import_download_failed")) from exc
    if len(data) > MAX_OPML_BYTES:
        raise CommandError(t(lang, "import_too_big", limit=MAX_OPML_BYTES // 1024))
    return data


async def _import(update: Update, context: Context, args: list[str], document: Document) -> None:
    target = await resolve_target(update, context, args)
    services = services_of(context)
    limit = services.settings.access.max_subscriptions_per_chat
    data = await _download(context, document, target.lang)
    try:
        opml = read_opml(data, max_outlines=limit)
    except OpmlError as exc:
        reason = opml_failure_text(target.lang, exc)
        raise CommandError(t(target.lang, "import_bad", reason=reason)) from exc
    notes = note_lines(target.lang, opml.notes)
    if not opml.outlines:
        raise CommandError("\n".join([t(target.lang, "import_empty"), *notes]))
    await reply(update, context, t(target.lang, "import_start", count=len(opml.outlines)))
    outcome = await import_document(
        services, target.chat_id, target.thread_id, opml, max_interval=MAX_ASKED_INTERVAL
    )
    results = outcome.results
    failed = sum(isinstance(result, NotSubscribed) for result in results)
    existing = sum(isinstance(result, Subscribed) and result.existed for result in results)
    counts = {"new": len(results) - failed - existing, "existing": existing, "failed": failed}
    head = [t(target.lang, "import_done", **counts)]
    if opml.truncated:
        head.append(t(target.lang, "import_truncated", count=len(opml.outlines)))
    # What went wrong or was restored comes before the per-feed lines, which a long
    # import may have cut (``reply`` sends at most three messages).
    head += notes + restore_lines(target.lang, outcome.restored)
    lines = [result_line(target.lang, result) for result in results]
    await reply_lines(update, context, head + lines)
    await release_backlog(services, results)
