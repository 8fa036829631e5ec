"""Webhooks: setWebhook, deleteWebhook, getWebhookInfo, and delivering updates to the webhook.

As Telegram does: setWebhook takes only an https URL on port 443, 80, 88 or 8443 and a
``secret_token`` of 1-256 characters ``A-Z a-z 0-9 _ -``; while a webhook is set, each
pushed update is POSTed to it as JSON, in order, one at a time, with the secret in
``X-Telegram-Bot-Api-Secret-Token``, and leaves the queue only on a 2xx answer (any
other answer or no answer: tried again shortly); getUpdates answers 409 meanwhile.

Telegram reaches the public https URL; a test has no TLS in front of the bot, so
``route_webhooks`` plays the operator's reverse proxy: it maps a public URL prefix to
the bot's plain-http listener on loopback, as nginx or caddy would in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from urllib.parse import urlsplit

import aiohttp

from tests.fakes.bot_api.records import JSON
from tests.fakes.bot_api.state import ServerState
from tests.fakes.bot_api.wire import Params
from tests.fakes.telegram_rules import Rejected

WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
RETRY_SECONDS = 0.05
"""Real seconds before a refused or failed webhook delivery is tried again."""


class WebhookMethods(ServerState):
    """The webhook methods and the delivery loop behind them."""

    def route_webhooks(self, public_prefix: str, local_base: str) -> None:
        """Deliver webhooks under ``public_prefix`` to ``local_base`` (the reverse proxy)."""
        self._webhook_routes[public_prefix.rstrip("/")] = local_base.rstrip("/")

    async def _set_webhook(self, params: Params) -> bool:
        url = params.get_str("url") or ""
        secret = params.get_str("secret_token")
        if url:
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                raise Rejected(
                    400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
                )
            if (parts.port or 443) not in WEBHOOK_PORTS:
                raise Rejected(
                    400,
                    "Bad Request: bad webhook: "
                    "Webhook can be set up only on ports 80, 88, 443 or 8443",
                )
            if secret is not None and not _SECRET.fullmatch(secret):
                raise Rejected(400, "Bad Request: secret token contains unallowed characters")
        self.webhook_url = url
        self.webhook_secret = secret if url else None
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
        if url and (self._webhook_pusher is None or self._webhook_pusher.done()):
            self._webhook_pusher = asyncio.create_task(self._push_to_webhook())
        await self._wake_pollers()
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = ""
        self.webhook_secret = None
        await self._wake_pollers()
        return True

    async def _get_webhook_info(self, params: Params) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _stop_webhook(self) -> None:
        if self._webhook_pusher is not None:
            self._webhook_pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_pusher
            self._webhook_pusher = None

    def _local_target(self, url: str) -> str | None:
        for prefix, base in self._webhook_routes.items():
            if url == prefix or url.startswith(prefix + "/"):
                return base + url[len(prefix) :]
        return None

    async def _push_to_webhook(self) -> None:
        """While a webhook is set: POST the oldest pending update until taken, then the next."""
        async with aiohttp.ClientSession() as session:
            while True:
                async with self._updates_changed:
                    await self._updates_changed.wait_for(
                        lambda: bool(self._updates) or not self.webhook_url or self._closing
                    )
                if not self.webhook_url or self._closing:
                    return
                update = self._updates[0]
                if not await self._post(session, update):
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                if self._updates and self._updates[0] is update:
                    self._updates.pop(0)

    async def _post(self, session: aiohttp.ClientSession, update: JSON) -> bool:
        """One delivery attempt; True when the webhook answered 2xx."""
        target = self._local_target(self.webhook_url)
        if target is None:
            return False
        headers = {SECRET_HEADER: self.webhook_secret} if self.webhook_secret else {}
        try:
            async with session.post(target, json=update, headers=headers) as response:
                status = response.status
        except aiohttp.ClientError:
            status = 0
        self.webhook_deliveries.append((update["update_id"], status))
        return 200 <= status < 300
