"""/v2/artifact-schemas: create, list, get, update (new version), delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response, status

from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.api.meibel import convert
from conveyor.api.meibel import schemas as w
from conveyor.api.meibel.pagination import offset_page

router = APIRouter(prefix="/artifact-schemas", tags=["Artifact Schemas"])


@router.get("")
async def list_schemas(core: CoreDep, project: ProjectDep, offset: int = Query(default=0, ge=0),
                       limit: int | None = Query(default=None, ge=1, le=1000),
                       sort_by: str = Query(default="created_at", pattern="^(created_at|name)$"),
                       sort_order: str = Query(default="asc", pattern="^(asc|desc)$")) -> dict[str, Any]:
    rows = (await core.artifact_schemas.list(project.id, 0, None)).rows
    key = (lambda s: s.name) if sort_by == "name" else (lambda s: (s.created_at, s.id))
    rows = sorted(rows, key=key, reverse=sort_order == "desc")
    end = None if limit is None else offset + limit
    return offset_page([convert.artifact_schema_summary(s) for s in rows[offset:end]], len(rows), offset, limit)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_schema(body: w.CreateArtifactSchemaRequest, core: CoreDep, project: ProjectDep) -> dict[str, Any]:
    schema = await core.artifact_schemas.create(project.id, body.model_dump(mode="json", exclude_none=True))
    return {"id": schema.id, "name": schema.name, "display_name": schema.spec["display_name"],
            "version": str(schema.version)}


@router.get("/{artifact_id}")
async def get_schema(artifact_id: str, core: CoreDep, project: ProjectDep) -> dict[str, Any]:
    return convert.artifact_schema(await core.artifact_schemas.get(project.id, artifact_id))


@router.put("/{artifact_id}")
async def update_schema(artifact_id: str, body: w.UpdateArtifactSchemaRequest, core: CoreDep,
                        project: ProjectDep) -> dict[str, Any]:
    schema = await core.artifact_schemas.update(project.id, artifact_id,
                                                body.model_dump(mode="json", exclude_unset=True))
    return {"id": schema.id, "version": str(schema.version)}


@router.delete("/{artifact_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_schema(artifact_id: str, core: CoreDep, project: ProjectDep) -> Response:
    await core.artifact_schemas.delete(project.id, artifact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
