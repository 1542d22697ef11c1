"""Engine efficiency on I/O-bound items: N items that each await S seconds, at concurrency C.

The ideal wall time is ceil(N / C) * S (every slot always busy); the figure is ideal / actual, measured
from ``execute`` until the run is COMPLETED in the database. Target: at least 0.95.

    python bench/engine_efficiency.py [--items 2000] [--sleep 0.5] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import add_elements, now, open_bench, start_run, wait_done

TARGET = 0.95


async def measure(items: int, sleep: float, concurrency: int, home: Path) -> float:
    bench = await open_bench(home, max_workers=concurrency)
    try:
        await add_elements(bench, items)
        started = now()
        run = await start_run(bench, "sleep", concurrency, sleep=sleep)
        done = await wait_done(bench, run.id, poll=0.01)
        elapsed = now() - started
        assert done.status == "COMPLETED" and done.succeeded == items, (done.status, done.succeeded)
        return elapsed
    finally:
        await bench.core.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--sleep", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    ideal = math.ceil(args.items / args.concurrency) * args.sleep
    with tempfile.TemporaryDirectory() as home:
        actual = asyncio.run(measure(args.items, args.sleep, args.concurrency, Path(home)))
    ratio = ideal / actual
    print(f"items: {args.items}  sleep: {args.sleep} s  concurrency: {args.concurrency}")
    print(f"ideal wall time (baseline): {ideal:.3f} s")
    print(f"conveyor wall time:         {actual:.3f} s")
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"{verdict}: ideal/actual = {ratio:.4f} (target >= {TARGET})")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
