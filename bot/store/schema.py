"""The schema as an ordered list of migrations per engine, and the version each database has.

SQLite: ``MIGRATIONS``, PRAGMA user_version is the version. Migration N (1-based) takes
the database from version N-1 to N. Each runs in one transaction together with the
version bump, so a crash mid-migration leaves the previous version intact. Never edit
a released migration: append a new one.

PostgreSQL: ``PG_MIGRATIONS``, the table ``schema_version`` holds the version. No
PostgreSQL database predates version 7, so its first step creates version 7 whole; a
later change appends one step to each list, with the same number. Each step runs in
one transaction (PostgreSQL's DDL is transactional) under an advisory lock, so
processes starting together against one database migrate it once. The types differ
where the engines differ: BIGINT for Telegram ids (beyond 32 bits), DOUBLE PRECISION
for times (PostgreSQL's REAL is 4 bytes: a Unix time would lose minutes), identity
columns for ids (never reused, as AUTOINCREMENT), ``COLLATE "C"`` on feed URLs so that
listings sort by code point as SQLite does. Flags stay INTEGER 0/1 on both, so every
query reads the same.

Alembic was weighed and not taken: existing SQLite files carry their version in
PRAGMA user_version and would need stamping, the DDL differs per engine anyway
(WITHOUT ROWID, AUTOINCREMENT, types), and an ordered list per engine is a few lines.

Notes on the shape:
- ``subscriptions.thread_id`` stores 0 for "no forum topic" because SQLite treats
  NULLs as distinct in UNIQUE constraints; Telegram topic ids are positive.
- ``outbox.subscription_id`` is SET NULL on delete: remove_subscription deletes its
  pending rows itself, and failed rows stay for the record.
- ``deliveries`` counts delivered messages per UTC day (day = unix time // 86400):
  one small row a day instead of a row per message.
- ``subscriptions.paused_at`` (migration 2) is the time of the pause, NULL while the
  subscription runs; entries first seen since then are the ones /resume skips.
- ``chat_articles`` (migration 3) remembers, per chat and forum topic, the article keys
  (``bot.feeds.identity.article_keys``) of what each feed queued there lately, so the
  same article reaching the chat through a second feed is sent once. Rows older
  than the dedupe window are deleted by housekeeping (``bot.scheduler.housekeep``).
- ``feeds.failing_since``/``failure_notified`` (migration 4): the run of failures the
  subscribers may have been told about; ``hint_seconds``, ``skip_hours``, ``last_new_at``,
  ``new_gap_seconds``, ``new_samples``: the feed's rhythm (``bot.models.Rhythm``);
  ``boilerplate``: what its entries repeat, so a partial parse renders like a full one.
- ``subscriptions.interval_seconds`` (migration 5): the interval a chat asked for with
  ``/set ID interval``, NULL for the default; a feed is checked at the shortest one its
  running subscriptions asked for (``requested_interval`` in ``FEED_SELECT``).
- Migration 7 rewrites the filters stored before ``AND``/``OR``/``NOT`` and
  parentheses existed so that they match what they matched before
  (``bot.filters.legacy.upgrade``, called from SQL as ``upgrade_filter``).
- ``chats.timezone`` (migration 6) is an IANA name (``Asia/Shanghai``) set by /tz; NULL
  shows times in UTC.
- ``processes``, ``leases``, ``replies`` (migration 8): the processes sharing a PostgreSQL
  database, their heartbeats, the named leases (one outbox sender and one long poller per
  bot token) and the replies other processes hand to the sender (``bot.store.leases``).
"""

from __future__ import annotations

