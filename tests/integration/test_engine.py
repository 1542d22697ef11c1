"""The local engine through the Meibel v2 API, in-process: item outcomes, retries and backoff,
retry-failed, cancel, concurrency, filters, output upserts, item paging, and resuming after a restart.

Every run uses the ``python`` agent with a function from :mod:`tests.support.callables`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.callables import calls_of, max_in_flight
from tests.support.inprocess import running_app, test_settings
from tests.support.runs import (
    TERMINAL,
    AppClient,
    Json,
    all_items,
    assert_counts_add_up,
    content,
    execute,
    get_run,
    items_by_name,
    list_elements,
    new_datasource,
    new_definition,
    python_agent,
    run_once,
    starts,
    text_files,
    upload,
    wait_terminal,
    wait_until,
)


async def test_every_item_succeeds_with_readable_outputs(app_client: AppClient) -> None:
    client, _ = app_client
    files = text_files("a.txt", "b.txt", "c.txt", "d.txt", "e.txt")
    run, ids = await run_once(client, "artifacts", files)

    assert run["status"] == "COMPLETED"
    assert (run["total_items"], run["succeeded"], run["failed"]) == (5, 5, 0)
    items = await items_by_name(client, run["id"])
    assert set(items) == set(files)
    for name, item in items.items():
        assert (item["status"], item["attempts"], item["error"]) == ("SUCCEEDED", 1, None)
        assert item["input_data_element_id"] == ids[name]
        outputs = {o["type"]: o for o in item["output_artifacts"]}
        assert set(outputs) == {"text", "binary", "json"}
        assert all(o["datasource_id"] == run["output_datasource_id"] for o in outputs.values())

        def read(kind: str, output_map: dict[str, Json] = outputs) -> Any:
            return content(client, run["output_datasource_id"], output_map[kind]["data_element_id"])

        assert await read("text") == f"text of {name}".encode()
        assert await read("binary") == b"\x00bytes of " + name.encode()
        assert json.loads(await read("json")) == {"name": name, "size": len(files[name])}


async def test_permanent_failure_fails_only_that_item_without_retrying(app_client: AppClient) -> None:
    client, _ = app_client
    files = text_files("bad-1.txt", "good-1.txt", "good-2.txt", "bad-2.txt", "good-3.txt", "good-4.txt")
    run, _ = await run_once(client, "fail_matching", files, retry_limit=3, fail_pattern="^bad-")

    assert run["status"] == "COMPLETED"
    assert (run["total_items"], run["succeeded"], run["failed"]) == (6, 4, 2)
    assert_counts_add_up(run)
    for name, item in (await items_by_name(client, run["id"])).items():
        if name.startswith("bad-"):
            assert (item["status"], item["attempts"]) == ("FAILED", 1)
            assert item["error"] == f"refusing {name} on purpose"
            assert item["output_artifacts"] == []
        else:
            assert (item["status"], item["attempts"], item["error"]) == ("SUCCEEDED", 1, None)
            assert len(item["output_artifacts"]) == 1


async def test_retryable_failures_within_retry_limit_succeed(app_client: AppClient, tmp_path: Path) -> None:
    client, _ = app_client
    state = tmp_path / "state"
    run, ids = await run_once(client, "flaky", text_files("fail0.txt", "fail1.txt", "fail2.txt"),
                              retry_limit=2, state_dir=str(state))

    assert (run["status"], run["succeeded"], run["failed"]) == ("COMPLETED", 3, 0)
    for name, item in (await items_by_name(client, run["id"])).items():
        failures = int(name[4])
        assert item["status"] == "SUCCEEDED", item
        assert item["attempts"] == failures + 1 == calls_of(state, ids[name])
        assert item["error"] is None


async def test_retryable_failures_beyond_retry_limit_fail(app_client: AppClient, tmp_path: Path) -> None:
    client, _ = app_client
    state = tmp_path / "state"
    run, ids = await run_once(client, "flaky", text_files("fail5.txt", "ok.txt"), retry_limit=1,
                              state_dir=str(state))

    assert (run["status"], run["succeeded"], run["failed"]) == ("COMPLETED", 1, 1)
    items = await items_by_name(client, run["id"])
    failed = items["fail5.txt"]
    assert (failed["status"], failed["attempts"]) == ("FAILED", 2)
    assert calls_of(state, ids["fail5.txt"]) == 2, "retried past retry_limit"
    assert "transient failure 2 of 5" in failed["error"]
    assert (items["ok.txt"]["status"], items["ok.txt"]["attempts"]) == ("SUCCEEDED", 1)


# retry-failed and output upserts -------------------------------------------------------------------------

async def test_retry_failed_reruns_only_failed_items_in_the_same_run(app_client: AppClient,
                                                                     tmp_path: Path) -> None:
    client, _ = app_client
    state = tmp_path / "state"
    files = text_files("fail1-a.txt", "ok-b.txt", "fail1-c.txt", "ok-d.txt")
    run, ids = await run_once(client, "flaky", files, retry_limit=0, state_dir=str(state))
    assert (run["status"], run["succeeded"], run["failed"]) == ("COMPLETED", 2, 2)

    response = await client.post(f"/v2/batch-executions/id/{run['id']}/retry-failed")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == run["id"]
    run = await wait_until(client, run["id"], lambda r: r["status"] in TERMINAL and r["failed"] == 0)

    assert (run["status"], run["succeeded"], run["failed"], run["total_items"]) == ("COMPLETED", 4, 0, 4)
    for name, item in (await items_by_name(client, run["id"])).items():
        assert item["status"] == "SUCCEEDED"
        expected = 2 if name.startswith("fail1") else 1
        assert item["attempts"] == expected == calls_of(state, ids[name]), name
    executions = (await client.get("/v2/batch-executions",
                                   params={"input_datasource_id": run["input_datasource_id"]})).json()
    assert executions["pagination"]["total"] == 1, "retry-failed started a new run"


async def test_a_failed_item_leaves_no_outputs_and_a_retry_writes_a_full_set(app_client: AppClient,
                                                                               tmp_path: Path) -> None:
    client, _ = app_client
    files = text_files("x.txt", "y.txt", "z.txt")
    run, ids = await run_once(client, "partial_then_ok", files, retry_limit=0, state_dir=str(tmp_path / "s"))
    assert (run["status"], run["failed"]) == ("COMPLETED", 3)
    output_id = run["output_datasource_id"]
    assert await list_elements(client, output_id) == [], "the half-written first attempt was discarded"

    await client.post(f"/v2/batch-executions/id/{run['id']}/retry-failed")
    run = await wait_until(client, run["id"], lambda r: r["status"] in TERMINAL and r["failed"] == 0)
    assert (run["status"], run["succeeded"]) == ("COMPLETED", 3)
    outputs = await list_elements(client, output_id)
    assert sorted(e["name"] for e in outputs) == sorted(
        [f"{n}.summary.txt" for n in files] + [f"{n}.extra.txt" for n in files])
    for element in outputs:
        assert element["metadata"]["source_element_id"] == ids[element["name"].split(".txt.")[0] + ".txt"]


async def test_a_retried_attempt_overwrites_what_the_failed_one_wrote(app_client: AppClient,
                                                                     tmp_path: Path) -> None:
    """Attempt 1 writes ``summary`` then fails (retryable); attempt 2 writes both: one element each."""
    client, _ = app_client
    files = text_files("x.txt", "y.txt")
    run, _ids = await run_once(client, "partial_then_ok", files, retry_limit=1, state_dir=str(tmp_path / "s"))
    assert (run["status"], run["succeeded"]) == ("COMPLETED", 2)
    assert {i["attempts"] for i in run["items"]} == {2}
    outputs = await list_elements(client, run["output_datasource_id"])
    names = [e["name"] for e in outputs]
    assert len(names) == len(set(names)) == 4
    for element in outputs:
        if element["name"].endswith(".summary.txt"):
            expected = f"call 2 of {element['name'].removesuffix('.summary.txt')}".encode()
            assert await content(client, run["output_datasource_id"], element["id"]) == expected


# cancel and concurrency ---------------------------------------------------------------------------------

async def test_cancel_ends_a_run_of_slow_items_within_two_seconds(app_client: AppClient, tmp_path: Path) -> None:
    client, _ = app_client
    state = tmp_path / "state"
    datasource_id, _ = await new_datasource(client, text_files(*(f"slow-{i}.txt" for i in range(5))))
    agent_id = await python_agent(client, "sleepy", sleep=5, state_dir=str(state))
    run_id = await execute(client, await new_definition(client, agent_id, datasource_id, concurrency=2))
    await wait_until(client, run_id, lambda r: r["running"] == 2 and len(starts(state)) == 2, within=10)

    started = time.monotonic()
    response = await client.post(f"/v2/batch-executions/id/{run_id}/cancel")
    assert response.status_code == 200, response.text
    run = await wait_terminal(client, run_id)
    assert time.monotonic() - started < 2.0
    assert run["status"] == "CANCELLED"

    await asyncio.sleep(1.2)  # longer than the engine's idle poll: nothing may start or resume
    run = await get_run(client, run_id)
    assert (run["status"], run["cancelled"], run["pending"], run["running"]) == ("CANCELLED", 5, 0, 0)
    statuses = [item["status"] for item in await all_items(client, run_id)]
    assert statuses == ["CANCELLED"] * 5
    assert len(starts(state)) == 2, "a pending item started after the cancel"
    assert max_in_flight(state) == 2


async def test_concurrency_limit_is_never_exceeded(app_client: AppClient, tmp_path: Path) -> None:
    client, _ = app_client
    state = tmp_path / "state"
    files = text_files(*(f"item-{i}.txt" for i in range(9)))
    run, ids = await run_once(client, "sleepy", files, concurrency=3, sleep=0.3, state_dir=str(state))

    assert (run["status"], run["succeeded"]) == ("COMPLETED", 9)
    assert max_in_flight(state) == 3
    assert all(calls_of(state, element_id) == 1 for element_id in ids.values())


# filters ------------------------------------------------------------------------------------------------

async def test_filters_freeze_the_matching_element_set(app_client: AppClient, tmp_path: Path) -> None:
    client, _ = app_client
    media = {"keep-a.txt": "text/plain", "keep-b.csv": "text/csv", "drop-c.txt": "text/plain",
             "drop-d.csv": "text/csv", "keep-e.md": "text/markdown"}
    datasource_id, ids = await new_datasource(client, text_files(*media), media)
    agent_id = await python_agent(client, "sleepy", sleep=0.2)
    cases = [({"regex": "^keep-"}, {"keep-a.txt", "keep-b.csv", "keep-e.md"}),
             ({"media_types": ["text/csv"]}, {"keep-b.csv", "drop-d.csv"}),
             ({"element_ids": [ids["drop-c.txt"], ids["keep-e.md"]]}, {"drop-c.txt", "keep-e.md"}),
             ({"regex": "\\.csv$", "media_types": ["text/*"]}, {"keep-b.csv", "drop-d.csv"})]
    runs = [await execute(client, await new_definition(client, agent_id, datasource_id, concurrency=1,
                                                       filters=filters)) for filters, _ in cases]
    # elements that match every filter but arrive after the runs started are not part of them
    await upload(client, datasource_id, text_files("keep-late.csv", "keep-late2.csv"),
                 dict.fromkeys(("keep-late.csv", "keep-late2.csv"), "text/csv"))
    assert (await get_run(client, runs[0]))["status"] not in TERMINAL, "the upload came too late to matter"

    for run_id, (filters, expected) in zip(runs, cases, strict=True):
        run = await wait_terminal(client, run_id)
        assert (run["status"], run["total_items"], run["succeeded"]) == ("COMPLETED", len(expected),
                                                                         len(expected)), filters
        assert set(await items_by_name(client, run_id)) == expected, filters


# item paging ----------------------------------------------------------------------------------------------

async def test_item_list_pages_through_everything_once(app_client: AppClient) -> None:
    client, _ = app_client
    names = [f"bad-{i:02}.txt" if i % 5 == 0 else f"doc-{i:02}.txt" for i in range(25)]
    files = text_files(*names)
    run, ids = await run_once(client, "fail_matching", files, concurrency=8, fail_pattern="^bad-")
    assert (run["status"], run["succeeded"], run["failed"]) == ("COMPLETED", 20, 5)

    items = await all_items(client, run["id"], limit=7)
    assert sorted(i["filename"] for i in items) == sorted(names)
    assert len({i["input_data_element_id"] for i in items}) == 25
    failed = await all_items(client, run["id"], status="FAILED", limit=2)
    assert sorted(i["filename"] for i in failed) == sorted(n for n in names if n.startswith("bad-"))
    succeeded = await all_items(client, run["id"], status="SUCCEEDED", limit=6)
    assert sorted(i["filename"] for i in succeeded) == sorted(n for n in names if n.startswith("doc-"))
    assert await all_items(client, run["id"], status="PENDING") == []
    for item in succeeded:  # the function saw each element's own bytes
        output = item["output_artifacts"][0]
        seen = json.loads(await content(client, output["datasource_id"], output["data_element_id"]))
        name = item["filename"]
        assert seen["element_id"] == ids[name] == item["input_data_element_id"]
        assert seen["sha256"] == hashlib.sha256(files[name]).hexdigest()


# durability ---------------------------------------------------------------------------------------------

@pytest.mark.timeout(60)
async def test_run_resumes_after_restart_without_duplicates(tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "home", lease_seconds=2)
    state = tmp_path / "state"
    files = text_files(*(f"doc-{i}.txt" for i in range(8)))
    async with running_app(settings) as (client, _):
        datasource_id, ids = await new_datasource(client, files)
        agent_id = await python_agent(client, "sleepy", sleep=0.4, state_dir=str(state))
        run_id = await execute(client, await new_definition(client, agent_id, datasource_id, concurrency=2))
        before = await wait_until(client, run_id, lambda r: r["succeeded"] >= 2 and r["running"] >= 1)
    assert before["succeeded"] < 8, "the run finished before the restart"

    async with running_app(settings) as (client, _):
        run = await wait_terminal(client, run_id)
        assert (run["status"], run["total_items"], run["succeeded"], run["failed"]) == ("COMPLETED", 8, 8, 0)
        items = await items_by_name(client, run_id)
        assert set(items) == set(files)
        assert all(item["status"] == "SUCCEEDED" for item in items.values())
        outputs = await list_elements(client, run["output_datasource_id"])
        assert sorted(e["metadata"]["source_element_id"] for e in outputs) == sorted(ids.values())
        assert {e["id"] for e in outputs} == {i["output_artifacts"][0]["data_element_id"]
                                              for i in items.values()}
        executions = (await client.get("/v2/batch-executions",
                                       params={"input_datasource_id": datasource_id})).json()
        assert executions["pagination"]["total"] == 1
