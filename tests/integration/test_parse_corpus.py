"""Parsing the shared corpus: text fidelity against Docling's ground truth, and robustness.

Fidelity is word F1 from ``bench.fidelity`` (the measure ``bench/parse_quality.py`` reports): the words of
our markdown against the ground truth's, markdown syntax stripped, lowercased, counted as multisets. Floors
sit a little below what the parser reaches; the per-file notes name what is knowingly missed.
"""

from __future__ import annotations

import functools
import io
import random
import statistics
import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest

from bench.fidelity import ground_truth, score, scored_files
from conveyor.errors import PermanentError
from conveyor.processors.parse import ParsedDocument, detect_media_type, parse_file
from conveyor.processors.parse.formats import DOCX, HEAD_SIZE, HTML, PDF, PPTX, XLSX
from tests.support.corpus import corpus_dir

FORMATS = ("pdf", "docx", "pptx", "xlsx", "html", "md", "csv")
# Lowest word F1 of any one file, and lowest mean word F1, per format (measured: pdf 0.839 / 0.955,
# docx 0.829 / 0.977, pptx 0.862 / 0.967, xlsx 0.839 / 0.984, html 0.857 / 0.970, md 0.917 / 0.990,
# csv 1.0 / 1.0).
FILE_FLOOR = {"pdf": 0.8, "docx": 0.8, "pptx": 0.83, "xlsx": 0.8, "html": 0.83, "md": 0.9, "csv": 0.98}
MEAN_FLOOR = {"pdf": 0.95, "docx": 0.96, "pptx": 0.95, "xlsx": 0.97, "html": 0.95, "md": 0.98, "csv": 0.99}
KNOWN_GAPS = {
    "hyperlink_02.html": 0.35,  # a one-word ground truth; the page's image alt text is kept here
}


def _source_files(fmt: str) -> list[Path]:
    return scored_files(corpus_dir() / "docling" / fmt)


def _parse(path: Path) -> ParsedDocument:
    with path.open("rb") as file:
        media_type = detect_media_type(path.name, file.read(HEAD_SIZE))
    return parse_file(path, media_type, {})


@functools.cache
def _file_f1(path: Path) -> float:
    truth = ground_truth(path)
    assert truth is not None
    return score(truth.read_text(encoding="utf-8"), _parse(path).markdown).f1


@pytest.mark.parametrize("path", [path for fmt in FORMATS for path in _source_files(fmt)],
                         ids=lambda path: f"{path.parent.name}/{path.name}")
def test_corpus_file_parses_with_high_word_f1(path: Path) -> None:
    document = _parse(path)
    assert document.markdown.strip()
    assert document.text.strip()
    assert [page["page"] for page in document.pages] == list(range(1, len(document.pages) + 1))
    floor = KNOWN_GAPS.get(path.name, FILE_FLOOR[path.parent.name])
    assert _file_f1(path) >= floor


@pytest.mark.parametrize("fmt", FORMATS)
def test_mean_word_f1_per_format(fmt: str) -> None:
    files = _source_files(fmt)
    if not files:
        pytest.skip(f"no {fmt} corpus under {corpus_dir()}")
    assert statistics.mean(_file_f1(path) for path in files) >= MEAN_FLOOR[fmt]


def test_a_deck_has_a_page_per_slide() -> None:
    deck = corpus_dir() / "docling" / "pptx" / "powerpoint_sample.pptx"
    if not deck.is_file():
        pytest.skip("pptx sample missing")
    pages = _parse(deck).pages
    assert len(pages) == len(pptx.Presentation(str(deck)).slides) == 3
    assert pages[1]["text"].startswith("Second slide title")


def test_a_workbook_has_a_page_per_visible_sheet() -> None:
    workbook = corpus_dir() / "docling" / "xlsx" / "xlsx_01.xlsx"  # Sheet4 is hidden
    if not workbook.is_file():
        pytest.skip("xlsx sample missing")
    assert [page["text"].splitlines()[0] for page in _parse(workbook).pages] == ["Sheet1", "Sheet2", "Sheet3"]


