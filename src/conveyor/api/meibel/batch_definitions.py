"""/v2/batch-definitions: immutable, versioned recipes; execute one to start a run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response, status

from conveyor.api.deps import CoreDep, IdempotencyKey, ProjectDep
from conveyor.api.meibel import convert
from conveyor.api.meibel import schemas as w
from conveyor.domain.rules import DEFAULT_CONCURRENCY, DEFAULT_RETRY_LIMIT, ElementFilter
from conveyor.services.recipes import RecipeFields, recipe_urn
from conveyor.store.models import Project, Recipe
from conveyor.store.versioned import Page

router = APIRouter(prefix="/batch-definitions", tags=["Batch Definitions"])
Offset = Query(default=0, ge=0)
Limit = Query(default=None, ge=1, le=1000)


def to_filter(filters: w.BatchDefinitionFilters | w.LegacyInputFilters | None) -> ElementFilter:
    if filters is None:
        return ElementFilter()
    return ElementFilter(regex=filters.regex,
                         media_types=tuple(filters.media_types) if filters.media_types is not None else None,
                         element_ids=tuple(filters.element_ids) if filters.element_ids is not None else None)


def _listing(page: Page[Recipe], project: Project, offset: int, limit: int | None) -> w.BatchDefinitionList:
    return w.BatchDefinitionList(data=[convert.batch_definition(r, project) for r in page.rows],
                                 pagination=w.PaginationMeta(total=page.total, offset=offset, limit=limit))


@router.get("", response_model=w.BatchDefinitionList)
async def list_definitions(core: CoreDep, project: ProjectDep, offset: int = Offset,
                           limit: int | None = Limit) -> w.BatchDefinitionList:
    return _listing(await core.recipes.list(project, offset, limit), project, offset, limit)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_definition(body: w.CreateBatchDefinitionRequest, core: CoreDep,
                            project: ProjectDep) -> dict[str, Any]:
    recipe = await core.recipes.create(project, RecipeFields(
        name=body.name, agent_id=body.agent_id, input_container_id=body.input_datasource_id,
        filters=to_filter(body.filters), output_container_id=body.output_datasource_id,
        user_message=body.user_message,
        concurrency=body.concurrency if body.concurrency is not None else DEFAULT_CONCURRENCY,
        retry_limit=body.retry_limit if body.retry_limit is not None else DEFAULT_RETRY_LIMIT,
        recurrence_cron=body.recurrence_cron, description=body.description))
    return {"id": recipe.id, "catalog_urn": recipe_urn(project, recipe.id), "name": recipe.name,
            "version": str(recipe.version)}


@router.get("/catalog-urn", response_model=w.BatchDefinitionResponse)
async def get_by_urn(core: CoreDep, project: ProjectDep, catalog_urn: str = Query()) -> w.BatchDefinitionResponse:
    return convert.batch_definition(await core.recipes.get_by_urn(project, catalog_urn), project)


@router.get("/id/{definition_id}", response_model=w.BatchDefinitionResponse)
async def get_definition(definition_id: str, core: CoreDep, project: ProjectDep) -> w.BatchDefinitionResponse:
    return convert.batch_definition(await core.recipes.get(project, definition_id), project)


@router.put("/id/{definition_id}")
async def update_definition(definition_id: str, body: w.UpdateBatchDefinitionRequest, core: CoreDep,
                            project: ProjectDep) -> dict[str, Any]:
    """Fork a new immutable version with ``parent_version`` set to the one updated."""
    changes = _changes(body)
    recipe = await core.recipes.update(project, definition_id, changes)
    return {"id": recipe.id, "catalog_urn": recipe_urn(project, recipe.id), "version": str(recipe.version)}


def _changes(body: w.UpdateBatchDefinitionRequest) -> dict[str, Any]:
    sent = body.model_dump(exclude_unset=True)
    renamed = {"input_datasource_id": "input_container_id", "output_datasource_id": "output_container_id"}
    changes: dict[str, Any] = {}
    for key, value in sent.items():
        if key in ("execution_policy", "execution_policy_ids"):
            continue
        if key == "filters":
            changes["filters"] = to_filter(body.filters)
        elif key in ("concurrency", "retry_limit") and value is None:
            continue
        else:
            changes[renamed.get(key, key)] = value
    return changes


@router.delete("/id/{definition_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_definition(definition_id: str, core: CoreDep, project: ProjectDep) -> Response:
    await core.recipes.delete(project, definition_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/id/{definition_id}/versions", response_model=w.BatchDefinitionList)
async def list_versions(definition_id: str, core: CoreDep, project: ProjectDep, offset: int = Offset,
                        limit: int | None = Limit) -> w.BatchDefinitionList:
    return _listing(await core.recipes.versions(project, definition_id, offset, limit), project, offset, limit)


@router.post("/id/{definition_id}/execute", response_model=w.ExecuteBatchDefinitionResponse,
             status_code=status.HTTP_201_CREATED)
async def execute_definition(definition_id: str, core: CoreDep, project: ProjectDep,
                             idempotency_key: IdempotencyKey = None) -> w.ExecuteBatchDefinitionResponse:
    """Start a run; the same ``Idempotency-Key`` header answers with the same run."""
    run = await core.runs.execute(project, definition_id, idempotency_key=idempotency_key)
    return w.ExecuteBatchDefinitionResponse(execution_id=run.id, workflow_id=run.id)
