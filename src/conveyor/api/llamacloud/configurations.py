"""/api/v1/beta/configurations: saved parse and extract configurations, and the built-in presets.

A saved configuration is an agent lineage (each update a new immutable version); its ``cfg-`` id maps to
the lineage. A parse preset becomes an agent of the project the first time a batch uses it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response, status

from conveyor.api.llamacloud import convert, pages, presets
from conveyor.api.llamacloud import schemas as w
from conveyor.api.llamacloud.context import Ctx, CtxDep
from conveyor.api.llamacloud.ids import IdKind
from conveyor.errors import ConflictError, InvalidInputError, NotFoundError, PermanentError
from conveyor.llm.structured import check_schema
from conveyor.store.models import Agent

router = APIRouter(prefix="/api/v1/beta/configurations", tags=["Configurations"])


async def versions_of(ctx: Ctx, lineage_id: str) -> list[Agent]:
    return (await ctx.core.agents.versions(ctx.project.id, lineage_id, published=None, offset=0, limit=None)).rows


async def saved_agent(ctx: Ctx, config_id: str) -> Agent:
    """The newest version of a saved configuration's agent; 404 for an unknown id."""
    lineage = await ctx.ids.core(IdKind.CONFIGURATION, config_id)
    try:
        await ctx.core.agents.get(ctx.project.id, lineage)
    except NotFoundError as e:
        raise NotFoundError(f"configuration {config_id} not found") from e
    return (await versions_of(ctx, lineage))[-1]


async def preset_agent(ctx: Ctx, preset: presets.Preset) -> Agent:
    """The project's agent for a parse preset, made the first time it is needed."""
    found = await ctx.ids.find(IdKind.CONFIGURATION, preset.id)
    if found is not None:
        return (await versions_of(ctx, found))[-1]
    agent = await ctx.core.agents.create(ctx.project.id, presets.preset_spec(preset))
    try:
        await ctx.ids.assign(IdKind.CONFIGURATION, preset.id, agent.lineage_id)
    except ConflictError:  # a concurrent first use made one too: keep theirs
        await ctx.core.agents.delete(ctx.project.id, agent.id)
        return await preset_agent(ctx, preset)
    return agent


async def agent_for_job(ctx: Ctx, config_id: str, job_type: str) -> Agent:
    """The agent a batch of ``job_type`` runs for ``config_id`` (a preset or a saved configuration)."""
    loc = ("body", "config", "job", "configuration_id")
    preset = presets.PRESETS.get(config_id)
    if preset is not None and preset.product_type != job_type:
        raise InvalidInputError(f"{config_id} is a {preset.product_type} preset, not {job_type}", loc=loc)
    if preset is not None and job_type == "extract_v2":
        raise InvalidInputError("extract needs a data schema: save an extract_v2 configuration with a data_schema "
                                "(its tier may be the preset's) and use its id", loc=loc)
    agent = await preset_agent(ctx, preset) if preset is not None else await saved_agent(ctx, config_id)
    kind = presets.product_type_of(agent.spec)
    if kind != job_type:
        raise InvalidInputError(f"configuration {config_id} is for {kind}, not {job_type}", loc=loc)
    return agent


async def linked_parse_tier(ctx: Ctx, parameters: dict[str, Any]) -> str | None:
    """The tier of an extract configuration's ``parse_config_id`` (a parse preset or saved configuration)."""
    linked = parameters.get("parse_config_id")
    if not linked:
        return None
    loc = ("body", "parameters", "parse_config_id")
    preset = presets.PRESETS.get(str(linked))
    if preset is not None:
        if preset.product_type != "parse_v2":
            raise InvalidInputError(f"{linked} is not a parse configuration", loc=loc)
        return preset.tier
    params = presets.parameters_of((await saved_agent(ctx, str(linked))).spec) or {}
    if params.get("product_type") != "parse_v2":
        raise InvalidInputError(f"{linked} is not a parse configuration", loc=loc)
    return str(params["tier"])


async def spec_for(ctx: Ctx, name: str, parameters: w.Parameters) -> dict[str, Any]:
    params = parameters.model_dump(mode="json", exclude_none=True)
    if isinstance(parameters, w.ExtractParameters):
        try:
            check_schema(parameters.data_schema)
        except PermanentError as e:
            raise InvalidInputError(e.message, loc=("body", "parameters", "data_schema")) from e
    return presets.agent_spec(name, params, await linked_parse_tier(ctx, params))


