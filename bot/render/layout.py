"""One entry, one message: the layout a headline reader skims.

```
<b><a href=link>Title</a></b>
Feed name · 2022-01-11 09:33
🔔 alert · terms

Summary, cut at a sentence…

#tag #tag
```

The title carries the link; when the entry's link cannot be a text link (no
scheme Telegram knows, unresolvable) it is written out on the last line instead.
An entry without a title takes the first words of its body, else its link, else
(a picture-only post) the feed's name, linked to the picture. Summary budgets:
``SHORT`` is a headline reader's glance, about 600 UTF-16 units in a text message
and 400 in a caption (in practice the first paragraph or two, cut at a sentence),
halved for mostly-CJK text, where one character carries about a word;
``FULL`` fills what the message allows (4096 text, 1024 caption); ``NONE`` has no
body. The photo form (one picture, or an album of 2-10 with ``options.album``) is
built only when the header fits a caption; the text form is always there.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from bot.models import DisplayOptions, Entry, OutgoingMessage, SummaryMode
from bot.render.boilerplate import Boilerplate, strip_boilerplate
from bot.render.cut import cut, cut_plain
from bot.render.html import html_to_rich
from bot.render.links import resolve, resolve_web
from bot.render.media import pick_images
from bot.render.rich import Rich, Span, fold, join, styled, to_entities, utf16_len

MAX_TEXT = 4096
MAX_CAPTION = 1024
SHORT_TEXT = 600
SHORT_CAPTION = 400
_TITLE = 256
_WORDS = 80
_FEED = 128
_RAW_LINK = 512
_TAGS = 5
_TAG_LEN = 32
_ALERTS = 5
_ALERT_LEN = 40
_NUMERIC_REF = re.compile(r"&#(?:\d{1,7}|[xX][0-9A-Fa-f]{1,6});")
_NOT_WORD = re.compile(r"[\W_]+")
_WIDE = re.compile("[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]")


def _glance(body: str, budget: int) -> int:
    """The SHORT budget for this body: half as many units when most of it is CJK."""
    sample = body[:budget]
    return budget // 2 if len(_WIDE.findall(sample)) * 2 > len(sample) else budget


def _line(text: str, budget: int) -> str:
    """Safe one-line text; numeric character references a feed double-escaped are decoded."""
    text = _NUMERIC_REF.sub(lambda m: html.unescape(m.group()), text)
    return cut_plain(fold(text), budget)


def _same_text(text: str, line: str) -> bool:
    """Whether ``text`` (converter output) folds to ``line``, without folding a long body.

    The converter leaves at most two newlines between words, which fold to one
    space, so a text more than twice the line's length cannot fold to it.
    """
    return len(text) <= 2 * len(line) + 4 and fold(text) == line


def _when(published: datetime | None, tz: tzinfo) -> str:
    if published is None:
        return ""
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    try:
        t = published.astimezone(tz)
    except (OverflowError, ValueError):  # a date at the edge of datetime's range
        return ""
    # The zone is named: a chat's time zone is not known to a bot, so it is often UTC.
    zone = t.tzname() or ""
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d} {zone}".rstrip()


def _hashtag(tag: str) -> str | None:
    """A tag as a hashtag Telegram recognises: letters (CJK too), digits, underscores."""
    word = _NOT_WORD.sub("_", unicodedata.normalize("NFKC", fold(tag))).strip("_")
    word = word[:_TAG_LEN].rstrip("_")
    if not word or word.replace("_", "").isdigit():
        return None
    return "#" + word


def hashtags(tags: Sequence[str]) -> str:
    """Up to five distinct hashtags, in the feed's order."""
    seen: dict[str, str] = {}
    for tag in tags:
        found = _hashtag(tag)
        if found is not None and found.casefold() not in seen:
            seen[found.casefold()] = found
            if len(seen) == _TAGS:
                break
    return " ".join(seen.values())


def _alerts(terms: Sequence[str]) -> str:
    shown = [t for t in (_line(term, _ALERT_LEN) for term in terms[:_ALERTS]) if t]
    return "🔔 " + " · ".join(shown) if shown else ""


def _header(title: str, url: str | None, meta: str, alerts: str) -> Rich:
    if url is not None:
        head = Rich(title, (Span("bold", 0, len(title), rank=0),))
        head = Rich(title, (*head.spans, Span("text_link", 0, len(title), url, rank=0)))
    else:
        head = styled(title, "bold", rank=0)
    return join([head, *(f"\n{line}" for line in (meta, alerts) if line)])


