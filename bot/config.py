"""Typed settings: YAML file, then NEWSRELAY_* environment variables, then flags.

The later source wins. Unknown keys and bad values are errors that name the key,
so a typo in a config file never silently falls back to a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from bot import PROJECT_URL, __version__

ENV_PREFIX = "NEWSRELAY_"
ENV_NESTING = "__"
DEFAULT_USER_AGENT = f"newsrelay/{__version__} (+{PROJECT_URL})"


class ConfigError(Exception):
    """The configuration cannot be used; the message names every bad key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramSettings(_Section):
    token: SecretStr = SecretStr("")
    api_base_url: str = "https://api.telegram.org"
    admins: tuple[int, ...] = ()

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class DatabaseSettings(_Section):
    url: str = "sqlite:///data/newsrelay.db"

    @field_validator("url")
    @classmethod
    def _sqlite_url(cls, value: str) -> str:
        if not value.startswith("sqlite:///"):
            raise ValueError(
                "only sqlite:///relative/path or sqlite:////absolute/path is supported"
            )
        return value

    @property
    def path(self) -> Path:
        """The SQLite file: sqlite:///rel is relative to the working directory."""
        return Path(self.url.removeprefix("sqlite:///"))


class PollingSettings(_Section):
    interval_seconds: int = Field(default=300, ge=1)
    min_interval_seconds: int = Field(default=60, ge=1)
    max_interval_seconds: int = Field(default=6 * 3600, ge=1)
    """The longest a feed waits between two checks: a feed's own hints, a quiet feed's
    learned rhythm and failure backoff all stop here."""
    failure_notice_after_seconds: int = Field(default=12 * 3600, ge=0)
    """A feed failing for this long (and at least three checks in a row) is reported
    once to each subscribed chat; its recovery is reported too."""

    @property
    def effective_interval(self) -> int:
        """The time between two fetches of a feed: the interval, within the bounds."""
        return min(max(self.interval_seconds, self.min_interval_seconds), self.longest_interval)

    @property
    def longest_interval(self) -> int:
        """The maximum, never below the minimum."""
        return max(self.max_interval_seconds, self.min_interval_seconds)


class FetchSettings(_Section):
    timeout_seconds: float = Field(default=20, gt=0)
    max_feed_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    concurrency: int = Field(default=32, ge=1)
    per_host_concurrency: int = Field(default=4, ge=1)
    """Feeds fetched at the same time from one host (many feeds often share a host)."""
    allow_private_networks: bool = False
    user_agent: str = DEFAULT_USER_AGENT


class DeliverySettings(_Section):
    backlog_on_subscribe: int = Field(default=1, ge=0)
    flood_threshold: int = Field(default=10, ge=1)
    """More new entries than this from one feed in one check is a flood (a republished feed)."""
    flood_keep: int = Field(default=3, ge=0)
    """In a flood, the newest this many are still sent, then one message says how many more."""


class AccessSettings(_Section):
    allowed_chats: tuple[int, ...] = ()
    max_subscriptions_per_chat: int = Field(default=200, ge=1)


class Settings(_Section):
    telegram: TelegramSettings = TelegramSettings()
    database: DatabaseSettings = DatabaseSettings()
    polling: PollingSettings = PollingSettings()
    fetch: FetchSettings = FetchSettings()
    delivery: DeliverySettings = DeliverySettings()
    access: AccessSettings = AccessSettings()


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """NEWSRELAY_FETCH__CONCURRENCY=8 becomes {"fetch": {"concurrency": 8}}."""
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = name.removeprefix(ENV_PREFIX).lower().split(ENV_NESTING)
        node = tree
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{name}: conflicts with another variable")
            node = child
        # YAML scalars give "8" -> 8, "true" -> True, "[1, 2]" -> [1, 2], as a file would.
        node[path[-1]] = _env_scalar(raw)
    if token := environ.get("BOT_TOKEN"):
        tree.setdefault("telegram", {}).setdefault("token", token)
    return tree


def _env_scalar(raw: str) -> Any:
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    return raw if value is None or isinstance(value, dict) else value


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections")
    return loaded


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        problems.append(f"{key}: {message}")
    return "; ".join(problems)


def load_settings(
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from the file, the environment and flag overrides, in that order."""
    data: dict[str, Any] = _read_yaml(path) if path is not None else {}
    data = _deep_merge(data, _env_overrides(os.environ if environ is None else environ))
    if overrides:
        data = _deep_merge(data, overrides)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc


def masked_token(token: str) -> str:
    """Enough of the token to tell two apart, never enough to use it."""
    if not token:
        return "(not set)"
    bot_id, _, _secret = token.partition(":")
    return f"{bot_id}:****" if bot_id.isdigit() else "****"
