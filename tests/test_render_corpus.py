"""Every entry of every feed in the shared corpus renders to a message Telegram accepts."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import asdict
from html import unescape
from typing import Any

import pytest

from bench.render import parse_corpus_file
from bot.models import DisplayOptions, Entry, MessageEntity, OutgoingMessage, SummaryMode
from bot.render import detect_boilerplate, render_entry
from bot.render.rich import fold
from tests.corpus import corpus_feed, corpus_feed_names, corpus_files
from tests.fakes.telegram_rules import check_caption, check_text, nesting_problem

OPTIONS = [
    DisplayOptions(),
    DisplayOptions(album=True, summary=SummaryMode.FULL),
    DisplayOptions(pictures=False, summary=SummaryMode.NONE),
]


def bot_api(entities: Iterable[MessageEntity]) -> list[dict[str, Any]]:
    """Entities as the Bot API receives them: unset optional fields left out."""
    return [{k: v for k, v in asdict(e).items() if v is not None} for e in entities]


def assert_accepted(message: OutgoingMessage) -> None:
    """Telegram's rules accept the text form and, when there are pictures, the caption form."""
    check_text(message.text, bot_api(message.entities))
    assert nesting_problem(bot_api(message.entities)) is None
    assert nesting_problem(bot_api(message.caption_entities)) is None
    if message.photo_urls:
        assert 1 <= len(message.photo_urls) <= 10
        assert all(url.startswith(("http://", "https://")) for url in message.photo_urls)
        check_caption(message.caption, bot_api(message.caption_entities))
    check_text(message.plain_text, [])


def holds_title_and_link(entry: Entry, message: OutgoingMessage, text: str) -> bool:
    """The title (or, untitled, the body's first words) heads the text; the link is in it."""
    title = fold(unescape(entry.title))[:20]  # the renderer decodes double-escaped references
    if title and not unescape(text).startswith(title):
        return False
    links = {e.url for e in message.entities if e.type == "text_link"}
    return not entry.link or fold(entry.link) in links or fold(entry.link)[:100] in text


@functools.cache
def _corpus_feed(name: str) -> tuple[str, tuple[Entry, ...]]:
    """(feed title, entries) of one corpus document, parsed once per session."""
    _, title, entries = parse_corpus_file(corpus_feed(name))
    return title, entries


@pytest.mark.parametrize("name", corpus_feed_names())
def test_corpus_feed_renders_acceptably(name: str) -> None:
    """Each entry, in each display mode, yields messages Telegram accepts, with title and link."""
    title, entries = _corpus_feed(name)
    boilerplate = detect_boilerplate(entries)
    for entry in entries:
        for options in OPTIONS:
            message = render_entry(
                entry, feed_title=title, options=options, boilerplate=boilerplate
            )
            assert_accepted(message)
            assert holds_title_and_link(entry, message, message.text), (name, entry.key)
            if message.photo_urls:
                assert holds_title_and_link(entry, message, message.caption), (name, entry.key)


def test_corpus_is_there() -> None:
    """The corpus is whole: forty-odd feeds, thousands of entries (none vacuously absent)."""
    names = [path.name for path in corpus_files()]
    assert len(names) >= 40
    assert sum(len(_corpus_feed(name)[1]) for name in names) > 2000
