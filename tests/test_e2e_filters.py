"""End to end: keyword filters decide which entries reach a chat, and say why.

Each form of the language (OR, AND, NOT, parentheses, with +, -, quotes, fields and
regexes) is set through the chat command, judged by a poll that delivers the
matching entries and not the others, and refused when written wrong, with the
reply in English and in Chinese.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

from bot.filters import compile_filter
from bot.store.schema import MIGRATIONS
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory

CHAT = 7070
START = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
TITLES = [
    "乌克兰局势：北约召开紧急会议",
    "烏克蘭總統訪問華盛頓",
    "俄罗斯体育代表团参加冬奥会",
    "俄罗斯与中国签署能源协议",
    "欧洲杯足球赛程公布",
]


def _items(titles: list[str], first: int = 0) -> list[Item]:
    return [
        Item(
            guid=f"zh-{first + n}",
            title=title,
            link=f"https://news.example/zh/{first + n}",
            description_html=f"<p>{title}。详细报道。</p>",
            pub_date=START + timedelta(minutes=first + n),
        )
        for n, title in enumerate(titles)
    ]


SEED = Item(guid="seed", title="开始", link="https://news.example/zh/seed", pub_date=START)


async def _subscribed(factory: HarnessFactory, feeds: FeedServer) -> BotHarness:
    feeds.put("/zh.xml", rss("中文新闻", [SEED]))
    harness = await factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(CHAT, f"/sub {feeds.url('/zh.xml')}")
    return harness


async def _deliver(
    harness: BotHarness, feeds: FeedServer, api: FakeBotAPI, items: list[Item]
) -> list[str]:
    """Publish ``items``, poll, and return the first line of every entry message that arrived."""
    before = len(api.sent_to(CHAT))
    feeds.put("/zh.xml", rss("中文新闻", [*items[::-1], SEED]))
    await harness.poll()
    await harness.settle()
    return [(m.text or m.caption or "").splitlines()[0] for m in api.sent_to(CHAT)[before:]]


async def test_filter_lets_through_simplified_and_traditional(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """`/filter 1 乌克兰` passes entries with 乌克兰 or 烏克蘭 and marks the matched term."""
    harness = await _subscribed(bot_factory, feed_server)
    reply = await harness.command(CHAT, "/filter 1 乌克兰")
    assert "乌克兰" in (reply.text or "")
    arrived = await _deliver(harness, feed_server, bot_api, _items(TITLES))
    assert arrived == [TITLES[0], TITLES[1]]
    alert = [m for m in bot_api.sent_to(CHAT) if "🔔" in (m.text or m.caption or "")]
    assert len(alert) == 2
    assert bot_api.rejected == []


async def test_required_and_excluded_terms(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """`-体育 +俄罗斯`: only entries with 俄罗斯 and without 体育."""
    harness = await _subscribed(bot_factory, feed_server)
    await harness.command(CHAT, "/filter 1 -体育 +俄罗斯")
    arrived = await _deliver(harness, feed_server, bot_api, _items(TITLES))
    assert arrived == [TITLES[3]]


async def test_filter_off_restores_every_entry(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """After `/filter 1 off` every entry is delivered again."""
    harness = await _subscribed(bot_factory, feed_server)
    await harness.command(CHAT, "/filter 1 足球")
    await harness.command(CHAT, "/filter 1 off")
    arrived = await _deliver(harness, feed_server, bot_api, _items(TITLES))
    assert arrived == TITLES


async def test_chat_wide_filter_and_subscription_filter_both_apply(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """A chat filter `-体育` and a subscription filter `俄罗斯` must both pass."""
    harness = await _subscribed(bot_factory, feed_server)
    await harness.command(CHAT, "/filter all -体育")
    await harness.command(CHAT, "/filter 1 俄罗斯")
    arrived = await _deliver(harness, feed_server, bot_api, _items(TITLES))
    assert arrived == [TITLES[3]]
    listing = await harness.command(CHAT, "/list")
    assert "-体育" in (listing.text or "")
    assert "俄罗斯" in (listing.text or "")


async def test_bad_expression_names_its_position(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """An unclosed quote is refused with the character where it starts; the old filter stays."""
    harness = await _subscribed(bot_factory, feed_server)
    await harness.command(CHAT, "/filter 1 北约")
    reply = await harness.command(CHAT, '/filter 1 乌克兰 "北约 峰会')
    assert reply.text == "❌ Bad filter at character 5: this quote is never closed"
    shown = await harness.command(CHAT, "/filter 1")
    assert "北约" in (shown.text or "")
    assert "峰会" not in (shown.text or "").splitlines()[0]


async def test_filter_show_previews_latest_entries(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI
) -> None:
    """`/filter 1` shows the filter in words and ✓/✗ for the feed's latest titles."""
    harness = await _subscribed(bot_factory, feed_server)
    await _deliver(harness, feed_server, bot_api, _items(TITLES))
    await harness.command(CHAT, "/filter 1 俄罗斯")
    reply = await harness.command(CHAT, "/filter 1")
    text = reply.text or ""
    assert f"✓ {TITLES[3]}" in text
    assert f"✗ {TITLES[4]}" in text


