"""The limited worker pool with real worker processes: limits, kills, crashes, and calls left alone."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from conveyor.errors import PermanentError, RetryableError
from conveyor.processors.workers import WorkerDied, WorkerOutOfMemory, WorkerPool, WorkerTimeout, exit_reason


class Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:  # pickles, but cannot be rebuilt from its args
        super().__init__(f"{a}/{b}")


def raise_unpicklable() -> None:
    raise Unpicklable(1, 2)


def return_a_lambda() -> object:
    return lambda: None


def allocate(mb: int) -> int:
    return len(bytearray(mb * 1024 * 1024))


def address_space_limit() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_AS)[0]


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    workers = WorkerPool(2, memory_limit_mb=1024, name="test")
    yield workers
    workers.close()


async def test_a_call_runs_in_a_worker_process_under_the_memory_limit(pool: WorkerPool) -> None:
    pid = await pool.run(os.getpid)
    assert pid != os.getpid() and pid in pool.pids
    assert await pool.run(address_space_limit) == 1024 * 1024 * 1024
    assert await pool.run(address_space_limit, memory_limit_mb=300) == 300 * 1024 * 1024
    assert await pool.run(address_space_limit, memory_limit_mb=4096) == 1024 * 1024 * 1024, "never raised"
    assert await pool.run(os.getpid) == pid, "the worker is kept for the next call"


async def test_a_call_over_time_kills_its_worker_only(pool: WorkerPool) -> None:
    """Two calls in flight on two workers: the one over its limit is killed, the other finishes."""
    neighbour = asyncio.create_task(pool.run(time.sleep, 2))
    await asyncio.sleep(0.3)
    with pytest.raises(WorkerTimeout, match=r"longer than 0\.5 s"):
        await pool.run(time.sleep, 60, time_limit=0.5)
    assert len(pool.pids) == 1, "the stuck worker is gone"
    survivor = pool.pids[0]
    await neighbour
    assert await pool.run(os.getpid) in {survivor, *pool.pids}
    assert all(psutil.Process(pid).is_running() for pid in pool.pids)


async def test_running_out_of_memory_is_reported_and_the_worker_replaced(pool: WorkerPool) -> None:
    first = await pool.run(os.getpid)
    with pytest.raises(WorkerOutOfMemory, match=r"limit 1024 MB"):
        await pool.run(allocate, 2048)
    with pytest.raises(WorkerOutOfMemory, match=r"limit 200 MB"):
        await pool.run(allocate, 400, memory_limit_mb=200)
    assert await pool.run(allocate, 400) == 400 * 1024**2, "the pool's own limit applies again"
    assert not psutil.pid_exists(first) or psutil.Process(first).status() == psutil.STATUS_ZOMBIE


async def test_a_crash_is_reported_with_its_exit_reason(pool: WorkerPool) -> None:
    with pytest.raises(WorkerDied, match="exited with code 7") as caught:
        await pool.run(os._exit, 7)
    assert caught.value.exitcode == 7 and not caught.value.starting
    assert await pool.run(sum, [1, 2]) == 3, "a fresh worker takes the next call"
    assert exit_reason(-9) == "was killed by SIGKILL" and exit_reason(-11) == "was killed by SIGSEGV"


async def test_cancelling_the_caller_kills_the_worker(pool: WorkerPool) -> None:
    call = asyncio.create_task(pool.run(time.sleep, 60))
    while not pool.pids:
        await asyncio.sleep(0.05)
    worker = psutil.Process(pool.pids[0])
    await asyncio.sleep(0.3)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    worker.wait(timeout=10)
    assert not worker.is_running()
    assert await pool.run(sum, [2, 3]) == 5


async def test_errors_come_back_as_raised_or_described(pool: WorkerPool) -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        await pool.run(int, "x")
    with pytest.raises(RetryableError, match=r"Unpicklable: 1/2"):
        await pool.run(raise_unpicklable)
    with pytest.raises(PermanentError, match="cannot be passed back"):
        await pool.run(return_a_lambda)
    assert await pool.run(sum, [1]) == 1, "the worker survived all three"


async def test_more_calls_than_workers_wait_their_turn(pool: WorkerPool) -> None:
    pids = await asyncio.gather(*(pool.run(_sleep_then_pid, 0.2) for _ in range(6)))
    assert len(set(pids)) <= 2


async def test_close_kills_every_worker() -> None:
    workers = WorkerPool(2)
    busy = asyncio.create_task(workers.run(time.sleep, 60))
    await workers.run(os.getpid)
    pids = list(workers.pids)
    workers.close()
    with pytest.raises(WorkerDied):
        await busy
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def _sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


async def test_a_worker_killed_while_idle_is_replaced_before_the_next_call(pool: WorkerPool) -> None:
    idle = await pool.run(os.getpid)
    psutil.Process(idle).kill()
    psutil.Process(idle).wait(timeout=10)
    assert await pool.run(os.getpid) != idle


def test_workers_die_with_their_parent(tmp_path: Path) -> None:
    """A server killed with SIGKILL takes its busy workers with it: no parser is left running orphaned."""
    script = ("import asyncio, time\n"
              "from conveyor.processors.workers import WorkerPool\n"
              "async def main():\n"
              "    pool = WorkerPool(1)\n"
              "    call = asyncio.create_task(pool.run(time.sleep, 600))\n"
              "    while not pool.pids: await asyncio.sleep(0.05)\n"
              "    print(pool.pids[0], flush=True)\n"
              "    await call\n"
              "asyncio.run(main())\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert parent.stdout is not None
    worker = psutil.Process(int(parent.stdout.readline()))
    time.sleep(0.5)  # the worker is in its call
    parent.kill()
    parent.wait()
    parent.stdout.close()
    with contextlib.suppress(psutil.NoSuchProcess):
        worker.wait(timeout=10)
    assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
