"""/api/v2/batches: a batch is a run of a recipe (the configuration's agent over the directory).

Creating one pins the configuration's current agent version in a recipe, starts a run over every file of
the directory, and subscribes the given webhooks to the run. Batch statuses are the run's; each item of
the run is one parse or extract job (``pjb-…`` / ``ext-…``), minted the first time it is shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query

from conveyor.api.llamacloud import pages, webhooks
from conveyor.api.llamacloud import schemas as w
from conveyor.api.llamacloud.configurations import agent_for_job
from conveyor.api.llamacloud.context import Ctx, CtxDep, expansions
from conveyor.api.llamacloud.directories import container_of
from conveyor.api.llamacloud.ids import FACE, IdKind, mint
from conveyor.domain.status import ItemStatus, RunStatus
from conveyor.errors import ConflictError
from conveyor.services.recipes import RecipeFields
from conveyor.store.models import Item, Run
from conveyor.store.runs import RunFilter

router = APIRouter(prefix="/api/v2/batches", tags=["Batches"])
JOB_KIND = {"parse_v2": IdKind.PARSE_JOB, "extract_v2": IdKind.EXTRACT_JOB}
RESULTS_PAGE = 1000


def face_of(run: Run) -> dict[str, Any]:
    """What the face recorded on the run when it made the batch: its config and directory id."""
    value = run.extra.get(FACE) or {}
    return dict(value)


async def run_of(ctx: Ctx, batch_id: str) -> Run:
    return await ctx.core.runs.get(ctx.project, await ctx.ids.core(IdKind.BATCH, batch_id))


async def results(ctx: Ctx, run: Run, job_type: str) -> list[w.BatchResult] | None:
    """One result per file of the batch: its job, and the error of a file that failed."""
    if run.total_items > ctx.core.settings.inline_items_limit:
        return None
    found: list[Item] = []
    cursor = None
    while True:
        page = await ctx.core.runs.items(ctx.project, run.id, status=None, cursor=cursor, limit=RESULTS_PAGE)
        found += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    files = await ctx.ids.externals(IdKind.FILE, [i.element_id for i in found])
    jobs = await ctx.ids.externals(JOB_KIND[job_type], [str(i.id) for i in found])
    return [w.BatchResult(source_directory_file_id=files[i.element_id],
                          job_reference=w.JobReference(id=jobs[str(i.id)], type=job_type),
                          error_message=i.error if i.status == ItemStatus.FAILED.value else None)
            for i in found]


async def render(ctx: Ctx, run: Run, batch_id: str | None = None, *, expand: bool = False) -> w.Batch:
    face = face_of(run)
    config = w.BatchConfig.model_validate(face["config"])
    return w.Batch(
        id=batch_id or await ctx.ids.external(IdKind.BATCH, run.id), config=config, project_id=ctx.project_ref,
        source_directory_id=face["source_directory_id"], status=RunStatus(run.status).value,
        created_at=run.start_time, updated_at=run.updated_at,
        results=await results(ctx, run, config.job.type) if expand else None)


@router.post("", response_model=w.Batch)
async def create_batch(body: w.BatchCreate, ctx: CtxDep) -> w.Batch:
    container = await container_of(ctx, body.source_directory_id)
    job = body.config.job
    agent = await agent_for_job(ctx, job.configuration_id, job.type)
    batch_id = mint(IdKind.BATCH)
    face = {"config": body.config.model_dump(mode="json"), "source_directory_id": body.source_directory_id}
    targets = webhooks.targets(body, {"batch_id": batch_id, "project_id": ctx.project_ref, **face})
    fields = RecipeFields(name=f"llamacloud-{job.type}-{container.name}", agent_id=agent.id,
                          input_container_id=container.id,
                          description=f"LlamaCloud {job.type} batch with {job.configuration_id}")
    recipe = await ctx.core.recipes.find_or_create(ctx.project, fields, created_by="llamacloud")
    run = await ctx.core.runs.execute(ctx.project, recipe.id, extra={FACE: face}, webhooks=targets)
    await ctx.ids.assign(IdKind.BATCH, batch_id, run.id)
    return await render(ctx, run, batch_id)


@router.get("", response_model=w.Page[w.Batch])
async def list_batches(ctx: CtxDep, status: w.BatchStatus | None = None, source_directory_id: str | None = None,
                       created_at_on_or_after: datetime | None = None,
                       created_at_on_or_before: datetime | None = None, page_size: int = pages.PageSize,
                       page_token: str | None = pages.PageToken) -> w.Page[w.Batch]:
    """The project's batches made through this API, newest first."""
    container_id = None
    if source_directory_id is not None:
        container_id = await ctx.ids.find(IdKind.DIRECTORY, source_directory_id) or "-"
    where = RunFilter(statuses=(status,) if status else None, started_from=created_at_on_or_after,
                      started_to=created_at_on_or_before, face_kind=(FACE, IdKind.BATCH.value))
    offset = pages.offset_of(page_token)
    page = await ctx.core.runs.list(ctx.project, input_container_id=container_id, offset=offset, limit=page_size,
                                    sort_by="start_time", descending=True, where=where)
    ids = await ctx.ids.externals(IdKind.BATCH, [r.id for r in page.runs])
    return w.Page(items=[await render(ctx, r, ids[r.id]) for r in page.runs],
                  next_page_token=pages.next_offset_token(offset, len(page.runs), page.total), total_size=page.total)


@router.get("/{batch_id}", response_model=w.Batch)
async def get_batch(batch_id: str, ctx: CtxDep, expand: list[str] | None = Query(default=None)) -> w.Batch:
    """``expand=results`` adds each file's job (and error), for batches of up to the inline items limit."""
    return await render(ctx, await run_of(ctx, batch_id), batch_id, expand="results" in expansions(expand))


@router.post("/{batch_id}/cancel", response_model=w.Batch)
async def cancel_batch(batch_id: str, ctx: CtxDep) -> w.Batch:
    """Pending files never start and running ones stop; finished files keep their results."""
    run = await run_of(ctx, batch_id)
    if RunStatus(run.status).terminal:
        raise ConflictError(f"batch {batch_id} is {run.status} and cannot be cancelled")
    return await render(ctx, await ctx.core.runs.cancel(ctx.project, run.id), batch_id)
