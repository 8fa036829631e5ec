"""A strict fake Telegram Bot API on loopback HTTP, for driving the real PTB client.

It refuses what Telegram refuses (see ``telegram_rules``) and answers in Bot API
shapes PTB can read. Strict by default: unknown chats, bad markup, bad buttons,
unknown topics, refused photo URLs and rate limits (per chat 1/s after a burst,
20/min per group or channel, 30/s per bot) all fail as they would in production.

Fake-specific choices, where Telegram's exact behaviour is unknown or unused here:
``parse_mode`` MarkdownV2/Markdown is refused (we never send it), ``parse_mode``
together with explicit entities is refused, and only photos are accepted in
media groups. A media group counts as one send for rate limits and is recorded as
one ``SentMessage``.

Modules, one job each: ``records`` (what tests inspect), ``limits`` (flood limits
and the manual clock), ``wire`` (request fields and error answers), ``content``
(markup, link previews, text and entities), ``state`` (chats, messages, files,
scripted failures), ``scripting`` (what tests set up and what users do), the method
families ``sending``, ``editing``, ``chats``, ``updates``, ``webhook`` and ``files``, and
``server`` (the ``FakeBotAPI`` facade and the ``bot_api`` fixture). This package is
the public surface; ``tests/conftest.py`` registers it as a pytest plugin.
"""

from tests.fakes.bot_api.limits import ManualClock
from tests.fakes.bot_api.records import JSON, Call, Refusal, SentMessage
from tests.fakes.bot_api.server import FakeBotAPI, bot_api

__all__ = ["JSON", "Call", "FakeBotAPI", "ManualClock", "Refusal", "SentMessage", "bot_api"]
