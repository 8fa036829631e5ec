"""End to end, tried as an attacker would: who may change which chat's subscriptions.

One rule (``bot.commands.rights``): your own private chat, or a group or channel
Telegram says you administer, and with ``access.allowed_chats`` set only chats on
the list. Callback data is whatever a client sends, so presses carry forged ids.
"""

from __future__ import annotations

from bot.store.engine import Db
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import rss, stories
from tests.harness import BotHarness, HarnessFactory

ALICE, BOB = 1111, 2222
NOT_YOURS = "You may change only your own private chat"
STALE = "This button no longer works"


def _feed(feeds: FeedServer, path: str, title: str) -> str:
    feeds.put(path, rss(title, stories(path, 2, lambda n: f"{title} story {n}")))
    return feeds.url(path)


async def _bot(factory: HarnessFactory, **sections: dict[str, object]) -> BotHarness:
    return await factory(delivery={"backlog_on_subscribe": 0}, **sections)


_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
}
_CLOCKWORK = {"processes", "leases"}
"""Heartbeats and lease times move with the clock (bot.coordination); no chat's state."""


async def _dump(harness: BotHarness) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the bot's database (either engine)."""
    assert harness.relay is not None
    engine = harness.relay.store.engine

    def dump(db: Db) -> dict[str, list[tuple[object, ...]]]:
        tables = [row[0] for row in db.all(_TABLES[engine.name]) if row[0] not in _CLOCKWORK]
        # Table names come from the database itself, not from input.
        return {
            name: sorted((tuple(row) for row in db.all(f'SELECT * FROM "{name}"')), key=repr)  # noqa: S608
            for name in tables
        }

    return await engine.read(dump)


async def _alice_subscribes(harness: BotHarness, feeds: FeedServer) -> int:
    """Alice follows her secret feed in her private chat; returns the subscription's id."""
    await harness.command(ALICE, f"/sub {_feed(feeds, '/secret.xml', 'Alice Secret Diary')}")
    assert harness.relay is not None
    [sub] = await harness.relay.store.list_subscriptions(ALICE)
    return sub.id


