"""The LlamaCloud face, mounted at ``/llamacloud`` (the SDK's ``base_url``)."""

from __future__ import annotations

from fastapi import APIRouter

from conveyor.api.llamacloud import (
    batches,
    configurations,
    directories,
    directory_files,
    extract,
    files,
    parse,
)


def llamacloud_router() -> APIRouter:
    router = APIRouter(prefix="/llamacloud")
    for module in (directories, directory_files, files, configurations, batches, parse, extract):
        router.include_router(module.router)
    return router
