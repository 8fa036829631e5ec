"""The far side of ``bench/polling.py``: many feeds on loopback hosts, and a fake Telegram.

Feed ``i`` is a document of the shared corpus (``i`` modulo the corpus size) served at
``http://127.0.0.<h>:<port>/f/<i>`` on one of several loopback addresses, so that the
bot sees many hosts with many feeds each. The feeds' own polling hints (``<ttl>``,
``sy:update*``, ``skipHours``) are stripped: every feed asks for the configured interval.

The first request of a feed (the one that checks the state the bench seeded) changes
nothing. From then on, the first request of each new cycle (half an interval or more
after the previous change point) rolls the dice once for the feed: 10% of cycles add a
new entry, 10% change bytes without adding an entry (a comment at the end of an XML
document, an extension field in a JSON one), 80% leave the document as it is; ETags
make those answer 304. The fake Telegram is ``tests.fakes.bot_api`` with its flood
limits, timestamping each accepted send so served-to-sent latency can be measured.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.corpus import FEED_SUFFIXES
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.bot_api.records import JSON, SentMessage
from tests.fakes.bot_api.state import ServerChat

NEW_SHARE = 0.10
CHANGED_SHARE = 0.10
TITLE = re.compile(r"Bench (\d+)-(\d+)")
_HINTS = re.compile(
    rb"<(ttl|(?:\w+:)?update(?:Period|Frequency|Base)|skipHours|skipDays)\b[^>]*>.*?</\1\s*>",
    re.DOTALL | re.IGNORECASE,
)
_FIRST = {
    "rss": re.compile(rb"<item[\s>]"),
    "rdf": re.compile(rb"<item[\s>]"),
    "atom": re.compile(rb"<entry[\s>]"),
}


@dataclass(frozen=True, slots=True)
class Document:
    """One corpus document as the farm serves it, hints removed."""

    name: str
    kind: str
    """rss, rdf, atom or json."""
    base: bytes
    insert_at: int
    """Where new entries go (before the first one); 0 for JSON."""


def corpus_documents(folder: Path) -> list[Document]:
    """Every corpus feed (sorted by name) prepared for serving."""
    documents = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in FEED_SUFFIXES:
            continue
        raw = path.read_bytes()
        if path.suffix == ".json":
            documents.append(Document(path.name, "json", raw, 0))
            continue
        base = _HINTS.sub(b"", raw)
        head = base[:4096]
        # "<feed" alone also matches <feedburner:info> in an RSS document
        kind = (
            "atom" if re.search(rb"<feed[\s>]", head) else "rdf" if b"<rdf:RDF" in head else "rss"
        )
        found = _FIRST[kind].search(base)
        documents.append(Document(path.name, kind, base, found.start() if found else 0))
    return documents


def _xml_entry(kind: str, feed: int, number: int, when: float) -> bytes:
    link = f"https://bench.example/{feed}/{number}"
    title = f"Bench {feed}-{number}"
    text = f"A new entry of bench feed {feed}, number {number}."
    moment = datetime.fromtimestamp(when, UTC)
    if kind == "atom":
        return (
            f'<entry><id>urn:bench:{feed}:{number}</id><title>{title}</title><link href="{link}"/>'
            f"<updated>{moment.isoformat()}</updated>"
            f'<content type="html">&lt;p&gt;{text}&lt;/p&gt;</content></entry>\n'
        ).encode()
    if kind == "rdf":
        return (
            f'<item rdf:about="{link}"><title>{title}</title><link>{link}</link>'
            f"<description>{text}</description></item>\n"
        ).encode()
    return (
        f"<item><title>{title}</title><link>{link}</link>"
        f'<guid isPermaLink="false">bench-{feed}-{number}</guid>'
        f"<pubDate>{format_datetime(moment, usegmt=True)}</pubDate>"
        f"<description>{text}</description></item>\n"
    ).encode()


def render(document: Document, feed: int, revision: int, added: list[tuple[int, float]]) -> bytes:
    """The document of ``feed``: the base, its added entries (newest first) and its revision."""
    if document.kind == "json":
        data = json.loads(document.base)
        data["items"] = [
            {
                "id": f"bench-{feed}-{number}",
                "url": f"https://bench.example/{feed}/{number}",
                "title": f"Bench {feed}-{number}",
                "content_text": f"A new entry of bench feed {feed}, number {number}.",
                "date_published": datetime.fromtimestamp(when, UTC).isoformat(),
            }
            for number, when in reversed(added)
        ] + list(data.get("items") or [])
        if revision:
            data["_bench_revision"] = revision
        return json.dumps(data, ensure_ascii=False).encode()
    entries = b"".join(_xml_entry(document.kind, feed, n, when) for n, when in reversed(added))
    at = document.insert_at
    tail = f"\n<!-- revision {revision} -->\n".encode() if revision else b""
    return document.base[:at] + entries + document.base[at:] + tail


def etag_of(feed: int, revision: int, added: int) -> str:
    """The ETag of a feed's current version."""
    return f'"bench-{feed}-{revision}-{added}"'


