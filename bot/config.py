"""Typed settings: YAML file, then NEWSRELAY_* environment variables, then flags.

The later source wins. Unknown keys and bad values are errors that name the key,
so a typo in a config file never silently falls back to a default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from ipaddress import ip_network
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import httpx
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot import PROJECT_URL, __version__

ENV_PREFIX = "NEWSRELAY_"
ENV_NESTING = "__"
DEFAULT_USER_AGENT = f"newsrelay/{__version__} (+{PROJECT_URL})"


class ConfigError(Exception):
    """The configuration cannot be used; the message names every bad key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
"""What httpx can talk to: an HTTP(S) proxy, or SOCKS5 (with the ``socksio`` package)."""
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""Telegram's rule for setWebhook's secret_token: 1-256 of A-Z, a-z, 0-9, _ and -."""
_BOT_TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+(?:/test)?")  # "/test": the test environment
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*"
)


def _proxy_url(value: str) -> str:
    """A proxy URL (``""`` for none): ``scheme://[user:pass@]host:port`` with a known scheme."""
    if not value:
        return value
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in PROXY_SCHEMES:
        raise ValueError("must be an http://, https:// or socks5:// URL (or empty for none)")
    if not rest.rsplit("@", 1)[-1].split("/", 1)[0]:
        raise ValueError("names no proxy host")
    # Read it as the HTTP clients will (httpx): a password holding '#', '/', '?', '@' or
    # a space otherwise becomes a fragment or a "port" there, and is echoed in errors.
    try:
        parsed = httpx.URL(value)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or not parsed.host or parsed.fragment or parsed.query:
        raise ValueError(
            "is not a valid proxy URL: percent-encode the user name and password"
            " (# as %23, / as %2F, ? as %3F, @ as %40, a space as %20)"
        )
    # As httpx spells it (a space in the credentials percent-encoded), so that every
    # output masks the credentials by their usual shape.
    return str(parsed)


ProxyUrl = Annotated[str, AfterValidator(_proxy_url)]


class WebhookSettings(_Section):
    url: str = ""
    listen: str = "0.0.0.0"  # noqa: S104 - a container's webhook must be reachable from its proxy
    port: int = Field(default=8443, ge=1, le=65535)
    secret_token: SecretStr = SecretStr("")

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("must be an https:// URL (Telegram posts only to https)")
        return value

    @field_validator("secret_token")
    @classmethod
    def _telegram_secret(cls, value: SecretStr) -> SecretStr:
        return _shaped(value, _SECRET_TOKEN, "must be 1-256 characters of A-Z, a-z, 0-9, _ and -")


def _shaped(value: SecretStr, shape: re.Pattern[str], refusal: str) -> SecretStr:
    """``value`` when it is empty or all of it matches ``shape``; else ValueError(``refusal``),
    which never repeats the secret."""
    secret = value.get_secret_value()
    if secret and not shape.fullmatch(secret):
        raise ValueError(refusal)
    return value


STARTUP_RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
"""Default waits between attempts to reach Telegram at start; the last one repeats."""
RetryWait = Annotated[float, Field(gt=0, le=3600)]
"""One wait between start-up attempts, in seconds: more than 0, at most an hour."""


class TelegramSettings(_Section):
    token: SecretStr = SecretStr("")
    api_base_url: str = "https://api.telegram.org"
    admins: tuple[int, ...] = ()
    proxy: ProxyUrl = ""
    webhook: WebhookSettings = WebhookSettings()
    startup_retry_seconds: tuple[RetryWait, ...] = Field(
        default=STARTUP_RETRY_SECONDS, min_length=1
    )

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        # @BotFather's tokens are "<bot id>:<secret>" (Bot API, "Authorizing your bot"); a
        # space or a line break is a copy-and-paste slip, which Telegram would only answer
        # with 404 Not Found.
        return _shaped(
            value, _BOT_TOKEN, "is not a bot token: digits, a colon, then letters, digits, _ and -"
        )

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


if TYPE_CHECKING:
    from sqlalchemy.engine import URL


def _parse_url(value: str) -> URL:
    """The URL as SQLAlchemy (which connects with it) reads it; ValueError when it cannot.

    Imported here, not at the top: SQLAlchemy takes a noticeable part of a second to
    import, and only a PostgreSQL URL needs it.
    """
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - see above
    from sqlalchemy.exc import ArgumentError  # noqa: PLC0415

    try:
        return make_url(value)
    except ArgumentError as exc:
        raise ValueError(str(exc)) from None


SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
"""URL schemes of a PostgreSQL ``database.url``; all mean the asyncpg driver."""

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
"""The values of ``sslmode`` (libpq's names, which asyncpg's ``ssl`` takes as they are:
asyncpg ``connect_utils.SSLMode``)."""

