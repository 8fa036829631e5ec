"""End to end: managing subscriptions from chats, groups, forum topics and for channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

CHAT = 8080
START = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)


def _feed(feeds: FeedServer, path: str, title: str, count: int = 2, image: bool = False) -> str:
    items = [
        Item(
            guid=f"{path}-{n}",
            title=f"{title} story {n}",
            link=f"https://news.example{path}/{n}",
            description_html=f"<p>Story {n} of {title}.</p><img src='https://img.example/{n}.jpg'>",
            pub_date=START + timedelta(minutes=n),
            enclosure_image=f"https://img.example/{path.strip('/')}-{n}.jpg" if image else None,
        )
        for n in range(count)
    ]
    feeds.put(path, rss(title, items[::-1]))
    return feeds.url(path)


async def _bot(factory: HarnessFactory) -> BotHarness:
    return await factory(delivery={"backlog_on_subscribe": 0})


async def test_sub_several_list_and_unsub(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Two feeds in one /sub get #1 and #2; /list shows both; /unsub #1 and by URL remove them."""
    harness = await _bot(bot_factory)
    first, second = _feed(feed_server, "/a.xml", "Alpha"), _feed(feed_server, "/b.xml", "Beta")
    reply = await harness.command(CHAT, f"/sub {first} {second}")
    assert "Alpha" in (reply.text or "")
    assert "#2" in (reply.text or "")
    listing = await harness.command(CHAT, "/list")
    assert "#1" in (listing.text or "")
    assert "Beta" in (listing.text or "")
    again = await harness.command(CHAT, f"/sub {first}")
    assert "Already" in (again.text or "")
    gone = await harness.command(CHAT, "/unsub #1")
    assert "Alpha" in (gone.text or "")
    gone = await harness.command(CHAT, f"/unsub {second}")
    assert "Beta" in (gone.text or "")
    empty = await harness.command(CHAT, "/list")
    assert "No subscriptions" in (empty.text or "")
    unknown = await harness.command(CHAT, "/unsub 9")
    assert "No subscription 9" in (unknown.text or "")
    assert bot_api.rejected == []


