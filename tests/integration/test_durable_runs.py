"""Run semantics of the durable engine: transient vs permanent faults, fair sharing of server capacity
(THROTTLED while waiting), idempotent starts, and the JSONL results export."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from tests.support.callables import max_in_flight
from tests.support.inprocess import running_app, test_settings
from tests.support.runs import (
    TERMINAL,
    AppClient,
    Json,
    all_items,
    assert_counts_add_up,
    execute,
    get_run,
    new_datasource,
    new_definition,
    python_agent,
    run_once,
    text_files,
    wait_terminal,
)


async def test_transient_faults_recover_and_permanent_ones_fail_once(app_client: AppClient, tmp_path: Path) -> None:
    client, _ = app_client
    names = [f"f-{i:03d}.txt" for i in range(200)]
    run, _ids = await run_once(client, "faulty", text_files(*names), concurrency=20, retry_limit=3,
                               state_dir=str(tmp_path / "calls"))
    assert run["status"] == "COMPLETED"
    assert_counts_add_up(run)
    permanent = {n for i, n in enumerate(names) if i % 100 == 0}
    transient = {n for i, n in enumerate(names) if i % 10 < 3} - permanent
    items = {i["filename"]: i for i in await all_items(client, run["id"])}
    assert {n for n, i in items.items() if i["status"] == "FAILED"} == permanent
    for name in permanent:
        assert items[name]["attempts"] == 1 and "corrupt" in items[name]["error"]
    for name in transient:
        assert items[name]["status"] == "SUCCEEDED" and items[name]["attempts"] == 2
    assert all(items[n]["attempts"] == 1 for n in set(names) - permanent - transient)
    assert (run["succeeded"], run["failed"]) == (198, 2)

    await client.post(f"/v2/batch-executions/id/{run['id']}/retry-failed")
    again = await wait_terminal(client, run["id"])
    retried = {i["filename"]: i for i in await all_items(client, run["id"])}
    assert again["failed"] == 2 and again["succeeded"] == 198
    assert {n for n, i in retried.items() if i["attempts"] == 2 and i["status"] == "FAILED"} == permanent
    assert all(retried[n]["attempts"] == items[n]["attempts"] for n in set(names) - permanent), "only FAILED re-ran"


async def test_a_small_late_run_is_not_starved_by_a_big_one(tmp_path: Path) -> None:
    state = str(tmp_path / "calls")
    async with running_app(test_settings(tmp_path / "home", max_workers=4)) as (client, _core):
        big_ds, _ = await new_datasource(client, text_files(*(f"big-{i}.txt" for i in range(12))))
        small_ds, _ = await new_datasource(client, text_files(*(f"small-{i}.txt" for i in range(4))))
        agent = await python_agent(client, "sleepy", sleep=1.0, state_dir=state)
        big = await execute(client, await new_definition(client, agent, big_ds, concurrency=4))
        while (await get_run(client, big))["running"] < 4:
            await asyncio.sleep(0.02)
        small = await execute(client, await new_definition(client, agent, small_ds, concurrency=4))
        seen: set[str] = set()
        while (run := await get_run(client, small))["status"] not in TERMINAL:
            seen.add(run["status"])
            await asyncio.sleep(0.02)
        big_then = await get_run(client, big)
        assert "THROTTLED" in seen, "the small run waited for capacity as THROTTLED"
        assert run["succeeded"] == 4 and big_then["status"] not in TERMINAL, "the small run finished first"
        assert (await wait_terminal(client, big))["succeeded"] == 12
    assert max_in_flight(Path(state)) <= 4, "the server-wide limit held across both runs"


async def test_idempotency_key_returns_the_same_run(app_client: AppClient) -> None:
    client, _ = app_client
    datasource, _ = await new_datasource(client, text_files("a.txt", "b.txt"))
    agent = await python_agent(client, "echo")
    definition = await new_definition(client, agent, datasource)
    url = f"/v2/batch-definitions/id/{definition}/execute"

    async def start(key: str) -> str:
        response = await client.post(url, headers={"Idempotency-Key": key})
        assert response.status_code == 201
        return str(response.json()["execution_id"])

    first = await start("nightly-2026-11-22")
    assert await start("nightly-2026-11-22") == first
    assert await start("nightly-2026-11-23") != first
    raced = await asyncio.gather(*(start("raced") for _ in range(5)))
    assert len(set(raced)) == 1

    spec = {"batch_spec_json": {"name": "legacy", "agent": agent, "input": {"datasource_id": datasource}}}
    created = [(await client.post("/v2/batch-executions", json=spec, headers={"Idempotency-Key": "k"})).json()
               for _ in range(2)]
    assert created[0]["id"] == created[1]["id"]
    listed = (await client.get("/v2/batch-executions")).json()["pagination"]["total"]
    assert listed == 4, "nightly twice, the race once, legacy once"


async def _export(client: httpx.AsyncClient, run_id: str, **params: str) -> list[Json]:
    response = await client.get(f"/v2/batch-executions/id/{run_id}/results.jsonl", params=params)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


async def test_results_export_streams_while_running_and_resumes_from_a_cursor(app_client: AppClient) -> None:
    client, _ = app_client
    datasource, ids = await new_datasource(client, text_files(*(f"r-{i:02d}.txt" for i in range(20))))
    agent = await python_agent(client, "sleepy", sleep=0.15)
    run_id = await execute(client, await new_definition(client, agent, datasource, concurrency=2))
    while (await get_run(client, run_id))["succeeded"] < 4:
        await asyncio.sleep(0.05)
    early = await _export(client, run_id)
    assert 4 <= len(early) < 20 and (await get_run(client, run_id))["status"] not in TERMINAL
    assert all(line["status"] == "SUCCEEDED" and line["output_artifacts"] for line in early)

    rest = await _export(client, run_id, cursor=early[-1]["cursor"], follow="true")
    exported = [line["input_data_element_id"] for line in early + rest]
    assert sorted(exported) == sorted(ids.values()), "every item once, none twice"
    assert await _export(client, run_id, cursor=rest[-1]["cursor"]) == []
    bad = await client.get(f"/v2/batch-executions/id/{run_id}/results.jsonl", params={"cursor": "nope"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "cursor"]


async def test_an_agent_time_limit_stops_a_slow_item(app_client: AppClient) -> None:
    client, _ = app_client
    run, _ids = await run_once(client, "sleepy", text_files("slow.txt"), retry_limit=1, sleep=30,
                               timeout_seconds=0.2)
    [item] = await all_items(client, run["id"])
    assert item["status"] == "FAILED" and item["attempts"] == 2
    assert "timed out after 0.2 s" in item["error"] and "gave up after 2 attempts" in item["error"]
