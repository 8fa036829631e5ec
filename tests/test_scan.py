"""The fast entry scan against the real parser: same keys, and partial parses equal to full ones."""

from __future__ import annotations

import pytest

from bot.feeds.parse import MAX_ENTRIES, parse_feed
from bot.feeds.scan import scan_entries
from tests.corpus import corpus_feed, corpus_feed_names

URL = "https://feeds.example/dir/feed.xml"


@pytest.mark.parametrize("name", corpus_feed_names())
def test_scan_agrees_with_the_parser(name: str) -> None:
    """Where the scan answers, its keys are the parser's, in order, and a document cut down
    to some entries parses to exactly those entries, equal to the full parse's."""
    body = corpus_feed(name).read_bytes()
    scan = scan_entries(body, url=URL)
    if scan is None:
        return  # unsure (JSON, duplicate ids, broken XML): the refresh parses in full
    full = parse_feed(body, url=URL)
    keys = [entry.key for entry in full.entries]
    assert list(scan.keys[:MAX_ENTRIES]) == keys  # the parser reads the first MAX_ENTRIES
    by_key = {entry.key: entry for entry in full.entries}
    middle = len(keys) // 2
    for chosen in ({keys[0]}, {keys[-1]}, set(keys[:3]), set(keys[middle : middle + 2])):
        partial = parse_feed(scan.partial(chosen), url=URL)
        assert {entry.key for entry in partial.entries} == chosen
        assert all(entry == by_key[entry.key] for entry in partial.entries)
        assert (partial.title, partial.link) == (full.title, full.link)


def test_most_of_the_corpus_is_scanned() -> None:
    """The scan answers for most XML feeds of the corpus (it was 31 of 46 before RDF,
    relative ids, defusing and multi-byte encodings were handled)."""
    names = [name for name in corpus_feed_names() if not name.endswith(".json")]
    scanned = [name for name in names if scan_entries(corpus_feed(name).read_bytes(), url=URL)]
    assert len(scanned) >= 40, sorted(set(names) - set(scanned))


def _rss(items: str, *, attrs: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"{attrs}><channel><title>t</title>'
        f"{items}</channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("items", "keys"),
    [
        ("<item><guid>https://a.example/1</guid></item>", ("id:https://a.example/1",)),
        ("<item><guid>  tag:a.example,2024:1\n </guid></item>", ("id:tag:a.example,2024:1",)),
        ('<item><guid isPermaLink="false">42</guid></item>', ("id:42",)),
        ("<item><guid>42</guid></item>", ("id:https://feeds.example/dir/42",)),
        ("<item><guid>/p/42</guid></item>", ("id:https://feeds.example/p/42",)),
        ("<item><guid><![CDATA[https://a.example/?a=1&b=2]]></guid></item>",
         ("id:https://a.example/?a=1&b=2",)),
        ("<item><guid>https://a.example/?a=1&amp;b=2</guid></item>",
         ("id:https://a.example/?a=1&b=2",)),
        # Links are keyed normalised, as bot.feeds.identity keys them.
        ("<item><link> https://www.a.example/x/?utm_source=rss </link></item>",
         ("link:a.example/x",)),
        ("<item><description><![CDATA[<item><guid>x</guid></item>]]></description>"
         "<guid>https://a.example/1</guid></item>", ("id:https://a.example/1",)),
    ],
)  # fmt: skip
def test_keys_as_the_parser_makes_them(items: str, keys: tuple[str, ...]) -> None:
    """Ids, permalinks resolved against the feed URL, links; CDATA cannot fake an entry."""
    body = _rss(items.replace("<item>", "<item><title>x</title>"))  # the parser drops empty items
    scan = scan_entries(body, url=URL)
    assert scan is not None
    assert scan.keys == keys
    assert [entry.key for entry in parse_feed(body, url=URL).entries] == list(keys)


@pytest.mark.parametrize(
    "body",
    [
        _rss("<item><guid>https://a.example/1</guid></item>" * 2),  # repeated id
        _rss("<item><title>no id, no link</title></item>"),
        _rss("<item><link>/relative</link></item>"),
        _rss('<item xml:base="https://elsewhere.example/"><guid>1</guid></item>'),
        _rss('<item base="https://elsewhere.example/"><guid>1</guid></item>'),
        _rss('<item><guid isPermaLink=" true ">1</guid></item>'),
        _rss("<item><guid>https://a.example/1</guid><atom:id>urn:x</atom:id></item>",
             attrs=' xmlns:atom="http://www.w3.org/2005/Atom"'),
        _rss("<item><guid>https://a.example/1</guid><item><guid>https://a.example/2</guid>"
             "</item></item>"),
        _rss("<item><guid>https://a.example/1</guid>"),  # not well-formed
        _rss(""),  # no entries
        b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
        b"<html><body>not a feed</body></html>",
    ],
    ids=[
        "repeated id", "no id", "relative link", "xml:base", "base", "odd isPermaLink",
        "atom:id in RSS", "nested item", "broken", "empty", "json", "html",
    ],
)  # fmt: skip
def test_unsure_documents_are_left_to_the_parser(body: bytes) -> None:
    """Anything the scan cannot vouch for gives None: the refresh parses the whole document."""
    assert scan_entries(body, url=URL) is None


def test_atom_entries_and_multibyte_encodings() -> None:
    """Atom ids resolve like the parser's; a GB2312 document is scanned and cut as UTF-8."""
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<id>urn:f</id><entry><id>t3_abc</id><title>x</title></entry></feed>"
    )
    scan = scan_entries(atom, url=URL)
    assert scan is not None
    assert scan.keys == ("id:https://feeds.example/dir/t3_abc",)
    chinese = (
        '<?xml version="1.0" encoding="gb2312"?><rss version="2.0"><channel><title>新闻</title>'
        "<item><title>北京</title><guid>https://a.example/1</guid></item></channel></rss>"
    ).encode("gb2312")
    scan = scan_entries(chinese, url=URL)
    assert scan is not None
    partial = parse_feed(scan.partial(set(scan.keys)), url=URL)
    assert [entry.title for entry in partial.entries] == ["北京"]
    assert partial.title == "新闻"
