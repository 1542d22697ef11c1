"""/api/v1/beta/directories/{directory_id}/files: a directory file is an element of the container."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response, status

from conveyor.api.llamacloud import convert, pages
from conveyor.api.llamacloud import schemas as w
from conveyor.api.llamacloud.context import Ctx, CtxDep, expansions
from conveyor.api.llamacloud.directories import container_of
from conveyor.api.llamacloud.ids import IdKind
from conveyor.api.multipart import MultipartReader
from conveyor.domain.rules import ElementFilter
from conveyor.errors import InvalidInputError, NotFoundError
from conveyor.store.containers import ElementQuery
from conveyor.store.models import Container, Element

router = APIRouter(prefix="/api/v1/beta/directories/{directory_id}/files", tags=["Directory Files"])
Expand = Query(default=None)


async def element_of(ctx: Ctx, container: Container, directory_file_id: str) -> Element:
    core_id = await ctx.ids.core(IdKind.FILE, directory_file_id)
    return await ctx.core.containers.get_element(ctx.project.id, container.id, core_id)


async def render(ctx: Ctx, e: Element, directory_id: str, *, with_url: bool = True) -> w.DirectoryFile:
    file_id = await ctx.ids.external(IdKind.FILE, e.id)
    url = ctx.download_url(file_id) if with_url else None
    return convert.directory_file(e, file_id, directory_id, ctx.project_ref, url)


def parse_metadata(raw: str | None) -> dict[str, Any]:
    """The upload form's ``metadata``: a JSON object as a string."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InvalidInputError(f"metadata is not JSON: {e.msg}", loc=("body", "metadata")) from e
    if not isinstance(value, dict):
        raise InvalidInputError("metadata must be a JSON object", loc=("body", "metadata"))
    return value


async def receive_one(ctx: Ctx, container: Container, request: Request) -> tuple[Element, dict[str, str]]:
    """Stream the one file part of a multipart request into the container; the form's other fields."""
    reader = MultipartReader(request)
    incoming = await reader.next_file()
    if incoming is None:
        raise InvalidInputError("no file part in the request", loc=("body", "upload_file"))
    element = await ctx.core.containers.add_file(ctx.project.id, container, incoming)
    try:
        if await reader.next_file() is not None:
            raise InvalidInputError("send one file per upload", loc=("body", "upload_file"))
    except BaseException:
        await asyncio.shield(ctx.core.containers.delete_element(ctx.project.id, container.id, element.id))
        raise
    return element, {**reader.fields, "filename": incoming.name}


async def store_form(ctx: Ctx, container: Container, request: Request) -> Element:
    """An uploaded file with the form's display name, unique id, external id and metadata applied."""
    element, fields = await receive_one(ctx, container, request)
    try:
        meta = parse_metadata(fields.get("metadata"))
        meta[convert.UNIQUE_ID] = fields.get("unique_id") or fields.get("external_file_id") or fields["filename"]
        if fields.get("external_file_id"):
            meta[convert.EXTERNAL_FILE_ID] = fields["external_file_id"]
        if fields.get("purpose"):
            meta[convert.PURPOSE] = fields["purpose"]
        name = fields.get("display_name") or element.name
        return await ctx.core.containers.update_element(ctx.project.id, container.id, element.id, meta=meta,
                                                        name=name)
    except BaseException:
        await asyncio.shield(ctx.core.containers.delete_element(ctx.project.id, container.id, element.id))
        raise


@router.post("/upload", response_model=w.DirectoryFile)
async def upload_file(directory_id: str, request: Request, ctx: CtxDep) -> w.DirectoryFile:
    """Upload one file (multipart field ``upload_file``) and make it a file of the directory."""
    container = await container_of(ctx, directory_id)
    return await render(ctx, await store_form(ctx, container, request), directory_id)


