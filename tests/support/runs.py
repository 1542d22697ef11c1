"""Driving runs through the Meibel v2 API in-process: datasources, python agents, definitions, polling."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from conveyor.services.core import Core

AppClient = tuple[httpx.AsyncClient, Core]
Json = dict[str, Any]
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
CALLABLES = "tests.support.callables"



def text_files(*names: str) -> dict[str, bytes]:
    return {name: f"content of {name}\n".encode() for name in names}


async def new_datasource(client: httpx.AsyncClient, files: dict[str, bytes],
                         media_types: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """A datasource holding ``files``; returns its id and the element id of each file name."""
    response = await client.post("/v2/datasources", json={"name": "inputs"})
    assert response.status_code == 201, response.text
    datasource_id = response.json()["id"]
    await upload(client, datasource_id, files, media_types)
    return datasource_id, {e["name"]: e["id"] for e in await list_elements(client, datasource_id)}


async def upload(client: httpx.AsyncClient, datasource_id: str, files: dict[str, bytes],
                 media_types: dict[str, str] | None = None) -> None:
    parts = [("files", (name, data, (media_types or {}).get(name, "text/plain"))) for name, data in files.items()]
    response = await client.post(f"/v2/datasources/{datasource_id}/content", files=parts)
    assert response.status_code == 202, response.text


async def list_elements(client: httpx.AsyncClient, datasource_id: str) -> list[Json]:
    found: list[Json] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = (await client.get(f"/v2/datasources/{datasource_id}/data-elements", params=params)).json()
        found += page["items"]
        if not page["has_next"]:
            return found
        params["cursor"] = page["next_cursor"]


async def python_agent(client: httpx.AsyncClient, function: str, **options: Any) -> str:
    body = {"display_name": f"test {function}", "instructions": "", "type": "python",
            "additional_properties": {"callable": f"{CALLABLES}:{function}", **options}}
    response = await client.post("/v2/agents", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_definition(client: httpx.AsyncClient, agent_id: str, datasource_id: str, *,
                         concurrency: int = 4, retry_limit: int = 0, filters: Json | None = None) -> str:
    body: Json = {"name": f"bd-{time.monotonic_ns()}", "agent_id": agent_id,
                  "input_datasource_id": datasource_id, "concurrency": concurrency, "retry_limit": retry_limit}
    if filters is not None:
        body["filters"] = filters
    response = await client.post("/v2/batch-definitions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def execute(client: httpx.AsyncClient, definition_id: str) -> str:
    response = await client.post(f"/v2/batch-definitions/id/{definition_id}/execute")
    assert response.status_code == 201, response.text
    return str(response.json()["execution_id"])


async def get_run(client: httpx.AsyncClient, run_id: str) -> Json:
    response = await client.get(f"/v2/batch-executions/id/{run_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def wait_until(client: httpx.AsyncClient, run_id: str, done: Any, within: float = 30) -> Json:
    """Poll the run until ``done(run)``; the timeout only guards against a hang."""
    deadline = time.monotonic() + within
    while True:
        run = await get_run(client, run_id)
        if done(run):
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']}: {run}"
        await asyncio.sleep(0.05)


async def wait_terminal(client: httpx.AsyncClient, run_id: str) -> Json:
    return await wait_until(client, run_id, lambda run: run["status"] in TERMINAL)


async def run_once(client: httpx.AsyncClient, function: str, files: dict[str, bytes], *,
                   concurrency: int = 4, retry_limit: int = 0, **options: Any) -> tuple[Json, dict[str, str]]:
    """Upload ``files``, run ``function`` over them, wait for the end; (run, element ids by name)."""
    datasource_id, ids = await new_datasource(client, files)
    agent_id = await python_agent(client, function, **options)
    definition_id = await new_definition(client, agent_id, datasource_id, concurrency=concurrency,
                                         retry_limit=retry_limit)
    return await wait_terminal(client, await execute(client, definition_id)), ids


async def all_items(client: httpx.AsyncClient, run_id: str, *, status: str | None = None,
                    limit: int = 100) -> list[Json]:
    found: list[Json] = []
    params: dict[str, Any] = {"limit": limit}
    if status is not None:
        params["status"] = status
    while True:
        response = await client.get(f"/v2/batch-executions/id/{run_id}/items", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        found += page["items"]
        if not page["has_next"]:
            assert page["next_cursor"] is None
            return found
        params["cursor"] = page["next_cursor"]


async def items_by_name(client: httpx.AsyncClient, run_id: str) -> dict[str, Json]:
    items = await all_items(client, run_id)
    by_name = {item["filename"]: item for item in items}
    assert len(by_name) == len(items), "an element appears twice in the run"
    return by_name


async def content(client: httpx.AsyncClient, datasource_id: str, element_id: str) -> bytes:
    response = await client.get(f"/v2/datasources/{datasource_id}/data-elements/{element_id}/content")
    assert response.status_code == 200, response.text
    return response.content


def starts(state_dir: Path) -> list[str]:
    """Element ids whose :func:`~tests.support.callables.sleepy` call began, in order."""
    log = state_dir / "events.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split()[1] for line in lines if line.startswith("start ")]


def assert_counts_add_up(run: Json) -> None:
    parts = run["succeeded"] + run["failed"] + run["cancelled"] + run["pending"] + run["running"]
    assert parts == run["total_items"], run


# outcomes ----------------------------------------------------------------------------------------------
