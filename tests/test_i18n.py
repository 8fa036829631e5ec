"""Reply texts: plural forms, and every fetch-failure kind as a sentence in both languages."""

from __future__ import annotations

import re

import pytest

from bot.feeds.failure import FetchError, FetchErrorKind
from bot.filters import FilterSyntaxError, compile_filter
from bot.filters.match import REGEX_PROBLEMS
from bot.filters.syntax import ERROR_CODES
from bot.i18n import LANGUAGES, t
from bot.i18n.failures import fetch_failure_text, stored_error_text
from bot.i18n.filter_errors import filter_error_reason, filter_error_text
from bot.i18n.texts import EN, ZH, Plural

K = FetchErrorKind
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def _latin_words(text: str, *allowed: str) -> list[str]:
    """English-looking words in ``text`` other than the ``allowed`` names (hosts, HTTP, TLS…)."""
    for name in allowed:
        text = text.replace(name, "")
    return _LATIN_WORD.findall(text)


@pytest.mark.parametrize(
    ("error", "en", "zh"),
    [
        (FetchError(K.INVALID_URL),
         "not a web address (it must start with http:// or https://)",
         "不是网址（须以 http:// 或 https:// 开头）"),
        (FetchError(K.BAD_SCHEME), "only http:// and https:// addresses are supported",
         "只支持 http:// 和 https:// 网址"),
        (FetchError(K.REFUSED_ADDRESS, host="10.0.0.1"),
         "refused: 10.0.0.1 is not a public address", "已拒绝：10.0.0.1 不是公网地址"),
        (FetchError(K.DNS, host="nx.example"), "cannot resolve host nx.example",
         "无法解析主机 nx.example"),
        (FetchError(K.CONNECT, host="a.example"), "cannot connect to a.example",
         "无法连接到 a.example"),
        (FetchError(K.TLS, host="a.example"), "TLS handshake with a.example failed",
         "与 a.example 的 TLS 握手失败"),
        (FetchError(K.PROTOCOL, host="a.example"), "a.example broke the HTTP protocol",
         "a.example 的响应不符合 HTTP 协议"),
        (FetchError(K.NETWORK, host="a.example"), "connection to a.example failed",
         "与 a.example 的连接中断"),
        (FetchError(K.TIMEOUT, limit=20.0), "timed out after 20 seconds",
         "20 秒内没有读完，已超时"),
        (FetchError(K.TIMEOUT, limit=1.0), "timed out after 1 second", "1 秒内没有读完，已超时"),
        (FetchError(K.TIMEOUT, limit=0.5), "timed out after 0.5 seconds",
         "0.5 秒内没有读完，已超时"),
        (FetchError(K.TOO_BIG, limit=10485760), "the feed is larger than 10 MB",
         "订阅源超过 10 MB"),
        (FetchError(K.BAD_ENCODING), "the server sent a compressed body that cannot be read",
         "服务器返回的压缩内容无法解压"),
        (FetchError(K.TOO_MANY_REDIRECTS, limit=5), "too many redirects (more than 5)",
         "重定向次数过多（超过 5 次）"),
        (FetchError(K.HTTP_STATUS, status=404), "the server answered HTTP 404 Not Found",
         "服务器返回 HTTP 404"),
        (FetchError(K.HTTP_STATUS, status=599), "the server answered HTTP 599",
         "服务器返回 HTTP 599"),
        (FetchError(K.NOT_A_FEED), "not a feed (RSS, Atom or JSON Feed)",
         "不是订阅源（RSS、Atom 或 JSON Feed）"),
        (FetchError(K.NO_FEED_FOUND), "no feed found on that page", "该网页上没有找到订阅源"),
        (FetchError(K.INTERNAL), "internal error while reading the feed (logged)",
         "读取订阅源时出现内部错误（已记录）"),
        (FetchError(K.TIMEOUT), "could not read the feed", "无法读取订阅源"),
        (FetchError(K.CONNECT), "could not read the feed", "无法读取订阅源"),
    ],
)  # fmt: skip
def test_fetch_failure_sentence(error: FetchError, en: str, zh: str) -> None:
    """Each kind has one sentence per language; one lacking its value gets the generic one."""
    assert (fetch_failure_text("en", error), fetch_failure_text("zh", error)) == (en, zh)


@pytest.mark.parametrize("kind", list(FetchErrorKind))
def test_every_kind_is_worded_in_every_language(kind: FetchErrorKind) -> None:
    """No kind falls back to English in a Chinese chat, and no English detail leaks in."""
    error = FetchError(
        kind, "ENGLISH DETAIL", host="h.example", status=500, limit=3.0, retry_after=None
    )
    assert f"fetch_{kind.value}" in EN
    assert f"fetch_{kind.value}" in ZH
    for lang in LANGUAGES:
        assert "DETAIL" not in fetch_failure_text(lang, error)
    zh = fetch_failure_text("zh", error)
    assert _latin_words(zh, "h.example", "HTTP", "TLS", "RSS", "Atom", "JSON", "Feed", "http",
                        "https") == []  # fmt: skip


def test_a_reason_is_escaped_once_in_its_reply() -> None:
    """A reason is plain text; the reply template escapes it, and only once."""
    reason = fetch_failure_text("zh", FetchError(K.DNS, host="a&b"))
    assert reason == "无法解析主机 a&b"
    assert t("zh", "sub_failed", url="http://a&b/", reason=reason) == (
        "❌ http://a&amp;b/：无法解析主机 a&amp;b"
    )


