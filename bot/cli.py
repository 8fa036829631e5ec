"""The command line: ``newsrelay run | check-config | preview | stats | import-opml | export-opml``.

Exit codes: 0 ok, 1 runtime or configuration error (one line on stderr, no
traceback), 2 usage error (argparse's own). Every line this module writes goes
through ``bot.redact.scrub``: no token or URL credential reaches the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot import __version__
from bot.config import (
    ConfigError,
    DatabaseSettings,
    Settings,
    load_settings,
    masked_token,
    overridden_sources,
    overriding_settings,
)
from bot.coordination.roles import ALL_ROLES, Role
from bot.models import SummaryMode
from bot.redact import scrub, secrets_of
from bot.runlock import RunLock
from bot.runstop import STOP_SECONDS

if TYPE_CHECKING:
    from bot.models import ParsedFeed
    from bot.opml import OpmlDocument
    from bot.services.backup import Restored
    from bot.services.bulk_import import Refused
    from bot.store import BulkOutcome, FailingFeed, Store

# Each command imports what it needs when it runs (the local imports below): `check-config`,
# `preview`, `stats`, `export-opml` and a usage error then start without the Telegram
# application, APScheduler and the command modules that only `run` uses.

log = logging.getLogger(__name__)


class CliError(Exception):
    """A one-line failure for stderr, exit code 1; ``secrets`` are scrubbed from it there."""

    def __init__(self, message: str, *, secrets: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.secrets = tuple(secrets)


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1 (else a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


CHAT_ID_BITS = 52
"""Telegram: a chat id "has at most 52 significant bits" (Bot API, Chat.id)."""


def _chat_id(text: str) -> int:
    """A Telegram chat id (argparse type): an integer of at most 52 significant bits.

    Raises ArgumentTypeError (a usage error, exit 2) for anything else.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a chat id: {text!r}") from None
    if abs(value) >= 1 << CHAT_ID_BITS:
        raise argparse.ArgumentTypeError(f"not a Telegram chat id (too large): {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsrelay", description="Telegram news relay")
    parser.add_argument("--version", action="version", version=f"newsrelay {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument(
        "-c",
        "--config",
        type=Path,
        metavar="FILE",
        help="YAML configuration file (else defaults and NEWSRELAY_* variables)",
    )
    token = argparse.ArgumentParser(add_help=False)
    token.add_argument("--token", help="the bot token (else telegram.token or BOT_TOKEN)")

    def command(name: str, summary: str, *parents: argparse.ArgumentParser) -> Any:
        return commands.add_parser(name, help=summary, description=summary, parents=parents)

    run = command("run", "run the bot", config, token)
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    run.add_argument(
        "--role",
        action="append",
        choices=[role.value for role in Role],
        help="only this work (repeatable; default all): fetch feeds, send, receive updates;"
        " needs a PostgreSQL database.url",
    )

    command("check-config", "validate and print the effective configuration", config, token)

    preview = command("preview", "render a feed's newest entries to the terminal", config)
    preview.add_argument("source", help="feed URL (http:// or https://) or local file")
    preview.add_argument(
        "-n", type=_positive, default=3, metavar="N", help="how many entries (default 3)"
    )
    preview.add_argument(
        "--summary",
        choices=[m.value for m in SummaryMode],
        default="short",
        help="summary length, as /set offers it (default short)",
    )

    command("stats", "feeds, subscriptions, chats, deliveries", config)

    importer = command("import-opml", "subscribe a chat to an OPML file's feeds", config)
    importer.add_argument("file", type=Path, help="the OPML file")
    importer.add_argument("--chat", type=_chat_id, required=True, help="Telegram chat id")

    exporter = command("export-opml", "print a chat's subscriptions as OPML", config)
    exporter.add_argument("--chat", type=_chat_id, required=True, help="Telegram chat id")

    mover = command("migrate", "copy this SQLite instance into an empty PostgreSQL", config)
    mover.add_argument("--to", required=True, metavar="URL", help="postgresql://user:pass@host/db")
    mover.add_argument(
        "--stop",
        action="store_true",
        help="stop the bot running on the SQLite file first (SIGTERM, as an operator would;"
        f" it must run on this machine) and copy once it has stopped, waiting up to"
        f" {STOP_SECONDS:g} s; messages it has not sent are copied as pending",
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "token", None):
        overrides["telegram"] = {"token": args.token}
    return load_settings(args.config, overrides=overrides)


