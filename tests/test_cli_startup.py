"""`newsrelay run` that cannot start: one line on stderr, exit 1, never the token."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.fakes.bot_api import FakeBotAPI


def _environ(api_base_url: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSRELAY_", "BOT_TOKEN"))}
    environ["NEWSRELAY_TELEGRAM__API_BASE_URL"] = api_base_url
    return environ


async def _run(token: str, api_base_url: str, cwd: Path, *extra: str) -> tuple[int, str]:
    """Run the bot in a subprocess until it exits by itself; its exit code and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--token",
        token,
        *extra,
        cwd=cwd,
        env=_environ(api_base_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=45)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, stderr.decode()


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


async def test_unreachable_api(tmp_path: Path) -> None:
    """A Bot API address nobody listens on: one line naming the address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    code, stderr = await _run("123:UNREACHABLE-secret", f"http://127.0.0.1:{port}", tmp_path)
    _assert_one_line_failure(code, stderr, "UNREACHABLE-secret")
    assert f"127.0.0.1:{port}" in stderr


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