@pytest.mark.parametrize(
    ("stored", "en", "zh"),
    [
        ("http_status:503", "the server answered HTTP 503 Service Unavailable",
         "服务器返回 HTTP 503"),
        ("timeout:20", "timed out after 20 seconds", "20 秒内没有读完，已超时"),
        ("HTTP 503", "HTTP 503", "HTTP 503"),
    ],
)  # fmt: skip
def test_stored_error(stored: str, en: str, zh: str) -> None:
    """A stored code is worded in the chat's language; older free text is shown as it was."""
    assert (stored_error_text("en", stored), stored_error_text("zh", stored)) == (en, zh)


@pytest.mark.parametrize(
    ("key", "count", "en"),
    [
        ("unsub_all", 1, "Unsubscribed from 1 feed"),
        ("unsub_all", 0, "Unsubscribed from 0 feeds"),
        ("unsub_all", 2, "Unsubscribed from 2 feeds"),
        ("pause_all", 1, "⏸ Paused 1 subscription; /resume all restarts it"),
        ("resume_all", 3, "▶️ Resumed 3 subscriptions"),
        ("import_start", 1, "Importing 1 feed…"),
        ("unsub_all_confirm", 1, "Remove the only subscription, with its filter?"),
        ("unsub_all_confirm", 4, "Remove all 4 subscriptions, with their filters?"),
        ("offer_many", 2, "Subscribe this chat to these 2 addresses?"),
        ("sub_progress_done", 1, "✅ The address was read; the result follows"),
        ("sub_progress_done", 7, "✅ All 7 addresses were read; the results follow"),
    ],
)
def test_plural_forms(key: str, count: int, en: str) -> None:
    """English picks its form by count; Chinese has one form."""
    assert t("en", key, count=count) == en
    assert str(count) in t("zh", key, count=count)


@pytest.mark.parametrize("count", [1, 3])
def test_the_limit_line_reads_right_for_one_and_many(count: int) -> None:
    """The line for addresses /sub could not take, in both languages, one and several."""
    en = t("en", "sub_over_limit", count=count, limit=200)
    assert en.startswith(f"❌ {count} more {'address was' if count == 1 else 'addresses were'}")
    zh = t("zh", "sub_over_limit", count=count, limit=200)
    assert zh == f"❌ 另有 {count} 个网址未能订阅：本聊天的订阅已达上限 200 个"


def test_plural_templates_are_english_only() -> None:
    """Chinese has no plural forms: every Chinese template is a plain string."""
    assert [key for key, value in ZH.items() if isinstance(value, Plural)] == []
    assert set(EN) == set(ZH)


def _refusal(expr: str) -> FilterSyntaxError:
    try:
        compile_filter(expr)
    except FilterSyntaxError as exc:
        return exc
    raise AssertionError(f"{expr!r} was accepted")


@pytest.mark.parametrize(
    ("expr", "en", "zh"),
    [
        ('乌克兰 "北约 峰会', "❌ Bad filter at character 5: this quote is never closed",
         "❌ 过滤器第 5 个字符处有误：引号没有闭合"),
        ("乌克兰 auther:x", "❌ Bad filter at character 5: unknown field “auther”; the fields are "
         "title, content, author and tag (quote the term to search for it as written)",
         "❌ 过滤器第 5 个字符处有误：没有“auther”这个字段；可用字段为 标题、正文、作者、标签"
         "（要按原样搜索这个词，请加引号）"),
        ("(乌克兰 OR 俄罗斯", "❌ Bad filter at character 1: this parenthesis is never closed",
         "❌ 过滤器第 1 个字符处有误：这个括号没有闭合"),
        ("乌克兰 OR", "❌ Bad filter at character 5: OR needs a term on each side",
         "❌ 过滤器第 5 个字符处有误：OR 两边都要有关键词"),
        ("乌克兰 NOT", "❌ Bad filter at character 5: NOT needs a term after it",
         "❌ 过滤器第 5 个字符处有误：NOT 后面要有关键词"),
        ("/(?<=a)b/", "❌ Bad filter at character 1: bad regex: “(?&lt;=”: lookarounds, "
         "backreferences and such groups are not supported",
         "❌ 过滤器第 1 个字符处有误：正则表达式有误：“(?&lt;=”：不支持环视、反向引用这类写法"),
        ("a" * 1001, "❌ Bad filter at character 1001: a filter may have at most 1000 characters",
         "❌ 过滤器第 1001 个字符处有误：过滤器最多 1000 个字符"),
    ],
)  # fmt: skip
def test_filter_error_reply(expr: str, en: str, zh: str) -> None:
    """A refused filter is one line in the chat's language: where, and why."""
    error = _refusal(expr)
    assert (filter_error_text("en", error), filter_error_text("zh", error)) == (en, zh)


_FILTER_VALUES: dict[str, str | int] = {
    "after": "+", "field": "auther", "operator": "OR", "limit": 10, "fragment": "(?=",
}  # fmt: skip
_FILTER_ERRORS = [
    *(FilterSyntaxError(code, 3, **_FILTER_VALUES) for code in ERROR_CODES if code != "bad_regex"),
    FilterSyntaxError("dangling_operator", 3, operator="NOT"),
    *(
        FilterSyntaxError("bad_regex", 3, problem=problem, fragment="(?=")
        for problem in REGEX_PROBLEMS
    ),
]


@pytest.mark.parametrize("error", _FILTER_ERRORS, ids=lambda e: str(e).split(" at ")[0])
def test_every_filter_error_is_worded_in_every_language(error: FilterSyntaxError) -> None:
    """Every code (and regex problem) has its sentence in English and in Chinese, and the
    Chinese one holds no English beyond the filter language's own words."""
    for lang in LANGUAGES:
        reason = filter_error_reason(lang, error)
        assert reason
        assert "\n" not in reason
        assert "{" not in reason
    english = filter_error_reason("en", error)
    assert filter_error_reason("zh", error) != english
    assert _latin_words(filter_error_reason("zh", error), "auther", "NOT", "OR") == []