_LIBPQ_NAMES = {"sslmode": "ssl", "connect_timeout": "timeout"}
"""libpq URL options under the name asyncpg's ``connect()`` gives them. SQLAlchemy's
asyncpg dialect passes every query option but ``host`` to ``connect()`` as a keyword, so
any other name there would fail at the first connection (TypeError), not at loading the
config."""
_URL_OPTIONS = frozenset({"ssl", "timeout", "host"})
"""The options a URL may hold once renamed: ``host`` (a Unix socket folder, or
``host:port`` pairs) is read by SQLAlchemy's dialect itself."""


def _asyncpg_query(parsed: URL) -> URL:
    """``parsed`` with its query options under asyncpg's names (``sslmode`` → ``ssl``,
    ``connect_timeout`` → ``timeout``), each checked.

    Raises ValueError naming the option (never the URL: it may hold the password) for an
    option asyncpg does not take, a repeated one, an SSL mode outside ``SSL_MODES`` or a
    timeout that is not a positive number of seconds.
    """
    query: dict[str, str] = {}
    for key, value in parsed.query.items():
        name = _LIBPQ_NAMES.get(key, key)
        if name not in _URL_OPTIONS:
            raise ValueError(
                f"has the option {key!r}, which newsrelay does not take"
                " (it takes sslmode, connect_timeout and host)"
            )
        if not isinstance(value, str) or name in query:
            raise ValueError(
                f"has the option {key!r} more than once ({key} and {name} are one option)"
                if key != name
                else f"has the option {key!r} more than once"
            )
        if name == "ssl" and value not in SSL_MODES:
            raise ValueError(f"option {key!r} must be one of {', '.join(SSL_MODES)}")
        if name == "timeout" and not _positive_seconds(value):
            raise ValueError(f"option {key!r} must be a positive number of seconds")
        query[name] = value
    return parsed.set(query=query)


def _positive_seconds(text: str) -> bool:
    try:
        seconds = float(text)
    except ValueError:
        return False
    return 0 < seconds < float("inf")


