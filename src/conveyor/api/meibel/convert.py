"""Core rows → Meibel wire shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conveyor.api.meibel import schemas as w
from conveyor.domain.status import ItemStatus, RunStatus
from conveyor.services.recipes import recipe_urn
from conveyor.store.models import Agent, ArtifactSchema, Container, Element, Item, Project, Recipe, Run


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def datasource(c: Container, element_count: int) -> w.DatasourceResponse:
    metadata = c.extra.get("metadata_config")
    return w.DatasourceResponse(
        id=c.id, name=c.name, description=c.description,
        connector=w.ConnectorSummary(type="cloud_storage"),
        created_at=iso(c.created_at) or "", updated_at=iso(c.updated_at) or "",
        last_sync_at=iso(c.last_ingest_at), last_sync_status=c.last_ingest_status,
        total_ingested_files=element_count if c.last_ingest_at else None,
        metadata_config=w.MetadataConfigResponse.model_validate(metadata) if metadata
        else w.MetadataConfigResponse(type="default"),
        files=w.FilesSummary(total=element_count, deleted=0))


def element(e: Element) -> w.DataElementResponse:
    return w.DataElementResponse(
        id=e.id, datasource_id=e.container_id, name=e.name, description=e.description,
        media_type=e.media_type, metadata=e.meta, created_at=iso(e.created_at), updated_at=iso(e.updated_at),
        size=e.size, sha256=e.sha256)


def content_item(e: Element) -> w.ContentItem:
    return w.ContentItem(name=e.name, path=f"{e.id}/{e.name}", type="file", size=e.size,
                         media_type=e.media_type, last_modified=iso(e.updated_at), etag=e.sha256)


def agent_detail(a: Agent, project: Project) -> dict[str, Any]:
    spec = a.spec
    return {
        "id": a.id, "name": a.name, "display_name": spec.get("display_name", a.name),
        "catalog_urn": f"urn:meibel:agent:{project.customer}:{project.id}:{a.id}", "version": str(a.version),
        "parent_version": _version(a.parent_version), "type": spec.get("type", "llm"),
        "description": spec.get("description"), "llm_model": spec.get("llm_model") or "",
        "fallback_models": spec.get("fallback_models") or [], "datasources": spec.get("datasources") or [],
        "instructions": spec.get("instructions") or "", "tools": spec.get("tools") or [],
        "artifacts": spec.get("artifacts") or [], "confidence_configs": spec.get("confidence_configs") or [],
        "temperature": spec.get("temperature") if spec.get("temperature") is not None else 0.0,
        "max_tokens": spec.get("max_tokens"), "tags": spec.get("tags") or [], "icon": spec.get("icon"),
        "created_by": "api", "created_at": a.created_at, "execution_policy": spec.get("execution_policy"),
        "execution_policy_ids": spec.get("execution_policy_ids"),
        "additional_properties": spec.get("additional_properties") or {},
        "published_at": a.published_at, "is_published": a.published_at is not None,
    }


def agent_summary(a: Agent) -> dict[str, Any]:
    spec = a.spec
    return {"id": a.id, "name": a.name, "display_name": spec.get("display_name", a.name),
            "description": spec.get("description"), "version": str(a.version), "type": spec.get("type", "llm"),
            "llm_model": spec.get("llm_model") or "", "tool_count": len(spec.get("tools") or []),
            "datasource_count": len(spec.get("datasources") or []), "last_execution_status": None,
            "last_execution_time": None}


def agent_version(a: Agent) -> dict[str, Any]:
    spec = a.spec
    return {"id": a.id, "display_name": spec.get("display_name", a.name), "version": str(a.version),
            "parent_version": _version(a.parent_version), "description": spec.get("description"),
            "llm_model": spec.get("llm_model") or "", "created_at": a.created_at, "created_by": "api",
            "is_published": a.published_at is not None, "published_at": a.published_at,
            "commit_message": a.commit_message}


def artifact_schema(s: ArtifactSchema) -> dict[str, Any]:
    spec = s.spec
    return {"id": s.id, "name": s.name, "display_name": spec["display_name"], "version": str(s.version),
            "parent_version": _version(s.parent_version), "type": spec.get("type", "json"),
            "description": spec.get("description") or "", "required": bool(spec.get("required")),
            "schema_def": spec["schema_def"], "max_size_bytes": spec.get("max_size_bytes"),
            "storage_strategy": spec.get("storage_strategy") or "inline", "created_by": "api",
            "created_at": s.created_at, "additional_properties": spec.get("additional_properties") or {}}


def artifact_schema_summary(s: ArtifactSchema) -> dict[str, Any]:
    schema_def = s.spec.get("schema_def") or {}
    properties = schema_def.get("properties")
    if not isinstance(properties, dict):
        properties = {}
    fields = [{"name": k, "type": str(v.get("type", "any")) if isinstance(v, dict) else "any"}
              for k, v in properties.items()]
    return {"id": s.id, "name": s.name, "description": s.spec.get("description") or "",
            "type": s.spec.get("type", "json"), "fields_summary": fields}


def batch_definition(r: Recipe, project: Project) -> w.BatchDefinitionResponse:
    return w.BatchDefinitionResponse(
        id=r.id, customer_id=project.customer, project_id=project.id, name=r.name, version=str(r.version),
        parent_version=_version(r.parent_version), catalog_urn=recipe_urn(project, r.id),
        agent_urn=r.agent_urn, agent_spec_json=r.agent_spec, input_datasource_id=r.input_container_id,
        filters=r.filters, output_datasource_id=r.output_container_id, user_message=r.user_message,
        concurrency=r.concurrency, retry_limit=r.retry_limit, recurrence_cron=r.recurrence_cron,
        description=r.description, created_at=r.created_at, created_by=r.created_by,
        deleted_at=r.deleted_at)


def legacy_spec(r: Recipe) -> dict[str, Any]:
    """The legacy ``batch_spec_json`` reconstructed from the recipe a run ran against."""
    return {"name": r.name, "version": str(r.version), "agent": r.agent_id, "user_message": r.user_message,
            "input": {"datasource_id": r.input_container_id, "filters": r.filters},
            "output": {"datasource_id": r.output_container_id},
            "execution": {"concurrency": r.concurrency, "retry_limit": r.retry_limit},
            "additional_properties": {}}


def item(i: Item) -> w.BatchItemResult:
    return w.BatchItemResult(
        input_data_element_id=i.element_id, filename=i.element_name, status=i.status, error=i.error,
        output_artifacts=list(i.outputs) if i.outputs is not None else [], attempts=i.attempts,
        started_at=i.started_at, finished_at=i.finished_at, usage=_usage(i))


def _usage(i: Item) -> dict[str, int] | None:
    if not (i.llm_requests or i.prompt_tokens or i.completion_tokens):
        return None
    return {"requests": i.llm_requests, "prompt_tokens": i.prompt_tokens, "completion_tokens": i.completion_tokens,
            "total_tokens": i.prompt_tokens + i.completion_tokens}


def execution(run: Run, recipe: Recipe, project: Project, counts: dict[ItemStatus, int],
              items: list[Item] | None) -> w.BatchExecutionResponse:
    return w.BatchExecutionResponse(
        id=run.id, batch_definition_id=run.recipe_id, customer_id=project.customer, project_id=project.id,
        agent_urn=recipe.agent_urn, batch_spec_json=run.batch_spec or legacy_spec(recipe),
        agent_spec_json=recipe.agent_spec, input_datasource_id=run.input_container_id,
        output_datasource_id=run.output_container_id, input_overrides=run.input_overrides,
        total_items=run.total_items, succeeded=counts[ItemStatus.SUCCEEDED], failed=counts[ItemStatus.FAILED],
        cancelled=counts[ItemStatus.CANCELLED], pending=counts[ItemStatus.PENDING],
        running=counts[ItemStatus.RUNNING], start_time=run.start_time, end_time=run.end_time,
        status=RunStatus(run.status).value, error=run.error,
        usage={"prompt_tokens": run.prompt_tokens, "completion_tokens": run.completion_tokens,
               "total_tokens": run.prompt_tokens + run.completion_tokens} if run.prompt_tokens else None,
        items=[item(i) for i in items] if items is not None else None)


def _version(value: int | None) -> str | None:
    return str(value) if value is not None else None
