"""/v2/datasources: create, list, get, update, delete; trigger-ingest and ingest-status."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.api.meibel import convert
from conveyor.api.meibel import schemas as w

router = APIRouter(prefix="/datasources", tags=["Datasources"])


@router.get("", response_model=w.DatasourceListResponse)
async def list_datasources(core: CoreDep, project: ProjectDep) -> w.DatasourceListResponse:
    containers = await core.containers.list(project.id)
    return w.DatasourceListResponse(datasources=[
        convert.datasource(c, await core.containers.count(c.id)) for c in containers])


@router.post("", response_model=w.DatasourceResponse, status_code=status.HTTP_201_CREATED)
async def create_datasource(body: w.CreateDatasourceRequest, core: CoreDep,
                            project: ProjectDep) -> w.DatasourceResponse:
    extra = {"metadata_config": body.metadata_config.model_dump()} if body.metadata_config else {}
    container = await core.containers.create(project.id, body.name, body.description or "", extra=extra)
    return convert.datasource(container, 0)


@router.get("/{datasource_id}", response_model=w.DatasourceResponse)
async def get_datasource(datasource_id: str, core: CoreDep, project: ProjectDep,
                         include_tables: bool = Query(default=False)) -> w.DatasourceResponse:
    container = await core.containers.get(project.id, datasource_id)
    return convert.datasource(container, await core.containers.count(container.id))


@router.put("/{datasource_id}", response_model=w.DatasourceResponse)
async def update_datasource(datasource_id: str, body: w.UpdateDatasourceRequest, core: CoreDep,
                            project: ProjectDep) -> w.DatasourceResponse:
    current = await core.containers.get(project.id, datasource_id)
    extra = None
    if body.metadata_config is not None:
        extra = {**current.extra, "metadata_config": body.metadata_config.model_dump()}
    container = await core.containers.update(project.id, datasource_id, name=body.name,
                                             description=body.description, extra=extra)
    return convert.datasource(container, await core.containers.count(container.id))


@router.delete("/{datasource_id}", response_model=w.DeleteDatasourceResponse)
async def delete_datasource(datasource_id: str, core: CoreDep, project: ProjectDep) -> w.DeleteDatasourceResponse:
    await core.containers.delete(project.id, datasource_id)
    return w.DeleteDatasourceResponse(id=datasource_id)


@router.post("/{datasource_id}/trigger-ingest", response_model=w.TriggerIngestResponse, tags=["Ingest"])
async def trigger_ingest(datasource_id: str, core: CoreDep, project: ProjectDep) -> w.TriggerIngestResponse:
    await core.containers.trigger_ingest(project.id, datasource_id)
    return w.TriggerIngestResponse(
        message="ingest completed: every uploaded file is already a data element",
        datasource_id=datasource_id)


@router.get("/{datasource_id}/ingest-status", response_model=w.IngestStatusResponse, tags=["Ingest"])
async def ingest_status(datasource_id: str, core: CoreDep, project: ProjectDep) -> w.IngestStatusResponse:
    container = await core.containers.get(project.id, datasource_id)
    if container.last_ingest_at is None:
        return w.IngestStatusResponse(datasource_id=container.id, status="not_started")
    total = await core.containers.count(container.id)
    when = convert.iso(container.last_ingest_at)
    return w.IngestStatusResponse(
        datasource_id=container.id, status="completed", started_at=when, completed_at=when,
        methods=[w.IngestMethodSummary(method="files", total_files=total, processed_files=total, adds=total,
                                       updates=0, errors=0, warnings=0)])
