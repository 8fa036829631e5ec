"""Build small RSS 2.0 and Atom documents whose item list a test can grow between fetches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of a generated feed; unset fields are left out of the document."""

    guid: str | None = None
    title: str = ""
    link: str = ""
    description_html: str = ""
    pub_date: datetime | None = None
    categories: tuple[str, ...] = ()
    enclosure_image: str | None = None


STORIES_START = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)


def stories(path: str, count: int, title: Callable[[int], str]) -> list[Item]:
    """``count`` entries a minute apart, newest first, entry n titled ``title(n)``, with
    guid ``<path>-<n>`` and link ``https://news.example<path>/<n>``."""
    items = [
        Item(
            guid=f"{path}-{n}",
            title=title(n),
            link=f"https://news.example{path}/{n}",
            pub_date=STORIES_START + timedelta(minutes=n),
        )
        for n in range(count)
    ]
    return items[::-1]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _rss_item(item: Item) -> str:
    parts = ["<item>"]
    if item.guid is not None:
        parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
    if item.title:
        parts.append(f"<title>{escape(item.title)}</title>")
    if item.link:
        parts.append(f"<link>{escape(item.link)}</link>")
    if item.description_html:
        parts.append(f"<description>{escape(item.description_html)}</description>")
    if item.pub_date is not None:
        parts.append(f"<pubDate>{format_datetime(_utc(item.pub_date), usegmt=True)}</pubDate>")
    parts.extend(f"<category>{escape(tag)}</category>" for tag in item.categories)
    if item.enclosure_image:
        url = quoteattr(item.enclosure_image)
        parts.append(f'<enclosure url={url} type="image/jpeg" length="0"/>')
    parts.append("</item>")
    return "".join(parts)


def rss(title: str, items: Sequence[Item], *, link: str = "https://example.com/") -> bytes:
    """An RSS 2.0 document, UTF-8, items in the given order."""
    body = "\n".join(_rss_item(item) for item in items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>generated</description>\n{body}\n</channel></rss>\n"
    ).encode()


def _atom_entry(item: Item, fallback_updated: datetime) -> str:
    updated = _utc(item.pub_date or fallback_updated).isoformat()
    parts = ["<entry>"]
    if item.guid is not None:
        parts.append(f"<id>{escape(item.guid)}</id>")
    parts.append(f'<title type="text">{escape(item.title)}</title>')
    if item.link:
        parts.append(f'<link rel="alternate" href={quoteattr(item.link)}/>')
    parts.append(f"<updated>{updated}</updated>")
    if item.pub_date is not None:
        parts.append(f"<published>{updated}</published>")
    if item.description_html:
        parts.append(f'<content type="html">{escape(item.description_html)}</content>')
    parts.extend(f"<category term={quoteattr(tag)}/>" for tag in item.categories)
    if item.enclosure_image:
        url = quoteattr(item.enclosure_image)
        parts.append(f'<link rel="enclosure" type="image/jpeg" href={url}/>')
    parts.append("</entry>")
    return "".join(parts)


def atom(
    title: str,
    items: Sequence[Item],
    *,
    link: str = "https://example.com/",
    feed_id: str = "urn:example:feed",
) -> bytes:
    """An Atom 1.0 document, UTF-8, entries in the given order."""
    epoch = datetime(2024, 1, 1, tzinfo=UTC)
    body = "\n".join(_atom_entry(item, epoch) for item in items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>{escape(feed_id)}</id>"
        f'<link rel="alternate" href={quoteattr(link)}/><updated>{epoch.isoformat()}</updated>'
        f"\n{body}\n</feed>\n"
    ).encode()
