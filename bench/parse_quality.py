"""Parse quality: Conveyor's ``parse`` against MarkItDown on the Docling corpus, scored in the same run.

Every file under ``../shared/corpus/docling/<format>/`` that has ground truth is converted by
:func:`conveyor.processors.parse.parse_file` and by ``MarkItDown().convert(path)``, and both markdowns
are scored against the ground truth with :mod:`bench.fidelity` (word F1 and edit similarity). A file
either converter fails on scores 0, and the reason is printed.

    python bench/parse_quality.py [--formats pdf,docx,...] [--corpus DIR]

Targets, on mean word F1 per format: Conveyor ≥ MarkItDown everywhere, ≥ MarkItDown + 0.05 wherever
MarkItDown is under 0.95, and ≥ 0.95 for PDF. The ``ocr`` folder is reported as pending while the parser
reads no images. Exits non-zero if any format fails its target.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench.fidelity import Score, ground_truth, score, scored_files  # noqa: E402  (the tree is importable now)
from conveyor.processors.parse import detect_media_type, parse_file  # noqa: E402
from conveyor.processors.parse.formats import HEAD_SIZE, PNG, is_supported  # noqa: E402

FORMATS = ("pdf", "docx", "pptx", "xlsx", "html", "csv", "md", "ocr")
MARGIN = 0.05  # the lead wanted over MarkItDown where MarkItDown is under HIGH_F1
HIGH_F1 = 0.95
ABSOLUTE_FLOOR = {"pdf": 0.95}
ZERO = Score(precision=0.0, recall=0.0, f1=0.0, edit_similarity=0.0)

Converter = Callable[[Path], str]


@dataclass(frozen=True)
class FileResult:
    name: str
    conveyor: Score
    markitdown: Score


@dataclass(frozen=True)
class FormatResult:
    fmt: str
    files: list[FileResult]
    conveyor_seconds: float
    markitdown_seconds: float

    def mean(self, tool: str, metric: str) -> float:
        return statistics.mean(getattr(getattr(result, tool), metric) for result in self.files)

    def target(self) -> float:
        """The mean F1 Conveyor must reach on this format."""
        baseline = self.mean("markitdown", "f1")
        wanted = baseline + MARGIN if baseline < HIGH_F1 else baseline
        return max(wanted, ABSOLUTE_FLOOR.get(self.fmt, 0.0))

    def verdict(self) -> str:
        if self.mean("conveyor", "f1") >= self.target() - 1e-9:
            return "PASS"
        return "pending OCR" if self.fmt == "ocr" and not is_supported(PNG) else "FAIL"


def conveyor_markdown(path: Path) -> str:
    with path.open("rb") as file:
        media_type = detect_media_type(path.name, file.read(HEAD_SIZE))
    return parse_file(path, media_type, {}).markdown


def markitdown_converter() -> Converter:
    from markitdown import MarkItDown

    converter = MarkItDown()
    return lambda path: str(converter.convert(str(path)).text_content)


def run_one(tool: str, convert: Converter, path: Path, expected: str) -> tuple[Score, float]:
    """The score of ``convert`` on ``path`` (0 on any failure, reason printed) and the seconds it took."""
    started = time.perf_counter()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            markdown = convert(path)
    except Exception as e:  # a converter failing on a file is a result (scored 0), not a crash
        reason = " ".join(f"{type(e).__name__}: {e}".split())
        print(f"  {tool} failed on {path.parent.name}/{path.name}: {reason}"[:300])
        return ZERO, time.perf_counter() - started
    return score(expected, markdown), time.perf_counter() - started


def run_format(fmt: str, folder: Path, markitdown: Converter) -> FormatResult | None:
    files, seconds = [], {"conveyor": 0.0, "markitdown": 0.0}
    for path in scored_files(folder):
        truth = ground_truth(path)
        assert truth is not None
        expected = truth.read_text(encoding="utf-8")
        ours, seconds_ours = run_one("Conveyor", conveyor_markdown, path, expected)
        theirs, seconds_theirs = run_one("MarkItDown", markitdown, path, expected)
        seconds["conveyor"] += seconds_ours
        seconds["markitdown"] += seconds_theirs
        files.append(FileResult(path.name, ours, theirs))
    if not files:
        return None
    return FormatResult(fmt, files, seconds["conveyor"], seconds["markitdown"])


def print_format(result: FormatResult) -> None:
    width = max(len(file.name) for file in result.files)
    print(f"\n{result.fmt} ({len(result.files)} files)")
    print(f"  {'file':<{width}}  {'Conveyor F1':>11} {'edit':>6}  {'MarkItDown F1':>13} {'edit':>6}")
    for file in result.files:
        print(f"  {file.name:<{width}}  {file.conveyor.f1:>11.3f} {file.conveyor.edit_similarity:>6.3f}"
              f"  {file.markitdown.f1:>13.3f} {file.markitdown.edit_similarity:>6.3f}")
    print(f"  {'mean':<{width}}  {result.mean('conveyor', 'f1'):>11.3f} "
          f"{result.mean('conveyor', 'edit_similarity'):>6.3f}  {result.mean('markitdown', 'f1'):>13.3f} "
          f"{result.mean('markitdown', 'edit_similarity'):>6.3f}")


def print_summary(results: Sequence[FormatResult]) -> None:
    print("\nSummary (mean word F1 and edit similarity; time = Conveyor seconds / MarkItDown seconds)")
    print(f"  {'format':<6} {'files':>5}  {'Conveyor F1':>11} {'edit':>6}  {'MarkItDown F1':>13} {'edit':>6}"
          f"  {'target F1':>9}  {'time':>6}  verdict")
    for result in results:
        ratio = result.conveyor_seconds / result.markitdown_seconds if result.markitdown_seconds else 0.0
        print(f"  {result.fmt:<6} {len(result.files):>5}  {result.mean('conveyor', 'f1'):>11.3f} "
              f"{result.mean('conveyor', 'edit_similarity'):>6.3f}  {result.mean('markitdown', 'f1'):>13.3f} "
              f"{result.mean('markitdown', 'edit_similarity'):>6.3f}  {result.target():>9.3f}  "
              f"{ratio:>5.2f}x  {result.verdict()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated format folders")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "docling")
    args = parser.parse_args()
    markitdown = markitdown_converter()
    results = []
    for fmt in args.formats.split(","):
        result = run_format(fmt, args.corpus / fmt, markitdown)
        if result is None:
            print(f"\n{fmt}: no files with ground truth under {args.corpus / fmt}")
            continue
        print_format(result)
        results.append(result)
    print_summary(results)
    return 1 if any(result.verdict() == "FAIL" for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
