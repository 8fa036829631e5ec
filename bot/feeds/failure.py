"""Why a feed could not be read: every failure becomes one ``FetchErrorKind``.

``classify`` is the one place where a failure from the network, the address guard,
the decompressor or the parser gets its kind; ``status_error`` does the same for a
non-2xx answer, and the fetcher's own checks (scheme, size cap, redirect limit)
raise an already classified ``FetchError``. The rest of the bot acts on kinds: the
scheduler backs off, the store keeps ``FetchError.code``, and the reply layer
(``bot.i18n.fetch_failure_text``) turns a kind into a sentence in the chat's
language. ``str(error)`` is an English detail for logs and the command line only.
"""

from __future__ import annotations

import socket
import ssl
import time
import zlib
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from enum import StrEnum
from http import HTTPStatus

import httpcore
import httpx

from bot.feeds import netguard
from bot.feeds.parse import NotAFeed


class FetchErrorKind(StrEnum):
    """What went wrong while reading a feed; each kind has one sentence per language."""

    INVALID_URL = "invalid_url"
    """Not a web address, or a redirect to something that is not one."""
    BAD_SCHEME = "bad_scheme"
    """A scheme other than http and https (file:, ftp:, data:…)."""
    REFUSED_ADDRESS = "refused_address"
    """The host is (or resolves to) an address the private-network guard refuses."""
    DNS = "dns"
    CONNECT = "connect"
    """No connection could be opened (refused, unreachable)."""
    TLS = "tls"
    PROTOCOL = "protocol"
    """The server broke HTTP."""
    NETWORK = "network"
    """Any other transport failure, e.g. a connection dropped mid-body."""
    TIMEOUT = "timeout"
    TOO_BIG = "too_big"
    BAD_ENCODING = "bad_encoding"
    """A compression we do not speak, or a corrupt compressed body."""
    TOO_MANY_REDIRECTS = "too_many_redirects"
    HTTP_STATUS = "http_status"
    """A non-2xx, non-redirect answer; ``FetchError.status`` has the code."""
    NOT_A_FEED = "not_a_feed"
    """The document is neither RSS, Atom nor JSON Feed."""
    NO_FEED_FOUND = "no_feed_found"
    """A web page that links no readable feed."""
    INTERNAL = "internal"
    """A bug of ours while reading the feed (logged with its traceback)."""


HOST_KINDS = frozenset(
    {
        FetchErrorKind.REFUSED_ADDRESS,
        FetchErrorKind.DNS,
        FetchErrorKind.CONNECT,
        FetchErrorKind.TLS,
        FetchErrorKind.PROTOCOL,
        FetchErrorKind.NETWORK,
    }
)
"""Kinds whose sentence names the server (``FetchError.host``)."""
_LIMIT_KINDS = frozenset(
    {FetchErrorKind.TIMEOUT, FetchErrorKind.TOO_BIG, FetchErrorKind.TOO_MANY_REDIRECTS}
)


class FetchError(Exception):
    """A feed could not be read; ``kind`` says why, the other fields say the particulars.

    ``host`` names the server for network kinds, ``status`` the HTTP code for
    HTTP_STATUS, ``limit`` the cap that was hit (seconds for TIMEOUT, bytes for
    TOO_BIG, hops for TOO_MANY_REDIRECTS), ``retry_after`` the seconds a 429/503
    asked for. ``str(error)`` is an English detail for logs; never show it to a chat.
    """

    def __init__(
        self,
        kind: FetchErrorKind,
        detail: str = "",
        *,
        host: str = "",
        status: int | None = None,
        limit: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail or kind.value)
        self.kind = kind
        self.host = host
        self.status = status
        self.limit = limit
        self.retry_after = retry_after

    @property
    def code(self) -> str:
        """A short stable form to store: ``kind`` or ``kind:value`` (see ``from_code``)."""
        if self.kind in HOST_KINDS and self.host:
            return f"{self.kind.value}:{self.host}"
        if self.kind is FetchErrorKind.HTTP_STATUS and self.status is not None:
            return f"{self.kind.value}:{self.status}"
        if self.kind in _LIMIT_KINDS and self.limit is not None:
            limit = self.limit
            return f"{self.kind.value}:{int(limit) if limit == int(limit) else limit}"
        return self.kind.value

    @classmethod
    def from_code(cls, code: str) -> FetchError | None:
        """The error a ``code`` stands for, or None when ``code`` is not one (older free text)."""
        name, _, value = code.partition(":")
        try:
            kind = FetchErrorKind(name)
        except ValueError:
            return None
        try:
            if kind in HOST_KINDS:
                return cls(kind, host=value)
            if kind is FetchErrorKind.HTTP_STATUS:
                return cls(kind, status=int(value)) if value else cls(kind)
            if kind in _LIMIT_KINDS:
                return cls(kind, limit=float(value)) if value else cls(kind)
        except ValueError:
            return None
        return None if value else cls(kind)


