"""`newsrelay import-opml` and `export-opml` as a user runs them, against loopback feeds."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.models import DisplayOptions, SummaryMode
from bot.opml import Outline, read_opml, write_opml
from bot.runlock import RunLock
from bot.store import Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.feedgen import Item, rss
from tests.processes import clean_environ
from tests.test_cli import TOKEN

CHAT = 4242


async def _newsrelay(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run the CLI without blocking the loop that serves the feeds; (code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=clean_environ(),
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
        (("import-opml", "/dev/zero"), "larger than 16384 KB"),  # not read to the end of memory
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


async def test_a_moved_database_is_refused_for_import_and_read_with_a_warning(
    tmp_path: Path,
) -> None:
    """After `migrate` marked the file moved: import-opml refuses it with run's own line
    (its subscriptions would land in a file no bot reads); stats and export-opml still
    read it, with that line as one warning on stderr."""
    config = _config(tmp_path)
    path = tmp_path / "state" / "bot.db"
    store = await Store.open(path)
    await store.ensure_chat(CHAT, kind="private")
    await store.close()
    RunLock(path, command="migrate").mark_moved("postgresql://relay:***@db.example/news")
    opml = tmp_path / "in.opml"
    opml.write_bytes(write_opml("mine", [Outline("https://n.example/a.xml", "A")], created=0))

    code, _, refused = await _newsrelay("run", "--token", TOKEN, "-c", str(config), cwd=tmp_path)
    assert code == 1
    assert refused.startswith(f"newsrelay: the database {path} was moved to postgresql://")
    code, out, err = await _newsrelay(
        "import-opml", str(opml), "--chat", str(CHAT), "-c", str(config), cwd=tmp_path
    )
    assert (code, out, err) == (1, "", refused)

    code, out, err = await _newsrelay("stats", "-c", str(config), cwd=tmp_path)
    assert code == 0, err
    assert "subscriptions: 0" in out  # the import wrote nothing
    assert err == refused.replace("newsrelay: ", "newsrelay: warning: ", 1)
    code, out, err = await _newsrelay(
        "export-opml", "--chat", str(CHAT), "-c", str(config), cwd=tmp_path
    )
    assert code == 0, err
    assert read_opml(out.encode(), max_outlines=10).outlines == ()
    assert err == refused.replace("newsrelay: ", "newsrelay: warning: ", 1)


async def test_missing_chat_is_a_usage_error(tmp_path: Path) -> None:
    """--chat is required, and a Telegram chat id (at most 52 significant bits): argparse's
    usage error, exit 2, never a traceback from the database."""
    code, _, err = await _newsrelay("export-opml", cwd=tmp_path)
    assert code == 2
    assert "--chat" in err
    code, _, err = await _newsrelay("export-opml", "--chat", str(2**52), cwd=tmp_path)
    assert code == 2
    assert err.splitlines()[-1].endswith(f"--chat: not a Telegram chat id (too large): {2**52}")


async def test_refused_urls_hide_credentials_and_a_cut_list_fails(tmp_path: Path) -> None:
    """The "failed" line of a malformed URL never shows its password; outlines past the
    chat's limit are not subscribed, which is a failure of the import (exit 1)."""
    config = _config(tmp_path)
    config.write_text(config.read_text() + "access:\n  max_subscriptions_per_chat: 3\n")
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline text="a" xmlUrl="http://u:pa ss1@h.example/f1"/>'
        '<outline text="b" xmlUrl="//u:secret2@h.example/f2"/>'
        '<outline text="c" xmlUrl="http:\\\\u:secret3@h.example/f3"/>'
        '<outline text="d" xmlUrl="https://h.example/past-the-limit"/>'
        "</body></opml>"
    )
    code, out, err = await _newsrelay(
        "import-opml", str(opml), "--chat", str(CHAT), "-c", str(config), cwd=tmp_path
    )
    assert code == 1
    assert out.count("failed  ") == 3
    assert out.count("<credentials>@h.example") == 3
    for secret in ("pa ss1", "secret2", "secret3"):
        assert secret not in out + err
    assert "past-the-limit" not in out
    assert err.strip() == (
        "newsrelay: 3 of 3 feeds failed; the file holds more feeds than the chat may follow"
    )


