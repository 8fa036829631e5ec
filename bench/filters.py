"""Filter speed on realistic entries: compile, prepare, one filter, 10,000 filters, also
with AND/OR/NOT groups.

Run: .venv/bin/python bench/filters.py. Entries come from the shared corpus (the
DW Chinese seed item, a Guardian world item); filters are built from words of
the corpus itself, so hits, misses and shared terms occur as in real use.
"""

from __future__ import annotations

import random
import re
import statistics
import sys
import time
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.filters import CompiledFilter, FilterFields, PreparedFields, compile_filter
from tests.corpus import CORPUS_MISSING, find_shared

_TAG_RE = re.compile(r"<[^>]+>")


def _entries(feeds: Path, name: str) -> list[FilterFields]:
    """Every entry of a corpus feed as filter fields (HTML stripped crudely)."""
    parsed = feedparser.parse((feeds / name).read_bytes())
    out = []
    for entry in parsed.entries:
        body = entry.get("content", [{}])[0].get("value") or entry.get("summary", "")
        out.append(
            FilterFields(
                title=entry.get("title", ""),
                content=" ".join(_TAG_RE.sub(" ", body).split()),
                author=entry.get("author", ""),
                tags=tuple(t.get("term", "") for t in entry.get("tags", [])),
            )
        )
    return out


def _vocabulary(entries: list[FilterFields], rng: random.Random) -> list[str]:
    """Latin words and CJK bigrams/trigrams drawn from the entries."""
    words: set[str] = set()
    for entry in entries:
        text = f"{entry.title} {entry.content}"
        words.update(w for w in re.findall(r"[A-Za-z]{4,}", text))
        for run in re.findall(r"[\u4e00-\u9fff]{2,}", text):
            for i in range(len(run) - 1):
                words.add(run[i : i + rng.choice((2, 3))])
    return sorted(words)


def _filter_text(vocab: list[str], rng: random.Random, size: int) -> str:
    """A realistic filter: mostly plain terms, some +, some -, a field or phrase."""
    terms = []
    for _ in range(size):
        word = rng.choice(vocab)
        roll = rng.random()
        if roll < 0.15:
            terms.append(f"+{word}")
        elif roll < 0.3:
            terms.append(f"-{word}")
        elif roll < 0.4:
            terms.append(f"title:{word}")
        elif roll < 0.45:
            terms.append(f'"{word} {rng.choice(vocab)}"')
        else:
            terms.append(word)
    return " ".join(terms)


def _grouped_text(vocab: list[str], rng: random.Random, size: int) -> str:
    """A filter with operators: ``(a OR b OR c) AND NOT (d OR e) …`` of ``size`` terms."""
    words = [rng.choice(vocab) for _ in range(size)]
    half = size // 2
    either = " OR ".join(words[:half])
    neither = " OR ".join(words[half:-1])
    return f"({either}) AND NOT ({neither}) title:{words[-1]}"


def _all_against(filters: list[CompiledFilter], entry: FilterFields) -> tuple[list[float], int]:
    """Five runs of every filter against a freshly prepared ``entry``: milliseconds per run,
    folding included, and how many filters passed."""
    runs = []
    passed = 0
    for _ in range(5):
        t0 = time.perf_counter()
        prepared = PreparedFields(entry)
        passed = sum(f.match(prepared).passed for f in filters)
        runs.append((time.perf_counter() - t0) * 1e3)
    return runs, passed


def _grouped_figures(entry: FilterFields, vocab: list[str], rng: random.Random) -> None:
    """Print one grouped filter's time and 10,000 grouped filters' time against ``entry``."""
    grouped = [compile_filter(_grouped_text(vocab, rng, 10)) for _ in range(10_000)]
    samples = []
    for compiled in grouped[:500]:
        compiled.match(PreparedFields(entry))
        prepared = PreparedFields(entry)
        t0 = time.perf_counter()
        compiled.match(prepared)
        samples.append((time.perf_counter() - t0) * 1e6)
    print(f"  one 10-term filter with AND/OR/NOT groups, fresh memo: {_summary(samples)}")
    runs, passed = _all_against(grouped, entry)
    print(
        f"  10,000 grouped filters vs one entry (incl. prepare): best {min(runs):.1f} ms, "
        f"mean {statistics.mean(runs):.1f} ms; {passed} passed"
    )


