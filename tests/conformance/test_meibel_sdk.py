"""The unmodified ``meibel`` SDK drives a live Conveyor (a real uvicorn server on a free port).

The tests run in file order and share one server and one ``State``: datasource → uploads → elements →
agents → definitions → executions → downloads → deletes. Every SDK method of the batches, executions,
datasources, data elements, file uploads, downloads, ingest, agents and artifact schemas resources is
called at least once (``test_every_sdk_method_was_called`` checks it) and its result checked.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from meibel import MeibelClient
from meibel.exceptions import NotFoundError
from meibel.models import (
    BatchDefinitionFilters,
    CreateAgentDefinitionRequest,
    CreateBatchDefinitionRequest,
    CreateBatchExecutionRequest,
    DataElementSearchRequest,
    DownloadJobRequest,
    LegacyBatchExecutionParams,
    LegacyBatchInputConfig,
    LegacyBatchSpecJson,
    PublishAgentDefinitionRequest,
    UpdateAgentArtifactRequest,
    UpdateAgentDefinitionRequest,
    UpdateBatchDefinitionRequest,
    UpdateBatchExecutionRequest,
    UpdateDataElementRequest,
    UpdateDatasourceRequest,
)

from tests.support.corpus import TEXT_FORMATS, mixed_files
from tests.support.polling import wait_until
from tests.support.recorder import Recorder
from tests.support.server import LiveServer

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
FUNCTIONS = "tests.conformance.agent_functions"


@dataclass
class State:
    """What earlier tests made, for later ones."""

    files: dict[str, Path] = field(default_factory=dict)
    datasource_id: str = ""
    element_ids: dict[str, str] = field(default_factory=dict)
    parse_agent_id: str = ""
    definition_id: str = ""
    execution_id: str = ""
    called: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def state() -> State:
    return State()


@pytest.fixture(scope="module")
def sdk(live_server: LiveServer) -> Iterator[MeibelClient]:
    with MeibelClient(base_url=f"{live_server.url}/v2", api_key=live_server.api_key, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def raw(live_server: LiveServer) -> Iterator[httpx.Client]:
    """Plain HTTP for what the SDK has no method for (our additions: element content, item pages)."""
    with httpx.Client(base_url=f"{live_server.url}/v2", headers={"Meibel-API-Key": live_server.api_key},
                      timeout=60) as client:
        yield client


class Api:
    """The SDK's resources, recorded."""

    def __init__(self, sdk: MeibelClient, called: set[str]) -> None:
        self.batches = Recorder(sdk.batches, "batches", called)
        self.executions = Recorder(sdk.batches.executions, "executions", called)
        self.datasources = Recorder(sdk.datasources, "datasources", called)
        self.elements = Recorder(sdk.datasources.data_elements, "data_elements", called)
        self.uploads = Recorder(sdk.datasources.file_uploads, "file_uploads", called)
        self.downloads = Recorder(sdk.datasources.downloads, "downloads", called)
        self.ingest = Recorder(sdk.datasources.ingest, "ingest", called)
        self.agents = Recorder(sdk.agents, "agents", called)
        self.schemas = Recorder(sdk.artifact_schemas, "artifact_schemas", called)


@pytest.fixture(scope="module")
def api(sdk: MeibelClient, state: State) -> Api:
    return Api(sdk, state.called)


def finished(api: Api, execution_id: str, timeout: float = 180) -> Any:
    def check() -> Any:
        execution = api.executions.get_by_id(execution_id)
        return execution if execution.status in TERMINAL else None

    return wait_until(check, timeout)


