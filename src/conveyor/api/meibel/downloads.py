"""/v2/datasources/{id}/downloads: zip export as a job (progress SSE + file) or streamed at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse, StreamingResponse

from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.api.meibel import schemas as w
from conveyor.api.sse import event_stream, frame
from conveyor.errors import ConflictError
from conveyor.services.downloads import zip_chunks

router = APIRouter(prefix="/datasources/{datasource_id}/downloads", tags=["Datasource Downloads"])


@router.post("", response_model=w.DownloadJobResponse, status_code=status.HTTP_202_ACCEPTED)
async def create_download(datasource_id: str, core: CoreDep, project: ProjectDep,
                          body: w.DownloadJobRequest | None = None) -> w.DownloadJobResponse:
    body = body or w.DownloadJobRequest()
    job = await core.downloads.create_job(project.id, datasource_id, body.content, body.data_element_ids)
    return w.DownloadJobResponse(job_id=job.id, status=job.status,
                                 status_url=f"/v2/datasources/{datasource_id}/downloads/{job.id}/progress")


@router.get("/{job_id}/progress", response_class=StreamingResponse)
async def download_progress(datasource_id: str, job_id: str, core: CoreDep,
                            project: ProjectDep) -> StreamingResponse:
    """Server-sent events: ``connected``, ``progress`` while zipping, then ``complete`` or ``error``."""
    job = await core.downloads.get_job(project.id, datasource_id, job_id)

    async def events() -> AsyncIterator[bytes]:
        yield frame("connected", {"job_id": job.id})
        current = job
        while True:
            body = {"job_id": current.id, "status": current.status, "done": current.done,
                    "total": current.total}
            if current.status == "completed":
                file_url = f"/v2/datasources/{datasource_id}/downloads/{job_id}/file"
                yield frame("complete", {**body, "file_url": file_url})
                return
            if current.status == "failed":
                yield frame("error", {**body, "error": current.error})
                return
            yield frame("progress", body)
            await asyncio.sleep(0.25)
            current = await core.downloads.get_job(project.id, datasource_id, job_id)

    return event_stream(events())


@router.get("/{job_id}/file", response_class=FileResponse)
async def download_file(datasource_id: str, job_id: str, core: CoreDep, project: ProjectDep) -> FileResponse:
    job = await core.downloads.get_job(project.id, datasource_id, job_id)
    if job.status != "completed":
        raise ConflictError(f"download job {job_id} is {job.status}; the file is ready when it is completed")
    return FileResponse(core.downloads.archive_path(job.id), media_type="application/zip",
                        filename=f"{datasource_id}.zip")


@router.post("/process", response_class=StreamingResponse)
async def download_now(datasource_id: str, request: Request, core: CoreDep, project: ProjectDep,
                       body: w.DownloadJobRequest | None = None) -> StreamingResponse:
    """The zip streamed in the response while it is being made."""
    body = body or w.DownloadJobRequest()
    members = await core.downloads.members(project.id, datasource_id, body.content, body.data_element_ids)
    return StreamingResponse(zip_chunks(members), media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{datasource_id}.zip"'})
