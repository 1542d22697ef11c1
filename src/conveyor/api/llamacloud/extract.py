"""/api/v2/extract/{job_id}: one file's extract job of an ``extract_v2`` batch, with the extracted object.

``extract_result`` is the schema-valid JSON the extract processor wrote; ``extract_metadata`` gives the
page each top-level field was found on (``expand=extract_metadata``, or a configuration with
``cite_sources``); ``expand=configuration`` adds the configuration's parameters.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from conveyor.api.llamacloud import convert
from conveyor.api.llamacloud import schemas as w
from conveyor.api.llamacloud.batches import face_of
from conveyor.api.llamacloud.context import CtxDep, expansions
from conveyor.api.llamacloud.ids import IdKind
from conveyor.api.llamacloud.jobs import Job, load, read_json

router = APIRouter(prefix="/api/v2/extract", tags=["Extract"])


def field_metadata(sources: dict[str, Any] | None) -> dict[str, Any]:
    pages = sources or {}
    return {"field_metadata": {"document_metadata": {
        field: {"page_number": page} for field, page in pages.items()}}}


def usage(job: Job) -> dict[str, Any]:
    i = job.item
    return {"usage": {"num_document_tokens": i.prompt_tokens, "num_output_tokens": i.completion_tokens,
                      "num_llm_requests": i.llm_requests}}


@router.get("/{extract_job_id}", response_model=w.ExtractJob, response_model_exclude_none=True)
async def get_extract_job(extract_job_id: str, ctx: CtxDep,
                          expand: list[str] | None = Query(default=None)) -> w.ExtractJob:
    job = await load(ctx, IdKind.EXTRACT_JOB, extract_job_id)
    wanted = expansions(expand)
    params = job.parameters
    i = job.item
    result = await read_json(ctx, job, "json") if i.outputs else None
    cite = "extract_metadata" in wanted or bool(params.get("cite_sources"))
    sources = await read_json(ctx, job, "sources") if i.outputs and cite else None
    return w.ExtractJob(
        id=job.id, created_at=job.run.start_time, updated_at=i.finished_at or job.run.updated_at,
        file_input=await ctx.ids.external(IdKind.FILE, i.element_id), project_id=ctx.project_ref,
        status=convert.JOB_STATUS[i.status], error_message=i.error, extract_result=result,
        configuration=params if "configuration" in wanted else None,
        configuration_id=face_of(job.run).get("config", {}).get("job", {}).get("configuration_id"),
        extract_metadata=field_metadata(sources) if cite and i.outputs else None, metadata=usage(job))
