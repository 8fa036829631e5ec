"""The operator's port end to end: /metrics moves with the work, /healthz sees a stall."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import MAX_CONCURRENT_UPDATES
from bot.health import UPDATE_STALL_SECONDS
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.harness import BotHarness, HarnessFactory, make_settings
from tests.ports import free_port
from tests.processes import clean_environ
from tests.virtual_time import VirtualClock, eventually

CHAT = 9090
ITEMS = [
    Item(guid=f"g{n}", title=f"Metered story {n}", link=f"https://e.com/{n}") for n in range(3)
]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def _get(harness: BotHarness, path: str) -> tuple[int, str]:
    assert harness.relay is not None
    url = f"http://127.0.0.1:{harness.relay.ops_port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def _metrics(harness: BotHarness) -> Samples:
    status, text = await _get(harness, "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _health(harness: BotHarness) -> tuple[int, dict[str, Any]]:
    status, text = await _get(harness, "/healthz")
    return status, json.loads(text)


async def test_metrics_counters_move_after_a_delivery(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI, feed_server: FeedServer
) -> None:
    """A poll that queues two entries, one 429 and two deliveries: the counters and the
    outbox gauges on /metrics show each step."""
    feed_server.put("/f.xml", rss("Wire", ITEMS[:1]))
    harness = await bot_factory(
        http={"port": free_port(), "listen": "127.0.0.1"}, delivery={"backlog_on_subscribe": 0}
    )
    await harness.command(CHAT, f"/sub {feed_server.url('/f.xml')}")
    before = await _metrics(harness)

    feed_server.put("/f.xml", rss("Wire", ITEMS))
    bot_api.flood_next("sendMessage", chat_id=CHAT, retry_after=7)
    release = bot_api.hold_next("sendMessage", chat_id=CHAT)
    await harness.poll()
    await eventually(lambda: bot_api.pending_calls("sendMessage") == 1, what="a held send")
    queued = await _metrics(harness)
    release.set()
    await bot_api.wait_for_sent(CHAT, 3)
    await harness.settle()
    after = await _metrics(harness)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    figures = {
        "refreshes updated": moved("newsrelay_feed_refreshes_total", outcome="updated"),
        "entries queued": moved("newsrelay_entries_queued_total"),
        "outbox pending while held": _value(queued, "newsrelay_outbox_pending"),
        "delivered": moved("newsrelay_deliveries_total", outcome="delivered"),
        "429 waits": moved("newsrelay_deliveries_total", outcome="wait_chat"),
        "sendMessage 429": moved(
            "newsrelay_telegram_requests_total", method="sendMessage", code="429"
        ),
        "sendMessage 200": moved(
            "newsrelay_telegram_requests_total", method="sendMessage", code="200"
        ),
        "send latency count": moved(
            "newsrelay_telegram_request_seconds_count", method="sendMessage"
        ),
        "outbox pending after": _value(after, "newsrelay_outbox_pending"),
    }
    print(f"metrics moved: {figures}")
    assert figures == {
        "refreshes updated": 1,
        "entries queued": 2,
        "outbox pending while held": 2,
        "delivered": 2,
        "429 waits": 1,
        "sendMessage 429": 1,
        "sendMessage 200": 2,
        "send latency count": 3,
        "outbox pending after": 0,
    }
    assert _value(before, "newsrelay_updates_total", kind="command", verdict="ok") == 1
    assert _value(queued, "newsrelay_outbox_oldest_age_seconds") >= 0
    assert _value(after, "newsrelay_feed_refresh_seconds_count") == 1


async def test_healthz_turns_unhealthy_when_the_update_loop_stalls(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI, virtual_clock: VirtualClock
) -> None:
    """Every handler slot blocked on a Telegram call that does not answer, one more update
    waiting: /healthz is 200 at first, 503 naming update_handling once the wait passes
    the limit on the bot's clock, and 200 again when the handlers go on."""
    harness = await bot_factory(http={"port": free_port(), "listen": "127.0.0.1"})
    assert await _health(harness) == (200, {"status": "ok", "checks": _all_ok()})
    releases = []
    for n in range(MAX_CONCURRENT_UPDATES):
        group = -1002000 - n
        bot_api.add_chat(group, "supergroup", admins=[5000 + n])
        releases.append(bot_api.hold_next("getChatMember", chat_id=group))
        bot_api.user_sends(group, "/unsub", user_id=5000 + n)  # asks getChatMember
    assert harness.relay is not None
    gate = harness.relay.gate
    bot_api.user_sends(CHAT, "/start")
    await eventually(lambda: gate.waiting == 1, what="an update waiting for a handler slot")
    assert gate.handling == MAX_CONCURRENT_UPDATES

    status, body = await _health(harness)
    assert status == 200, body
    virtual_clock.advance(UPDATE_STALL_SECONDS + 1)
    status, body = await _health(harness)
    print(f"stalled: {status} {body}")
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["checks"]["update_handling"].startswith("updates waiting and no handler progressed")
    assert {k: v for k, v in body["checks"].items() if k != "update_handling"} == {
        "event_loop": "ok",
        "updates_in": "ok",
    }
    code, line = await _docker_healthcheck(harness)
    assert code == 1
    assert line.startswith("newsrelay healthcheck: 503 update_handling: updates waiting")

    for release in releases:
        release.set()
    await bot_api.wait_for_sent(CHAT, 1)
    assert await _health(harness) == (200, {"status": "ok", "checks": _all_ok()})
    assert await _docker_healthcheck(harness) == (
        0,
        json.dumps({"status": "ok", "checks": _all_ok()}),
    )


