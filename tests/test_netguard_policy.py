"""The private-address exceptions: the switch, allowed hosts and networks, cloud metadata."""

from __future__ import annotations

from collections.abc import AsyncIterator
from ipaddress import ip_address

import pytest

from bot.config import FetchSettings
from bot.feeds import netguard
from bot.feeds.failure import FetchError, FetchErrorKind
from bot.feeds.fetch import Fetcher
from tests.fakes import feedgen
from tests.fakes.feed_server import FeedServer

FEED = feedgen.rss("Lan", [feedgen.Item(guid="1", title="one", link="https://e.com/1")])


def _policy(*hosts: str, allow_private: bool = False) -> netguard.AddressPolicy:
    settings = FetchSettings(allow_private_networks=allow_private, allowed_private_hosts=hosts)
    return netguard.AddressPolicy.from_settings(
        settings.allow_private_networks, settings.allowed_private_hosts
    )


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fd00:ec2::254",
        "100.100.100.200",
        "169.254.170.2",
        "168.63.129.16",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
    ],
)
def test_cloud_metadata_is_refused_even_with_the_switch_on(address: str) -> None:
    """Metadata services stay refused with allow_private_networks and inside allowed networks."""
    ip = ip_address(address)
    for policy in (_policy(allow_private=True), _policy("169.254.0.0/16", "fd00::/8", "0.0.0.0/0")):
        assert policy.refusal("meta.example", ip) == netguard.METADATA_REASON


def test_cloud_metadata_passes_only_when_named() -> None:
    """Naming the address itself (or as a /32) lets it through, and nothing else."""
    assert _policy("169.254.169.254").refusal("m", ip_address("169.254.169.254")) is None
    assert _policy("169.254.169.254/32").refusal("m", ip_address("169.254.169.254")) is None
    assert _policy("169.254.169.254").refusal("m", ip_address("169.254.170.2")) is not None


def test_allowed_networks_and_names() -> None:
    """A listed CIDR allows its addresses; a listed name allows its addresses, for it alone."""
    policy = _policy("10.1.0.0/16", "NAS.lan.")
    assert policy.refusal("any.example", ip_address("10.1.2.3")) is None
    assert policy.refusal("any.example", ip_address("10.2.0.1")) == "a private address"
    assert policy.refusal("nas.lan", ip_address("192.168.1.20")) is None
    assert policy.refusal("other.lan", ip_address("192.168.1.20")) == "a private address"
    assert policy.refusal("nas.lan", ip_address("169.254.169.254")) == netguard.METADATA_REASON


@pytest.mark.parametrize("bad", ["a b", "http://x", "10.0.0.0/33", "-x.lan"])
def test_bad_entries_are_named(bad: str) -> None:
    """An entry that is neither a host name nor an IP/CIDR is a config error naming it."""
    with pytest.raises(ValueError, match="allowed_private_hosts"):
        FetchSettings(allowed_private_hosts=(bad,))


@pytest.fixture
async def lan_fetcher() -> AsyncIterator[Fetcher]:
    """A guarded fetcher that allows the name ``localhost`` only."""
    client = Fetcher(FetchSettings(allowed_private_hosts=("localhost",), timeout_seconds=5))
    yield client
    await client.aclose()


async def test_an_allowed_lan_host_is_fetched_and_nothing_else(
    feed_server: FeedServer, lan_fetcher: Fetcher
) -> None:
    """``localhost`` allowed by name: fetched; the same server as 127.0.0.1: refused unseen."""
    feed_server.put("/f.xml", FEED)
    result = await lan_fetcher.fetch(f"http://localhost:{feed_server.port}/f.xml")
    assert result.body == FEED
    with pytest.raises(FetchError) as caught:
        await lan_fetcher.fetch(f"http://127.0.0.1:{feed_server.port}/f.xml")
    assert caught.value.kind is FetchErrorKind.REFUSED_ADDRESS
    assert feed_server.count("/f.xml") == 1
