"""/v2/batch-executions: runs — create (legacy spec), list, get, update, cancel, retry, progress, items."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, status
from fastapi.responses import StreamingResponse

from conveyor.api.deps import CoreDep, IdempotencyKey, ProjectDep
from conveyor.api.meibel import convert
from conveyor.api.meibel import schemas as w
from conveyor.api.meibel.batch_definitions import to_filter
from conveyor.api.sse import event_stream, frame
from conveyor.domain.rules import DEFAULT_CONCURRENCY, DEFAULT_RETRY_LIMIT
from conveyor.domain.status import ItemStatus, RunStatus
from conveyor.errors import InvalidInputError
from conveyor.services.core import Core
from conveyor.services.recipes import RecipeFields
from conveyor.services.runs import decode_cursor
from conveyor.store.models import Project, Recipe, Run

router = APIRouter(prefix="/batch-executions", tags=["Batch Executions"])
PROGRESS_INTERVAL_SECONDS = 0.5
READ_ONLY_FIELDS = ("end_time", "total_items", "succeeded", "failed", "items")


async def render(core: Core, project: Project, run: Run, *, inline_items: bool = True,
                 recipe: Recipe | None = None) -> w.BatchExecutionResponse:
    """An execution with its counts; ``items`` inline once terminal and small enough (not in lists)."""
    recipe = recipe or await core.runs.recipe_of(project, run)
    counts = await core.runs.counts(run)
    items = None
    small = run.total_items <= core.settings.inline_items_limit
    if inline_items and small and RunStatus(run.status).terminal:
        page = await core.runs.items(project, run.id, status=None, cursor=None,
                                     limit=max(run.total_items, 1))
        items = page.items
    return convert.execution(run, recipe, project, counts, items)


@router.post("", response_model=w.BatchExecutionResponse, status_code=status.HTTP_201_CREATED)
async def create_execution(body: w.CreateBatchExecutionRequest, core: CoreDep, project: ProjectDep,
                           idempotency_key: IdempotencyKey = None) -> w.BatchExecutionResponse:
    """Legacy entry point: a batch definition is created (or an identical one reused) from the spec."""
    spec = body.batch_spec_json
    execution = spec.execution or w.LegacyExecution()
    fields = RecipeFields(
        name=spec.name, agent_id=spec.agent, input_container_id=spec.input.datasource_id,
        filters=to_filter(spec.input.filters),
        output_container_id=spec.output.datasource_id if spec.output else None, user_message=spec.user_message,
        concurrency=execution.concurrency if execution.concurrency is not None else DEFAULT_CONCURRENCY,
        retry_limit=execution.retry_limit if execution.retry_limit is not None else DEFAULT_RETRY_LIMIT)
    recipe = await core.recipes.find_or_create(project, fields, created_by="batch-execution")
    run = await core.runs.execute(project, recipe.id, batch_spec=spec.model_dump(mode="json"),
                                  idempotency_key=idempotency_key)
    return await render(core, project, run)


@router.get("", response_model=w.BatchExecutionList)
async def list_executions(core: CoreDep, project: ProjectDep, input_datasource_id: str | None = None,
                          offset: int = Query(default=0, ge=0), limit: int | None = Query(default=None, ge=1, le=1000),
                          sort_by: str = Query(default="start_time", pattern="^(start_time|status)$"),
                          sort_order: str = Query(default="desc", pattern="^(asc|desc)$")) -> w.BatchExecutionList:
    page = await core.runs.list(project, input_container_id=input_datasource_id, offset=offset, limit=limit,
                                sort_by=sort_by, descending=sort_order == "desc")
    return w.BatchExecutionList(data=[await render(core, project, r, inline_items=False) for r in page.runs],
                                pagination=w.PaginationMeta(total=page.total, offset=offset, limit=limit))


@router.get("/id/{execution_id}", response_model=w.BatchExecutionResponse)
async def get_execution(execution_id: str, core: CoreDep, project: ProjectDep) -> w.BatchExecutionResponse:
    run, recipe = await core.runs.get_with_recipe(project, execution_id)
    return await render(core, project, run, recipe=recipe)


@router.put("/id/{execution_id}", response_model=w.BatchExecutionResponse)
async def update_execution(execution_id: str, body: w.UpdateBatchExecutionRequest, core: CoreDep,
                           project: ProjectDep) -> w.BatchExecutionResponse:
    """Runtime fields only. Counts, items and end time are derived from the items and cannot be set."""
    sent = body.model_fields_set
    for field in READ_ONLY_FIELDS:
        if field in sent:
            raise InvalidInputError(f"{field} is derived from the run's items and cannot be set",
                                    loc=("body", field))
    if body.status is not None and body.status.upper() != RunStatus.CANCELLED.value:
        raise InvalidInputError("status can only be set to CANCELLED (the engine owns the others)",
                                loc=("body", "status"))
    run = await core.runs.update_runtime(project, execution_id, status=body.status, error=body.error,
                                         extra=body.additional_properties,
                                         output_container_id=body.output_datasource_id)
    return await render(core, project, run)


@router.post("/id/{execution_id}/cancel", response_model=w.BatchExecutionResponse)
async def cancel_execution(execution_id: str, core: CoreDep, project: ProjectDep) -> w.BatchExecutionResponse:
    return await render(core, project, await core.runs.cancel(project, execution_id))


@router.post("/id/{execution_id}/retry-failed", response_model=w.BatchExecutionResponse)
async def retry_failed(execution_id: str, core: CoreDep, project: ProjectDep) -> w.BatchExecutionResponse:
    """Only FAILED items run again, in the same run; their attempts keep counting."""
    return await render(core, project, await core.runs.retry_failed(project, execution_id))


@router.get("/id/{execution_id}/realtime-progress", response_class=StreamingResponse)
async def realtime_progress(execution_id: str, core: CoreDep, project: ProjectDep) -> StreamingResponse:
    """Server-sent ``progress`` events (counts, items/s, ETA) until the run ends, then ``complete``."""
    await core.runs.get(project, execution_id)

    async def events() -> AsyncIterator[bytes]:
        while True:
            progress = await core.runs.progress(project, execution_id)
            if progress.status.terminal:
                yield frame("complete", progress.to_json())
                return
            yield frame("progress", progress.to_json())
            await asyncio.sleep(PROGRESS_INTERVAL_SECONDS)

    return event_stream(events())


@router.get("/id/{execution_id}/results.jsonl", response_class=StreamingResponse)
async def export_results(execution_id: str, core: CoreDep, project: ProjectDep, cursor: str | None = None,
                         follow: bool = False) -> StreamingResponse:
    """One JSON line per finished item, in finishing order; works while the run is going.

    Each line carries a ``cursor``: pass the last one back to resume after it. ``follow=true`` keeps the
    stream open until the run ends.
    """
    await core.runs.get(project, execution_id)
    decode_cursor(cursor)  # a bad cursor is a 422 now, not a broken stream later
    results = core.runs.results(project, execution_id, cursor=cursor, follow=follow)

    async def lines() -> AsyncIterator[bytes]:
        async for position, item in results:
            line = convert.item(item).model_dump(mode="json") | {"cursor": position}
            yield (json.dumps(line, ensure_ascii=False) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/id/{execution_id}/items", response_model=w.BatchItemList)
async def list_items(execution_id: str, core: CoreDep, project: ProjectDep,
                     status: ItemStatus | None = None, cursor: str | None = Query(default=None, pattern=r"^\d{0,18}$"),
                     limit: int = Query(default=100, ge=1, le=1000)) -> w.BatchItemList:
    """The run's items in order, filterable by status; pass ``next_cursor`` back as ``cursor`` (empty: the
    first page, as for the other cursors of this API)."""
    page = await core.runs.items(project, execution_id, status=status, cursor=int(cursor) if cursor else None,
                                 limit=limit)
    return w.BatchItemList(items=[convert.item(i) for i in page.items],
                           next_cursor=str(page.next_cursor) if page.next_cursor is not None else None,
                           has_next=page.next_cursor is not None)
