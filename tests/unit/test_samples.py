"""The demo sample documents: every one parses, except the one that is broken on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.errors import PermanentError
from conveyor.processors.parse import detect_media_type, parse_file
from conveyor.processors.parse.formats import CSV, DOCX, HEAD_SIZE, HTML, MARKDOWN, PDF, PNG, PPTX, TEXT, XLSX
from conveyor.samples import write_samples


def _media_type(path: Path) -> str:
    with path.open("rb") as file:
        return detect_media_type(path.name, file.read(HEAD_SIZE))


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_samples(tmp_path_factory.mktemp("samples"))


def test_one_of_each_format(samples: list[Path]) -> None:
    media_types = [_media_type(path) for path in samples]
    assert media_types.count(PDF) >= 3  # two good ones and broken.pdf
    assert {DOCX, PPTX, XLSX, PNG, HTML, MARKDOWN, CSV, TEXT} <= set(media_types)
    assert all(path.stat().st_size > 0 for path in samples)


def test_all_but_the_broken_one_parse(samples: list[Path]) -> None:
    for path in samples:
        if path.name == "broken.pdf":
            continue
        document = parse_file(path, _media_type(path), {})
        assert document.markdown.strip(), path.name
        assert document.text.strip(), path.name


def test_broken_pdf_fails_permanently(samples: list[Path]) -> None:
    (broken,) = [path for path in samples if path.name == "broken.pdf"]
    with pytest.raises(PermanentError, match="not a valid PDF"):
        parse_file(broken, PDF, {})


def test_invoice_carries_the_fields_a_demo_extracts(samples: list[Path]) -> None:
    (invoice,) = [path for path in samples if path.name == "invoice.pdf"]
    text = parse_file(invoice, PDF, {}).text
    for field in ("Northwind Office Supply Co.", "INV-2024-0042", "2024-03-15", "Total due: GBP 1,733.28"):
        assert field in text


def test_report_has_pages_and_headings(samples: list[Path]) -> None:
    (report,) = [path for path in samples if path.name == "quarterly-report.pdf"]
    document = parse_file(report, PDF, {})
    assert len(document.pages) == 3
    assert "## 2. Operations" in document.markdown


def test_docx_has_heading_list_and_table(samples: list[Path]) -> None:
    (notes,) = [path for path in samples if path.suffix == ".docx"]
    markdown = parse_file(notes, DOCX, {}).markdown
    assert "# Project Atlas kick-off meeting" in markdown
    assert "- The first release ships on 30 June 2024." in markdown
    assert "| Dana Whitfield | Collect 200 sample invoices | 2024-03-22 |" in markdown


def test_samples_are_reproducible(tmp_path: Path, samples: list[Path]) -> None:
    again = write_samples(tmp_path / "again")
    assert [path.name for path in again] == [path.name for path in samples]
    for first, second in zip(samples, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_deck_sheet_and_scan_read_back(samples: list[Path]) -> None:
    by_name = {path.name: path for path in samples}
    deck = parse_file(by_name["roadmap.pptx"], PPTX, {}).markdown
    assert "# Milestones" in deck and "  - Pilot with 200 invoices" in deck and "Dates depend on" in deck
    sheet = parse_file(by_name["budget.xlsx"], XLSX, {}).markdown
    assert "| Training | 0 | 2500 | 0 | 500 |" in sheet
    receipt = parse_file(by_name["scanned-receipt.png"], PNG, {}).text
    assert "TOTAL 6.30" in receipt and "2024-03-15" in receipt
