"""`newsrelay run` at start: retries while Telegram is unreachable, one process per database,
and failures that are one line on stderr, exit 1, never the token."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import pytest
from aiohttp import web

from tests.fakes.bot_api import FakeBotAPI
from tests.ports import free_port
from tests.processes import BotProcess, run_cli

API_ENV = "NEWSRELAY_TELEGRAM__API_BASE_URL"
QUICK_RETRIES = {"NEWSRELAY_TELEGRAM__STARTUP_RETRY_SECONDS": "[0.2, 0.4]"}
"""Start-up retries 5x quicker than by default (1 s, 2 s, ...), for tests that wait on them."""


async def _run(token: str, api_base_url: str, cwd: Path, *extra: str) -> tuple[int, str]:
    """Run the bot in a subprocess until it exits by itself; its exit code and stderr."""
    code, _, stderr = await run_cli(
        cwd, "run", "--token", token, *extra, real_seconds=45, **{API_ENV: api_base_url}
    )
    return code, stderr


def _assert_one_line_failure(code: int, stderr: str, secret: str) -> None:
    assert code == 1, stderr
    assert "Traceback" not in stderr, stderr
    assert secret not in stderr
    assert stderr.strip().splitlines()[-1].startswith("newsrelay: "), stderr


async def test_wrong_token(bot_api: FakeBotAPI, tmp_path: Path) -> None:
    """A token the Bot API rejects: one line, and the token is not in it."""
    token = "987654321:WRONG-secret-token"
    code, stderr = await _run(token, bot_api.base_url, tmp_path)
    _assert_one_line_failure(code, stderr, "WRONG-secret-token")
    assert "token" in stderr


class _Running:
    """`newsrelay run` subprocesses against the Bot API at ``api_base_url``."""

    @staticmethod
    async def spawn(cwd: Path, api_base_url: str, *args: str, **env: str) -> BotProcess:
        return await BotProcess.spawn(cwd, "run", *args, **{API_ENV: api_base_url, **env})


async def test_unreachable_api_is_retried_until_it_answers(tmp_path: Path) -> None:
    """Telegram unreachable at start: one line per attempt, then the bot starts once it answers."""
    port = free_port()
    token = FakeBotAPI().token
    running = await _Running.spawn(
        tmp_path, f"http://127.0.0.1:{port}", "--token", token, **QUICK_RETRIES
    )
    api = FakeBotAPI()
    try:
        await running.until("telegram_unreachable", times=2)
        await api.start(port)
        api.user_sends(99, "/start")
        await api.wait_for_sent(99, 1, timeout=30)
    finally:
        code = await running.stop()
        await api.stop()
    attempts = [line for line in running.lines if "telegram_unreachable" in line]
    assert "attempt=1 retry_in=0.2s" in attempts[0], attempts
    assert "attempt=2 retry_in=0.4s" in attempts[1], attempts
    assert all(f"127.0.0.1:{port}" in line for line in attempts), attempts
    stderr = "".join(running.lines)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert token.split(":")[1] not in stderr


async def test_an_html_answer_is_one_line_per_attempt(tmp_path: Path) -> None:
    """A reverse proxy answering 502 with a (long) HTML page instead of Telegram: one line
    per attempt, cut, without the JSON decoder's traceback PTB logs."""
    page = "<html><body><h1>502 Bad Gateway</h1>" + "<p>nginx</p>" * 500 + "</body></html>"

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=502, text=page, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        running = await _Running.spawn(
            tmp_path, f"http://127.0.0.1:{port}", "--token", "1:x", **QUICK_RETRIES
        )
        await running.until("telegram_unreachable", times=2)
        assert await running.stop() == 0
    finally:
        await runner.cleanup()
    stderr = "".join(running.lines)
    assert "Traceback" not in stderr
    assert "Can not load invalid JSON" not in stderr
    assert all("telegram_unreachable" in line for line in running.lines), running.lines
    assert all(len(line) < 600 for line in running.lines), running.lines


