"""The parse processor in a real spawn-context process pool."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import pickle
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from conveyor.errors import PermanentError, RetryableError
from conveyor.processors.base import ArtifactType, ItemInput
from conveyor.processors.parse.processor import ParseProcessor
from conveyor.samples import write_samples


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {path.name: path for path in write_samples(tmp_path_factory.mktemp("samples"))}


@pytest.fixture(scope="module")
def executor() -> Iterator[ProcessPoolExecutor]:
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


def _item(path: Path, media_type: str) -> ItemInput:
    return ItemInput(element_id="el_test", name=path.name, media_type=media_type,
                     size=path.stat().st_size, path=path)


async def test_pdf_becomes_markdown_text_and_pages(executor: ProcessPoolExecutor,
                                                   samples: dict[str, Path]) -> None:
    item = _item(samples["quarterly-report.pdf"], "application/pdf")
    artifacts = await ParseProcessor(lambda: executor).run(item, {})
    markdown, text, pages = artifacts
    assert (markdown.type, text.type, pages.type) == (ArtifactType.MARKDOWN, ArtifactType.TEXT, ArtifactType.JSON)
    assert pages.output_name("report.pdf") == "report.pdf.pages.json"
    assert b"## 1. Summary" in (markdown.data or b"")
    assert [page["page"] for page in json.loads(pages.data or b"")] == [1, 2, 3]


async def test_undeclared_media_type_is_detected(executor: ProcessPoolExecutor,
                                                 samples: dict[str, Path]) -> None:
    item = _item(samples["invoice.pdf"], "application/octet-stream")
    markdown = (await ParseProcessor(lambda: executor).run(item, {}))[0]
    assert b"INV-2024-0042" in (markdown.data or b"")


async def test_formats_option_picks_the_artifacts(executor: ProcessPoolExecutor,
                                                  samples: dict[str, Path]) -> None:
    item = _item(samples["quarterly-report.pdf"], "application/pdf")
    artifacts = await ParseProcessor(lambda: executor).run(item, {"formats": ["pages", "markdown"]})
    assert [artifact.type for artifact in artifacts] == [ArtifactType.MARKDOWN, ArtifactType.JSON]
    pages = json.loads(artifacts[1].data or b"")
    assert {block["type"] for page in pages for block in page["blocks"]} >= {"heading", "paragraph"}
    assert all(len(block["bbox"]) == 4 for page in pages for block in page["blocks"])


@pytest.mark.parametrize("options", [{"formats": ["markdown", "docx"]}, {"formats": []}, {"ocr": "maybe"}])
async def test_bad_options_fail_before_any_parsing(samples: dict[str, Path], options: dict[str, object]) -> None:
    def no_pool() -> ProcessPoolExecutor:
        raise AssertionError("a worker was asked to parse with bad options")

    with pytest.raises(PermanentError, match=r"option '(formats|ocr)'"):
        await ParseProcessor(no_pool).run(_item(samples["invoice.pdf"], "application/pdf"), options)


async def test_broken_file_fails_permanently(executor: ProcessPoolExecutor, samples: dict[str, Path]) -> None:
    with pytest.raises(PermanentError, match="not a valid PDF file"):
        await ParseProcessor(lambda: executor).run(_item(samples["broken.pdf"], "application/pdf"), {})


async def test_a_crashed_worker_is_retryable_and_the_pool_is_replaced(samples: dict[str, Path]) -> None:
    spawn = multiprocessing.get_context("spawn")
    pools = [ProcessPoolExecutor(max_workers=1, mp_context=spawn, initializer=os._exit, initargs=(3,)),
             ProcessPoolExecutor(max_workers=1, mp_context=spawn)]
    handed_out: list[ProcessPoolExecutor] = []

    def next_pool() -> ProcessPoolExecutor:
        handed_out.append(pools[len(handed_out)])
        return handed_out[-1]

    processor = ParseProcessor(next_pool)
    try:
        with pytest.raises(RetryableError, match="parser worker crashed"):
            await processor.run(_item(samples["invoice.pdf"], "application/pdf"), {})
        artifacts = await processor.run(_item(samples["invoice.pdf"], "application/pdf"), {})
        assert artifacts[0].data and len(handed_out) == 2, "the retry ran on a fresh pool"
    finally:
        processor.close()
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


def test_processor_errors_survive_pickling() -> None:
    for error in (PermanentError("PDF is encrypted", reason=4), RetryableError("busy", retry_after=2.5, a=1)):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert (copy.message, copy.context) == (error.message, error.context)
    assert pickle.loads(pickle.dumps(RetryableError(retry_after=2.5))).retry_after == 2.5


async def test_giving_up_on_a_slow_file_stops_its_worker(tmp_path: Path, samples: dict[str, Path]) -> None:
    """A file the parser chews on for long (a huge HTML table) is abandoned when the item's time runs out:
    the stuck worker is killed and the next item parses on a fresh pool."""
    rows = "".join(f"<tr><td>{i}</td><td>{'cell ' * 20}</td></tr>" for i in range(40_000))
    slow = tmp_path / "huge.html"
    slow.write_text(f"<html><body><table>{rows}</table></body></html>")
    spawn = multiprocessing.get_context("spawn")
    made: list[ProcessPoolExecutor] = []

    def new_pool() -> ProcessPoolExecutor:
        made.append(ProcessPoolExecutor(max_workers=1, mp_context=spawn))
        return made[-1]

    processor = ParseProcessor(new_pool)
    try:
        await processor.run(_item(samples["onboarding.md"], "text/markdown"), {})  # the worker is up
        workers = list(made[0]._processes.values())
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(processor.run(_item(slow, "text/html"), {}), timeout=0.5)
        for worker in workers:
            worker.join(timeout=10)
            assert not worker.is_alive(), "the stuck worker was killed"
        markdown = (await processor.run(_item(samples["invoice.pdf"], "application/pdf"), {}))[0]
        assert markdown.data and len(made) == 2, "the next item ran on a fresh pool"
    finally:
        processor.close()
        for pool in made:
            pool.shutdown(wait=True, cancel_futures=True)
