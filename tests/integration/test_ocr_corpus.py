"""OCR over the shared corpus's scans (``docling/ocr``): word F1 against Docling's ground truth.

Files with ground truth must reach word F1 0.8 (``nemotron_multipage.pdf`` tops out near 0.88: its
ground truth keeps Docling's own misreadings of one page, such as "Bockktd" and "Markdowwn"). The
files without ground truth are held to passages read off the images by eye: most of their words must
come out. Every file is parsed once per module (OCR takes seconds a page on a small machine).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from bench.fidelity import ground_truth, score, words
from conveyor.processors.parse import ParsedDocument, detect_media_type, parse_file
from conveyor.processors.parse.formats import HEAD_SIZE
from tests.support.corpus import corpus_dir

F1_FLOOR = 0.8
PASSAGE_RECALL_FLOOR = 0.9
PASSAGES = {
    "qr_bill_example.jpg": (
        "Fictitious example for illustration purposes. Ms Pia Rutschmann Marktgasse 28 9400 Rorschach. "
        "Robert Schneider AG Rue du Lac 1268 2501 Biel. Dear Ms. Rutschmann, We are billing you as follows "
        "for completion of the assigned activities: Bill no. 3139. Item Description Amount Individual price "
        "Total. Garden work. Disposal of cuttings. Thank you for the assignment. Please pay the bill amount "
        "within 30 days. Yours sincerely, Robert Schneider. Receipt. Payment part. Account / Payable to. "
        "Additional information. Currency Amount CHF. Acceptance point"
    ),
    "old_newspaper.png": (
        "French Institute Creates A French Community At OU. Arnold Rexall Pharmacy. Prescriptions Cosmetics "
        "Sundry Items. CLASSIFIED ADS. MITZELFELD'S ROCHESTER. HILLS THEATRE. FIRST TIME AT POPULAR PRICES! "
        "Dairy Queen. DO YOU HAVE A FULL HOUSE? M.G.M. Cleaners, Inc. In Business for 21 Years. "
        "R. B. DUNLOP TIRE SALES. The Oakland Observer. Page Four"
    ),
    "sample_with_rotation_mismatch.pdf": (
        "THE SLEREXE COMPANY LIMITED. Dear Pete, Permit me to introduce you to the facility of facsimile "
        "transmission. In facsimile a photocell is caused to perform a raster scan over the subject copy. "
        "Probably you have uses for this facility in your organisation. Yours sincerely, "
        "Group Leader - Facsimile Research"
    ),
}


def _scans() -> list[Path]:
    folder = corpus_dir() / "docling" / "ocr"
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.suffix.lower() in (".pdf", ".png", ".jpg"))


@functools.cache
def _parsed(path: Path) -> ParsedDocument:
    with path.open("rb") as file:
        media_type = detect_media_type(path.name, file.read(HEAD_SIZE))
    return parse_file(path, media_type, {})


def _passage_recall(passage: str, markdown: str) -> float:
    found = set(words(markdown))
    wanted = words(passage)
    return sum(1 for word in wanted if word in found) / len(wanted)


def test_the_ocr_corpus_is_there() -> None:
    scans = _scans()
    assert scans, f"no OCR corpus under {corpus_dir()}"
    assert all(ground_truth(path) is not None or path.name in PASSAGES for path in scans)


@pytest.mark.parametrize("path", _scans(), ids=lambda path: path.name)
def test_scan_is_read_faithfully(path: Path) -> None:
    document = _parsed(path)
    assert [page["page"] for page in document.pages] == list(range(1, len(document.pages) + 1))
    truth = ground_truth(path)
    if truth is not None:
        assert score(truth.read_text(encoding="utf-8"), document.markdown).f1 >= F1_FLOOR
    else:
        assert _passage_recall(PASSAGES[path.name], document.markdown) >= PASSAGE_RECALL_FLOOR


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotated_scan_lines_lie_as_the_page_is_displayed(angle: int) -> None:
    path = corpus_dir() / "docling" / "ocr" / f"ocr_test_rotated_{angle}.pdf"
    if not path.is_file():
        pytest.skip("rotated scans missing")
    page = _parsed(path).pages[0]
    lines = [block for block in page["blocks"] if block["type"] == "ocr_line"]
    assert lines[0]["text"].startswith("Docling bundles")
    for block in lines:
        x0, y0, x1, y1 = block["bbox"]
        assert 0 <= x0 < x1 <= page["width"] and 0 <= y0 < y1 <= page["height"]
        # the text runs down (or up) the displayed page when the page shows it turned by a quarter
        assert ((y1 - y0) > (x1 - x0)) == (angle != 180 and len(block["text"]) > 3)