@router.post("", response_model=w.DirectoryFile)
async def add_file(directory_id: str, body: w.DirectoryFileAdd, ctx: CtxDep) -> w.DirectoryFile:
    """A file already uploaded (``file_id``) becomes a file of this directory too (the bytes are shared)."""
    container = await container_of(ctx, directory_id)
    source_id = await ctx.ids.find(IdKind.FILE, body.file_id)
    source = await ctx.core.containers.find_element(ctx.project.id, source_id) if source_id else None
    if source is None:
        raise NotFoundError(f"file {body.file_id} not found")
    meta = {**(body.metadata or {}), convert.UNIQUE_ID: body.unique_id or convert.unique_id(source)}
    element = await ctx.core.containers.copy_element(ctx.project.id, source, container,
                                                     body.display_name or source.name, meta)
    return await render(ctx, element, directory_id)


@router.get("", response_model=w.Page[w.DirectoryFile])
async def list_files(directory_id: str, ctx: CtxDep, display_name: str | None = None,
                     display_name_contains: str | None = None, unique_id: str | None = None,
                     file_id: str | None = None, include_deleted: bool = False,
                     updated_at_on_or_after: datetime | None = None, updated_at_on_or_before: datetime | None = None,
                     expand: list[str] | None = Expand, page_size: int = pages.PageSize,
                     page_token: str | None = pages.PageToken) -> w.Page[w.DirectoryFile]:
    container = await container_of(ctx, directory_id)
    chosen = None
    if file_id is not None:
        core_id = await ctx.ids.find(IdKind.FILE, file_id)
        chosen = ElementFilter(element_ids=(core_id,) if core_id else ())
    query = ElementQuery(name=display_name, name_contains=display_name_contains,
                         updated_from=updated_at_on_or_after, updated_to=updated_at_on_or_before,
                         metadata=((convert.UNIQUE_ID, unique_id),) if unique_id is not None else ())
    page = await ctx.core.containers.page_elements(ctx.project.id, container.id, cursor=pages.cursor_of(page_token),
                                                   limit=page_size, element_filter=chosen, query=query)
    ids = await ctx.ids.externals(IdKind.FILE, [e.id for e in page.elements])
    with_url = "download_url" in expansions(expand)
    return w.Page(items=[convert.directory_file(e, ids[e.id], directory_id, ctx.project_ref,
                                                ctx.download_url(ids[e.id]) if with_url else None)
                         for e in page.elements],
                  next_page_token=pages.cursor_token(page.next_cursor))


@router.get("/{directory_file_id}", response_model=w.DirectoryFile)
async def get_file(directory_id: str, directory_file_id: str, ctx: CtxDep,
                   expand: list[str] | None = Expand) -> w.DirectoryFile:
    container = await container_of(ctx, directory_id)
    return await render(ctx, await element_of(ctx, container, directory_file_id), directory_id)


@router.patch("/{directory_file_id}", response_model=w.DirectoryFile)
async def update_file(directory_id: str, directory_file_id: str, body: w.DirectoryFileUpdate,
                      ctx: CtxDep) -> w.DirectoryFile:
    """Rename, replace the user metadata, change the unique id, or move to ``target_directory_id``."""
    container = await container_of(ctx, directory_id)
    element = await element_of(ctx, container, directory_file_id)
    changes: dict[str, Any] = {"name": body.display_name}
    if body.metadata is not None or body.unique_id is not None:
        user = body.metadata if body.metadata is not None else convert.user_metadata(element)
        reserved = {k: v for k, v in (element.meta or {}).items() if k in convert.RESERVED_METADATA}
        changes["meta"] = {**user, **reserved, **({convert.UNIQUE_ID: body.unique_id} if body.unique_id else {})}
    target = directory_id
    if body.target_directory_id is not None and body.target_directory_id != directory_id:
        changes["container_id"] = (await container_of(ctx, body.target_directory_id)).id
        target = body.target_directory_id
    updated = await ctx.core.containers.update_element(ctx.project.id, container.id, element.id, **changes)
    return await render(ctx, updated, target)


@router.delete("/{directory_file_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_file(directory_id: str, directory_file_id: str, ctx: CtxDep) -> Response:
    container = await container_of(ctx, directory_id)
    element = await element_of(ctx, container, directory_file_id)
    await ctx.core.containers.delete_element(ctx.project.id, container.id, element.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