# datasources -------------------------------------------------------------------------------------
def test_datasources_crud(api: Api, state: State) -> None:
    created = api.datasources.create(name="corpus", description="mixed corpus files")
    assert created.name == "corpus" and created.description == "mixed corpus files"
    assert created.files is not None and created.files.total == 0
    state.datasource_id = created.id

    updated = api.datasources.update(created.id, UpdateDatasourceRequest(description="twenty mixed files"))
    assert updated.description == "twenty mixed files" and updated.name == "corpus"
    assert api.datasources.get(created.id).description == "twenty mixed files"

    scratch = api.datasources.create(name="scratch")
    assert {d.id for d in api.datasources.list().datasources} >= {created.id, scratch.id}
    assert api.datasources.delete(scratch.id).id == scratch.id
    with pytest.raises(NotFoundError):
        api.datasources.get(scratch.id)
    assert scratch.id not in {d.id for d in api.datasources.list().datasources}


# uploads -----------------------------------------------------------------------------------------
def test_upload_twenty_mixed_files(api: Api, state: State) -> None:
    files = mixed_files(21, TEXT_FORMATS)
    assert len({p.suffix for p in files}) >= 5, "the sample must mix formats"
    state.files = {p.name: p for p in files}
    upload_id = ""
    for path in files[:20]:
        with path.open("rb") as f:
            accepted = api.uploads.upload_content(state.datasource_id, f, path.name)
        assert accepted.success and accepted.datasource_id == state.datasource_id
        assert accepted.estimated_files == 1 and accepted.estimated_size == path.stat().st_size
        upload_id = accepted.upload_id

    events = list(api.uploads.stream_upload_progress(upload_id))
    names = [e.event for e in events]
    assert names[0] == "connected" and names[-1] == "stream_complete" and "file_complete" in names
    assert events[-1].json()["status"] == "completed"

    last = files[20]
    with last.open("rb") as f:
        listing = api.uploads.upload_and_list_content(state.datasource_id, f, last.name, trigger_ingest=True)
    assert listing.ingest_url and last.name in {i.name for i in listing.items}
    assert len(listing.items) == 21


def test_content_listing_pages_and_prefix(api: Api, state: State) -> None:
    everything = list(api.uploads.list_content(state.datasource_id, limit=4))
    assert sorted(i.name for i in everything) == sorted(state.files)
    assert all(i.size == state.files[i.name].stat().st_size for i in everything)
    prefix = next(iter(state.files))[:5]
    chosen = list(api.uploads.list_content(state.datasource_id, prefix=prefix))
    assert chosen and all(i.name.startswith(prefix) for i in chosen)
    assert len(chosen) == sum(1 for n in state.files if n.startswith(prefix))


def test_ingest(api: Api, state: State) -> None:
    triggered = api.ingest.trigger(state.datasource_id)
    assert triggered.datasource_id == state.datasource_id
    status = api.ingest.get_status(state.datasource_id)
    assert status.status.value == "completed"
    assert status.methods and status.methods[0].total_files == 21
    assert api.datasources.get(state.datasource_id).last_sync_status == "completed"


# data elements -----------------------------------------------------------------------------------
def test_list_elements_with_cursor(api: Api, state: State, raw: httpx.Client) -> None:
    elements = list(api.elements.list(state.datasource_id, limit=6))
    assert len(elements) == 21 and len({e.id for e in elements}) == 21
    state.element_ids = {e.name: e.id for e in elements}
    first = next(iter(state.files))
    response = raw.get(f"/datasources/{state.datasource_id}/data-elements/{state.element_ids[first]}/content")
    assert response.status_code == 200 and response.content == state.files[first].read_bytes()


def test_search_elements(api: Api, state: State) -> None:
    pdfs = api.elements.search(state.datasource_id, DataElementSearchRequest(regex_filter=r"\.pdf$"))
    expected = {n for n in state.files if n.endswith(".pdf")}
    assert {e.name for e in pdfs.items} == expected and expected
    by_type = api.elements.search(state.datasource_id, DataElementSearchRequest(media_type_filters=["text/csv"]))
    assert {e.name for e in by_type.items} == {n for n in state.files if n.endswith(".csv")}
    paged = api.elements.search(state.datasource_id, DataElementSearchRequest(), limit=5)
    assert len(paged.items) == 5 and paged.has_next and paged.next_cursor


