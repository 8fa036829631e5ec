"""The one fetch-failure classifier and the stored form of its verdict, as tables."""

from __future__ import annotations

import socket
import ssl
import zlib
from ipaddress import ip_address

import httpx
import pytest

from bot.feeds import netguard
from bot.feeds.failure import (
    FetchError,
    FetchErrorKind,
    classify,
    status_error,
)
from bot.feeds.parse import NotAFeed

HOST = "news.example"


def _tls_failure() -> httpx.ConnectError:
    error = httpx.ConnectError("handshake failed")
    error.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
    return error


@pytest.mark.parametrize(
    ("exc", "kind", "detail"),
    [
        (TimeoutError(), FetchErrorKind.TIMEOUT, "timed out after 20 s"),
        (httpx.ReadTimeout("slow"), FetchErrorKind.TIMEOUT, "timed out after 20 s"),
        (httpx.ConnectTimeout("slow"), FetchErrorKind.TIMEOUT, "timed out after 20 s"),
        (socket.gaierror(-2, "Name or service not known"), FetchErrorKind.DNS,
         "cannot resolve host news.example"),
        (UnicodeError("label too long"), FetchErrorKind.DNS, "cannot resolve host news.example"),
        (httpx.ConnectError("refused"), FetchErrorKind.CONNECT, "cannot connect to news.example"),
        (_tls_failure(), FetchErrorKind.TLS, "TLS handshake with news.example failed"),
        (httpx.RemoteProtocolError("bad chunk"), FetchErrorKind.PROTOCOL,
         "news.example broke the HTTP protocol"),
        (httpx.ReadError("reset by peer"), FetchErrorKind.NETWORK,
         "connection to news.example failed"),
        (httpx.InvalidURL("bad"), FetchErrorKind.INVALID_URL,
         "the server redirected to an invalid URL"),
        (zlib.error("invalid stored block lengths"), FetchErrorKind.BAD_ENCODING,
         "the compressed body is corrupt"),
        (NotAFeed("not a feed: the document is empty"), FetchErrorKind.NOT_A_FEED,
         "not a feed: the document is empty"),
        (netguard.RefusedAddressError("intra.example", ip_address("10.0.0.1"), "a private address"),
         FetchErrorKind.REFUSED_ADDRESS,
         "refused: intra.example resolves to a private address (10.0.0.1)"),
        (KeyError("bug"), FetchErrorKind.INTERNAL, "internal error: KeyError"),
    ],
)  # fmt: skip
def test_classify(exc: BaseException, kind: FetchErrorKind, detail: str) -> None:
    """Each failure the fetcher can meet gets its kind and a detail free of the library's text."""
    error = classify(exc, host=HOST, timeout=20)
    assert (error.kind, str(error)) == (kind, detail)


def test_classify_keeps_a_classified_error() -> None:
    """A FetchError raised by the fetcher's own checks is passed through unchanged."""
    error = FetchError(FetchErrorKind.TOO_BIG, "feed is larger than 1 MB", limit=1 << 20)
    assert classify(error, host=HOST) is error


def test_refused_address_names_the_refused_host() -> None:
    """The guard's own host wins over the hop's: it is the name that was refused."""
    exc = netguard.RefusedAddressError("169.254.169.254", ip_address("169.254.169.254"), "x")
    assert classify(exc, host=HOST).host == "169.254.169.254"


@pytest.mark.parametrize(
    ("status", "retry_after_header", "detail", "retry_after"),
    [
        (404, None, "HTTP 404 Not Found", None),
        (410, None, "HTTP 410 Gone", None),
        (500, "60", "HTTP 500 Internal Server Error", None),
        (503, "60", "HTTP 503 Service Unavailable", 60.0),
        (429, "7", "HTTP 429 Too Many Requests", 7.0),
        (429, "soon", "HTTP 429 Too Many Requests", None),
        (599, None, "HTTP 599", None),
    ],
)
def test_status_error(
    status: int, retry_after_header: str | None, detail: str, retry_after: float | None
) -> None:
    """A non-2xx answer is HTTP_STATUS; only 429 and 503 carry Retry-After."""
    headers = httpx.Headers({"Retry-After": retry_after_header} if retry_after_header else {})
    error = status_error(status, headers)
    assert (error.kind, error.status, str(error), error.retry_after) == (
        FetchErrorKind.HTTP_STATUS,
        status,
        detail,
        retry_after,
    )


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (FetchError(FetchErrorKind.HTTP_STATUS, status=404), "http_status:404"),
        (FetchError(FetchErrorKind.TIMEOUT, limit=20.0), "timeout:20"),
        (FetchError(FetchErrorKind.TIMEOUT, limit=0.5), "timeout:0.5"),
        (FetchError(FetchErrorKind.TOO_BIG, limit=10485760), "too_big:10485760"),
        (FetchError(FetchErrorKind.TOO_MANY_REDIRECTS, limit=5), "too_many_redirects:5"),
        (FetchError(FetchErrorKind.CONNECT, host="[::1]"), "connect:[::1]"),
        (FetchError(FetchErrorKind.REFUSED_ADDRESS, host="10.0.0.1"), "refused_address:10.0.0.1"),
        (FetchError(FetchErrorKind.NOT_A_FEED, "not a feed: no entries"), "not_a_feed"),
        (FetchError(FetchErrorKind.INTERNAL, "internal error: KeyError"), "internal"),
    ],
)
def test_code_round_trip(error: FetchError, code: str) -> None:
    """The stored code keeps the kind and the one value its sentence needs."""
    assert error.code == code
    back = FetchError.from_code(code)
    assert back is not None
    assert (back.kind, back.host, back.status, back.limit) == (
        error.kind,
        error.host,
        error.status,
        error.limit,
    )


@pytest.mark.parametrize("text", ["HTTP 503", "", "timeout:soon", "not_a_feed:x", "nonsense:1"])
def test_free_text_is_not_a_code(text: str) -> None:
    """Older free-text errors (and garbage) are not mistaken for a code."""
    assert FetchError.from_code(text) is None