async def _seed_chat(config: Path, urls: list[str], titles: list[str]) -> list[tuple[object, ...]]:
    """Chat CHAT in the database of ``config`` with filters, a pause and options set."""
    store = await Store.open(config.parent / "state" / "bot.db")
    try:
        await store.ensure_chat(CHAT, kind="private")
        await store.set_chat_filter(CHAT, '-"广告" +/新闻|news/')
        await store.set_chat_timezone(CHAT, "Europe/Berlin")
        for url, title in zip(urls, titles, strict=True):
            feed, _ = await store.get_or_create_feed(url, title=title, interval_seconds=300, now=0)
            await store.add_subscription(CHAT, feed.id)
        first, second, third = await store.list_subscriptions(CHAT)
        await store.set_subscription_filter(first.id, '乌克兰 "peace talks" -/广告\\d+/')
        await store.set_subscription_paused(second.id, True, now=0)
        await store.set_subscription_interval(second.id, 5400)
        await store.set_subscription_options(
            third.id, DisplayOptions(pictures=False, album=True, summary=SummaryMode.NONE)
        )
        return await _settings(store, CHAT)
    finally:
        await store.close()


async def _settings(store: Store, chat_id: int) -> list[tuple[object, ...]]:
    chat = await store.get_chat(chat_id)
    assert chat is not None
    return [chat.filter_expr, chat.timezone] + [
        (s.number, s.url, s.title, s.filter_expr, s.paused, s.options, s.interval_seconds)
        for s in await store.list_subscriptions(chat_id)
    ]


async def test_export_then_import_restores_settings_into_a_fresh_database(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """export-opml writes every setting; import-opml into another database restores them."""
    titles = ["Alpha", "北京新闻", "Tech “Daily” & co"]
    urls = [_serve(feed_server, f"/{n}.xml", title) for n, title in enumerate(titles)]
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    before = await _seed_chat(_config(first), urls, titles)

    code, out, err = await _newsrelay(
        "export-opml", "--chat", str(CHAT), "-c", "newsrelay.yaml", cwd=first
    )
    assert code == 0, err
    backup = tmp_path / "backup.opml"
    backup.write_text(out)
    code, out, err = await _newsrelay(
        "import-opml", str(backup), "--chat", "77", "-c", str(_config(second)), cwd=second
    )
    assert code == 0, err
    assert "restored  settings of 3 subscriptions (1 paused)" in out
    assert f"chat filter  {before[0]}" in out
    assert "time zone  Europe/Berlin" in out
    store = await Store.open(second / "state" / "bot.db")
    try:
        assert await _settings(store, 77) == before
    finally:
        await store.close()


async def test_refused_values_are_listed_and_exit_1(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A hand-edited file: each bad value one line on stdout, one line on stderr, exit 1."""
    url = _serve(feed_server, "/a.xml", "Alpha")
    opml = tmp_path / "edited.opml"
    opml.write_text(
        '<opml version="2.0" xmlns:newsrelay="https://newsrelay.invalid/opml/1"><body>'
        f'<outline text="A" xmlUrl="{url}" newsrelay:summary="longer" newsrelay:paused="yes"'
        ' newsrelay:album="true"/></body></opml>'
    )
    config = _config(tmp_path)
    code, out, err = await _newsrelay(
        "import-opml", str(opml), "--chat", str(CHAT), "-c", str(config), cwd=tmp_path
    )
    assert code == 1
    assert "refused  #1 A: newsrelay:paused: “yes” is not one of true, false" in out
    assert "refused  #1 A: newsrelay:summary: “longer” is not one of full, short, none" in out
    assert "restored  settings of 1 subscription (0 paused)" in out
    assert err.strip() == "newsrelay: 2 values of the file were not restored"
