"""End to end: the bot token never reaches a chat, even when the Bot API echoes it back."""

from __future__ import annotations

from urllib.parse import quote

from bot.opml import Outline, write_opml
from tests.fakes.bot_api import FakeBotAPI
from tests.harness import HarnessFactory

CHAT = 6161


async def test_a_download_error_that_echoes_the_token_is_scrubbed_in_the_reply(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """/import meets an error naming /file/bot<token>/…: the reply says why, without the token.

    (Logs and stderr are checked against a real process in tests/test_redact.py.)
    """
    harness = await bot_factory()
    bot_api.echoing_proxy = True
    opml = write_opml("mine", [Outline("https://news.example/feed.xml")], created=0)
    bot_api.user_sends(CHAT, document=("feeds.opml", opml), caption="/import")
    [reply] = await bot_api.wait_for_sent(CHAT, 1)
    await harness.settle()
    text = reply.text or ""
    assert "download" in text.lower()
    assert "/file/bot<token>/" in text
    outputs = [m.text or m.caption or "" for m in bot_api.sent]
    token = bot_api.token
    for output in outputs:
        for form in (token, quote(token, safe=""), token.split(":", 1)[1]):
            assert form.lower() not in output.lower()
    assert bot_api.rejected == []
