"""Tenancy: a second project's key never reaches the first project's objects, on any route.

The walks iterate ``app.routes`` and look each route up in :data:`ROUTES`; a route missing from the table
fails :func:`test_route_table_covers_every_route`, so a new route cannot skip these checks.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import fastapi.routing
import httpx
import pytest

from conveyor.api.app import create_app
from conveyor.services.core import Core
from tests.support.inprocess import running_app, test_settings
from tests.support.llm import silent_llm

V2 = "/v2"
AIHUB = "/aihub/api/v2"
LC = "/llamacloud"
LC_DIRS = f"{LC}/api/v1/beta/directories"
LC_FILES = f"{LC}/api/v1/beta/files"
LC_CONFIGS = f"{LC}/api/v1/beta/configurations"
LC_BATCHES = f"{LC}/api/v2/batches"
PARSE_FAST = {"product_type": "parse_v2", "tier": "fast", "version": "latest"}
BATCH_NAME = "batch-of-project-a"
PUBLIC = "public"  # no key needed, serves no project data
SIGNED = "signed"  # no key needed: a presigned URL's signature is the credential, for whoever holds it
OWN = "own"  # no id of A's in the request: B acts on its own project
LIST = "list"  # B's listing: must not show A's objects
BY_ID = "by_id"  # names an id of A's (path, query or body): B gets 404


@dataclass(frozen=True)
class Call:
    """How to call one route validly: the kind of check, and the query, JSON body or files to send."""

    kind: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    upload: bool = False
    content: bytes | None = None  # a raw body
    ids: dict[str, str] = field(default_factory=dict)  # path ids other than the world's defaults


def _defn_body(w: World) -> dict[str, Any]:
    return {"name": "copy", "agent_id": w.agent, "input_datasource_id": w.datasource}


def _legacy_body(w: World) -> dict[str, Any]:
    return {"batch_spec_json": {"name": "legacy", "agent": w.agent, "input": {"datasource_id": w.datasource}}}


# (method, path template) -> a call, or a function of A's world giving one (bodies that hold A's ids)
ROUTES: dict[tuple[str, str], Any] = {
    ("GET", "/health"): Call(PUBLIC),
    ("GET", "/openapi.json"): Call(PUBLIC),
    ("GET", "/docs"): Call(PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Call(PUBLIC),
    ("GET", "/redoc"): Call(PUBLIC),
    # datasources and ingest
    ("GET", "/v2/datasources"): Call(LIST),
    ("POST", "/v2/datasources"): Call(OWN, json={"name": "own datasource"}),
    ("GET", "/v2/datasources/{datasource_id}"): Call(BY_ID),
    ("PUT", "/v2/datasources/{datasource_id}"): Call(BY_ID, json={"description": "changed"}),
    ("DELETE", "/v2/datasources/{datasource_id}"): Call(BY_ID),
    ("POST", "/v2/datasources/{datasource_id}/trigger-ingest"): Call(BY_ID),
    ("GET", "/v2/datasources/{datasource_id}/ingest-status"): Call(BY_ID),
    # content and uploads
    ("POST", "/v2/datasources/{datasource_id}/content"): Call(BY_ID, upload=True),
    ("POST", "/v2/datasources/{datasource_id}/content/process"): Call(BY_ID, upload=True),
    ("GET", "/v2/datasources/{datasource_id}/content"): Call(BY_ID),
    ("GET", "/v2/datasources/uploads/{upload_id}/progress"): Call(BY_ID),
    # data elements
    ("GET", "/v2/datasources/{datasource_id}/data-elements"): Call(BY_ID),
    ("POST", "/v2/datasources/{datasource_id}/data-elements/search"): Call(BY_ID, json={"regex_filter": "."}),
    ("GET", "/v2/datasources/{datasource_id}/data-elements/{data_element_id}"): Call(BY_ID),
    ("PUT", "/v2/datasources/{datasource_id}/data-elements/{data_element_id}"):
        Call(BY_ID, json={"description": "changed"}),
    ("GET", "/v2/datasources/{datasource_id}/data-elements/{data_element_id}/content"): Call(BY_ID),
    # downloads
    ("POST", "/v2/datasources/{datasource_id}/downloads"): Call(BY_ID, json={"content": "files"}),
    ("GET", "/v2/datasources/{datasource_id}/downloads/{job_id}/progress"): Call(BY_ID),
    ("GET", "/v2/datasources/{datasource_id}/downloads/{job_id}/file"): Call(BY_ID),
    ("POST", "/v2/datasources/{datasource_id}/downloads/process"): Call(BY_ID, json={"content": "files"}),
    # agents
    ("GET", "/v2/agents"): Call(LIST),
    ("POST", "/v2/agents"): Call(OWN, json={"display_name": "own agent", "type": "parse"}),
    ("GET", "/v2/agents/{agent_id}"): Call(BY_ID),
    ("PUT", "/v2/agents/{agent_id}"): Call(BY_ID, json={"description": "changed"}),
    ("DELETE", "/v2/agents/{agent_id}"): Call(BY_ID),
    ("POST", "/v2/agents/{agent_id}/publish"): Call(BY_ID, json={"commit_message": "ship it"}),
    ("GET", "/v2/agents/{agent_id}/versions"): Call(BY_ID),
    # artifact schemas
    ("GET", "/v2/artifact-schemas"): Call(LIST),
    ("POST", "/v2/artifact-schemas"): Call(OWN, json={"display_name": "own", "schema_def": {"type": "object"}}),
    ("GET", "/v2/artifact-schemas/{artifact_id}"): Call(BY_ID),
    ("PUT", "/v2/artifact-schemas/{artifact_id}"): Call(BY_ID, json={"description": "changed"}),
    ("DELETE", "/v2/artifact-schemas/{artifact_id}"): Call(BY_ID),
    # batch definitions
    ("GET", "/v2/batch-definitions"): Call(LIST),
    ("POST", "/v2/batch-definitions"): lambda w: Call(BY_ID, json=_defn_body(w)),
    ("GET", "/v2/batch-definitions/catalog-urn"): lambda w: Call(BY_ID, params={"catalog_urn": w.urn}),
    ("GET", "/v2/batch-definitions/id/{definition_id}"): Call(BY_ID),
    ("PUT", "/v2/batch-definitions/id/{definition_id}"): Call(BY_ID, json={"description": "changed"}),
    ("DELETE", "/v2/batch-definitions/id/{definition_id}"): Call(BY_ID),
    ("GET", "/v2/batch-definitions/id/{definition_id}/versions"): Call(BY_ID),
    ("POST", "/v2/batch-definitions/id/{definition_id}/execute"): Call(BY_ID),
    # batch executions
    ("POST", "/v2/batch-executions"): lambda w: Call(BY_ID, json=_legacy_body(w)),
    ("GET", "/v2/batch-executions"): lambda w: Call(LIST, params={"input_datasource_id": w.datasource}),
    ("GET", "/v2/batch-executions/id/{execution_id}"): Call(BY_ID),
    ("PUT", "/v2/batch-executions/id/{execution_id}"): Call(BY_ID, json={"additional_properties": {"k": "v"}}),
    ("POST", "/v2/batch-executions/id/{execution_id}/cancel"): Call(BY_ID),
    ("POST", "/v2/batch-executions/id/{execution_id}/retry-failed"): Call(BY_ID),
    ("GET", "/v2/batch-executions/id/{execution_id}/realtime-progress"): Call(BY_ID),
    ("GET", "/v2/batch-executions/id/{execution_id}/items"): Call(BY_ID),
    ("GET", "/v2/batch-executions/id/{execution_id}/results.jsonl"): Call(BY_ID),
    # AI Hub: batches, files, jobs
    ("POST", f"{AIHUB}/batches"): Call(OWN, json={"name": "own batch"}),
    ("GET", f"{AIHUB}/batches"): Call(LIST),
    ("GET", f"{AIHUB}/batches/{{batch_id}}"): Call(BY_ID),
    ("DELETE", f"{AIHUB}/batches/{{batch_id}}"): Call(BY_ID),
    ("PUT", f"{AIHUB}/batches/{{batch_id}}/files/{{filename}}"): Call(BY_ID, content=b"probe bytes"),
    ("GET", f"{AIHUB}/batches/{{batch_id}}/files"): Call(BY_ID),
    ("DELETE", f"{AIHUB}/batches/{{batch_id}}/files/{{filename}}"): Call(BY_ID),
    ("GET", f"{AIHUB}/batches/jobs/{{job_id}}"): lambda w: Call(BY_ID, ids={"job_id": w.aihub_job}),
    ("GET", f"{AIHUB}/jobs/{{job_id}}"): lambda w: Call(BY_ID, ids={"job_id": w.aihub_job}),
    # AI Hub: multipart uploads (the commit aborts a spare session: the parts route runs after it)
    ("POST", f"{AIHUB}/batches/multipart-upload"):
        lambda w: Call(BY_ID, json={"batch_id": int(w.batch), "filename": "m.bin", "file_size": 11}),
    ("PUT", f"{AIHUB}/batches/multipart-upload/sessions/{{session_id}}/parts/{{part_num}}"):
        Call(BY_ID, content=b"probe bytes"),
    ("POST", f"{AIHUB}/batches/multipart-upload/sessions/{{session_id}}"):
        lambda w: Call(BY_ID, json={"action": "abort"}, ids={"session_id": w.spare_session}),
    # AI Hub: app runs
    ("POST", f"{AIHUB}/apps/runs"): lambda w: Call(BY_ID, json={"app_name": "a-echo", "batch_id": int(w.batch)}),
    ("GET", f"{AIHUB}/apps/runs"): Call(LIST),
    ("GET", f"{AIHUB}/apps/runs/{{run_id}}"): Call(BY_ID),
    ("GET", f"{AIHUB}/apps/runs/{{run_id}}/results"): Call(BY_ID),
    ("DELETE", f"{AIHUB}/apps/runs/{{run_id}}"): Call(BY_ID),
    # LlamaCloud: directories and their files
    ("POST", LC_DIRS): Call(OWN, json={"name": "own directory"}),
    ("GET", LC_DIRS): Call(LIST),
    ("GET", f"{LC_DIRS}/{{directory_id}}"): Call(BY_ID),
    ("PATCH", f"{LC_DIRS}/{{directory_id}}"): Call(BY_ID, json={"description": "changed"}),
    ("DELETE", f"{LC_DIRS}/{{directory_id}}"): Call(BY_ID),
    ("POST", f"{LC_DIRS}/{{directory_id}}/files/upload"): Call(BY_ID, upload=True),
    ("POST", f"{LC_DIRS}/{{directory_id}}/files"): lambda w: Call(BY_ID, json={"file_id": w.lc.file}),
    ("GET", f"{LC_DIRS}/{{directory_id}}/files"): Call(BY_ID),
    ("GET", f"{LC_DIRS}/{{directory_id}}/files/{{directory_file_id}}"): Call(BY_ID),
    ("PATCH", f"{LC_DIRS}/{{directory_id}}/files/{{directory_file_id}}"): Call(BY_ID, json={"metadata": {"k": "v"}}),
    ("DELETE", f"{LC_DIRS}/{{directory_id}}/files/{{directory_file_id}}"): Call(BY_ID),
    # LlamaCloud: files and presigned downloads
    ("POST", LC_FILES): Call(OWN, upload=True),
    ("GET", LC_FILES): Call(LIST),
    ("GET", f"{LC_FILES}/{{file_id}}"): Call(BY_ID),
    ("DELETE", f"{LC_FILES}/{{file_id}}"): Call(BY_ID),
    ("GET", f"{LC_FILES}/{{file_id}}/content"): Call(BY_ID),
    ("GET", f"{LC}/downloads/{{file_id}}"): lambda w: Call(SIGNED, params=w.lc.signed),
    # LlamaCloud: configurations
    ("POST", LC_CONFIGS): Call(OWN, json={"name": "own", "parameters": PARSE_FAST}),
    ("GET", LC_CONFIGS): Call(LIST),
    ("GET", f"{LC_CONFIGS}/{{config_id}}"): Call(BY_ID),
    ("PUT", f"{LC_CONFIGS}/{{config_id}}"): Call(BY_ID, json={"name": "renamed"}),
    ("DELETE", f"{LC_CONFIGS}/{{config_id}}"): Call(BY_ID),
    # LlamaCloud: batches and their jobs (the extract batch waits on an LLM that never answers: cancellable)
    ("POST", LC_BATCHES): lambda w: Call(BY_ID, json={
        "config": {"job": {"type": "parse_v2", "configuration_id": w.lc.config}}, "source_directory_id": w.lc.dir}),
    ("GET", LC_BATCHES): Call(LIST),
    ("GET", f"{LC_BATCHES}/{{batch_id}}"): lambda w: Call(BY_ID, params={"expand": "results"},
                                                          ids={"batch_id": w.lc.batch}),
    ("POST", f"{LC_BATCHES}/{{batch_id}}/cancel"): lambda w: Call(BY_ID, ids={"batch_id": w.lc.extract_batch}),
    ("GET", f"{LC}/api/v2/parse/{{parse_job_id}}"): Call(BY_ID, params={"expand": "text,markdown,items"}),
    ("GET", f"{LC}/api/v2/extract/{{extract_job_id}}"): Call(BY_ID, params={"expand": "configuration"}),
}


@dataclass
class World:
    """One of everything in project A, and project B's key."""

    datasource: str
    element: str
    upload: str
    job: str
    agent: str
    schema: str
    definition: str
    urn: str
    execution: str
    b_key: str
    b_key_id: str
    batch: str
    session: str
    spare_session: str
    aihub_run: str
    aihub_job: str
    lc: LlamaWorld

    def __getattr__(self, name: str) -> Any:  # w.lc.dir → w.lc.dir: the LlamaCloud ids of A
        if name.startswith("lc_"):
            return getattr(self.lc, name.removeprefix("lc_"))
        raise AttributeError(name)

    def path_ids(self) -> dict[str, str]:
        return {"datasource_id": self.datasource, "data_element_id": self.element, "upload_id": self.upload,
                "job_id": self.job, "agent_id": self.agent, "artifact_id": self.schema,
                "definition_id": self.definition, "execution_id": self.execution, "batch_id": self.batch,
                "filename": "a-file.txt", "session_id": self.session, "part_num": "1", "run_id": self.aihub_run,
                "directory_id": self.lc.dir, "directory_file_id": self.lc.dir_file, "file_id": self.lc.file,
                "config_id": self.lc.config, "parse_job_id": self.lc.parse_job,
                "extract_job_id": self.lc.extract_job}

    def a_ids(self) -> list[str]:
        """What of A's a response must not show B: ids (not AI Hub's small integers, which any response
        may hold by chance: the batch is known by its name instead)."""
        ids = [*self.path_ids().values(), self.urn, self.spare_session, self.aihub_job, BATCH_NAME, self.lc.project,
               self.lc.batch, self.lc.extract_batch]
        return [i for i in ids if not i.isdigit()]


