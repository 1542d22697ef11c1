"""Address space of a parse worker after OCR, with and without the worker pool's memory settings.

``CONVEYOR_PARSE_MEMORY_LIMIT_MB`` caps a worker's address space (``RLIMIT_AS``), which counts reserved,
not resident, memory. This runs rapidocr-onnxruntime in a real worker on a scanned image and on a PDF
page rendered at 300 dpi and prints the worker's peak address space (``VmPeak``) and resident high-water
mark (``VmHWM``), once in a pool worker (malloc arenas capped, under the default limit) and once in a
plain interpreter (the baseline: what the same OCR reserves without the cap).

    python bench/worker_memory.py
"""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conveyor.processors.parse.processor import WORKER_MODULES
from conveyor.processors.workers import WorkerPool
from conveyor.settings import Settings
from tests.support.corpus import corpus_dir

SCAN = corpus_dir() / "docling" / "ocr" / "old_newspaper.png"
PDF = corpus_dir() / "docling" / "ocr" / "nemotron_multipage.pdf"


def memory() -> dict[str, int]:
    """This process's VmPeak, VmSize, VmHWM and VmRSS in MB."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmPeak", "VmSize", "VmHWM", "VmRSS"):
                found[key] = int(value.split()[0]) // 1024
    return found


def ocr(kind: str) -> dict[str, Any]:
    """OCR of the scan or of the PDF's first page at 300 dpi; the boxes found and the memory after."""
    from rapidocr_onnxruntime import RapidOCR

    if kind == "scan":
        image: Any = str(SCAN)
    else:
        import pypdfium2 as pdfium

        image = pdfium.PdfDocument(str(PDF))[0].render(scale=300 / 72).to_numpy()
    boxes, _ = RapidOCR()(image)
    return {"boxes": len(boxes or []), **memory()}


async def in_worker(kind: str, limit_mb: int) -> dict[str, Any]:
    pool = WorkerPool(1, memory_limit_mb=limit_mb, preload=WORKER_MODULES)
    try:
        return dict(await pool.run(_this_module().ocr, kind, time_limit=300))
    finally:
        pool.close()


def plain(kind: str) -> str:
    code = f"import sys; sys.path[:] = {sys.path!r}; from bench.worker_memory import ocr; print(ocr({kind!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def main() -> int:
    limit = Settings().parse_memory_limit_mb
    idle = asyncio.run(_idle(limit))
    print(f"pool worker, idle:                     {idle}")
    for kind in ("scan", "page"):
        print(f"pool worker ({limit} MB limit), OCR {kind}: {asyncio.run(in_worker(kind, limit))}")
        print(f"plain interpreter, OCR {kind}:            {plain(kind)}")
    return 0


async def _idle(limit_mb: int) -> dict[str, int]:
    pool = WorkerPool(1, memory_limit_mb=limit_mb, preload=WORKER_MODULES)
    try:
        return dict(await pool.run(_this_module().memory))
    finally:
        pool.close()


def _this_module() -> Any:
    """This module under its importable name: a worker cannot find functions of a script's ``__main__``."""
    return importlib.import_module("bench.worker_memory")


if __name__ == "__main__":
    sys.exit(main())