def _compose(head: Rich, body: Rich, foot: str, *, limit: int, body_limit: int) -> Rich | None:
    """Header, cut body and footer within ``limit`` units, or None if the frame alone is over."""
    room = limit - utf16_len(head.text) - (utf16_len(foot) + 2 if foot else 0)
    if room < 0:
        return None
    piece = cut(body, min(room - 2, body_limit)) if body.text and room > 2 else Rich()
    parts: list[Rich | str] = [head]
    if piece.text:
        parts += ["\n\n", piece]
    if foot:
        parts.append("\n\n" + foot)
    return join(parts)


def _plain_form(title: str, body: str, link: str) -> str:
    """The last resort when Telegram refuses the formatting: title, body and link as text.

    The body is kept (cut to fit), so a refused entity costs the reader nothing
    but the formatting; the link is written out because no text link carries it.
    """
    ends = "\n".join(x for x in (title, link) if x)
    room = MAX_TEXT - utf16_len(ends) - 4
    middle = cut_plain(body.strip(), room) if body.strip() and room > 0 else ""
    if not middle:
        return cut_plain(ends, MAX_TEXT)
    return cut_plain("\n\n".join(x for x in (title, middle, link) if x), MAX_TEXT)


def render_entry(
    entry: Entry,
    *,
    feed_title: str,
    options: DisplayOptions = DisplayOptions(),  # noqa: B008 -- frozen, so a shared default is safe
    tz: tzinfo = UTC,
    alert_terms: Sequence[str] = (),
    boilerplate: Boilerplate | None = None,
) -> OutgoingMessage:
    """Render one entry as Telegram text + entities, with an optional photo form."""
    source = strip_boilerplate(entry.content_html, boilerplate) if entry.content_html else ""
    mode = options.summary
    body_limit = {SummaryMode.FULL: MAX_TEXT, SummaryMode.SHORT: SHORT_TEXT}.get(mode, _WORDS)
    body = html_to_rich(source, base=entry.link, limit=body_limit + 64)

    title = _line(entry.title, _TITLE)
    if not title:
        whole = fold(body.text)
        title = cut_plain(whole, _WORDS)
        if title == whole:
            body = Rich()  # a short untitled post: its whole text is already the title
    if mode is SummaryMode.NONE or _same_text(body.text, title):
        body = Rich()
    link = fold(entry.link)
    url = resolve(link)
    title = title or cut_plain(link, _WORDS)
    feed_name = _line(feed_title, _FEED)
    if not title:
        # Nothing of its own to head the message (a picture-only post): the feed's name
        # heads it, linked to the picture, so it never comes out as a bare bullet.
        title, feed_name = feed_name or "•", ""
        url = url or next(iter(pick_images(entry, source, limit=1)), None)

    meta = " · ".join(x for x in (feed_name, _when(entry.published, tz)) if x)
    head = _header(title, url, meta, _alerts(alert_terms))
    foot = "\n".join(
        x for x in (hashtags(entry.tags), "" if url else cut_plain(link, _RAW_LINK)) if x
    )

    if mode is SummaryMode.SHORT:
        body_limit = _glance(body.text, body_limit)
    text = _compose(head, body, foot, limit=MAX_TEXT, body_limit=body_limit)
    if text is None:  # unreachable with the caps above; keep the promise regardless
        text = Rich(cut_plain(title, MAX_TEXT))
    plain = _plain_form(title, body.text, link)

    photos: tuple[str, ...] = ()
    caption: Rich | None = None
    if options.pictures:
        photos = pick_images(entry, source, limit=10 if options.album else 1)
        if photos:
            short = _glance(body.text, SHORT_CAPTION) if mode is SummaryMode.SHORT else MAX_CAPTION
            caption = _compose(head, body, foot, limit=MAX_CAPTION, body_limit=short)
        if caption is None:
            photos = ()
    preview = None if photos or not options.link_preview else resolve_web(link)
    return OutgoingMessage(
        text=text.text,
        entities=to_entities(text),
        link_preview_url=preview,
        photo_urls=photos,
        caption=caption.text if caption is not None else "",
        caption_entities=to_entities(caption) if caption is not None else (),
        plain_text=plain,
    )
