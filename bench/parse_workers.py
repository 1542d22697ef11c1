"""Cost of parsing in worker processes: three designs on the same small files, against parsing in-process.

- ``in-process``: ``parse_element`` called directly, one file after another (the baseline: no isolation).
- ``executor``: a spawn-context ``ProcessPoolExecutor`` (the design before the limited pool; it cannot
  stop one stuck call without killing every worker).
- ``worker pool``: :class:`~conveyor.processors.workers.WorkerPool`, long-lived single-call workers with a
  memory limit, each killable alone (what the server uses).
- ``process per file``: a fresh limited worker for every file (perfect isolation, a start per file).

Each design parses N files (the sample documents, repeated) with ``--workers`` calls in flight; the
timings include starting the workers. Ratios are against the in-process baseline of the same run.

    python bench/parse_workers.py [--files 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conveyor.processors.parse.processor import WORKER_MODULES, parse_element
from conveyor.processors.workers import WorkerPool
from conveyor.samples import write_samples

OCTET_STREAM = "application/octet-stream"
MEMORY_LIMIT_MB = 2048


def in_process(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        parse_element(path, path.name, OCTET_STREAM, {})
    return time.perf_counter() - started


async def gated(files: list[Path], workers: int, parse: Callable[[Path], Awaitable[object]]) -> float:
    gate = asyncio.Semaphore(workers)

    async def one(path: Path) -> None:
        async with gate:
            await parse(path)

    started = time.perf_counter()
    await asyncio.gather(*(one(path) for path in files))
    return time.perf_counter() - started


async def executor(files: list[Path], workers: int) -> float:
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    loop = asyncio.get_running_loop()
    try:
        return await gated(files, workers, lambda path: loop.run_in_executor(
            pool, parse_element, path, path.name, OCTET_STREAM, {}))
    finally:
        pool.shutdown(wait=True)


async def worker_pool(files: list[Path], workers: int) -> float:
    pool = WorkerPool(workers, memory_limit_mb=MEMORY_LIMIT_MB, preload=WORKER_MODULES)
    try:
        return await gated(files, workers, lambda path: pool.run(
            parse_element, path, path.name, OCTET_STREAM, {}, time_limit=120))
    finally:
        pool.close()


async def process_per_file(files: list[Path], workers: int) -> float:
    async def fresh(path: Path) -> object:
        pool = WorkerPool(1, memory_limit_mb=MEMORY_LIMIT_MB, preload=WORKER_MODULES)
        try:
            return await pool.run(parse_element, path, path.name, OCTET_STREAM, {}, time_limit=120)
        finally:
            pool.close()

    return await gated(files, workers, fresh)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        samples = [p for p in write_samples(Path(folder)) if p.name != "broken.pdf"]
        files = list(itertools.islice(itertools.cycle(samples), args.files))
        base = in_process(files)
        timings = {"executor": asyncio.run(executor(files, args.workers)),
                   "worker pool": asyncio.run(worker_pool(files, args.workers)),
                   "process per file": asyncio.run(process_per_file(files, args.workers))}
    print(f"files: {len(files)} ({len(samples)} sample documents, repeated)  workers: {args.workers}")
    print(f"{'in-process (baseline)':24} {base:7.2f} s  {base / len(files) * 1000:7.1f} ms/file")
    for name, seconds in timings.items():
        print(f"{name:24} {seconds:7.2f} s  {seconds / len(files) * 1000:7.1f} ms/file  "
              f"ratio to baseline {seconds / base:6.2f}")
    print(f"worker pool / executor: {timings['worker pool'] / timings['executor']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
