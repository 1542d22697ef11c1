"""PPTX and XLSX parsing on small files written here with python-pptx and openpyxl."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pptx
import pytest
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.util import Inches

from conveyor.errors import PermanentError
from conveyor.processors.parse import parse_file
from conveyor.processors.parse.formats import PPTX, XLSM, XLSX
from conveyor.processors.parse.sheet_layout import sheet_blocks
from conveyor.processors.parse.xlsx import cell_text

_TITLE_AND_CONTENT, _TITLE_ONLY, _BLANK = 1, 5, 6


def _save_deck(presentation: object, tmp_path: Path) -> Path:
    path = tmp_path / "deck.pptx"
    presentation.save(str(path))  # type: ignore[attr-defined]
    return path


def test_slide_title_and_nested_bullets(tmp_path: Path) -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[_TITLE_AND_CONTENT])
    slide.shapes.title.text = "Plan"
    body = slide.placeholders[1].text_frame
    body.text = "Goals"
    for text, level in (("Speed", 1), ("Parsing", 2), ("Quality", 1), ("Risks", 0)):
        paragraph = body.add_paragraph()
        paragraph.text, paragraph.level = text, level
    markdown = parse_file(_save_deck(presentation, tmp_path), PPTX, {}).markdown
    assert markdown == "<!-- Slide 1 -->\n\n# Plan\n\n- Goals\n  - Speed\n    - Parsing\n  - Quality\n- Risks"


def test_text_boxes_without_bullets_are_paragraphs_and_numbering_is_kept(tmp_path: Path) -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[_BLANK])
    frame = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(2)).text_frame
    frame.text = "Steps:"
    for text in ("Open", "Close"):
        paragraph = frame.add_paragraph()
        paragraph.text = text
        properties = paragraph._p.get_or_add_pPr()
        properties.append(properties.makeelement(
            "{http://schemas.openxmlformats.org/drawingml/2006/main}buAutoNum", {"type": "arabicPeriod"}))
    markdown = parse_file(_save_deck(presentation, tmp_path), PPTX, {}).markdown
    assert markdown.endswith("Steps:\n\n1. Open\n2. Close")


def test_reading_order_is_by_rows_then_left_to_right(tmp_path: Path) -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[_BLANK])
    for text, left, top in (("below", 1, 4), ("right", 5, 1.1), ("left", 1, 1)):
        slide.shapes.add_textbox(Inches(left), Inches(top), Inches(3), Inches(1)).text_frame.text = text
    assert parse_file(_save_deck(presentation, tmp_path), PPTX, {}).text == "left\n\nright\n\nbelow"


def test_notes_table_with_merged_cells_and_chart(tmp_path: Path) -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[_TITLE_ONLY])
    slide.shapes.title.text = "Results"
    table = slide.shapes.add_table(2, 3, Inches(1), Inches(2), Inches(6), Inches(1)).table
    table.cell(0, 0).merge(table.cell(0, 1))
    for (row, column), text in {(0, 0): "Both", (0, 2): "C", (1, 0): "1", (1, 1): "2", (1, 2): "3"}.items():
        table.cell(row, column).text = text
    data = CategoryChartData()
    data.categories = ["Q1", "Q2"]
    data.add_series("Sales", (10.5, 20))
    chart = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(4), Inches(4), Inches(3),
                                   data).chart
    chart.has_title = True
    chart.chart_title.text_frame.text = "Sales by quarter"
    slide.notes_slide.notes_text_frame.text = "Say it slowly."
    document = parse_file(_save_deck(presentation, tmp_path), PPTX, {})
    assert "| Both | Both | C |\n| --- | --- | --- |\n| 1 | 2 | 3 |" in document.markdown
    assert "Chart: Sales by quarter\n\n|  | Sales |\n| --- | --- |\n| Q1 | 10.5 |\n| Q2 | 20 |" in document.markdown
    assert document.markdown.endswith("Notes:\n\nSay it slowly.")


def test_a_page_per_slide_even_an_empty_one(tmp_path: Path) -> None:
    presentation = pptx.Presentation()
    for title in ("One", None, "Three"):
        slide = presentation.slides.add_slide(presentation.slide_layouts[_TITLE_ONLY if title else _BLANK])
        if title:
            slide.shapes.title.text = title
    pages = parse_file(_save_deck(presentation, tmp_path), PPTX, {}).pages
    assert [(p["page"], p["text"]) for p in pages] == [(1, "One"), (2, ""), (3, "Three")]
    assert [p["markdown"].splitlines()[0] for p in pages] == [f"<!-- Slide {n} -->" for n in (1, 2, 3)]


def test_a_deck_without_slides_fails_permanently(tmp_path: Path) -> None:
    with pytest.raises(PermanentError, match="no slides"):
        parse_file(_save_deck(pptx.Presentation(), tmp_path), PPTX, {})


def _save_workbook(workbook: openpyxl.Workbook, tmp_path: Path, name: str = "book.xlsx") -> Path:
    path = tmp_path / name
    workbook.save(path)
    return path


def test_sheet_with_a_title_and_two_tables_apart(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Report"
    sheet["B2"] = "Quarterly figures"
    sheet.merge_cells("B2:C2")
    for row in (("Year", "Sales"), (2023, 1.5), (2024, 2.0)):
        sheet.append([None, *row])
    sheet["F3"], sheet["G3"], sheet["F4"], sheet["G4"] = "Region", "Lead", "North", "Ada"
    sheet["B8"], sheet["C8"], sheet["B9"], sheet["C9"] = "Note", "Owner", "draft", "me"
    markdown = parse_file(_save_workbook(workbook, tmp_path), XLSX, {}).markdown
    assert markdown == (
        "## Report\n\nQuarterly figures\n\n"
        "| Year | Sales |\n| --- | --- |\n| 2023 | 1.5 |\n| 2024 | 2 |\n\n"
        "| Region | Lead |\n| --- | --- |\n| North | Ada |\n\n"
        "| Note | Owner |\n| --- | --- |\n| draft | me |"
    )


def test_tables_touching_at_a_corner_come_apart(tmp_path: Path) -> None:
    cells = {(1, 1): "a", (1, 2): "b", (2, 1): "1", (2, 2): "2", (3, 3): "c", (3, 4): "d", (4, 3): "3", (4, 4): "4"}
    assert [block.markdown.splitlines()[0] for block in sheet_blocks(cells)] == ["| a | b |", "| c | d |"]


def test_a_table_with_holes_stays_whole() -> None:
    cells = {(1, 1): "k", (1, 2): "v", (1, 3): "w", (2, 1): "x", (3, 2): "y", (3, 3): "z"}
    assert len(sheet_blocks(cells)) == 1


def test_a_sparse_diagonal_is_listed_cell_by_cell() -> None:
    blocks = sheet_blocks({(index, index): f"v{index}" for index in range(1, 301)})
    assert len(blocks) == 1
    assert blocks[0].markdown.startswith("- A1: v1\n- B2: v2\n")


def test_sheets_are_pages_hidden_ones_skipped_with_charts_and_comments(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    data = workbook.active
    data.title = "Data"
    for row in (("Month", "Visits"), ("Jan", 10), ("Feb", 12)):
        data.append(row)
    data["B2"].comment = Comment("Estimated", "Ann")
    chart = BarChart()
    chart.title = "Visits per month"
    chart.add_data(Reference(data, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    chart.set_categories(Reference(data, min_col=1, min_row=2, max_row=3))
    data.add_chart(chart, "E2")
    workbook.create_sheet("Secret")["A1"] = "hidden value"
    workbook["Secret"].sheet_state = "hidden"
    workbook.create_sheet("Empty")
    document = parse_file(_save_workbook(workbook, tmp_path, "book.xlsm"), XLSM, {})
    assert [page["text"].splitlines()[0] for page in document.pages] == ["Data", "Empty"]
    assert "hidden value" not in document.markdown
    assert "Chart: Visits per month\n\n|  | Visits |\n| --- | --- |\n| Jan | 10 |\n| Feb | 12 |" in document.markdown
    assert "Comments:\n\n- B2 (Ann): Estimated" in document.markdown


def test_cell_values_as_text() -> None:
    assert cell_text(3.0) == "3"
    assert cell_text(0.1 + 0.2) == "0.3"
    assert cell_text(True) == "TRUE"
    assert cell_text(dt.datetime(2024, 1, 2, 0, 0), "yyyy-mm-dd") == "2024-01-02"
    assert cell_text(dt.datetime(2024, 1, 2, 9, 30), "yyyy-mm-dd h:mm") == "2024-01-02 09:30:00"
    assert cell_text(dt.datetime(2024, 1, 2), '"hours:" yyyy') == "2024-01-02"  # quoted text is no time code
    assert cell_text("  padded ") == "padded"


@pytest.mark.parametrize(("fmt", "media_type"), [("xlsx", XLSX), ("pptx", PPTX)])
def test_office_files_parse_from_paths_without_an_extension(tmp_path: Path, fmt: str, media_type: str) -> None:
    """Stored blobs are named by their hash, with no extension to go by."""
    path = tmp_path / "0f3a9c"
    if fmt == "xlsx":
        workbook = openpyxl.Workbook()
        workbook.active.append(["name", "amount"])
        workbook.active.append(["widgets", 12])
        workbook.save(path)
    else:
        deck = pptx.Presentation()
        deck.slides.add_slide(deck.slide_layouts[0]).shapes.title.text = "widgets 12"
        deck.save(str(path))
    assert "widgets" in parse_file(path, media_type, {}).text
