"""Where the shared real-world feed corpus lives: shared/ is a sibling of the repo root."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
FEEDS_DIR = SHARED_DIR / "feeds"
SEED_FEED = FEEDS_DIR / "zh_feedx_dw_seed_item.xml"


def corpus_files() -> list[Path]:
    """Every feed document of the corpus (XML and JSON), sorted by name."""
    return sorted(p for p in FEEDS_DIR.iterdir() if p.suffix in {".xml", ".rdf", ".json"})
