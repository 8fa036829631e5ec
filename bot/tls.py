"""The process's TLS context for HTTPS clients: built once, shared by every client we make.

Building one loads the whole CA bundle (certifi's, as httpx does by default): about 25 ms
of CPU each time, and the bot made three (the feed fetcher's pools and PTB's two Bot API
clients), a test process that starts many bots far more. An ``ssl.SSLContext`` is meant to
be shared by connections (Python docs, ``ssl``: "SSL contexts"), and httpx advises making
one and passing it as ``verify=`` (httpx docs, "SSL").

httpcore sets the ALPN protocols on the context it is given, per connection: every client
sharing this one must speak the same HTTP versions (all of ours speak HTTP/1.1 only).
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def client_context() -> ssl.SSLContext:
    """The shared context: what httpx makes by default without reading the environment
    (``SSL_CERT_FILE``/``SSL_CERT_DIR``, like our clients' ``trust_env=False``): certifi's
    CAs, certificates and host names checked. Built on the first call."""
    return httpx.create_ssl_context(trust_env=False)
