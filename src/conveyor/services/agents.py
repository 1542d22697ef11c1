"""Agents (versioned processor configurations) and artifact schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conveyor.domain.ids import Kind, new_id
from conveyor.domain.rules import kebab_case
from conveyor.errors import InvalidInputError, NotFoundError, PermanentError
from conveyor.llm.structured import check_schema
from conveyor.processors.registry import DEFAULT_AGENT_TYPE
from conveyor.store.models import Agent, ArtifactSchema
from conveyor.store.types import utcnow
from conveyor.store.versioned import Page, VersionedRepo

AGENT_TYPES = ("llm", "parse", "extract", "python")


def validate_agent_spec(spec: dict[str, Any], known_types: Sequence[str] = AGENT_TYPES) -> dict[str, Any]:
    """Check what the engine will rely on: a known type, and a callable for python agents."""
    agent_type = spec.get("type") or DEFAULT_AGENT_TYPE
    if agent_type not in known_types:
        raise InvalidInputError(f"unknown agent type {agent_type!r}; expected one of {', '.join(known_types)}",
                                loc=("body", "type"))
    extra = spec.get("additional_properties") or {}
    if agent_type == "python":
        target = extra.get("callable")
        if not isinstance(target, str) or ":" not in target:
            raise InvalidInputError("a python agent needs additional_properties.callable = "
                                    "'package.module:function'", loc=("body", "additional_properties"))
    if agent_type == "extract" and "schema" in extra:
        _check_json_schema(extra["schema"], ("body", "additional_properties", "schema"))
    if agent_type in ("extract", "llm"):
        _check_llm_options(extra)
    if not str(spec.get("display_name") or "").strip():
        raise InvalidInputError("display_name must not be empty", loc=("body", "display_name"))
    return {**spec, "type": agent_type, "additional_properties": extra}


_INT_OPTIONS = {"chunk_chars": (500, 1_000_000), "max_input_chars": (100, 10_000_000), "max_chunks": (1, 1000),
                "max_tokens": (1, 1_000_000)}


def _check_llm_options(extra: dict[str, Any]) -> None:
    """The LLM options an agent may set in additional_properties, checked before any run pays for them."""
    def invalid(key: str, what: str) -> InvalidInputError:
        return InvalidInputError(f"{key} must be {what}", loc=("body", "additional_properties", key))

    for key, (low, high) in _INT_OPTIONS.items():
        value = extra.get(key)
        if value is not None and (type(value) is not int or not low <= value <= high):
            raise invalid(key, f"an integer from {low} to {high}")
    temperature = extra.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, int | float)
                                    or not 0 <= temperature <= 2):
        raise invalid("temperature", "a number from 0 to 2")
    fallbacks = extra.get("fallback_models")
    if fallbacks is not None and (not isinstance(fallbacks, list)
                                  or not all(isinstance(m, str) and m for m in fallbacks)):
        raise invalid("fallback_models", "a list of model names")
    if extra.get("provider") is not None and not isinstance(extra["provider"], str):
        raise invalid("provider", "a provider name")


def _check_json_schema(schema: Any, loc: tuple[str | int, ...]) -> None:
    try:
        check_schema(schema)
    except PermanentError as e:
        raise InvalidInputError(e.message, loc=loc) from e


def _require_schema(spec: dict[str, Any]) -> None:
    """An extract agent must say what to extract: an inline schema or a JSON artifact schema."""
    if spec["type"] != "extract" or "schema" in spec["additional_properties"]:
        return
    if not any(a.get("type", "json") == "json" for a in spec.get("artifact_specs") or ()):
        raise InvalidInputError("an extract agent needs additional_properties.schema (a JSON Schema) or a JSON "
                                "artifact schema in artifacts", loc=("body", "additional_properties"))


class AgentsService:
    def __init__(self, agents: VersionedRepo[Agent], schemas: ArtifactSchemasService,
                 extra_types: Sequence[str] = ()) -> None:
        self._agents = agents
        self._schemas = schemas
        self._types = (*AGENT_TYPES, *(t for t in extra_types if t not in AGENT_TYPES))

    async def _checked(self, project_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        """The validated spec with its artifact schemas pinned (``artifact_specs``): an agent version keeps
        the schemas it was made with, whatever happens to them later."""
        spec = validate_agent_spec(spec, self._types)
        specs = []
        for index, schema_id in enumerate(spec.get("artifacts") or ()):
            try:
                schema = await self._schemas.get(project_id, schema_id)
            except NotFoundError as e:
                raise InvalidInputError(e.message, loc=("body", "artifacts", index)) from e
            specs.append({"id": schema.id, "name": schema.name, "type": schema.spec.get("type", "json"),
                          "schema_def": schema.spec.get("schema_def")})
        spec = {**spec, "artifact_specs": specs}
        _require_schema(spec)
        return spec

    async def create(self, project_id: str, spec: dict[str, Any]) -> Agent:
        spec = await self._checked(project_id, spec)
        lineage = new_id(Kind.AGENT)
        return await self._agents.add(Agent(
            id=lineage, project_id=project_id, lineage_id=lineage, name=kebab_case(spec["display_name"]),
            version=1, parent_version=None, spec=spec, published_at=None, commit_message=None,
            created_at=utcnow(), deleted_at=None))

    async def get(self, project_id: str, agent_id: str) -> Agent:
        agent = await self._agents.get(project_id, agent_id)
        if agent is None:
            raise NotFoundError(f"agent {agent_id} not found")
        return agent

    async def list(self, project_id: str, *, published_only: bool = False, datasource_id: str | None = None,
                   artifact_schema_id: str | None = None, sort_by: str = "created_at",
                   descending: bool = False) -> list[Agent]:
        rows = (await self._agents.list_latest(project_id, 0, None)).rows
        if published_only:
            rows = [r for r in rows if r.published_at is not None]
        if datasource_id:
            rows = [r for r in rows if datasource_id in (r.spec.get("datasources") or [])]
        if artifact_schema_id:
            rows = [r for r in rows if any(artifact_schema_id in a for a in r.spec.get("artifacts") or [])]
        key = (lambda r: r.name) if sort_by == "name" else (lambda r: (r.created_at, r.id))
        return sorted(rows, key=key, reverse=descending)

    async def update(self, project_id: str, agent_id: str, changes: dict[str, Any]) -> Agent:
        """Fork a new version from ``agent_id`` with ``changes`` applied."""
        base = await self.get(project_id, agent_id)
        spec = await self._checked(project_id, {**base.spec, **changes})
        return await self._agents.fork(Agent(
            id=new_id(Kind.AGENT), project_id=project_id, lineage_id=base.lineage_id, name=base.name,
            version=0, parent_version=base.version, spec=spec, published_at=None, commit_message=None,
            created_at=utcnow(), deleted_at=None))

    async def delete(self, project_id: str, agent_id: str) -> None:
        agent = await self.get(project_id, agent_id)
        await self._agents.soft_delete(agent.lineage_id)

    async def publish(self, project_id: str, agent_id: str, commit_message: str) -> Agent:
        agent = await self.get(project_id, agent_id)
        now = utcnow()
        await self._agents.set_fields(agent.id, published_at=now, commit_message=commit_message)
        agent.published_at, agent.commit_message = now, commit_message
        return agent

    async def versions(self, project_id: str, agent_id: str, *, published: bool | None,
                       offset: int, limit: int | None) -> Page[Agent]:
        agent = await self.get(project_id, agent_id)
        page = await self._agents.versions(agent.lineage_id, 0, None)
        rows = [r for r in page.rows if published is None or (r.published_at is not None) == published]
        end = None if limit is None else offset + limit
        return Page(rows[offset:end], len(rows))


class ArtifactSchemasService:
    def __init__(self, schemas: VersionedRepo[ArtifactSchema]) -> None:
        self._schemas = schemas

    async def create(self, project_id: str, spec: dict[str, Any]) -> ArtifactSchema:
        _check_schema_spec(spec)
        lineage = new_id(Kind.ARTIFACT_SCHEMA)
        return await self._schemas.add(ArtifactSchema(
            id=lineage, project_id=project_id, lineage_id=lineage, name=kebab_case(spec["display_name"]),
            version=1, parent_version=None, spec=spec, created_at=utcnow(), deleted_at=None))

    async def get(self, project_id: str, schema_id: str) -> ArtifactSchema:
        schema = await self._schemas.get(project_id, schema_id)
        if schema is None:
            raise NotFoundError(f"artifact schema {schema_id} not found")
        return schema

    async def list(self, project_id: str, offset: int, limit: int | None) -> Page[ArtifactSchema]:
        return await self._schemas.list_latest(project_id, offset, limit)

    async def update(self, project_id: str, schema_id: str, changes: dict[str, Any]) -> ArtifactSchema:
        base = await self.get(project_id, schema_id)
        spec = {**base.spec, **changes}
        _check_schema_spec(spec)
        return await self._schemas.fork(ArtifactSchema(
            id=new_id(Kind.ARTIFACT_SCHEMA), project_id=project_id, lineage_id=base.lineage_id,
            name=base.name, version=0, parent_version=base.version, spec=spec, created_at=utcnow(),
            deleted_at=None))

    async def delete(self, project_id: str, schema_id: str) -> None:
        schema = await self.get(project_id, schema_id)
        await self._schemas.soft_delete(schema.lineage_id)


def _check_schema_spec(spec: dict[str, Any]) -> None:
    if not str(spec.get("display_name") or "").strip():
        raise InvalidInputError("display_name must not be empty", loc=("body", "display_name"))
    if not isinstance(spec.get("schema_def"), dict):
        raise InvalidInputError("schema_def must be a JSON object", loc=("body", "schema_def"))
    if spec.get("type", "json") == "json":
        _check_json_schema(spec["schema_def"], ("body", "schema_def"))
