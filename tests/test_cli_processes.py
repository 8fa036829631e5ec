"""The command line and several processes: ``stats`` lists them with their roles, leases and
heartbeats; ``run --role`` is refused on SQLite, where one process does all the work."""

from __future__ import annotations

import time
from pathlib import Path

from bot.store import Store
from bot.store.leases import LeaseStore, ProcessRow
from tests.postgres import DatabaseFactory
from tests.processes import run_cli, write_config


async def test_stats_lists_processes_roles_leases_and_heartbeats(
    tmp_path: Path, postgres_database: DatabaseFactory
) -> None:
    """One process beat a moment ago and holds both leases; one fell silent a minute ago."""
    url = await postgres_database()
    await (await Store.open_url(url)).close()  # the schema
    leases = LeaseStore.connect(url)
    now = time.time()
    try:
        await leases.register(
            ProcessRow(
                "a1",
                "box-a",
                41,
                ("fetch", "send", "updates"),
                ("send", "updates"),
                now - 600,
                now - 2,
            )
        )
        await leases.register(ProcessRow("b2", "box-b", 42, ("fetch",), (), now - 600, now - 60))
    finally:
        await leases.close()
    config = write_config(tmp_path, "c.yaml", {"database": {"url": url}})
    code, out, err = await run_cli(tmp_path, "stats", "-c", str(config))
    assert code == 0, err
    assert "processes: 1 running, 1 not responding" in out
    assert "box-a pid 41: roles fetch,send,updates; holds send,updates; last heartbeat" in out
    assert "box-b pid 42: roles fetch; holds nothing; last heartbeat 6" in out
    assert out.rstrip().endswith("s ago (not responding)")


async def test_stats_on_sqlite_lists_no_processes(tmp_path: Path) -> None:
    """A SQLite instance's numbers are as they were: one process, nothing to list."""
    path = tmp_path / "n.db"
    await (await Store.open(path)).close()
    config = write_config(tmp_path, "c.yaml", {"database": {"url": f"sqlite:///{path}"}})
    code, out, err = await run_cli(tmp_path, "stats", "-c", str(config))
    assert code == 0, err
    assert "processes" not in out


async def test_roles_need_postgresql(tmp_path: Path) -> None:
    """``run --role fetch`` on a SQLite database: one line saying why, exit 1."""
    config = write_config(
        tmp_path, "c.yaml", {"database": {"url": f"sqlite:///{tmp_path / 'n.db'}"}}
    )
    code, _, err = await run_cli(
        tmp_path, "run", "-c", str(config), "--token", "1:x", "--role", "fetch"
    )
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("newsrelay: --role needs a PostgreSQL")


async def test_unknown_role_is_a_usage_error(tmp_path: Path) -> None:
    """A role that does not exist is argparse's usage error (exit 2) naming the choices."""
    code, _, err = await run_cli(tmp_path, "run", "--role", "everything")
    assert code == 2
    assert "fetch" in err


async def test_webhook_on_postgresql_needs_a_shared_secret(tmp_path: Path) -> None:
    """Several processes would each set the webhook with a secret of their own: refused at
    start, in one line, before anything is opened."""
    config = write_config(
        tmp_path,
        "c.yaml",
        {
            "database": {"url": "postgresql://bot:pw@127.0.0.1:9/newsrelay"},
            "telegram": {"webhook": {"url": "https://bot.example.com/hook"}},
        },
    )
    code, _, err = await run_cli(tmp_path, "run", "-c", str(config), "--token", "1:x")
    assert code == 1
    assert "telegram.webhook.secret_token must be set" in err
    assert "pw" not in err