@dataclass
class LlamaWorld:
    """A's LlamaCloud objects: a directory with a file, a file, a saved configuration, a finished parse
    batch and a running extract batch with one job each, and a presigned download URL's query."""

    project: str
    dir: str
    dir_file: str
    file: str
    config: str
    batch: str
    parse_job: str
    extract_batch: str
    extract_job: str
    signed: dict[str, str]
    runs: list[str]


@functools.cache
def served_routes() -> tuple[tuple[str, str], ...]:
    """Every (method, path) the app serves, HEAD aside. Routes do not depend on settings."""
    app = create_app(test_settings(Path("unused-home")), announce_key=False)
    # FastAPI >= 0.160 keeps an included router as one entry; iter_route_contexts flattens them
    flatten = getattr(fastapi.routing, "iter_route_contexts", iter)
    found = []
    for route in flatten(app.routes):
        assert route.path and route.methods, f"a route the walk cannot call: {route!r}"
        found += [(method, route.path) for method in sorted(route.methods - {"HEAD"})]
    return tuple(found)


def call_for(method: str, path: str, world: World) -> Call:
    entry = ROUTES[(method, path)]
    return entry(world) if callable(entry) else entry


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def url_of(path: str, world: World, call: Call) -> str:
    return fill(path, {**world.path_ids(), **call.ids})


