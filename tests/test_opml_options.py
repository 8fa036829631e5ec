"""newsrelay's backup attributes in OPML: every setting round-trips; untrusted values are judged."""

from __future__ import annotations

import itertools

import listparser
import pytest

from bot.filters import compile_filter
from bot.i18n.refusals import refusal_text
from bot.models import DisplayOptions, Subscription, SummaryMode
from bot.opml import Outline, read_opml, write_opml
from bot.opml_options import (
    NAMESPACE,
    ChatSettings,
    SavedSettings,
    chat_settings,
    outline_settings,
    write_backup,
)

FILTERS = [
    "",
    "乌克兰 NATO -体育",
    '标题:"俄 乌" +"peace talks" -author:新华社',
    "/乌克兰|Ukraine/ -/广告\\d+/",
    '"R&D" <tag> it\'s +"a <b> & c"',
    "“弯引号 短语” ＋必须 －排除",
    "tag:科技，人工智能、AI；机器学习",
    "/^\\[快讯\\]/ content:/\\d{4}年/",
]


INTERVALS = [None, 60, 7200, 604_800]


def _sub(
    number: int,
    filter_expr: str,
    paused: bool,
    options: DisplayOptions,
    interval: int | None = None,
) -> Subscription:
    canonical = compile_filter(filter_expr).expression if filter_expr else ""
    return Subscription(
        id=number,
        chat_id=1,
        feed_id=number,
        number=number,
        filter_expr=canonical,
        paused=paused,
        options=options,
        interval_seconds=interval,
        title=f"Feed {number} 新闻 & <co>",
        url=f"https://feeds.example/{number}.xml?a=1&b=2",
    )


def _every_combination() -> list[Subscription]:
    """Every display option value with both pause states, the filters taken in turn."""
    combos = itertools.product(
        [True, False], [True, False], [True, False], list(SummaryMode), [True, False]
    )
    return [
        _sub(
            number,
            FILTERS[number % len(FILTERS)],
            paused,
            DisplayOptions(pictures=pictures, album=album, link_preview=preview, summary=summary),
            INTERVALS[number % len(INTERVALS)],
        )
        for number, (pictures, album, preview, summary, paused) in enumerate(combos, start=1)
    ]


def _settings(sub: Subscription) -> SavedSettings:
    """What restoring ``sub`` from its own export must give."""
    options = sub.options
    return SavedSettings(
        filter_expr=sub.filter_expr,
        paused=sub.paused,
        pictures=options.pictures,
        album=options.album,
        link_preview=options.link_preview,
        summary=options.summary,
        interval=sub.interval_seconds or 0,
    )


def test_every_setting_round_trips_through_an_export() -> None:
    """48 subscriptions (every option value × paused, intervals and the default) with CJK,
    quoted and regex filters."""
    subscriptions = _every_combination()
    assert len(subscriptions) == 48
    chat_filter = compile_filter('-"广告" +/新闻|news/').expression
    data = write_backup(
        "mine", subscriptions, chat_filter=chat_filter, time_zone="Asia/Shanghai", created=0
    )
    document = read_opml(data, max_outlines=100)
    assert document.notes == ()
    assert [(o.url, o.title) for o in document.outlines] == [
        (s.url, s.title) for s in subscriptions
    ]
    for outline, sub in zip(document.outlines, subscriptions, strict=True):
        saved = outline_settings(outline)
        assert saved == _settings(sub)
        assert saved.options(DisplayOptions()) == sub.options
    assert chat_settings(document) == ChatSettings(chat_filter, "Asia/Shanghai")


@pytest.mark.parametrize("expr", FILTERS[1:])
def test_a_restored_filter_is_the_one_filter_stores(expr: str) -> None:
    """The file carries the canonical form; reading it back gives exactly that form."""
    sub = _sub(1, expr, False, DisplayOptions())
    outline = read_opml(
        write_backup("t", [sub], chat_filter="", time_zone=None, created=0), max_outlines=5
    )
    assert outline_settings(outline.outlines[0]).filter_expr == sub.filter_expr


def test_no_chat_filter_is_not_written_and_reads_as_nothing() -> None:
    """A chat without a chat-wide filter writes none; an import leaves the chat's own alone."""
    sub = _sub(1, "", False, DisplayOptions())
    data = write_backup("t", [sub], chat_filter="", time_zone=None, created=0)
    assert b"chatFilter" not in data
    assert b"timeZone" not in data
    assert chat_settings(read_opml(data, max_outlines=5)) == ChatSettings()


def test_other_apps_read_the_export_as_a_plain_list() -> None:
    """listparser (what Python feed readers use) sees every feed and title, and no error."""
    subscriptions = _every_combination()[:5]
    data = write_backup("mine", subscriptions, chat_filter="x", time_zone="UTC", created=0)
    parsed = listparser.parse(data)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.meta.title == "mine"
    assert [(f.url, f.title) for f in parsed.feeds] == [(s.url, s.title) for s in subscriptions]


def test_an_other_apps_outline_says_nothing() -> None:
    """No namespace, another namespace, unprefixed look-alikes: nothing is taken or refused."""
    data = (
        b'<opml version="2.0" xmlns:x="https://other.example/ns" chatFilter="a"><body>'
        b'<outline text="A" xmlUrl="https://a.example/rss" filter="spam" paused="true"'
        b' x:filter="spam" x:paused="true"/></body></opml>'
    )
    document = read_opml(data, max_outlines=5)
    assert outline_settings(document.outlines[0]) == SavedSettings()
    assert not outline_settings(document.outlines[0]).says_anything
    assert chat_settings(document) == ChatSettings()