def _check_config(args: argparse.Namespace) -> int:
    """Print the effective values (as the bot will use them), then warnings on stderr."""
    settings = _settings(args)
    data = settings.model_dump(mode="json")
    data["telegram"]["token"] = masked_token(settings.telegram.token.get_secret_value())
    if settings.telegram.webhook.secret_token.get_secret_value():
        data["telegram"]["webhook"]["secret_token"] = "****"  # noqa: S105 - a mask, not a secret
    data["polling"]["interval_seconds"] = settings.polling.effective_interval
    print(scrub(yaml.safe_dump(data, sort_keys=False, allow_unicode=True)), end="")
    overrides = {"telegram": {"token": args.token}} if args.token else None
    notes = overridden_sources(args.config, overrides=overrides) + overriding_settings(settings)
    for note in notes:
        print(scrub(f"newsrelay: warning: {note}"), file=sys.stderr)
    if not settings.telegram.token.get_secret_value():
        raise CliError("telegram.token is not set (use --token, BOT_TOKEN or the config file)")
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.app import Relay, StartupError, run_until_signalled  # noqa: PLC0415 - only `run` needs the bot
    from bot.logs import configure_logging  # noqa: PLC0415 - see above

    settings = _settings(args)
    token = settings.telegram.token.get_secret_value()
    if not token:
        raise CliError("telegram.token is not set (use --token, BOT_TOKEN or the config file)")
    configure_logging(
        token=token,
        secrets=secrets_of(settings),
        level=logging.DEBUG if args.verbose else settings.logging.level,
        json_lines=settings.logging.format == "json",
    )

    roles = frozenset(Role(role) for role in args.role) if args.role else ALL_ROLES
    if roles != ALL_ROLES and settings.database.engine == "sqlite":
        raise CliError(
            "--role needs a PostgreSQL database.url: one process serves a SQLite database,"
            " and it does all the work"
        )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_until_signalled(Relay(settings, roles=roles), stop)

    try:
        asyncio.run(main())
    except StartupError as exc:
        raise CliError(str(exc), secrets=[token]) from exc
    except Exception as exc:
        # A bug, not a user error: the traceback goes to the log, whose filter scrubs it;
        # Python's own traceback printer would not.
        log.exception("crashed")
        raise CliError(f"crashed: {exc!r}", secrets=[token]) from exc
    return 0