async def test_logging_level_and_json_format(tmp_path: Path) -> None:
    """logging.format json and logging.level WARNING: every stderr line is one JSON object,
    the retries (WARNING) are there, INFO lines are not."""
    running = await _Running.spawn(
        tmp_path,
        f"http://127.0.0.1:{free_port()}",
        "--token",
        "1:x",
        NEWSRELAY_LOGGING__FORMAT="json",
        NEWSRELAY_LOGGING__LEVEL="warning",
        **QUICK_RETRIES,
    )
    await running.until("telegram_unreachable", times=2)
    assert await running.stop() == 0
    lines = [json.loads(line) for line in running.lines]
    assert [line["event"] for line in lines] == ["telegram_unreachable"] * len(lines)
    assert [line["attempt"] for line in lines[:2]] == [1, 2]
    assert {line["level"] for line in lines} == {"WARNING"}


async def test_unreachable_api_stops_cleanly_while_retrying(tmp_path: Path) -> None:
    """SIGTERM while start-up retries ends the process at once, exit 0, no traceback."""
    running = await _Running.spawn(tmp_path, f"http://127.0.0.1:{free_port()}", "--token", "1:x")
    await running.until("telegram_unreachable")
    started = time.monotonic()
    code = await running.stop()
    assert time.monotonic() - started < 5
    assert code == 0, running.lines
    assert "Traceback" not in "".join(running.lines)


async def test_second_run_on_the_same_database_exits_at_once(
    bot_api: FakeBotAPI, tmp_path: Path
) -> None:
    """A second `newsrelay run` on one SQLite database exits 1 within 2 s with one line
    naming the first process (pid and host); the first goes on answering."""
    first = await _Running.spawn(tmp_path, bot_api.base_url, "--token", bot_api.token)
    try:
        bot_api.user_sends(99, "/start")
        await bot_api.wait_for_sent(99, 1, timeout=30)
        getme_before = sum(call.method == "getMe" for call in bot_api.calls)
        started = time.monotonic()
        second = await _Running.spawn(tmp_path, bot_api.base_url, "--token", bot_api.token)
        code = await asyncio.wait_for(second.process.wait(), timeout=10)
        elapsed = time.monotonic() - started
        getme_after = sum(call.method == "getMe" for call in bot_api.calls)
        await second.stop()
        bot_api.user_sends(98, "/start")
        await bot_api.wait_for_sent(98, 1, timeout=30)
    finally:
        await first.stop()
    print(f"second run exited {code} after {elapsed:.2f} s: {second.lines}")
    assert code == 1
    # "At once": before any call to Telegram (start-up retries could take minutes). The
    # wall time is printed, not asserted: on a loaded machine a Python start-up alone
    # can take 2 s (measured on an idle one: see the issue 11 note).
    assert getme_after == getme_before
    assert len(second.lines) == 1, second.lines
    line = second.lines[0]
    assert line.startswith(
        "newsrelay: the database data/newsrelay.db is in use by newsrelay run pid "
    )
    assert f"pid {first.process.pid} on {socket.gethostname()}" in line


@pytest.mark.parametrize(
    ("status", "description", "parameters"),
    [
        (429, "Too Many Requests: retry after 30", {"retry_after": 30}),
        (403, "Forbidden: bot was blocked", None),
        (400, "Bad Request: something odd", None),
    ],
)
async def test_getme_refused(
    bot_api: FakeBotAPI,
    tmp_path: Path,
    status: int,
    description: str,
    parameters: dict[str, int] | None,
) -> None:
    """Any Telegram refusal of the first call is one line, not a traceback."""
    bot_api.fail_next("getMe", code=status, description=description, parameters=parameters)
    code, stderr = await _run(bot_api.token, bot_api.base_url, tmp_path)
    _assert_one_line_failure(code, stderr, bot_api.token.split(":")[1])


async def test_database_that_cannot_be_opened(bot_api: FakeBotAPI, tmp_path: Path) -> None:
    """A database path below a regular file: one line naming the database."""
    (tmp_path / "file").write_text("not a folder")
    config = tmp_path / "c.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path}/file/newsrelay.db\n")
    code, stderr = await _run(bot_api.token, bot_api.base_url, tmp_path, "-c", str(config))
    _assert_one_line_failure(code, stderr, bot_api.token.split(":")[1])
    assert "database" in stderr
