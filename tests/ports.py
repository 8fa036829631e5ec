"""A loopback port for a server a test starts under its own configuration (webhook, metrics)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nobody listens on now (the OS may hand it out again later: bind soon)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
