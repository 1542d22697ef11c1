"""Recipes (batch definitions): immutable versions with the agent resolved and pinned at creation."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from conveyor.domain.ids import Kind, new_id
from conveyor.domain.rules import (
    CONCURRENCY_RANGE,
    DEFAULT_CONCURRENCY,
    DEFAULT_RETRY_LIMIT,
    RETRY_LIMIT_RANGE,
    ElementFilter,
    validate_cron,
    validate_regex,
)
from conveyor.errors import InvalidInputError, NotFoundError
from conveyor.services.agents import AgentsService
from conveyor.services.containers import ContainersService
from conveyor.store.models import Agent, Project, Recipe
from conveyor.store.types import utcnow
from conveyor.store.versioned import Page, VersionedRepo

URN_PREFIX = "urn:meibel:batch-definition"


@dataclass(frozen=True)
class RecipeFields:
    """Everything a caller sets on a recipe."""

    name: str
    agent_id: str
    input_container_id: str
    filters: ElementFilter = field(default_factory=ElementFilter)
    output_container_id: str | None = None
    user_message: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    retry_limit: int = DEFAULT_RETRY_LIMIT
    recurrence_cron: str | None = None
    description: str | None = None


def recipe_urn(project: Project, recipe_id: str) -> str:
    return f"{URN_PREFIX}:{project.customer}:{project.id}:{recipe_id}"


def agent_urn(project: Project, agent: Agent) -> str:
    return f"urn:meibel:agent:{project.customer}:{project.id}:{agent.id}"


def fields_of(recipe: Recipe) -> RecipeFields:
    return RecipeFields(
        name=recipe.name, agent_id=recipe.agent_id, input_container_id=recipe.input_container_id,
        filters=ElementFilter.from_json(recipe.filters), output_container_id=recipe.output_container_id,
        user_message=recipe.user_message, concurrency=recipe.concurrency, retry_limit=recipe.retry_limit,
        recurrence_cron=recipe.recurrence_cron, description=recipe.description)


class RecipesService:
    def __init__(self, recipes: VersionedRepo[Recipe], agents: AgentsService,
                 containers: ContainersService) -> None:
        self._recipes = recipes
        self._agents = agents
        self._containers = containers

    async def create(self, project: Project, fields: RecipeFields, created_by: str = "api") -> Recipe:
        lineage = new_id(Kind.RECIPE)
        row = await self._build(project, fields, lineage, lineage, created_by)
        row.version, row.parent_version = 1, None
        return await self._recipes.add(row)

    async def get(self, project: Project, recipe_id: str, *, include_deleted: bool = False) -> Recipe:
        recipe = await self._recipes.get(project.id, recipe_id, include_deleted=include_deleted)
        if recipe is None:
            raise NotFoundError(f"batch definition {recipe_id} not found")
        return recipe

    async def get_by_urn(self, project: Project, urn: str) -> Recipe:
        prefix = f"{URN_PREFIX}:{project.customer}:{project.id}:"
        if not urn.startswith(prefix):
            raise NotFoundError(f"batch definition {urn} not found")
        return await self.get(project, urn.removeprefix(prefix))

    async def list(self, project: Project, offset: int, limit: int | None) -> Page[Recipe]:
        return await self._recipes.list_latest(project.id, offset, limit)

    async def versions(self, project: Project, recipe_id: str, offset: int, limit: int | None) -> Page[Recipe]:
        recipe = await self.get(project, recipe_id)
        return await self._recipes.versions(recipe.lineage_id, offset, limit)

    async def update(self, project: Project, recipe_id: str, changes: dict[str, Any],
                     created_by: str = "api") -> Recipe:
        """Fork a new immutable version; a changed ``agent_id`` re-resolves and re-pins the agent."""
        base = await self.get(project, recipe_id)
        fields = replace(fields_of(base), **changes)
        row = await self._build(project, fields, new_id(Kind.RECIPE), base.lineage_id, created_by)
        if "agent_id" not in changes:
            row.agent_spec, row.agent_urn = base.agent_spec, base.agent_urn
        row.parent_version = base.version
        return await self._recipes.fork(row)

    async def delete(self, project: Project, recipe_id: str) -> None:
        recipe = await self.get(project, recipe_id)
        await self._recipes.soft_delete(recipe.lineage_id)

    async def find_or_create(self, project: Project, fields: RecipeFields, created_by: str) -> Recipe:
        """Reuse a live recipe whose settings equal ``fields`` (and whose agent is unchanged), else create."""
        for recipe in (await self._recipes.list_latest(project.id, 0, None)).rows:
            if recipe.name == fields.name and fields_of(recipe) == fields:
                agent = await self._agents.get(project.id, fields.agent_id)
                if agent.spec == recipe.agent_spec:
                    return recipe
        return await self.create(project, fields, created_by)

    async def _build(self, project: Project, fields: RecipeFields, row_id: str, lineage: str,
                     created_by: str) -> Recipe:
        _validate(fields)
        agent = await self._agents.get(project.id, fields.agent_id)
        await self._containers.get(project.id, fields.input_container_id)
        if fields.output_container_id is not None:
            await self._containers.get(project.id, fields.output_container_id)
        return Recipe(
            id=row_id, project_id=project.id, lineage_id=lineage, name=fields.name, version=0,
            parent_version=None, agent_id=agent.id, agent_urn=agent_urn(project, agent),
            agent_spec=agent.spec, input_container_id=fields.input_container_id,
            filters=fields.filters.to_json(), output_container_id=fields.output_container_id,
            user_message=fields.user_message, concurrency=fields.concurrency,
            retry_limit=fields.retry_limit, recurrence_cron=fields.recurrence_cron,
            description=fields.description, created_by=created_by, created_at=utcnow(), deleted_at=None)


def _validate(fields: RecipeFields) -> None:
    if not fields.name.strip():
        raise InvalidInputError("name must not be empty", loc=("body", "name"))
    _check_range("concurrency", fields.concurrency, CONCURRENCY_RANGE)
    _check_range("retry_limit", fields.retry_limit, RETRY_LIMIT_RANGE)
    validate_cron(fields.recurrence_cron, ("body", "recurrence_cron"))
    validate_regex(fields.filters.regex, ("body", "filters", "regex"))


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise InvalidInputError(f"{name} must be between {low} and {high}", loc=("body", name))
