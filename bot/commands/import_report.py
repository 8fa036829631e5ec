"""The lines /import adds to its report: the OPML reader's notes and what the file restored.

Both lists are bounded (a hostile file may carry thousands of notes or refused
values): the first ``MAX_NOTES_SHOWN`` notes and ``MAX_REFUSALS_SHOWN`` refused
values are shown, then one line says how many more there were. Every line is in
the chat's language; the reader's English notes are worded here from their kind.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import plain, t
from bot.i18n.failures import fetch_failure_text
from bot.i18n.refusals import refusal_text
from bot.opml import NoteKind, OutlineNote
from bot.opml_options import written_name
from bot.services.backup import Restored

MAX_NOTES_SHOWN = 10
MAX_REFUSALS_SHOWN = 20


def note_line(lang: str, note: OutlineNote) -> str:
    """One note of the lenient OPML reader, in ``lang``."""
    if note.kind is NoteKind.NOT_WELL_FORMED or not note.line:
        return t(lang, "import_note_not_well_formed")
    if note.name:
        where = plain(lang, "import_note_at", line=note.line, name=note.name)
    else:
        where = plain(lang, "import_note_line", line=note.line)
    return t(lang, f"import_note_{note.kind.value}", where=where)


def note_lines(lang: str, notes: Sequence[OutlineNote]) -> list[str]:
    """A head line and the first notes, bounded; nothing for a sound file."""
    if not notes:
        return []
    lines = [t(lang, "import_notes_head")]
    lines += [note_line(lang, note) for note in notes[:MAX_NOTES_SHOWN]]
    if len(notes) > MAX_NOTES_SHOWN:
        lines.append(t(lang, "import_notes_more", count=len(notes) - MAX_NOTES_SHOWN))
    return lines


def restore_lines(lang: str, outcome: Restored) -> list[str]:
    """What the file's settings did: chat filter, how many restored, refused values, resumes."""
    lines = []
    if outcome.chat_filter:
        lines.append(t(lang, "restore_chat_filter", expr=outcome.chat_filter))
    if outcome.time_zone:
        lines.append(t(lang, "restore_time_zone", zone=outcome.time_zone))
    if outcome.restored:
        lines.append(t(lang, "restore_done", count=outcome.restored, paused=outcome.paused))
    for refused in outcome.refused[:MAX_REFUSALS_SHOWN]:
        attribute = written_name(refused.refusal.attribute)
        reason = refusal_text(lang, refused.refusal)
        sub = refused.subscription
        if sub is None:
            lines.append(t(lang, "restore_chat_refused", attribute=attribute, reason=reason))
        else:
            title = sub.title or sub.url
            lines.append(
                t(
                    lang,
                    "restore_refused",
                    number=sub.number,
                    title=title,
                    attribute=attribute,
                    reason=reason,
                )
            )
    if len(outcome.refused) > MAX_REFUSALS_SHOWN:
        lines.append(t(lang, "restore_more", count=len(outcome.refused) - MAX_REFUSALS_SHOWN))
    for resumed in outcome.resumed:
        if resumed.error is not None:
            reason = fetch_failure_text(lang, resumed.error)
            lines.append(
                t(lang, "resume_unchecked", number=resumed.subscription.number, reason=reason)
            )
    return lines
