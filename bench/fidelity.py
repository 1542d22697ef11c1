"""Text-fidelity scores of a parse against ground-truth markdown, shared by benchmarks and tests.

Both sides are reduced to plain words first: markdown syntax, HTML tags, link targets and Docling's
``<!-- image -->`` placeholders are stripped, entities unescaped, text lowercased. Then:

- word F1: precision and recall over the multiset of words;
- word recall: the share of the ground truth's words the parse contains;
- edit similarity: 1 - normalised Levenshtein distance between the two word sequences joined by spaces.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_WORD = re.compile(r"[^\W_]+")


def words(markdown: str) -> list[str]:
    """The words of ``markdown`` in order, lowercased, with markup stripped."""
    text = _COMMENT.sub(" ", markdown)
    text = _LINK_TARGET.sub("] ", text)
    text = _TAG.sub(" ", text)
    return _WORD.findall(html.unescape(text).lower())


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    edit_similarity: float


def score(expected: str, actual: str) -> Score:
    """How faithfully ``actual`` reproduces the words of ``expected``."""
    wanted, found = words(expected), words(actual)
    wanted_counts, found_counts = Counter(wanted), Counter(found)
    common = sum((wanted_counts & found_counts).values())
    recall = common / len(wanted) if wanted else 1.0
    precision = common / len(found) if found else (1.0 if not wanted else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    similarity = Levenshtein.normalized_similarity(" ".join(wanted), " ".join(found))
    return Score(precision=precision, recall=recall, f1=f1, edit_similarity=similarity)


def ground_truth(path: Path) -> Path | None:
    """``groundtruth/NAME.EXT.md`` or ``groundtruth/NAME.md`` beside a corpus file, if there is one."""
    folder = path.parent / "groundtruth"
    candidates = (folder / f"{path.name}.md", folder / f"{path.stem}.md")
    return next((candidate for candidate in candidates if candidate.is_file()), None)


def scored_files(folder: Path) -> list[Path]:
    """The files in a corpus format folder that have ground truth."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.is_file() and ground_truth(path) is not None)