async def send(client: httpx.AsyncClient, method: str, url: str, auth: dict[str, str], call: Call) -> httpx.Response:
    """The call with exactly the auth headers given (the client's default key removed)."""
    files = {"files": ("probe.txt", b"probe bytes", "text/plain")} if call.upload else None
    request = client.build_request(method, url, params=call.params, json=call.json, files=files,
                                   content=call.content)
    del request.headers["Meibel-API-Key"]
    request.headers.update(auth)
    return await client.send(request)


def leaked_ids(response: httpx.Response, call: Call, world: World) -> list[str]:
    """A's ids in the response that the request did not carry (a 404 may echo the id it was asked)."""
    asked = unquote(str(response.request.url)) + json.dumps(call.json)
    return [i for i in world.a_ids() if i in response.text and i not in asked]


def key_header(key: str, style: str) -> dict[str, str]:
    return {"Meibel-API-Key": key} if style == "meibel" else {"Authorization": f"Bearer {key}"}


async def _until_done(client: httpx.AsyncClient, sse_url: str) -> None:
    """Read an SSE endpoint to its end: it closes once the run or job it watches is finished."""
    response = await client.get(sse_url)
    assert response.status_code == 200, response.text
    assert "event: complete" in response.text, response.text


@pytest.fixture
async def app_client(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Core]]:
    """The app in-process (as the suite's fixture) with an LLM that never answers, so A's extract batch
    stays running for the walk's cancel."""
    with silent_llm() as llm:
        async with running_app(test_settings(tmp_path / "home", llm_base_url=llm)) as pair:
            yield pair


