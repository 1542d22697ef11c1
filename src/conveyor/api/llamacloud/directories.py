"""/api/v1/beta/directories: a directory is a container (a Meibel datasource)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response, status

from conveyor.api.llamacloud import convert, pages
from conveyor.api.llamacloud import schemas as w
from conveyor.api.llamacloud.context import Ctx, CtxDep
from conveyor.api.llamacloud.ids import IdKind
from conveyor.errors import InvalidInputError
from conveyor.store.models import Container

router = APIRouter(prefix="/api/v1/beta/directories", tags=["Directories"])
DirectoryType = Literal["ephemeral", "index", "user"]
FILES_KIND = "llamacloud-files"  # the container behind the top-level files API; not a directory


async def container_of(ctx: Ctx, directory_id: str) -> Container:
    """The container behind a directory id of this project; 404 otherwise."""
    core_id = await ctx.ids.core(IdKind.DIRECTORY, directory_id)
    return await ctx.core.containers.get(ctx.project.id, core_id)


async def render(ctx: Ctx, container: Container) -> w.Directory:
    return convert.directory(container, await ctx.ids.external(IdKind.DIRECTORY, container.id), ctx.project_ref)


@router.post("", response_model=w.Directory)
async def create_directory(body: w.DirectoryCreate, ctx: CtxDep) -> w.Directory:
    if body.connector_subscription_id is not None:
        raise InvalidInputError("connector subscriptions are not supported: upload files into the directory",
                                loc=("body", "connector_subscription_id"))
    face = {"type": body.type, "system_metadata": body.system_metadata}
    container = await ctx.core.containers.create(ctx.project.id, body.name, body.description or "",
                                                 extra={convert.FACE_KEY: face})
    return await render(ctx, container)


@router.get("", response_model=w.Page[w.Directory])
async def list_directories(ctx: CtxDep, name: str | None = None, type: DirectoryType | None = None,
                           types: list[DirectoryType] | None = Query(default=None),
                           include_deleted: bool = False, page_size: int = pages.PageSize,
                           page_token: str | None = pages.PageToken) -> w.Page[w.Directory]:
    """Every container of the project is a directory (those made through the Meibel face too)."""
    wanted = set(types or ()) | ({type} if type else set())
    chosen = [c for c in await ctx.core.containers.list(ctx.project.id)
              if c.kind != FILES_KIND and (name is None or c.name == name)
              and (not wanted or (c.extra.get(convert.FACE_KEY) or {}).get("type", "user") in wanted)]
    offset = pages.offset_of(page_token)
    shown = chosen[offset:offset + page_size]
    ids = await ctx.ids.externals(IdKind.DIRECTORY, [c.id for c in shown])
    return w.Page(items=[convert.directory(c, ids[c.id], ctx.project_ref) for c in shown],
                  next_page_token=pages.next_offset_token(offset, len(shown), len(chosen)), total_size=len(chosen))


@router.get("/{directory_id}", response_model=w.Directory)
async def get_directory(directory_id: str, ctx: CtxDep) -> w.Directory:
    return await render(ctx, await container_of(ctx, directory_id))


@router.patch("/{directory_id}", response_model=w.Directory)
async def update_directory(directory_id: str, body: w.DirectoryUpdate, ctx: CtxDep) -> w.Directory:
    container = await container_of(ctx, directory_id)
    updated = await ctx.core.containers.update(ctx.project.id, container.id, name=body.name,
                                               description=body.description)
    return await render(ctx, updated)


@router.delete("/{directory_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_directory(directory_id: str, ctx: CtxDep) -> Response:
    container = await container_of(ctx, directory_id)
    await ctx.core.containers.delete(ctx.project.id, container.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
