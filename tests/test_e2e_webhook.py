"""Webhook mode end to end: the fake Bot API posts updates to the bot's webhook server."""

from __future__ import annotations

import json

import aiohttp

from tests.fakes.bot_api import FakeBotAPI
from tests.harness import BotHarness, HarnessFactory
from tests.ports import free_port

CHAT = 8080
PUBLIC = "https://bot.example.test"
SECRET = "s3cret-Token_for_tests"


async def _webhook_bot(factory: HarnessFactory, api: FakeBotAPI) -> tuple[BotHarness, str]:
    """A bot in webhook mode behind the fake's "reverse proxy"; its local webhook URL."""
    port = free_port()
    api.route_webhooks(PUBLIC, f"http://127.0.0.1:{port}")
    webhook = {"url": f"{PUBLIC}/tg/hook", "listen": "127.0.0.1", "port": port}
    harness = await factory(telegram={"webhook": {**webhook, "secret_token": SECRET}})
    return harness, f"http://127.0.0.1:{port}/tg/hook"


async def test_webhook_instance_receives_updates_and_answers(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """setWebhook carries the URL and secret; updates arrive by POST and get answers;
    getUpdates is never called."""
    harness, _local = await _webhook_bot(bot_factory, bot_api)
    assert (bot_api.webhook_url, bot_api.webhook_secret) == (f"{PUBLIC}/tg/hook", SECRET)
    first = await harness.command(CHAT, "/start")
    second = await harness.command(CHAT, "/help")
    assert first.text
    assert "/sub" in (second.text or "")
    print(f"webhook deliveries (update_id, status): {bot_api.webhook_deliveries}")
    assert [status for _, status in bot_api.webhook_deliveries] == [200, 200]
    assert not [call for call in bot_api.calls if call.method == "getUpdates"]
    assert harness.relay is not None
    assert harness.relay.health().checks["updates_in"] == "ok"


async def test_webhook_refuses_requests_without_the_secret(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """A POST without the secret header, or with a wrong one, is refused (403) and never
    handled; the same update with the right secret is."""
    harness, local = await _webhook_bot(bot_factory, bot_api)
    update = {
        "update_id": 900,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": CHAT, "type": "private", "first_name": "Eve"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Eve"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    bot_api.add_chat(CHAT)
    body = json.dumps(update)
    plain = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        statuses = []
        for headers in (plain, {**plain, "X-Telegram-Bot-Api-Secret-Token": "guess"}):
            async with session.post(local, data=body, headers=headers) as response:
                statuses.append(response.status)
        assert statuses == [403, 403]
        await harness.settle()
        assert harness.relay is not None
        assert harness.relay.gate.handled == 0
        assert bot_api.sent_to(CHAT) == []
        right = {**plain, "X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with session.post(local, data=body, headers=right) as response:
            assert response.status == 200
    await bot_api.wait_for_sent(CHAT, 1)
    assert harness.relay.gate.handled == 1


async def test_back_to_long_polling_removes_the_webhook(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """A bot started without telegram.webhook.url deletes the webhook a former run set, and
    polls: getUpdates works again and commands are answered."""
    webhook_bot, _local = await _webhook_bot(bot_factory, bot_api)
    await webhook_bot.stop()
    assert bot_api.webhook_url
    polling_bot = await bot_factory()
    assert bot_api.webhook_url == ""
    reply = await polling_bot.command(CHAT, "/start")
    assert reply.text
    assert bot_api.webhook_deliveries == []