@pytest.fixture
async def world(app_client: tuple[httpx.AsyncClient, Core]) -> World:
    client, core = app_client
    ds = (await client.post(f"{V2}/datasources", json={"name": "a-docs"})).json()["id"]
    up = await client.post(f"{V2}/datasources/{ds}/content", files={"files": ("a.txt", b"project a", "text/plain")})
    assert up.status_code == 202, up.text
    element = (await client.get(f"{V2}/datasources/{ds}/data-elements")).json()["items"][0]["id"]
    job = (await client.post(f"{V2}/datasources/{ds}/downloads", json={"content": "files"})).json()["job_id"]
    agent = (await client.post(f"{V2}/agents", json={
        "display_name": "a echo", "type": "python",
        "additional_properties": {"callable": "tests.support.callables:echo"}})).json()["id"]
    schema = (await client.post(f"{V2}/artifact-schemas", json={
        "display_name": "a schema", "schema_def": {"type": "object"}})).json()["id"]
    created = (await client.post(f"{V2}/batch-definitions", json={
        "name": "a-run", "agent_id": agent, "input_datasource_id": ds})).json()
    execution = (await client.post(f"{V2}/batch-definitions/id/{created['id']}/execute")).json()["execution_id"]
    project_b = await core.auth.create_project("b")
    b_key, b_row = await core.auth.create_key(project_b.id, "b")
    hub = await _aihub_world(client)
    return World(datasource=ds, element=element, upload=up.json()["upload_id"], job=job, agent=agent,
                 schema=schema, definition=created["id"], urn=created["catalog_urn"], execution=execution,
                 b_key=b_key, b_key_id=b_row.id, **hub, lc=await _llama_world(client, core))


