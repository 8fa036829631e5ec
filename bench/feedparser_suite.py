"""feedparser's own test documents through our parse and render stages; print what went wrong.

Run: ``.venv/bin/python bench/feedparser_suite.py PATH`` where PATH is a checkout of
kurtmckee/feedparser (a work tree, or a bare git directory: its files are then read
with ``git``). Nothing of that repository is copied into ours.

Every file under ``tests/`` except Python sources is one document. Each is parsed
twice: as served (the ``Header: Content-type: …`` line feedparser's tests carry,
else no Content-Type) and with no Content-Type at all. Every entry is rendered in
three display modes and checked against the strict rules of
``tests/fakes/telegram_rules.py``. Counted, per mode:

- crashes: an exception other than ``NotAFeed`` from parse, any from render;
- refusals: a message Telegram would refuse (text, caption, entities, nesting);
- lone bullets: a message whose title line is "•" and says nothing else;
- script/comment text in a title: text of a ``<script>`` element or of a comment in
  the document (entities decoded once or twice) found in an entry or feed title;
- attribute mojibake: a tag, link or picture URL that is UTF-8 read as Latin-1/Windows-1252
  (``FreirÃ¤ume``).
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.feeds.parse import NotAFeed, parse_feed
from bot.models import DisplayOptions, Entry, MessageEntity, OutgoingMessage, SummaryMode
from bot.render import detect_boilerplate, render_entry
from tests.fakes.telegram_rules import Rejected, check_caption, check_text, nesting_problem

MODES = (
    DisplayOptions(),
    DisplayOptions(album=True, summary=SummaryMode.FULL),
    DisplayOptions(pictures=False, summary=SummaryMode.NONE),
)
_HEADER = re.compile(r"^Header:\s+([^:]+):(.*)$", re.MULTILINE)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.S | re.I)
_COMMENT = re.compile(r"<!--(.*?)-->", re.S)
_SNIPPET = 6


def documents(root: Path) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every test document under ``tests/`` of a work tree or a bare repo."""
    tests = root / "tests"
    if tests.is_dir():
        for path in sorted(tests.rglob("*")):
            if path.is_file() and path.suffix != ".py":
                yield str(path.relative_to(root)), path.read_bytes()
        return
    git = ["git", f"--git-dir={root}"]
    names = subprocess.run(  # noqa: S603 -- git with our own arguments, no shell
        [*git, "ls-tree", "-r", "--name-only", "HEAD", "tests"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split()
    for name in sorted(n for n in names if not n.endswith(".py")):
        show = [*git, "show", f"HEAD:{name}"]
        blob = subprocess.run(show, capture_output=True, check=True)  # noqa: S603 -- as above
        yield name, blob.stdout


def served_type(body: bytes) -> str | None:
    """The Content-Type a test document says it is served with, if it says one."""
    text = body.decode("latin-1")
    for name, value in _HEADER.findall(text):
        if name.strip().lower() == "content-type":
            return value.strip()
    return None


def hidden_snippets(body: bytes) -> set[str]:
    """Texts only found in script elements and comments (not the test's header comment).

    Read as a browser would: comments first, then scripts in what is left; a piece
    that also shows as text elsewhere in the document does not count as hidden.
    """
    text = body.decode("utf-8", errors="replace")
    found: set[str] = set()
    visible: list[str] = []
    for layer in (text, html.unescape(text), html.unescape(html.unescape(text))):
        inner: list[str] = []

        def keep(match: re.Match[str], inner: list[str] = inner) -> str:
            if "Description:" not in match.group(1):
                inner.append(match.group(1))
            return " "

        rest = _SCRIPT.sub(keep, _COMMENT.sub(keep, layer))
        visible.append(" ".join(re.sub(r"<[^>]*>", " ", rest).split()))
        pieces = (p for chunk in inner for p in re.split(r"[\n<>]+", chunk))
        for piece in (" ".join(p.split()) for p in pieces):
            if len(piece) >= _SNIPPET and piece.lower() != "script":
                found.add(piece)
    return {piece for piece in found if not any(piece in shown for shown in visible)}


def is_mojibake(text: str) -> bool:
    """Whether ``text`` is UTF-8 bytes that someone decoded as Latin-1 or Windows-1252."""
    if text.isascii():
        return False
    for codec in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != text:
            return True
    return False


def bot_api(entities: tuple[MessageEntity, ...]) -> list[dict[str, Any]]:
    """Entities as the Bot API receives them."""
    return [{k: v for k, v in asdict(e).items() if v is not None} for e in entities]


def refusal(message: OutgoingMessage) -> str | None:
    """Why Telegram would refuse the message, or None."""
    try:
        check_text(message.text, bot_api(message.entities))
        check_text(message.plain_text, [])
        if message.photo_urls:
            check_caption(message.caption, bot_api(message.caption_entities))
    except Rejected as exc:
        return str(exc)
    for entities in (message.entities, message.caption_entities):
        problem = nesting_problem(bot_api(entities))
        if problem is not None:
            return problem
    return None


def lone_bullet(message: OutgoingMessage) -> bool:
    """A message whose head is a bare bullet: nothing for a reader to go on."""
    return message.text.split("\n", 1)[0].strip() in {"•", "…", ""}


def _crashed(counts: Counter[str], stage: str, name: str, exc: Exception) -> None:
    counts["crashes"] += 1
    print(f"  crash ({stage}) {name}: {type(exc).__name__}: {exc}")


def check_document(name: str, body: bytes, content_type: str | None, counts: Counter[str]) -> None:
    """Parse and render one document, adding what went wrong to ``counts``."""
    counts["documents"] += 1
    url = f"http://feedparser.example/{name}"
    try:
        parsed = parse_feed(body, url=url, content_type=content_type)
    except NotAFeed:
        counts["not a feed"] += 1
        return
    except Exception as exc:
        _crashed(counts, "parse", name, exc)
        return
    counts["feeds"] += 1
    hidden = hidden_snippets(body)
    titles = [parsed.title, *(entry.title for entry in parsed.entries)]
    if any(snippet in title for snippet in hidden for title in titles if title):
        counts["script/comment text in a title"] += 1
        print(f"  hidden text in a title {name}: {titles!r}"[:300])
    if any(_garbled(entry) for entry in parsed.entries):
        counts["attribute mojibake"] += 1
        print(f"  mojibake {name} ({content_type}): {parsed.entries[0].tags!r}"[:300])
    boilerplate = detect_boilerplate(parsed.entries)
    feed_title = parsed.title or url
    for entry in parsed.entries:
        counts["entries"] += 1
        for options in MODES:
            try:
                message = render_entry(
                    entry, feed_title=feed_title, options=options, boilerplate=boilerplate
                )
            except Exception as exc:
                _crashed(counts, "render", name, exc)
                continue
            counts["messages"] += 1
            why = refusal(message)
            if why is not None:
                counts["refusals"] += 1
                print(f"  refused {name}: {why}")
            if lone_bullet(message):
                counts["lone bullets"] += 1
                print(f"  lone bullet {name}: {message.text[:80]!r}")


def _garbled(entry: Entry) -> bool:
    return any(is_mojibake(value) for value in (*entry.tags, entry.link, *entry.images))


def main() -> None:
    """Run the whole suite in both modes and print the figures."""
    if len(sys.argv) != 2:
        sys.exit("usage: bench/feedparser_suite.py PATH-TO-FEEDPARSER-CHECKOUT")
    docs = list(documents(Path(sys.argv[1])))
    keys = (
        "documents", "feeds", "not a feed", "entries", "messages", "crashes", "refusals",
        "lone bullets", "script/comment text in a title", "attribute mojibake",
    )  # fmt: skip
    for label, typed in (("as served", True), ("no Content-Type", False)):
        print(f"== {label}")
        counts: Counter[str] = Counter()
        for name, body in docs:
            check_document(name, body, served_type(body) if typed else None, counts)
        print("   " + ", ".join(f"{key}: {counts[key]}" for key in keys))


if __name__ == "__main__":
    main()