def _read_capped(path: Path, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of the file at ``path``: one more than allowed says it is
    too large, without reading a device or a pipe (``/dev/zero``) to the end of memory.

    Raises CliError (one line) when it cannot be read.
    """
    try:
        with path.open("rb") as file:
            return file.read(limit + 1)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc


def _read_local(source: str, max_bytes: int) -> ParsedFeed | None:
    """A feed from a local file of at most ``max_bytes``, or None when ``source`` is a URL.

    Anything without ``://`` is a file name, so a missing file is reported as one
    (rather than as "not a URL").
    """
    from bot.feeds.parse import parse_feed  # noqa: PLC0415 - preview only

    path = Path(source)
    if "://" in source:
        return None
    if not path.exists():
        raise CliError(f"{source}: no such file (a feed URL starts with http:// or https://)")
    data = _read_capped(path, max_bytes)
    if len(data) > max_bytes:  # as a fetch of it would be refused (fetch.max_feed_bytes)
        raise CliError(f"{source}: the file is larger than {max_bytes // 1024} KB")
    return parse_feed(data, url=path.resolve().as_uri())


async def _fetch_preview(source: str, settings: Settings) -> ParsedFeed:
    # The operator runs preview on their own machine, where they could fetch anything
    # anyway: the private-address guard protects the bot from its chats, not from them.
    from bot.feeds.fetch import Fetcher  # noqa: PLC0415 - preview only
    from bot.feeds.load import load_feed  # noqa: PLC0415 - preview only

    fetcher = Fetcher(settings.fetch.model_copy(update={"allow_private_networks": True}))
    try:
        _, parsed, _ = await load_feed(fetcher, source)
        return parsed
    finally:
        await fetcher.aclose()


def _preview(args: argparse.Namespace) -> int:
    from bot.console import plain, wants_colour  # noqa: PLC0415 - preview only
    from bot.feeds.failure import FetchError  # noqa: PLC0415 - preview only
    from bot.feeds.parse import NotAFeed  # noqa: PLC0415 - preview only
    from bot.models import DisplayOptions  # noqa: PLC0415 - preview only
    from bot.pipeline import render_newest  # noqa: PLC0415 - preview only
    from bot.render import format_for_terminal  # noqa: PLC0415 - preview only

    settings = load_settings(args.config)
    try:
        parsed = _read_local(args.source, settings.fetch.max_feed_bytes) or asyncio.run(
            _fetch_preview(args.source, settings)
        )
    except (FetchError, NotAFeed) as exc:
        raise CliError(f"{args.source}: {exc}") from exc
    options = DisplayOptions(summary=SummaryMode(args.summary))
    newest = render_newest(parsed, options, args.n)
    colour = wants_colour(sys.stdout)
    for index, message in enumerate(newest):
        if index:
            print("\n" + "─" * 40 + "\n")
        text = format_for_terminal(message)
        print(text if colour else plain(text))
    if not newest:
        print(f"{parsed.title or args.source}: no entries")
    return 0


async def _open_store(settings: Settings) -> Store:
    """The store of ``database.url``; CliError naming the database when it cannot be opened."""
    from bot.store import Store  # noqa: PLC0415 - not for check-config, preview

    try:
        return await Store.open_url(settings.database.url)
    except _database_errors() as exc:
        where = settings.database.shown
        raise CliError(f"cannot open the database {where}: {_error_reason(exc)}") from exc


def _moved_reason(settings: Settings) -> str | None:
    """Why the SQLite file of ``settings`` is no bot's any more (``newsrelay migrate``
    moved it), in the words ``run`` refuses it with; None when it was not moved or the
    database is PostgreSQL."""
    if settings.database.engine != "sqlite":
        return None
    try:
        return RunLock(settings.database.path).moved_reason()
    except OSError as exc:
        raise CliError(f"cannot read {settings.database.path}.moved: {exc.strerror}") from exc


def _existing_database(settings: Settings) -> None:
    """For a command that only reads the database: CliError when the SQLite file is
    missing, one warning line on stderr when it was moved (reading it still shows what
    it held)."""
    if settings.database.engine == "sqlite" and not settings.database.path.exists():
        raise CliError(f"no database at {settings.database.path}")
    moved = _moved_reason(settings)
    if moved is not None:
        print(scrub(f"newsrelay: warning: {moved}"), file=sys.stderr)


def _stats(args: argparse.Namespace) -> int:
    from bot.coordination.report import process_lines  # noqa: PLC0415 - stats only
    from bot.scheduler import FAILED_RETENTION_SECONDS  # noqa: PLC0415 - stats only

    settings = load_settings(args.config)
    _existing_database(settings)

    async def collect() -> None:
        store = await _open_store(settings)
        try:
            stats = await store.stats(failed_before=time.time() - FAILED_RETENTION_SECONDS)
        finally:
            await store.close()
        days = FAILED_RETENTION_SECONDS // 86_400
        lines = [
            f"feeds: {stats.feeds}",
            f"subscriptions: {stats.subscriptions}",
            f"chats: {stats.chats} ({stats.active_chats} active)",
            f"delivered: {stats.delivered}",
            f"pending: {stats.pending}",
            f"failed deliveries: {stats.failed} ({stats.failed_expired} older than {days} days,"
            " purged by the running bot)",
            f"feeds nobody follows: {stats.orphan_feeds} (deleted by the running bot)",
            f"failing feeds: {len(stats.failing_feeds)}",
        ]
        lines += [failing_line(feed, now=time.time()) for feed in stats.failing_feeds]
        if settings.database.engine == "postgresql":
            lines += await process_lines(settings.database.url, now=time.time())
        print(scrub("\n".join(lines)))

    asyncio.run(collect())
    return 0


def _chat_kind(chat_id: int) -> str:
    """A first guess until the chat itself talks to the bot (ensure_chat then corrects it)."""
    if chat_id > 0:
        return "private"
    return "channel" if str(chat_id).startswith("-100") else "group"


def _import_opml(args: argparse.Namespace) -> int:
    """Subscribe on the database directly, fetching nothing: the running bot reads the feeds."""
    from bot.cadence import MAX_ASKED_INTERVAL  # noqa: PLC0415 - import-opml only
    from bot.clock import Clock  # noqa: PLC0415 - import-opml only
    from bot.console import progress  # noqa: PLC0415 - import-opml only
    from bot.feeds.fetch import Fetcher  # noqa: PLC0415 - import-opml only
    from bot.opml import CLI_MAX_OPML_BYTES, OpmlError, read_opml  # noqa: PLC0415 - import-opml only
    from bot.ratelimit import SendSlots  # noqa: PLC0415 - import-opml only
    from bot.services import Services  # noqa: PLC0415 - import-opml only
    from bot.services.backup import Restorer  # noqa: PLC0415 - import-opml only
    from bot.services.bulk_import import import_outlines  # noqa: PLC0415 - import-opml only
    from bot.store import BulkOutcome  # noqa: PLC0415 - import-opml only

    settings = load_settings(args.config)
    moved = _moved_reason(settings)
    if moved is not None:  # subscriptions in a file no bot will read again
        raise CliError(moved)
    try:
        opml = read_opml(
            _read_capped(args.file, CLI_MAX_OPML_BYTES),
            max_outlines=settings.access.max_subscriptions_per_chat,
            max_bytes=CLI_MAX_OPML_BYTES,
        )
    except OpmlError as exc:
        raise CliError(f"{args.file}: {exc}") from exc
    for note in opml.notes:  # what a lenient reading of the file repaired or left out
        where = f"line {note.line}: " if note.line else ""
        print(scrub(f"note  {where}{note.name + ': ' if note.name else ''}{note.note}"))
    if not opml.outlines:
        raise CliError(f"{args.file}: no feeds (outlines with an xmlUrl)")
    allowed = settings.access.allowed_chats
    if allowed and args.chat not in allowed:
        raise CliError(f"chat {args.chat} is not in access.allowed_chats")

    async def run() -> tuple[list[BulkOutcome | Refused], Restored]:
        store = await _open_store(settings)
        # The fetcher only reads a feed that the file says runs and this chat had paused.
        fetcher = Fetcher(settings.fetch)
        services = Services(settings, store, fetcher, time.time, lambda: None, SendSlots(Clock()))
        try:
            await store.ensure_chat(args.chat, kind=_chat_kind(args.chat))
            restorer = Restorer(services, args.chat, opml, max_interval=MAX_ASKED_INTERVAL)
            await restorer.restore_chat()
            with progress(len(opml.outlines), "importing") as step:
                results = await import_outlines(
                    store,
                    settings,
                    args.chat,
                    opml.outlines,
                    on_outline=step,
                    now=time.time(),
                    rng=random.Random(),  # noqa: S311 - spreading first checks, not a secret
                )
            # No backlog is queued by a bulk import: the settings go on right after it.
            numbered = {r.number: r.url for r in results if isinstance(r, BulkOutcome) and r.number}
            await restorer.restore_numbered(numbered)
            return results, await restorer.finish()
        finally:
            await fetcher.aclose()
            await store.close()

    results, restored = asyncio.run(run())
    _report_import(opml, results, restored)
    return 0


def _report_import(
    opml: OpmlDocument, results: Sequence[BulkOutcome | Refused], restored: Restored
) -> None:
    """Print what an import did; raises CliError when a feed or a value of the file failed."""
    from bot.services.bulk_import import Refused  # noqa: PLC0415 - import-opml only
    from bot.store import BulkState  # noqa: PLC0415 - import-opml only

    titles = {outline.url: outline.title for outline in opml.outlines}
    lines, failed, added = [], 0, 0
    for result in results:
        if isinstance(result, Refused):
            failed += 1
            lines.append(f"failed  {result.url}: {result.reason}")
        elif result.state is BulkState.LIMIT:
            failed += 1
            lines.append(f"failed  {result.url}: this chat's limit (max_subscriptions_per_chat)")
        else:
            added += result.state is BulkState.ADDED
            number = f"#{result.number} " if result.number else ""
            title = titles.get(result.url, "")
            lines.append(f"{result.state.value}  {number}{title}  {result.url}".rstrip())
    lines += _restore_lines(restored)
    print(scrub("\n".join(lines)))
    if opml.truncated:
        print(f"only the first {len(opml.outlines)} feeds were read (max_subscriptions_per_chat)")
    if added:
        print(
            f"{added} {'feed' if added == 1 else 'feeds'} added: the running bot reads them"
            " within one polling interval "
            "and sends what they publish from then on"
        )
    problems = [f"{failed} of {len(results)} feeds failed"] if failed else []
    if opml.truncated:  # the outlines past the chat's limit were not subscribed
        problems.append("the file holds more feeds than the chat may follow")
    if restored.refused:
        count = len(restored.refused)
        values = "1 value of the file was" if count == 1 else f"{count} values of the file were"
        problems.append(f"{values} not restored")
    if problems:
        raise CliError("; ".join(problems))


def _restore_lines(restored: Restored) -> list[str]:
    """What the file's newsrelay settings did, one line each, for the terminal."""
    from bot.i18n.failures import fetch_failure_text  # noqa: PLC0415 - import-opml only
    from bot.i18n.refusals import refusal_text  # noqa: PLC0415 - import-opml only
    from bot.opml_options import written_name  # noqa: PLC0415 - import-opml only

    lines = []
    if restored.chat_filter:
        lines.append(f"chat filter  {restored.chat_filter}")
    if restored.time_zone:
        lines.append(f"time zone  {restored.time_zone}")
    if restored.restored:
        subscriptions = "subscription" if restored.restored == 1 else "subscriptions"
        lines.append(
            f"restored  settings of {restored.restored} {subscriptions} ({restored.paused} paused)"
        )
    for refused in restored.refused:
        sub, attribute = refused.subscription, written_name(refused.refusal.attribute)
        where = "chat filter" if sub is None else f"#{sub.number} {sub.title or sub.url}"
        lines.append(f"refused  {where}: {attribute}: {refusal_text('en', refused.refusal)}")
    for resumed in restored.resumed:
        if resumed.error is not None:
            reason = fetch_failure_text("en", resumed.error)
            lines.append(
                f"resumed  #{resumed.subscription.number}, but the feed could not be read now "
                f"({reason}): entries from the pause may still arrive"
            )
    return lines


