"""The parse processor in real, limited worker processes."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from conveyor.errors import PermanentError, RetryableError
from conveyor.processors.base import ArtifactType, ItemInput
from conveyor.processors.parse.processor import WORKER_MODULES, ParseProcessor
from conveyor.processors.workers import WorkerPool
from conveyor.samples import write_samples
from tests.support import hostile


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {path.name: path for path in write_samples(tmp_path_factory.mktemp("samples"))}


@pytest.fixture(scope="module")
def slow_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file the HTML parser chews on for seconds: a 40,000-row table."""
    rows = "".join(f"<tr><td>{i}</td><td>{'cell ' * 20}</td></tr>" for i in range(40_000))
    path = tmp_path_factory.mktemp("slow") / "huge.html"
    path.write_text(f"<html><body><table>{rows}</table></body></html>")
    return path


@pytest.fixture(scope="module")
def shared_pool() -> Iterator[WorkerPool]:
    pool = WorkerPool(1, memory_limit_mb=2048, preload=WORKER_MODULES)
    yield pool
    pool.close()


@pytest.fixture
async def processor() -> AsyncIterator[ParseProcessor]:
    parser = ParseProcessor(WorkerPool(2, memory_limit_mb=2048, preload=WORKER_MODULES), time_limit=30)
    yield parser
    parser.close()


def _item(path: Path, media_type: str, element_id: str = "el_test") -> ItemInput:
    return ItemInput(element_id=element_id, name=path.name, media_type=media_type,
                     size=path.stat().st_size, path=path)


async def test_pdf_becomes_markdown_text_and_pages(shared_pool: WorkerPool, samples: dict[str, Path]) -> None:
    item = _item(samples["quarterly-report.pdf"], "application/pdf")
    artifacts = await ParseProcessor(shared_pool).run(item, {})
    markdown, text, pages = artifacts
    assert (markdown.type, text.type, pages.type) == (ArtifactType.MARKDOWN, ArtifactType.TEXT, ArtifactType.JSON)
    assert pages.output_name("report.pdf") == "report.pdf.pages.json"
    assert b"## 1. Summary" in (markdown.data or b"")
    assert [page["page"] for page in json.loads(pages.data or b"")] == [1, 2, 3]


async def test_undeclared_media_type_is_detected(shared_pool: WorkerPool, samples: dict[str, Path]) -> None:
    item = _item(samples["invoice.pdf"], "application/octet-stream")
    markdown = (await ParseProcessor(shared_pool).run(item, {}))[0]
    assert b"INV-2024-0042" in (markdown.data or b"")


async def test_broken_file_fails_permanently(shared_pool: WorkerPool, samples: dict[str, Path]) -> None:
    with pytest.raises(PermanentError, match="not a valid PDF file"):
        await ParseProcessor(shared_pool).run(_item(samples["broken.pdf"], "application/pdf"), {})


def test_processor_errors_survive_pickling() -> None:
    for error in (PermanentError("PDF is encrypted", reason=4), RetryableError("busy", retry_after=2.5, a=1)):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert (copy.message, copy.context) == (error.message, error.context)
    assert pickle.loads(pickle.dumps(RetryableError(retry_after=2.5))).retry_after == 2.5


def test_the_time_limit_stops_short_of_the_item_limit() -> None:
    parser = ParseProcessor(WorkerPool(1), time_limit=120, item_timeout=600)
    assert parser.time_limit({}) == 120
    assert parser.time_limit({"timeout_seconds": 30}) == 24, "the agent's limit, less room to store outputs"
    assert parser.time_limit({"timeout_seconds": 1800}) == 1440, "an agent may allow more than the default"
    assert ParseProcessor(WorkerPool(1), time_limit=120, item_timeout=60).time_limit({}) == 48
    parser.close()


