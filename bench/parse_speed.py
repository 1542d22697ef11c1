"""PDF parse speed: Conveyor's ``parse_file`` against raw pypdfium2 text extraction and MarkItDown.

All three read the same corpus PDFs (``../shared/corpus/docling/pdf/*.pdf``, or ``$CONVEYOR_CORPUS``) in
one process, in the same run; each repetition runs them one after the other, and the best repetition of
each counts (the least disturbed by other work on the machine). Conveyor runs with ``ocr: off``, so this
measures the text-layer path: paragraphs, headings, list items and their boxes. The raw baseline is
``page.get_textpage().get_text_range()`` for every page and nothing else.

    python bench/parse_speed.py [--repeat 3]

Targets: Conveyor at least 0.5x the pages/s of raw pypdfium2 and at least 10x MarkItDown's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import pypdfium2 as pdfium
from markitdown import MarkItDown

from conveyor.processors.parse import parse_file
from conveyor.processors.parse.formats import PDF

MIN_RATIO_TO_RAW = 0.5
MIN_RATIO_TO_MARKITDOWN = 10.0


def corpus_pdfs() -> list[Path]:
    override = os.environ.get("CONVEYOR_CORPUS")
    root = Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "corpus"
    return sorted((root / "docling" / "pdf").glob("*.pdf"))


def raw_pypdfium2(path: Path) -> None:
    pdf = pdfium.PdfDocument(str(path))
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
    finally:
        pdf.close()


def conveyor(path: Path) -> None:
    parse_file(path, PDF, {"ocr": "off"})


def markitdown(converter: MarkItDown) -> Callable[[Path], None]:
    def convert(path: Path) -> None:
        converter.convert(str(path))

    return convert


def page_count(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        pdf = pdfium.PdfDocument(str(path))
        total += len(pdf)
        pdf.close()
    return total


def timed(method: Callable[[Path], None], paths: list[Path]) -> float:
    started = time.perf_counter()
    for path in paths:
        method(path)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    paths = corpus_pdfs()
    if not paths:
        print("no corpus PDFs found (set CONVEYOR_CORPUS)")
        return 2
    pages = page_count(paths)
    methods: dict[str, Callable[[Path], None]] = {
        "raw pypdfium2": raw_pypdfium2, "conveyor": conveyor, "markitdown": markitdown(MarkItDown())}
    for method in methods.values():  # warm up: imports, font caches, first-call costs
        timed(method, paths[:1])
    best = {name: float("inf") for name in methods}
    for _ in range(args.repeat):
        for name, method in methods.items():
            best[name] = min(best[name], timed(method, paths))
    rate = {name: pages / seconds for name, seconds in best.items()}
    print(f"{len(paths)} PDFs, {pages} pages, best of {args.repeat}")
    for name in methods:
        print(f"{name:>14}: {best[name]:7.3f} s  {rate[name]:8.1f} pages/s")
    to_raw, to_markitdown = rate["conveyor"] / rate["raw pypdfium2"], rate["conveyor"] / rate["markitdown"]
    print(f"conveyor / raw pypdfium2: {to_raw:.2f}x (target >= {MIN_RATIO_TO_RAW}x)")
    print(f"conveyor / markitdown:    {to_markitdown:.1f}x (target >= {MIN_RATIO_TO_MARKITDOWN}x)")
    passed = to_raw >= MIN_RATIO_TO_RAW and to_markitdown >= MIN_RATIO_TO_MARKITDOWN
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