def test_get_and_update_element(api: Api, state: State) -> None:
    name, element_id = next(iter(state.element_ids.items()))
    element = api.elements.get(element_id, state.datasource_id)
    assert element.name == name and element.datasource_id == state.datasource_id
    updated = api.elements.update(element_id, state.datasource_id,
                                  UpdateDataElementRequest(description="reviewed", metadata={"team": "ops"}))
    assert updated.description == "reviewed" and updated.metadata == {"team": "ops"}
    assert updated.name == name
    assert api.elements.get(element_id, state.datasource_id).metadata == {"team": "ops"}


# artifact schemas and agents ---------------------------------------------------------------------
def test_artifact_schemas(api: Api) -> None:
    schema_def = {"type": "object", "properties": {"total": {"type": "number"}, "vendor": {"type": "string"}}}
    created = api.schemas.create(display_name="Invoice Fields", schema=schema_def, description="invoice")
    assert created.name == "invoice-fields" and created.version == "1"
    fetched = api.schemas.get(created.id)
    assert fetched.schema_def == schema_def and fetched.display_name == "Invoice Fields"
    updated = api.schemas.update(created.id, UpdateAgentArtifactRequest(description="invoice v2"))
    assert updated.version == "2" and updated.id != created.id
    assert api.schemas.get(updated.id).description == "invoice v2"
    listed = list(api.schemas.list())
    mine = [s for s in listed if s.name == "invoice-fields"]
    assert len(mine) == 1 and {f.name for f in mine[0].fields_summary} == {"total", "vendor"}
    api.schemas.delete(updated.id)
    with pytest.raises(NotFoundError):
        api.schemas.get(updated.id)


def test_agents(api: Api, state: State) -> None:
    parse = api.agents.create(CreateAgentDefinitionRequest(display_name="Corpus Parser", instructions="",
                                                           type="parse"))
    assert parse.name == "corpus-parser" and parse.version == "1"
    state.parse_agent_id = parse.id
    detail = api.agents.get(parse.id)
    assert detail.type == "parse" and detail.display_name == "Corpus Parser"

    updated = api.agents.update(parse.id, UpdateAgentDefinitionRequest(description="parses the corpus"))
    assert updated.version == "2" and updated.id != parse.id
    assert api.agents.get(updated.id).description == "parses the corpus"
    published = api.agents.publish(updated.id, PublishAgentDefinitionRequest(commit_message="first release"))
    assert published.commit_message == "first release" and published.version == "2"

    versions = list(api.agents.list_versions(parse.id))
    assert [v.version for v in versions] == ["1", "2"]
    assert [v.is_published for v in versions] == [False, True]
    assert [v.version for v in api.agents.list_versions(parse.id, published=True)] == ["2"]
    assert any(a.id == updated.id for a in api.agents.list(published_only=True))

    scratch = api.agents.create(CreateAgentDefinitionRequest(display_name="Scratch", instructions="x"))
    assert api.agents.get(scratch.id).type == "llm", "llm is the default agent type"
    api.agents.delete(scratch.id)
    with pytest.raises(NotFoundError):
        api.agents.get(scratch.id)
    assert scratch.id not in {a.id for a in api.agents.list()}


# batch definitions -------------------------------------------------------------------------------
def test_definition_versions_and_urn(api: Api, state: State) -> None:
    created = api.batches.create(CreateBatchDefinitionRequest(
        name="parse-corpus", agent_id=state.parse_agent_id, input_datasource_id=state.datasource_id,
        filters=BatchDefinitionFilters(regex=r"\.(pdf|docx|html|md|csv)$"), concurrency=2))
    assert created.version == "1" and created.catalog_urn.endswith(created.id)

    updated = api.batches.update_by_id(created.id, UpdateBatchDefinitionRequest(concurrency=4))
    assert updated.version == "2" and updated.id != created.id
    state.definition_id = updated.id

    versions = api.batches.list_versions(created.id)
    assert [(d.version, d.parent_version, d.concurrency) for d in versions.data] == [
        ("1", None, 2), ("2", "1", 4)]
    assert versions.pagination.total == 2

    by_urn = api.batches.get_by_catalog_urn(updated.catalog_urn)
    assert by_urn.id == updated.id and by_urn.agent_spec_json["type"] == "parse"
    assert by_urn.filters == {"regex": r"\.(pdf|docx|html|md|csv)$", "media_types": None, "element_ids": None}
    fetched = api.batches.get_by_id(updated.id)
    assert fetched.retry_limit == 2 and fetched.agent_urn.endswith(state.parse_agent_id)
    listed = api.batches.list()
    assert [d.id for d in listed.data if d.name == "parse-corpus"] == [updated.id], "only the newest version"


