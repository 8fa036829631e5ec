"""The command line as a user runs it: exit codes, one-line errors, masked token, clean stop."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.corpus import DW_LIKE_ITEM, REPO_ROOT
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feed_server import FeedServer
from tests.processes import clean_environ

TOKEN = "123456789:FAKE-token_for-tests"


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own program with fixed arguments
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean_environ(**(env or {})),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_config_masks_the_token(tmp_path: Path) -> None:
    """check-config prints the effective values with the token masked."""
    result = _run("check-config", "--token", TOKEN, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "123456789:****" in result.stdout
    assert "FAKE-token" not in result.stdout + result.stderr
    assert "concurrency: 32" in result.stdout


def test_bad_config_exits_1_with_one_line(tmp_path: Path) -> None:
    """A bad key exits 1 with one line naming it, no traceback."""
    config = tmp_path / "c.yaml"
    config.write_text("fetch:\n  concurrency: -3\n")
    result = _run("check-config", "-c", str(config), "--token", TOKEN, cwd=tmp_path)
    assert result.returncode == 1
    assert "fetch.concurrency" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_error_exits_2(tmp_path: Path) -> None:
    """An unknown subcommand is a usage error."""
    assert _run("frobnicate", cwd=tmp_path).returncode == 2


def test_run_without_token_exits_1(tmp_path: Path) -> None:
    """run with no token says so in one line."""
    result = _run("run", cwd=tmp_path)
    assert result.returncode == 1
    assert "token" in result.stderr
    assert "Traceback" not in result.stderr


def test_preview_renders_a_file_without_token(tmp_path: Path) -> None:
    """preview needs no token and prints the entry's title and link."""
    result = _run("preview", str(DW_LIKE_ITEM), "-n", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "俄方称无意进攻乌克兰" in result.stdout
    assert "dw.com" in result.stdout


def test_preview_reads_a_file_only_up_to_the_feed_size_limit(tmp_path: Path) -> None:
    """A device without end (``/dev/zero``) is refused at ``fetch.max_feed_bytes``, as a
    fetch would be, not read until memory runs out: one line, exit 1."""
    result = _run("preview", "/dev/zero", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "newsrelay: /dev/zero: the file is larger than 10240 KB\n"


def test_preview_of_an_unreachable_feed_exits_1(tmp_path: Path) -> None:
    """A feed that cannot be fetched is one line on stderr, exit 1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _run("preview", f"http://127.0.0.1:{port}/feed.xml", cwd=tmp_path)
    assert result.returncode == 1
    assert f"127.0.0.1:{port}/feed.xml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


async def test_preview_fetches_a_local_feed(feed_server: FeedServer, tmp_path: Path) -> None:
    """preview is the operator's tool: a feed on this machine is fetched, not refused."""
    feed_server.put("/seed.xml", DW_LIKE_ITEM.read_bytes())
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "preview", feed_server.url("/seed.xml"),
        cwd=tmp_path, env=clean_environ(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert "俄方称无意进攻乌克兰" in stdout.decode()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_run_stops_cleanly_on_signal(
    bot_api: FakeBotAPI, tmp_path: Path, signum: signal.Signals
) -> None:
    """`newsrelay run --token T` without a config file answers /start and stops within 5 s."""
    environ = clean_environ(NEWSRELAY_TELEGRAM__API_BASE_URL=bot_api.base_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--token",
        bot_api.token,
        cwd=tmp_path,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        bot_api.user_sends(99, "/start")
        await bot_api.wait_for_sent(99, 1, timeout=30)
        started = time.monotonic()
        process.send_signal(signum)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
        elapsed = time.monotonic() - started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert elapsed < 5, elapsed
    assert (tmp_path / "data" / "newsrelay.db").exists()
    log = stderr.decode()
    assert bot_api.token.split(":")[1] not in log
    assert "Traceback" not in log


def test_check_config_prints_effective_values_and_warns(tmp_path: Path) -> None:
    """An interval below the minimum is printed as the interval used, with a warning naming
    both keys; a variable over the file's value and a secret are named, the secret hidden."""
    config = tmp_path / "c.yaml"
    config.write_text(
        "polling:\n  interval_seconds: 10\nfetch:\n  concurrency: 4\n"
        "telegram:\n  webhook:\n    url: https://bot.example/hook\n    secret_token: s3cret-abc\n"
    )
    result = _run(
        "check-config", "-c", str(config), "--token", TOKEN, cwd=tmp_path,
        env={"NEWSRELAY_FETCH__CONCURRENCY": "8", "BOT_TOKEN": "1:other-secret-token"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "  interval_seconds: 60\n" in result.stdout
    assert "  concurrency: 8\n" in result.stdout
    warnings = result.stderr.splitlines()
    assert warnings == [
        "newsrelay: warning: fetch.concurrency: the environment (8) overrides the config file (4)",
        "newsrelay: warning: telegram.token: a command-line flag overrides the environment",
        "newsrelay: warning: polling.interval_seconds 10 is below polling.min_interval_seconds 60:"
        " feeds are fetched every 60 s",
    ]
    assert "s3cret-abc" not in result.stdout + result.stderr
    assert "other-secret" not in result.stdout + result.stderr


def test_subprocesses_import_this_checkout(tmp_path: Path) -> None:
    """`python -m bot` in a test's temporary folder runs this checkout's code, not another
    checkout the interpreter has installed (an editable install of a second worktree)."""
    result = subprocess.run(
        [sys.executable, "-c", "import bot; print(bot.__file__)"],
        cwd=tmp_path, env=clean_environ(), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert Path(result.stdout.strip()).is_relative_to(REPO_ROOT / "bot"), result.stdout
