"""Secrets out of every string that leaves the process: one function, used at the output edges.

:func:`scrub` removes

- each secret it is given (the bot token), as written and URL-encoded (``123456%3ATEST``,
  either case of hex digits, ``+`` for spaces, encoded twice);
- any bot token, known or not, in the Bot API's path forms ``/bot<token>/`` and
  ``/file/bot<token>/`` (also with the slash or the colon encoded), which the Bot API
  endpoint, a self-hosted server or a proxy may echo in an error body;
- any string shaped like a bot token (digits, a colon, 30 or more token characters);
- credentials in URLs: ``scheme://user:pass@host`` becomes ``scheme://<credentials>@host``
  (also in the malformed forms ``//user:pass@host`` and ``scheme:\\\\user:pass@host``);
- the values of query (and fragment) parameters named as secrets (``token``, ``key``,
  ``api_key``, ``apikey``, ``access_token``, ``auth``, ``secret``, ``password``, ``pass``,
  ``pwd``, ``sig``, ``signature``, ``passkey``, ``rsskey``, ``authkey``, also with a prefix
  such as ``feed_token``): private feeds (Feedbin, Miniflux, GitLab, Patreon, private
  trackers, feed services behind a paywall) carry their reader's key there, and a group's
  members who read ``/list`` are not all its owner. ``?token=abc`` becomes ``?token=<secret>``;
- both of the last two inside a URL carried percent-encoded in another's query
  (``?url=https%3A%2F%2Fu%3Ap%40host%2Ff%3Fkey%3Dabc``), as a proxy or a feed service
  takes it.

The edges that call it: the logging filter (``bot.logs``), the command line's stderr
lines and printed values (``bot.cli``), and chat replies (``bot.commands.common``), which
pass :func:`secrets_of` the settings. Scrubbing an already scrubbed text changes nothing.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    from bot.config import Settings

TOKEN_MARK = "<token>"  # noqa: S105 - the marker that replaces a token, not one
CREDENTIALS_MARK = "<credentials>"
SECRET_MARK = "<secret>"  # noqa: S105 - the marker that replaces a query secret, not one
MIN_SECRET_LENGTH = 6
"""Shorter strings are not scrubbed as secrets: replacing every "abc" would garble output,
and no real bot token is that short (the patterns below still catch token shapes)."""

_TOKEN_TAIL = r"\d+(?::|%3[aA])[A-Za-z0-9_-]+"  # noqa: S105 - a pattern, not a password
_IN_BOT_PATH = re.compile(rf"(?:(?<=/bot)|(?<=%2[fF]bot)){_TOKEN_TAIL}")
_TOKEN_SHAPE = re.compile(r"(?<![A-Za-z0-9_])\d{5,}(?::|%3[aA])[A-Za-z0-9_-]{30,}")
# userinfo (RFC 3986): no "/", "?", "#" or brackets before the "@"; up to the authority's
# last "@", so that a password written with a raw "@" goes whole. Malformed URLs are shown
# too (a refused OPML outline, a /sub typo), so the forms browsers forgive count as well:
# no scheme ("//u:p@h"), backslashes ("http:\\u:p@h") and a space in the password. The
# user name has no space, and neither holds anything but ASCII or a tag's "<" and ">":
# otherwise "https://lemonde.fr contact: redaction@lemonde.fr", a Weibo-style
# "https://weibo.com 原文 @人民日报" or a feed title "Dev // News @ Scale" read as one.
# A password without a space may hold any letter ("pässwörd", "密码"): a URL stored as
# typed keeps them unencoded, and no prose runs from "//user:" to "@" without a space.
_URL_CREDENTIALS = re.compile(
    r"(?:(?<=//)|(?<=:\\\\))(?!@)[^/\\?#\[\]<>:\s\x80-\U0010ffff]*"
    r"(?::(?:[^/\\?#\[\]<>\s]*|[^/\\?#\[\]<>\r\n\x80-\U0010ffff]*))?@"
)
# The same inside a URL carried, percent-encoded, in another URL's query (a proxy's or a
# feed service's ``?url=https%3A%2F%2Fu%3Ap%40host``, or Python's ``quote`` of it, which
# keeps the "/"): from the "//" to the encoded "@", with no "/", "?" or "#" between.
_ENCODED_CREDENTIALS = re.compile(
    r"(?:(?<=%2[fF]%2[fF])|(?<=//))(?:(?!%2[fF]|%3[fF]|%23)[!$%'-.0-;=A-~])+?%40"
)
# A value in a URL: printable ASCII up to the next parameter, fragment, quote or tag. Not
# beyond: a Chinese reply puts full-width punctuation right after a URL ("{url}：{reason}").
_VALUE = r"(?:(?![&#<>\"'])[!-~])+"
# A parameter starts after "?" or "&" (or ";", the end of "&amp;" in HTML, or "#": a
# fragment's parameters, as OAuth's "#access_token="); its name is a secret's name, maybe
# after a prefix ending in "_", "-" or "." ("feed_token", "x-api-key", "torrent_pass").
_PRIVATE_PARAMETER = (
    r"(?:[A-Za-z0-9]+[_.-])*"
    r"(?:[A-Za-z0-9]*token|key|(?:api|auth|access|private|secret)[_-]?key|auth|[A-Za-z0-9]*secret"
    r"|password|passwd|pass|pwd|sig|signature|passkey|rsskey)"
)
"""A secret parameter's name. ``passkey``, ``rsskey``, ``authkey`` and ``torrent_pass`` are
the reader's key in the feeds of private trackers (Gazelle, NexusPHP), a common private
feed among feed bots' users; ``authtoken`` or ``apitoken`` run the words together."""
_QUERY_SECRET = re.compile(rf"(?<=[?&;#])({_PRIVATE_PARAMETER}=){_VALUE}", re.IGNORECASE)
# The same in an encoded URL inside a query: "%3F" or "%26" before, "%3D" after the name,
# and the value up to the next encoded "&" or "#" (or anything that ends the outer value).
_ENCODED_QUERY_SECRET = re.compile(
    rf"(?<=%3[fF]|%26|%23)({_PRIVATE_PARAMETER}%3[dD])(?:(?!%26|%23)(?![&#<>\"'])[!-~])+",
    re.IGNORECASE,
)