async def test_forged_presses_cannot_touch_another_private_chat(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Bob's forged unsub:/set: presses naming Alice's subscription change nothing and are
    answered as presses naming no subscription at all."""
    harness = await _bot(bot_factory)
    secret = await _alice_subscribes(harness, feed_server)
    assert harness.relay is not None
    before = await harness.relay.store.list_subscriptions(ALICE)
    said_before = len(bot_api.sent)
    help_message = await harness.command(BOB, "/help")
    for data in (f"unsub:{secret}", f"set:{secret}:pictures", f"set:{secret}:summary"):
        answer = await harness.press(BOB, help_message.message_id, data, user_id=BOB)
        assert answer.startswith(STALE), (data, answer)
    assert await harness.relay.store.list_subscriptions(ALICE) == before
    assert bot_api.edits == []
    assert len(bot_api.sent) == said_before + 1  # Bob's /help, nothing else
    shown_to_bob = [str(m.text) for m in bot_api.sent_to(BOB)]
    shown_to_bob += [str(answer["text"]) for answer in bot_api.callback_answers]
    assert "Diary" not in "".join(shown_to_bob)
    assert bot_api.rejected == []


async def test_named_private_chat_of_another_user_is_refused(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """/list, /unsub, /export, /pause and /sub naming Alice's private chat by @name are refused."""
    bot_api.add_chat(ALICE, "private", username="alice")
    harness = await _bot(bot_factory)
    await _alice_subscribes(harness, feed_server)
    assert harness.relay is not None
    before = await _dump(harness)
    documents = [m for m in bot_api.sent if m.document_name]
    reply = await harness.command(BOB, "/list @alice", user_id=BOB)
    assert (reply.text or "").startswith("You may see only your own private chat")
    for text in (
        "/unsub @alice 1",
        "/unsub @alice all",
        "/export @alice",
        "/pause @alice all",
        "/filter @alice 1 nothing",
        f"/sub @alice {_feed(feed_server, '/spam.xml', 'Spam')}",
    ):
        reply = await harness.command(BOB, text, user_id=BOB)
        assert (reply.text or "").startswith(NOT_YOURS), (text, reply.text)
    await harness.settle()
    assert await _dump(harness) == before
    assert [m for m in bot_api.sent if m.document_name] == documents
    assert "Diary" not in "".join(m.text or "" for m in bot_api.sent_to(BOB))
    mine = await harness.command(ALICE, "/list @alice", user_id=ALICE)
    assert "Alice Secret Diary" in (mine.text or "")
    assert bot_api.rejected == []


async def test_group_keyboard_obeys_only_its_admins(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """In a group, a member's press on the /unsub keyboard is refused; an admin's works."""
    group, admin, member = -5005, 1, 2
    bot_api.add_chat(group, "supergroup", title="Readers", admins=[admin])
    harness = await _bot(bot_factory)
    await harness.command(group, f"/sub {_feed(feed_server, '/g.xml', 'Group')}", user_id=admin)
    menu = await harness.command(group, "/unsub", user_id=admin)
    assert menu.reply_markup is not None
    data = menu.reply_markup["inline_keyboard"][0][0]["callback_data"]
    refused = await harness.press(group, menu.message_id, data, user_id=member)
    assert refused.startswith("Only chat administrators")
    assert harness.relay is not None
    assert len(await harness.relay.store.list_subscriptions(group)) == 1
    assert await harness.press(group, menu.message_id, data, user_id=admin) == ""
    assert await harness.relay.store.list_subscriptions(group) == []
    assert "Unsubscribed from Group" in (bot_api.edits[-1].text or "")
    assert bot_api.rejected == []


async def test_group_admin_cannot_reach_another_groups_subscription(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """An admin of two groups pressing, in one, a button naming the other's subscription is refused:
    a press acts only on the chat it was pressed in."""
    first, second, admin = -5001, -5002, 7
    for group in (first, second):
        bot_api.add_chat(group, "supergroup", admins=[admin])
    harness = await _bot(bot_factory)
    await harness.command(second, f"/sub {_feed(feed_server, '/s.xml', 'Second')}", user_id=admin)
    assert harness.relay is not None
    [other] = await harness.relay.store.list_subscriptions(second)
    message = await harness.command(first, "/help", user_id=admin)
    answer = await harness.press(first, message.message_id, f"unsub:{other.id}", user_id=admin)
    assert answer.startswith(STALE)
    assert await harness.relay.store.list_subscriptions(second) == [other]
    assert bot_api.edits == []


async def test_channel_keyboards_work_from_its_admins_private_chat_only(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """/set @channel and /unsub @channel keyboards act for the channel's admin, not for others
    (whose presses are answered as presses on nothing)."""
    channel, admin, stranger = -100777, 31337, 4444
    bot_api.add_chat(channel, "channel", title="Headlines", username="headlines", admins=[admin])
    bot_api.add_chat(admin, "private")
    harness = await _bot(bot_factory)
    url = _feed(feed_server, "/c.xml", "Chan")
    await harness.command(admin, f"/sub @headlines {url}", user_id=admin)
    assert harness.relay is not None
    [sub] = await harness.relay.store.list_subscriptions(channel)
    menu = await harness.command(admin, "/set @headlines 1", user_id=admin)
    assert menu.reply_markup is not None
    pictures = menu.reply_markup["inline_keyboard"][0][0]["callback_data"]
    assert await harness.press(admin, menu.message_id, pictures, user_id=admin) == ""
    [changed] = await harness.relay.store.list_subscriptions(channel)
    assert changed.options.pictures is not sub.options.pictures
    lure = await harness.command(stranger, "/help", user_id=stranger)
    for data in (pictures, f"unsub:{sub.id}"):
        answer = await harness.press(stranger, lure.message_id, data, user_id=stranger)
        assert answer.startswith(STALE), answer
    assert await harness.relay.store.list_subscriptions(channel) == [changed]
    menu = await harness.command(admin, "/unsub @headlines", user_id=admin)
    assert menu.reply_markup is not None
    data = menu.reply_markup["inline_keyboard"][0][0]["callback_data"]
    assert await harness.press(admin, menu.message_id, data, user_id=admin) == ""
    assert await harness.relay.store.list_subscriptions(channel) == []
    assert bot_api.rejected == []


async def test_unlisted_chats_change_nothing(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """With allowed_chats set, nothing from an unlisted chat is stored, answered or acted on:
    not /start, not /sub, not a forged press naming a listed chat's subscription."""
    outsider = 9999
    harness = await _bot(bot_factory, access={"allowed_chats": [ALICE]})
    secret = await _alice_subscribes(harness, feed_server)
    url = _feed(feed_server, "/outsider.xml", "Outsider")
    await harness.settle()
    before, sent, calls = await _dump(harness), len(bot_api.sent), len(bot_api.calls)
    for text in ("/start", f"/sub {url}", "/list"):
        bot_api.user_sends(outsider, text)
    for data in (f"unsub:{secret}", f"set:{secret}:pictures", "bogus"):
        bot_api.user_presses(outsider, 1, data, user_id=outsider)
    await harness.until(lambda: bot_api.pending_updates == 0, "the updates to be taken")
    await harness.settle()
    assert await _dump(harness) == before
    assert len(bot_api.sent) == sent
    assert feed_server.count("/outsider.xml") == 0
    assert {call.method for call in bot_api.calls[calls:]} <= {"getUpdates"}


async def test_named_target_outside_allowed_chats_is_refused(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """From a listed chat, naming a channel not on the list is refused and stores nothing."""
    channel, admin = -100888, ALICE
    bot_api.add_chat(channel, "channel", title="Elsewhere", username="elsewhere", admins=[admin])
    harness = await _bot(bot_factory, access={"allowed_chats": [ALICE]})
    await harness.command(ALICE, "/help")
    before = await _dump(harness)
    url = _feed(feed_server, "/e.xml", "Elsewhere feed")
    for text in (f"/sub @elsewhere {url}", f"/sub {channel} {url}", "/list @elsewhere"):
        reply = await harness.command(ALICE, text, user_id=admin)
        assert "not available in this chat" in (reply.text or ""), text
    await harness.settle()
    assert await _dump(harness) == before
    assert feed_server.count("/e.xml") == 0
    assert bot_api.rejected == []


async def test_a_forged_press_cannot_tell_another_chats_id_from_an_unknown_one(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """Presses naming a subscription of another private chat, of a group or channel the presser
    does not administer, or no subscription at all are answered alike and send nothing, so
    callback data cannot be used to find out which ids exist."""
    channel, admin = -100_999, 31_338
    bot_api.add_chat(channel, "channel", title="Wire", username="wire", admins=[admin])
    bot_api.add_chat(admin, "private")
    harness = await _bot(bot_factory)
    alices = await _alice_subscribes(harness, feed_server)
    await harness.command(
        admin, f"/sub @wire {_feed(feed_server, '/w.xml', 'Wire')}", user_id=admin
    )
    assert harness.relay is not None
    [channels] = await harness.relay.store.list_subscriptions(channel)
    lure = await harness.command(BOB, "/help")
    sent = len(bot_api.sent)
    answers = {
        data: await harness.press(BOB, lure.message_id, data, user_id=BOB)
        for sub_id in (alices, channels.id, 987_654)
        for data in (f"unsub:{sub_id}", f"set:{sub_id}:album")
    }
    assert len(set(answers.values())) == 1, answers
    assert next(iter(answers.values())).startswith(STALE)
    assert len(bot_api.sent) == sent
    assert bot_api.edits == []
