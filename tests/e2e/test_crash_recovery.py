"""The durable engine under ``kill -9``: a 5,000-item run survives ten SIGKILLs of its server.

A live ``conveyor serve`` (2 s leases) runs a python agent that sleeps 0–50 ms per item, 50 at a time.
The test kills the server at random moments while the run is going and restarts it on the same data
directory each time; in the end every item has succeeded exactly once as far as the outputs can tell.

Each kill strands the items the server held (in the processor, or done but not yet recorded): their
leases expire and the next server hands them out again. An item that loses ``MAX_LEASE_LOSSES`` leases is
failed on purpose (a file that kills its worker must not loop forever), so before the next kill the test
waits until the previous kill's items have run again and finished. The kill moment itself is random.

Set ``CONVEYOR_CRASH_SEED`` to replay a schedule; the seed used is printed.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.polling import wait_until
from tests.support.server import LiveServer

ITEMS = 5_000
FILES_PER_REQUEST = 100
CONCURRENCY = 50
KILLS = 10
MIN_KILLS = 5
LEASE_SECONDS = 2
MAX_KILL_DELAY = 1.0
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
API_KEY = "crash-test-key"


def upload(api: httpx.Client, datasource: str, count: int) -> None:
    """``count`` tiny text files, many per multipart request."""
    for start in range(0, count, FILES_PER_REQUEST):
        files = [("files", (f"doc-{n:05d}.txt", f"document {n}\n".encode(), "text/plain"))
                 for n in range(start, min(start + FILES_PER_REQUEST, count))]
        response = api.post(f"/datasources/{datasource}/content", files=files)
        assert response.status_code == 202, response.text


def start_run(api: httpx.Client, datasource: str) -> str:
    agent = api.post("/agents", json={"display_name": "jitter", "type": "python", "additional_properties": {
        "callable": "tests.support.callables:jitter_sleep", "max_sleep": 0.05}})
    assert agent.status_code == 201, agent.text
    definition = api.post("/batch-definitions", json={
        "name": "crash", "agent_id": agent.json()["id"], "input_datasource_id": datasource,
        "concurrency": CONCURRENCY, "retry_limit": 3})
    assert definition.status_code == 201, definition.text
    run = api.post(f"/batch-definitions/id/{definition.json()['id']}/execute")
    assert run.status_code == 201, run.text
    return str(run.json()["execution_id"])


def execution(api: httpx.Client, run_id: str) -> dict[str, Any]:
    response = api.get(f"/batch-executions/id/{run_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def items(api: httpx.Client, run_id: str, status: str = "", *, pages: int | None = None) -> Iterator[dict[str, Any]]:
    """The run's items (with ``status``, if given), paged 1,000 at a time; ``pages`` stops early."""
    cursor, fetched = "", 0
    while True:
        params = {"status": status, "cursor": cursor, "limit": 1000} if status else {"cursor": cursor, "limit": 1000}
        response = api.get(f"/batch-executions/id/{run_id}/items", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        yield from page["items"]
        fetched += 1
        if not page["has_next"] or (pages is not None and fetched >= pages):
            return
        cursor = page["next_cursor"]


def output_elements(api: httpx.Client, datasource: str) -> list[dict[str, Any]]:
    found, cursor = [], ""
    while True:
        response = api.get(f"/datasources/{datasource}/data-elements", params={"limit": 1000, "cursor": cursor})
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        if not page["has_next"]:
            return found
        cursor = page["next_cursor"]


def started(item: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(item["started_at"]) if item["started_at"] else None


def stranded(api: httpx.Client, run_id: str, restarted_at: datetime) -> set[str]:
    """Items the killed server left behind that the new one has not taken up again yet: still RUNNING
    under a lease from before the restart, or back to PENDING after having started once.

    RUNNING is read before PENDING, so an item cannot slip from one to the other unseen. Claims go in item
    order, so items that started once come before the never-started ones: the first PENDING page holds
    them all.
    """
    stale = {i["input_data_element_id"] for i in items(api, run_id, "RUNNING")
             if (when := started(i)) is not None and when < restarted_at}
    returned = {i["input_data_element_id"] for i in items(api, run_id, "PENDING", pages=1) if started(i)}
    return stale | returned


def wait_until_recovered(api: httpx.Client, run_id: str, restarted_at: datetime) -> None:
    """Until every item stranded by the last kill has run again and finished (each item loses at most one
    lease, well under MAX_LEASE_LOSSES)."""
    wait_until(lambda: not stranded(api, run_id, restarted_at), timeout=60, interval=0.05,
               what="the stranded items to be taken up again")
    # every stranded item is now RUNNING under the new server, or finished
    again = {i["input_data_element_id"] for i in items(api, run_id, "RUNNING")}
    wait_until(lambda: not again & {i["input_data_element_id"] for i in items(api, run_id, "RUNNING")},
               timeout=60, interval=0.05, what="the re-run stranded items to finish")


def in_progress(api: httpx.Client, run_id: str) -> bool:
    run = execution(api, run_id)
    return run["status"] not in TERMINAL and run["pending"] > 0


def kill(server: LiveServer) -> None:
    assert server.process is not None and server.process.poll() is None, "the server died on its own"
    server.process.kill()
    server.process.wait(timeout=30)


@pytest.mark.timeout(600)
def test_run_survives_repeated_sigkill(tmp_path: Path) -> None:
    seed = int(os.environ.get("CONVEYOR_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"crash schedule seed: {seed} (replay with CONVEYOR_CRASH_SEED={seed})")
    rng = random.Random(seed)
    server = LiveServer(home=tmp_path / "home", api_key=API_KEY,
                        env={"CONVEYOR_LEASE_SECONDS": str(LEASE_SECONDS), "CONVEYOR_MAX_WORKERS": "64"})
    api = httpx.Client(headers={"Meibel-API-Key": API_KEY}, timeout=60)
    try:
        server.start()
        api.base_url = f"{server.url}/v2"
        datasource = api.post("/datasources", json={"name": "crash-inputs"}).json()["id"]
        began = time.monotonic()
        upload(api, datasource, ITEMS)
        print(f"uploaded {ITEMS} files in {time.monotonic() - began:.1f} s")
        run_id = start_run(api, datasource)
        wait_until(lambda: execution(api, run_id)["succeeded"] > 0, timeout=60, interval=0.05,
                   what="the run to make progress")

        kills, began = 0, time.monotonic()
        while kills < KILLS:
            time.sleep(rng.uniform(0, MAX_KILL_DELAY))
            if not in_progress(api, run_id):
                break
            kill(server)
            kills += 1
            restarted_at = datetime.now(UTC)
            server.start()
            wait_until_recovered(api, run_id, restarted_at)
            print(f"kill {kills}: {execution(api, run_id)['succeeded']} of {ITEMS} succeeded")
        print(f"{kills} kills in {time.monotonic() - began:.1f} s")
        assert kills >= MIN_KILLS, f"the run finished after only {kills} kills: make it longer"

        run = wait_until(lambda: (r := execution(api, run_id))["status"] in TERMINAL and r, timeout=180,
                         interval=0.25, what="the run to end")
        scanned = list(items(api, run_id))
        succeeded = {i["input_data_element_id"] for i in items(api, run_id, "SUCCEEDED")}
        failed = [(i["filename"], i["error"]) for i in items(api, run_id, "FAILED")]
        outputs = output_elements(api, run["output_datasource_id"])
    finally:
        api.close()
        server.stop()

    assert run["status"] == "COMPLETED", run["status"]
    statuses = Counter(i["status"] for i in scanned)
    assert statuses == {"SUCCEEDED": ITEMS}, (statuses, failed[:5])
    inputs = {i["input_data_element_id"] for i in scanned}
    assert len(inputs) == ITEMS and succeeded == inputs
    assert {k: run[k] for k in ("total_items", "succeeded", "failed", "pending", "running", "cancelled")} == {
        "total_items": ITEMS, "succeeded": statuses["SUCCEEDED"], "failed": statuses["FAILED"],
        "pending": statuses["PENDING"], "running": statuses["RUNNING"], "cancelled": statuses["CANCELLED"]}
    assert all(len(i["output_artifacts"]) == 1 for i in scanned), "an item has more than one output set"
    sources = Counter(e["metadata"]["source_element_id"] for e in outputs)
    assert len(outputs) == ITEMS, f"{len(outputs)} output elements for {ITEMS} items"
    assert set(sources) == inputs
    assert max(sources.values()) == 1, "an input has more than one output element"
    assert "500 Internal Server Error" not in server.log_text
    assert "unhandled error" not in server.log_text
