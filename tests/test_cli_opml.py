"""`newsrelay import-opml` and `export-opml` as a user runs them, against loopback feeds."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.opml import Outline, read_opml, write_opml
from bot.store import Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss

CHAT = 4242


async def _newsrelay(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run the CLI without blocking the loop that serves the feeds; (code, stdout, stderr)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSRELAY_", "BOT_TOKEN"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "newsrelay.yaml"
    config.write_text(
        f"database:\n  url: sqlite:///{tmp_path / 'state' / 'bot.db'}\n"
        "fetch:\n  allow_private_networks: true\n  timeout_seconds: 5\n"
    )
    return config


def _serve(feeds: FeedServer, path: str, title: str) -> str:
    items = [
        Item(guid=f"{path}-{n}", title=f"{title} {n}", link=f"https://n.example{path}/{n}")
        for n in range(3)
    ]
    feeds.put(path, rss(title, items))
    return feeds.url(path)


async def test_import_then_export_round_trip(tmp_path: Path, feed_server: FeedServer) -> None:
    """Import subscribes the feeds without fetching them (a bad URL: exit 1, one line);
    export lists them; nothing is queued until the running bot reads the feeds."""
    config = _config(tmp_path)
    good = [_serve(feed_server, "/a.xml", "Alpha"), _serve(feed_server, "/b.xml", "北京新闻")]
    opml = tmp_path / "in.opml"
    outlines = [
        Outline(good[0], "Alpha"),
        Outline("ftp://files.example/x"),
        Outline(good[1], "北京新闻"),
    ]
    opml.write_bytes(write_opml("mine", outlines, created=0))

    code, out, err = await _newsrelay(
        "import-opml", str(opml), "--chat", str(CHAT), "-c", str(config), cwd=tmp_path
    )
    assert code == 1
    assert "added  #1 Alpha" in out
    assert "added  #2 北京新闻" in out
    assert "failed  ftp://files.example/x: only http:// and https://" in out
    assert err.strip() == "newsrelay: 1 of 3 feeds failed"
    assert feed_server.requests == []  # the first read is the running bot's

    code, out, err = await _newsrelay(
        "import-opml", str(opml), "--chat", str(CHAT), "-c", str(config), cwd=tmp_path
    )
    assert "exists  #1 Alpha" in out

    code, out, err = await _newsrelay(
        "export-opml", "--chat", str(CHAT), "-c", str(config), cwd=tmp_path
    )
    assert code == 0, err
    assert [o.url for o in read_opml(out.encode(), max_outlines=10).outlines] == good

    code, out, _ = await _newsrelay("stats", "-c", str(config), cwd=tmp_path)
    assert code == 0
    assert "subscriptions: 2" in out
    assert "pending: 0" in out


async def test_errors_are_one_line_with_exit_1(tmp_path: Path) -> None:
    """Missing and hostile files, a missing database and an unknown chat exit 1 with one line."""
    config = _config(tmp_path)
    hostile = tmp_path / "bomb.opml"
    hostile.write_bytes(b'<!DOCTYPE opml [<!ENTITY a "a">]><opml><body/></opml>')
    empty = tmp_path / "empty.opml"
    empty.write_bytes(b"<opml><body><outline text='folder'/></body></opml>")
    cases = [
        (("import-opml", str(tmp_path / "missing.opml")), "cannot read"),
        (("import-opml", str(hostile)), "DOCTYPE"),
        (("import-opml", str(empty)), "no feeds"),
        (("export-opml",), "no database"),
    ]
    for args, expected in cases:
        code, _, err = await _newsrelay(*args, "--chat", str(CHAT), "-c", str(config), cwd=tmp_path)
        assert code == 1, (args, err)
        assert expected in err
        assert len(err.strip().splitlines()) == 1
        assert "Traceback" not in err
    store = await Store.open(tmp_path / "state" / "bot.db")
    await store.close()
    code, _, err = await _newsrelay("export-opml", "--chat", "77", "-c", str(config), cwd=tmp_path)
    assert code == 1
    assert err.strip() == "newsrelay: chat 77 is unknown to this database"


async def test_missing_chat_is_a_usage_error(tmp_path: Path) -> None:
    """--chat is required: argparse's usage error, exit 2."""
    code, _, err = await _newsrelay("export-opml", cwd=tmp_path)
    assert code == 2
    assert "--chat" in err
