"""Which URLs Telegram takes as a text link: a port of TDLib's ``check_link``."""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass

from tests.fakes.telegram_rules.base import URL_PART_CHARS


class LinkError(ValueError):
    """Why Telegram refuses a URL as a text link, in TDLib's words (e.g. ``Wrong HTTP URL``)."""


@dataclass(frozen=True)
class _HttpUrl:
    """What TDLib's ``parse_url`` makes of a link: ``[https?://][userinfo@]host[:port]query``."""

    protocol: str
    userinfo: str
    host: str
    is_ipv6: bool
    specified_port: int
    query: str

    def get_url(self) -> str:
        userinfo = f"{self.userinfo}@" if self.userinfo else ""
        port = f":{self.specified_port}" if self.specified_port > 0 else ""
        return f"{self.protocol}://{userinfo}{self.host}{port}{self.query}"


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _check_url_part(part: str, name: str, *, allow_colon: bool) -> None:
    """RFC 3986 characters, percent escapes and any non-ASCII character pass."""
    i = 0
    while i < len(part):
        char = part[i]
        if (
            (char.isascii() and char.isalnum())
            or char in URL_PART_CHARS
            or (allow_colon and char == ":")
        ):
            i += 1
        elif char == "%":
            pair = part[i + 1 : i + 3]
            if len(pair) == 2 and all(c in string.hexdigits for c in pair):
                i += 3
            else:
                raise LinkError(f"Wrong percent-encoded symbol in URL {name}")
        elif ord(char) >= 128:
            i += 1
        else:
            raise LinkError(f"Disallowed character in URL {name}")


def _parse_port(text: str) -> int:
    """The port after the last colon: 1-65535 in plain decimal (leading zeros ignored)."""
    digits = text.lstrip("0") or "0"
    if not re.fullmatch(r"[1-9][0-9]{0,4}", digits) or int(digits) > 65535:
        raise LinkError("Wrong port number specified in the URL")
    return int(digits)


def _parse_url(url: str) -> _HttpUrl:
    """TDLib's ``parse_url`` (tdutils/td/utils/HttpUrl.cpp); a URL without ``://`` is http."""
    head = re.match(r"[^:/?#@\[\]]*", url)
    assert head is not None  # an empty match at least
    protocol, rest = "http", url
    if url.startswith("://", head.end()):
        protocol = _ascii_lower(head.group())
        if protocol not in {"http", "https"}:
            raise LinkError("Unsupported URL protocol")
        rest = url[head.end() + 3 :]
    authority = re.match(r"[^/?#]*", rest)
    assert authority is not None
    userinfo_host_port, query = authority.group(), rest[authority.end() :]
    port = 0
    colon = max(userinfo_host_port.rfind(c) for c in ":]@")
    if colon > 0 and userinfo_host_port[colon] == ":":
        port = _parse_port(userinfo_host_port[colon + 1 :])
        userinfo_host_port = userinfo_host_port[:colon]
    userinfo, _, host = userinfo_host_port.rpartition("@")
    is_ipv6 = host.startswith("[") and host.endswith("]") and len(host) > 1
    if is_ipv6:
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise LinkError("Wrong IPv6 address specified in the URL") from None
    if not host:
        raise LinkError("URL host is empty")
    if host == ".":
        raise LinkError("Host is invalid")
    query = query.rstrip(" \t\r\n\0\v") or "/"
    query = ("" if query.startswith("/") else "/") + "".join(
        f"%{ord(c):02X}" if ord(c) <= 0x20 else c for c in query
    )
    host = _ascii_lower(host)
    if is_ipv6:
        if any(c not in ":.0123456789abcdef" for c in host[1:-1]):
            raise LinkError("Wrong IPv6 URL host")
    else:
        _check_url_part(host, "host", allow_colon=False)
        _check_url_part(userinfo, "userinfo", allow_colon=True)
    return _HttpUrl(protocol, userinfo, host, is_ipv6, port, query)


def check_link(url: str) -> str:
    """The URL as Telegram stores a text link, or ``LinkError`` saying why it is refused.

    A port of TDLib's ``LinkManager::check_link_impl`` (td/telegram/LinkManager.cpp):
    http and https links need a host with a dot (or an IPv6 literal); ``tg:``,
    ``ton:`` and ``tonsite:`` deep links need a plain host and no port or user info.
    Every other scheme fails to parse: ``ftp://`` as an unsupported protocol, most
    ``scheme:rest`` forms as a bad port, and ``mailto:user@host.tld`` *passes* as
    ``http://mailto:user@host.tld/`` (user info ``mailto:user``), as Telegram shows it.
    """
    lowered = _ascii_lower(url)
    deep = next((s for s in ("tg", "ton", "tonsite") if lowered.startswith(s + ":")), None)
    rest = url[len(deep) + 1 :] if deep else url
    if deep and rest.startswith("//"):
        rest = rest[2:]
    parsed = _parse_url(rest)
    if deep is None:
        if "." not in parsed.host and not parsed.is_ipv6:
            raise LinkError("Wrong HTTP URL")
        return parsed.get_url()
    if (
        _ascii_lower(rest).startswith("http://")
        or parsed.protocol == "https"
        or parsed.userinfo
        or parsed.specified_port
        or parsed.is_ipv6
    ):
        raise LinkError("Wrong tg URL" if deep == "tg" else "Wrong ton URL")
    allowed = "-_." if deep == "tonsite" else "-_"
    if any(not (c.isascii() and c.isalnum()) and c not in allowed for c in parsed.host):
        raise LinkError("Unallowed characters in URL host")
    query = parsed.query[1:] if parsed.query.startswith("/?") else parsed.query
    return f"{deep}://{parsed.host}{query}"


def normalize_link(url: str) -> str | None:
    """The URL as Telegram stores an HTML ``<a href>``, or None when Telegram drops the link."""
    try:
        return check_link(url)
    except LinkError:
        return None
