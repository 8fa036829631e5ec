"""The message layout: title link, feed line, time, summary modes, tags, alerts, pictures."""

# Full-width CJK punctuation and typographic dashes are the data under test here.

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.models import DisplayOptions, Entry, MessageEntity, SummaryMode
from bot.render import render_entry, utf16_len
from bot.render.layout import hashtags

LINK = "https://example.com/posts/1"


def entry(**fields: object) -> Entry:
    """An entry with sensible defaults, overridden per test."""
    values: dict[str, object] = {"key": "k", "title": "Title", "link": LINK}
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]  # test data, checked by the dataclass


def covered(text: str, e: MessageEntity) -> str:
    """The text an entity covers (test texts here are all in the BMP)."""
    return text[e.offset : e.offset + e.length]


def test_header_title_link_feed_and_time() -> None:
    """The bold title links to the entry; the feed name and local time follow."""
    published = datetime(2022, 1, 11, 1, 33, 44, tzinfo=UTC)
    message = render_entry(
        entry(title="俄国称无意入侵乌克兰", published=published),
        feed_title="德国之声 DW",
        tz=timezone(timedelta(hours=8)),
    )
    assert message.text.startswith("俄国称无意入侵乌克兰\n德国之声 DW · 2022-01-11 09:33 UTC+08:00")
    kinds = {(e.type, covered(message.text, e), e.url) for e in message.entities}
    assert ("bold", "俄国称无意入侵乌克兰", None) in kinds
    assert ("text_link", "俄国称无意入侵乌克兰", LINK) in kinds
    assert message.plain_text == f"俄国称无意入侵乌克兰\n{LINK}"


def test_title_with_markup_characters_stays_literal() -> None:
    """A title is plain text: < and & are shown as they are, never parsed."""
    message = render_entry(entry(title="<草根网> AT&T & <b>"), feed_title="F")
    assert message.text.startswith("<草根网> AT&T & <b>\n")


def test_double_escaped_numeric_reference_in_title_is_decoded() -> None:
    """hnapp-style titles carrying a literal &#8211; show the dash."""
    message = render_entry(entry(title="37 &#8211; Spectre"), feed_title="F")
    assert message.text.startswith("37 – Spectre")


def test_untitled_entry_takes_first_words_of_body() -> None:
    """A tweet-style item without a title is headed by the start of its text."""
    body = "<p>" + "Lots of words in this tweet-style post " * 10 + "</p>"
    message = render_entry(entry(title="", content_html=body), feed_title="F")
    first_line = message.text.split("\n")[0]
    assert first_line.startswith("Lots of words in this")
    assert first_line.endswith("…")
    assert utf16_len(first_line) <= 80
    assert MessageEntity("text_link", 0, len(first_line), LINK) in message.entities


def test_short_untitled_post_is_not_repeated() -> None:
    """When the whole body became the title, the body is not shown twice."""
    message = render_entry(entry(title="", content_html="<p>Good morning!</p>"), feed_title="F")
    assert message.text == "Good morning!\nF"


def test_unusable_link_is_written_out() -> None:
    """A link that cannot be a text link still reaches the reader as text."""
    message = render_entry(entry(link="/notes/relative.html"), feed_title="F")
    assert message.text.endswith("\n/notes/relative.html")
    assert all(e.type != "text_link" for e in message.entities)


def test_summary_modes() -> None:
    """SHORT is a glance, FULL fills the message, NONE has no body."""
    body = "".join(
        f"<p>Sentence number {i} is here. And more words follow it.</p>" for i in range(300)
    )
    e = entry(content_html=body)
    short = render_entry(e, feed_title="F", options=DisplayOptions(summary=SummaryMode.SHORT))
    full = render_entry(e, feed_title="F", options=DisplayOptions(summary=SummaryMode.FULL))
    none = render_entry(e, feed_title="F", options=DisplayOptions(summary=SummaryMode.NONE))
    assert 300 < utf16_len(short.text) <= 700
    assert 3500 < utf16_len(full.text) <= 4096
    assert none.text == "Title\nF"
    assert short.text.endswith("follow it.…")
    assert full.text.endswith(".…")


def test_short_summary_is_halved_for_cjk() -> None:
    """A mostly-CJK body gets half the SHORT budget: each character is about a word."""
    body = "<p>" + "中文句子写在这里。" * 200 + "</p>"
    message = render_entry(entry(content_html=body), feed_title="F")
    assert utf16_len(message.text) <= 320


