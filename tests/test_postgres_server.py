"""The PostgreSQL test server itself: it starts, hands out separate databases, and a missing
server skips with one reason unless the run requires it."""

from __future__ import annotations

import asyncpg
import pytest

from tests.postgres import POSTGRES_MISSING, REQUIRE_ENV, DatabaseFactory, _asyncpg_dsn, _missing


async def test_each_database_is_fresh_and_separate(postgres_database: DatabaseFactory) -> None:
    """Two calls give two empty databases: a table made in one is absent from the other."""
    first, second = await postgres_database(), await postgres_database()
    assert first != second
    one = await asyncpg.connect(_asyncpg_dsn(first))
    two = await asyncpg.connect(_asyncpg_dsn(second))
    try:
        await one.execute("CREATE TABLE t (x integer)")
        assert await two.fetchval("SELECT to_regclass('t')") is None
        assert await one.fetchval("SELECT current_setting('fsync')") == "off"
    finally:
        await one.close()
        await two.close()


def test_missing_server_skips_with_one_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"^{POSTGRES_MISSING}: no server here$"):
        _missing("no server here")


def test_missing_server_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=REQUIRE_ENV):
        _missing("no server here")
