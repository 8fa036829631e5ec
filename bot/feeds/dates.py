"""Entry dates as feeds write them: a right date or none, never a wrong one.

Read here, each with an optional time (``14:33``, ``14:33:00``, ``2:33 PM``, ``下午2:33``)
and zone:

- ISO 8601 / RFC 3339: ``2020-01-10T14:33:00+08:00``, ``2020-01-10 14:33``;
- RFC 822 and its kin: ``Fri, 10 Jan 2020 14:33:00 GMT``, ``Fri Jan 10 2020 14:33:00``,
  ``January 10, 2020``, with English, Portuguese, Spanish, French and German month
  names (``Seg, 24 Set 2018``);
- slashed and dotted: ``2016/6/29 15:07:41``, ``2020.1.10``, ``10.01.2020`` (dotted day
  first, as in Europe), ``29/06/2016`` and ``06/29/2016`` only when one of the first two
  numbers is over 12 (otherwise day and month cannot be told apart: unknown);
- CJK: ``2020年1月10日 14:33``, ``2020年1月10日 下午2時33分``, ``2020년 1월 10일``.

Zones: ``Z``, numeric offsets (``+0800``, ``+08:00``, ``+8``, ``GMT+8``) and names.
The names are those of RFC 822 and the ones Asian, European and Australian feeds
use (JST, KST, HKT, SGT, CET, MSK, AEST…). ``CST`` is US Central in RFC 822 but
China Standard Time in Chinese feeds: with a Chinese local zone it is +08:00.
A time without a zone, or with a name not known here, is local time: the feed's
zone when the caller knows it (``local``), else UTC.

Anything else falls back to the date feedparser read, but only when its year and
day are numbers the text contains: feedparser reads ``2016/6/29`` as 2016-11-01, and
such a date is worse than none. Years before 1980 (epoch placeholders) or after
2200 count as no date.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

CHINA = timezone(timedelta(hours=8))

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "jan january janv janvier jän januar ene enero janeiro gen",
            "feb february fev fevereiro febrero févr fevr février fevrier februar",
            "mar march marzo março marco mars mär märz mrz",
            "apr april abr abril avr avril",
            "may mai maio mayo",
            "jun june junho junio juin juni",
            "jul july julho julio juil juillet juli",
            "aug august ago agosto août aout",
            "sep sept september set setembro septiembre septembre",
            "oct october out outubro octubre octobre okt oktober",
            "nov november novembro noviembre novembre",
            "dec december dez dezembro dic diciembre déc dec décembre decembre dezember",
        ),
        start=1,
    )
    for name in names.split()
}
_ZONES = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "wet": 0, "bst": 60, "west": 60, "cet": 60,
    "met": 60, "cest": 120, "mest": 120, "eet": 120, "eest": 180, "msk": 180,
    "ist": 330, "ict": 420, "wib": 420, "hkt": 480, "sgt": 480, "myt": 480, "pht": 480,
    "awst": 480, "bjt": 480, "cct": 480, "jst": 540, "kst": 540, "acst": 570,
    "aest": 600, "acdt": 630, "aedt": 660, "nzst": 720, "nzdt": 780,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360,
    "pst": -480, "pdt": -420, "akst": -540, "akdt": -480, "hst": -600, "ast": -240,
    "adt": -180, "nst": -210, "ndt": -150,
}  # fmt: skip
_TIME = (
    r"(?:[T\s]+|\s*[,@]\s*)?(?:(?P<ampm1>上午|下午|午前|午後|오전|오후)\s*)?"
    r"(?P<h>\d{1,2})(?:[:時时시]\s*)(?P<mi>\d{1,2})(?:分|분)?"
    r"(?:[:]\s*(?P<s>\d{1,2})(?:[.,]\d+)?|\s*(?P<s2>\d{1,2})\s*[秒초])?"
    r"\s*(?P<ampm2>[AaPp]\.?[Mm]\.?)?"
)
_ZONE = (
    r"\s*\(?(?P<zone>Z|[+-]\d{1,2}(?::?\d{2})?|(?:GMT|UTC|UT)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?"
    r"|[A-Za-z]{1,5})\)?"
)
_TAIL = rf"(?:{_TIME})?(?:{_ZONE})?\s*$"
_ISO = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})" + _TAIL)
_YMD = re.compile(r"^(?P<y>\d{4})\s*[/.]\s*(?P<m>\d{1,2})\s*[/.]\s*(?P<d>\d{1,2})\.?" + _TAIL)
_CJK = re.compile(
    r"^(?P<y>\d{4})\s*[年년]\s*(?P<m>\d{1,2})\s*[月월]\s*(?P<d>\d{1,2})\s*[日일]?"
    r"(?:\s*(?:[(（][^)）\d]{1,4}[)）]|星期.|周.|.曜日?))?" + _TAIL
)
_DOTTED_DMY = re.compile(r"^(?P<d>\d{1,2})\.\s*(?P<m>\d{1,2})\.\s*(?P<y>\d{4})" + _TAIL)
_SLASHED_XXY = re.compile(r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})" + _TAIL)
_WEEKDAY = r"(?:[^\W\d_]{2,12}\.?,?\s+)?"
_DAY_MONTH = re.compile(
    rf"^{_WEEKDAY}(?P<d>\d{{1,2}})(?:\.|\s+de)?[\s-]+(?P<mon>[^\W\d_]{{3,10}})\.?(?:\s+de)?[\s-]+"
    rf"(?P<y>\d{{4}}|\d{{2}})" + _TAIL
)
_MONTH_DAY = re.compile(
    rf"^{_WEEKDAY}(?P<mon>[^\W\d_]{{3,10}})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?"
    rf"(?:\s+(?P<y>\d{{4}}))?" + rf"(?:{_TIME})?(?:{_ZONE})?(?:\s+(?P<y2>\d{{4}}))?\s*$"
)
_NUMBER = re.compile(r"\d+")
_EARLIEST = 1980
_LATEST = 2200


def local_zone(language: str, url: str) -> tzinfo | None:
    """The zone a feed's zone-less times are most likely in, from its language or host.

    Only where one zone covers the language: Chinese (+08:00), Japanese and Korean
    (+09:00). None otherwise, and the caller reads such times as UTC.
    """
    lang = language.strip().lower().replace("_", "-")
    host = re.sub(r"^[a-z]+://([^/:?#]*).*$", r"\1", url.strip().lower())
    if lang.startswith("zh") or host.endswith((".cn", ".hk", ".tw", ".mo")):
        return CHINA
    if lang.startswith(("ja", "ko")) or host.endswith((".jp", ".kr")):
        return timezone(timedelta(hours=9))
    return None


def _offset(zone: str | None, local: tzinfo | None) -> tzinfo | None:
    """The zone a time is in; ``local`` (or UTC) when none or an unknown name is given."""
    if not zone:
        return local or UTC
    text = zone.strip().lower()
    named = re.fullmatch(r"(?:gmt|utc|ut)?\s*([+-])(\d{1,2}):?(\d{2})?", text)
    if named is not None:
        minutes = int(named.group(2)) * 60 + int(named.group(3) or 0)
        if minutes > 14 * 60:
            return None
        return timezone(timedelta(minutes=-minutes if named.group(1) == "-" else minutes))
    if text == "cst" and local is not None and local.utcoffset(None) == timedelta(hours=8):
        return CHINA
    if text in _ZONES:
        return timezone(timedelta(minutes=_ZONES[text]))
    return local or UTC


def _hour(match: re.Match[str]) -> int | None:
    hour = int(match.group("h"))
    marker = (match.group("ampm1") or match.group("ampm2") or "").lower().replace(".", "")
    if marker:
        if hour > 12:
            return None
        afternoon = marker in {"pm", "下午", "午後", "오후"}
        hour = hour % 12 + (12 if afternoon else 0)
    return hour


def _build(
    match: re.Match[str], year: int, month: int, day: int, local: tzinfo | None
) -> datetime | None:
    """The aware UTC datetime of the parts, or None when they are no real date."""
    groups = match.groupdict()
    zone = _offset(groups.get("zone"), local)
    if zone is None or not _EARLIEST <= year <= _LATEST:
        return None
    hour, minute, second = 0, 0, 0
    if groups.get("h") is not None:
        found = _hour(match)
        if found is None:
            return None
        hour, minute = found, int(groups["mi"])
        second = int(groups.get("s") or groups.get("s2") or 0)
        if second == 60:  # a leap second
            second = 59
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)
    except ValueError:
        return None


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # RFC 822's two-digit years, read the way RFC 2822 says
        year += 2000 if year < 50 else 1900
    return year


def _numeric(text: str, local: tzinfo | None) -> datetime | None:
    for pattern in (_ISO, _YMD, _CJK):
        found = pattern.match(text)
        if found is not None:
            year, month, day = int(found["y"]), int(found["m"]), int(found["d"])
            return _build(found, year, month, day, local)
    found = _DOTTED_DMY.match(text)
    if found is not None:
        return _build(found, int(found["y"]), int(found["m"]), int(found["d"]), local)
    found = _SLASHED_XXY.match(text)
    if found is not None:
        first, second = int(found["a"]), int(found["b"])
        if first > 12 >= second:
            return _build(found, int(found["y"]), second, first, local)
        if second > 12 >= first:
            return _build(found, int(found["y"]), first, second, local)
        return None  # 03/04/2020: March or April, nobody can tell
    return None


def _named(text: str, local: tzinfo | None) -> datetime | None:
    found = _DAY_MONTH.match(text)
    if found is not None:
        month = _MONTHS.get(found["mon"].lower())
        if month is None:
            return None
        return _build(found, _year(found["y"]), month, int(found["d"]), local)
    found = _MONTH_DAY.match(text)
    if found is not None:
        month = _MONTHS.get(found["mon"].lower())
        year = found["y"] or found["y2"]
        if month is None or year is None:
            return None
        return _build(found, int(year), month, int(found["d"]), local)
    return None


def _plausible(moment: datetime, text: str) -> bool:
    """Whether a date read by someone else shows the year and day the text contains."""
    numbers = {int(n) for n in _NUMBER.findall(text)[:12]}
    years = (
        {moment.year, moment.year - 1, moment.year + 1}
        if moment.month in (1, 12)
        else {moment.year}
    )
    if not years & numbers and (moment.year % 100) not in numbers:
        return False
    near = {(moment + timedelta(days=shift)).day for shift in (-1, 0, 1)}
    return bool(near & numbers)


def _from_struct(parsed: Any) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime; None for impossible dates."""
    if parsed is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in parsed[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_date(
    raw: str | None, *, local: tzinfo | None = None, fallback: Any = None
) -> datetime | None:
    """The UTC moment ``raw`` names, or None when it names none for sure.

    Takes the date text as the feed gives it, the feed's local zone for zone-less
    times (see ``local_zone``) and, optionally, feedparser's reading of the same
    text (a UTC ``struct_time``), used only as the module docstring says.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text or len(text) > 100:
        return None
    moment = _numeric(text, local) if text[:1].isdigit() else None
    if moment is None and not (text[:4].isdigit() and text[4:5] in {"-", "/", ".", "年", "년"}):
        moment = _named(text, local)
    if moment is None:
        other = _from_struct(fallback)
        if other is not None and _EARLIEST <= other.year <= _LATEST and _plausible(other, text):
            moment = other
    return moment