async def test_a_slow_file_fails_for_good_and_its_neighbour_finishes(
        processor: ParseProcessor, slow_html: Path, samples: dict[str, Path]) -> None:
    """The file over its time limit has its worker killed; the file parsing on the other worker is not
    disturbed, and the next file gets a fresh worker."""
    neighbour = asyncio.create_task(processor.run(_item(slow_html, "text/html", "el_neighbour"), {}))
    await asyncio.sleep(0.2)
    with pytest.raises(PermanentError, match=r"^parsing took longer than 0\.8 s$"):
        await processor.run(_item(slow_html, "text/html", "el_slow"), {"timeout_seconds": 1})
    survivors = processor.workers.pids
    assert len(survivors) == 1
    markdown = (await neighbour)[0]
    assert markdown.data and b"39999" in markdown.data
    assert (await processor.run(_item(samples["invoice.pdf"], "application/pdf"), {}))[0].data


async def test_running_out_of_memory_fails_with_the_limit(processor: ParseProcessor, tmp_path: Path) -> None:
    """A 40 MB CSV is a small file, but its parsed table needs far more than 100 MB."""
    path = tmp_path / "wide.csv"
    with path.open("w") as file:
        for row in range(200_000):
            file.write(",".join(f"r{row}c{column}" for column in range(20)) + "\n")
    with pytest.raises(PermanentError, match=r"^parser ran out of memory \(limit 100 MB\)$"):
        await processor.run(_item(path, "text/csv"), {"memory_limit_mb": 100})


async def test_a_native_crash_under_the_memory_limit_says_so(processor: ParseProcessor, tmp_path: Path) -> None:
    """PDFium aborts the process when an allocation fails: no MemoryError, only a signal."""
    with pytest.raises(RetryableError, match=r"parser worker crashed \(it was killed by SIG[A-Z]+, perhaps out of "
                                             r"memory \(limit 300 MB\)\)"):
        await processor.run(_item(hostile.pdf_bomb(tmp_path), "application/pdf"), {"memory_limit_mb": 300})


async def test_a_worker_crash_is_retryable_once_then_permanent(
        processor: ParseProcessor, slow_html: Path, samples: dict[str, Path]) -> None:
    """A parser killed from outside (as the kernel's OOM killer would) twice on the same file."""
    for expected in (RetryableError, PermanentError):
        parse = asyncio.create_task(processor.run(_item(slow_html, "text/html", "el_crashy"), {}))
        while not processor.workers.pids:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        os.kill(processor.workers.pids[0], signal.SIGKILL)
        with pytest.raises(expected, match="killed by SIGKILL") as caught:
            await parse
    assert "crashed on this file twice" in caught.value.message
    assert (await processor.run(_item(samples["invoice.pdf"], "application/pdf", "el_crashy"), {}))[0].data


async def test_a_cancelled_item_stops_its_worker(processor: ParseProcessor, slow_html: Path) -> None:
    """The item's own time limit ran out (or its run was cancelled) while the file was parsing."""
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(processor.run(_item(slow_html, "text/html"), {}), timeout=1)
    await asyncio.sleep(0.2)
    assert processor.workers.pids == []


async def test_formats_option_picks_the_artifacts(shared_pool: WorkerPool, samples: dict[str, Path]) -> None:
    item = _item(samples["quarterly-report.pdf"], "application/pdf")
    artifacts = await ParseProcessor(shared_pool).run(item, {"formats": ["pages", "markdown"]})
    assert [artifact.type for artifact in artifacts] == [ArtifactType.MARKDOWN, ArtifactType.JSON]
    pages = json.loads(artifacts[1].data or b"")
    assert {block["type"] for page in pages for block in page["blocks"]} >= {"heading", "paragraph"}
    assert all(len(block["bbox"]) == 4 for page in pages for block in page["blocks"])


@pytest.mark.parametrize("options", [{"formats": ["markdown", "docx"]}, {"formats": []}, {"ocr": "maybe"}])
async def test_bad_options_fail_before_any_parsing(shared_pool: WorkerPool, samples: dict[str, Path],
                                                   options: dict[str, object]) -> None:
    with pytest.raises(PermanentError, match=r"option '(formats|ocr)'"):
        await ParseProcessor(shared_pool).run(_item(samples["invoice.pdf"], "application/pdf"), options)