async def _lc_batch(client: httpx.AsyncClient, job_type: str, config_id: str, directory: str) -> tuple[str, str]:
    """A batch and its one job."""
    body = {"config": {"job": {"type": job_type, "configuration_id": config_id}}, "source_directory_id": directory}
    batch = (await client.post(LC_BATCHES, json=body)).json()["id"]
    expanded = (await client.get(f"{LC_BATCHES}/{batch}", params={"expand": "results"})).json()
    return batch, expanded["results"][0]["job_reference"]["id"]


async def _llama_world(client: httpx.AsyncClient, core: Core) -> LlamaWorld:
    directory = (await client.post(LC_DIRS, json={"name": "a-directory"})).json()
    dir_file = (await client.post(f"{LC_DIRS}/{directory['id']}/files/upload",
                                  files={"upload_file": ("a.txt", b"project a", "text/plain")})).json()["id"]
    file = (await client.post(LC_FILES, files={"file": ("a.txt", b"project a", "text/plain")},
                              data={"purpose": "parse"})).json()
    config = (await client.post(LC_CONFIGS, json={"name": "a-config", "parameters": PARSE_FAST})).json()["id"]
    extract_config = (await client.post(LC_CONFIGS, json={"name": "a-extract", "parameters": {
        "product_type": "extract_v2", "data_schema": {"type": "object", "properties": {"x": {"type": "string"}}}}})
                      ).json()["id"]
    batch, parse_job = await _lc_batch(client, "parse_v2", config, directory["id"])
    extract_batch, extract_job = await _lc_batch(client, "extract_v2", extract_config, directory["id"])
    await _until_lc_batch_ends(client, batch)
    signed = dict(httpx.URL((await client.get(f"{LC_FILES}/{file['id']}/content")).json()["url"]).params)
    runs = [r.id for r in (await core.runs.list(await core.auth.authenticate(core.settings.api_key), offset=0,
                                                input_container_id=None, limit=None, sort_by="start_time",
                                                descending=False)).runs if r.extra.get("llamacloud")]
    return LlamaWorld(project=directory["project_id"], dir=directory["id"], dir_file=dir_file, file=file["id"],
                      config=config, batch=batch, parse_job=parse_job, extract_batch=extract_batch,
                      extract_job=extract_job, signed=signed, runs=runs)