async def render(ctx: Ctx, lineage_id: str) -> w.Configuration:
    versions = await versions_of(ctx, lineage_id)
    latest = versions[-1]
    params = presets.parameters_of(latest.spec) or {}
    return convert.configuration(await ctx.ids.external(IdKind.CONFIGURATION, lineage_id), latest, versions[0],
                                 params)


def render_preset(preset: presets.Preset) -> w.Configuration:
    return w.Configuration(id=preset.id, name=preset.name, parameters=preset.parameters(),
                           product_type=preset.product_type, version=presets.DEFAULT_VERSION)


async def saved(ctx: Ctx) -> list[Agent]:
    """The newest version of every saved configuration of the project (presets' agents aside)."""
    preset_lineages = {await ctx.ids.find(IdKind.CONFIGURATION, p) for p in presets.PRESETS}
    return [a for a in await ctx.core.agents.list(ctx.project.id)
            if presets.parameters_of(a.spec) is not None and a.lineage_id not in preset_lineages]


@router.post("", response_model=w.Configuration)
async def create_configuration(body: w.ConfigurationCreate, ctx: CtxDep) -> w.Configuration:
    """Create, or update the configuration of the same name and product type (upsert)."""
    spec = await spec_for(ctx, body.name, body.parameters)
    for agent in await saved(ctx):
        if agent.spec.get("display_name") == body.name and \
                presets.product_type_of(agent.spec) == body.parameters.product_type:
            updated = await ctx.core.agents.update(ctx.project.id, agent.id, spec)
            return await render(ctx, updated.lineage_id)
    agent = await ctx.core.agents.create(ctx.project.id, spec)
    return await render(ctx, agent.lineage_id)


@router.get("", response_model=w.Page[w.Configuration])
async def list_configurations(ctx: CtxDep, name: str | None = None, latest_only: bool = True,
                              product_type: list[w.ProductType] | None = Query(default=None),
                              page_size: int = pages.PageSize,
                              page_token: str | None = pages.PageToken) -> w.Page[w.Configuration]:
    """Saved configurations, oldest first, each at its newest version (``latest_only`` is always true)."""
    chosen = [a for a in await saved(ctx) if (name is None or a.spec.get("display_name") == name)
              and (not product_type or presets.product_type_of(a.spec) in product_type)]
    offset = pages.offset_of(page_token)
    shown = chosen[offset:offset + page_size]
    return w.Page(items=[await render(ctx, a.lineage_id) for a in shown],
                  next_page_token=pages.next_offset_token(offset, len(shown), len(chosen)), total_size=len(chosen))


@router.get("/{config_id}", response_model=w.Configuration)
async def get_configuration(config_id: str, ctx: CtxDep) -> w.Configuration:
    preset = presets.PRESETS.get(config_id)
    if preset is not None:
        return render_preset(preset)
    return await render(ctx, (await saved_agent(ctx, config_id)).lineage_id)


@router.put("/{config_id}", response_model=w.Configuration)
async def update_configuration(config_id: str, body: w.ConfigurationUpdate, ctx: CtxDep) -> w.Configuration:
    if config_id in presets.PRESETS:
        raise ConflictError(f"{config_id} is a built-in preset and cannot change")
    agent = await saved_agent(ctx, config_id)
    name = body.name or str(agent.spec.get("display_name") or agent.name)
    if body.parameters is not None and body.parameters.product_type != presets.product_type_of(agent.spec):
        raise InvalidInputError("a configuration keeps its product_type", loc=("body", "parameters", "product_type"))
    if body.parameters is not None:
        spec = await spec_for(ctx, name, body.parameters)
    else:
        spec = {**agent.spec, "display_name": name}
    updated = await ctx.core.agents.update(ctx.project.id, agent.id, spec)
    return await render(ctx, updated.lineage_id)


@router.delete("/{config_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_configuration(config_id: str, ctx: CtxDep) -> Response:
    if config_id in presets.PRESETS:
        raise ConflictError(f"{config_id} is a built-in preset and cannot be deleted")
    agent = await saved_agent(ctx, config_id)
    await ctx.core.agents.delete(ctx.project.id, agent.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
