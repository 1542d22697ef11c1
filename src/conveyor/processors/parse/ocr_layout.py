"""From recognised text regions to lines and paragraphs in reading order: pure geometry.

Reading order comes from a recursive XY cut over the regions in the upright page: a node is split at an
empty band, down between columns first (where both sides hold running text, long lines, or their rows do
not line up), else across between rows, else between the pieces of a single row. So text columns and
side-by-side blocks are read one after the other while the rows of a table stay rows. Regions on one row
join into a line; lines follow each other in a paragraph while the spacing stays tight, the height stays
the same and they overlap horizontally. A short paragraph set clearly larger than the page's usual line
height is a heading; one starting with a bullet a list item.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from conveyor.processors.parse.document import BBox
from conveyor.processors.parse.text_join import join_lines

_COLUMN_GAP = 0.5  # in line heights: the narrowest gap between text columns
_COLUMN_LINES = 2  # a text column has at least this many regions …
_LONG_LINE = 6.0  # … at least this many line heights long (the median)
_ALIGNED_ROWS = 0.5  # table columns: at least this share of the rows of one side have a row beside them
_SHRINK = 0.2  # regions overlap a little vertically (skew, padding): trim this share of the height per side
_PARAGRAPH_GAP = 0.45  # in line heights: more white space than this between lines starts a paragraph
_SAME_HEIGHT = 1.3
_HEADING_HEIGHT = 1.3  # a heading's lines are at least this much higher than the page's usual line
_HEADING_MAX_WORDS = 12
_HEADING_MAX_LINES = 2
_BULLETS = "\u2022\u25cf\u25aa\u25a0\u25e6\u00b7*"


@dataclass(frozen=True)
class TextRegion:
    """A recognised text region: ``box`` in the upright page, ``source`` where it is in the image given."""

    text: str
    confidence: float
    box: BBox
    source: BBox

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


OcrLine = TextRegion
"""A line is the region its words' regions cover, with their text joined."""


@dataclass(frozen=True)
class OcrParagraph:
    lines: tuple[OcrLine, ...]
    kind: str  # paragraph | heading | list_item

    @property
    def text(self) -> str:
        return join_lines([line.text for line in self.lines])

    @property
    def markdown(self) -> str:
        if self.kind == "heading":
            return "## " + self.text
        if self.kind == "list_item":
            return "- " + self.text.lstrip(_BULLETS + " ")
        return self.text


def paragraphs(regions: Sequence[TextRegion]) -> list[OcrParagraph]:
    """The paragraphs of a page, in reading order."""
    if not regions:
        return []
    unit = statistics.median(region.height for region in regions)
    lines = _lines(_reading_order(list(regions), unit), unit)
    usual = statistics.median(line.height for line in lines)
    groups: list[list[OcrLine]] = []
    for previous, line in zip([None, *lines], lines, strict=False):
        if previous is None or _breaks(previous, line):
            groups.append([line])
        else:
            groups[-1].append(line)
    return [OcrParagraph(lines=tuple(group), kind=_kind(group, usual)) for group in groups]


def _reading_order(regions: list[TextRegion], unit: float) -> list[TextRegion]:
    """The regions in reading order (the XY cut, with a stack of its own: a page of a thousand lines may
    be cut a thousand levels deep)."""
    ordered: list[TextRegion] = []
    pending = [regions]
    while pending:
        node = pending.pop()
        parts = _cut(node, unit) if len(node) > 1 else None
        if parts is None:
            ordered.extend(sorted(node, key=lambda region: (region.box[1], region.box[0])))
        else:
            pending.extend(reversed(parts))
    return ordered


def _cut(regions: list[TextRegion], unit: float) -> tuple[list[TextRegion], list[TextRegion]] | None:
    """The regions split in two along a band free of text: between text columns if there are any, else
    between rows, else (one row) between pieces of the row; ``None`` if they cannot be split."""
    columns = sorted(_gaps([(r.box[0], r.box[2]) for r in regions]), reverse=True)
    for width, middle in columns:
        if width < _COLUMN_GAP * unit:
            break
        parts = _split(regions, middle, axis=0)
        if all(_text_column(part, unit) for part in parts) or _independent(*parts, unit=unit):
            return parts
    rows = _gaps([(r.box[1] + _SHRINK * r.height, r.box[3] - _SHRINK * r.height) for r in regions])
    if rows:
        return _split(regions, max(rows)[1], axis=1)
    return _split(regions, columns[0][1], axis=0) if columns else None


