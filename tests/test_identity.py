"""Entry identity across fetches, link normalisation, and the same article through two feeds."""

from __future__ import annotations

import pytest

from bot.feeds.identity import article_keys, normalise_link
from bot.feeds.parse import parse_feed
from bot.models import Entry, ParsedFeed
from bot.pipeline import EverySubscriber, NewSubscriber, Queued, queue_entries
from bot.store import Store
from tests.corpus import corpus_case
from tests.fakes.feedgen import Item, rss

NOW = 1_800_000_000.0
ORIGIN = "https://feeds.example/feed.xml"


@pytest.fixture
def store(engine_store: Store) -> Store:
    """A store on the test's engine."""
    return engine_store


async def _feed(store: Store, url: str, *chats: int) -> int:
    feed, _ = await store.get_or_create_feed(url, title="f", interval_seconds=300, now=NOW)
    for chat in chats:
        await store.ensure_chat(chat)
        await store.add_subscription(chat, feed.id)
    return feed.id


async def _fetch(store: Store, feed_id: int, body: bytes, *, now: float = NOW) -> Queued:
    """One refresh of a feed document, as the pipeline runs it."""
    parsed = parse_feed(body, url=ORIGIN)
    return await queue_entries(store, feed_id, parsed, EverySubscriber(), now=now)


async def _titles(store: Store) -> list[tuple[int, str]]:
    rows = await store.pending_outbox(NOW + 10**7, limit=100)
    return [(row.chat_id, row.message.text.split("\n", 1)[0]) for row in rows]


@pytest.mark.parametrize(
    ("link", "normal"),
    [
        ("https://www.site.example/a/b/?utm_source=rss&utm_medium=feed", "site.example/a/b"),
        ("http://site.example/a?id=3&fbclid=XYZ&gclid=1", "site.example/a?id=3"),
        ("https://site.example/a;jsessionid=ABC123?x=1", "site.example/a?x=1"),
        ("https://site.example/a?PHPSESSID=9f&p=2&sid=77", "site.example/a?p=2"),
        ("https://s.example/p/1?__xts__%5B0%5D=68.AZX&__tn__=-R", "s.example/p/1"),
        ("https://site.example/a?b=2&a=1#comments", "site.example/a?a=1&b=2"),
        ("https://site.example/#!/post/7", "site.example/#!/post/7"),
        ("https://Site.Example:443/A", "site.example/A"),
        ("https://site.example:8443/a", "site.example:8443/a"),
    ],
)
def test_links_are_normalised_for_identity(link: str, normal: str) -> None:
    """Trackers, session ids, fragment, scheme and www go; order of parameters does not matter."""
    assert normalise_link(link) == normal


def test_three_items_sharing_a_guid_keep_stable_distinct_keys() -> None:
    """One guid on three different items: three entries, the same keys in any order."""
    items = [
        Item(
            guid="same", title=f"Move {n}", link="https://g.example/game", description_html=f"m{n}"
        )
        for n in range(3)
    ]
    first = parse_feed(rss("g", items), url=ORIGIN).entries
    reordered = parse_feed(rss("g", [items[2], items[0], items[1]]), url=ORIGIN).entries
    assert len({e.key for e in first}) == 3
    assert {e.key for e in first} == {e.key for e in reordered}
    assert all("id:same" in e.fallback_keys for e in first)


async def test_field_case_shared_guid_sends_only_the_new_item(store: Store) -> None:
    """shared/cases 04: the second fetch shares the guid with a new item; only that one is sent."""
    feed_id = await _feed(store, "https://games.example/feed", 1)
    first = corpus_case("04a_dup_guid_fetch1.xml").read_bytes()
    assert await _fetch(store, feed_id, first) == Queued(new=1, queued=1)
    second = corpus_case("04b_dup_guid_fetch2.xml").read_bytes()
    assert await _fetch(store, feed_id, second) == Queued(new=1, queued=1)
    rows = await store.pending_outbox(NOW + 10, limit=10)
    assert ["civil disorder" in row.message.text for row in rows] == [False, True]
    assert await _fetch(store, feed_id, second) == Queued(new=0, queued=0)


async def test_reordered_duplicates_are_not_sent_again(store: Store) -> None:
    """Items sharing guids, fetched again in another order (and one dropped): nothing new."""
    feed_id = await _feed(store, "https://dup.example/feed", 1)
    items = [
        Item(guid="g", title="A", link="https://dup.example/a"),
        Item(guid="g", title="B", link="https://dup.example/b"),
        Item(guid="h", title="C", link="https://dup.example/c"),
    ]
    assert (await _fetch(store, feed_id, rss("d", items))).queued == 3
    assert (await _fetch(store, feed_id, rss("d", items[::-1]))).queued == 0
    assert (await _fetch(store, feed_id, rss("d", items[1:]))).queued == 0


async def test_field_case_tracking_parameter_change_is_not_new(store: Store) -> None:
    """shared/cases 19: the same guid-less post whose link's tracking parameter changed."""
    feed_id = await _feed(store, "https://social.example/feed", 1)
    assert (
        await _fetch(store, feed_id, corpus_case("19a_tracking_param_fetch1.xml").read_bytes())
    ).queued == 1
    again = await _fetch(store, feed_id, corpus_case("19b_tracking_param_fetch2.xml").read_bytes())
    assert again == Queued(new=0, queued=0)


