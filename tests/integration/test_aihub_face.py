"""The AI Hub face in-process: batches and their files, integer batch ids, app runs with their statuses and
per-file results, run deletion, and webhooks from the outbox (signed, retried, delivered once)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from conveyor.services.core import Core
from conveyor.store.webhooks import WebhooksRepo
from tests.support.inprocess import running_app, test_settings
from tests.support.runs import python_agent
from tests.support.webhooks import Receiver, valid_signature, webhook_receiver

API = "/aihub/api/v2"
AppClient = tuple[httpx.AsyncClient, Core]
Json = dict[str, Any]


async def new_batch(client: httpx.AsyncClient, name: str = "docs") -> int:
    response = await client.post(f"{API}/batches", json={"name": name, "workspace": "team"})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def add(client: httpx.AsyncClient, batch_id: int, name: str, data: bytes) -> None:
    response = await client.put(f"{API}/batches/{batch_id}/files/{name}", content=data,
                                headers={"content-type": "application/octet-stream"})
    assert response.status_code == 204, response.text


async def poll_job(client: httpx.AsyncClient, job_id: str, path: str = "batches/jobs") -> Json:
    for _ in range(600):
        state: Json = (await client.get(f"{API}/{path}/{job_id}")).json()
        if state["state"] in ("COMPLETE", "FAILED"):
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


async def finished_run(client: httpx.AsyncClient, run_id: str) -> Json:
    for _ in range(1200):
        run: Json = (await client.get(f"{API}/apps/runs/{run_id}")).json()
        if run["status"] != "RUNNING":
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")


async def all_results(client: httpx.AsyncClient, run_id: str) -> list[Json]:
    files: list[Json] = []
    while True:
        page = (await client.get(f"{API}/apps/runs/{run_id}/results", params={"file_offset": len(files)})).json()
        files += page["files"]
        if not page["has_more"]:
            return files


# batches and files ----------------------------------------------------------------------------------------
async def test_batch_lifecycle(app_client: AppClient) -> None:
    client, _ = app_client
    too_long = await client.post(f"{API}/batches", json={"name": "n" * 256})
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["body", "name"]
    assert too_long.json()["detail"][0]["type"] == "string_too_long"
    batch_id = await new_batch(client)
    info = (await client.get(f"{API}/batches/{batch_id}")).json()
    assert info["id"] == batch_id and info["name"] == "docs" and info["workspace"] == "team"
    assert info["created_at_ms"] > 1_600_000_000_000
    listed = (await client.get(f"{API}/batches")).json()["batches"]
    assert [b["id"] for b in listed] == [batch_id]
    assert (await client.get(f"{API}/batches", params={"workspace": "other"})).json()["batches"] == []

    for name in ("a.txt", "b.txt", "c.txt"):
        await add(client, batch_id, name, f"first {name}".encode())
    await add(client, batch_id, "b.txt", b"second version")
    nodes, token = [], None
    while True:
        params = {"page_size": 2, **({"start_token": token} if token else {})}
        page = (await client.get(f"{API}/batches/{batch_id}/files", params=params)).json()
        nodes += page["nodes"]
        token = page["next_page_token"]
        if not page["has_more"]:
            break
    assert sorted(n["name"] for n in nodes) == ["a.txt", "b.txt", "c.txt"], "a file of the same name is replaced"
    sizes = {n["name"]: n["metadata"]["size"] for n in nodes}
    assert sizes["b.txt"] == len(b"second version")
    assert all(n["full_path"] == f"batches/{batch_id}/{n['name']}" for n in nodes)

    assert (await client.delete(f"{API}/batches/{batch_id}/files/a.txt")).status_code == 202
    again = await client.delete(f"{API}/batches/{batch_id}/files/a.txt")
    assert again.status_code == 404 and "a.txt" in again.json()["detail"]

    deleted = await client.delete(f"{API}/batches/{batch_id}")
    assert deleted.status_code == 202
    job = await poll_job(client, deleted.json()["job_id"])
    assert job["state"] == "COMPLETE"
    assert (await poll_job(client, deleted.json()["job_id"], path="jobs"))["state"] == "COMPLETE"
    gone = await client.get(f"{API}/batches/{batch_id}")
    assert gone.status_code == 404 and gone.json()["detail"] == f"batch {batch_id} not found"
    assert (await client.get(f"{API}/batches")).json()["batches"] == []
    assert (await client.get(f"{API}/batches/jobs/job_unknown")).status_code == 404


async def statements_for(core: Core, client: httpx.AsyncClient, params: Json) -> tuple[list[int], int]:
    """The batch ids one ``GET /v2/batches`` lists, and how many SQL statements it ran."""
    ran: list[str] = []

    def count(*_: Any) -> None:
        ran.append("")

    event.listen(core.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        response = await client.get(f"{API}/batches", params=params)
    finally:
        event.remove(core.db.engine.sync_engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.text
    return [b["id"] for b in response.json()["batches"]], len(ran)


async def test_batches_of_a_workspace_are_paged_in_the_database(tmp_path: Path, database_url: str) -> None:
    async with running_app(test_settings(tmp_path / "home", database_url=database_url)) as (client, core):
        made: dict[str, list[int]] = {"team": [], "other": []}
        for i in range(12):
            space = "team" if i % 3 else "other"
            response = await client.post(f"{API}/batches", json={"name": f"b{i}", "workspace": space})
            made[space].append(int(response.json()["id"]))
        await client.post(f"{API}/batches", json={"name": "none"})
        listed, few = await statements_for(core, client, {"workspace": "team", "limit": 3, "offset": 2})
        assert listed == made["team"][2:5]
        assert (await statements_for(core, client, {"workspace": "other"}))[0] == made["other"]
        assert (await statements_for(core, client, {"workspace": "nobody"}))[0] == []
        assert len((await statements_for(core, client, {"limit": 20}))[0]) == 13
        for i in range(12, 40):
            await client.post(f"{API}/batches", json={"name": f"b{i}", "workspace": "team"})
        listed, more = await statements_for(core, client, {"workspace": "team", "limit": 3, "offset": 2})
        assert listed == made["team"][2:5] and more == few, "the statements do not grow with the batches"


async def test_batch_files_are_elements_of_the_meibel_face(app_client: AppClient) -> None:
    client, _ = app_client
    batch_id = await new_batch(client, "shared")
    await add(client, batch_id, "note.md", b"# hello\n")
    datasources = (await client.get("/v2/datasources")).json()["datasources"]
    (shared,) = [d for d in datasources if d["name"] == "shared"]
    elements = (await client.get(f"/v2/datasources/{shared['id']}/data-elements")).json()["items"]
    assert [(e["name"], e["media_type"]) for e in elements] == [("note.md", "text/markdown")]
    content = await client.get(f"/v2/datasources/{shared['id']}/data-elements/{elements[0]['id']}/content")
    assert content.content == b"# hello\n"
    assert (await client.delete(f"/v2/datasources/{shared['id']}")).status_code == 200
    assert (await client.get(f"{API}/batches/{batch_id}")).status_code == 404, "the mapping went with it"


async def test_batch_ids_grow_and_are_never_reused(tmp_path: Path, database_url: str) -> None:
    async with running_app(test_settings(tmp_path / "home", database_url=database_url)) as (client, core):
        first = [await new_batch(client, f"b{i}") for i in range(3)]
        assert first == sorted(first) and len(set(first)) == 3
        job = (await client.delete(f"{API}/batches/{first[-1]}")).json()["job_id"]
        assert (await poll_job(client, job))["state"] == "COMPLETE"
        later = await new_batch(client, "after")
        assert later > first[-1], "a deleted batch's id is not handed out again"
        project_b = await core.auth.create_project("b")
        b_key, _ = await core.auth.create_key(project_b.id, "b")
        b_batch = await client.post(f"{API}/batches", json={"name": "b's"}, headers={"Meibel-API-Key": b_key})
        assert b_batch.json()["id"] not in {*first, later}


# app runs -------------------------------------------------------------------------------------------------
async def test_app_run_over_a_batch_with_paged_results(app_client: AppClient) -> None:
    client, _ = app_client
    agent_id = await python_agent(client, "fail_matching", fail_pattern="^bad")
    batch_id = await new_batch(client)
    names = [f"doc-{i:02d}.txt" for i in range(24)] + ["bad.txt"]
    for name in names:
        await add(client, batch_id, name, name.encode())
    started = await client.post(f"{API}/apps/runs", json={"app_name": "test fail_matching", "batch_id": batch_id})
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "RUNNING"
    run = await finished_run(client, started.json()["id"])
    assert run["status"] == "COMPLETE" and run["msg"] == "24 of 25 files succeeded, 1 failed, 0 cancelled"
    assert run["finish_timestamp"] >= run["start_timestamp"] > 10**18

    first = (await client.get(f"{API}/apps/runs/{run['id']}/results")).json()
    assert len(first["files"]) == 20 and first["has_more"] and first["batch_id"] == str(batch_id)
    files = await all_results(client, run["id"])
    assert [f["original_file_name"] for f in files] == names, "files in upload order"
    by_name = {f["original_file_name"]: f for f in files}
    fields = {f["field_name"]: f for f in by_name["doc-03.txt"]["documents"][0]["fields"]}
    assert fields["name"]["value"] == "doc-03.txt" and fields["size"] == {
        "field_name": "size", "value": "10", "type": "NUMBER", "error_msg": None}
    assert "element__id" in fields, "AI Hub doubles underscores in field names"
    (bad,) = by_name["bad.txt"]["documents"][0]["fields"]
    assert bad["value"] == "ERROR" and "refusing bad.txt on purpose" in bad["error_msg"]

    by_id = await client.post(f"{API}/apps/runs", json={"app_id": agent_id, "batch_id": batch_id})
    assert by_id.status_code == 200, by_id.text
    await finished_run(client, by_id.json()["id"])
    listed = (await client.get(f"{API}/apps/runs", params={"app_id": agent_id})).json()["runs"]
    assert {r["id"] for r in listed} == {run["id"], by_id.json()["id"]}
    complete = (await client.get(f"{API}/apps/runs", params={"status": ["COMPLETE"], "limit": 1})).json()["runs"]
    assert len(complete) == 1
    assert (await client.get(f"{API}/apps/runs", params={"status": ["FAILED"]})).json()["runs"] == []
    assert (await client.get(f"{API}/apps/runs", params={"app_name": "nothing"})).json()["runs"] == []


async def test_results_of_outputs_that_are_not_json_or_too_large_to_show(app_client: AppClient) -> None:
    client, _ = app_client
    await python_agent(client, "unusual_outputs", mib=8.5)
    batch_id = await new_batch(client)
    await add(client, batch_id, "x.txt", b"x")
    started = await client.post(f"{API}/apps/runs", json={"app_name": "test unusual_outputs", "batch_id": batch_id})
    assert (await finished_run(client, started.json()["id"]))["status"] == "COMPLETE"
    for _ in range(2):  # the same answer every time the page is read
        (result,) = await all_results(client, started.json()["id"])
        fields = {f["field_name"]: f for f in result["documents"][0]["fields"]}
        assert fields["broken"]["value"] == "ERROR"
        assert fields["broken"]["error_msg"].startswith("this output is not valid JSON; its bytes are at GET /v2/")
        assert fields["long"]["value"] == "a" * (8 << 20), "text is cut at 8 MiB"
        assert fields["big"]["value"] == "ERROR"
        for name in ("long", "big"):
            assert "larger than 8 MiB" in fields[name]["error_msg"]
    whole = await client.get(fields["long"]["error_msg"].split("GET ", 1)[1])
    assert whole.status_code == 200 and len(whole.content) == int(8.5 * (1 << 20)), "the message names the output"


async def test_built_in_parse_app_is_created_once(app_client: AppClient) -> None:
    client, _ = app_client
    batch_id = await new_batch(client)
    await add(client, batch_id, "readme.md", b"# Title\n\nSome text.\n")
    runs = [await client.post(f"{API}/apps/runs", json={"app_name": "parse", "batch_id": batch_id})
            for _ in range(2)]
    for started in runs:
        assert (await finished_run(client, started.json()["id"]))["status"] == "COMPLETE"
    agents = (await client.get("/v2/agents")).json()["data"]
    assert [(a["name"], a["type"]) for a in agents] == [("parse", "parse")]
    (result,) = await all_results(client, runs[0].json()["id"])
    document = result["documents"][0]
    fields = {f["field_name"]: f["value"] for f in document["fields"]}
    assert "# Title" in fields["markdown"] and "Some text." in fields["text"]
    assert document["page_numbers"] == [1]


@pytest.mark.parametrize(("body", "status", "loc"), [
    ({"app_name": "parse"}, 422, ["body", "batch_id"]),
    ({"app_name": "parse", "input_dir": "/some/dir"}, 422, ["body", "input_dir"]),
    ({"batch_id": 1}, 422, ["body", "app_name"]),
    ({"app_name": "no-such-app", "batch_id": 1}, 404, None),
    ({"app_name": "parse", "batch_id": 999}, 404, None),
    ({"app_name": "parse", "batch_id": 1, "settings": {"webhook_config": {"url": "ftp://x"}}}, 422,
     ["body", "settings", "webhook_config", "url"]),
])
async def test_bad_run_requests(app_client: AppClient, body: Json, status: int, loc: list[str] | None) -> None:
    client, _ = app_client
    assert await new_batch(client) == 1
    response = await client.post(f"{API}/apps/runs", json=body)
    assert response.status_code == status, response.text
    if loc is not None:
        assert response.json()["detail"][0]["loc"] == loc


async def test_deleting_a_run(app_client: AppClient) -> None:
    client, _ = app_client
    await python_agent(client, "echo")
    batch_id = await new_batch(client)
    await add(client, batch_id, "x.txt", b"x")
    run_id = (await client.post(f"{API}/apps/runs", json={"app_name": "test echo", "batch_id": batch_id})).json()["id"]
    await finished_run(client, run_id)
    meibel = (await client.get(f"/v2/batch-executions/id/{run_id}")).json()
    assert meibel["status"] == "COMPLETED" and meibel["succeeded"] == 1
    response = await client.delete(f"{API}/apps/runs/{run_id}", params={
        "delete_db_data": True, "delete_input": True, "delete_output": True, "delete_logs": True})
    assert response.status_code == 202, response.text
    jobs = response.json()
    assert jobs["delete_log_dir_job_id"] is None
    for job in (jobs["delete_input_dir_job_id"], jobs["delete_output_dir_job_id"]):
        assert (await poll_job(client, job, path="jobs"))["state"] == "COMPLETE"
    assert (await client.get(f"{API}/apps/runs/{run_id}")).status_code == 404
    assert (await client.get(f"/v2/batch-executions/id/{run_id}")).status_code == 404
    assert (await client.get(f"{API}/batches/{batch_id}")).status_code == 404
    assert (await client.get(f"/v2/datasources/{meibel['output_datasource_id']}")).status_code == 404


# webhooks -------------------------------------------------------------------------------------------------
async def run_with_hook(client: httpx.AsyncClient, receiver: Receiver, **hook: Any) -> str:
    await python_agent(client, "echo")
    batch_id = await new_batch(client)
    await add(client, batch_id, "one.txt", b"one")
    config = {"url": receiver.url, "headers": {"X-Team": "docs"}, **hook}
    started = await client.post(f"{API}/apps/runs", json={
        "app_name": "test echo", "batch_id": batch_id, "settings": {"webhook_config": config}})
    assert started.status_code == 200, started.text
    return str(started.json()["id"])


async def test_completion_webhook_is_signed_retried_and_delivered_once(tmp_path: Path, database_url: str) -> None:
    async with running_app(test_settings(tmp_path / "home", database_url=database_url)) as (client, core):
        await _signed_retried_once(client, core)


async def _signed_retried_once(client: httpx.AsyncClient, core: Core) -> None:
    with webhook_receiver() as receiver:
        receiver.answers = [500, 503]
        run_id = await run_with_hook(client, receiver, secret="s3cret")
        received = await asyncio.to_thread(receiver.wait_for, 3)
        assert (await finished_run(client, run_id))["status"] == "COMPLETE"
        await core.webhooks.deliver_due()
        assert len(receiver.received) == 3, "delivered once after two refusals"
    bodies = {r.body for r in received}
    assert len(bodies) == 1, "every attempt sends the same bytes"
    last = received[-1]
    assert last.path == "/hooks/run-done" and last.headers["x-team"] == "docs"
    assert last.headers["x-conveyor-event"] == "run.completed"
    assert valid_signature("s3cret", last) and not valid_signature("other", last)
    body = json.loads(last.body)
    assert body["run_id"] == run_id and body["status"] == "COMPLETE" and body["app_name"] == "test echo"
    assert body["succeeded"] == 1 and body["total_files"] == 1 and isinstance(body["batch_id"], int)
    (delivery,) = await WebhooksRepo(core.db).for_subject(run_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 3, None)


async def test_a_webhook_that_never_succeeds_stops_after_max_attempts(tmp_path: Path) -> None:
    async with running_app(test_settings(tmp_path / "home", webhook_max_attempts=2)) as (client, core):
        with webhook_receiver() as receiver:
            receiver.answers = [500] * 10
            run_id = await run_with_hook(client, receiver)
            received = await asyncio.to_thread(receiver.wait_for, 2)
            for _ in range(200):
                (delivery,) = await WebhooksRepo(core.db).for_subject(run_id)
                if delivery.status != "pending":
                    break
                await asyncio.sleep(0.05)
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 2, "HTTP 500")
        assert len(received) == 2 and "x-conveyor-signature" not in received[0].headers


async def test_the_outbox_row_is_written_with_the_runs_end(app_client: AppClient) -> None:
    """A run that ends has its delivery row already, whatever the deliverer has done since."""
    client, core = app_client
    await core.webhooks.close()  # no deliveries: only the outbox is observed
    receiver = Receiver(url="http://127.0.0.1:9/never")
    run_id = await run_with_hook(client, receiver)
    await finished_run(client, run_id)
    (delivery,) = await WebhooksRepo(core.db).for_subject(run_id)
    assert delivery.status == "pending" and delivery.event == "run.completed"
    assert delivery.payload["status"] == "COMPLETED" and delivery.payload["succeeded"] == 1


@pytest.mark.parametrize(("url", "headers"), [("http://127.0.0.1:99999/hook", {}),
                                              ("http://127.0.0.1:9/hook", {"X-Team": "é"})])
async def test_a_webhook_that_cannot_even_be_sent_counts_its_attempts_and_gives_up(
        tmp_path: Path, url: str, headers: dict[str, str]) -> None:
    async with running_app(test_settings(tmp_path / "home", webhook_max_attempts=2)) as (client, core):
        run_id = await run_with_hook(client, Receiver(url=url), headers=headers)
        await finished_run(client, run_id)
        for _ in range(300):
            (delivery,) = await WebhooksRepo(core.db).for_subject(run_id)
            if delivery.status != "pending":
                break
            await WebhooksRepo(core.db).set(delivery.id, next_attempt_at=delivery.created_at)  # skip the backoff
            core.webhooks.wake()
            await asyncio.sleep(0.05)
        assert (delivery.status, delivery.attempts) == ("failed", 2) and delivery.last_error
