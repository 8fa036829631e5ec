"""Table tests for the HTML -> Telegram text + spans converter."""

from __future__ import annotations

import pytest

from bot.render import html_to_plain
from bot.render.html import html_to_rich

BASE = "https://example.com/news/item.html"


def spans(html: str) -> list[tuple[str, str, str | None]]:
    """(type, covered text, url or language) for each span, in document order."""
    rich = html_to_rich(html, base=BASE)
    return sorted(
        ((s.type, rich.text[s.start : s.end], s.url or s.language) for s in rich.spans),
        key=lambda t: rich.text.find(t[1]),
    )


TEXT_CASES = [
    ("paragraphs", "<p>One</p><p>Two</p>", "One\n\nTwo"),
    ("br", "a<br>b<br/><br>c", "a\nb\n\nc"),
    ("whitespace folded", "<p>  a \n\t b  </p>", "a b"),
    ("entities decoded", "x&nbsp;&laquo;y&raquo; &#20013;&#x6587; &amp;&lt;", "x «y» 中文 &<"),
    ("bullets", "<ul><li>a</li><li>b</ul>", "• a\n• b"),
    ("numbers with start", "<ol start='3'><li>x<li>y</ol>", "3. x\n4. y"),
    ("nested list", "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>", "• a\n  ◦ b\n• c"),
    ("paragraph inside item", "<ul><li><p>a</p></li><li><p>b</p></li></ul>", "• a\n• b"),
    ("table degrades", "<table><tr><th>h1<th>h2<tr><td>1</td><td>2</td></table>", "h1 h2\n1 2"),
    ("figure keeps caption", "<figure><img src=a.jpg><figcaption>Cap</figcaption></figure>", "Cap"),
    (
        "iframe video audio svg",
        "<iframe>f</iframe><video>v</video><svg><text>s</text></svg>",
        "f\nv\ns",
    ),
    (
        "sup sub small font",
        "E=mc<sup>2</sup> H<sub>2</sub>O <small>s</small><font>f</font>",
        "E=mc2 H2O sf",
    ),
    ("script and style dropped", "a<script>alert('<b>x</b>')</script><style>p{}</style>b", "ab"),
    (
        "noscript and template dropped",
        "a<noscript><img src=x>n</noscript><template>t</template>b",
        "ab",
    ),
    ("image is not text", "<p>a<img src='x.jpg' alt='alt'>b</p>", "ab"),
    ("bidi override neutralised", "<p>\u202eevil\u202c txt\u2066</p>", "evil txt"),
    ("control characters dropped", "a\x00b\x08c\x1bd", "abcd"),
    ("hr breaks", "a<hr>b", "a\n\nb"),
    ("unclosed tags", "<p><b>bold <i>both", "bold both"),
    ("stray end tags", "</p></b>text</i>", "text"),
    ("comment dropped", "a<!-- hidden -->b", "ab"),
    ("pre keeps spacing", "<pre>\n  x = 1\n\n  y\n</pre>", "  x = 1\n\n  y"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(
    ("html", "text"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES]
)
def test_text(html: str, text: str) -> None:
    """Each HTML construct becomes the text a reader expects."""
    assert html_to_rich(html, base=BASE).text == text


SPAN_CASES = [
    ("bold strong", "<b>a</b> <strong>b</strong>", [("bold", "a", None), ("bold", "b", None)]),
    (
        "italic underline strike",
        "<em>i</em><u>u</u><del>d</del>",
        [("italic", "i", None), ("underline", "u", None), ("strikethrough", "d", None)],
    ),
    ("heading is bold", "<h2>Title</h2><p>x</p>", [("bold", "Title", None)]),
    ("inline code", "run <code>ls -l</code>", [("code", "ls -l", None)]),
    (
        "pre with language on code",
        '<pre><code class="hl language-python">x</code></pre>',
        [("pre", "x", "python")],
    ),
    ("pre with lang on pre", '<pre class="lang-go">y</pre>', [("pre", "y", "go")]),
    (
        "no entities inside pre",
        "<pre><b>x</b><a href='https://a.b/'>y</a></pre>",
        [("pre", "xy", None)],
    ),
    ("blockquote", "<blockquote><p>q</p></blockquote>", [("blockquote", "q", None)]),
    (
        "nested blockquote flattened",
        "<blockquote>a<blockquote>b</blockquote></blockquote>",
        [("blockquote", "a\n\nb", None)],
    ),
    ("absolute link", '<a href="https://x.org/p">t</a>', [("text_link", "t", "https://x.org/p")]),
    (
        "relative link resolved",
        '<a href="../a?b=1&amp;c=2">r</a>',
        [("text_link", "r", "https://example.com/a?b=1&c=2")],
    ),
    (
        "mailto and tg stay plain text: Telegram refuses them as text links",
        '<a href="mailto:a@b.c">m</a> <a href="tg://resolve?domain=x">t</a>',
        [],
    ),
    (
        "a host without a dot or with a broken port stays plain text",
        '<a href="http://localhost/x">l</a> <a href="http://a.b:/x">p</a>'
        ' <a href="http://a.b:x1/x">q</a>',
        [],
    ),
    (
        "a sound port and an IPv6 host are links",
        '<a href="http://a.b:8080/x">p</a> <a href="http://[::1]/x">v</a>',
        [("text_link", "p", "http://a.b:8080/x"), ("text_link", "v", "http://[::1]/x")],
    ),
    ("javascript link dropped", '<a href="javascript:alert(1)">j</a>', []),
    ("data and vbscript dropped", '<a href="data:text/html,x">d</a><a href="VBScript:x">v</a>', []),
    ("fragment-only link dropped", '<a href="#top">f</a>', []),
    (
        "link in link kept once",
        '<a href="https://a.b/1">x<a href="https://a.b/2">y</a></a>',
        [("text_link", "xy", "https://a.b/1")],
    ),
    (
        "space in url escaped",
        '<a href="https://a.b/x y">s</a>',
        [("text_link", "s", "https://a.b/x%20y")],
    ),
    ("empty element gives no span", "<b></b><i> </i>x", []),
    (
        "misnested tags stay nested",
        "<b>a<i>b</b>c</i>",
        [("bold", "ab", None), ("italic", "b", None)],
    ),
]


@pytest.mark.parametrize(
    ("html", "expected"), [c[1:] for c in SPAN_CASES], ids=[c[0] for c in SPAN_CASES]
)
def test_spans(html: str, expected: list[tuple[str, str, str | None]]) -> None:
    """Formatting survives as spans over exactly the formatted text."""
    assert sorted(spans(html)) == sorted(expected)


def test_relative_link_without_base_is_plain_text() -> None:
    """A relative URL with no entry link to resolve it against is no link."""
    rich = html_to_rich('<a href="/x">x</a>', base="")
    assert (rich.text, rich.spans) == ("x", ())


def test_reading_stops_near_the_limit() -> None:
    """A huge body is read only as far as the message can use."""
    rich = html_to_rich("<p>word</p>" * 100_000, limit=500)
    assert 500 <= len(rich.text) < 600


def test_deep_nesting_is_bounded() -> None:
    """Thousands of nested tags neither recurse nor produce thousands of spans."""
    rich = html_to_rich("<b>" * 5000 + "x" + "</b>" * 5000)
    assert rich.text == "x"
    assert 0 < len(rich.spans) <= 200


@pytest.mark.parametrize(
    ("html", "plain"),
    [
        ("<p>Hello <b>world</b></p><p>again</p>", "Hello world again"),
        ("a<script>var x = '<p>no</p>';</script>b<style>.c{}</style>", "a b"),
        ("&lt;tag&gt; &amp; &#20013;\u202e", "<tag> & 中"),
        ("x<!-- <p>hidden</p> -->y", "x y"),
        ("", ""),
    ],
)
def test_html_to_plain(html: str, plain: str) -> None:
    """Plain text for filters keeps the words, drops markup, scripts and control characters."""
    assert html_to_plain(html) == plain
