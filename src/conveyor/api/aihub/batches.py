"""/v2/batches: create, list, get, delete (a polled job); a batch's files: put, list, delete."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request, Response, status

from conveyor.api.aihub import convert, ids
from conveyor.api.aihub import schemas as w
from conveyor.api.aihub.jobs import job_status
from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.services.containers import IncomingFile
from conveyor.services.core import DELETE_CONTAINER

router = APIRouter(prefix="/batches", tags=["AI Hub: Batches"])
FileName = Path(min_length=1, max_length=w.MAX_NAME)


@router.post("", response_model=w.Batch)
async def create_batch(body: w.CreateBatchRequest, core: CoreDep, project: ProjectDep) -> w.Batch:
    return w.Batch(id=await ids.create_batch(core, project, body.name, body.workspace))


@router.get("", response_model=w.ListBatchesResponse)
async def list_batches(core: CoreDep, project: ProjectDep, workspace: str | None = None,
                       username: str | None = None, limit: int = Query(default=100, ge=1, le=1000),
                       offset: int = Query(default=0, ge=0)) -> w.ListBatchesResponse:
    """Batches in creation order, of one ``workspace`` if given; ``username`` is accepted and ignored (a
    project's batches are its keys' batches)."""
    where = (("aihub", "workspace"), workspace) if workspace else None
    rows = await core.face_ids.containers(ids.batch_key(project), offset, limit, extra_equals=where)
    return w.ListBatchesResponse(batches=[convert.batch_info(int(batch_id), c) for batch_id, c in rows])


@router.get("/jobs/{job_id}", response_model=w.JobStatusResponse)
async def poll_batches_job(job_id: str, core: CoreDep, project: ProjectDep) -> w.JobStatusResponse:
    return await job_status(core, project, job_id)


@router.get("/{batch_id}", response_model=w.BatchInfo)
async def get_batch(batch_id: int, core: CoreDep, project: ProjectDep) -> w.BatchInfo:
    return convert.batch_info(batch_id, await ids.container_of(core, project, batch_id))


@router.delete("/{batch_id}", response_model=w.BatchDeletionJobResponse, status_code=status.HTTP_202_ACCEPTED)
async def delete_batch(batch_id: int, core: CoreDep, project: ProjectDep) -> w.BatchDeletionJobResponse:
    """The batch and its files go in a background job; poll ``GET /v2/batches/jobs/{job_id}``."""
    container = await ids.container_of(core, project, batch_id)
    job = await core.jobs.submit(project.id, DELETE_CONTAINER, container.id)
    return w.BatchDeletionJobResponse(job_id=job.id)


@router.put("/{batch_id}/files/{filename}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def add_file(batch_id: int, request: Request, core: CoreDep, project: ProjectDep,
                   filename: str = FileName) -> Response:
    """The body is the file's bytes, streamed to storage; a file of the same name is replaced."""
    container = await ids.container_of(core, project, batch_id)
    incoming = IncomingFile(name=filename, media_type=request.headers.get("content-type"), chunks=request.stream())
    await core.containers.add_file(project.id, container, incoming, replace=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{batch_id}/files", response_model=w.ListBatchFilesResponse)
async def list_files(batch_id: int, core: CoreDep, project: ProjectDep,
                     page_size: int = Query(default=100, ge=1, le=1000),
                     start_token: str | None = Query(default=None, max_length=100)) -> w.ListBatchFilesResponse:
    container = await ids.container_of(core, project, batch_id)
    page = await core.containers.page_elements(project.id, container.id, cursor=start_token, limit=page_size)
    return w.ListBatchFilesResponse(nodes=[convert.file_node(batch_id, e) for e in page.elements],
                                    next_page_token=page.next_cursor, has_more=page.next_cursor is not None)


@router.delete("/{batch_id}/files/{filename}", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
async def delete_file(batch_id: int, core: CoreDep, project: ProjectDep, filename: str = FileName) -> Response:
    container = await ids.container_of(core, project, batch_id)
    await core.containers.delete_file(project.id, container.id, filename)
    return Response(status_code=status.HTTP_202_ACCEPTED)
