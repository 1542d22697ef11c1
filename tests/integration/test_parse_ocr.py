"""OCR of images and scanned PDF pages, the ``ocr`` and ``pages`` options, and page blocks with boxes.

Inputs are small images of known text drawn with Pillow's bundled font, and PDFs made with fpdf2. Each
is parsed at most once per set of options (OCR is slow on a small machine).
"""

from __future__ import annotations

import functools
import io
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageOps

from bench.fidelity import score
from conveyor.errors import PermanentError
from conveyor.processors.parse import ParsedDocument, detect_media_type, parse_file
from conveyor.processors.parse.formats import HEAD_SIZE, PDF, TEXT
from tests.support.scans import encoded, scanned_pdf, text_boxes, text_image, text_pdf

LINES = ("Conveyor reads scanned pages", "Invoice 4711 is due in March")
OTHER_LINES = ("Second frame of the scan", "Harbor logistics shipped parcels")
TEXT_PAGES = (
    [("Quarterly Report", 24), ("Parcel volume grew by twelve percent in the first quarter. " * 6, 11)],
    [("Operations", 24), ("Returns processing remains the slowest step of the warehouse. " * 6, 11)],
    [("Outlook", 24), ("For the second quarter we expect volume to grow by another eight percent. " * 6, 11)],
)
_folder: Path | None = None


@pytest.fixture(scope="module", autouse=True)
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    global _folder
    folder = tmp_path_factory.mktemp("scans")
    first, second = text_image(LINES), text_image(OTHER_LINES)
    (folder / "scan.png").write_bytes(encoded(first, "PNG"))
    (folder / "scan.jpg").write_bytes(encoded(first, "JPEG", quality=90))
    (folder / "scan.webp").write_bytes(encoded(first, "WEBP", lossless=True))
    (folder / "scan.gif").write_bytes(encoded(first, "GIF", save_all=True, append_images=[second]))
    (folder / "scan.tiff").write_bytes(encoded(first, "TIFF", save_all=True, append_images=[second]))
    (folder / "turned.png").write_bytes(encoded(first.rotate(90, expand=True), "PNG"))
    grey = first.convert("L")
    ink_only = Image.new("RGBA", first.size, (0, 0, 0, 0))
    ink_only.putalpha(ImageOps.invert(grey))
    (folder / "transparent.png").write_bytes(encoded(ink_only, "PNG"))
    (folder / "grey16.png").write_bytes(encoded(Image.fromarray(np.asarray(grey, dtype=np.uint16) * 257), "PNG"))
    (folder / "scan.pdf").write_bytes(scanned_pdf([first, second]))
    (folder / "text.pdf").write_bytes(text_pdf(TEXT_PAGES))
    for angle in (90, 180, 270):
        (folder / f"text-turned-{angle}.pdf").write_bytes(_turned(text_pdf(TEXT_PAGES[:1]), angle))
    _folder = folder
    return folder


def _turned(data: bytes, angle: int) -> bytes:
    pdf = pdfium.PdfDocument(data)
    pdf[0].set_rotation(angle)
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


@functools.cache
def _parse(name: str, **options: str) -> ParsedDocument:
    assert _folder is not None
    path = _folder / name
    with path.open("rb") as file:
        media_type = detect_media_type(path.name, file.read(HEAD_SIZE))
    return parse_file(path, media_type, options)


def _f1(expected: tuple[str, ...], actual: str) -> float:
    return score(" ".join(expected), actual).f1


@pytest.mark.parametrize("name", ["scan.png", "scan.jpg", "scan.webp", "scan.gif", "turned.png", "transparent.png",
                                  "grey16.png"])
def test_images_are_read_by_ocr(name: str) -> None:
    document = _parse(name)
    assert _f1(LINES, document.markdown) >= 0.9
    assert len(document.pages) == 1  # a GIF gives its first frame only


def test_ocr_lines_of_an_image_have_pixel_boxes_around_the_text() -> None:
    page = _parse("scan.png").pages[0]
    assert (page["width"], page["height"]) == text_image(LINES).size
    blocks = page["blocks"]
    assert [block["type"] for block in blocks] == ["ocr_line", "ocr_line"]
    for block, drawn in zip(blocks, text_boxes(LINES), strict=True):
        assert _overlap(block["bbox"], drawn) >= 0.6
        assert 0.5 <= block["confidence"] <= 1


def test_a_quarter_turned_image_is_read_upright_with_boxes_where_it_stands() -> None:
    page = _parse("turned.png").pages[0]
    assert page["text"].startswith("Conveyor")
    for block in page["blocks"]:
        x0, y0, x1, y1 = block["bbox"]
        assert y1 - y0 > 3 * (x1 - x0)


def test_tiff_frames_are_pages() -> None:
    document = _parse("scan.tiff")
    assert [page["page"] for page in document.pages] == [1, 2]
    assert _f1(LINES, document.pages[0]["text"]) >= 0.9
    assert _f1(OTHER_LINES, document.pages[1]["text"]) >= 0.9
    assert [page["page"] for page in _parse("scan.tiff", pages="2").pages] == [2]


