"""/api/v2/parse/{job_id}: one file's parse job of a ``parse_v2`` batch, with the content it produced.

``expand`` picks the content: ``text`` / ``markdown`` / ``items`` per page, ``text_full`` /
``markdown_full`` whole, ``metadata`` (pages), ``job_metadata``, and ``text_content_metadata`` /
``markdown_content_metadata`` (presigned URLs of the output files).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from conveyor.api.llamacloud import convert, items
from conveyor.api.llamacloud import schemas as w
from conveyor.api.llamacloud.context import Ctx, CtxDep, expansions
from conveyor.api.llamacloud.ids import IdKind
from conveyor.api.llamacloud.jobs import Job, load, output_element, read_json, read_text

router = APIRouter(prefix="/api/v2/parse", tags=["Parse"])
CONTENT_METADATA = {"text_content_metadata": "text", "markdown_content_metadata": "markdown",
                    "items_content_metadata": "pages"}


def job_shape(job: Job, project_ref: str) -> w.ParseJob:
    return w.ParseJob(id=job.id, project_id=project_ref, status=convert.JOB_STATUS[job.item.status],
                      created_at=job.run.start_time, updated_at=job.item.finished_at or job.run.updated_at,
                      error_message=job.item.error, name=job.item.element_name,
                      tier=str(job.parameters.get("tier") or "") or None)


def page_markdown(page: dict[str, Any], full_markdown: str, page_count: int) -> str:
    """A page's markdown: as the parser gave it (pages of PDFs, images, slides, sheets), else the document's
    if it has one page, else its text."""
    if isinstance(page.get("markdown"), str):
        return str(page["markdown"])
    return full_markdown if page_count == 1 else str(page.get("text") or "")


async def content(ctx: Ctx, job: Job, wanted: set[str]) -> dict[str, Any]:
    """The expanded fields of a finished job."""
    found: dict[str, Any] = {}
    pages = await read_json(ctx, job, "pages") or []
    markdown = await read_text(ctx, job, "markdown") or ""
    if "text" in wanted:
        found["text"] = w.PageTexts(pages=[w.TextPage(page_number=p["page"], text=p["text"]) for p in pages])
    if "text_full" in wanted:
        found["text_full"] = await read_text(ctx, job, "text")
    if "markdown_full" in wanted:
        found["markdown_full"] = markdown
    by_page = [(int(p["page"]), page_markdown(p, markdown, len(pages))) for p in pages]
    if "markdown" in wanted:
        found["markdown"] = w.PageMarkdowns(pages=[w.MarkdownPage(page_number=n, markdown=md) for n, md in by_page])
    if "items" in wanted:
        found["items"] = w.PageItems(pages=[
            w.ItemsPage(page_number=n, page_width=float(p.get("width") or 0.0),
                        page_height=float(p.get("height") or 0.0), items=items.items(md))
            for (n, md), p in zip(by_page, pages, strict=True)])
    if "metadata" in wanted:
        found["metadata"] = w.ParseMetadata(pages=[w.PageMetadata(page_number=n) for n, _ in by_page])
    return found


async def content_metadata(ctx: Ctx, job: Job, wanted: set[str]) -> dict[str, w.ResultContent] | None:
    found = {}
    for field, artifact in CONTENT_METADATA.items():
        element = await output_element(ctx, job, artifact) if field in wanted else None
        if element is not None:
            url = ctx.download_url(await ctx.ids.external(IdKind.FILE, element.id)).url
            found[field.removesuffix("_content_metadata")] = w.ResultContent(size_bytes=element.size, exists=True,
                                                                              presigned_url=url)
    return found or None


def job_metadata(job: Job) -> dict[str, Any]:
    i = job.item
    return {"attempts": i.attempts, "started_at": i.started_at.isoformat() if i.started_at else None,
            "finished_at": i.finished_at.isoformat() if i.finished_at else None, "file_name": i.element_name}


@router.get("/{parse_job_id}", response_model=w.ParseResult, response_model_exclude_none=True)
async def get_parse_job(parse_job_id: str, ctx: CtxDep, expand: list[str] | None = Query(default=None),
                        image_filenames: str | None = None) -> w.ParseResult:
    job = await load(ctx, IdKind.PARSE_JOB, parse_job_id)
    wanted = expansions(expand)
    result = w.ParseResult(job=job_shape(job, ctx.project_ref))
    if job.item.outputs:
        result = result.model_copy(update={**await content(ctx, job, wanted),
                                           "result_content_metadata": await content_metadata(ctx, job, wanted)})
    if "job_metadata" in wanted:
        result.job_metadata = job_metadata(job)
    return result