async def test_unsub_keyboard(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """/unsub alone offers a keyboard; pressing a button removes that subscription."""
    harness = await _bot(bot_factory)
    await harness.command(CHAT, f"/sub {_feed(feed_server, '/a.xml', 'Alpha')}")
    menu = await harness.command(CHAT, "/unsub")
    assert menu.reply_markup is not None
    button = menu.reply_markup["inline_keyboard"][0][0]
    bot_api.user_presses(CHAT, menu.message_id, button["callback_data"], user_id=CHAT)
    await bot_api.wait_for_calls("editMessageText", 1)
    assert harness.relay is not None
    assert await harness.relay.store.list_subscriptions(CHAT) == []


async def test_set_toggles_pictures_off(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """/set shows a keyboard; turning pictures off makes the next entry a text message."""
    harness = await _bot(bot_factory)
    url = _feed(feed_server, "/p.xml", "Pics", count=1, image=True)
    await harness.command(CHAT, f"/sub {url}")
    menu = await harness.command(CHAT, "/set 1")
    assert menu.reply_markup is not None
    pictures = menu.reply_markup["inline_keyboard"][0][0]
    assert pictures["callback_data"].endswith(":pictures")
    bot_api.user_presses(CHAT, menu.message_id, pictures["callback_data"], user_id=CHAT)
    await bot_api.wait_for_calls("editMessageReplyMarkup", 1)
    _feed(feed_server, "/p.xml", "Pics", count=2, image=True)
    await harness.poll()
    sent = await bot_api.wait_for_sent(CHAT, 3)
    assert sent[-1].method == "sendMessage"
    assert "Pics story 1" in (sent[-1].text or "")


async def test_entry_with_picture_is_sent_as_photo(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """With pictures on (the default) an entry's image goes as a photo with the caption."""
    harness = await _bot(bot_factory)
    await harness.command(CHAT, f"/sub {_feed(feed_server, '/p.xml', 'Pics', 1, image=True)}")
    _feed(feed_server, "/p.xml", "Pics", count=2, image=True)
    await harness.poll()
    sent = await bot_api.wait_for_sent(CHAT, 2)
    assert sent[-1].method == "sendPhoto"
    assert sent[-1].photos == ["https://img.example/p.xml-1.jpg"]
    assert "Pics story 1" in (sent[-1].caption or "")


async def test_group_members_who_are_not_admins_are_refused(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """In a group only administrators may subscribe; others get a one-line reason."""
    group = -5005
    bot_api.add_chat(group, "supergroup", title="Readers", admins=[1])
    harness = await _bot(bot_factory)
    url = _feed(feed_server, "/a.xml", "Alpha")
    refused = await harness.command(group, f"/sub {url}", user_id=2)
    assert "administrators" in (refused.text or "")
    accepted = await harness.command(group, f"/sub@{bot_api.bot_username} {url}", user_id=1)
    assert "#1" in (accepted.text or "")


async def test_forum_topic_subscription_delivers_to_the_topic(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A /sub made inside a forum topic delivers that feed's entries into the same topic."""
    forum, topic = -6006, 77
    bot_api.add_chat(forum, "supergroup", title="Forum", is_forum=True, admins=[1])
    bot_api.add_topic(forum, topic)
    harness = await _bot(bot_factory)
    reply = await harness.command(
        forum, f"/sub {_feed(feed_server, '/t.xml', 'Topic')}", user_id=1, thread_id=topic
    )
    assert reply.message_thread_id == topic
    _feed(feed_server, "/t.xml", "Topic", count=3)
    await harness.poll()
    sent = await bot_api.wait_for_sent(forum, 2, timeout=20)
    assert sent[-1].message_thread_id == topic


async def test_channel_managed_from_a_private_chat(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """`/sub @channel URL` from an admin's private chat subscribes the channel; /list shows it."""
    channel, admin = -100777, 31337
    bot_api.add_chat(channel, "channel", title="Headlines", username="headlines", admins=[admin])
    bot_api.add_chat(admin, "private")
    harness = await _bot(bot_factory)
    url = _feed(feed_server, "/c.xml", "Chan")
    reply = await harness.command(admin, f"/sub @headlines {url}", user_id=admin)
    assert "#1" in (reply.text or "")
    listing = await harness.command(admin, "/list @headlines", user_id=admin)
    assert "Chan" in (listing.text or "")
    stranger = await harness.command(4444, f"/sub @headlines {url}", user_id=4444)
    assert "administrators" in (stranger.text or "")
    _feed(feed_server, "/c.xml", "Chan", count=3)
    await harness.poll()
    sent = await bot_api.wait_for_sent(channel, 1, timeout=20)
    assert "Chan story 2" in (sent[0].text or sent[0].caption or "")


async def test_web_page_that_links_a_feed(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """A web page URL works when the page links its feed with rel=alternate."""
    url = _feed(feed_server, "/feed.xml", "Linked")
    page = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
        b"</head><body>hello</body></html>"
    )
    feed_server.put("/", page, "text/html")
    harness = await _bot(bot_factory)
    reply = await harness.command(CHAT, f"/sub {feed_server.url('/')}")
    assert "Linked" in (reply.text or "")
    assert harness.relay is not None
    subs = await harness.relay.store.list_subscriptions(CHAT)
    assert subs[0].url == url


@pytest.mark.parametrize(
    "text",
    ["/unsub 99999999999999999999999", "/set ²", "/filter -² x", "/unsub #1x", "/set"],
)
async def test_odd_ids_get_a_one_line_reason(bot_factory: HarnessFactory, text: str) -> None:
    """Huge numbers, superscript digits and junk ids are answered with a reason, not an error."""
    harness = await _bot(bot_factory)
    reply = await harness.command(CHAT, text)
    body = reply.text or ""
    assert "\n" not in body.strip()
    assert "went wrong" not in body
    assert body.startswith(("No subscription", "Usage", "❌"))


async def test_album_option_sends_a_media_group(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """With albums on, an entry with several pictures goes as one media group with the caption."""
    harness = await _bot(bot_factory)
    body = "".join(f'<p>Part {n}.</p><img src="https://img.example/g{n}.jpg">' for n in range(3))
    first = Item(guid="g0", title="Gallery 0", link="https://news.example/g0", pub_date=START)
    feed_server.put("/g.xml", rss("Gallery", [first]))
    await harness.command(CHAT, f"/sub {feed_server.url('/g.xml')}")
    menu = await harness.command(CHAT, "/set 1")
    assert menu.reply_markup is not None
    album = next(
        b["callback_data"]
        for row in menu.reply_markup["inline_keyboard"]
        for b in row
        if b["callback_data"].endswith(":album")
    )
    bot_api.user_presses(CHAT, menu.message_id, album, user_id=CHAT)
    await bot_api.wait_for_calls("editMessageReplyMarkup", 1)
    second = Item(
        guid="g1", title="Gallery 1", link="https://news.example/g1",
        description_html=body, pub_date=START + timedelta(minutes=1),
    )  # fmt: skip
    feed_server.put("/g.xml", rss("Gallery", [second, first]))
    await harness.poll()
    sent = await bot_api.wait_for_sent(CHAT, 3)
    assert sent[-1].method == "sendMediaGroup"
    assert sent[-1].photos == [f"https://img.example/g{n}.jpg" for n in range(3)]
    assert "Gallery 1" in (sent[-1].media[0].get("caption") or "")
    assert bot_api.rejected == []


async def test_anonymous_group_admin_may_subscribe(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """An anonymous admin writes as the group; that is an admin, though its user is not a member."""
    group = -7007
    harness = await _bot(bot_factory)
    harness.api.add_chat(group, "supergroup", title="Quiet admins", admins=[1])
    url = _feed(feed_server, "/q.xml", "Quiet")
    reply = await harness.command(group, f"/sub {url}", anonymous=True)
    assert "#1" in (reply.text or "")
