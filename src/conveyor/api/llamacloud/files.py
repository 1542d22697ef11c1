"""/api/v1/beta/files: uploaded files, their presigned download URLs, and the download route itself.

A file is an element. Files uploaded here live in one container per project (kind ``llamacloud-files``);
a directory file is a file too, so ``files.get`` and the download URL work for both.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from conveyor.api.deps import CoreDep
from conveyor.api.llamacloud import convert, pages
from conveyor.api.llamacloud import schemas as w
from conveyor.api.llamacloud.context import DOWNLOAD_ROUTE, Ctx, CtxDep
from conveyor.api.llamacloud.directories import FILES_KIND
from conveyor.api.llamacloud.directory_files import store_form
from conveyor.api.llamacloud.ids import IdKind, LlamaIds
from conveyor.api.signing import UrlSigner
from conveyor.domain.rules import ElementFilter
from conveyor.errors import InvalidInputError, NotFoundError
from conveyor.store.containers import ElementQuery
from conveyor.store.models import Container, Element

router = APIRouter(tags=["Files"])
PREFIX = "/api/v1/beta/files"


async def files_container(ctx: Ctx) -> Container:
    """The project's container for files uploaded through this API, made on first use."""
    for container in await ctx.core.containers.list(ctx.project.id):
        if container.kind == FILES_KIND:
            return container
    return await ctx.core.containers.create(ctx.project.id, "llamacloud-files", kind=FILES_KIND,
                                            description="Files uploaded through the LlamaCloud files API")


async def file_element(ctx: Ctx, file_id: str) -> Element:
    core_id = await ctx.ids.find(IdKind.FILE, file_id)
    element = await ctx.core.containers.find_element(ctx.project.id, core_id) if core_id else None
    if element is None:
        raise NotFoundError(f"file {file_id} not found")
    return element


async def render(ctx: Ctx, e: Element) -> w.File:
    file_id = await ctx.ids.external(IdKind.FILE, e.id)
    return convert.file(e, file_id, ctx.project_ref, ctx.download_url(file_id))


@router.post(PREFIX, response_model=w.File)
async def create_file(request: Request, ctx: CtxDep) -> w.File:
    """Upload one file (multipart field ``file``, with ``purpose`` and an optional ``external_file_id``)."""
    element = await store_form(ctx, await files_container(ctx), request)
    return await render(ctx, element)


@router.get(PREFIX, response_model=w.Page[w.File])
async def list_files(ctx: CtxDep, file_name: str | None = None, file_ids: list[str] | None = Query(default=None),
                     external_file_id: str | None = None, order_by: str | None = None,
                     expand: list[str] | None = Query(default=None), page_size: int = pages.PageSize,
                     page_token: str | None = pages.PageToken) -> w.Page[w.File]:
    """Files uploaded through this API, oldest first."""
    if order_by not in (None, "id"):
        raise InvalidInputError("order_by: only 'id' is supported", loc=("query", "order_by"))
    chosen = None
    if file_ids is not None:
        found = [await ctx.ids.find(IdKind.FILE, f) for f in file_ids]
        chosen = ElementFilter(element_ids=tuple(c for c in found if c))
    query = ElementQuery(name=file_name, metadata=((convert.EXTERNAL_FILE_ID, external_file_id),)
                         if external_file_id is not None else ())
    container = await files_container(ctx)
    page = await ctx.core.containers.page_elements(ctx.project.id, container.id, cursor=pages.cursor_of(page_token),
                                                   limit=page_size, element_filter=chosen, query=query)
    ids = await ctx.ids.externals(IdKind.FILE, [e.id for e in page.elements])
    return w.Page(items=[convert.file(e, ids[e.id], ctx.project_ref) for e in page.elements],
                  next_page_token=pages.cursor_token(page.next_cursor))


@router.get(PREFIX + "/{file_id}", response_model=w.File)
async def get_file(file_id: str, ctx: CtxDep, expand: list[str] | None = Query(default=None)) -> w.File:
    return await render(ctx, await file_element(ctx, file_id))


@router.delete(PREFIX + "/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_file(file_id: str, ctx: CtxDep) -> Response:
    element = await file_element(ctx, file_id)
    await ctx.core.containers.delete_element(ctx.project.id, element.container_id, element.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(PREFIX + "/{file_id}/content", response_model=w.PresignedURL)
async def file_content(file_id: str, ctx: CtxDep,
                       expires_at_seconds: int | None = Query(default=None, ge=1)) -> w.PresignedURL:
    """A presigned URL that downloads the file without an API key until it expires."""
    await file_element(ctx, file_id)
    return ctx.download_url(file_id, expires_at_seconds)


@router.get("/downloads/{file_id}", name=DOWNLOAD_ROUTE, response_class=StreamingResponse)
async def download(file_id: str, request: Request, core: CoreDep, project: str = Query(max_length=100),
                   expires: int = Query(), signature: str = Query(max_length=128)) -> StreamingResponse:
    """The bytes behind a presigned URL: the signature stands in for the API key."""
    signer: UrlSigner = request.app.state.url_signer
    signer.check(project, file_id, expires, signature)
    core_id = await LlamaIds(core.face_ids, project).find(IdKind.FILE, file_id)
    element = await core.containers.find_element(project, core_id) if core_id else None
    if element is None:
        raise NotFoundError(f"file {file_id} not found")
    quoted = quote(element.name, safe="")
    return StreamingResponse(core.containers.element_bytes(element), media_type=element.media_type,
                             headers={"Content-Length": str(element.size), "ETag": f'"{element.sha256}"',
                                      "Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"})