def _pypdf_samples() -> list[Path]:
    folder = corpus_dir() / "pypdf-samples"
    return sorted(folder.glob("*.pdf")) if folder.is_dir() else []


@pytest.mark.parametrize("path", _pypdf_samples(), ids=lambda path: path.name)
def test_odd_pdfs_parse_or_fail_permanently(path: Path) -> None:
    try:
        document = parse_file(path, PDF, {})
    except PermanentError as e:
        if "password" in path.name:
            assert "password" in e.message
        return
    assert "password" not in path.name, "an encrypted PDF opened without its password"
    assert len(document.pages) >= 1


def test_encrypted_pdf_opens_with_its_password() -> None:
    path = corpus_dir() / "pypdf-samples" / "005-libreoffice-writer-password.pdf"
    if not path.is_file():
        pytest.skip("encrypted sample missing")
    assert "Lorem ipsum" in parse_file(path, PDF, {"password": "openpassword"}).text
    with pytest.raises(PermanentError, match="password given is wrong"):
        parse_file(path, PDF, {"password": "not-it"})


def _hostile_inputs() -> list[tuple[str, bytes, str]]:
    noise = random.Random(20240315).randbytes(4096)
    pdf_start = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pa"
    nested = b"<div>" * 10_000 + b"deep inside" + b"</div>" * 10_000
    return [
        ("empty.pdf", b"", PDF),
        ("empty.html", b"", HTML),
        ("truncated.pdf", pdf_start, PDF),
        ("noise.pdf", noise, PDF),
        ("noise.docx", noise, DOCX),
        ("empty-zip.docx", b"PK\x05\x06" + b"\x00" * 18, DOCX),
        ("nested.html", nested, HTML),
        ("unclosed.html", b"<table><tr><td><b><i>" * 5_000, HTML),
        ("noise.txt", noise, "text/plain"),
        ("noise.csv", noise, "text/csv"),
        ("noise.html", noise, HTML),
        ("quote.csv", b'"' + b"a" * 200_000, "text/csv"),
        ("deck.pptx", b"PK\x03\x04", PPTX),
        ("noise.pptx", noise, PPTX),
        ("noise.xlsx", noise, XLSX),
        ("empty-zip.xlsx", b"PK\x05\x06" + b"\x00" * 18, XLSX),
        ("docx-as.xlsx", _docx_bytes(), XLSX),
        ("bad-sheet.xlsx", _xlsx_with_sheet("<worksheet><sheetData><row r='1'><c r='A1'"), XLSX),
        ("huge-merge.xlsx", _xlsx_with_sheet(_sheet_xml(_cell(1, "A", "top"), merges=["A1:XFD1048576"])), XLSX),
        ("deep-groups.pptx", _deck_with_nested_groups(300), PPTX),
        ("noise.png", b"\x89PNG\r\n\x1a\n" + noise, "image/png"),
        ("noise.jpg", b"\xff\xd8\xff\xe0" + noise, "image/jpeg"),
        ("noise.webp", b"RIFF\x00\x10\x00\x00WEBPVP8 " + noise, "image/webp"),
        ("noise.tiff", b"II*\x00" + noise, "image/tiff"),
        ("noise.gif", b"GIF89a" + noise, "image/gif"),
    ]


_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _xlsx_with_sheet(sheet_xml: str) -> bytes:
    """A workbook written by openpyxl whose first worksheet's XML is replaced by ``sheet_xml``."""
    written = io.BytesIO()
    openpyxl.Workbook().save(written)
    patched = io.BytesIO()
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = sheet_xml.encode() if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            target.writestr(info.filename, data)
    return patched.getvalue()


def _cell(row: int, column: str, text: str) -> str:
    return f'<row r="{row}"><c r="{column}{row}" t="inlineStr"><is><t>{text}</t></is></c></row>'