@dataclass(slots=True)
class FeedState:
    """What one served feed looks like now, and what it was asked."""

    revision: int = 0
    added: list[tuple[int, float]] = field(default_factory=list)
    cycle_at: float | None = None
    cycles: int = 0
    requests: list[tuple[float, int]] = field(default_factory=list)
    served: dict[int, float] = field(default_factory=dict)


class TimedBotAPI(FakeBotAPI):
    """The strict fake Telegram, noting when each message was accepted."""

    def __init__(self, clock: Any) -> None:
        super().__init__(clock=clock)
        self.accepted: list[tuple[float, str]] = []

    def _deliver(self, chat: ServerChat, record: SentMessage, message: JSON) -> JSON:
        result = super()._deliver(chat, record, message)
        self.accepted.append((self.clock(), record.text or record.caption or ""))
        return result


class FeedProtocol(asyncio.Protocol):
    """One client connection to the farm: keep-alive HTTP/1.1 GETs, answered in order.

    Not aiohttp's server, which the farm used before: at 500 requests a second it took an
    eighth of a core, on the cores the benchmarked bots share. This reads what a fetcher
    sends (a request line and headers, no body) and nothing more.
    """

    def __init__(self, farm: Farm) -> None:
        self._farm = farm
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head, self._buffer = self._buffer[:end].decode("latin-1"), self._buffer[end + 4 :]
            line, *fields = head.split("\r\n")
            headers = {}
            for item in fields:
                name, _, value = item.partition(":")
                headers[name.strip().lower()] = value.strip()
            parts = line.split(" ")
            assert self._transport is not None
            if len(parts) != 3 or parts[0] != "GET":
                self._transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                self._transport.close()
                return
            self._transport.write(self._farm.answer(parts[1], headers.get("if-none-match")))
            if headers.get("connection", "").lower() == "close":
                self._transport.close()
                return


