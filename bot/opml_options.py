"""newsrelay's own OPML attributes: what a backup says about each subscription, out and in.

An export names every subscription's filter, pause and display options in
attributes of our own namespace, so that ``/import`` of the file (in any chat, or
``newsrelay import-opml`` on another database) restores them. The OPML 2.0
specification allows elements and attributes it does not describe only in a
namespace; readers that do not know one ignore it, so the file stays a plain
subscription list to every other app.

Namespace ``https://newsrelay.invalid/opml/1`` (prefix ``newsrelay``). The name is
ours alone and never fetched: ``.invalid`` is reserved and never resolves (RFC
2606). A reader recognises it by the namespace, whatever prefix a file binds to
it. An incompatible change would get a new namespace (``/2``); new attributes
may be added to this one, and readers ignore those they do not know.

On ``<outline>`` (all written on every export, so that a restore is exact):

========================  =====================================================
``newsrelay:filter``      the subscription's filter, canonical ("" = no filter)
``newsrelay:paused``      ``true`` or ``false``
``newsrelay:pictures``    ``true`` or ``false``
``newsrelay:album``       ``true`` or ``false`` (up to ten pictures as an album)
``newsrelay:linkPreview`` ``true`` or ``false``
``newsrelay:summary``     ``full``, ``short`` or ``none``
``newsrelay:interval``    the check interval it asked for (``/set ID interval``),
                          seconds, or ``default``
========================  =====================================================

On ``<opml>``, each written only when the chat has it (an import sets a chat's
setting from a file, never clears it): ``newsrelay:chatFilter``, the chat-wide
filter, and ``newsrelay:timeZone``, the chat's ``/tz`` (an IANA name, checked
against the database as ``/tz`` does).

Reading takes the values as untrusted input. A filter goes through
``compile_filter``, the parser and guards ``/filter`` uses (length, term count,
RE2 with a memory cap), and is kept in its canonical form. A flag is ``true`` or
``false`` (``1`` and ``0`` too: XML Schema's ``boolean``), a summary one of
its three words, an interval ``default`` or a duration as ``/set ID interval``
reads it (``3600``, ``30m``, ``2h``; the importing bot's bounds are checked by
``bot.services.backup``); case and surrounding spaces do not matter. A value refused is
listed with why (``Refusal``) and the others still apply; an attribute that is
absent leaves that setting as it is; attributes of our namespace that this
version does not know (a newer one's) are ignored, as are other namespaces'.
Where one outline names an attribute twice (two prefixes bound to our
namespace), the first one counts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.durations import parse_duration
from bot.filters import FilterSyntaxError, compile_filter
from bot.models import DisplayOptions, Subscription, SummaryMode
from bot.opml import OpmlDocument, Outline, write_opml
from bot.xml_namespaces import Extensions
from bot.zones import zone_name

NAMESPACE = "https://newsrelay.invalid/opml/1"
PREFIX = "newsrelay"

FILTER = "filter"
PAUSED = "paused"
PICTURES = "pictures"
ALBUM = "album"
LINK_PREVIEW = "linkPreview"
SUMMARY = "summary"
INTERVAL = "interval"
DEFAULT_INTERVAL = "default"
CHAT_FILTER = "chatFilter"
TIME_ZONE = "timeZone"

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
BOOLEAN_WORDS = ("true", "false")
SUMMARY_WORDS = tuple(mode.value for mode in SummaryMode)
T = TypeVar("T")


def qualified_name(local: str) -> str:
    """``local`` in our namespace, as ``bot.opml`` names namespaced attributes."""
    return f"{{{NAMESPACE}}}{local}"


def written_name(local: str) -> str:
    """``local`` as our exports write it (``newsrelay:local``), for reports."""
    return f"{PREFIX}:{local}"


@dataclass(frozen=True, slots=True)
class Refusal:
    """One attribute value that was not taken, and why."""

    attribute: str
    """Its local name in our namespace (``filter``, ``summary``…)."""
    value: str
    """As the file has it (unbounded: whoever shows it bounds it)."""
    filter_error: FilterSyntaxError | None = None
    """Why the filter parser refused it, for a filter."""
    expected: tuple[str, ...] = ()
    """The words the attribute takes, for a value that is none of them."""
    bounds: tuple[int, int] | None = None
    """The shortest and longest interval allowed, seconds, for one outside them."""


@dataclass(frozen=True, slots=True)
class SavedSettings:
    """What one outline says about its subscription; None where it says nothing."""

    filter_expr: str | None = None
    """Canonical (``CompiledFilter.expression``); "" clears the filter."""
    paused: bool | None = None
    pictures: bool | None = None
    album: bool | None = None
    link_preview: bool | None = None
    summary: SummaryMode | None = None
    interval: int | None = None
    """Seconds; 0 for "the default" (the subscription asks for none)."""
    refused: tuple[Refusal, ...] = ()

    @property
    def says_anything(self) -> bool:
        """Whether any setting was given and taken."""
        return any(
            value is not None
            for value in (
                self.filter_expr,
                self.paused,
                self.pictures,
                self.album,
                self.link_preview,
                self.summary,
                self.interval,
            )
        )

    def options(self, current: DisplayOptions) -> DisplayOptions:
        """``current`` with the options this outline gives put in."""
        return DisplayOptions(
            pictures=current.pictures if self.pictures is None else self.pictures,
            album=current.album if self.album is None else self.album,
            link_preview=current.link_preview if self.link_preview is None else self.link_preview,
            summary=current.summary if self.summary is None else self.summary,
        )


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """What the document says about the whole chat."""

    filter_expr: str | None = None
    """The chat-wide filter, canonical; None when the file gives none (or it was refused)."""
    time_zone: str | None = None
    """The IANA name of the chat's time zone; None when the file gives none (or refused)."""
    refused: tuple[Refusal, ...] = ()