def _outline(**attributes: str) -> Outline:
    """An outline as read from a file that binds our namespace to the prefix ``nr``."""
    attrs = "".join(f' nr:{name}="{value}"' for name, value in attributes.items())
    data = (
        f'<opml xmlns:nr="{NAMESPACE}"><body>'
        f'<outline text="A" xmlUrl="https://a.example/rss"{attrs}/></body></opml>'
    ).encode()
    return read_opml(data, max_outlines=5).outlines[0]


def test_hand_edited_values_in_any_case_and_spacing_are_taken() -> None:
    """TRUE, 1, 0, " Full " and any prefix bound to our namespace read as meant."""
    saved = outline_settings(
        _outline(
            paused=" TRUE ",
            pictures="0",
            album="1",
            linkPreview="False",
            summary=" Full ",
            interval=" 2H ",
        )
    )
    assert saved == SavedSettings(
        paused=True,
        pictures=False,
        album=True,
        link_preview=False,
        summary=SummaryMode.FULL,
        interval=7200,
    )
    assert saved.options(DisplayOptions()) == DisplayOptions(
        pictures=False, album=True, link_preview=False, summary=SummaryMode.FULL
    )


def test_unknown_attributes_of_our_namespace_are_ignored() -> None:
    """A newer version's attribute is neither taken nor refused; the known ones still are."""
    saved = outline_settings(_outline(colour="red", topic="5", paused="false"))
    assert saved == SavedSettings(paused=False)


def test_the_first_of_a_repeated_attribute_counts() -> None:
    """Two prefixes bound to our namespace on one outline: the first value is the one."""
    data = (
        f'<opml xmlns:a="{NAMESPACE}" xmlns:b="{NAMESPACE}"><body>'
        '<outline text="A" xmlUrl="https://a.example/rss" a:summary="none" b:summary="full"/>'
        "</body></opml>"
    ).encode()
    assert outline_settings(read_opml(data, max_outlines=5).outlines[0]).summary is SummaryMode.NONE


@pytest.mark.parametrize(
    ("attributes", "refused", "en", "zh"),
    [
        (
            {"paused": "yes"},
            "paused",
            "“yes” is not one of true, false",
            "“yes”不是 true、false 之一",
        ),
        ({"album": ""}, "album", "“” is not one of true, false", "“”不是 true、false 之一"),
        (
            {"summary": "long"},
            "summary",
            "“long” is not one of full, short, none",
            "“long”不是 full、short、none 之一",
        ),
        ({"pictures": "tr&#9;ue"}, "pictures", "“tr ue” is not one of", "“tr ue”不是"),
        ({"summary": "short\u0080"}, "summary", "“short” is not one of", "“short”不是"),
        ({"summary": "x" * 100_000}, "summary", "xxx…” is not one of", "xxx…”不是"),
        (
            {"filter": "&quot;unclosed"},
            "filter",
            "a bad filter at character 1: this quote is never closed",
            "过滤器第 1 个字符处有误：引号没有闭合",
        ),
        ({"filter": "a +"}, "filter", "at character 3: nothing follows “+”", "“+”后面缺少关键词"),
        ({"filter": "/(a)\\1/"}, "filter", "“\\1” is not a supported escape", "不支持转义"),
        ({"filter": "/((a{30}){30}){30}/"}, "filter", "the count {30} is not allowed", "重复次数"),
        (
            {"filter": "/" + "a" * 300 + "/"},
            "filter",
            "a regex may have at most 256 characters",
            "正则表达式最多 256 个字符",
        ),
        ({"filter": "x " * 60}, "filter", "at most 50 terms", "过滤器最多 50 个关键词"),
        ({"filter": "a" * 200_000}, "filter", "at most 1000 characters", "过滤器最多 1000 个字符"),
        ({"interval": "soon"}, "interval", "“soon” is not an interval", "“soon”不是有效的间隔"),
        ({"interval": "0"}, "interval", "“0” is not an interval", "“0”不是有效的间隔"),
    ],
    ids=[
        "yes",
        "empty",
        "summary-word",
        "tab-inside",
        "c1-control",
        "huge-option",
        "unclosed-quote",
        "missing-term",
        "backreference",
        "nested-repeats",
        "long-regex",
        "many-terms",
        "huge-filter",
        "not-an-interval",
        "zero-interval",
    ],
)
def test_a_refused_value_is_named_with_why_and_the_rest_still_applies(
    attributes: dict[str, str], refused: str, en: str, zh: str
) -> None:
    """Each bad value is one refusal worded in English and in Chinese; good ones are taken."""
    saved = outline_settings(_outline(**attributes, linkPreview="false"))
    assert saved.link_preview is False
    [refusal] = saved.refused
    assert refusal.attribute == refused
    english, chinese = refusal_text("en", refusal), refusal_text("zh", refusal)
    assert en in english
    assert zh in chinese
    assert len(english) < 200
    assert len(chinese) < 200
    assert "\t" not in english
    assert "\x80" not in english


def test_a_file_of_long_filters_is_judged() -> None:
    """200 outlines, each with a 1000-character 50-term filter, are read and each judged."""
    expr = " ".join(f"/w{n}[0-9]+/" for n in range(50))[:1000]
    outlines = [
        Outline(f"https://f.example/{n}", extensions=((f"{{{NAMESPACE}}}filter", expr),))
        for n in range(200)
    ]
    data = write_opml("t", outlines, created=0, namespaces={"newsrelay": NAMESPACE})
    document = read_opml(data, max_outlines=200)
    judged = [outline_settings(o) for o in document.outlines]
    assert all(s.filter_expr for s in judged)
