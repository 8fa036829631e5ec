"""Which network addresses a feed fetch may reach.

A feed URL comes from any chat member, so without a guard the bot would fetch
its own metadata service (169.254.169.254), the router, or a database on
localhost for them. The policy: only globally routable unicast addresses; an
IPv6 address that embeds an IPv4 one (mapped, 6to4, NAT64, Teredo,
IPv4-compatible) is judged by the IPv4 address it reaches. A host is refused if
ANY address it resolves to is refused, because the connection may use any of
them.

Exceptions, in ``AddressPolicy``: ``fetch.allow_private_networks`` lets every
private address through, ``fetch.allowed_private_hosts`` only the host names and
networks it lists. Cloud metadata services (``CLOUD_METADATA``) hand out the
machine's credentials, so their addresses stay refused, even with the switch on or
inside a listed network, unless the list names the address itself.

Behind a proxy (``fetch.proxy``) the proxy resolves names and connects, so the
guard checks what it can see from here (``check_proxied``): an IP literal in the
URL, and the addresses the name resolves to locally, if it resolves. A name only
the proxy can resolve, and whatever the proxy's own network can reach, are beyond
it: the proxy's own rules must refuse private destinations (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

CLOUD_METADATA: frozenset[Address] = frozenset(
    ip_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle, Hetzner…
        "fd00:ec2::254",  # AWS over IPv6
        "169.254.170.2",  # AWS ECS task metadata and credentials
        "100.100.100.200",  # Alibaba Cloud
        "169.254.0.23",  # Tencent Cloud
        "168.63.129.16",  # Azure WireServer (a public-range address)
        "192.0.0.192",  # Oracle Cloud (legacy)
    )
)
"""Instance metadata services: refused unless ``fetch.allowed_private_hosts`` names them."""
METADATA_REASON = "a cloud metadata address"
LOCAL_RESOLVE_SECONDS = 3.0
"""Behind a proxy, how long a local look-up of a feed's host may take before the
proxy is left to resolve it (a firewalled machine's resolver may never answer)."""

_V4_RANGES: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), label)
    for net, label in (
        ("255.255.255.255/32", "the broadcast address"),
        ("0.0.0.0/8", "an unspecified address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (CGNAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "a reserved address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a reserved address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)

_V6_RANGES: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), label)
    for net, label in (
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("64:ff9b:1::/48", "a private NAT64 address"),
        ("100::/64", "a reserved address"),
        ("2001:db8::/32", "a documentation address"),
        ("fc00::/7", "a private (ULA) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)

_NAT64 = IPv6Network("64:ff9b::/96")
_V4_COMPATIBLE = IPv6Network("::/96")


class RefusedAddressError(Exception):
    """A host name or literal leads to an address the policy refuses."""

    def __init__(self, host: str, address: Address, reason: str) -> None:
        self.host = host
        self.address = address
        self.reason = reason
        if host == str(address):
            message = f"refused: {host} is {reason}"
        else:
            message = f"refused: {host} resolves to {reason} ({address})"
        super().__init__(message)


def _embedded_v4(ip: IPv6Address) -> list[IPv4Address]:
    """IPv4 addresses an IPv6 address actually reaches through a translation scheme."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if ip in _NAT64 or (ip in _V4_COMPATIBLE and int(ip) > 1):
        return [IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def refusal_reason(ip: Address) -> str | None:
    """Why the guard refuses this address, or None when a fetch may reach it."""
    if isinstance(ip, IPv4Address):
        for net, label in _V4_RANGES:
            if ip in net:
                return label
        return None if ip.is_global else "a reserved address"
    for net6, label in _V6_RANGES:
        if ip in net6:
            return label
    embedded = _embedded_v4(ip)
    if embedded:
        for inner in embedded:
            reason = refusal_reason(inner)
            if reason is not None:
                return f"{reason} embedded in IPv6"
        return None
    return None if ip.is_global else "a reserved address"


def _ipv4_part(text: str) -> int | None:
    """One dotted part as the WHATWG URL standard reads it: 0x hex, leading-0 octal, decimal."""
    try:
        if text[:2].lower() == "0x":
            return int(text[2:] or "0", 16)
        if len(text) > 1 and text.startswith("0"):
            return int(text[1:], 8)
        return int(text, 10) if text.isascii() and text.isdigit() else None
    except ValueError:
        return None


def parse_ip_literal(host: str) -> Address | None:
    """The address a URL host denotes by itself (127.1, 0x7f.1, 2130706433, [::1]), or None.

    Browsers and getaddrinfo both read these short and numeric IPv4 forms, so a
    guard that only knows dotted quads is bypassed by them.
    """
    host = host.strip("[]")
    if ":" in host:
        try:
            return IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if not parts or len(parts) > 4:
        return None
    numbers = [_ipv4_part(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    *head, last = values
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(values)):
        return None
    total = last
    for index, n in enumerate(head):
        total += n << (8 * (3 - index))
    return IPv4Address(total)


def is_cloud_metadata(ip: Address) -> bool:
    """Whether ``ip``, or the IPv4 address it embeds, is a cloud metadata service."""
    if ip in CLOUD_METADATA:
        return True
    return isinstance(ip, IPv6Address) and any(v4 in CLOUD_METADATA for v4 in _embedded_v4(ip))


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses a fetch may reach: public ones, and the private ones allowed by name.

    Built from ``fetch.allow_private_networks`` and ``fetch.allowed_private_hosts``
    (host names, IP addresses or CIDR networks) by :meth:`from_settings`.
    """

    allow_private: bool = False
    networks: tuple[Network, ...] = ()
    names: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, allow_private: bool, allowed_hosts: tuple[str, ...]) -> AddressPolicy:
        """The policy for the switch and the list (entries as ``FetchSettings`` validated them)."""
        networks: list[Network] = []
        names: set[str] = set()
        for entry in allowed_hosts:
            try:
                networks.append(ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.lower().rstrip("."))
        return cls(allow_private, tuple(networks), frozenset(names))

    def names_address(self, ip: Address) -> bool:
        """Whether the list names exactly this address (``169.254.169.254`` or ``…/32``)."""
        return any(net.num_addresses == 1 and ip in net for net in self.networks)

    def refusal(self, host: str, ip: Address) -> str | None:
        """Why a fetch of ``host`` may not connect to ``ip``, or None when it may."""
        if is_cloud_metadata(ip):
            return None if self.names_address(ip) else METADATA_REASON
        reason = refusal_reason(ip)
        if reason is None or self.allow_private:
            return None
        if host.lower().rstrip(".") in self.names or any(ip in net for net in self.networks):
            return None
        return reason

    def check(self, host: str, addresses: list[Address]) -> None:
        """Raise RefusedAddressError if any of the host's addresses is refused."""
        for ip in addresses:
            reason = self.refusal(host, ip)
            if reason is not None:
                raise RefusedAddressError(host, ip, reason)


async def resolve(host: str, port: int) -> list[Address]:
    """Every address the host name resolves to, in resolver order, without repeats.

    Raises socket.gaierror when the name does not resolve.
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[Address, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen.setdefault(ip_address(str(sockaddr[0]).split("%", 1)[0]), None)
    return list(seen)


async def vetted_addresses(host: str, port: int, *, policy: AddressPolicy) -> list[Address]:
    """The addresses one hop may connect to: the literal itself, or the checked DNS answers.

    This is the per-hop check: the fetcher calls it for the first URL and again
    for every redirect target, then connects only to an address it returned.
    Raises RefusedAddressError, or socket.gaierror when the name does not resolve.
    """
    literal = parse_ip_literal(host)
    addresses = [literal] if literal is not None else await resolve(host, port)
    policy.check(host, addresses)
    return addresses


async def check_proxied(host: str, port: int, *, policy: AddressPolicy) -> None:
    """The per-hop check behind a proxy, which will resolve the name and connect itself.

    An IP literal is checked as it is; a name is looked up here and every local
    answer checked. A name that does not resolve here (only the proxy's resolver
    knows it, or this machine has no DNS; ``.onion`` is never looked up) passes:
    what it leads to is the proxy's to police. Raises RefusedAddressError.
    """
    literal = parse_ip_literal(host)
    if literal is not None:
        policy.check(host, [literal])
        return
    if host.lower().rstrip(".").endswith(".onion"):
        return
    try:
        async with asyncio.timeout(LOCAL_RESOLVE_SECONDS):
            addresses = await resolve(host, port)
    except (OSError, UnicodeError, TimeoutError):
        return
    policy.check(host, addresses)