def _ours(extensions: Extensions) -> dict[str, str]:
    """Our namespace's attributes by local name; the first of a repeated name counts."""
    found: dict[str, str] = {}
    prefix = f"{{{NAMESPACE}}}"
    for name, value in extensions:
        if name.startswith(prefix):
            found.setdefault(name[len(prefix) :], value)
    return found


def _filter(attribute: str, value: str) -> str | Refusal:
    try:
        return compile_filter(value).expression
    except FilterSyntaxError as exc:
        return Refusal(attribute, value, filter_error=exc)


def _flag(attribute: str, value: str) -> bool | Refusal:
    word = value.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    return Refusal(attribute, value, expected=BOOLEAN_WORDS)


def _summary(attribute: str, value: str) -> SummaryMode | Refusal:
    try:
        return SummaryMode(value.strip().lower())
    except ValueError:
        return Refusal(attribute, value, expected=SUMMARY_WORDS)


def _interval(attribute: str, value: str) -> int | Refusal:
    word = value.strip().lower()
    if word == DEFAULT_INTERVAL:
        return 0
    seconds = parse_duration(word)
    if seconds is None or seconds < 1:
        return Refusal(attribute, value)
    return seconds


def outline_settings(outline: Outline) -> SavedSettings:
    """What ``outline``'s attributes in our namespace say; nothing for another app's outline."""
    ours = _ours(outline.extensions)
    refused: list[Refusal] = []

    def given(local: str, read: Callable[[str, str], T | Refusal]) -> T | None:
        value = ours.get(local)
        if value is None:
            return None
        result = read(local, value)
        if isinstance(result, Refusal):
            refused.append(result)
            return None
        return result

    settings = SavedSettings(
        filter_expr=given(FILTER, _filter),
        paused=given(PAUSED, _flag),
        pictures=given(PICTURES, _flag),
        album=given(ALBUM, _flag),
        link_preview=given(LINK_PREVIEW, _flag),
        summary=given(SUMMARY, _summary),
        interval=given(INTERVAL, _interval),
    )
    return dataclasses.replace(settings, refused=tuple(refused))


def chat_settings(document: OpmlDocument) -> ChatSettings:
    """What the document's root says about the whole chat (its filter and time zone)."""
    ours = _ours(document.extensions)
    refused: list[Refusal] = []
    filter_expr = ours.get(CHAT_FILTER)
    if filter_expr is not None:
        result = _filter(CHAT_FILTER, filter_expr)
        filter_expr = None if isinstance(result, Refusal) else result
        refused += [result] if isinstance(result, Refusal) else []
    time_zone = ours.get(TIME_ZONE)
    if time_zone is not None:
        name = zone_name(time_zone.strip())
        if name is None:
            refused.append(Refusal(TIME_ZONE, time_zone))
        time_zone = name
    return ChatSettings(filter_expr, time_zone, tuple(refused))


def _word(flag: bool) -> str:
    return BOOLEAN_WORDS[0] if flag else BOOLEAN_WORDS[1]


def backup_outline(sub: Subscription) -> Outline:
    """The outline of one subscription, with every setting it has in our attributes."""
    options = sub.options
    values = (
        (FILTER, sub.filter_expr),
        (PAUSED, _word(sub.paused)),
        (PICTURES, _word(options.pictures)),
        (ALBUM, _word(options.album)),
        (LINK_PREVIEW, _word(options.link_preview)),
        (SUMMARY, options.summary.value),
        (INTERVAL, str(sub.interval_seconds) if sub.interval_seconds else DEFAULT_INTERVAL),
    )
    return Outline(sub.url, sub.title, extensions=tuple((qualified_name(k), v) for k, v in values))


def write_backup(
    title: str,
    subscriptions: Sequence[Subscription],
    *,
    chat_filter: str,
    time_zone: str | None,
    created: float,
) -> bytes:
    """An OPML 2.0 document of the subscriptions and their settings (UTF-8 bytes).

    ``chat_filter`` is the chat-wide filter ("" for none) and ``time_zone`` the chat's
    IANA zone (None for UTC): each is written only when set. ``created`` is Unix seconds.
    """
    chat = ((CHAT_FILTER, chat_filter), (TIME_ZONE, time_zone or ""))
    root = tuple((qualified_name(name), value) for name, value in chat if value)
    return write_opml(
        title,
        [backup_outline(sub) for sub in subscriptions],
        created=created,
        namespaces={PREFIX: NAMESPACE},
        extensions=root,
    )