def test_ocr_off_leaves_an_image_empty_but_sized() -> None:
    page = _parse("scan.png", ocr="off").pages[0]
    assert (page["text"], page["blocks"]) == ("", [])
    assert page["width"] > 0


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header(50_000, 50_000))
    with pytest.raises(PermanentError, match="image is too large to decode"):
        parse_file(path, "image/png", {})


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels (its data is one empty row)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00"))
            + chunk(b"IEND", b""))


def test_scanned_pdf_pages_are_read_by_ocr_with_point_boxes() -> None:
    document = _parse("scan.pdf")
    assert _f1(LINES, document.pages[0]["text"]) >= 0.9
    assert _f1(OTHER_LINES, document.pages[1]["text"]) >= 0.9
    page = document.pages[0]
    assert (round(page["width"]), round(page["height"])) == (595, 842)
    image_width = text_image(LINES).width
    for block, drawn in zip(page["blocks"], text_boxes(LINES), strict=True):
        assert block["type"] == "ocr_line"
        in_points = tuple(value * page["width"] / image_width for value in drawn)
        assert _overlap(block["bbox"], in_points) >= 0.6


def test_ocr_off_skips_scanned_pages() -> None:
    document = _parse("scan.pdf", ocr="off")
    assert document.text == ""
    assert [(page["page"], page["blocks"]) for page in document.pages] == [(1, []), (2, [])]


def test_pages_with_a_text_layer_are_not_recognised_in_auto_mode() -> None:
    document = _parse("text.pdf")
    kinds = [block["type"] for page in document.pages for block in page["blocks"]]
    assert kinds == ["heading", "paragraph"] * 3
    assert document.pages[0]["blocks"][0] == {
        "type": "heading", "text": "Quarterly Report", "level": 1, "bbox": document.pages[0]["blocks"][0]["bbox"]}
    assert document.markdown.startswith("# Quarterly Report\n\nParcel volume grew")


def test_ocr_force_recognises_pages_with_text() -> None:
    forced = _parse("text.pdf", ocr="force", pages="1")
    assert {block["type"] for block in forced.pages[0]["blocks"]} == {"ocr_line"}
    assert score(_parse("text.pdf").pages[0]["text"], forced.pages[0]["text"]).f1 >= 0.9


@pytest.mark.parametrize("name", ["text.pdf", "text-turned-90.pdf", "text-turned-180.pdf", "text-turned-270.pdf"])
def test_text_layer_boxes_cover_the_ink_of_the_rendered_page(name: str) -> None:
    page = _parse(name).pages[0]
    assert _folder is not None
    pdf = pdfium.PdfDocument(_folder / name)
    ink = np.asarray(pdf[0].render(scale=1).to_pil().convert("L")) < 128
    pdf.close()
    assert ink.shape == (math.ceil(page["height"]), math.ceil(page["width"]))  # PDFium rounds pixels up
    covered = np.zeros_like(ink)
    for block in page["blocks"]:
        x0, y0, x1, y1 = (round(value) for value in block["bbox"])
        assert ink[y0:y1, x0:x1].mean() > 0.02, block["text"]
        covered[max(y0 - 3, 0):y1 + 3, max(x0 - 3, 0):x1 + 3] = True
    assert ink[~covered].sum() == 0


@pytest.mark.parametrize(("pages", "numbers"), [("1,3", [1, 3]), ("2-", [2, 3]), ("3-9", [3]), ("1-2,2", [1, 2])])
def test_page_range_picks_pages(pages: str, numbers: list[int]) -> None:
    document = _parse("text.pdf", pages=pages)
    assert [page["page"] for page in document.pages] == numbers
    assert document.markdown.count("\n# ") + document.markdown.startswith("# ") == len(numbers)


@pytest.mark.parametrize(("options", "message"), [
    ({"pages": "4-"}, "selects no page: the document has 3 page"),
    ({"pages": "two"}, "option 'pages' must be a page range"),
    ({"pages": "3-1"}, "not a range of page numbers"),
    ({"ocr": "always"}, "option 'ocr' must be one of auto, off, force"),
])
def test_bad_options_fail_the_file_clearly(options: dict[str, str], message: str) -> None:
    with pytest.raises(PermanentError, match=message):
        _parse("text.pdf", **options)


def test_bad_options_fail_other_formats_too(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(PermanentError, match="option 'ocr'"):
        parse_file(path, TEXT, {"ocr": "sometimes"})
    assert parse_file(path, TEXT, {"ocr": "off", "pages": "1"}).text == "hello"


def test_pdf_without_geometry_options_keeps_its_text(tmp_path: Path) -> None:
    path = tmp_path / "text.pdf"
    path.write_bytes(text_pdf(TEXT_PAGES[:1]))
    assert "Quarterly Report" in parse_file(path, PDF, {"ocr": "off"}).text


def _overlap(box: list[float] | tuple[float, ...], other: tuple[float, ...]) -> float:
    """Intersection over union of two ``(x0, y0, x1, y1)`` boxes."""
    width = min(box[2], other[2]) - max(box[0], other[0])
    height = min(box[3], other[3]) - max(box[1], other[1])
    if width <= 0 or height <= 0:
        return 0.0
    area = width * height
    return area / ((box[2] - box[0]) * (box[3] - box[1]) + (other[2] - other[0]) * (other[3] - other[1]) - area)