class Farm:
    """The feed server: a handler over ``FeedState`` per feed, on several loopback hosts."""

    def __init__(
        self, documents: list[Document], feeds: int, interval: float, clock: Any, seed: int
    ) -> None:
        self.documents = documents
        self.states = [FeedState() for _ in range(feeds)]
        self.interval = interval
        self.clock = clock
        self.seed = seed
        self.frozen = False
        """No more changes (SIGUSR1): what was served is all there is to deliver."""

    def document(self, feed: int) -> Document:
        """The corpus document feed ``feed`` is built on."""
        return self.documents[feed % len(self.documents)]

    def _roll(self, feed: int, state: FeedState, now: float) -> None:
        if self.frozen:
            return
        if state.cycle_at is None:
            state.cycle_at = now  # the seeded state is checked first, unchanged
            return
        if now - state.cycle_at < self.interval / 2:
            return
        state.cycle_at = now
        draw = random.Random(self.seed * 1_000_003 + feed * 7919 + state.cycles).random()
        state.cycles += 1
        if draw < NEW_SHARE:
            state.added.append((len(state.added) + 1, now))
        elif draw < NEW_SHARE + CHANGED_SHARE:
            state.revision += 1

    def answer(self, path: str, if_none_match: str | None) -> bytes:
        """The whole HTTP/1.1 response to ``GET path``: for ``/f/<i>``, 304 when
        ``if_none_match`` is the current ETag, else the current document; else 404."""
        try:
            feed = int(path.removeprefix("/f/")) if path.startswith("/f/") else -1
            state = self.states[feed] if feed >= 0 else None
        except (ValueError, IndexError):
            state = None
        if state is None:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        now = self.clock()
        self._roll(feed, state, now)
        tag = etag_of(feed, state.revision, len(state.added))
        if if_none_match == tag:
            state.requests.append((now, 304))
            return f"HTTP/1.1 304 Not Modified\r\nETag: {tag}\r\n\r\n".encode()
        state.requests.append((now, 200))
        for number, _ in state.added:
            state.served.setdefault(number, now)
        document = self.document(feed)
        kind = "application/feed+json" if document.kind == "json" else "application/xml"
        body = render(document, feed, state.revision, state.added)
        head = (
            f"HTTP/1.1 200 OK\r\nETag: {tag}\r\nContent-Type: {kind}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    def report(self, api: TimedBotAPI) -> JSON:
        """What happened: every request, and served-to-sent latency of each new entry."""
        sent: dict[tuple[int, int], float] = {}
        duplicates: list[tuple[int, int]] = []
        for when, text in api.accepted:
            found = TITLE.search(text)
            if found:
                key = (int(found.group(1)), int(found.group(2)))
                if key in sent:  # each feed has one follower: a repeat is a duplicate
                    duplicates.append(key)
                sent.setdefault(key, when)
        latencies = [
            sent[(feed, number)] - served
            for feed, state in enumerate(self.states)
            for number, served in state.served.items()
            if (feed, number) in sent
        ]
        served_count = sum(len(state.served) for state in self.states)
        return {
            "requests": [state.requests for state in self.states],
            "latencies": latencies,
            "served_new": served_count,
            "sent_new": len(latencies),
            "duplicates": len(duplicates),
            "duplicated_entries": duplicates,
            "lost": served_count - len(latencies),
            "rejected": len(api.rejected),
            "messages": len(api.accepted),
        }


async def serve(options: JSON) -> JSON:
    """Run the farm and the fake Telegram until SIGTERM; what happened (``Farm.report``)."""
    factor, epoch = options["factor"], options["epoch"]
    loop = asyncio.get_running_loop()

    def _now() -> float:
        return epoch + (time.time() - epoch) * factor

    api = TimedBotAPI(_now)
    await api.start()
    for chat in options["chats"]:
        api.add_chat(chat)
    farm = Farm(
        corpus_documents(Path(options["corpus"])),
        options["feeds"],
        options["interval"],
        _now,
        options["seed"],
    )
    servers = []
    hosts = []
    for index in range(options["hosts"]):
        host = f"127.0.0.{index + 2}"
        server = await loop.create_server(lambda: FeedProtocol(farm), host, 0, backlog=1024)
        servers.append(server)
        hosts.append([host, server.sockets[0].getsockname()[1]])
    print(json.dumps({"hosts": hosts, "api": api.base_url, "token": api.token}), flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def freeze() -> None:
        farm.frozen = True

    loop.add_signal_handler(signal.SIGUSR1, freeze)
    await stop.wait()
    report = farm.report(api)
    for server in servers:
        server.close()
    await api.stop()
    return report


if __name__ == "__main__":
    settings = json.loads(sys.argv[1])
    outcome = asyncio.run(serve(settings))
    Path(settings["out"]).write_text(json.dumps(outcome))