async def _docker_healthcheck(harness: BotHarness) -> tuple[int, str]:
    """The image's HEALTHCHECK command against the harness's port: (exit code, its line)."""
    assert harness.relay is not None
    environ = clean_environ(NEWSRELAY_HTTP__PORT=str(harness.relay.ops_port))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.healthcheck",
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert stderr == b""
    assert process.returncode is not None
    return process.returncode, stdout.decode().strip()


def _all_ok() -> dict[str, str]:
    return {"event_loop": "ok", "updates_in": "ok", "update_handling": "ok"}


async def test_a_conflict_is_one_line_not_a_traceback_stream(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Two bots on one token: each getUpdates ends the other's with 409 Conflict; each bot
    logs one line, with no traceback, however often it happens."""
    caplog.set_level(logging.DEBUG)
    first = await bot_factory()
    second = await bot_factory()
    await eventually(
        lambda: sum("Conflict" in r.description for r in bot_api.rejected) >= 4,
        what="several 409 Conflicts",
        real_seconds=30,
    )
    conflicts = [r for r in caplog.records if "telegram_conflict" in r.getMessage()]
    tracebacks = [r for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]
    print(f"409s answered: {sum('Conflict' in r.description for r in bot_api.rejected)}, "
          f"lines: {[r.getMessage() for r in conflicts]}")  # fmt: skip
    assert 1 <= len(conflicts) <= 2
    assert all(r.levelno == logging.ERROR for r in conflicts)
    assert tracebacks == []
    assert first.relay is not None
    assert second.relay is not None


async def test_a_taken_port_stops_the_start_with_one_line(
    bot_api: FakeBotAPI, tmp_path: Path
) -> None:
    """http.port in use by something else: the start fails naming the address, and the
    database lock is released for the next try."""
    from bot.app import Relay, StartupError  # noqa: PLC0415 - imported late, as the harness does

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(bot_api, tmp_path / "bot.db", http={"port": port})
        with pytest.raises(StartupError) as caught:
            await Relay(settings).start(poll_feeds=False)
    assert str(caught.value).startswith(f"cannot serve /healthz and /metrics on 127.0.0.1:{port}:")
    relay = Relay(make_settings(bot_api, tmp_path / "bot.db"))
    await relay.start(poll_feeds=False)
    await relay.stop()
