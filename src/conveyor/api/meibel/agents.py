"""/v2/agents: create, list, get, update (new version), delete, publish, versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response, status

from conveyor.api.deps import CoreDep, ProjectDep
from conveyor.api.meibel import convert
from conveyor.api.meibel import schemas as w
from conveyor.api.meibel.pagination import offset_page

router = APIRouter(prefix="/agents", tags=["Agents"])


@router.get("")
async def list_agents(core: CoreDep, project: ProjectDep, offset: int = Query(default=0, ge=0),
                      limit: int | None = Query(default=None, ge=1, le=1000),
                      sort_by: str = Query(default="created_at", pattern="^(created_at|name)$"),
                      sort_order: str = Query(default="asc", pattern="^(asc|desc)$"),
                      published_only: bool = False, datasource_id: str | None = None,
                      artifact_schema_id: str | None = None) -> dict[str, Any]:
    agents = await core.agents.list(project.id, published_only=published_only, datasource_id=datasource_id,
                                    artifact_schema_id=artifact_schema_id, sort_by=sort_by,
                                    descending=sort_order == "desc")
    end = None if limit is None else offset + limit
    return offset_page([convert.agent_summary(a) for a in agents[offset:end]], len(agents), offset, limit)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_agent(body: w.CreateAgentRequest, core: CoreDep, project: ProjectDep) -> dict[str, Any]:
    agent = await core.agents.create(project.id, body.model_dump(exclude_none=True))
    return {"id": agent.id, "name": agent.name, "display_name": agent.spec["display_name"],
            "version": str(agent.version)}


@router.get("/{agent_id}")
async def get_agent(agent_id: str, core: CoreDep, project: ProjectDep) -> dict[str, Any]:
    return convert.agent_detail(await core.agents.get(project.id, agent_id), project)


@router.put("/{agent_id}")
async def update_agent(agent_id: str, body: w.UpdateAgentRequest, core: CoreDep,
                       project: ProjectDep) -> dict[str, Any]:
    agent = await core.agents.update(project.id, agent_id, body.model_dump(exclude_unset=True))
    detail = convert.agent_detail(agent, project)
    return {"id": agent.id, "catalog_urn": detail["catalog_urn"], "version": str(agent.version)}


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agent(agent_id: str, core: CoreDep, project: ProjectDep) -> Response:
    await core.agents.delete(project.id, agent_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{agent_id}/publish")
async def publish_agent(agent_id: str, body: w.PublishAgentRequest, core: CoreDep, project: ProjectDep,
                        override_draft: bool = False) -> dict[str, Any]:
    agent = await core.agents.publish(project.id, agent_id, body.commit_message)
    detail = convert.agent_detail(agent, project)
    return {"id": agent.id, "agent_definition_urn": detail["catalog_urn"], "agent_name": agent.name,
            "version": str(agent.version), "display_name": detail["display_name"],
            "commit_message": body.commit_message, "published_at": agent.published_at, "published_by": "api"}


@router.get("/{agent_id}/versions")
async def list_agent_versions(agent_id: str, core: CoreDep, project: ProjectDep, published: bool | None = None,
                              offset: int = Query(default=0, ge=0),
                              limit: int | None = Query(default=None, ge=1, le=1000)) -> dict[str, Any]:
    page = await core.agents.versions(project.id, agent_id, published=published, offset=offset, limit=limit)
    return offset_page([convert.agent_version(a) for a in page.rows], page.total, offset, limit)
