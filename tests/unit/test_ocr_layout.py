"""Recognised text regions to lines and paragraphs in reading order, and page geometry of PDFs."""

from __future__ import annotations

import numpy as np
import pytest

from conveyor.processors.parse.ocr_layout import TextRegion, paragraphs
from conveyor.processors.parse.ocr_rotation import turned_box
from conveyor.processors.parse.pdf_geometry import PageFrame
from conveyor.processors.parse.text_join import join_lines

HEIGHT = 20.0


def _region(text: str, left: float, top: float, width: float | None = None, height: float = HEIGHT) -> TextRegion:
    box = (left, top, left + (width if width is not None else 10.0 * len(text)), top + height)
    return TextRegion(text=text, confidence=0.9, box=box, source=box)


def _column(left: float, lines: list[str], top: float = 100.0, step: float = 26.0) -> list[TextRegion]:
    return [_region(text, left, top + row * step, width=300) for row, text in enumerate(lines)]


def test_lines_of_a_paragraph_join_and_a_gap_starts_the_next() -> None:
    regions = [*_column(50, ["The first para-", "graph runs on"]), *_column(50, ["Second one"], top=190)]
    assert [p.text for p in paragraphs(regions)] == ["The first paragraph runs on", "Second one"]


def test_text_columns_are_read_one_after_the_other() -> None:
    left = _column(50, ["left one", "left two", "left three"])
    right = _column(380, ["right one", "right two", "right three"])
    title = [_region("Title across both columns", 50, 40, width=630)]
    found = paragraphs(title + right + left)  # the input order does not matter
    assert [p.text for p in found] == ["Title across both columns", "left one left two left three",
                                       "right one right two right three"]


def test_table_rows_stay_rows() -> None:
    cells = [_region(text, left, 100 + row * 40)
             for row, texts in enumerate([("Item", "Amount", "Total"), ("1", "28", "3360.00"), ("2", "1", "307.35")])
             for text, left in zip(texts, (50, 300, 550), strict=True)]
    text = " ".join(p.text for p in paragraphs(cells))
    assert text == "Item Amount Total 1 28 3360.00 2 1 307.35"


def test_pieces_of_one_row_make_one_line() -> None:
    found = paragraphs([_region("Total:", 300, 100), _region("CHF 3949.75", 400, 102)])
    assert [line.text for p in found for line in p.lines] == ["Total: CHF 3949.75"]


def test_large_short_lines_are_headings_and_bullets_list_items() -> None:
    regions = [_region("Big Title", 50, 40, height=40), *_column(50, ["body text one", "body text two"]),
               _region("• a point", 50, 200)]
    found = paragraphs(regions)
    assert [(p.kind, p.markdown) for p in found] == [
        ("heading", "## Big Title"), ("paragraph", "body text one body text two"), ("list_item", "- a point")]


def test_no_regions_no_paragraphs() -> None:
    assert paragraphs([]) == []


def test_join_lines_rejoins_hyphenated_words_only() -> None:
    joined = join_lines(["inter-", "national", "anti-", "Nazi", "soft\xad", "ware"])
    assert joined == "international anti- Nazi software"


@pytest.mark.parametrize(("turns", "expected"), [
    (0, (10.0, 20.0, 30.0, 25.0)), (1, (20.0, 70.0, 25.0, 90.0)), (2, (70.0, 25.0, 90.0, 30.0)),
    (3, (25.0, 10.0, 30.0, 30.0)),
])
def test_turned_box(turns: int, expected: tuple[float, ...]) -> None:
    quad = np.array([[10, 20], [30, 20], [30, 25], [10, 25]], dtype=np.float32)
    assert turned_box(quad, turns, width=100, height=50) == expected


@pytest.mark.parametrize(("rotation", "expected"), [
    (0, (10.0, 780.0, 110.0, 792.0)), (90, (0.0, 10.0, 12.0, 110.0)),
    (180, (502.0, 0.0, 602.0, 12.0)), (270, (780.0, 502.0, 792.0, 602.0)),
])
def test_page_frame_maps_page_space_to_the_displayed_page(rotation: int, expected: tuple[float, ...]) -> None:
    frame = PageFrame(left=0, bottom=0, width=612, height=792, rotation=rotation)
    assert frame.display_box(10, 0, 110, 12) == expected
    assert frame.size == ((792, 612) if rotation in (90, 270) else (612, 792))


def test_page_frame_honours_the_crop_box_origin() -> None:
    frame = PageFrame(left=100, bottom=50, width=400, height=600)
    assert frame.display_box(110, 60, 210, 70) == (10.0, 580.0, 110.0, 590.0)


def test_a_page_of_many_lines_is_laid_out_without_deep_recursion() -> None:
    """Widening gaps make the cut peel one line at a time: as many levels as lines."""
    regions, top = [], 0.0
    for row in range(1500):
        regions.append(_region(f"line {row}", 50, top, width=300))
        top += HEIGHT + 1 + row * 0.01
    found = paragraphs(regions)
    assert [line.text for p in found for line in p.lines][:3] == ["line 0", "line 1", "line 2"]
    assert sum(len(p.lines) for p in found) == 1500
