"""End to end: /tz sets the time zone a chat's times are shown in (``bot.zones``).

Delivered entries, /list's "paused since" and the /tz reply itself show times in
the chat's zone; a name that is no IANA zone gets one line with an example, in the
chat's language.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

CHAT = 8181
GROUP, ADMIN, MEMBER = -100_8282, 8283, 8284


def _feed(feeds: FeedServer, path: str, hours: list[int]) -> str:
    items = [
        Item(
            guid=f"{path}-{hour}",
            title=f"Story at {hour:02d}:00 UTC",
            link=f"https://news.example{path}/{hour}",
            pub_date=datetime(2026, 11, 4, hour, tzinfo=UTC),
        )
        for hour in hours
    ]
    feeds.put(path, rss("Wire", items[::-1]))
    return feeds.url(path)


async def _bot(factory: HarnessFactory) -> BotHarness:
    return await factory(delivery={"backlog_on_subscribe": 1})


async def test_delivered_entries_and_replies_show_the_chats_zone(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """An entry published 08:00 UTC reads 08:00 UTC before /tz and 16:00 CST after
    /tz asia/shanghai (any letter case); the reply names the zone and its time now."""
    harness = await _bot(bot_factory)
    url = _feed(feed_server, "/w.xml", [8])
    await harness.command(CHAT, f"/sub {url}")
    entry = (await bot_api.wait_for_sent(CHAT, 2))[1]
    assert "2026-11-04 08:00 UTC" in (entry.text or "")
    answer = await harness.command(CHAT, "/tz asia/shanghai")
    now = datetime.fromtimestamp(harness.clock.time(), UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    assert answer.text == (
        f"Times in this chat are now shown in Asia/Shanghai (now {now:%Y-%m-%d %H:%M} CST)"
    )
    _feed(feed_server, "/w.xml", [8, 9])
    await harness.poll()
    latest = (await bot_api.wait_for_sent(CHAT, 4))[-1]
    assert "Story at 09:00 UTC" in (latest.text or "")
    assert "2026-11-04 17:00 CST" in (latest.text or "")
    shown = await harness.command(CHAT, "/tz")
    assert (shown.text or "").startswith("Times in this chat are shown in Asia/Shanghai (now ")
    await harness.command(CHAT, "/tz UTC")
    assert "UTC" in ((await harness.command(CHAT, "/tz")).text or "")
    assert bot_api.rejected == []


async def test_list_shows_when_a_subscription_was_paused_in_the_chats_zone(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """/list says since when a subscription is paused, in the chat's time zone."""
    harness = await _bot(bot_factory)
    await harness.command(CHAT, f"/sub {_feed(feed_server, '/p.xml', [8])}")
    await harness.settle()  # the backlog entry, before the next command
    await harness.command(CHAT, "/tz Europe/Berlin")
    await harness.command(CHAT, "/pause 1")
    paused_at = harness.clock.time()
    listing = (await harness.command(CHAT, "/list")).text or ""
    berlin = datetime.fromtimestamp(paused_at, UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert f"⏸ paused since {berlin:%Y-%m-%d %H:%M} {berlin.tzname()}" in listing


@pytest.mark.parametrize(
    ("lang", "said", "answer"),
    [
        ("en", "/tz Mars/Olympus",
         "❌ Mars/Olympus is no time zone; use an Area/City name such as /tz Asia/Shanghai "
         "or /tz Europe/Berlin"),
        ("en", "/tz +8",
         "❌ +8 is no time zone; use an Area/City name such as /tz Asia/Shanghai "
         "or /tz Europe/Berlin"),
        ("en", "/tz ../../etc/passwd",
         "❌ ../../etc/passwd is no time zone; use an Area/City name such as /tz Asia/Shanghai "
         "or /tz Europe/Berlin"),
        ("zh", "/tz 北京",
         "❌ 北京 不是时区；请用“地区/城市”格式，例如 /tz Asia/Shanghai 或 /tz Europe/Berlin"),
    ],
)  # fmt: skip
async def test_a_wrong_name_gets_one_line_with_an_example(
    bot_factory: HarnessFactory, lang: str, said: str, answer: str
) -> None:
    """Names that are no IANA zone (an invented one, an offset, a path, a city alone) are
    refused in one line of the chat's language, and nothing changes."""
    harness = await _bot(bot_factory)
    await harness.command(CHAT, f"/lang {lang}")
    assert (await harness.command(CHAT, said)).text == answer
    assert harness.relay is not None
    stored = await harness.relay.store.get_chat(CHAT)
    assert stored is not None
    assert stored.timezone is None


async def test_in_a_group_members_may_see_the_zone_and_admins_set_it(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """A member's /tz shows the zone; a member's /tz Area/City is refused; an admin's works."""
    bot_api.add_chat(GROUP, "supergroup", title="Readers", admins=[ADMIN])
    harness = await _bot(bot_factory)
    shown = await harness.command(GROUP, "/tz", user_id=MEMBER)
    assert (shown.text or "").startswith("Times in this chat are shown in UTC (now ")
    refused = await harness.command(GROUP, "/tz Asia/Tokyo", user_id=MEMBER)
    assert refused.text == "Only chat administrators may change subscriptions and settings here"
    done = await harness.command(GROUP, "/tz Asia/Tokyo", user_id=ADMIN)
    assert (done.text or "").endswith(" JST)")