def _forms(secret: str) -> set[str]:
    """The ways a secret shows up in text: as written and URL-encoded (once and twice).

    A bot token's secret half (after the colon) counts on its own too: an endpoint
    may echo just that part, and the bot id before it is no secret.
    """
    forms = {secret}
    _, colon, half = secret.partition(":")
    if colon and len(half) >= MIN_SECRET_LENGTH:
        forms.add(half)
    found: set[str] = set()
    for form in forms:
        encoded = quote(form, safe="")
        found |= {form, encoded, quote(form), quote_plus(form), quote(encoded, safe="")}
    return found


@functools.lru_cache(maxsize=32)
def _secret_pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    """One pattern for every form of every secret, longest first; None when there are none."""
    forms = {form for secret in secrets for form in _forms(secret)}
    if not forms:
        return None
    alternatives = sorted(forms, key=len, reverse=True)
    # IGNORECASE for %3a vs %3A; matching a few more spellings of a secret is harmless.
    return re.compile("|".join(re.escape(form) for form in alternatives), re.IGNORECASE)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets, bot tokens and URL credentials replaced by markers.

    ``secrets`` are the values to remove in every form (the configured bot token);
    empty ones and ones shorter than ``MIN_SECRET_LENGTH`` are ignored. Returns the
    scrubbed text (the same text when there was nothing to remove).
    """
    pattern = _secret_pattern(frozenset(s for s in secrets if len(s) >= MIN_SECRET_LENGTH))
    if pattern is not None:
        text = pattern.sub(TOKEN_MARK, text)
    text = _IN_BOT_PATH.sub(TOKEN_MARK, text)
    text = _TOKEN_SHAPE.sub(TOKEN_MARK, text)
    text = _QUERY_SECRET.sub(rf"\1{SECRET_MARK}", text)
    text = _ENCODED_QUERY_SECRET.sub(rf"\1{SECRET_MARK}", text)
    # The raw form first: "//user%40mail.example:pw@host" is one userinfo, not two.
    text = _URL_CREDENTIALS.sub(f"{CREDENTIALS_MARK}@", text)
    return _ENCODED_CREDENTIALS.sub(f"{CREDENTIALS_MARK}%40", text)


def scrub_html(text: str, secrets: Iterable[str] = ()) -> str:
    """Like :func:`scrub`, for Telegram HTML: the markers are written as escaped text.

    A raw ``<token>`` would be an unsupported tag and make Telegram refuse the reply.
    """
    return (
        scrub(text, secrets)
        .replace(TOKEN_MARK, html.escape(TOKEN_MARK))
        .replace(CREDENTIALS_MARK, html.escape(CREDENTIALS_MARK))
        .replace(SECRET_MARK, html.escape(SECRET_MARK))
    )


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """The secret values in ``settings`` that :func:`scrub` must be given: the bot token and
    the PostgreSQL password (a driver's error may quote it outside its URL).

    Other secrets of the configuration sit in URLs (proxies), whose credentials
    :func:`scrub` removes by their shape.
    """
    return tuple(
        secret
        for secret in (settings.telegram.token.get_secret_value(), settings.database.password)
        if secret
    )
