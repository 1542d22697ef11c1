"""From the lines of PDF pages to paragraphs, list items and headings: pure layout heuristics.

A paragraph ends where the vertical gap to the next line is clearly larger than the page's usual line
step, where the text size or weight changes, where the next line starts higher up (a new column) or
starts with a bullet, and after a line that stops short of its column's right edge although the
next word would have fit (a hard line break). A heading is a short paragraph set larger than the
body text, or bold where the body is not; its level is the rank of its size among the document's
heading sizes.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from conveyor.processors.parse.pdf_lines import Line
from conveyor.processors.parse.text_join import join_lines

HeadingKey = tuple[float, bool]  # (size, bold) of a heading paragraph

_BULLETS = "\u2022\u25cf\u25aa\u25a0\u25e6\u2023\u2043\u2219\u00b7"  # • ● ▪ ■ ◦ ‣ hyphen bullet ∙ ·
_PARAGRAPH_GAP = 1.25  # a step this many times the usual one between lines separates paragraphs
_HEADING_SIZE = 1.15  # headings are set at least this much larger than the body text
_HEADING_MAX_WORDS = 15
_HEADING_MAX_LINES = 2
_MAX_LEVEL = 6
_MIN_COLUMN_LINES = 3


@dataclass(frozen=True)
class Paragraph:
    """Consecutive lines of the same style, joined; ``size`` and ``bold`` are its first line's. ``box`` is
    ``(left, bottom, right, top)`` in PDF page space (origin bottom-left), ``None`` if not measured."""

    text: str
    size: float = 0.0
    bold: bool = False
    lines: int = 1
    box: tuple[float, float, float, float] | None = None

    @property
    def is_list_item(self) -> bool:
        return _starts_with_bullet(self.text)

    @property
    def heading_key(self) -> HeadingKey:
        return (self.size, self.bold)

    def level(self, levels: Mapping[HeadingKey, int]) -> int | None:
        """The heading level of this paragraph, ``None`` if it is no heading."""
        return None if self.is_list_item or not _could_be_heading(self) else levels.get(self.heading_key)

    def markdown(self, levels: Mapping[HeadingKey, int]) -> str:
        """This paragraph as markdown, a heading if its style has a level in ``levels``."""
        if self.is_list_item:
            return "- " + self.text[1:].lstrip()
        level = self.level(levels)
        return f"{'#' * level} {self.text}" if level else self.text


@dataclass(frozen=True)
class _Page:
    step: float | None  # the usual distance between baselines
    edges: Mapping[int, float]  # right edge of the text by (rounded) left edge of its lines


def paragraphs(lines: Sequence[Line]) -> list[Paragraph]:
    """The paragraphs of one page."""
    page = _Page(step=_usual_step(lines), edges=_right_edges(lines))
    groups: list[list[Line]] = []
    for previous, line in zip([None, *lines], lines, strict=False):
        if previous is None or _breaks(previous, line, page):
            groups.append([line])
        else:
            groups[-1].append(line)
    return [_paragraph(group) for group in groups]


def heading_levels(paragraphs: Sequence[Paragraph]) -> dict[HeadingKey, int]:
    """The heading level of each heading style in a document: larger first, bold before regular."""
    body = _body_style(paragraphs)
    keys = {p.heading_key for p in paragraphs if _could_be_heading(p) and _stands_out(p, body)}
    ranked = sorted(keys, key=lambda key: (-key[0], not key[1]))
    return {key: min(rank, _MAX_LEVEL) for rank, key in enumerate(ranked, start=1)}


def _usual_step(lines: Sequence[Line]) -> float | None:
    """The median distance between the baselines of consecutive lines of the same size."""
    steps = [a.bottom - b.bottom for a, b in itertools.pairwise(lines)
             if a.has_geometry and b.has_geometry and a.size == b.size
             and 0.5 * a.size < a.bottom - b.bottom < 3 * a.size]
    return statistics.median(steps) if steps else None


def _right_edges(lines: Sequence[Line]) -> dict[int, float]:
    """The right edge of the text column per left edge, where enough lines start there to tell."""
    rights: dict[int, list[float]] = {}
    for line in lines:
        if line.has_geometry:
            rights.setdefault(round(line.left), []).append(line.right)
    return {left: _upper_quartile(values)
            for left, values in rights.items() if len(values) >= _MIN_COLUMN_LINES}


def _upper_quartile(values: list[float]) -> float:
    """Robust against the odd line that runs into the next column (PDFium may merge such lines)."""
    return sorted(values)[(len(values) * 3) // 4]


def _ends_short(previous: Line, line: Line, edges: Mapping[int, float]) -> bool:
    """Whether the first word of ``line`` would have fit at the end of ``previous``."""
    edge = edges.get(round(previous.left))
    words = line.text.split()
    length = len(previous.text.strip())
    if edge is None or not words or length < 2:
        return False
    char_width = (previous.right - previous.left) / (length - 1)
    return edge - previous.right > (len(words[0]) + 2) * char_width


def _breaks(previous: Line, line: Line, page: _Page) -> bool:
    """Whether ``line`` starts a new paragraph after ``previous``."""
    if _starts_with_bullet(line.text.lstrip()):
        return True
    if not (previous.has_geometry and line.has_geometry):
        return False
    if abs(previous.size - line.size) > 0.1 * max(previous.size, line.size) or previous.bold != line.bold:
        return True
    drop = previous.bottom - line.bottom
    if abs(drop) < 0.3 * line.size:
        return False  # the same baseline: pieces of one visual line
    if drop < 0 or drop > (page.step * _PARAGRAPH_GAP if page.step else 1.8 * line.size):
        return True
    return _ends_short(previous, line, page.edges)


def _paragraph(lines: Sequence[Line]) -> Paragraph:
    measured = [line for line in lines if line.has_geometry]
    box = None if not measured else (min(line.left for line in measured), min(line.bottom for line in measured),
                                     max(line.right for line in measured), max(line.top for line in measured))
    return Paragraph(text=join_lines(line.text for line in lines), size=lines[0].size, bold=lines[0].bold,
                     lines=len(lines), box=box)


def _starts_with_bullet(text: str) -> bool:
    return bool(text) and text[0] in _BULLETS


def _body_style(paragraphs: Sequence[Paragraph]) -> HeadingKey:
    """The (size, bold) style that sets the most characters."""
    weights: Counter[HeadingKey] = Counter()
    for paragraph in paragraphs:
        weights[paragraph.heading_key] += len(paragraph.text)
    return weights.most_common(1)[0][0] if weights else (0.0, False)


def _could_be_heading(paragraph: Paragraph) -> bool:
    return (paragraph.size > 0 and paragraph.lines <= _HEADING_MAX_LINES
            and len(paragraph.text.split()) <= _HEADING_MAX_WORDS
            and any(char.isalpha() for char in paragraph.text)
            and not paragraph.is_list_item and paragraph.text[-1:] not in ".,;")


def _stands_out(paragraph: Paragraph, body: HeadingKey) -> bool:
    body_size, body_bold = body
    if paragraph.size >= body_size * _HEADING_SIZE:
        return True
    return paragraph.bold and not body_bold and paragraph.lines == 1 and paragraph.size >= body_size * 0.95
