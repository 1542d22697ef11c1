"""The python processor's time limits and its ``isolation: "process"`` mode, through the API."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import psutil

from tests.support.runs import AppClient, Json, content, items_by_name, run_once, text_files


async def _outputs(client: httpx.AsyncClient, run: Json) -> dict[str, Json]:
    """The JSON output of each item of ``run``, by input file name."""
    found = {}
    for name, item in (await items_by_name(client, run["id"])).items():
        output = item["output_artifacts"][0]
        found[name] = json.loads(await content(client, output["datasource_id"], output["data_element_id"]))
    return found


async def test_a_blocked_function_is_abandoned_when_its_time_runs_out(app_client: AppClient) -> None:
    """Eight calls that never return time out; their threads are left behind without starving the
    server's shared thread pool (six threads on two cores), so the next run's file reads go through."""
    client, _ = app_client
    blocked = text_files(*(f"stuck-{i}.txt" for i in range(8)))
    run, _ = await run_once(client, "block", blocked, concurrency=8, sleep=60, timeout_seconds=1)
    assert (run["status"], run["failed"]) == ("COMPLETED", 8)
    for item in (await items_by_name(client, run["id"])).values():
        assert item["error"] == "timed out after 1 s (gave up after 1 attempts)"
    async with asyncio.timeout(30):  # a hang guard: stuck in the shared pool, this would wait out the 60 s
        after, _ = await run_once(client, "echo", text_files("a.txt", "b.txt"))
    assert (after["status"], after["succeeded"]) == ("COMPLETED", 2)


async def test_an_isolated_function_runs_in_a_worker_process(app_client: AppClient) -> None:
    client, core = app_client
    files = text_files("a.txt", "b.txt", "c.txt")
    run, ids = await run_once(client, "echo", files, isolation="process")
    assert (run["status"], run["succeeded"]) == ("COMPLETED", 3)
    seen = await _outputs(client, run)
    assert {name: out["element_id"] for name, out in seen.items()} == ids
    where, _ = await run_once(client, "whoami", files, isolation="process")
    pids = {out["pid"] for out in (await _outputs(client, where)).values()}
    assert os.getpid() not in pids and pids <= set(core.python.workers.pids)


async def test_an_isolated_crash_fails_with_the_exit_reason(app_client: AppClient) -> None:
    client, _ = app_client
    run, _ = await run_once(client, "crash", text_files("a.txt", "b.txt"), isolation="process", code=7)
    assert (run["status"], run["failed"]) == ("COMPLETED", 2)
    errors = {item["error"] for item in (await items_by_name(client, run["id"])).values()}
    assert errors == {"the callable's process exited with code 7"}


async def test_an_isolated_call_out_of_time_has_its_process_killed(app_client: AppClient, tmp_path: Path) -> None:
    client, _ = app_client
    run, _ = await run_once(client, "block", text_files("slow.txt"), isolation="process", sleep=60,
                            timeout_seconds=1, state_dir=str(tmp_path))
    [item] = (await items_by_name(client, run["id"])).values()
    assert item["error"] == "timed out after 1 s (gave up after 1 attempts)"
    worker = int((tmp_path / "slow.txt.pid").read_text())
    assert worker != os.getpid()
    assert not psutil.pid_exists(worker) or psutil.Process(worker).status() == psutil.STATUS_ZOMBIE


async def test_an_isolated_call_gets_its_memory_limit(app_client: AppClient) -> None:
    client, _ = app_client
    run, _ = await run_once(client, "allocate", text_files("big.txt"), isolation="process", mb=500,
                            memory_limit_mb=200)
    [item] = (await items_by_name(client, run["id"])).values()
    assert item["error"] == "the callable ran out of memory (limit 200 MB)"
    fits, _ = await run_once(client, "allocate", text_files("small.txt"), isolation="process", mb=50,
                             memory_limit_mb=200)
    assert fits["succeeded"] == 1


async def test_an_unknown_isolation_mode_fails_the_item(app_client: AppClient) -> None:
    client, _ = app_client
    run, _ = await run_once(client, "echo", text_files("a.txt"), isolation="container")
    [item] = (await items_by_name(client, run["id"])).values()
    assert item["error"] == "isolation must be one of thread, process, not 'container'"
