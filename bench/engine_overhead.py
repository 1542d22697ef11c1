"""Engine overhead: N items with a no-op processor on SQLite, against a plain asyncio loop.

The baseline is an in-memory ``asyncio`` + semaphore loop making the same N no-op calls with the same
concurrency, measured in the same run. Conveyor's figure covers everything from ``execute`` to the run
being COMPLETED in the database: freezing the element set, claiming, leases, status writes, counters.

    python bench/engine_overhead.py [--items 100000] [--concurrency 500]

Target: at least 5,000 items/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import NoopProcessor, add_elements, now, open_bench, start_run, wait_done

TARGET_ITEMS_PER_SECOND = 5_000


async def baseline(items: int, concurrency: int) -> float:
    """Seconds for ``items`` no-op processor calls through an asyncio semaphore."""
    processor, gate = NoopProcessor(), asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await processor.run(None, {})  # type: ignore[arg-type]

    started = now()
    await asyncio.gather(*(one() for _ in range(items)))
    return now() - started


async def conveyor(items: int, concurrency: int, home: Path) -> float:
    bench = await open_bench(home, max_workers=concurrency)
    try:
        await add_elements(bench, items)
        started = now()
        run = await start_run(bench, "noop", concurrency)
        done = await wait_done(bench, run.id)
        elapsed = now() - started
        counts = await bench.core.runs.counts(done)
        assert done.status == "COMPLETED", done.status
        assert counts[next(s for s in counts if s.value == "SUCCEEDED")] == items, counts
        return elapsed
    finally:
        await bench.core.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=500)
    args = parser.parse_args()
    base = asyncio.run(baseline(args.items, args.concurrency))
    with tempfile.TemporaryDirectory() as home:
        ours = asyncio.run(conveyor(args.items, args.concurrency, Path(home)))
    rate, base_rate = args.items / ours, args.items / base
    print(f"items: {args.items}  concurrency: {args.concurrency}")
    print(f"baseline asyncio+semaphore: {base:.3f} s  ({base_rate:,.0f} items/s)")
    print(f"conveyor on SQLite:         {ours:.3f} s  ({rate:,.0f} items/s)")
    print(f"ratio conveyor/baseline throughput: {rate / base_rate:.4f}")
    verdict = "PASS" if rate >= TARGET_ITEMS_PER_SECOND else "FAIL"
    print(f"{verdict}: {rate:,.0f} items/s (target >= {TARGET_ITEMS_PER_SECOND:,})")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