MIXED = [
    *TITLES,
    "Ukraine and NATO hold talks",
    "F-35 order delayed again",
    "European Union summit on Russia",
]
"""Entries for the operator forms: Chinese in either script, English, an "order" that the
old reading of ``OR`` as a word used to let through."""


class Form(NamedTuple):
    """A form of the language: a filter, the entries of ``MIXED`` it delivers, a wrong
    spelling of it and the start of the refusal's reason in English and in Chinese."""

    name: str
    expr: str
    delivered: list[int]
    bad: str
    en: str
    zh: str


FORMS = [
    Form(*case)
    for case in [
        ("OR", "乌克兰 OR 俄罗斯", [0, 1, 2, 3],
         "乌克兰 OR", "at character 5: OR needs a term on each side",
         "第 5 个字符处有误：OR 两边都要有关键词"),
        ("AND", "俄罗斯 AND 中国", [3],
         "AND 中国", "at character 1: AND needs a term on each side",
         "第 1 个字符处有误：AND 两边都要有关键词"),
        ("NOT", "俄罗斯 NOT 体育", [3],
         "俄罗斯 NOT", "at character 5: NOT needs a term after it",
         "第 5 个字符处有误：NOT 后面要有关键词"),
        ("parentheses", "(乌克兰 OR Ukraine) AND NOT 北约", [1, 5],
         "(乌克兰 OR Ukraine AND NOT 北约", "at character 1: this parenthesis is never closed",
         "第 1 个字符处有误：这个括号没有闭合"),
        ("full-width", "（乌克兰 ＯＲ 俄罗斯） -体育", [0, 1, 3],
         "乌克兰 ＯＲ 俄罗斯）", "at character 11: this closing parenthesis has no opening one",
         "第 11 个字符处有误：这个右括号没有对应的左括号"),
        ("nested", "NOT (足球 OR 体育) AND (俄罗斯 OR Russia)", [3, 7],
         "NOT () AND 俄罗斯", "at character 5: empty parentheses",
         "第 5 个字符处有误：括号里是空的"),
        ("fields", '+title:(Ukraine OR "European Union") -/nato/', [7],
         "+titel:(Ukraine)", "at character 2: unknown field “titel”",
         "第 2 个字符处有误：没有“titel”这个字段"),
        ("regex", "/f-\\d+/ OR (乌克兰 -北约)", [1, 6],
         "/f-(\\d+/ OR 乌克兰", "at character 1: bad regex: a “(” is never closed",
         "第 1 个字符处有误：正则表达式有误：“(” 没有闭合"),
        ("quotes", '"European Union" OR (+"hold talks" -俄罗斯)', [5, 7],
         '("European Union) OR 俄罗斯', "at character 2: this quote is never closed",
         "第 2 个字符处有误：引号没有闭合"),
    ]
]  # fmt: skip


@pytest.mark.parametrize("form", FORMS, ids=[form.name for form in FORMS])
async def test_each_form_set_delivered_and_refused(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI, form: Form
) -> None:
    """The form, set by /filter, lets through exactly the matching entries; written wrong it
    is refused with where and why, in English and then, after /lang zh, in Chinese."""
    harness = await _subscribed(bot_factory, feed_server)
    reply = await harness.command(CHAT, f"/filter 1 {form.expr}")
    assert (reply.text or "").startswith("✅ New filter for #1:")
    arrived = await _deliver(harness, feed_server, bot_api, _items(MIXED))
    assert arrived == [MIXED[n] for n in form.delivered]
    refused = await harness.command(CHAT, f"/filter 1 {form.bad}")
    assert (refused.text or "").startswith(f"❌ Bad filter {form.en}"), refused.text
    await harness.command(CHAT, "/lang zh")
    refused = await harness.command(CHAT, f"/filter 1 {form.bad}")
    assert (refused.text or "").startswith(f"❌ 过滤器{form.zh}"), refused.text
    english = [w for w in _LATIN_WORD.findall(refused.text or "") if w not in form.bad]
    assert english == []  # the user's own words aside
    shown = await harness.command(CHAT, "/filter 1")
    canonical = compile_filter(form.expr).expression
    assert (shown.text or "").startswith(f"#1 的过滤器：{canonical}\n")
    assert bot_api.rejected == []


