"""No secret in any output: scrub() as a table, then `newsrelay run` against an echoing endpoint."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp import web

from bot.config import Settings
from bot.redact import scrub, secrets_of
from tests.processes import clean_environ

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
    # ... and in the malformed URLs an OPML outline or a typo may hold
    ("failed http://u:pa ss1@h.example/f1", "failed http://<credentials>@h.example/f1"),
    ("failed //u:secret2@h.example/f2", "failed //<credentials>@h.example/f2"),
    ("failed http:\\\\u:secret3@h.example/f3", "failed http:\\\\<credentials>@h.example/f3"),
    ("https://u%40mail.example:pw@h.example/f", "https://<credentials>@h.example/f"),
    # ... whose password, stored as typed, is not ASCII
    ("failed http://bob:pässwörd-Geheim@h.example/f", "failed http://<credentials>@h.example/f"),
    ("✅ http://bob:密码Secret99@h.example/f：已订阅", "✅ http://<credentials>@h.example/f：已订阅"),
    # secrets in a URL's query, by the parameter's name
    ("https://feeds.example/u/7.rss?token=Zx9_q-1", "https://feeds.example/u/7.rss?token=<secret>"),
    ("https://a.example/f?lang=zh&api_key=abc123#top", "https://a.example/f?lang=zh&api_key=<secret>#top"),
    ("https://a.example/f?feed_token=abc&x-API-Key=def", "https://a.example/f?feed_token=<secret>&x-API-Key=<secret>"),
    ('<a href="https://a.example/f?a=1&amp;key=s3cret">f</a>', '<a href="https://a.example/f?a=1&amp;key=<secret>">f</a>'),
    ("https://a.example/f?apikey=abc and more", "https://a.example/f?apikey=<secret> and more"),
    ("https://pt.example/torrentrss.php?rows=10&passkey=0123abcd", "https://pt.example/torrentrss.php?rows=10&passkey=<secret>"),
    ("https://t.example/f?authkey=a1&torrent_pass=b2", "https://t.example/f?authkey=<secret>&torrent_pass=<secret>"),
    ("https://a.example/rss?rsskey=k1&pwd=p2&pass=p3", "https://a.example/rss?rsskey=<secret>&pwd=<secret>&pass=<secret>"),
    ("https://a.example/cb#access_token=abc&state=1", "https://a.example/cb#access_token=<secret>&state=1"),
    # ... and inside a URL carried percent-encoded in another URL's query
    ("https://proxy.example/?url=https%3A%2F%2Fu%3Apw%40h.example%2Ff", "https://proxy.example/?url=https%3A%2F%2F<credentials>%40h.example%2Ff"),
    ("https://p/?u=h%3A%2F%2Fh%3Fl%3D1%26token%3Dab%26n%3D1&x=2", "https://p/?u=h%3A%2F%2Fh%3Fl%3D1%26token%3D<secret>%26n%3D1&x=2"),
    ("https://proxy.example/?u=http%3a%2f%2fh.example%2ff%3fkey%3dabc", "https://proxy.example/?u=http%3a%2f%2fh.example%2ff%3fkey%3d<secret>"),
    ("https://p.example/?url=https%3A//u%3Apw%40h.example/f", "https://p.example/?url=https%3A//<credentials>%40h.example/f"),
    ("https://a.example/f?authtoken=a1&apitoken=b2&secretkey=c3", "https://a.example/f?authtoken=<secret>&apitoken=<secret>&secretkey=<secret>"),
    # a value ends where the URL does, before a Chinese reply's full-width punctuation
    ("❌ https://a.example/f?token=abcdef：连接超时", "❌ https://a.example/f?token=<secret>：连接超时"),
    # left alone
    ("https://example.com/botany/feed.xml", "https://example.com/botany/feed.xml"),
    ("at 12:30, error 400: Bad Request", "at 12:30, error 400: Bad Request"),
    ("mail user@example.com or mailto:a@b.example", "mail user@example.com or mailto:a@b.example"),
    ("see https://a.example/x and bob@example.com", "see https://a.example/x and bob@example.com"),
    ("https://example.com/p?next=a@b", "https://example.com/p?next=a@b"),
    ("chat -100123456:topic", "chat -100123456:topic"),
    ("https://a.example/f?monkey=1&keys=2&tokens=3", "https://a.example/f?monkey=1&keys=2&tokens=3"),
    ("log key=abc token=def", "log key=abc token=def"),
    ("https://proxy.example/?url=https%3A%2F%2Fh.example%2Fa%40b%2Ff", "https://proxy.example/?url=https%3A%2F%2Fh.example%2Fa%40b%2Ff"),
    ("https://a.example/f?bypass=1&compass=2#section-2", "https://a.example/f?bypass=1&compass=2#section-2"),
    ("https://a.example/f?url=%2F%2Fh.example%2Fp%3Fmonkey%3D1", "https://a.example/f?url=%2F%2Fh.example%2Fp%3Fmonkey%3D1"),
    ("see https://a.example and bob@example.com", "see https://a.example and bob@example.com"),
    ("https://lemonde.fr contact: r@lemonde.fr", "https://lemonde.fr contact: r@lemonde.fr"),
    ("见 https://weibo.com 原文 @人民日报", "见 https://weibo.com 原文 @人民日报"),
    ("看 https://x.example: 原文 @人民日报", "看 https://x.example: 原文 @人民日报"),
    ("Dev // News @ Scale, //@host", "Dev // News @ Scale, //@host"),
    ("https://a.example/f?tokens=1&mytokenid=2", "https://a.example/f?tokens=1&mytokenid=2"),
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


# -- end to end: an endpoint that echoes request paths in its error bodies -------------------

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _echo(request: web.Request) -> str:
    """The path as received, raw and URL-encoded, as a careless proxy would report it."""
    return f"no route for {request.raw_path} (encoded: {quote(request.path, safe='')})"


async def _json_400(request: web.Request) -> web.Response:
    description = f"Bad Request: {_echo(request)}"
    return web.json_response(
        {"ok": False, "error_code": 400, "description": description}, status=400
    )


async def _html_502(request: web.Request) -> web.Response:
    return web.Response(status=502, text=f"<html>Bad Gateway: {_echo(request)}</html>")


async def _polling_fails(request: web.Request) -> web.Response:
    """The bot starts (getMe and the rest succeed); every getUpdates meets an echoing 502."""
    method = request.path.rsplit("/", 1)[-1]
    if method == "getUpdates":
        return await _html_502(request)
    if method == "getMe":
        me = {"id": 123456, "is_bot": True, "first_name": "Relay", "username": "relay_bot"}
        return web.json_response({"ok": True, "result": me})
    return web.json_response({"ok": True, "result": True})


@pytest.fixture
async def echoing_api() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start a Bot API stand-in on loopback with a given handler; its base URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def _newsrelay_run(api_base_url: str, cwd: Path, *, stop_on: str = "") -> str:
    """Run `newsrelay run -v` against the endpoint until it exits; its stderr.

    With ``stop_on``, the bot is stopped (SIGTERM) once a stderr line holds that text.
    """
    environ = clean_environ(
        NEWSRELAY_TELEGRAM__API_BASE_URL=api_base_url,
        # A second attempt (stop_on="attempt=2") after 0.2 s instead of the default 1 s.
        NEWSRELAY_TELEGRAM__STARTUP_RETRY_SECONDS="[0.2]",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "-v", "--token", TOKEN,
        cwd=cwd, env=environ, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[bytes] = []

    async def read_all() -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            lines.append(line)
            if stop_on and stop_on in line.decode() and process.returncode is None:
                process.send_signal(signal.SIGTERM)

    try:
        await asyncio.wait_for(read_all(), timeout=45)
        await asyncio.wait_for(process.wait(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return b"".join(lines).decode()


def _assert_no_token(stderr: str) -> None:
    """Neither the token nor its encoded form, in any case (PTB capitalises error messages)."""
    for form in (TOKEN, quote(TOKEN, safe=""), quote(quote(TOKEN, safe=""), safe="")):
        assert form.lower() not in stderr.lower(), stderr


@pytest.mark.parametrize(
    ("handler", "stop_on"),
    [(_json_400, ""), (_html_502, "attempt=2")],
    ids=["400-json", "502-html"],
)
async def test_startup_error_line_never_shows_the_token(
    echoing_api: Callable[[Handler], Awaitable[str]],
    tmp_path: Path,
    handler: Handler,
    stop_on: str,
) -> None:
    """getMe answered with an error echoing the path: the stderr lines and the log hide it.

    A 400 ends the start with one line; a 502 (Telegram unreachable behind its front end)
    is retried with one line per attempt until the bot is stopped.
    """
    stderr = await _newsrelay_run(await echoing_api(handler), tmp_path, stop_on=stop_on)
    if stop_on:
        assert "telegram_unreachable attempt=1" in stderr, stderr
    else:
        assert stderr.strip().splitlines()[-1].startswith("newsrelay: "), stderr
    assert "/bot<token>/getme" in stderr.lower()  # the echo arrived, scrubbed
    _assert_no_token(stderr)


async def test_polling_errors_in_the_log_never_show_the_token(
    echoing_api: Callable[[Handler], Awaitable[str]], tmp_path: Path
) -> None:
    """After a good start, 502s echoing the path reach the debug log scrubbed."""
    stderr = await _newsrelay_run(
        await echoing_api(_polling_fails), tmp_path, stop_on="Bad Gateway (502)"
    )
    assert "/bot<token>/getupdates" in stderr.lower()  # PTB logged the echoed bodies
    assert "started" in stderr
    _assert_no_token(stderr)


def test_the_secret_half_of_a_token_alone_is_scrubbed() -> None:
    """An endpoint that echoes only the part after the colon does not leak it either."""
    half = REAL_SHAPED.split(":", 1)[1]
    assert scrub(f"Bad Gateway: bad secret {half}", [REAL_SHAPED]) == (
        "Bad Gateway: bad secret <token>"
    )
    assert scrub(f"bad secret {quote(half)}", [REAL_SHAPED]) == "bad secret <token>"
