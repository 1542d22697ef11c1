"""The LlamaCloud face in-process: batch statuses and webhooks (SQLite and PostgreSQL), ids of objects made
through the Meibel face, configurations pinned by the batches that use them."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.inprocess import running_app, test_settings
from tests.support.llm import silent_llm
from tests.support.runs import AppClient, Json, new_datasource
from tests.support.webhooks import valid_signature, webhook_receiver

LC = "/llamacloud"
DIRS = f"{LC}/api/v1/beta/directories"
BATCHES = f"{LC}/api/v2/batches"
CONFIGS = f"{LC}/api/v1/beta/configurations"
SCHEMA = {"type": "object", "properties": {"vendor": {"type": "string"}}}
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")


async def ok(response: httpx.Response) -> Json:
    assert response.status_code < 300, f"{response.request.url}: {response.status_code} {response.text}"
    return dict(response.json())


async def directory_with(client: httpx.AsyncClient, name: str, files: dict[str, bytes]) -> str:
    directory = (await ok(await client.post(DIRS, json={"name": name})))["id"]
    for filename, data in files.items():
        await ok(await client.post(f"{DIRS}/{directory}/files/upload", files={"upload_file": (filename, data)}))
    return str(directory)


async def start(client: httpx.AsyncClient, directory: str, config_id: str, job_type: str = "parse_v2",
                **extra: Any) -> str:
    body = {"config": {"job": {"type": job_type, "configuration_id": config_id}}, "source_directory_id": directory,
            **extra}
    return str((await ok(await client.post(BATCHES, json=body)))["id"])


async def wait_status(client: httpx.AsyncClient, batch_id: str, wanted: tuple[str, ...], within: float = 60) -> Json:
    """Poll the batch until its status is one of ``wanted``; the time limit only guards against a hang."""
    deadline = time.monotonic() + within
    while True:
        batch = await ok(await client.get(f"{BATCHES}/{batch_id}"))
        if batch["status"] in wanted:
            return batch
        assert time.monotonic() < deadline, f"batch {batch_id} still {batch['status']}"
        await asyncio.sleep(0.05)


async def test_a_batch_waiting_for_capacity_is_throttled_and_its_webhooks_say_so(tmp_path: Path,
                                                                                database_url: str) -> None:
    """One worker slot, held by an extract batch whose LLM never answers: a parse batch behind it is
    THROTTLED until the first is cancelled, then completes; its webhooks are pending, running (once) and
    success, signed."""
    with silent_llm() as llm, webhook_receiver() as hooks:
        settings = test_settings(tmp_path / "home", database_url=database_url, llm_base_url=llm, max_workers=1)
        async with running_app(settings) as (client, _):
            directory = await directory_with(client, "notes", {"a.txt": b"Invoice from ACME", "b.txt": b"B"})
            extract = (await ok(await client.post(CONFIGS, json={"name": "vendor", "parameters": {
                "product_type": "extract_v2", "data_schema": SCHEMA}})))["id"]
            holder = await start(client, directory, extract, "extract_v2")
            await wait_status(client, holder, ("RUNNING",))
            waiting = await start(client, directory, "cfg-PARSE_FAST", webhook_configurations=[
                {"webhook_url": hooks.url, "webhook_signing_secret": "s3cret", "webhook_headers": {"X-A": "1"}}])
            await wait_status(client, waiting, ("THROTTLED",))
            throttled = (await ok(await client.get(BATCHES, params={"status": "THROTTLED"})))["items"]
            assert [b["id"] for b in throttled] == [waiting]

            cancelled = await ok(await client.post(f"{BATCHES}/{holder}/cancel"))
            assert cancelled["id"] == holder
            assert (await wait_status(client, holder, TERMINAL))["status"] == "CANCELLED"
            assert (await wait_status(client, waiting, TERMINAL))["status"] == "COMPLETED"
            received = await asyncio.to_thread(hooks.wait_for, 3)
    bodies = [json.loads(r.body) for r in received]
    assert sorted(b["event_type"] for b in bodies) == ["batch.pending", "batch.running", "batch.success"]
    status = {b["event_type"]: b["status"] for b in bodies}
    assert status["batch.pending"] == "PENDING" and status["batch.success"] == "COMPLETED"
    assert status["batch.running"] in ("RUNNING", "THROTTLED")  # started, then waited for the slot
    assert all(valid_signature("s3cret", r, "lc-signature") and r.headers["x-a"] == "1" for r in received)
    assert all(b["data"]["id"] == waiting and b["data"]["source_directory_id"] == directory for b in bodies)


async def test_a_meibel_datasource_is_a_directory_with_a_lasting_id(app_client: AppClient) -> None:
    client, _ = app_client
    datasource, elements = await new_datasource(client, {"one.txt": b"1", "two.txt": b"2"})
    listed = (await ok(await client.get(DIRS, params={"name": "inputs"})))["items"]
    assert len(listed) == 1 and listed[0]["id"].startswith("dir-")
    directory = listed[0]["id"]
    assert (await ok(await client.get(DIRS)))["items"][0]["id"] == directory
    files = (await ok(await client.get(f"{DIRS}/{directory}/files")))["items"]
    assert sorted(f["display_name"] for f in files) == ["one.txt", "two.txt"]
    nested = {"owner": {"team": "ops"}, "tags": [1, 2]}  # any JSON through the Meibel face
    await ok(await client.put(f"/v2/datasources/{datasource}/data-elements/{elements['one.txt']}",
                              json={"metadata": nested}))
    again = (await ok(await client.get(f"{DIRS}/{directory}/files")))["items"]
    assert [f["id"] for f in again] == [f["id"] for f in files]
    assert next(f["metadata"] for f in again if f["display_name"] == "one.txt") == nested
    assert all(f["file_id"] == f["id"] and f["id"].startswith("dfl-") for f in files)

    assert (await client.delete(f"/v2/datasources/{datasource}")).status_code == 200
    assert (await client.get(f"{DIRS}/{directory}")).status_code == 404
    assert len(elements) == 2


async def test_updating_a_configuration_leaves_earlier_batches_as_they_were(app_client: AppClient) -> None:
    client, _ = app_client
    directory = await directory_with(client, "docs", {"a.md": b"# A\n\ntext"})
    created = await ok(await client.post(CONFIGS, json={"name": "p", "parameters": {
        "product_type": "parse_v2", "tier": "fast", "version": "latest"}}))
    first = await start(client, directory, created["id"])
    await wait_status(client, first, TERMINAL)
    updated = await ok(await client.put(f"{CONFIGS}/{created['id']}", json={"parameters": {
        "product_type": "parse_v2", "tier": "cost_effective", "version": "latest",
        "page_ranges": {"target_pages": "1"}}}))
    assert updated["id"] == created["id"] and updated["version"] > created["version"]
    assert updated["parameters"]["page_ranges"] == {"target_pages": "1"}
    second = await start(client, directory, created["id"])
    await wait_status(client, second, TERMINAL)

    executions = (await ok(await client.get("/v2/batch-executions", params={"sort_order": "asc"})))["data"]
    options = [e["agent_spec_json"]["additional_properties"] for e in executions]
    assert options == [{"ocr": "off"}, {"ocr": "auto", "pages": "1"}]
    listed = (await ok(await client.get(BATCHES)))["items"]
    assert [b["id"] for b in listed] == [second, first]
    assert all(b["config"]["job"]["configuration_id"] == created["id"] for b in listed)


async def test_only_batches_made_here_are_listed(app_client: AppClient) -> None:
    client, _ = app_client
    datasource, _ = await new_datasource(client, {"x.txt": b"x"})
    agent = (await ok(await client.post("/v2/agents", json={"display_name": "p", "type": "parse"})))["id"]
    await ok(await client.post("/v2/batch-executions", json={"batch_spec_json": {
        "name": "meibel run", "agent": agent, "input": {"datasource_id": datasource}}}))
    directory = (await ok(await client.get(DIRS)))["items"][0]["id"]
    batch = await start(client, directory, "cfg-PARSE_COST_EFFECTIVE")
    page = await ok(await client.get(BATCHES))
    assert [b["id"] for b in page["items"]] == [batch] and page["total_size"] == 1
    assert len((await ok(await client.get("/v2/batch-executions")))["data"]) == 2
