"""The entry chain: fetch → parse → dedupe → filter → render → outbox.

Many doors, one chain. Every way an entry reaches a chat hands a feed's parsed
document and an audience to ``queue_entries`` (``bot.pipeline.chain``):

- a refresh (``refresh_feed``, for the scheduler): ``EverySubscriber``, with flood
  collapse (``FloodRule``) and the failing/recovered/gone notices (``notices``);
- /sub, /import and ``import-opml``: ``NewSubscriber``, the newest few entries (of a
  followed feed, those it had seen as the subscription was added), for the new
  subscription only;
- /resume … backlog: ``ResumedSubscriber``, the entries first seen during the
  pause (read as it ended), for that subscription only.

``bot.pipeline.plan`` is the pure middle (dedupe, filter, render, flood collapse);
``bot.pipeline.refresh`` fetches and reads a known feed (``outcome``: its policy and
result), ``bot.pipeline.health`` records a failure and tells of a recovery, and
``bot.pipeline.notices`` words what subscribers are told.
Nothing else chains the stages.
"""

from bot.pipeline.chain import (
    Audience,
    EverySubscriber,
    NewSubscriber,
    Queued,
    ResumedSubscriber,
    audience_chats,
    backlog_keys,
    chat_filter_map,
    chat_languages,
    queue_entries,
)
from bot.pipeline.health import record_refresh_failure, tell_recovered
from bot.pipeline.outcome import (
    MAX_BACKOFF_SECONDS,
    SEEN_RETENTION_SECONDS,
    Parse,
    RefreshPolicy,
    RefreshResult,
    RefreshStatus,
)
from bot.pipeline.plan import (
    FloodRule,
    chronological,
    filter_fields,
    filter_verdicts,
    plan_deliveries,
    render_newest,
    stored_filters,
)
from bot.pipeline.refresh import refresh_feed

__all__ = [
    "MAX_BACKOFF_SECONDS",
    "SEEN_RETENTION_SECONDS",
    "Audience",
    "EverySubscriber",
    "FloodRule",
    "NewSubscriber",
    "Parse",
    "Queued",
    "RefreshPolicy",
    "RefreshResult",
    "RefreshStatus",
    "ResumedSubscriber",
    "audience_chats",
    "backlog_keys",
    "chat_filter_map",
    "chat_languages",
    "chronological",
    "filter_fields",
    "filter_verdicts",
    "plan_deliveries",
    "queue_entries",
    "record_refresh_failure",
    "refresh_feed",
    "render_newest",
    "stored_filters",
    "tell_recovered",
]
