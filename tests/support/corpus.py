"""Where the shared document corpus lives (``../shared/corpus`` beside the repository), and mixed samples of it."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
DOCLING_FORMATS = ("pdf", "docx", "pptx", "xlsx", "html", "csv", "md", "ocr")
PYPDF = "pypdf-samples"
ALL_GROUPS = (*DOCLING_FORMATS, PYPDF)
TEXT_FORMATS = ("pdf", "docx", "html", "md", "csv")
"""Formats whose corpus files all have a text layer (no OCR needed) in the first few of each folder."""
NOT_DOCUMENTS = frozenset({"LICENSE", "files.json"})


def corpus_dir() -> Path:
    override = os.environ.get("CONVEYOR_CORPUS")
    return Path(override) if override else REPO.parent / "shared" / "corpus"


@dataclass(frozen=True)
class CorpusFile:
    """A corpus file under the name it goes by in a test (repeats of one file get distinct names).
    Path-like: ``open``, ``stat``, ``read_bytes`` and ``os.fspath`` reach the real file."""

    name: str
    path: Path

    @property
    def suffix(self) -> str:
        return self.path.suffix

    def open(self, mode: str = "rb") -> IO[bytes]:
        return self.path.open(mode)  # type: ignore[return-value]

    def stat(self) -> os.stat_result:
        return self.path.stat()

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def __fspath__(self) -> str:
        return str(self.path)


def corpus_groups(groups: tuple[str, ...] = ALL_GROUPS) -> list[list[Path]]:
    """The documents of each named group (a docling format folder, or :data:`PYPDF`), each sorted."""
    root = corpus_dir()
    folders = [root / group if group == PYPDF else root / "docling" / group for group in groups]
    return [sorted(p for p in folder.iterdir() if p.is_file() and p.name not in NOT_DOCUMENTS)
            for folder in folders if folder.is_dir()]


def mixed_files(count: int, groups: tuple[str, ...] = ALL_GROUPS) -> list[CorpusFile]:
    """``count`` corpus files spread across formats: round-robin over :func:`corpus_groups`. When the
    corpus has fewer distinct files, it starts over, naming the n-th repeat ``rN-NAME``."""
    return list(itertools.islice(_rounds(corpus_groups(groups)), count))


def _rounds(groups: list[list[Path]]) -> Iterator[CorpusFile]:
    if not any(groups):
        return
    for round_number in itertools.count():
        prefix = f"r{round_number}-" if round_number else ""
        for path in _round_robin(groups):
            yield CorpusFile(prefix + path.name, path)


def _round_robin(groups: list[list[Path]]) -> Iterator[Path]:
    for column in itertools.zip_longest(*groups):
        yield from (path for path in column if path is not None)
