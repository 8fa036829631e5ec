"""database.url: SQLite by default, PostgreSQL by URL; the password never shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, DatabaseSettings, Settings, load_settings
from bot.redact import scrub, secrets_of
from tests.test_cli import TOKEN, _run

PASSWORD = "Pg-pass_w0rd"


def test_sqlite_is_the_default() -> None:
    database = DatabaseSettings()
    assert database.engine == "sqlite"
    assert database.path == Path("data/newsrelay.db")
    assert database.password == ""


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://relay:{PASSWORD}@db.example:5432/news",
        f"postgres://relay:{PASSWORD}@db.example/news",
        f"postgresql+asyncpg://relay:{PASSWORD}@db.example/news",
    ],
)
def test_postgresql_urls(url: str) -> None:
    """The URL forms SPEC names select PostgreSQL; the password is known, never shown."""
    database = DatabaseSettings(url=url)
    assert database.engine == "postgresql"
    assert database.password == PASSWORD
    assert PASSWORD not in database.shown
    assert "relay:***@db.example" in database.shown
    with pytest.raises(ValueError, match="names no file"):
        _ = database.path


def test_encoded_password_is_decoded() -> None:
    """%40 in the URL is an '@' in the password the server gets (and that scrub removes)."""
    database = DatabaseSettings(url="postgresql://relay:p%40ss-word@db.example/news")
    assert database.password == "p@ss-word"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"postgresql://relay:p@{PASSWORD}@db.example/news", "unencoded '@'"),
        ("postgresql://relay@db.example", "names no database"),
        ("mysql://relay@db.example/news", "must be sqlite"),
        ("sqlite:///", "names no SQLite file"),
        (f"postgresql://relay:{PASSWORD}@db.example/news?application_name=x", "'application_name'"),
        (f"postgresql://relay:{PASSWORD}@db.example/news?sslmode=on", "'sslmode' must be one of"),
        (f"postgresql://relay:{PASSWORD}@db.example/news?connect_timeout=0", "'connect_timeout'"),
        (f"postgresql://relay:{PASSWORD}@db.example/news?ssl=require&sslmode=disable", "'sslmode'"),
    ],
)
def test_bad_urls_are_named_without_the_password(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(environ={"NEWSRELAY_DATABASE__URL": url})
    assert "database.url" in str(caught.value)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    "mode", ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
)
def test_libpq_options_take_asyncpg_names(mode: str) -> None:
    """sslmode and connect_timeout (libpq's names) reach asyncpg as ssl and timeout, the
    password and host intact: asyncpg's connect() takes no keyword sslmode."""
    url = f"postgresql://relay:p%40{PASSWORD}@db.example/news?sslmode={mode}&connect_timeout=5"
    database = DatabaseSettings(url=url)
    assert database.url == (
        f"postgresql://relay:p%40{PASSWORD}@db.example/news?ssl={mode}&timeout=5"
    )
    assert database.password == f"p@{PASSWORD}"
    assert DatabaseSettings(url=database.url).url == database.url  # loaded again: the same


def test_secrets_of_holds_the_database_password() -> None:
    """A driver's message quoting the password alone is scrubbed at every output edge."""
    settings = Settings.model_validate(
        {"database": {"url": f"postgresql://relay:{PASSWORD}@db.example/news"}}
    )
    assert PASSWORD in secrets_of(settings)
    assert scrub(f"auth failed with {PASSWORD}", secrets_of(settings)) == (
        "auth failed with <token>"
    )


def test_raw_at_sign_in_a_password_is_scrubbed_whole() -> None:
    """Up to the last '@' of the authority: no tail of the password is left behind."""
    text = "postgresql://relay:p@ss@w0rd@db.example:5432/news"
    assert scrub(text) == "postgresql://<credentials>@db.example:5432/news"


def test_check_config_never_prints_the_password(tmp_path: Path) -> None:
    """The effective values and the override warning show the URL without its password."""
    config = tmp_path / "c.yaml"
    config.write_text(f"database:\n  url: postgresql://relay:{PASSWORD}@db.example/news\n")
    env = {"NEWSRELAY_DATABASE__URL": f"postgresql://relay:{PASSWORD}x@db.example/other"}
    result = _run("check-config", "-c", str(config), "--token", TOKEN, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "db.example/other" in result.stdout
    assert "database.url" in result.stderr  # the override warning
    assert PASSWORD not in result.stdout + result.stderr