def human_size(size: float) -> str:
    """10485760 -> "10 MB": the cap as a user would write it, in unit symbols any language reads."""
    size = int(size)
    mib = 1024 * 1024
    if size >= mib:
        return f"{size // mib} MB" if size % mib == 0 else f"{size / mib:.1f} MB"
    return f"{size // 1024} KB" if size % 1024 == 0 else f"{size} B"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def status_error(status: int, headers: Mapping[str, str]) -> FetchError:
    """The error for a non-2xx, non-redirect answer, with Retry-After where it means something."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(headers.get("retry-after"))
    return FetchError(
        FetchErrorKind.HTTP_STATUS,
        f"HTTP {status} {phrase}".rstrip(),
        status=status,
        retry_after=retry_after,
    )


_TABLE: tuple[
    tuple[type[BaseException] | tuple[type[BaseException], ...], FetchErrorKind, str], ...
] = (
    # First match wins: subclasses before their bases (httpx's errors are TransportErrors).
    (NotAFeed, FetchErrorKind.NOT_A_FEED, "{exc}"),
    (
        (TimeoutError, httpx.TimeoutException, httpcore.TimeoutException),
        FetchErrorKind.TIMEOUT,
        "timed out after {timeout}",
    ),
    (netguard.RefusedAddressError, FetchErrorKind.REFUSED_ADDRESS, "{exc}"),
    ((socket.gaierror, UnicodeError), FetchErrorKind.DNS, "cannot resolve host {host}"),
    (httpx.InvalidURL, FetchErrorKind.INVALID_URL, "the server redirected to an invalid URL"),
    (zlib.error, FetchErrorKind.BAD_ENCODING, "the compressed body is corrupt"),
    (
        (httpx.ConnectError, httpcore.ConnectError),
        FetchErrorKind.CONNECT,
        "cannot connect to {host}",
    ),
    (
        (httpx.ProxyError, httpcore.ProxyError),
        FetchErrorKind.CONNECT,
        "the proxy did not connect to {host}",
    ),
    (
        (httpx.RemoteProtocolError, httpcore.RemoteProtocolError),
        FetchErrorKind.PROTOCOL,
        "{host} broke the HTTP protocol",
    ),
    # Never the library's text: it may echo the URL's path, query or credentials.
    (
        (httpx.TransportError, httpcore.NetworkError, httpcore.ProtocolError),
        FetchErrorKind.NETWORK,
        "connection to {host} failed",
    ),
)

READ_FAILURES: tuple[type[BaseException], ...] = tuple(
    kind for types, _, _ in _TABLE for kind in (types if isinstance(types, tuple) else (types,))
)
"""The failures ``classify`` knows; anything else is a bug and is left to propagate."""


def classify(exc: BaseException, *, host: str = "", timeout: float | None = None) -> FetchError:
    """The kind of one failure to read a feed from ``host`` (a ``FetchError`` is returned as is).

    ``timeout`` is the deadline that applied, named in a TIMEOUT. An exception
    outside ``READ_FAILURES`` is INTERNAL: callers catch only those, so it means
    a bug that was logged elsewhere.
    """
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, netguard.RefusedAddressError):
        host = exc.host
    if isinstance(exc, httpx.ConnectError | httpcore.ConnectError) and _caused_by_tls(exc):
        return FetchError(FetchErrorKind.TLS, f"TLS handshake with {host} failed", host=host)
    for types, kind, template in _TABLE:
        if isinstance(exc, types):
            limit = timeout if kind is FetchErrorKind.TIMEOUT else None
            seconds = "the deadline" if timeout is None else f"{timeout:g} s"
            detail = template.format(exc=exc, host=host, timeout=seconds)
            return FetchError(kind, detail, host=host, limit=limit)
    return FetchError(FetchErrorKind.INTERNAL, f"internal error: {type(exc).__name__}")


def _caused_by_tls(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
