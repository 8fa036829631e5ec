"""The command line against a PostgreSQL database it cannot reach: one line, no password."""

from __future__ import annotations

from pathlib import Path

from tests.postgres import DatabaseFactory
from tests.processes import run_cli, write_config
from tests.test_cli import TOKEN, _run
from tests.test_config_database import PASSWORD


def test_unreachable_postgresql_is_one_line_without_the_password(tmp_path: Path) -> None:
    """`stats` and `run` exit 1 with one line naming the database; the password never shows."""
    url = f"postgresql://relay:{PASSWORD}@/news?host={tmp_path / 'no-server-here'}"
    config = tmp_path / "c.yaml"
    config.write_text(f"database:\n  url: {url}\n")
    for args in (("stats",), ("run", "--token", TOKEN)):
        result = _run(*args, "-c", str(config), cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert PASSWORD not in result.stdout + result.stderr
        assert lines[0].startswith("newsrelay: cannot open the database postgresql://"), lines


async def test_libpq_options_reach_asyncpg(
    tmp_path: Path, postgres_database: DatabaseFactory
) -> None:
    """`stats` on a URL with ?sslmode=…&connect_timeout=… connects (asyncpg takes them as
    ssl and timeout), where it crashed on connect()'s unexpected keyword 'sslmode'."""
    url = await postgres_database()
    options = "&" if "?" in url else "?"
    config = write_config(
        tmp_path,
        "c.yaml",
        {"database": {"url": f"{url}{options}sslmode=prefer&connect_timeout=5"}},
    )
    code, out, err = await run_cli(tmp_path, "stats", "-c", str(config))
    assert code == 0, err
    assert "feeds: 0" in out