def _text_column(regions: list[TextRegion], unit: float) -> bool:
    """Whether regions look like running text (several long lines) rather than, say, table cells."""
    return len(regions) >= _COLUMN_LINES and statistics.median(
        region.box[2] - region.box[0] for region in regions) >= _LONG_LINE * unit


def _independent(left: list[TextRegion], right: list[TextRegion], unit: float) -> bool:
    """Whether two sides of a gap are blocks of their own rather than the columns of a table: most of
    the rows of the smaller side have no row of the other side beside them."""
    if min(len(left), len(right)) < _COLUMN_LINES:
        return False
    smaller, larger = sorted((left, right), key=len)
    centres = sorted((r.box[1] + r.box[3]) / 2 for r in larger)
    beside = sum(1 for region in smaller if _has_near(centres, (region.box[1] + region.box[3]) / 2, unit / 4))
    return beside < _ALIGNED_ROWS * len(smaller)


def _has_near(ordered: list[float], value: float, tolerance: float) -> bool:
    index = bisect.bisect_left(ordered, value - tolerance)
    return index < len(ordered) and ordered[index] <= value + tolerance


def _gaps(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``(width, middle)`` of each gap between the union of ``spans``."""
    ordered = sorted(spans)
    gaps: list[tuple[float, float]] = []
    reach = ordered[0][1]
    for start, end in ordered[1:]:
        if start > reach:
            gaps.append((start - reach, (start + reach) / 2))
        reach = max(reach, end)
    return gaps


def _split(regions: list[TextRegion], at: float, axis: int) -> tuple[list[TextRegion], list[TextRegion]]:
    def centre(region: TextRegion) -> float:
        return (region.box[axis] + region.box[axis + 2]) / 2

    return [r for r in regions if centre(r) < at], [r for r in regions if centre(r) >= at]


def _lines(regions: list[TextRegion], unit: float) -> list[OcrLine]:
    groups: list[list[TextRegion]] = []
    for previous, region in zip([None, *regions], regions, strict=False):
        if previous is not None and _same_row(previous, region, unit):
            groups[-1].append(region)
        else:
            groups.append([region])
    return [_line(group) for group in groups]


def _same_row(previous: TextRegion, region: TextRegion, unit: float) -> bool:
    middle = (region.box[1] + region.box[3]) / 2
    return previous.box[1] <= middle <= previous.box[3] and region.box[0] >= previous.box[2] - unit / 2


def _line(regions: list[TextRegion]) -> OcrLine:
    return OcrLine(text=" ".join(region.text for region in regions),
                   confidence=statistics.mean(region.confidence for region in regions),
                   box=_union([region.box for region in regions]),
                   source=_union([region.source for region in regions]))


def _union(boxes: Sequence[BBox]) -> BBox:
    return (min(box[0] for box in boxes), min(box[1] for box in boxes),
            max(box[2] for box in boxes), max(box[3] for box in boxes))


def _breaks(previous: OcrLine, line: OcrLine) -> bool:
    """Whether ``line`` starts a new paragraph after ``previous``."""
    low, high = sorted((previous.height, line.height))
    overlaps = line.box[0] < previous.box[2] and previous.box[0] < line.box[2]
    gap = line.box[1] - previous.box[3]
    return (line.text[:1] in _BULLETS or high > _SAME_HEIGHT * low or not overlaps
            or not -low < gap <= _PARAGRAPH_GAP * low)


def _kind(lines: list[OcrLine], usual: float) -> str:
    text = " ".join(line.text for line in lines)
    if text[:1] in _BULLETS and len(text) > 1:
        return "list_item"
    heading = (len(lines) <= _HEADING_MAX_LINES and len(text.split()) <= _HEADING_MAX_WORDS
               and min(line.height for line in lines) >= _HEADING_HEIGHT * usual
               and any(char.isalpha() for char in text) and text[-1] not in ".,;")
    return "heading" if heading else "paragraph"