async def test_changing_session_ids_are_not_new_posts(store: Store) -> None:
    """A forum that puts a fresh session id in every link: each post is sent once."""
    feed_id = await _feed(store, "https://forum.example/feed", 1)

    def fetch(session: str) -> bytes:
        items = [
            Item(title=f"Topic {n}", link=f"https://forum.example/t.php;jsessionid={session}?t={n}")
            for n in range(3)
        ]
        return rss("forum", items)

    assert (await _fetch(store, feed_id, fetch("AAA"))).queued == 3
    assert (await _fetch(store, feed_id, fetch("BBB"))).queued == 0


async def test_keys_recorded_before_links_were_normalised_still_count(store: Store) -> None:
    """An entry seen under its raw link (an older version's key) is not sent again."""
    feed_id = await _feed(store, "https://old.example/feed", 1)
    link = "https://old.example/post?utm_source=rss"
    await store.commit_entries(feed_id, seen=[f"link:{link}"], outbox=[], now=NOW - 100)
    body = rss("old", [Item(title="Post", link=link)])
    assert await _fetch(store, feed_id, body) == Queued(new=0, queued=0)


async def test_same_title_posts_with_distinct_guids_stay_distinct(store: Store) -> None:
    """Weaker keys are recorded but not consulted: two "Daily update" posts are two posts."""
    feed_id = await _feed(store, "https://daily.example/feed", 1)
    day1 = [Item(guid="d1", title="Daily update")]
    assert (await _fetch(store, feed_id, rss("d", day1))).queued == 1
    day2 = [Item(guid="d2", title="Daily update"), *day1]
    assert (await _fetch(store, feed_id, rss("d", day2))).queued == 1


def test_article_keys() -> None:
    """A link and, for a specific title, the site and the folded title."""
    entry = Entry(
        key="k", title="Parliament  Passes the Budget", link="https://www.n.example/a?utm_x=1"
    )
    assert article_keys(entry) == (
        "url:n.example/a",
        "title:n.example|parliament passes the budget",
    )
    assert article_keys(Entry(key="k", title="Update", link="https://n.example/b")) == (
        "url:n.example/b",
    )
    untitled_site = Entry(key="k", title="国务院常务会议部署稳就业", link="")
    assert article_keys(untitled_site, "https://www.gov.example/") == (
        "title:gov.example|国务院常务会议部署稳就业",
    )


def _doc(*entries: Entry) -> ParsedFeed:
    return ParsedFeed(title="f", link="https://n.example/", entries=entries)


def _article(key: str, title: str, link: str) -> Entry:
    return Entry(key=key, title=title, link=link)


async def test_same_article_through_two_feeds_reaches_a_chat_once(store: Store) -> None:
    """Same normalised link or same specific title from one site: one message per chat."""
    world = await _feed(store, "https://n.example/world.xml", 1, 2)
    europe = await _feed(store, "https://n.example/europe.xml", 1)
    story = _article("id:w1", "Parliament passes the budget", "https://n.example/budget")
    await queue_entries(store, world, _doc(story), EverySubscriber(), now=NOW)
    same_link = _article("id:e1", "Budget passed", "https://www.n.example/budget?utm_source=eu")
    same_title = _article("id:e2", "Parliament passes the budget", "https://n.example/eu/budget")
    other = _article("id:e3", "Elections next spring", "https://n.example/elections")
    done = await queue_entries(
        store, europe, _doc(other, same_title, same_link), EverySubscriber(), now=NOW + 60
    )
    assert done == Queued(new=3, queued=1)
    assert sorted(await _titles(store)) == [
        (1, "Elections next spring"),
        (1, "Parliament passes the budget"),
        (2, "Parliament passes the budget"),
    ]


async def test_cross_feed_dedupe_ends_with_its_window(store: Store) -> None:
    """A week later the same link through another feed is news again."""
    first = await _feed(store, "https://n.example/a.xml", 1)
    second = await _feed(store, "https://n.example/b.xml", 1)
    story = _article("id:1", "Parliament passes the budget", "https://n.example/budget")
    await queue_entries(store, first, _doc(story), EverySubscriber(), now=NOW)
    later = NOW + 7 * 86400
    assert await queue_entries(store, second, _doc(story), EverySubscriber(), now=later) == Queued(
        new=1, queued=1
    )


async def test_backlog_skips_what_another_feed_brought(store: Store) -> None:
    """/sub's backlog leaves out an article another feed already brought to the chat."""
    first = await _feed(store, "https://n.example/a.xml", 1)
    story = _article("id:1", "Parliament passes the budget", "https://n.example/budget")
    await queue_entries(store, first, _doc(story), EverySubscriber(), now=NOW)
    second = await _feed(store, "https://n.example/b.xml")
    await store.ensure_chat(1)
    sub = await store.add_subscription(1, second)
    audience = NewSubscriber(sub, newest=1, first_fetch=True, seen_when_added=frozenset())
    assert (await queue_entries(store, second, _doc(story), audience, now=NOW + 1)).queued == 0
    third = await _feed(store, "https://n.example/c.xml", 1)
    done = await queue_entries(store, third, _doc(story), EverySubscriber(), now=NOW + 2)
    assert done == Queued(new=1, queued=0)
