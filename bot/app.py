"""The one place where the running bot is put together and taken apart.

``Relay`` owns the store, the fetcher, the PTB ``Application``, the poller and
the delivery worker, and starts and stops them in order. Around them, for the
operator: the database lock (``bot.runlock``), start-up retries while Telegram
is unreachable, long polling or the webhook, and the health and metrics port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.clock import Clock
from bot.commands import register
from bot.commands.common import language, reply, sender_of, services_of, thread_of
from bot.commands.menu import publish_menus
from bot.config import Settings
from bot.coordination import ALL_ROLES, Duty, Role
from bot.coordination.setup import Coordination, coordinate, refusal
from bot.delivery import Deliverer
from bot.feeds.fetch import Fetcher
from bot.health import Health, HealthReport
from bot.i18n import pick_language, t
from bot.logs import event
from bot.metrics import Metrics
from bot.ops_http import OpsServer
from bot.pipeline import RefreshPolicy, RefreshResult
from bot.ratelimit import Limits, SendSlots
from bot.redact import secrets_of
from bot.replies import Replier, Reply
from bot.runlock import AlreadyRunning, Moved, RunLock
from bot.scheduler import Housekeeper, Poller
from bot.services import Services
from bot.store import Store, database_errors, error_reason
from bot.telegram_http import Observer, build_requests
from bot.updates import UpdateGate
from bot.updates_in import POLL_TIMEOUT_SECONDS, PollErrors, reach_telegram, receive_updates

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 2.0
# Updates are handled concurrently: a /sub may wait 20 s on a feed; it must not hold
# back every other chat's commands. Replies never wait in a handler (bot.replies).
MAX_CONCURRENT_UPDATES = 64


class StartupError(Exception):
    """The bot cannot start; the message is one line for stderr."""


def build_application(
    settings: Settings, gate: UpdateGate, observe: Observer | None = None
) -> Application:  # type: ignore[type-arg]
    """The PTB application talking to ``telegram.api_base_url`` (through ``telegram.proxy``),
    with our handlers and gate; ``observe`` hears every Bot API call."""
    api = settings.telegram.api_base_url
    request, updates_request = build_requests(
        settings.telegram, long_poll_seconds=POLL_TIMEOUT_SECONDS, observe=observe
    )
    application = (
        ApplicationBuilder()
        .token(settings.telegram.token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .request(request)
        .get_updates_request(updates_request)
        .job_queue(None)
        .concurrent_updates(gate)
        .build()
    )
    register(application)
    application.add_error_handler(_on_error)
    return application


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with its traceback; tell the user in one line, never with a traceback."""
    error = context.error
    log.error("handler_failed error=%r", error, exc_info=error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            lang = await language(services_of(context), update)
        except Exception:  # the failure may be the database itself; English will do
            lang = "en"
        # Through the chat's send budget like every reply: Telegram counts these too.
        with contextlib.suppress(TelegramError):
            await reply(update, context, t(lang, "error"))


class Relay:
    """A running newsrelay: commands in, feeds polled, messages out."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        limits: Limits | None = None,
        poll_tick_seconds: float | None = None,
        roles: frozenset[Role] = ALL_ROLES,
    ) -> None:
        """``roles``: the work this process may do (several processes on PostgreSQL)."""
        self.settings = settings
        self._roles = roles
        self._coordination: Coordination | None = None
        self.metrics = Metrics()
        """This bot's own registry of counters (several bots in one process never share)."""
        # Wall-clock time for the schedule and the outbox, monotonic time for send
        # slots, and every wait: one clock, which tests replace with virtual time.
        self.clock = clock or Clock()
        self._limits = limits
        self._tick = poll_tick_seconds or float(min(5, settings.polling.min_interval_seconds))
        self._store: Store | None = None
        self._fetcher: Fetcher | None = None
        self._application: Application | None = None  # type: ignore[type-arg]
        self._poller: Poller | None = None
        self._deliverer: Deliverer | None = None
        self._replier: Replier | None = None
        self._slots: SendSlots | None = None
        # One process per SQLite file; PostgreSQL is shared by design (SPEC: several processes).
        sqlite = settings.database.engine == "sqlite"
        self._lock = RunLock(settings.database.path) if sqlite else None
        self._locked = False
        self._health: Health | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._ops: OpsServer | None = None
        self._poll_errors = PollErrors()

    @property
    def poller(self) -> Poller:
        assert self._poller is not None, "Relay not started"  # noqa: S101 - misuse guard
        return self._poller

    @property
    def deliverer(self) -> Deliverer:
        assert self._deliverer is not None, "Relay not started"  # noqa: S101 - misuse guard
        return self._deliverer

    @property
    def application(self) -> Application:  # type: ignore[type-arg]
        assert self._application is not None, "Relay not started"  # noqa: S101 - misuse guard
        return self._application

    @property
    def slots(self) -> SendSlots:
        """The send slots shared by deliveries and replies."""
        assert self._slots is not None, "Relay not started"  # noqa: S101 - misuse guard
        return self._slots

    @property
    def replier(self) -> Replier:
        assert self._replier is not None, "Relay not started"  # noqa: S101 - misuse guard
        return self._replier

    @property
    def gate(self) -> UpdateGate:
        """The update processor: counts of updates handled and being handled."""
        application = self._application
        assert application is not None, "Relay not started"  # noqa: S101 - misuse guard
        processor = application.update_processor
        assert isinstance(processor, UpdateGate)  # noqa: S101 - built in build_application
        return processor

    @property
    def ops_port(self) -> int:
        """The port /healthz and /metrics are served on (0 when ``http.port`` is 0)."""
        return self._ops.port if self._ops is not None else 0

    def health(self) -> HealthReport:
        """Every liveness check's verdict now."""
        assert self._health is not None, "Relay not started"  # noqa: S101 - misuse guard
        return self._health.report()

    async def render_metrics(self) -> bytes:
        """The metrics in Prometheus' text format, database gauges sampled now."""
        if self._store is not None:
            await self.metrics.sample(self._store, self.clock.time())
        return self.metrics.exposition()

    @property
    def coordination(self) -> Coordination:
        """Who does what: the leases of several processes (on SQLite: all of it, here)."""
        assert self._coordination is not None, "Relay not started"  # noqa: S101 - misuse guard
        return self._coordination

    @property
    def store(self) -> Store:
        assert self._store is not None, "Relay not started"  # noqa: S101 - misuse guard
        return self._store

    async def start(self, *, poll_feeds: bool = True) -> None:
        """Open the store, reach Telegram, and start polling updates, feeds and the outbox.

        Whatever stops the start half-way, what was opened is closed again: a store
        left open keeps its thread alive and the process would hang instead of exiting.
        """
        settings = self.settings
        refused = refusal(settings)
        if refused is not None:
            raise StartupError(refused)
        if self._lock is not None:
            try:
                self._lock.acquire()
            except (AlreadyRunning, Moved) as exc:
                raise StartupError(str(exc)) from exc
            except OSError as exc:
                raise StartupError(
                    f"cannot lock the database {settings.database.path}: {exc.strerror}"
                ) from exc
            self._locked = True
        try:
            self._store = await Store.open_url(settings.database.url)
        except database_errors() as exc:
            self._release_lock()
            raise StartupError(
                f"cannot open the database {settings.database.shown}: {error_reason(exc)}"
            ) from exc
        try:
            await self._start_running(self._store, poll_feeds=poll_feeds)
        except InvalidToken as exc:
            await self._teardown()
            raise StartupError("Telegram rejected the bot token") from exc
        except NetworkError as exc:
            await self._teardown()
            raise StartupError(f"cannot reach {self._api_description()}: {exc.message}") from exc
        except OSError as exc:
            await self._teardown()
            raise StartupError(str(exc)) from exc
        except TelegramError as exc:
            await self._teardown()
            raise StartupError(f"the Telegram Bot API refused to start: {exc.message}") from exc
        except database_errors() as exc:
            await self._teardown()
            raise StartupError(
                f"cannot use the database {settings.database.shown}: {error_reason(exc)}"
            ) from exc
        except BaseException:
            await self._teardown()
            raise

    async def _start_running(self, store: Store, *, poll_feeds: bool) -> None:
        settings = self.settings
        metrics = self.metrics
        self._fetcher = fetcher = Fetcher(settings.fetch)
        clock = self.clock
        gate = UpdateGate(
            MAX_CONCURRENT_UPDATES,
            clock=clock,
            allowed_chats=settings.access.allowed_chats,
            on_flood=self._on_flood,
            observe=metrics.update,
        )
        webhook = bool(settings.telegram.webhook.url)
        fetching = poll_feeds and Role.FETCH in self._roles
        self._health = health = Health(
            stalled_for=gate.stalled_for,
            receiving=self._receiving,
            poll_tick_seconds=self._tick if fetching else None,
        )
        self._application = application = build_application(settings, gate, self._api_answered)
        await reach_telegram(
            application,
            clock=clock,
            where=self._api_description,
            waits=settings.telegram.startup_retry_seconds,
        )
        self._slots = slots = SendSlots(clock, self._limits)
        self._deliverer = deliverer = Deliverer(
            application.bot, store, clock=clock, slots=slots, on_outcome=metrics.delivery
        )
        self._coordination = coordination = coordinate(
            settings,
            clock=clock,
            roles=self._roles,
            bot=application.bot,
            slots=slots,
            deliverer=deliverer,
            receive=self._receive,
            secrets=secrets_of(settings),
            grace_seconds=STOP_GRACE_SECONDS,
        )
        self._replier = replier = coordination.replier
        application.bot_data["services"] = Services(
            settings, store, fetcher, clock.time, coordination.signal, slots, replier
        )
        self._poller = Poller(
            store,
            fetcher,
            clock=clock,
            concurrency=settings.fetch.concurrency,
            per_host=settings.fetch.per_host_concurrency,
            on_queued=coordination.signal,
            policy=RefreshPolicy.from_settings(settings, keep_record=coordination.keep_record),
            idle_seconds=self._tick,
            housekeeper=Housekeeper(store, clock=clock.time),
            on_tick=health.poll_ticked,
            on_refreshed=self._refreshed,
            due_feeds=coordination.due_feeds,
            when_idle=coordination.when_idle,
        )
        coordination.watch(self._poller)
        await publish_menus(application.bot, settings.telegram.admins)
        await application.start()
        # Receiving updates and sending start here, or once this process takes their lease.
        await coordination.start()
        if fetching:
            self._poller.start()
        self._heartbeat = asyncio.create_task(health.heartbeat())
        if settings.http.port:
            self._ops = OpsServer(self.health, self.render_metrics)
            try:
                self._ops.start(settings.http.listen, settings.http.port)
            except OSError as exc:
                where = f"{settings.http.listen}:{settings.http.port}"
                raise OSError(
                    f"cannot serve /healthz and /metrics on {where}: {exc.strerror}"
                ) from exc
        event(
            log,
            logging.INFO,
            "started",
            bot=application.bot.username,
            mode="webhook" if webhook else "polling",
        )

    def _api_description(self) -> str:
        telegram = self.settings.telegram
        through = " through the proxy in telegram.proxy" if telegram.proxy else ""
        return f"the Telegram Bot API at {telegram.api_base_url}{through}"

    def _webhook_running(self) -> bool:
        application = self._application
        return application is not None and bool(application.updater and application.updater.running)

    def _receiving(self) -> bool | None:
        """For the health check: None while long polling (getUpdates answers tell), else
        whether the webhook server runs; True for a process that leaves updates to another."""
        coordination = self._coordination
        if coordination is None or not coordination.coordinator.holds(Duty.UPDATES):
            return True
        return self._webhook_running() if self.settings.telegram.webhook.url else None

    async def _receive(self, on: bool) -> None:
        """Start receiving updates (long polling or the webhook), or stop."""
        application = self.application
        if on:
            await receive_updates(
                application, self.settings.telegram.webhook, self._poll_errors.failed
            )
        elif application.updater is not None and application.updater.running:
            await application.updater.stop()

    def _api_answered(self, method: str, code: int | None, seconds: float) -> None:
        """Every Bot API call: metrics, health, and the end of a 409 Conflict episode."""
        self.metrics.api_call(method, code, seconds)
        if self._health is not None:
            self._health.api_answered(method, code, seconds)
        self._poll_errors.answered(method, code, seconds)

    def _refreshed(self, result: RefreshResult, seconds: float) -> None:
        kind = result.error.kind.value if result.error is not None else None
        self.metrics.refreshed(result.status.value, kind, seconds, result.queued)

    async def _on_flood(self, update: Update) -> None:
        """A chat or user went over its command budget: say so once, on the reply slots."""
        message = update.effective_message
        if message is None or self._replier is None or self._store is None:
            return
        stored = await self._store.get_chat(message.chat_id)
        user = update.effective_user
        lang = pick_language(
            stored.language if stored else None, user.language_code if user else None
        )
        text = t(lang, "slow_down")
        reply = Reply(message.chat_id, text, thread_of(message), sender=sender_of(update))
        await self._replier.send(reply)

    async def stop(self) -> None:
        """Stop in reverse order; sends under way get a short grace period."""
        await self._teardown()
        event(log, logging.INFO, "stopped")

    async def _teardown(self) -> None:
        """Stop and close whatever is running or open, also after a failed start."""
        if self._ops is not None:
            await self._ops.stop()
            self._ops = None
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self._coordination is not None:
            self._coordination.halt()
        if self._poller is not None:
            await self._poller.stop()
        if self._coordination is not None:
            await self._coordination.sender.stop()
        if self._replier is not None:
            await self._replier.close(STOP_GRACE_SECONDS)
        application = self._application
        if application is not None:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if isinstance(application.update_processor, UpdateGate):
                await application.update_processor.cancel_running(STOP_GRACE_SECONDS)
            if application.running:
                await application.stop()
            await application.shutdown()
        if self._coordination is not None:
            await self._coordination.close()
            self._coordination = None
        await self._close_resources()

    async def _close_resources(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.aclose()
            self._fetcher = None
        if self._store is not None:
            await self._store.close()
            self._store = None
        self._release_lock()

    def _release_lock(self) -> None:
        if self._locked and self._lock is not None:
            self._lock.release()
            self._locked = False


async def run_until_signalled(relay: Relay, stop: asyncio.Event) -> None:
    """Run ``relay`` until ``stop`` is set (by SIGINT/SIGTERM in the CLI).

    A stop while the start is still retrying to reach Telegram ends it cleanly.
    Raises StartupError when the start fails for good.
    """
    starting = asyncio.create_task(relay.start())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        return
    stopping.cancel()
    starting.result()
    try:
        await stop.wait()
    finally:
        await relay.stop()