def _per_call_us(func: object, repeat: int) -> float:
    """Mean microseconds per call."""
    assert callable(func)
    start = time.perf_counter()
    for _ in range(repeat):
        func()
    return (time.perf_counter() - start) / repeat * 1e6


def _summary(samples: list[float]) -> str:
    """Mean, median and 99th percentile of microsecond samples."""
    p99 = sorted(samples)[int(len(samples) * 0.99)]
    return (
        f"mean {statistics.mean(samples):.1f} µs, median {statistics.median(samples):.1f} µs, "
        f"p99 {p99:.1f} µs"
    )


def main() -> None:
    """Print the figures."""
    feeds = find_shared("feeds")
    if feeds is None:
        sys.exit(f"bench/filters.py: {CORPUS_MISSING}")
    rng = random.Random(7)
    dw = _entries(feeds, "zh_feedx_dw_seed_item.xml")[0]
    guardian_all = _entries(feeds, "en_guardian_world.xml")
    guardian = max(guardian_all, key=lambda e: len(e.content))
    zh_vocab = _vocabulary([*_entries(feeds, "zh_bbc_chinese_simp.atom.xml"), dw], rng)
    en_vocab = _vocabulary(guardian_all, rng)
    print(f"entries: DW zh content {len(dw.content)} chars; Guardian {len(guardian.content)} chars")
    print(f"vocabulary: {len(zh_vocab)} zh, {len(en_vocab)} en")

    start = time.perf_counter()
    compile_filter("warm-up 烏克蘭")
    print(
        f"first compile (builds the t2s table once): {(time.perf_counter() - start) * 1e3:.1f} ms"
    )

    for label, entry, vocab in (
        ("DW zh", dw, zh_vocab + en_vocab[:200]),
        ("Guardian en", guardian, en_vocab),
    ):
        texts = [_filter_text(vocab, rng, 10) for _ in range(10_000)]

        start = time.perf_counter()
        filters = [compile_filter(t) for t in texts]
        compile_us = (time.perf_counter() - start) / len(texts) * 1e6
        prep_us = _per_call_us(lambda e=entry: PreparedFields(e), 200)
        # One 10-term filter against a prepared entry, fresh memo each time (no sharing);
        # each filter runs once beforehand so lazily compiled word patterns exist.
        plain = [compile_filter(" ".join(rng.choice(vocab) for _ in range(10))) for _ in range(500)]
        samples = []
        plain_samples = []
        for compiled, all_plain in zip(filters[:500], plain, strict=True):
            compiled.match(PreparedFields(entry))
            all_plain.match(PreparedFields(entry))
            prepared = PreparedFields(entry)
            t0 = time.perf_counter()
            all_plain.match(prepared)
            plain_samples.append((time.perf_counter() - t0) * 1e6)
            prepared = PreparedFields(entry)
            t0 = time.perf_counter()
            compiled.match(prepared)
            samples.append((time.perf_counter() - t0) * 1e6)
        runs, passed = _all_against(filters, entry)  # 10,000 filters, folding included
        print(f"\n[{label}]")
        print(f"  compile a 10-term filter (uncached): {compile_us:.1f} µs")
        print(f"  prepare (fold all fields once): {prep_us:.1f} µs")
        print(f"  one mixed 10-term filter, fresh memo: {_summary(samples)}")
        print(f"  one 10-plain-term filter (every term searched): {_summary(plain_samples)}")
        _grouped_figures(entry, vocab, rng)
        print(
            f"  10,000 filters vs one entry (incl. prepare): best {min(runs):.1f} ms, "
            f"mean {statistics.mean(runs):.1f} ms; {passed} passed"
        )


if __name__ == "__main__":
    main()
