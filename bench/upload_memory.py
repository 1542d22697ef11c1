"""Server memory while one large file streams in: a multipart upload to ``/v2/datasources/{id}/content``.

Starts a real ``conveyor serve`` (``tests.support.server.LiveServer``) on a fresh data directory, measures
the idle server's RSS as the baseline, then streams a generated body of ``--size-mb`` MiB (a generator:
never held whole, hashed while it is produced) with httpx while a thread samples the server's RSS every
50 ms. Prints size, upload MB/s, baseline and peak RSS, and PASS/FAIL against ``--target-mb`` (peak RSS).
The stored element's size and sha256 must match what was sent.

    python bench/upload_memory.py [--size-mb 1024] [--target-mb 200]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.rss import RssSampler  # noqa: E402  (the repository root is importable now)
from tests.support.server import LiveServer  # noqa: E402

MIB = 1024 * 1024
SAMPLE_SECONDS = 0.05
BOUNDARY = "conveyor-bench-boundary-7f3a9c"
FILE_NAME = "big.bin"


class Generated:
    """``size`` pseudo-random bytes in 1 MiB chunks, each chunk distinct; sha256 computed on the way."""

    def __init__(self, size: int, seed: int = 7) -> None:
        self.size = size
        self.sha = hashlib.sha256()
        self._block = random.Random(seed).randbytes(MIB)

    def chunks(self) -> Iterator[bytes]:
        sent, index = 0, 0
        while sent < self.size:
            chunk = (index.to_bytes(8, "big") + self._block[8:])[: self.size - sent]
            self.sha.update(chunk)
            sent += len(chunk)
            index += 1
            yield chunk


def multipart_body(file: Generated) -> Iterator[bytes]:
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{FILE_NAME}\"\r\n"
           "Content-Type: application/octet-stream\r\n\r\n").encode()
    yield from file.chunks()
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def idle_baseline(pid: int, seconds: float = 1.0) -> int:
    sampler = RssSampler(pid, SAMPLE_SECONDS)
    sampler.start()
    time.sleep(seconds)
    return sampler.stop()


def element_of(client: httpx.Client, datasource_id: str) -> dict[str, object]:
    listing = client.get(f"/v2/datasources/{datasource_id}/data-elements").raise_for_status().json()
    return next(e for e in listing["items"] if e["name"] == FILE_NAME)


def measure(base_url: str, api_key: str, pid: int, size: int) -> dict[str, float | bool]:
    headers = {"Meibel-API-Key": api_key}
    with httpx.Client(base_url=base_url, headers=headers, timeout=httpx.Timeout(600)) as client:
        datasource_id = client.post("/v2/datasources", json={"name": "bench"}).raise_for_status().json()["id"]
        client.post(f"/v2/datasources/{datasource_id}/content",  # warm up the upload path
                    files={"files": ("warmup.txt", b"warm up", "text/plain")}).raise_for_status()
        baseline = idle_baseline(pid)
        file = Generated(size)
        sampler = RssSampler(pid, SAMPLE_SECONDS)
        sampler.start()
        started = time.perf_counter()
        response = client.post(f"/v2/datasources/{datasource_id}/content", content=multipart_body(file),
                               headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        elapsed = time.perf_counter() - started
        peak = sampler.stop()
        response.raise_for_status()
        stored = element_of(client, datasource_id)
    intact = stored["size"] == size and stored["sha256"] == file.sha.hexdigest()
    return {"seconds": elapsed, "baseline": baseline, "peak": peak, "intact": intact,
            "samples": len(sampler.samples)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="upload size in MiB (default 1024)")
    parser.add_argument("--target-mb", type=float, default=200, help="PASS when peak RSS stays below this")
    args = parser.parse_args()

    size = args.size_mb * MIB
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-") as tmp:
        server = LiveServer(home=Path(tmp) / "home", api_key="bench-key").start()
        try:
            assert server.process is not None
            result = measure(server.url, server.api_key, server.process.pid, size)
        finally:
            server.stop()
    return report(size, result, args.target_mb)


def report(size: int, result: dict[str, float | bool], target_mb: float) -> int:
    peak_mb, baseline_mb = result["peak"] / MIB, result["baseline"] / MIB
    passed = bool(result["intact"]) and peak_mb < target_mb
    print(f"file size:           {size / MIB:,.0f} MiB ({size:,} bytes)")
    print(f"upload:              {result['seconds']:.1f} s, {size / MIB / result['seconds']:,.1f} MiB/s")
    print(f"server baseline RSS: {baseline_mb:,.1f} MB (idle, same run)")
    print(f"server peak RSS:     {peak_mb:,.1f} MB ({peak_mb / baseline_mb:.2f}x baseline, "
          f"+{peak_mb - baseline_mb:,.1f} MB; {result['samples']} samples at {SAMPLE_SECONDS * 1000:.0f} ms)")
    print(f"stored element:      size and sha256 {'match' if result['intact'] else 'DO NOT MATCH'}")
    print(f"{'PASS' if passed else 'FAIL'}: peak RSS {peak_mb:,.1f} MB vs target < {target_mb:g} MB")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