_LATIN_WORD = re.compile(r"\b(?!(?:AND|OR|NOT)\b)[A-Za-z]{3,}")
"""English-looking words, the operators (the language's own words) aside."""


async def test_chat_filter_wording_names_subscription_filters(
    bot_factory: HarnessFactory, feed_server: FeedServer
) -> None:
    """`/filter all` without a chat filter says which subscriptions have their own, in either
    language; clearing a subscription's filter says the chat's filter still applies."""
    harness = await _subscribed(bot_factory, feed_server)
    feed_server.put("/second.xml", rss("第二", [SEED]))
    await harness.command(CHAT, f"/sub {feed_server.url('/second.xml')}")
    none = await harness.command(CHAT, "/filter all")
    assert none.text == "The whole chat has no filter: every entry is delivered"
    await harness.command(CHAT, "/filter 2 俄罗斯")
    one = await harness.command(CHAT, "/filter all")
    assert one.text == "The whole chat has no filter; #2 has its own (/filter 2 shows it)"
    await harness.command(CHAT, "/filter 1 乌克兰 OR 北约")
    two = await harness.command(CHAT, "/filter all")
    assert two.text == "The whole chat has no filter; #1, #2 have their own (/filter 1 shows one)"
    await harness.command(CHAT, "/filter all -体育")
    cleared = await harness.command(CHAT, "/filter 2 off")
    assert cleared.text == (
        "Filter for #2 cleared; the whole chat's filter still applies (/filter all shows it)"
    )
    own = await harness.command(CHAT, "/filter 2")
    assert own.text == (
        "#2 has no filter of its own; the whole chat's filter applies (/filter all shows it)"
    )
    await harness.command(CHAT, "/lang zh")
    kept = await harness.command(CHAT, "/filter all off")
    assert kept.text == "已清除整个聊天的过滤器；#1 仍有自己的过滤器"
    listed = await harness.command(CHAT, "/filter all")
    assert listed.text == "整个聊天没有过滤器；#1 有自己的过滤器（/filter 1 可查看）"
    shown = await harness.command(CHAT, "/filter all 乌克兰 OR Ukraine")
    assert shown.text == "✅ 整个聊天的新过滤器：\n必须有：乌克兰 或 Ukraine"


FILTER_MIGRATION = next(n for n, sql in enumerate(MIGRATIONS, 1) if "upgrade_filter" in sql)


@pytest.mark.sqlite_only  # a legacy SQLite file; no PostgreSQL database predates operators
async def test_filter_stored_before_operators_still_delivers_what_it_did(
    bot_factory: HarnessFactory, feed_server: FeedServer, bot_api: FakeBotAPI, tmp_path: Path
) -> None:
    """A database written before operators, holding `乌克兰 OR 俄罗斯` (then three words, `or`
    among them), still delivers what it did after the bot upgrades it: "order" too."""
    feed_server.put("/zh.xml", rss("中文新闻", [SEED]))
    legacy = tmp_path / "bot0.db"  # the harness's first database
    with contextlib.closing(sqlite3.connect(legacy)) as raw:
        for script in MIGRATIONS[:3]:
            raw.executescript(script)
        raw.execute("PRAGMA user_version = 3")
    harness = await bot_factory(delivery={"backlog_on_subscribe": 0})
    await harness.command(CHAT, f"/sub {feed_server.url('/zh.xml')}")
    await harness.stop()
    with contextlib.closing(sqlite3.connect(legacy)) as raw:
        raw.execute("UPDATE subscriptions SET filter_expr = '乌克兰 OR 俄罗斯'")
        # Back to just before the migration that respells filters; the later ones may run
        # twice (after a later ALTER TABLE, build the file instead).
        assert all("IF NOT EXISTS" in sql for sql in MIGRATIONS[FILTER_MIGRATION:])
        raw.execute(f"PRAGMA user_version = {FILTER_MIGRATION - 1}")
        raw.commit()
    await harness.start()
    arrived = await _deliver(harness, feed_server, bot_api, _items(MIXED))
    assert arrived == [MIXED[n] for n in (0, 1, 2, 3, 6)]
    shown = await harness.command(CHAT, "/filter 1")
    assert (shown.text or "").startswith(
        'Filter for #1: 乌克兰 "OR" 俄罗斯\nAny of: 乌克兰, "OR", 俄罗斯'
    )
