"""The command line at a terminal and in a pipe: colour, progress, usage errors, help."""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import _parser
from bot.opml import Outline, write_opml
from tests.corpus import DW_LIKE_ITEM
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.processes import clean_environ

ESC = "\x1b["


def _environ(**extra: str) -> dict[str, str]:
    environ = clean_environ(**extra)
    if "NO_COLOR" not in extra:
        environ.pop("NO_COLOR", None)
    return environ


def _on_a_terminal(*args: str, cwd: Path, stream: str = "stdout", **env: str) -> tuple[int, str]:
    """Run the CLI with ``stream`` (stdout or stderr) on a pseudo-terminal; (code, its output)."""
    leader, follower = pty.openpty()
    streams = {stream: follower}
    other = "stderr" if stream == "stdout" else "stdout"
    streams[other] = subprocess.PIPE
    process = subprocess.Popen(  # noqa: S603 - our own program with fixed arguments
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=_environ(TERM="xterm-256color", **env),
        stdin=subprocess.DEVNULL,
        **streams,  # type: ignore[call-overload]
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    process.communicate(timeout=60)
    return process.returncode, shown.decode("utf-8", "replace")


def _in_a_pipe(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own program with fixed arguments
        [sys.executable, "-m", "bot", *args],
        cwd=cwd, env=_environ(**env), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_preview_colours_only_a_terminal_without_no_color(tmp_path: Path) -> None:
    """Styles on a terminal; none with NO_COLOR set, none in a pipe; same text either way."""
    code, coloured = _on_a_terminal("preview", str(DW_LIKE_ITEM), "-n", "1", cwd=tmp_path)
    assert code == 0
    assert ESC in coloured
    code, no_color = _on_a_terminal(
        "preview", str(DW_LIKE_ITEM), "-n", "1", cwd=tmp_path, NO_COLOR="1"
    )
    assert code == 0
    assert ESC not in no_color
    piped = _in_a_pipe("preview", str(DW_LIKE_ITEM), "-n", "1", cwd=tmp_path)
    assert piped.returncode == 0
    assert ESC not in piped.stdout
    assert "俄方称无意进攻乌克兰" in piped.stdout
    assert no_color.replace("\r\n", "\n") == piped.stdout


def test_preview_of_a_missing_file_says_so(tmp_path: Path) -> None:
    """A path that does not exist is named as a missing file, in one line, exit 1."""
    result = _in_a_pipe("preview", "feeds/nothing-here.xml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "newsrelay: feeds/nothing-here.xml: no such file"
        " (a feed URL starts with http:// or https://)\n"
    )


@pytest.mark.parametrize("bad", ["0", "-2", "three"])
def test_preview_count_below_one_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    """-n must be a whole number of at least 1: a usage error, exit 2, argparse's message."""
    result = _in_a_pipe("preview", str(DW_LIKE_ITEM), "-n", bad, cwd=tmp_path)
    assert result.returncode == 2
    assert "argument -n:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """The reader closes the pipe before anything is written (`| head -0`): exit 0, no traceback."""
    process = subprocess.Popen(  # noqa: S603 - our own program with fixed arguments
        [sys.executable, "-m", "bot", "preview", str(DW_LIKE_ITEM), "-n", "3"],
        cwd=tmp_path, env=_environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert stderr.decode() == ""
    assert process.returncode == 0


def _actions(parser: argparse.ArgumentParser) -> dict[str, list[argparse.Action]]:
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: list(sub._actions) for name, sub in subparsers.choices.items()}


def test_every_flag_of_every_subcommand_has_help() -> None:
    """Every option and argument of every subcommand says what it is for."""
    missing = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, actions in _actions(_parser()).items()
        for action in actions
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert missing == []
    assert {"-c", "--token"} <= {s for a in _actions(_parser())["run"] for s in a.option_strings}


async def test_import_opml_shows_progress_on_a_terminal_only(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A bar with the count on a terminal's stderr; nothing of it in a pipe."""
    urls = []
    for n in range(3):
        feed_server.put(f"/{n}.xml", rss(f"F{n}", [Item(guid="1", title="t", link="https://e.c/")]))
        urls.append(feed_server.url(f"/{n}.xml"))
    opml = tmp_path / "in.opml"
    opml.write_bytes(write_opml("mine", [Outline(url) for url in urls], created=0))
    config = tmp_path / "c.yaml"
    config.write_text(
        f"database:\n  url: sqlite:///{tmp_path / 'bot.db'}\n"
        "fetch:\n  allow_private_networks: true\n"
    )
    args = ("import-opml", str(opml), "--chat", "77", "-c", str(config))
    code, shown = await asyncio.to_thread(_on_a_terminal, *args, cwd=tmp_path, stream="stderr")
    assert code == 0, shown
    assert "importing" in shown
    assert "3/3" in shown
    piped = await asyncio.to_thread(_in_a_pipe, *args, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    assert piped.stdout.count("exists") == 3
