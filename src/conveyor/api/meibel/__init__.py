"""The Meibel v2 face, mounted at ``/v2``."""

from __future__ import annotations

from fastapi import APIRouter

from conveyor.api.meibel import (
    agents,
    artifact_schemas,
    batch_definitions,
    batch_executions,
    content,
    datasources,
    downloads,
    elements,
)


def meibel_router() -> APIRouter:
    router = APIRouter(prefix="/v2")
    for module in (content, datasources, elements, downloads, agents, artifact_schemas, batch_definitions,
                   batch_executions):
        router.include_router(module.router)
    return router
