"""Entry dates: each spelling feeds use gives the right moment or none, never a wrong one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from feedparser.datetimes import _parse_date as feedparser_date

from bench.render import parse_corpus_file
from bot.feeds.dates import CHINA, local_zone, parse_date
from bot.feeds.parse import parse_feed
from bot.models import Entry
from bot.pipeline import chronological
from tests.corpus import corpus_case, corpus_feed

JST = timezone(timedelta(hours=9))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


SPELLINGS = [
    ("2016/6/29 15:07:41", None, utc(2016, 6, 29, 15, 7, 41)),
    ("2020/1/10 14:33:00", CHINA, utc(2020, 1, 10, 6, 33)),
    ("2020年1月10日 14:33", CHINA, utc(2020, 1, 10, 6, 33)),
    ("2020年1月10日 下午2時33分", CHINA, utc(2020, 1, 10, 6, 33)),
    ("2020年1月10日(金) 14:33 JST", None, utc(2020, 1, 10, 5, 33)),
    ("2020년 1월 10일 오후 2:33", JST, utc(2020, 1, 10, 5, 33)),
    ("2020.01.10 14:33", None, utc(2020, 1, 10, 14, 33)),
    ("10.01.2020 14:33 CET", None, utc(2020, 1, 10, 13, 33)),
    ("29/06/2016 10:00", None, utc(2016, 6, 29, 10, 0)),
    ("06/29/2016", None, utc(2016, 6, 29)),
    ("2020-01-10 14:33:00 CST", CHINA, utc(2020, 1, 10, 6, 33)),
    ("2020-01-10 14:33:00 CST", None, utc(2020, 1, 10, 20, 33)),
    ("2020-01-10 14:33 HKT", None, utc(2020, 1, 10, 6, 33)),
    ("2020-01-10T14:33:00+08:00", None, utc(2020, 1, 10, 6, 33)),
    ("2023-01-05T16:41:48.460Z", None, utc(2023, 1, 5, 16, 41, 48)),
    ("Fri, 10 Jan 2020 14:33:00 GMT", None, utc(2020, 1, 10, 14, 33)),
    ("Fri, 10 Jan 2020 2:33 PM EST", None, utc(2020, 1, 10, 19, 33)),
    ("Mon, 18 Feb 2008 01:54:00 PST", None, utc(2008, 2, 18, 9, 54)),
    ("Wed, 12 Apr 17 09:26:37 +0530", None, utc(2017, 4, 12, 3, 56, 37)),
    ("Fri Jan 16 2004 00:00:00 GMT", None, utc(2004, 1, 16)),
    ("Sun Jan  4 16:29:06 PST 2004", None, utc(2004, 1, 5, 0, 29, 6)),
    ("Seg, 24 Set 2018 19:18:49 -0300", None, utc(2018, 9, 24, 22, 18, 49)),
    ("January 10, 2020", None, utc(2020, 1, 10)),
    ("2020-01-10 14:33 GMT+8", None, utc(2020, 1, 10, 6, 33)),
    # Unknown rather than wrong:
    ("03/04/2020", None, None),
    ("Thu, 01 Jan 1970 00:00:00 GMT", None, None),
    ("2020/13/45", None, None),
    ("next Tuesday", None, None),
    ("", None, None),
]


@pytest.mark.parametrize(("text", "local", "expected"), SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_date_spellings(text: str, local: timezone | None, expected: datetime | None) -> None:
    """Each spelling gives its moment in UTC, feedparser's reading offered as it is in parse."""
    assert parse_date(text, local=local, fallback=feedparser_date(text)) == expected


def test_a_wrong_fallback_is_refused() -> None:
    """feedparser reads 2016/6/29 as 2016-11-01; such a reading never gets through."""
    wrong = datetime(2016, 11, 1, tzinfo=UTC).timetuple()
    assert parse_date("posted 2016/6/29 15:07:41", fallback=wrong) is None
    right = datetime(2004, 5, 25, 14, 23, 17, tzinfo=UTC).timetuple()
    assert parse_date("2004-05-25 오후 some words", fallback=right) == utc(2004, 5, 25, 14, 23, 17)


@pytest.mark.parametrize(
    ("language", "url", "zone"),
    [
        ("zh-cn", "https://a.example/", CHINA),
        ("zh-Hant-TW", "https://a.example/", CHINA),
        ("", "http://www.kc0011.net/rss.asp", None),
        ("", "https://news.example.cn/rss", CHINA),
        ("ja", "https://a.example/", JST),
        ("en", "https://a.example/", None),
    ],
)
def test_local_zone_from_language_or_host(language: str, url: str, zone: timezone | None) -> None:
    """Zone-less times are read in the zone of the feed's language or country, where one fits."""
    assert local_zone(language, url) == zone


def test_field_case_slashed_dates() -> None:
    """shared/cases 05: three slashed dates, as written, newest first in the document."""
    parsed = parse_feed(corpus_case("05_slash_date.xml").read_bytes(), url="https://x.example/")
    assert [e.published for e in parsed.entries] == [
        utc(2016, 6, 29, 15, 7, 41),
        utc(2016, 6, 28, 9, 30),
        utc(2016, 5, 31, 23, 59, 59),
    ]


def test_kc0011_dates_are_its_own() -> None:
    """The GB18030 forum feed (zh-cn): 2020/1/10 14:33:00 Beijing time, never 2020-11-01."""
    _, _, entries = parse_corpus_file(corpus_feed("zh_kc0011_gb18030.xml"))
    assert entries[0].published == utc(2020, 1, 10, 6, 33)
    dated = [e.published for e in entries if e.published is not None]
    assert len(dated) == len(entries)
    assert all(d.year == 2020 and d.month == 1 for d in dated)


def _entry(key: str, published: datetime | None) -> Entry:
    return Entry(key=key, title=key, link="", published=published)


def test_order_by_date_only_when_every_entry_has_a_distinct_trustworthy_date() -> None:
    """Oldest first by date; one entry undated or most on one instant: reverse document order."""
    a, b, c = utc(2020, 1, 1), utc(2020, 1, 2), utc(2020, 1, 3)
    dated = [_entry("b", b), _entry("c", c), _entry("a", a)]
    assert [e.key for e in chronological(dated)] == ["a", "b", "c"]
    one_undated = [_entry("b", b), _entry("x", None), _entry("a", a)]
    assert [e.key for e in chronological(one_undated)] == ["a", "x", "b"]
    stamped = [_entry("n1", c), _entry("n2", c), _entry("n3", a), _entry("n4", c)]
    assert [e.key for e in chronological(stamped)] == ["n4", "n3", "n2", "n1"]
