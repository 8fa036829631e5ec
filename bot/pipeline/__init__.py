"""The entry chain: fetch → parse → dedupe → filter → render → outbox.

Many doors, one chain. Every way an entry reaches a chat hands a feed's parsed
document and an audience to ``queue_entries`` (``bot.pipeline.chain``):

- a refresh (``refresh_feed``, for the scheduler): ``EverySubscriber``;
- /sub, /import and ``import-opml``: ``NewSubscriber``, the newest few entries
  for the new subscription only;
- /resume … backlog: ``ResumedSubscriber``, the entries first seen during the
  pause, for that subscription only.

``bot.pipeline.plan`` is the pure middle (dedupe, filter, render);
``bot.pipeline.refresh`` fetches and parses a known feed and records a failure.
Nothing else chains the stages.
"""

from bot.pipeline.chain import (
    Audience,
    EverySubscriber,
    NewSubscriber,
    Queued,
    ResumedSubscriber,
    chat_filter_map,
    queue_entries,
)
from bot.pipeline.plan import (
    chronological,
    filter_fields,
    filter_verdicts,
    plan_deliveries,
    render_newest,
    stored_filters,
)
from bot.pipeline.refresh import (
    MAX_BACKOFF_SECONDS,
    SEEN_RETENTION_SECONDS,
    RefreshResult,
    RefreshStatus,
    next_interval,
    record_refresh_failure,
    refresh_feed,
)

__all__ = [
    "MAX_BACKOFF_SECONDS",
    "SEEN_RETENTION_SECONDS",
    "Audience",
    "EverySubscriber",
    "NewSubscriber",
    "Queued",
    "RefreshResult",
    "RefreshStatus",
    "ResumedSubscriber",
    "chat_filter_map",
    "chronological",
    "filter_fields",
    "filter_verdicts",
    "next_interval",
    "plan_deliveries",
    "queue_entries",
    "record_refresh_failure",
    "refresh_feed",
    "render_newest",
    "stored_filters",
]
