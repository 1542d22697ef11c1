"""AI Hub apps are Conveyor agents of the caller's project.

``app_id`` is an agent id (its first version's id names the agent; any version id names that version).
``app_name`` is an agent's name or display name; the built-in names below need no agent: the first run
that names one creates the agent in the project.

| app name | agent created on demand            |
|----------|------------------------------------|
| `parse`  | type `parse`: markdown, text, pages |
"""

from __future__ import annotations

from typing import Any

from conveyor.api.aihub import schemas as w
from conveyor.errors import InvalidInputError, NotFoundError
from conveyor.services.core import Core
from conveyor.services.recipes import RecipeFields
from conveyor.store.models import Agent, Container, Project, Run
from conveyor.store.webhooks import WebhookTarget

BUILT_IN: dict[str, dict[str, Any]] = {
    "parse": {"display_name": "parse", "type": "parse",
              "description": "Parses each file to markdown, plain text and per-page text (AI Hub app 'parse')."},
}
CREATED_BY = "aihub"


async def find_app(core: Core, project: Project, *, app_name: str | None, app_id: str | None) -> Agent | None:
    """The agent an app name or id names (the latest version of it), or None."""
    agents = await core.agents.list(project.id)
    if app_id is not None:
        found = next((a for a in agents if app_id in (a.lineage_id, a.id)), None)
        if found is None:
            try:
                return await core.agents.get(project.id, app_id)
            except NotFoundError:
                return None
        return found
    return next((a for a in agents if app_name in (a.name, a.spec.get("display_name"))), None)


async def resolve_app(core: Core, project: Project, body: w.RunAppRequest) -> Agent:
    if body.app_name is None and body.app_id is None:
        raise InvalidInputError("app_name or app_id is required", loc=("body", "app_name"))
    agent = await find_app(core, project, app_name=body.app_name, app_id=body.app_id)
    if agent is not None:
        return agent
    if body.app_id is None and body.app_name in BUILT_IN:
        return await core.agents.create(project.id, dict(BUILT_IN[body.app_name]))
    wanted = f"app_id {body.app_id}" if body.app_id is not None else f"app {body.app_name!r}"
    raise NotFoundError(f"{wanted} not found: name an agent of this project or a built-in app "
                        f"({', '.join(sorted(BUILT_IN))})")


async def run_app(core: Core, project: Project, body: w.RunAppRequest, container: Container,
                  batch_id: int) -> Run:
    """Run the app over every file of the batch, through the same recipes and engine as every face."""
    agent = await resolve_app(core, project, body)
    fields = RecipeFields(name=agent.name, agent_id=agent.id, input_container_id=container.id)
    recipe = await core.recipes.find_or_create(project, fields, created_by=CREATED_BY)
    hook = body.settings.webhook_config if body.settings is not None else None
    targets = [] if hook is None else [WebhookTarget(
        url=hook.url, format="aihub", headers=hook.headers or {}, secret=hook.secret,
        context={"batch_id": batch_id, "app_name": body.app_name or agent.name})]
    return await core.runs.execute(project, recipe.id, webhooks=targets)
