"""Settings: YAML, then NEWSRELAY_* variables and BOT_TOKEN, then flags; bad keys are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, masked_token

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.yaml"


def test_example_file_holds_every_default() -> None:
    """config.example.yaml loads to exactly the built-in defaults."""
    assert load_settings(EXAMPLE, environ={}) == load_settings(None, environ={})


def test_layers_later_wins(tmp_path: Path) -> None:
    """The file is overridden by the environment, which is overridden by flags."""
    path = tmp_path / "c.yaml"
    path.write_text(
        "fetch:\n  concurrency: 4\n  timeout_seconds: 7\ntelegram:\n  token: '1:file'\n"
    )
    env = {"NEWSRELAY_FETCH__CONCURRENCY": "8", "BOT_TOKEN": "2:env"}
    settings = load_settings(path, environ=env, overrides={"telegram": {"token": "3:flag"}})
    assert settings.fetch.concurrency == 8
    assert settings.fetch.timeout_seconds == 7
    assert settings.telegram.token.get_secret_value() == "3:flag"


def test_startup_retries_default_to_a_ladder_and_refuse_no_wait() -> None:
    """Telegram unreachable at start: 1 s, 2 s, 4 s ... 60 s between attempts unless
    configured; an empty list or a wait of 0 would hammer the API and is refused."""
    default = load_settings(None, environ={}).telegram.startup_retry_seconds
    assert default == (1, 2, 4, 8, 15, 30, 60)
    key = "NEWSRELAY_TELEGRAM__STARTUP_RETRY_SECONDS"
    assert load_settings(environ={key: "[0.5, 3]"}).telegram.startup_retry_seconds == (0.5, 3)
    for refused in ("[]", "[1, 0]"):
        with pytest.raises(ConfigError, match=r"telegram\.startup_retry_seconds"):
            load_settings(environ={key: refused})


def test_bot_token_variable_and_nested_name() -> None:
    """BOT_TOKEN sets the token; NEWSRELAY_TELEGRAM__TOKEN wins over it."""
    assert load_settings(environ={"BOT_TOKEN": "1:a"}).telegram.token.get_secret_value() == "1:a"
    both = {"BOT_TOKEN": "1:a", "NEWSRELAY_TELEGRAM__TOKEN": "2:b"}
    assert load_settings(environ=both).telegram.token.get_secret_value() == "2:b"


def test_list_values_from_environment() -> None:
    """A YAML list in a variable becomes a list of ids."""
    env = {"NEWSRELAY_ACCESS__ALLOWED_CHATS": "[1, -100200]"}
    assert load_settings(environ=env).access.allowed_chats == (1, -100200)


@pytest.mark.parametrize(
    ("yaml_text", "named"),
    [
        ("fetch:\n  concurency: 3\n", "fetch.concurency: unknown key"),
        ("polling:\n  interval_seconds: soon\n", "polling.interval_seconds"),
        ("telegram:\n  api_base_url: ftp://x\n", "telegram.api_base_url"),
        ("database:\n  url: postgres://x\n", "database.url"),
        ("colour: blue\n", "colour: unknown key"),
    ],
)
def test_bad_keys_are_named(tmp_path: Path, yaml_text: str, named: str) -> None:
    """Unknown keys and bad values fail with the key in the message."""
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_settings(path, environ={})


def test_unknown_environment_key_is_named() -> None:
    """A misspelt variable is an error too, not silently ignored."""
    with pytest.raises(ConfigError, match=r"fetch\.timeout"):
        load_settings(environ={"NEWSRELAY_FETCH__TIMEOUT": "3"})


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    """A YAML syntax error names the file and line."""
    path = tmp_path / "broken.yaml"
    path.write_text("fetch:\n  concurrency: [1\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_settings(path, environ={})


def test_token_is_masked() -> None:
    """The masked form keeps the bot id and hides the secret."""
    assert masked_token("123456:ABC-secret") == "123456:****"
    assert masked_token("") == "(not set)"
    assert "secret" not in masked_token("garbage-secret")


@pytest.mark.parametrize("token", ["123:SECRET with space", "123:ABC\nDEF", "ABCDEF", "123:"])
def test_a_token_that_is_no_bot_token_is_refused_without_repeating_it(token: str) -> None:
    """A pasted token with a space or a line break, or no "<id>:" shape, stops the bot with
    one line that names the key and shows nothing of the token."""
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, overrides={"telegram": {"token": token}})
    assert str(caught.value).startswith("telegram.token: is not a bot token")
    assert token not in str(caught.value)
    assert load_settings(environ={}, overrides={"telegram": {"token": "123:A-b_9"}})
    # Telegram's test environment: api.telegram.org/bot<token>/test/METHOD (Bot API docs)
    assert load_settings(environ={}, overrides={"telegram": {"token": "123:A-b_9/test"}})


@pytest.mark.parametrize(
    "proxy",
    [
        "http://feeduser:Hunter2#x@127.0.0.1:9",
        "http://feeduser:Hunter2/x@127.0.0.1:9",
        "socks5://feeduser:Hunter2?@127.0.0.1:9",
        "ftp://feeduser:Hunter2@127.0.0.1:9",
    ],
)
@pytest.mark.parametrize("key", ["fetch", "telegram"])
def test_a_proxy_url_clients_would_misread_is_refused_without_its_password(
    key: str, proxy: str
) -> None:
    """A password with '#', '/' or '?' would turn into a fragment or a port for httpx (and
    be echoed in its error): refused at load, naming the key, never showing the password."""
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"BOT_TOKEN": "1:x"}, overrides={key: {"proxy": proxy}})
    assert f"{key}.proxy" in str(caught.value)
    assert "Hunter2" not in str(caught.value)


def test_a_proxy_url_is_kept_as_httpx_spells_it() -> None:
    """A space in the credentials is percent-encoded, so outputs mask it by its shape."""
    settings = load_settings(
        environ={"BOT_TOKEN": "1:x"}, overrides={"fetch": {"proxy": "http://a b:c@h:1/"}}
    )
    assert settings.fetch.proxy == "http://a%20b:c@h:1/"
