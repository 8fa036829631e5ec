"""No secret in any output: scrub() as a table."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.redact import scrub, secrets_of

TOKEN = "123456:TEST"  # short and shapeless: only knowing it, or where it sits, finds it
REAL_SHAPED = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"  # a token's shape, not a real one

SCRUB_TABLE = [
    # the known token as written and URL-encoded
    (f"token {TOKEN} refused", "token <token> refused"),
    ("token 123456%3ATEST refused", "token <token> refused"),
    ("token 123456%3atest refused", "token <token> refused"),
    ("twice encoded 123456%253ATEST", "twice encoded <token>"),
    # the Bot API's path forms, for the known token and any other
    (f"POST https://api.example/bot{TOKEN}/getMe", "POST https://api.example/bot<token>/getMe"),
    (
        f"Cannot download /file/bot{TOKEN}/documents/file_1.opml",
        "Cannot download /file/bot<token>/documents/file_1.opml",
    ),
    ("no route /bot999:OTHER-bot_tok/sendMessage", "no route /bot<token>/sendMessage"),
    ("path %2Fbot999%3AOTHER%2FgetMe", "path %2Fbot<token>%2FgetMe"),
    ("/file/bot42%3Aabc/x.jpg", "/file/bot<token>/x.jpg"),
    # anything shaped like a token
    (f"leaked {REAL_SHAPED}.", "leaked <token>."),
    # credentials in URLs
    ("via http://alice:s3cret@proxy.example:8080", "via http://<credentials>@proxy.example:8080"),
    ("postgresql://relay:pw@db.example:5432/news", "postgresql://<credentials>@db.example:5432/news"),
    ("socks5://onlyuser@127.0.0.1:1080", "socks5://<credentials>@127.0.0.1:1080"),
    # left alone
    ("https://example.com/botany/feed.xml", "https://example.com/botany/feed.xml"),
    ("at 12:30, error 400: Bad Request", "at 12:30, error 400: Bad Request"),
    ("mail user@example.com or mailto:a@b.example", "mail user@example.com or mailto:a@b.example"),
    ("https://example.com/p?next=a@b", "https://example.com/p?next=a@b"),
    ("chat -100123456:topic", "chat -100123456:topic"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), SCRUB_TABLE)
def test_scrub(text: str, expected: str) -> None:
    """Each secret form is replaced by its marker; ordinary text passes unchanged, and twice."""
    assert scrub(text, [TOKEN]) == expected
    assert scrub(expected, [TOKEN]) == expected


def test_short_or_empty_secrets_are_not_scrubbed_as_such() -> None:
    """An empty or tiny "secret" would garble every line; shapes are still caught."""
    assert scrub("abc abc", ["", "abc"]) == "abc abc"
    assert scrub(f"/bot{TOKEN}/getMe", [""]) == "/bot<token>/getMe"


def test_secrets_of_settings_is_the_token() -> None:
    """The reply path passes secrets_of(settings): the configured token."""
    settings = Settings.model_validate({"telegram": {"token": TOKEN}})
    assert scrub(f"echo {TOKEN}", secrets_of(settings)) == "echo <token>"
