"""Which database engines a test runs on: SQLite always, PostgreSQL where it matters.

A test (or fixture) that asks for ``new_database`` gets fresh databases of the engine
named by ``db_engine``. Which engines that is:

- tests in modules marked ``pytest.mark.both_engines`` (the store's own tests and a
  representative end-to-end subset) run on SQLite and on PostgreSQL, ids ``[sqlite]``
  and ``[postgresql]``;
- every other such test runs on SQLite only, unless ``TEST_ENGINES=all`` (``.ci/run``
  sets it): then the whole suite runs on both;
- a test marked ``pytest.mark.sqlite_only`` (it reads or writes the SQLite file itself)
  runs on SQLite in every run.

PostgreSQL databases come from ``tests.postgres`` (a real server, skipped with one
reason when none can start, required when ``TEST_REQUIRE_POSTGRES`` is set).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bot.store import Store
    from tests.postgres import DatabaseFactory

ENGINES_ENV = "TEST_ENGINES"
ENGINES = ("sqlite", "postgresql")
BOTH = "both_engines"
SQLITE_ONLY = "sqlite_only"
FULL_RUN = "full_run"

NewDatabase = Callable[[], Awaitable[str]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{BOTH}: run the test on SQLite and on PostgreSQL in every run"
    )
    config.addinivalue_line(
        "markers", f"{SQLITE_ONLY}: the test is about SQLite files; never run it on PostgreSQL"
    )
    config.addinivalue_line(
        "markers", f"{FULL_RUN}: slow in real time; deselected unless TEST_ENGINES=all (.ci/run)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect ``full_run`` tests from a plain ``pytest``: it stays quick, CI runs them."""
    if all_engines():
        return
    slow = [item for item in items if item.get_closest_marker(FULL_RUN) is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker(FULL_RUN) is None]


def all_engines() -> bool:
    """Whether every engine-aware test runs on both engines (``TEST_ENGINES=all``)."""
    return os.environ.get(ENGINES_ENV, "") == "all"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_engine" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker(SQLITE_ONLY) is not None:
        return
    if all_engines() or metafunc.definition.get_closest_marker(BOTH) is not None:
        metafunc.parametrize("db_engine", ENGINES, indirect=True)


@pytest.fixture
def db_engine(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``: the engine of this test's databases."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def new_database(db_engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> NewDatabase:
    """Make fresh databases of the test's engine; each call returns a ``database.url``."""
    numbers = itertools.count()
    if db_engine == "sqlite":

        async def sqlite_file() -> str:
            # bot0.db, bot1.db…: the names a test that reads the file itself expects.
            return f"sqlite:///{tmp_path / f'bot{next(numbers)}.db'}"

        return sqlite_file
    factory: DatabaseFactory = request.getfixturevalue("postgres_database")
    return factory


@pytest.fixture
async def engine_store(new_database: NewDatabase) -> AsyncIterator[Store]:
    """A fresh, migrated store on the test's engine."""
    from bot.store import Store  # noqa: PLC0415 - the suite's fixtures load even while it is broken

    opened = await Store.open_url(await new_database())
    yield opened
    await opened.close()


@pytest.fixture
async def held_store(postgres_database: DatabaseFactory) -> AsyncIterator[tuple[Store, str]]:
    """A fresh store on PostgreSQL and its database's URL, for a second connection to hold
    its rows. PostgreSQL only, and not parametrised by engine: SQLite runs every write
    transaction alone, so there is no row lock to see there."""
    from bot.store import Store  # noqa: PLC0415 - the suite's fixtures load even while it is broken

    url = await postgres_database()
    opened = await Store.open_url(url)
    yield opened, url
    await opened.close()
