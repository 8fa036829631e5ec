"""What a process does: its roles (chosen by the operator) and its duties (held by lease).

Roles (``newsrelay run --role``, repeatable, default all three):

- ``fetch``: claim due feeds and check them;
- ``send``: compete for the outbox sender's lease (one sender per bot token);
- ``updates``: receive updates: answer webhook requests, or in long-polling mode compete
  for the poller's lease (two pollers on one token make Telegram answer 409).

Duties are the two roles only one process per token may carry out at a time.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A kind of work an operator may pin a process to."""

    FETCH = "fetch"
    SEND = "send"
    UPDATES = "updates"


ALL_ROLES = frozenset(Role)


class Duty(StrEnum):
    """Work one process per bot token does at a time."""

    SEND = "send"
    """Send the outbox and every reply: Telegram's limits are per token."""
    UPDATES = "updates"
    """Receive updates (long polling holds a lease; a webhook needs none)."""


def describe(roles: frozenset[Role]) -> str:
    """The roles as the command line spells them, in a fixed order ("fetch,send,updates")."""
    return ",".join(role.value for role in Role if role in roles)