def _sheet_xml(*rows: str, dimension: str = "A1", merges: tuple[str, ...] | list[str] = ()) -> str:
    merged = "".join(f'<mergeCell ref="{ref}"/>' for ref in merges)
    return (f'<worksheet xmlns="{_SHEET_NS}"><dimension ref="{dimension}"/><sheetData>{"".join(rows)}</sheetData>'
            + (f'<mergeCells count="{len(merges)}">{merged}</mergeCells>' if merges else "") + "</worksheet>")


def _docx_bytes() -> bytes:
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    return buffer.getvalue()


def _deck_with_nested_groups(depth: int) -> bytes:
    """A deck whose one slide holds a text box inside ``depth`` nested group shapes."""
    presentation = pptx.Presentation()
    shapes = presentation.slides.add_slide(presentation.slide_layouts[6]).shapes
    for _ in range(depth):
        shapes = shapes.add_group_shape().shapes
    shapes.add_textbox(0, 0, 100, 100).text_frame.text = "deep inside"
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data", "media_type"), _hostile_inputs(), ids=lambda value: str(value)[:20])
def test_hostile_input_parses_or_fails_permanently(tmp_path: Path, name: str, data: bytes,
                                                    media_type: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        document = parse_file(path, media_type, {})
    except PermanentError as e:
        assert e.message
        return
    assert isinstance(document.markdown, str)


def test_empty_file_message(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.touch()
    with pytest.raises(PermanentError, match="file is empty"):
        parse_file(path, PDF, {})


def test_deeply_nested_html_keeps_its_text(tmp_path: Path) -> None:
    path = tmp_path / "nested.html"
    path.write_bytes(b"<div>" * 10_000 + b"deep inside" + b"</div>" * 10_000)
    assert parse_file(path, HTML, {}).text == "deep inside"


def test_sheet_declaring_the_largest_size_costs_only_its_cells(tmp_path: Path) -> None:
    path = tmp_path / "inflated.xlsx"
    sheet = _sheet_xml(_cell(1, "A", "first"), _cell(1_048_576, "B", "last"), dimension="A1:XFD1048576")
    path.write_bytes(_xlsx_with_sheet(sheet))
    assert parse_file(path, XLSX, {}).markdown == "## Sheet\n\nfirst\n\nlast"


def test_sheet_with_too_many_cells_is_truncated_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    path.write_bytes(_xlsx_with_sheet(_sheet_xml(*(_cell(row, "XFD", f"v{row}") for row in range(1, 400)))))
    document = parse_file(path, XLSX, {})
    assert "This sheet is truncated" in document.markdown
    assert "v1" in document.text


def test_merged_range_over_the_whole_sheet_keeps_one_value(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    path.write_bytes(_xlsx_with_sheet(_sheet_xml(_cell(1, "A", "top"), merges=["A1:XFD1048576"])))
    assert parse_file(path, XLSX, {}).markdown == "## Sheet\n\ntop"


def test_deeply_nested_group_shapes_keep_their_text(tmp_path: Path) -> None:
    path = tmp_path / "groups.pptx"
    path.write_bytes(_deck_with_nested_groups(100))
    assert parse_file(path, PPTX, {}).text == "deep inside"


def test_unsupported_media_type(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(b'{"a": 1}')
    with pytest.raises(PermanentError, match="unsupported media type 'application/json'"):
        parse_file(path, "application/json", {})


def test_arabic_lam_alef_ligatures_come_out_in_logical_order() -> None:
    path = corpus_dir() / "docling" / "pdf" / "right_to_left_01.pdf"
    if not path.is_file():
        pytest.skip("Arabic sample missing")
    text = parse_file(path, PDF, {}).text
    assert "الإنتاجية" in text and "اإلنتاجية" not in text  # one ligature glyph, spelled lam then alef
    assert " الم" in text, "a real alef-lam (the article) stays as it is"
