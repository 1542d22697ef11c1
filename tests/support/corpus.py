"""Where the shared document corpus lives (``../shared/corpus`` beside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    override = os.environ.get("CONVEYOR_CORPUS")
    return Path(override) if override else REPO.parent / "shared" / "corpus"


def mixed_files(count: int) -> list[Path]:
    """``count`` corpus files spread across formats (round-robin over the docling format folders)."""
    root = corpus_dir() / "docling"
    groups = [sorted(p for p in (root / fmt).iterdir() if p.is_file())
              for fmt in ("pdf", "docx", "html", "md", "csv")]
    chosen: list[Path] = []
    while len(chosen) < count and any(groups):
        for group in groups:
            if group and len(chosen) < count:
                chosen.append(group.pop(0))
    return chosen