def test_execute_until_completed(api: Api, state: State, raw: httpx.Client) -> None:
    started = api.batches.execute(state.definition_id)
    state.execution_id = started.execution_id
    assert started.workflow_id == started.execution_id
    execution = finished(api, started.execution_id)
    assert execution.status == "COMPLETED" and execution.total_items == 21
    assert execution.succeeded == 21 and execution.failed == 0
    assert execution.items is not None and len(execution.items) == 21
    for item in execution.items:
        assert item.status == "SUCCEEDED" and item.attempts == 1, item
        outputs = {o["name"]: o for o in item.output_artifacts or []}
        assert set(outputs) == {"markdown", "text", "pages"}
        markdown = outputs["markdown"]
        assert markdown["filename"] == f"{item.filename}.md"
        element = api.elements.get(markdown["data_element_id"], execution.output_datasource_id)
        assert element.media_type == "text/markdown"
        body = raw.get(f"/datasources/{execution.output_datasource_id}/data-elements/{element.id}/content")
        assert body.status_code == 200 and body.text.strip(), f"empty markdown for {item.filename}"

    progress = api.executions.get_realtime_progress(started.execution_id)
    assert "event: complete" in progress and '"succeeded": 21' in progress


def test_item_list_pages(raw: httpx.Client, state: State) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = raw.get(f"/batch-executions/id/{state.execution_id}/items", params=params).json()
        seen += [i["input_data_element_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 21 and set(seen) == set(state.element_ids.values())
    failed = raw.get(f"/batch-executions/id/{state.execution_id}/items", params={"status": "FAILED"}).json()
    assert failed["items"] == [] and failed["next_cursor"] is None


def test_executions_list_and_update(api: Api, state: State) -> None:
    listed = api.executions.list(input_datasource_id=state.datasource_id, sort_by="start_time", sort_order="desc")
    assert state.execution_id in {e.id for e in listed.data}
    assert all(e.input_datasource_id == state.datasource_id for e in listed.data)
    assert api.executions.list(input_datasource_id="ds_none").data == []
    paged = api.executions.list(offset=0, limit=1, sort_by="status", sort_order="asc")
    assert len(paged.data) == 1 and paged.pagination.limit == 1

    updated = api.executions.update_by_id(state.execution_id, UpdateBatchExecutionRequest(
        additional_properties={"ticket": "OPS-1"}, error="reviewed by ops"))
    assert updated.error == "reviewed by ops" and updated.status == "COMPLETED"


# cancel and retry-failed -------------------------------------------------------------------------
def python_agent(api: Api, name: str, function: str, **options: Any) -> str:
    return api.agents.create(CreateAgentDefinitionRequest(
        display_name=name, instructions="", type="python",
        additional_properties={"callable": f"{FUNCTIONS}:{function}", **options})).id


def test_cancel_a_second_run(api: Api, state: State) -> None:
    agent_id = python_agent(api, "Slow", "slow", sleep=30)
    definition = api.batches.create(CreateBatchDefinitionRequest(
        name="slow", agent_id=agent_id, input_datasource_id=state.datasource_id, concurrency=3))
    run_id = api.batches.execute(definition.id).execution_id
    wait_until(lambda: api.executions.get_by_id(run_id).status == "RUNNING", timeout=30)
    cancelled = api.executions.cancel(run_id)
    assert cancelled.status == "CANCELLED" and cancelled.end_time is not None
    assert cancelled.items is not None and {i.status for i in cancelled.items} == {"CANCELLED"}
    assert api.executions.get_by_id(run_id).status == "CANCELLED"


def test_retry_failed_on_a_run_with_a_failing_item(api: Api, state: State) -> None:
    agent_id = python_agent(api, "Picky", "fail_matching", fail_pattern=r"\.csv$")
    spec = LegacyBatchSpecJson(name="picky", agent=agent_id,
                               input=LegacyBatchInputConfig(datasource_id=state.datasource_id),
                               execution=LegacyBatchExecutionParams(concurrency=5, retry_limit=0))
    created = api.executions.create(CreateBatchExecutionRequest(batch_spec_json=spec))
    assert created.status in {"PENDING", "RUNNING"} | TERMINAL and created.total_items == 21
    execution = finished(api, created.id)
    csv_count = sum(1 for n in state.files if n.endswith(".csv"))
    assert execution.status == "COMPLETED" and execution.failed == csv_count and csv_count > 0
    failing = [i for i in execution.items or [] if i.status == "FAILED"]
    assert all("refusing" in (i.error or "") and i.attempts == 1 for i in failing)

    again = api.executions.create(CreateBatchExecutionRequest(batch_spec_json=spec))
    assert again.batch_definition_id == created.batch_definition_id, "an identical spec reuses its definition"

    reopened = api.executions.retry_failed_items(created.id)
    assert reopened.id == created.id
    retried = finished(api, created.id)
    assert retried.failed == csv_count and retried.succeeded == 21 - csv_count
    for item in retried.items or []:
        assert item.attempts == (2 if item.status == "FAILED" else 1), item


# downloads ---------------------------------------------------------------------------------------
def test_download_job_and_sync_zip(api: Api, state: State) -> None:
    job = api.downloads.create_job(state.datasource_id)
    assert job.status in {"running", "completed"} and job.status_url.endswith("/progress")
    events = list(api.downloads.stream_progress(job.job_id, state.datasource_id))
    assert events[0].event == "connected" and events[-1].event == "complete"
    archive = zipfile.ZipFile(io.BytesIO(api.downloads.download_file(job.job_id, state.datasource_id)))
    assert sorted(archive.namelist()) == sorted(state.files)
    some = next(iter(state.files))
    assert archive.read(some) == state.files[some].read_bytes()

    chosen = list(state.element_ids.values())[:2]
    body = api.downloads.process(state.datasource_id, DownloadJobRequest(
        content="files_and_parsed_content", data_element_ids=chosen))
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert len([n for n in names if not n.startswith("parsed/")]) == 2
    assert any(n.startswith("parsed/") and n.endswith(".md") for n in names)


# deletes -----------------------------------------------------------------------------------------
def test_delete_definition_is_soft(api: Api, state: State) -> None:
    api.batches.delete_by_id(state.definition_id)
    with pytest.raises(NotFoundError):
        api.batches.get_by_id(state.definition_id)
    assert state.definition_id not in {d.id for d in api.batches.list().data}
    execution = api.executions.get_by_id(state.execution_id)
    assert execution.batch_definition_id == state.definition_id, "past runs keep their definition"


def test_every_sdk_method_was_called(state: State, sdk: MeibelClient) -> None:
    resources = {"batches": sdk.batches, "executions": sdk.batches.executions, "datasources": sdk.datasources,
                 "data_elements": sdk.datasources.data_elements, "file_uploads": sdk.datasources.file_uploads,
                 "downloads": sdk.datasources.downloads, "ingest": sdk.datasources.ingest,
                 "agents": sdk.agents, "artifact_schemas": sdk.artifact_schemas}
    expected = {f"{prefix}.{name}" for prefix, resource in resources.items()
                for name in vars(type(resource)) if not name.startswith("_") and callable(getattr(resource, name))}
    assert expected - state.called == set()
