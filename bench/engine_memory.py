"""Server memory and API latency during a 1,000,000-item run with a no-op processor.

The data directory is built directly in the store first (``bench.harness``: a project and a container of N
elements sharing one blob). Then a real ``conveyor serve`` (``tests.support.server.LiveServer``) starts on
it with ``bench.harness:NoopProcessor`` as an extra processor and 500 workers; a ``noop`` agent and a
definition with concurrency 500 over the container are made through the HTTP API, and the definition is
executed. While the run goes, one thread samples the server's RSS (children included) every 100 ms and
another times ``GET /v2/batch-executions/id/{id}`` every 50 ms on its own HTTP client. Wall time and
items/s count from the execute request (which freezes the element set) to the run being COMPLETED.

    python bench/engine_memory.py [--items 1000000] [--concurrency 500]

Targets: peak RSS < 300 MB, GET p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.harness import add_elements, open_bench  # noqa: E402  (the repository root is importable now)
from bench.rss import RssSampler  # noqa: E402
from tests.support.server import LiveServer  # noqa: E402

MB = 1024 * 1024
API_KEY = "bench-engine-memory-key"
RSS_EVERY = 0.1
GET_EVERY = 0.05
TARGET_RSS_MB = 300
TARGET_P99_MS = 50
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


async def prepare(home: Path, items: int) -> str:
    """A data directory holding one container of ``items`` elements; returns the container id."""
    bench = await open_bench(home)
    try:
        await add_elements(bench, items)
        return bench.container_id
    finally:
        await bench.core.close()


class Prober(threading.Thread):
    """Times ``GET /v2/batch-executions/id/{id}`` every ``every`` seconds until the run is terminal."""

    def __init__(self, base_url: str, run_id: str, every: float = GET_EVERY) -> None:
        super().__init__(daemon=True)
        self.base_url, self.run_id, self.every = base_url, run_id, every
        self.seconds: list[float] = []
        self.errors = 0
        self.last: dict[str, object] = {}
        self.finished = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, headers={"Meibel-API-Key": API_KEY}, timeout=60) as client:
            while not self.finished.is_set():
                started = time.perf_counter()
                try:
                    response = client.get(f"/v2/batch-executions/id/{self.run_id}")
                    elapsed = time.perf_counter() - started
                    response.raise_for_status()
                except httpx.HTTPError:
                    self.errors += 1
                    elapsed = time.perf_counter() - started
                else:
                    self.seconds.append(elapsed)
                    self.last = response.json()
                    if self.last["status"] in TERMINAL:
                        self.finished.set()
                time.sleep(max(0.0, self.every - elapsed))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def idle_rss(pid: int, seconds: float = 1.0) -> int:
    sampler = RssSampler(pid, RSS_EVERY)
    sampler.start()
    time.sleep(seconds)
    return sampler.stop()


def make_definition(client: httpx.Client, container_id: str, concurrency: int) -> str:
    agent = client.post("/v2/agents", json={"display_name": "noop", "type": "noop"}).raise_for_status().json()
    definition = client.post("/v2/batch-definitions", json={
        "name": "engine-memory", "agent_id": agent["id"], "input_datasource_id": container_id,
        "concurrency": concurrency, "retry_limit": 0}).raise_for_status().json()
    return str(definition["id"])


@dataclass
class Result:
    items: int
    seconds: float
    baseline: int
    peak: int
    rss_samples: int
    latencies: list[float]
    errors: int
    run: dict[str, object]


def measure(server: LiveServer, container_id: str, items: int, concurrency: int) -> Result:
    assert server.process is not None
    pid = server.process.pid
    with httpx.Client(base_url=server.url, headers={"Meibel-API-Key": API_KEY}, timeout=600) as client:
        definition = make_definition(client, container_id, concurrency)
        baseline = idle_rss(pid)
        sampler = RssSampler(pid, RSS_EVERY)
        sampler.start()
        started = time.perf_counter()
        run_id = client.post(f"/v2/batch-definitions/id/{definition}/execute").raise_for_status().json()[
            "execution_id"]
        prober = Prober(server.url, run_id)
        prober.start()
        prober.finished.wait()
        elapsed = time.perf_counter() - started
        peak = sampler.stop()
        prober.join()
    return Result(items, elapsed, baseline, peak, len(sampler.samples), prober.seconds, prober.errors,
                  prober.last)


def report(result: Result) -> int:
    run, lat = result.run, [s * 1000 for s in result.latencies]
    p50, p95, p99 = (percentile(lat, p) for p in (50, 95, 99))
    peak_mb, base_mb = result.peak / MB, result.baseline / MB
    complete = run.get("status") == "COMPLETED" and run.get("succeeded") == result.items
    print(f"items:               {result.items:,} (run {run.get('status')}: {run.get('succeeded')} succeeded, "
          f"{run.get('failed')} failed)")
    print(f"wall time:           {result.seconds:.1f} s (execute request to COMPLETED)")
    print(f"throughput:          {result.items / result.seconds:,.0f} items/s")
    print(f"baseline RSS:        {base_mb:,.1f} MB (idle server before execute)")
    print(f"peak RSS:            {peak_mb:,.1f} MB (+{peak_mb - base_mb:,.1f} MB; {result.rss_samples} samples "
          f"every {RSS_EVERY * 1000:.0f} ms, children included)")
    print(f"GET execution:       p50 {p50:.1f} ms  p95 {p95:.1f} ms  p99 {p99:.1f} ms  max {max(lat):.1f} ms  "
          f"({len(lat)} requests, {result.errors} errors)")
    rss_ok, p99_ok = peak_mb < TARGET_RSS_MB, p99 < TARGET_P99_MS
    print(f"{'PASS' if rss_ok else 'FAIL'}: peak RSS {peak_mb:,.1f} MB (target < {TARGET_RSS_MB} MB)")
    print(f"{'PASS' if p99_ok else 'FAIL'}: GET p99 {p99:.1f} ms (target < {TARGET_P99_MS} ms)")
    if not complete:
        print("FAIL: the run did not complete with every item succeeded")
    return 0 if rss_ok and p99_ok and complete else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-") as tmp:
        home = Path(tmp) / "home"
        began = time.perf_counter()
        container_id = asyncio.run(prepare(home, args.items))
        print(f"prepared {args.items:,} elements in {time.perf_counter() - began:.1f} s")
        server = LiveServer(home=home, api_key=API_KEY, env={
            "CONVEYOR_PROCESSORS": json.dumps(["bench.harness:NoopProcessor"]),
            "CONVEYOR_MAX_WORKERS": str(args.concurrency), "CONVEYOR_LOG_LEVEL": "warning"})
        server.start()
        try:
            result = measure(server, container_id, args.items, args.concurrency)
        finally:
            server.stop()
    return report(result)


if __name__ == "__main__":
    raise SystemExit(main())