class DatabaseSettings(_Section):
    """Where the state lives: a SQLite file (the default) or a shared PostgreSQL database.

    ``sqlite:///relative/path`` is relative to the working directory,
    ``sqlite:////absolute/path`` absolute; ``postgresql://user:pass@host:5432/db`` (see
    SPEC.md's configuration). A password with ``@``, ``:`` or ``/`` in it is written
    URL-encoded (``%40``, ``%3A``, ``%2F``), as RFC 3986 says for userinfo.
    ``?sslmode=require`` (or disable, allow, prefer, verify-ca, verify-full) and
    ``?connect_timeout=5`` (seconds) are libpq's options, kept under asyncpg's names
    (``ssl``, ``timeout``); any other option is refused here rather than at the first
    connection.
    """

    url: str = f"{SQLITE_PREFIX}data/newsrelay.db"

    @field_validator("url")
    @classmethod
    def _known_url(cls, value: str) -> str:
        if value.startswith(SQLITE_PREFIX):
            if not value.removeprefix(SQLITE_PREFIX):
                raise ValueError("names no SQLite file")
            return value
        scheme = value.partition("://")[0].lower()
        if scheme not in POSTGRES_SCHEMES:
            raise ValueError(
                "must be sqlite:///relative/path, sqlite:////absolute/path"
                " or postgresql://user:password@host:5432/database"
            )
        # Messages never quote the URL: it may hold the password.
        try:
            parsed = _parse_url(value)
        except ValueError:
            raise ValueError("is not a valid postgresql:// URL") from None
        if "@" in (parsed.host or "") or "@" in (parsed.database or ""):
            raise ValueError("holds an unencoded '@': write an '@' in the password as %40")
        if not parsed.database:
            raise ValueError("names no database (postgresql://user:password@host/database)")
        if not parsed.query:
            return value
        return _asyncpg_query(parsed).render_as_string(hide_password=False)

    @property
    def engine(self) -> Literal["sqlite", "postgresql"]:
        """Which engine the URL selects."""
        return "sqlite" if self.url.startswith(SQLITE_PREFIX) else "postgresql"

    @property
    def path(self) -> Path:
        """The SQLite file: sqlite:///rel is relative to the working directory.

        Raises ValueError for a PostgreSQL URL, which names no file.
        """
        if self.engine != "sqlite":
            raise ValueError("a PostgreSQL database.url names no file")
        return Path(self.url.removeprefix(SQLITE_PREFIX))

    @property
    def password(self) -> str:
        """The PostgreSQL password as the server gets it (decoded); "" for none or SQLite."""
        if self.engine != "postgresql":
            return ""
        return _parse_url(self.url).password or ""

    @property
    def shown(self) -> str:
        """The URL as messages may show it: the SQLite path, or the PostgreSQL URL with
        the password replaced by ``***``."""
        if self.engine == "sqlite":
            return str(self.path)
        return _parse_url(self.url).render_as_string(hide_password=True)


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
    allowed_private_hosts: tuple[str, ...] = ()
    proxy: ProxyUrl = ""
    user_agent: str = DEFAULT_USER_AGENT

    @field_validator("allowed_private_hosts")
    @classmethod
    def _hosts_or_networks(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        """Each entry is an IP address, a CIDR network or a host name; names are lower-cased."""
        cleaned = []
        for raw in values:
            entry = raw.strip().lower().rstrip(".")
            try:
                ip_network(entry.strip("[]"), strict=False)
            except ValueError:
                if not _HOST_NAME.fullmatch(entry):
                    raise ValueError(f"{raw!r} is neither a host name nor an IP/CIDR") from None
            cleaned.append(entry)
        return tuple(cleaned)


class DeliverySettings(_Section):
    backlog_on_subscribe: int = Field(default=1, ge=0)
    flood_threshold: int = Field(default=10, ge=1)
    """More new entries than this from one feed in one check is a flood (a republished feed)."""
    flood_keep: int = Field(default=3, ge=0)
    """In a flood, the newest this many are still sent, then one message says how many more."""


class AccessSettings(_Section):
    allowed_chats: tuple[int, ...] = ()
    max_subscriptions_per_chat: int = Field(default=200, ge=1)


class HttpSettings(_Section):
    port: int = Field(default=0, ge=0, le=65535)
    listen: str = "127.0.0.1"


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(_Section):
    telegram: TelegramSettings = TelegramSettings()
    database: DatabaseSettings = DatabaseSettings()
    polling: PollingSettings = PollingSettings()
    fetch: FetchSettings = FetchSettings()
    delivery: DeliverySettings = DeliverySettings()
    access: AccessSettings = AccessSettings()
    http: HttpSettings = HttpSettings()
    logging: LoggingSettings = LoggingSettings()

    @model_validator(mode="after")
    def _ports_apart(self) -> Settings:
        """The metrics server and the webhook server cannot share a port."""
        webhook = self.telegram.webhook
        if webhook.url and self.http.port and self.http.port == webhook.port:
            raise ValueError(
                f"http.port and telegram.webhook.port are both {webhook.port}: pick two ports"
            )
        return self


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
        message = message.removeprefix("Value error, ")
        problems.append(f"{key}: {message}" if key else message)
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


_SECRET_KEYS = frozenset({"token", "secret_token"})


def _leaves(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"fetch.concurrency": 8, …}: every non-mapping value by its dotted key path."""
    found: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.update(_leaves(value, f"{path}."))
        else:
            found[path] = value
    return found


def _with_value(source: str, key: str, value: Any) -> str:
    return source if key.rsplit(".", 1)[-1] in _SECRET_KEYS else f"{source} ({value!r})"


def overridden_sources(
    path: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> list[str]:
    """One sentence per key that a later source sets over an earlier one (file < environment
    < flags), values shown except secrets: what ``check-config`` warns about."""
    layers = [
        ("the config file", _leaves(_read_yaml(path)) if path is not None else {}),
        ("the environment", _leaves(_env_overrides(os.environ if environ is None else environ))),
        ("a command-line flag", _leaves(overrides or {})),
    ]
    notes = []
    for index, (name, values) in enumerate(layers[1:], start=1):
        for key, value in values.items():
            # Against the nearest earlier source that set the key: the one it replaces.
            for earlier_name, earlier in reversed(layers[:index]):
                if key in earlier:
                    if earlier[key] != value:
                        later = _with_value(name, key, value)
                        replaced = _with_value(earlier_name, key, earlier[key])
                        notes.append(f"{key}: {later} overrides {replaced}")
                    break
    return notes


def overriding_settings(settings: Settings) -> list[str]:
    """One sentence per setting that changes or voids another: what ``check-config`` warns about."""
    notes = []
    polling, fetch, telegram = settings.polling, settings.fetch, settings.telegram
    if polling.interval_seconds < polling.min_interval_seconds:
        notes.append(
            f"polling.interval_seconds {polling.interval_seconds} is below"
            f" polling.min_interval_seconds {polling.min_interval_seconds}:"
            f" feeds are fetched every {polling.effective_interval} s"
        )
    if fetch.allow_private_networks and fetch.allowed_private_hosts:
        notes.append(
            "fetch.allow_private_networks is true, so fetch.allowed_private_hosts only matters"
            " for the cloud metadata addresses it names"
        )
    if telegram.webhook.url and not telegram.webhook.secret_token.get_secret_value():
        notes.append(
            "telegram.webhook.secret_token is empty: a random secret is set with each start"
        )
    if telegram.webhook.url and telegram.proxy:
        notes.append(
            "telegram.proxy carries the bot's calls to Telegram only; webhook requests come"
            " in through your reverse proxy"
        )
    return notes


def masked_token(token: str) -> str:
    """Enough of the token to tell two apart, never enough to use it."""
    if not token:
        return "(not set)"
    bot_id, _, _secret = token.partition(":")
    return f"{bot_id}:****" if bot_id.isdigit() else "****"