def failing_line(feed: FailingFeed, *, now: float) -> str:
    """One failing feed for `newsrelay stats`: failures, since when, why, and the next check."""
    from bot.i18n.failures import stored_error_text  # noqa: PLC0415 - stats only

    since = f" since {_utc(feed.failing_since)}" if feed.failing_since is not None else ""
    wait = feed.next_check_at - now
    when = f"in {_span(wait)}" if wait > 0 else "due now"
    return (
        f"  {feed.url} ({feed.failures}× in a row{since}): "
        f"{stored_error_text('en', feed.last_error)}; "
        f"next check {_utc(feed.next_check_at)} ({when})"
    )


def _utc(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _span(seconds: float) -> str:
    """A duration as a person reads it: 45 s, 12 min, 3.5 h, 2 d."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} d"


def _export_opml(args: argparse.Namespace) -> int:
    from bot.opml_options import write_backup  # noqa: PLC0415 - export-opml only

    settings = load_settings(args.config)
    _existing_database(settings)

    async def collect() -> bytes:
        store = await _open_store(settings)
        try:
            chat = await store.get_chat(args.chat)
            if chat is None:
                raise CliError(f"chat {args.chat} is unknown to this database")
            subscriptions = await store.list_subscriptions(args.chat)
        finally:
            await store.close()
        return write_backup(
            f"newsrelay: {chat.title or args.chat}",
            subscriptions,
            chat_filter=chat.filter_expr,
            time_zone=chat.timezone,
            created=time.time(),
        )

    sys.stdout.buffer.write(asyncio.run(collect()))
    sys.stdout.flush()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from bot.migrate import MigrateError, migrate_instance  # noqa: PLC0415 - migrate only

    settings = load_settings(args.config)

    def copied(table: str, rows: int) -> None:
        print(f"{table}: {rows} rows")

    def stopping(pid: int) -> None:
        print(
            f"stopping the bot (newsrelay pid {pid}, SIGTERM); copying once it has stopped",
            flush=True,
        )

    moving = migrate_instance(
        settings, args.to, on_table=copied, stop=args.stop, on_stopping=stopping
    )
    try:
        counts = asyncio.run(moving)
    except MigrateError as exc:
        raise CliError(str(exc), secrets=_password_of(args.to)) from exc
    print(
        f"copied {sum(counts.values())} rows; set database.url to the PostgreSQL URL and start"
        " the bot. The SQLite file stays as a backup; newsrelay run now refuses it, so that"
        " nothing is sent twice"
    )
    return 0


def _password_of(url: str) -> list[str]:
    """The password of a postgresql:// URL, for scrubbing (none when it does not parse)."""
    try:
        password = DatabaseSettings(url=url).password
    except ValueError:
        return []
    return [password] if password else []


def _database_errors() -> tuple[type[BaseException], ...]:
    """``bot.store.database_errors()``, imported only when an exception reaches ``main``."""
    from bot.store import database_errors  # noqa: PLC0415 - only once something failed

    return database_errors()


def _error_reason(exc: BaseException) -> str:
    """``bot.store.error_reason``, imported only for a database failure."""
    from bot.store import error_reason  # noqa: PLC0415 - only once something failed

    return error_reason(exc)


_COMMANDS = {
    "run": _run,
    "check-config": _check_config,
    "preview": _preview,
    "stats": _stats,
    "import-opml": _import_opml,
    "export-opml": _export_opml,
    "migrate": _migrate,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``newsrelay`` and ``python -m bot``."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except BrokenPipeError:
        # The reader went away (`newsrelay preview FEED | head -1`): it has what it wanted.
        # Point stdout at /dev/null so that the interpreter's last flush cannot fail again
        # (the way the Python documentation's note on SIGPIPE suggests).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (ConfigError, CliError) as exc:
        secrets = exc.secrets if isinstance(exc, CliError) else ()
        print(scrub(f"newsrelay: {exc}", secrets), file=sys.stderr)
        return 1
    except _database_errors() as exc:
        # The database named by database.url cannot be used (unreachable, refused, locked).
        print(scrub(f"newsrelay: database: {_error_reason(exc)}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