async def _until_lc_batch_ends(client: httpx.AsyncClient, batch: str) -> None:
    for _ in range(600):
        if (await client.get(f"{LC_BATCHES}/{batch}")).json()["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"batch {batch} did not end")


async def _aihub_world(client: httpx.AsyncClient) -> dict[str, str]:
    """A's AI Hub batch with a file, two upload sessions, a run of the echo agent and a finished job."""
    batch = (await client.post(f"{AIHUB}/batches", json={"name": BATCH_NAME})).json()["id"]
    put = await client.put(f"{AIHUB}/batches/{batch}/files/a-file.txt", content=b"project a")
    assert put.status_code == 204, put.text
    sessions = [(await client.post(f"{AIHUB}/batches/multipart-upload", json={
        "batch_id": batch, "filename": "m.bin", "file_size": 11})).json()["session_id"] for _ in range(2)]
    run = await client.post(f"{AIHUB}/apps/runs", json={"app_name": "a-echo", "batch_id": batch})
    assert run.status_code == 200, run.text
    scratch = (await client.post(f"{AIHUB}/batches", json={"name": "scratch"})).json()["id"]
    job = (await client.delete(f"{AIHUB}/batches/{scratch}")).json()["job_id"]
    return {"batch": str(batch), "session": sessions[0], "spare_session": sessions[1],
            "aihub_run": run.json()["id"], "aihub_job": job}


def test_route_table_covers_every_route() -> None:
    served = set(served_routes())
    assert served - ROUTES.keys() == set(), "routes without a tenancy entry in ROUTES"
    assert ROUTES.keys() - served == set(), "ROUTES names routes the app no longer serves"
    assert len(served) >= 50


@pytest.mark.parametrize("style", ["meibel", "bearer"])
async def test_project_b_never_sees_project_a(app_client: tuple[httpx.AsyncClient, Core], world: World,
                                              style: str) -> None:
    client, _ = app_client
    auth = key_header(world.b_key, style)
    wrong: list[str] = []
    walked = 0
    for method, path in served_routes():
        call = call_for(method, path, world)
        response = await send(client, method, url_of(path, world, call), auth, call)
        walked += 1
        leaked = leaked_ids(response, call, world)
        if call.kind == BY_ID:
            not_ours = response.status_code == 404 and response.json()["detail"] != "Not Found"
            if not not_ours:
                wrong.append(f"{method} {path}: {response.status_code}, want 404 from the handler")
        elif response.status_code >= 300:  # a presigned URL (SIGNED) too: it works for whoever holds it
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        if leaked:
            wrong.append(f"{method} {path}: response shows A's ids {leaked}")
    assert wrong == []
    assert walked == len(ROUTES)
    await _assert_a_intact(client, world)


async def _assert_a_intact(client: httpx.AsyncClient, world: World) -> None:
    """B's deletes and updates changed nothing of A's."""
    for url in (f"{V2}/datasources/{world.datasource}", f"{V2}/agents/{world.agent}",
                f"{V2}/artifact-schemas/{world.schema}", f"{V2}/batch-definitions/id/{world.definition}",
                f"{V2}/datasources/{world.datasource}/data-elements/{world.element}"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.json().get("description") in (None, ""), f"B's update reached {url}"
    versions = (await client.get(f"{V2}/agents/{world.agent}/versions")).json()
    assert versions["total"] == 1
    runs = (await client.get(f"{V2}/batch-executions")).json()
    assert {r["id"] for r in runs["data"]} == {world.execution, world.aihub_run, *world.lc.runs}
    for url in (f"{LC_DIRS}/{world.lc.dir}", f"{LC_CONFIGS}/{world.lc.config}", f"{LC_FILES}/{world.lc.file}"):
        assert (await client.get(url)).status_code == 200, url
    batch = (await client.get(f"{LC_BATCHES}/{world.lc.extract_batch}")).json()
    assert batch["status"] in ("PENDING", "RUNNING", "THROTTLED"), "B's cancel reached A's batch"
    assert (await client.get(f"{LC_CONFIGS}/{world.lc.config}")).json()["name"] == "a-config"
    batch = await client.get(f"{AIHUB}/batches/{world.batch}")
    assert batch.status_code == 200 and batch.json()["name"] == BATCH_NAME
    files = (await client.get(f"{AIHUB}/batches/{world.batch}/files")).json()["nodes"]
    assert [f["name"] for f in files] == ["a-file.txt"] and files[0]["metadata"]["size"] == len(b"project a")
    assert (await client.get(f"{AIHUB}/apps/runs/{world.aihub_run}")).status_code == 200
    assert (await client.post(f"{AIHUB}/batches/multipart-upload/sessions/{world.spare_session}",
                              json={"action": "abort"})).status_code == 204


async def test_every_request_of_the_walk_is_valid_for_project_a(
        app_client: tuple[httpx.AsyncClient, Core], world: World) -> None:
    """The owner's key gets a success for each request of the walk, so B's 404s come from tenancy."""
    client, core = app_client
    a_key = key_header(core.settings.api_key or "", "meibel")
    await _until_done(client, f"{V2}/batch-executions/id/{world.execution}/realtime-progress")
    await _until_done(client, f"{V2}/datasources/{world.datasource}/downloads/{world.job}/progress")
    routes = sorted(served_routes(), key=lambda r: (r[0] == "DELETE", r[1].count("/")))
    deletes = [r for r in routes if r[0] == "DELETE"]
    # the containers last (a datasource, a batch, a directory): the others live in them
    deletes.sort(key=lambda r: "datasource_id" in r[1] or r[1].endswith(("/batches/{batch_id}",
                                                                          "/directories/{directory_id}")))
    failures = []
    for method, path in [*[r for r in routes if r[0] != "DELETE"], *deletes]:
        call = call_for(method, path, world)
        response = await send(client, method, url_of(path, world, call), a_key, call)
        if response.status_code >= 400:
            failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        if call.kind == LIST:
            assert any(i in response.text for i in world.a_ids()), f"{path} does not list A's objects for A"
    assert failures == []


@pytest.mark.parametrize("auth", [
    pytest.param({}, id="no-key"),
    pytest.param({"Meibel-API-Key": "cvk_wrong"}, id="wrong-meibel-key"),
    pytest.param({"Authorization": "Bearer cvk_wrong"}, id="wrong-bearer"),
    pytest.param({"Authorization": "Basic a2V5LXByb2plY3QtYQ=="}, id="not-bearer-scheme"),
    pytest.param({"Meibel-API-Key": ""}, id="empty-key"),
])
async def test_every_route_but_public_ones_needs_a_valid_key(
        app_client: tuple[httpx.AsyncClient, Core], world: World, auth: dict[str, str]) -> None:
    client, _ = app_client
    wrong = []
    for method, path in served_routes():
        call = call_for(method, path, world)
        response = await send(client, method, url_of(path, world, call), auth, call)
        want = 200 if call.kind in (PUBLIC, SIGNED) else 401
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, want {want}")
        if leaked_ids(response, call, world):
            wrong.append(f"{method} {path}: shows A's ids without a key")
    assert wrong == []


@pytest.mark.parametrize("style", ["meibel", "bearer"])
async def test_revoked_key_is_refused_everywhere(app_client: tuple[httpx.AsyncClient, Core], world: World,
                                                 style: str) -> None:
    client, core = app_client
    auth = key_header(world.b_key, style)
    before = await send(client, "GET", f"{V2}/datasources", auth, Call(LIST))
    assert before.status_code == 200
    await core.auth.revoke_key(world.b_key_id)
    for method, path in served_routes():
        call = call_for(method, path, world)
        if call.kind in (PUBLIC, SIGNED):
            continue
        response = await send(client, method, url_of(path, world, call), auth, call)
        assert response.status_code == 401, f"{method} {path}"
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_bearer_key_acts_like_meibel_key(app_client: tuple[httpx.AsyncClient, Core], world: World) -> None:
    client, core = app_client
    bearer = key_header(core.settings.api_key or "", "bearer")
    listed = await send(client, "GET", f"{V2}/datasources", bearer, Call(LIST))
    assert listed.status_code == 200
    assert world.datasource in [d["id"] for d in listed.json()["datasources"]]
    one = await send(client, "GET", f"{V2}/batch-executions/id/{world.execution}", bearer, Call(BY_ID))
    assert one.status_code == 200
    assert one.json()["id"] == world.execution
    created = await send(client, "POST", f"{V2}/datasources", bearer, Call(OWN, json={"name": "by bearer"}))
    assert created.status_code == 201
    mine = await client.get(f"{V2}/datasources/{created.json()['id']}")  # the Meibel-API-Key header of A
    assert mine.status_code == 200


async def test_b_lists_its_own_objects_only(app_client: tuple[httpx.AsyncClient, Core], world: World) -> None:
    client, _ = app_client
    b = key_header(world.b_key, "meibel")
    own = await send(client, "POST", f"{V2}/datasources", b, Call(OWN, json={"name": "b-docs"}))
    listed = await send(client, "GET", f"{V2}/datasources", b, Call(LIST))
    assert [d["id"] for d in listed.json()["datasources"]] == [own.json()["id"]]
    a_listed = (await client.get(f"{V2}/datasources")).json()["datasources"]
    assert own.json()["id"] not in [d["id"] for d in a_listed]


async def test_a_presigned_url_works_only_as_signed(app_client: tuple[httpx.AsyncClient, Core],
                                                   world: World) -> None:
    client, _ = app_client
    url = f"{LC}/downloads/{world.lc.file}"
    good = await send(client, "GET", url, {}, Call(SIGNED, params=world.lc.signed))
    assert good.status_code == 200 and good.content == b"project a"
    expires = str(int(world.lc.signed["expires"]) + 60)
    for change in ({"signature": "0" * 64}, {"expires": expires}, {"project": "prj_someone_else"}):
        bad = await send(client, "GET", url, {}, Call(SIGNED, params={**world.lc.signed, **change}))
        assert bad.status_code == 401, change
    other_file = await send(client, "GET", f"{LC}/downloads/{world.lc.dir_file}", {},
                            Call(SIGNED, params=world.lc.signed))
    assert other_file.status_code == 401


# B's own objects combined with ids of A's: the id of A's must still be 404 ---------------------------------
CROSS: list[tuple[str, str, Any]] = [
    ("GET", "/v2/datasources/{b_ds}/data-elements/{a_el}", None),
    ("PUT", "/v2/datasources/{b_ds}/data-elements/{a_el}", {"description": "changed"}),
    ("GET", "/v2/datasources/{b_ds}/data-elements/{a_el}/content", None),
    ("POST", "/v2/datasources/{b_ds}/downloads", {"data_element_ids": ["{a_el}"]}),
    ("POST", "/v2/datasources/{b_ds}/downloads/process", {"data_element_ids": ["{a_el}"]}),
    ("GET", "/v2/datasources/{b_ds}/downloads/{a_job}/progress", None),
    ("GET", "/v2/datasources/{b_ds}/downloads/{a_job}/file", None),
    ("POST", "/v2/batch-definitions", {"name": "x", "agent_id": "{a_agent}", "input_datasource_id": "{b_ds}"}),
    ("POST", "/v2/batch-definitions", {"name": "x", "agent_id": "{b_agent}", "input_datasource_id": "{a_ds}"}),
    ("POST", "/v2/batch-definitions", {"name": "x", "agent_id": "{b_agent}", "input_datasource_id": "{b_ds}",
                                       "output_datasource_id": "{a_ds}"}),
    ("PUT", "/v2/batch-definitions/id/{b_defn}", {"agent_id": "{a_agent}"}),
    ("PUT", "/v2/batch-definitions/id/{b_defn}", {"input_datasource_id": "{a_ds}"}),
    ("PUT", "/v2/batch-definitions/id/{b_defn}", {"output_datasource_id": "{a_ds}"}),
    ("POST", "/v2/batch-executions", {"batch_spec_json": {"name": "x", "agent": "{b_agent}",
                                                          "input": {"datasource_id": "{a_ds}"}}}),
    ("POST", "/v2/batch-executions", {"batch_spec_json": {"name": "x", "agent": "{a_agent}",
                                                          "input": {"datasource_id": "{b_ds}"}}}),
    ("POST", "/v2/batch-executions", {"batch_spec_json": {"name": "x", "agent": "{b_agent}",
                                                          "input": {"datasource_id": "{b_ds}"},
                                                          "output": {"datasource_id": "{a_ds}"}}}),
    ("GET", f"{LC_DIRS}/{{b_dir}}/files/{{a_dfl}}", None),
    ("PATCH", f"{LC_DIRS}/{{b_dir}}/files/{{a_dfl}}", {"metadata": {"k": "v"}}),
    ("DELETE", f"{LC_DIRS}/{{b_dir}}/files/{{a_dfl}}", None),
    ("POST", f"{LC_DIRS}/{{b_dir}}/files", {"file_id": "{a_file}"}),
    ("PATCH", f"{LC_DIRS}/{{b_dir}}/files/{{b_dfl}}", {"target_directory_id": "{a_dir}"}),
    ("POST", LC_BATCHES, {"config": {"job": {"type": "parse_v2", "configuration_id": "{a_config}"}},
                          "source_directory_id": "{b_dir}"}),
    ("POST", LC_CONFIGS, {"name": "x", "parameters": {"product_type": "extract_v2", "data_schema": {"type": "object"},
                                                      "parse_config_id": "{a_config}"}}),
]


def _subst(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], value)
    if isinstance(value, list):
        return [_subst(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _subst(v, ids) for k, v in value.items()}
    return value


async def test_b_objects_cannot_point_at_a_objects(app_client: tuple[httpx.AsyncClient, Core],
                                                   world: World) -> None:
    client, _ = app_client
    b = key_header(world.b_key, "meibel")
    b_ds = (await send(client, "POST", f"{V2}/datasources", b, Call(OWN, json={"name": "b"}))).json()["id"]
    b_agent = (await send(client, "POST", f"{V2}/agents", b,
                          Call(OWN, json={"display_name": "b", "type": "parse"}))).json()["id"]
    b_defn = await send(client, "POST", f"{V2}/batch-definitions", b, Call(OWN, json={
        "name": "b", "agent_id": b_agent, "input_datasource_id": b_ds}))
    assert b_defn.status_code == 201, b_defn.text
    b_dir = (await send(client, "POST", LC_DIRS, b, Call(OWN, json={"name": "b"}))).json()["id"]
    request = client.build_request("POST", f"{LC_DIRS}/{b_dir}/files/upload", files={"f": ("b.txt", b"b")},
                                   headers=b)
    b_dfl = (await client.send(request)).json()["id"]
    ids = {"a_ds": world.datasource, "a_el": world.element, "a_job": world.job, "a_agent": world.agent,
           "b_ds": b_ds, "b_agent": b_agent, "b_defn": b_defn.json()["id"], "b_dir": b_dir, "b_dfl": b_dfl,
           "a_dfl": world.lc.dir_file, "a_file": world.lc.file, "a_dir": world.lc.dir, "a_config": world.lc.config}
    wrong = []
    for method, path, body in CROSS:
        response = await send(client, method, _subst(path, ids), b, Call(BY_ID, json=_subst(body, ids)))
        if response.status_code != 404 or response.json()["detail"] == "Not Found":
            wrong.append(f"{method} {path} {body}: {response.status_code} {response.text[:200]}")
    assert wrong == []
    versions = (await send(client, "GET", f"{V2}/batch-definitions/id/{ids['b_defn']}/versions", b,
                           Call(BY_ID))).json()
    assert versions["pagination"]["total"] == 1, "a refused update still forked a version"
