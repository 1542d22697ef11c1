"""Run-level outcomes that are not about items: a vanished input, lists without inlined items."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def _until_terminal(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(300):
        run: dict[str, Any] = (await client.get(f"/v2/batch-executions/id/{run_id}")).json()
        if run["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return run
        await asyncio.sleep(0.05)
    raise AssertionError("run did not finish")


async def _definition(client: httpx.AsyncClient) -> tuple[str, str]:
    ds = (await client.post("/v2/datasources", json={"name": "in"})).json()["id"]
    files = [("files", (f"n{i}.txt", b"hello", "text/plain")) for i in range(3)]
    await client.post(f"/v2/datasources/{ds}/content", files=files)
    agent = (await client.post("/v2/agents", json={"display_name": "P", "type": "parse"})).json()["id"]
    definition = (await client.post("/v2/batch-definitions", json={
        "name": "p", "agent_id": agent, "input_datasource_id": ds})).json()["id"]
    return ds, definition


async def test_a_run_whose_input_vanished_fails_with_a_reason(app_client: Any) -> None:
    client, _core = app_client
    ds, definition = await _definition(client)
    assert (await client.delete(f"/v2/datasources/{ds}")).status_code == 200
    run_id = (await client.post(f"/v2/batch-definitions/id/{definition}/execute")).json()["execution_id"]
    run = await _until_terminal(client, run_id)
    assert run["status"] == "FAILED" and "no longer exists" in run["error"]
    assert run["total_items"] == 0 and run["end_time"] is not None


async def test_lists_do_not_inline_items_but_a_finished_run_does(app_client: Any) -> None:
    client, _core = app_client
    _ds, definition = await _definition(client)
    run_id = (await client.post(f"/v2/batch-definitions/id/{definition}/execute")).json()["execution_id"]
    run = await _until_terminal(client, run_id)
    assert run["status"] == "COMPLETED" and len(run["items"]) == 3
    listed = (await client.get("/v2/batch-executions")).json()["data"]
    assert [r["id"] for r in listed] == [run_id] and listed[0]["items"] is None
    assert listed[0]["succeeded"] == 3