from bot.filters.legacy import upgrade
from bot.store.engine import Db, Engine, PostgresEngine, SqliteEngine

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema
    """
    CREATE TABLE chats (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL DEFAULT 'private',
        title TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        language TEXT,
        filter_expr TEXT NOT NULL DEFAULT '',
        deactivated_reason TEXT,
        created_at REAL
    );
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL DEFAULT '',
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT,
        last_error TEXT,
        error_count INTEGER NOT NULL DEFAULT 0,
        interval_seconds INTEGER NOT NULL,
        next_fetch_at REAL NOT NULL,
        last_checked_at REAL,
        last_success_at REAL,
        created_at REAL NOT NULL
    );
    CREATE INDEX feeds_next_fetch ON feeds (next_fetch_at);
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
        feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
        number INTEGER NOT NULL CHECK (number > 0),
        thread_id INTEGER NOT NULL DEFAULT 0,
        filter_expr TEXT NOT NULL DEFAULT '',
        paused INTEGER NOT NULL DEFAULT 0,
        options TEXT NOT NULL DEFAULT '{}',
        created_at REAL,
        UNIQUE (chat_id, number),
        UNIQUE (chat_id, thread_id, feed_id)
    );
    CREATE INDEX subscriptions_feed ON subscriptions (feed_id);
    CREATE TABLE seen (
        feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
        entry_key TEXT NOT NULL,
        first_seen REAL NOT NULL,
        PRIMARY KEY (feed_id, entry_key)
    ) WITHOUT ROWID;
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
        thread_id INTEGER,
        subscription_id INTEGER REFERENCES subscriptions (id) ON DELETE SET NULL,
        feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
        entry_key TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before REAL NOT NULL,
        created_at REAL NOT NULL,
        failed_at REAL,
        last_error TEXT
    );
    CREATE INDEX outbox_pending_time ON outbox (not_before) WHERE state = 'pending';
    CREATE INDEX outbox_chat ON outbox (chat_id, id) WHERE state = 'pending';
    CREATE INDEX outbox_subscription ON outbox (subscription_id);
    CREATE INDEX outbox_feed ON outbox (feed_id);
    CREATE TABLE deliveries (
        day INTEGER PRIMARY KEY,
        count INTEGER NOT NULL
    );
    """,
    # 2: when a subscription was paused, so /resume ID backlog knows what it missed
    """
    ALTER TABLE subscriptions ADD COLUMN paused_at REAL;
    """,
    # 3: the same article through two feeds reaches a chat once
    """
    CREATE TABLE chat_articles (
        chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
        thread_id INTEGER NOT NULL DEFAULT 0,
        article_key TEXT NOT NULL,
        feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
        queued_at REAL NOT NULL,
        PRIMARY KEY (chat_id, thread_id, article_key, feed_id)
    ) WITHOUT ROWID;
    CREATE INDEX chat_articles_time ON chat_articles (queued_at);
    CREATE INDEX chat_articles_feed ON chat_articles (feed_id);
    """,
    # 4: a feed's health (failure notices) and rhythm (hints, learned cadence, boilerplate)
    """
    ALTER TABLE feeds ADD COLUMN failing_since REAL;
    ALTER TABLE feeds ADD COLUMN failure_notified INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE feeds ADD COLUMN hint_seconds INTEGER;
    ALTER TABLE feeds ADD COLUMN skip_hours INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE feeds ADD COLUMN last_new_at REAL;
    ALTER TABLE feeds ADD COLUMN new_gap_seconds REAL;
    ALTER TABLE feeds ADD COLUMN new_samples INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE feeds ADD COLUMN boilerplate TEXT;
    UPDATE feeds SET failing_since = last_checked_at WHERE error_count > 0;
    """,
    # 5: the interval a subscription asked for (/set ID interval)
    """
    ALTER TABLE subscriptions ADD COLUMN interval_seconds INTEGER;
    """,
    # 6: the time zone a chat's times are shown in (/tz)
    """
    ALTER TABLE chats ADD COLUMN timezone TEXT;
    """,
    # 7: filters written before AND/OR/NOT and parentheses keep their meaning
    """
    UPDATE chats SET filter_expr = upgrade_filter(filter_expr) WHERE filter_expr <> '';
    UPDATE subscriptions SET filter_expr = upgrade_filter(filter_expr) WHERE filter_expr <> '';
    """,
    # 8: several processes on one database (bot.coordination): who runs, who holds which
    # lease, and command replies waiting for the process that sends. A SQLite database
    # has one process and leaves these empty; they exist so both schemas stay alike.
    # IF NOT EXISTS: running it twice is harmless (a test rewinds a file's version).
    """
    CREATE TABLE IF NOT EXISTS processes (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        roles TEXT NOT NULL,
        holds TEXT NOT NULL DEFAULT '',
        started_at REAL NOT NULL,
        heartbeat_at REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS replies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


PG_LOCK_KEY = 0x6E657773  # "news": the advisory lock that serialises migrations

PG_MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    # 0 -> 7: the whole schema of version 7 (SQLite's migrations 1 to 7; 7 rewrites
    # filters stored before AND/OR/NOT, which no PostgreSQL database holds)
    (
        7,
        (
            """
            CREATE TABLE chats (
                id BIGINT PRIMARY KEY,
                kind TEXT NOT NULL DEFAULT 'private',
                title TEXT NOT NULL DEFAULT '',
                active INTEGER NOT NULL DEFAULT 1,
                language TEXT,
                filter_expr TEXT NOT NULL DEFAULT '',
                deactivated_reason TEXT,
                created_at DOUBLE PRECISION,
                timezone TEXT
            )
            """,
            """
            CREATE TABLE feeds (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                url TEXT COLLATE "C" NOT NULL UNIQUE,
                title TEXT NOT NULL DEFAULT '',
                etag TEXT,
                last_modified TEXT,
                body_hash TEXT,
                last_error TEXT,
                error_count INTEGER NOT NULL DEFAULT 0,
                interval_seconds BIGINT NOT NULL,
                next_fetch_at DOUBLE PRECISION NOT NULL,
                last_checked_at DOUBLE PRECISION,
                last_success_at DOUBLE PRECISION,
                created_at DOUBLE PRECISION NOT NULL,
                failing_since DOUBLE PRECISION,
                failure_notified INTEGER NOT NULL DEFAULT 0,
                hint_seconds BIGINT,
                skip_hours INTEGER NOT NULL DEFAULT 0,
                last_new_at DOUBLE PRECISION,
                new_gap_seconds DOUBLE PRECISION,
                new_samples INTEGER NOT NULL DEFAULT 0,
                boilerplate TEXT
            )
            """,
            "CREATE INDEX feeds_next_fetch ON feeds (next_fetch_at)",
            """
            CREATE TABLE subscriptions (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                chat_id BIGINT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
                feed_id BIGINT NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
                number INTEGER NOT NULL CHECK (number > 0),
                thread_id BIGINT NOT NULL DEFAULT 0,
                filter_expr TEXT NOT NULL DEFAULT '',
                paused INTEGER NOT NULL DEFAULT 0,
                options TEXT NOT NULL DEFAULT '{}',
                created_at DOUBLE PRECISION,
                paused_at DOUBLE PRECISION,
                interval_seconds BIGINT,
                UNIQUE (chat_id, number),
                UNIQUE (chat_id, thread_id, feed_id)
            )
            """,
            "CREATE INDEX subscriptions_feed ON subscriptions (feed_id)",
            """
            CREATE TABLE seen (
                feed_id BIGINT NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
                entry_key TEXT NOT NULL,
                first_seen DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (feed_id, entry_key)
            )
            """,
            """
            CREATE TABLE outbox (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                chat_id BIGINT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
                thread_id BIGINT,
                subscription_id BIGINT REFERENCES subscriptions (id) ON DELETE SET NULL,
                feed_id BIGINT NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
                entry_key TEXT NOT NULL,
                payload TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                not_before DOUBLE PRECISION NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                failed_at DOUBLE PRECISION,
                last_error TEXT
            )
            """,
            "CREATE INDEX outbox_pending_time ON outbox (not_before) WHERE state = 'pending'",
            "CREATE INDEX outbox_chat ON outbox (chat_id, id) WHERE state = 'pending'",
            "CREATE INDEX outbox_subscription ON outbox (subscription_id)",
            "CREATE INDEX outbox_feed ON outbox (feed_id)",
            "CREATE TABLE deliveries (day INTEGER PRIMARY KEY, count INTEGER NOT NULL)",
            """
            CREATE TABLE chat_articles (
                chat_id BIGINT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
                thread_id BIGINT NOT NULL DEFAULT 0,
                article_key TEXT NOT NULL,
                feed_id BIGINT NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
                queued_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (chat_id, thread_id, article_key, feed_id)
            )
            """,
            "CREATE INDEX chat_articles_time ON chat_articles (queued_at)",
            "CREATE INDEX chat_articles_feed ON chat_articles (feed_id)",
        ),
    ),
    # 7 -> 8: processes, leases and queued replies (SQLite's migration 8)
    (
        8,
        (
            """
            CREATE TABLE processes (
                id TEXT PRIMARY KEY,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                roles TEXT NOT NULL,
                holds TEXT NOT NULL DEFAULT '',
                started_at DOUBLE PRECISION NOT NULL,
                heartbeat_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE replies (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                chat_id BIGINT NOT NULL,
                payload TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL
            )
            """,
        ),
    ),
)

assert PG_MIGRATIONS[-1][0] == SCHEMA_VERSION, "PostgreSQL's steps must reach SQLite's version"  # noqa: S101 - a module invariant


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer version of the program."""


def _newer(version: int) -> SchemaTooNewError:
    return SchemaTooNewError(
        f"database schema version {version} is newer than this program ({SCHEMA_VERSION})"
    )


def _pg_version(db: Db) -> int:
    if db.scalar("SELECT to_regclass('schema_version') IS NOT NULL") is not True:
        return 0
    return int(db.scalar("SELECT MAX(version) FROM schema_version") or 0)


async def current_version(engine: Engine) -> int:
    """The version recorded in the database (0 for a new one)."""
    if isinstance(engine, PostgresEngine):
        return await engine.read(_pg_version)
    return int(await engine.read(lambda db: db.scalar("PRAGMA user_version")))


async def migrate(engine: Engine) -> int:
    """Apply every migration the database lacks, each atomically; return the new version.

    A database newer than this code is refused rather than guessed at (RuntimeError).
    """
    if isinstance(engine, SqliteEngine):
        await _migrate_sqlite(engine)
    elif isinstance(engine, PostgresEngine):
        await engine.run(_migrate_pg, isolation="READ COMMITTED")
    return SCHEMA_VERSION


async def _migrate_sqlite(engine: SqliteEngine) -> None:
    version = await current_version(engine)
    if version > SCHEMA_VERSION:
        raise _newer(version)
    await engine.create_function("upgrade_filter", 1, upgrade)
    for number in range(version + 1, SCHEMA_VERSION + 1):
        # executescript commits any open transaction first, so BEGIN..COMMIT inside
        # the script makes the migration and its version bump one unit.
        await engine.script(
            f"BEGIN IMMEDIATE;\n{MIGRATIONS[number - 1]}\nPRAGMA user_version = {number};\nCOMMIT;"
        )


def _migrate_pg(db: Db) -> None:
    """Every missing step in one transaction, holding the migration lock throughout."""
    db.scalar("SELECT pg_advisory_xact_lock(?)", (PG_LOCK_KEY,))
    db.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    version = _pg_version(db)
    if version > SCHEMA_VERSION:
        raise _newer(version)
    for number, statements in PG_MIGRATIONS:
        if number > version:
            for statement in statements:
                db.run(statement)
            db.run("DELETE FROM schema_version")
            db.run("INSERT INTO schema_version (version) VALUES (?)", (number,))
            version = number
