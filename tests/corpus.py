"""The real-world corpus: where it is, and what a test does when it is not there.

The corpus (``feeds/``, ``cases/``, ``seed/``) is not part of the repository. It lives in
the project's ``shared/`` folder, found at the path in the environment variable
``TEST_SHARED_DIR`` when that is set, else as ``../shared`` beside the clone. Tests reach
it only through :func:`corpus_path` and the helpers built on it. Without the corpus those
tests are skipped, all with the one reason :data:`CORPUS_MISSING`, so that pytest's ``-ra``
summary groups them into one line; with ``TEST_REQUIRE_CORPUS=1`` (``.ci/run`` sets
it) a missing corpus fails them instead.

Fixtures the team writes (a DW-like Chinese item, an HTML page served at a feed URL, ...)
live in ``tests/data/`` (:data:`DATA_DIR`) and need none of this.

The variables are not named ``NEWSRELAY_…``: that prefix is the bot's own configuration,
which refuses unknown keys, and tests run the bot in subprocesses that inherit them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "tests" / "data"
DW_LIKE_ITEM = DATA_DIR / "dw_like_item.xml"
"""A one-item feed in the shape of the feedx mirror of DW Chinese (our own text)."""
NOT_A_FEED_PAGE = DATA_DIR / "account_suspended.html"
"""The kind of HTML page a dead host serves at its feed URL (our own page)."""

SHARED_ENV = "TEST_SHARED_DIR"
REQUIRE_ENV = "TEST_REQUIRE_CORPUS"
CORPUS_MISSING = (
    "real-world corpus not found: put the project's shared/ folder beside the clone "
    f"(../shared) or set {SHARED_ENV}=/path/to/shared"
)
FEED_SUFFIXES = frozenset({".xml", ".rdf", ".json"})
ABSENT = "corpus-absent"
"""The one parameter id a corpus-wide parametrised test gets when the corpus is absent."""


def find_shared(part: str) -> Path | None:
    """The folder ``shared/<part>`` (``"feeds"``, ``"cases"``, ``"seed"``), or None if absent.

    ``TEST_SHARED_DIR``, when set, names the ``shared`` folder and is the only place
    looked at; otherwise it is ``../shared`` relative to the repository root.
    """
    configured = os.environ.get(SHARED_ENV, "")
    root = Path(configured).expanduser() if configured else REPO_ROOT.parent / "shared"
    folder = root / part
    return folder if folder.is_dir() else None


def corpus_path(part: str, name: str = "") -> Path:
    """The path of ``name`` in ``shared/<part>`` (the folder itself when ``name`` is empty).

    Call it inside a test (or a fixture), never at import time: when the folder is
    absent it skips the calling test with :data:`CORPUS_MISSING`, or fails it when
    ``TEST_REQUIRE_CORPUS`` is set to anything but ``""`` or ``"0"``.
    """
    folder = find_shared(part)
    if folder is None:
        if os.environ.get(REQUIRE_ENV, "") not in {"", "0"}:
            pytest.fail(f"{CORPUS_MISSING} ({REQUIRE_ENV} is set)", pytrace=False)
        pytest.skip(CORPUS_MISSING)
    return folder / name if name else folder


def corpus_feed(name: str) -> Path:
    """The path of one document of ``shared/feeds`` (skips or fails as :func:`corpus_path`)."""
    return corpus_path("feeds", name)


def corpus_case(name: str) -> Path:
    """The path of one field case in ``shared/cases`` (skips or fails as :func:`corpus_path`).

    The cases and what a user expects of each are listed in ``shared/cases/README.md``.
    """
    return corpus_path("cases", name)


def corpus_files() -> list[Path]:
    """Every feed document of the corpus (XML and JSON), sorted by name; for test bodies."""
    folder = corpus_path("feeds")
    return sorted(p for p in folder.iterdir() if p.suffix in FEED_SUFFIXES)


def corpus_feed_names() -> list[str]:
    """The corpus's feed file names, for ``parametrize`` at collection time.

    Without the corpus the list is ``[ABSENT]``: one parameter whose test then meets
    :func:`corpus_feed` and is skipped (or failed) like every other corpus test.
    """
    folder = find_shared("feeds")
    if folder is None:
        return [ABSENT]
    return sorted(p.name for p in folder.iterdir() if p.suffix in FEED_SUFFIXES)
