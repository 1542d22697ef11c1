"""/v2/apps/runs: run an app over a batch, list runs, status, per-file results, delete."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, status

from conveyor.api.aihub import apps, convert, ids
from conveyor.api.aihub import schemas as w
from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.domain.status import ItemStatus
from conveyor.errors import InvalidInputError, NotFoundError
from conveyor.services.core import DELETE_CONTAINER, Core
from conveyor.store.models import Element, Item, Project
from conveyor.store.runs import RunFilter

router = APIRouter(prefix="/apps/runs", tags=["AI Hub: App runs"])
FILES_PER_PAGE = 20
TEXT_TYPES = ("markdown", "text", "html", "csv", "yaml")
DEFAULT_WINDOW = timedelta(hours=24)
ORDER = "^(ASCENDING|DESCENDING|ascending|descending|asc|desc)$"
MAX_OUTPUT_MIB = 8
MAX_OUTPUT_BYTES = MAX_OUTPUT_MIB << 20


@router.post("", response_model=w.Run)
async def run_app(body: w.RunAppRequest, core: CoreDep, project: ProjectDep) -> w.Run:
    """Runs the app over every file of ``batch_id``; ``settings.webhook_config`` is called when it ends."""
    if body.input_dir is not None and body.batch_id is None:
        raise InvalidInputError("input_dir is not supported here: upload the files to a batch and pass batch_id",
                                loc=("body", "input_dir"))
    if body.batch_id is None:
        raise InvalidInputError("batch_id is required", loc=("body", "batch_id"))
    container = await ids.container_of(core, project, body.batch_id)
    return convert.run(await apps.run_app(core, project, body, container, body.batch_id))


@router.get("", response_model=w.ListRunsResponse)
async def list_runs(core: CoreDep, project: ProjectDep, app_id: str | None = None, app_name: str | None = None,
                    deployment_id: str | None = None, username: str | None = None, run_id: str | None = None,
                    status_: list[str] | None = Query(default=None, alias="status"),
                    output_workspaces: list[str] | None = Query(default=None),
                    from_timestamp: int | None = Query(default=None, ge=0, le=10**11),
                    to_timestamp: int | None = Query(default=None, ge=0, le=10**11),
                    limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0),
                    sort_by: str = Query(default="start_timestamp", pattern="^(start_timestamp|status)$"),
                    order: str = Query(default="DESCENDING", pattern=ORDER),
                    ) -> w.ListRunsResponse:
    """Runs of the project started from ``from_timestamp`` (default: 24 hours ago) to ``to_timestamp``
    (Unix seconds). ``deployment_id``, ``username`` and ``output_workspaces`` are accepted and ignored."""
    lineage = None
    if app_id is not None or app_name is not None:
        agent = await apps.find_app(core, project, app_name=app_name, app_id=app_id)
        if agent is None:
            return w.ListRunsResponse(runs=[])
        lineage = agent.lineage_id
    now = datetime.now(UTC)
    where = RunFilter(
        run_id=run_id, statuses=convert.core_statuses(status_) if status_ else None, agent_lineage_id=lineage,
        started_from=_when(from_timestamp) or now - DEFAULT_WINDOW, started_to=_when(to_timestamp))
    page = await core.runs.list(project, input_container_id=None, offset=offset, limit=limit,
                                sort_by="status" if sort_by == "status" else "start_time",
                                descending=order.lower().startswith("desc"), where=where)
    return w.ListRunsResponse(runs=[convert.run(r) for r in page.runs])


@router.get("/{run_id}", response_model=w.Run)
async def get_run_status(run_id: str, core: CoreDep, project: ProjectDep) -> w.Run:
    return convert.run(await core.runs.get(project, run_id))


@router.get("/{run_id}/results", response_model=w.ResultsResponse)
async def get_run_results(run_id: str, core: CoreDep, project: ProjectDep,
                          file_offset: int = Query(default=0, ge=0),
                          include_review_results: bool = False, include_confidence_scores: bool = False,
                          include_validation_results: bool = False,
                          include_source_info: bool = False) -> w.ResultsResponse:
    """One file per item of the run, in a fixed order, ``FILES_PER_PAGE`` at a time from ``file_offset``;
    ``has_more`` says whether to ask again. Markdown and text outputs become text fields, JSON objects one
    field per key. An output over 8 MiB is cut short (text) or left out (JSON), and one that is not valid
    JSON is an error field; their ``error_msg`` says where to read the whole output. The ``include_*``
    flags are accepted; there are no scores or reviews to add."""
    run = await core.runs.get(project, run_id)
    batch_id = await ids.batch_id_of(core, project, run.input_container_id)
    items = await core.runs.item_slice(project, run.id, file_offset, FILES_PER_PAGE + 1)
    files = [await _file(core, project, batch_id, item) for item in items[:FILES_PER_PAGE]]
    shown = convert.run(run)
    return w.ResultsResponse(
        id=run.id, status=shown.status, message=shown.msg, start_timestamp=shown.start_timestamp,
        finish_timestamp=shown.finish_timestamp, batch_id=str(batch_id) if batch_id is not None else None,
        files=files, has_more=len(items) > FILES_PER_PAGE)


@router.delete("/{run_id}", response_model=w.DeleteRunResponse, status_code=status.HTTP_202_ACCEPTED)
async def delete_run(run_id: str, core: CoreDep, project: ProjectDep, delete_db_data: bool = True,
                     delete_input: bool = False, delete_output: bool = False,
                     delete_logs: bool = False) -> w.DeleteRunResponse:
    """Cancels the run if it is going. ``delete_db_data`` deletes the run and its per-file results,
    ``delete_input`` the batch it ran over, ``delete_output`` its output files (both as polled jobs);
    there are no logs to delete."""
    run = await core.runs.cancel(project, run_id)
    answer = w.DeleteRunResponse()
    if delete_input and await core.containers.find(project.id, run.input_container_id) is not None:
        answer.delete_input_dir_job_id = (await core.jobs.submit(project.id, DELETE_CONTAINER,
                                                                 run.input_container_id)).id
    output = run.output_container_id
    if delete_output and output is not None and await core.containers.find(project.id, output) is not None:
        answer.delete_output_dir_job_id = (await core.jobs.submit(project.id, DELETE_CONTAINER, output)).id
    if delete_db_data:
        await core.runs.delete(project, run.id)
    return answer


def _when(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


async def _file(core: Core, project: Project, batch_id: int | None, item: Item) -> w.FileWithDocuments:
    documents: list[w.Document] = []
    if item.status == ItemStatus.SUCCEEDED.value:
        documents = [await _document(core, project, item)]
    elif item.status in (ItemStatus.FAILED.value, ItemStatus.CANCELLED.value):
        documents = [convert.failed_document(item)]
    return w.FileWithDocuments(original_file_name=item.element_name,
                               input_file_path=convert.file_path(batch_id, item.element_name), documents=documents)


async def _document(core: Core, project: Project, item: Item) -> w.Document:
    fields: list[w.DocumentField] = []
    pages = None
    for output in item.outputs or []:
        shown, value = await _output_fields(core, project, output)
        fields += shown
        pages = pages or convert.page_numbers(value)
    return w.Document(fields=fields, page_numbers=pages)


async def _output_fields(core: Core, project: Project, output: dict[str, Any]) -> tuple[list[w.DocumentField], Any]:
    """The fields of one output, and its JSON value when it is a JSON output that could be read."""
    name, kind = str(output.get("name")), output.get("type")
    if kind != "json" and kind not in TEXT_TYPES:
        return [], None
    try:
        element = await core.containers.get_element(project.id, output["datasource_id"], output["data_element_id"])
        content = await _read(core, element, 0 if kind == "json" and _too_big(element) else MAX_OUTPUT_BYTES)
    except NotFoundError:
        return [_error(name, "this output is no longer stored")], None
    if kind != "json":
        text = convert.text_field(name, content.decode("utf-8", "replace"))
        return [text.model_copy(update={"error_msg": _cut_short(output)}) if _too_big(element) else text], None
    return _json_fields(name, content, output) if not _too_big(element) else ([_error(name, _cut_short(output))], None)


def _json_fields(name: str, content: bytes, output: dict[str, Any]) -> tuple[list[w.DocumentField], Any]:
    try:
        value = json.loads(content)
    except (ValueError, RecursionError):
        return [_error(name, f"this output is not valid JSON; {_where(output)}")], None
    return convert.json_fields(name, value), value


def _too_big(element: Element) -> bool:
    return element.size > MAX_OUTPUT_BYTES


def _error(name: str, message: str) -> w.DocumentField:
    return w.DocumentField(field_name=convert.field_name(name), value="ERROR", type="TEXT", error_msg=message)


def _cut_short(output: dict[str, Any]) -> str:
    return f"this output is larger than {MAX_OUTPUT_MIB} MiB, too large to show whole here; {_where(output)}"


def _where(output: dict[str, Any]) -> str:
    return (f"its bytes are at GET /v2/datasources/{output['datasource_id']}/data-elements/"
            f"{output['data_element_id']}/content")


async def _read(core: Core, element: Element, limit: int) -> bytes:
    """At most ``limit`` bytes from the start of an element, read a chunk at a time."""
    kept = bytearray()
    stream = core.containers.element_bytes(element)
    try:
        async for chunk in stream:
            kept += chunk[:limit - len(kept)]
            if len(kept) >= limit:
                break
    finally:
        if isinstance(stream, AsyncGenerator):
            await stream.aclose()
    return bytes(kept)
