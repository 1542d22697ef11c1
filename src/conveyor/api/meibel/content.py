"""/v2/datasources/{id}/content: streamed uploads, the content listing, upload progress (SSE)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse

from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.api.meibel import convert
from conveyor.api.meibel import schemas as w
from conveyor.api.multipart import MultipartReader
from conveyor.api.sse import event_stream, frame
from conveyor.errors import InvalidInputError
from conveyor.services.core import Core
from conveyor.store.models import Container, Element, Project, Upload

router = APIRouter(tags=["File Upload"])
MAX_FILES_PER_REQUEST = 10_000


async def _receive(core: Core, project: Project, container: Container,
                   request: Request) -> tuple[Upload, list[Element]]:
    """Stream every file part of the request into the container; the upload record tracks progress."""
    reader = MultipartReader(request)
    upload = await core.containers.begin_upload(project.id, container.id)
    elements: list[Element] = []
    try:
        while (incoming := await reader.next_file()) is not None:
            if len(elements) >= MAX_FILES_PER_REQUEST:
                raise InvalidInputError(f"at most {MAX_FILES_PER_REQUEST} files per request", loc=("body", "files"))
            element = await core.containers.add_file(project.id, container, incoming)
            await core.containers.record_upload_file(upload, element)
            elements.append(element)
        if not elements:
            raise InvalidInputError("no file part in the request (send files as 'files')", loc=("body", "files"))
    except BaseException as e:
        await asyncio.shield(core.containers.finish_upload(upload, error=str(e) or type(e).__name__))
        raise
    await core.containers.finish_upload(upload)
    return upload, elements


@router.post("/datasources/{datasource_id}/content", response_model=w.UploadContentResponse,
             status_code=status.HTTP_202_ACCEPTED)
async def upload_content(datasource_id: str, request: Request, core: CoreDep,
                         project: ProjectDep) -> w.UploadContentResponse:
    """Upload one or more files (multipart field ``files``); each becomes a data element at once."""
    container = await core.containers.get(project.id, datasource_id)
    upload, elements = await _receive(core, project, container, request)
    return w.UploadContentResponse(
        success=True, message=f"{len(elements)} file(s) stored", datasource_id=container.id,
        upload_id=upload.id, sse_url=f"/v2/datasources/uploads/{upload.id}/progress",
        estimated_files=len(elements), estimated_size=sum(e.size for e in elements))


@router.post("/datasources/{datasource_id}/content/process", response_model=w.FileUploadSyncResponse)
async def upload_and_list(datasource_id: str, request: Request, core: CoreDep, project: ProjectDep,
                          trigger_ingest: bool = Query(default=False)) -> w.FileUploadSyncResponse:
    """Synchronous upload: returns once the files are stored, with the first page of the listing."""
    container = await core.containers.get(project.id, datasource_id)
    await _receive(core, project, container, request)
    ingest_url = None
    if trigger_ingest:
        await core.containers.trigger_ingest(project.id, container.id)
        ingest_url = f"/v2/datasources/{container.id}/ingest-status"
    page = await core.containers.page_elements(project.id, container.id, cursor=None, limit=1000)
    return w.FileUploadSyncResponse(datasource_id=container.id,
                                    items=[convert.content_item(e) for e in page.elements],
                                    continuation_token=page.next_cursor, ingest_url=ingest_url)


@router.get("/datasources/{datasource_id}/content", response_model=w.ListContentResponse)
async def list_content(datasource_id: str, core: CoreDep, project: ProjectDep, prefix: str | None = None,
                       continuation_token: str | None = None,
                       limit: int = Query(default=100, ge=1, le=1000)) -> w.ListContentResponse:
    page = await core.containers.page_elements(project.id, datasource_id, cursor=continuation_token,
                                               limit=limit, name_prefix=prefix)
    return w.ListContentResponse(items=[convert.content_item(e) for e in page.elements],
                                 continuation_token=page.next_cursor, next_cursor=page.next_cursor)


@router.get("/datasources/uploads/{upload_id}/progress", response_class=StreamingResponse)
async def upload_progress(upload_id: str, core: CoreDep, project: ProjectDep) -> StreamingResponse:
    """Server-sent events: ``connected``, one ``file_complete`` per stored file, then ``stream_complete``."""
    upload = await core.containers.get_upload(project.id, upload_id)

    async def events() -> AsyncIterator[bytes]:
        yield frame("connected", {"upload_id": upload.id})
        sent = 0
        current = upload
        while True:
            for file in current.files[sent:]:
                yield frame("file_complete", file)
            sent = len(current.files)
            if current.status != "running":
                yield frame("stream_complete", {"upload_id": current.id, "status": current.status,
                                                "files": sent, "total_bytes": current.total_bytes,
                                                "error": current.error})
                return
            await asyncio.sleep(0.25)
            current = await core.containers.get_upload(project.id, upload_id)

    return event_stream(events())