def test_hashtags_sanitised_and_capped() -> None:
    """Tags become valid hashtags (CJK kept, separators to _), deduplicated, at most five."""
    tags = ("乌克兰", "New York", "c++", "2022", "new-york", "a", "b", "c", "d")
    assert hashtags(tags) == "#乌克兰 #New_York #c #a #b"
    message = render_entry(entry(tags=("乌克兰", "NATO")), feed_title="F")
    assert message.text.endswith("\n\n#乌克兰 #NATO")


def test_alert_line() -> None:
    """Matched alert terms show on a short line under the header."""
    message = render_entry(entry(), feed_title="F", alert_terms=["乌克兰", "NATO"])
    assert message.text == "Title\nF\n🔔 乌克兰 · NATO"


def test_picture_from_enclosure_with_caption() -> None:
    """A declared image makes a photo with a caption; no link preview then."""
    e = entry(images=("https://img.example.com/a.jpg",), content_html="<p>Body.</p>")
    message = render_entry(e, feed_title="F")
    assert message.photo_urls == ("https://img.example.com/a.jpg",)
    assert message.caption == "Title\nF\n\nBody."
    assert message.caption_entities == message.entities
    assert message.link_preview_url is None


def test_picture_from_content_skips_pixels_and_icons() -> None:
    """The first good <img> is chosen: tracking pixels, data:, svg and emoji are skipped."""
    body = (
        '<img src="https://t.example.com/p.gif" width="1" height="1">'
        '<img src="data:image/png;base64,AAAA">'
        '<img src="https://s.w.org/images/core/emoji/14.0.0/72x72/1f600.png">'
        '<img src="/logo.svg">'
        '<img src="data:image/gif;base64,R0" data-src="/img/real.jpg">'
        "<p>x</p>"
    )
    message = render_entry(entry(content_html=body), feed_title="F")
    assert message.photo_urls == ("https://example.com/img/real.jpg",)


def test_album_takes_up_to_ten() -> None:
    """With album on, up to ten distinct pictures are sent."""
    images = tuple(f"https://i.example.com/{n}.jpg" for n in range(12))
    e = entry(images=(*images, images[0]))
    album = render_entry(e, feed_title="F", options=DisplayOptions(album=True))
    single = render_entry(e, feed_title="F")
    assert album.photo_urls == images[:10]
    assert single.photo_urls == images[:1]


def test_no_pictures_means_link_preview() -> None:
    """Without pictures the text form previews the entry link, unless switched off."""
    e = entry(images=("https://i.example.com/a.jpg",))
    off = DisplayOptions(pictures=False)
    assert render_entry(e, feed_title="F", options=off).link_preview_url == LINK
    assert render_entry(e, feed_title="F", options=off).photo_urls == ()
    no_preview = DisplayOptions(pictures=False, link_preview=False)
    assert render_entry(e, feed_title="F", options=no_preview).link_preview_url is None


def test_caption_is_cut_harder() -> None:
    """The caption stays within 1024 units even when the text form is much longer."""
    body = "<p>" + "word " * 3000 + "</p>"
    e = entry(content_html=body, images=("https://i.example.com/a.jpg",))
    message = render_entry(e, feed_title="F", options=DisplayOptions(summary=SummaryMode.FULL))
    assert 900 < utf16_len(message.caption) <= 1024
    assert utf16_len(message.text) > 3000


def test_entity_limit_keeps_title_link() -> None:
    """With hundreds of links in the body, only 100 entities remain and the title link is one."""
    body = "".join(f'<a href="https://e.com/{n}">l{n}</a> ' for n in range(300))
    message = render_entry(
        entry(content_html=body), feed_title="F", options=DisplayOptions(summary=SummaryMode.FULL)
    )
    assert len(message.entities) == 100
    assert (message.entities[0].type, message.entities[1].type) == ("bold", "text_link")
    assert message.entities[1].url == LINK


def test_emoji_offsets_are_utf16() -> None:
    """Entities after astral emoji are placed in UTF-16 units."""
    message = render_entry(entry(title="😀😀 hi", content_html="<b>bold</b>"), feed_title="F")
    bold = [e for e in message.entities if e.offset > 0]
    assert bold == [MessageEntity("bold", utf16_len("😀😀 hi\nF\n\n"), 4)]
