"""``python -m bot.healthcheck``: the container's HEALTHCHECK, one line and an exit code.

Asks the running bot's ``/healthz`` (``http.listen``:``http.port`` from the environment,
as the image sets them) and exits 0 when it answers 200, 1 otherwise: a 503 (which
check failed is printed), no answer within 5 s, or nothing listening. With
``http.port`` 0 there is nothing to ask, and that is not a failure.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from bot.config import ConfigError, load_settings

TIMEOUT_SECONDS = 5.0
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}  # noqa: S104 - read, not bound


def main() -> int:
    """Print one line about the bot's health; 0 when healthy (or the port is off), else 1."""
    try:
        http = load_settings().http
    except ConfigError as exc:
        print(f"newsrelay healthcheck: {exc}")
        return 1
    if not http.port:
        print("newsrelay healthcheck: http.port is 0, nothing to check")
        return 0
    host = _ANY_ADDRESS.get(http.listen, http.listen)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    url = f"http://{host}:{http.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            print(response.read().decode("utf-8", "replace").strip())
            return 0
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        try:
            checks = json.loads(body).get("checks", {})
            failing = "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
        except (ValueError, AttributeError):
            failing = body.strip()
        print(f"newsrelay healthcheck: {exc.code} {failing}")
    except (OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"newsrelay healthcheck: no answer from {url}: {reason}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
