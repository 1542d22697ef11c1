"""The Instabase AI Hub face, mounted at ``/aihub/api`` (SDK: ``AIHub(api_key, api_root=".../aihub/api")``)."""

from __future__ import annotations

import re

from fastapi import APIRouter
from starlette.types import Scope

from conveyor.api.aihub import batches, jobs, runs, uploads

PREFIX = "/aihub/api"
_STREAMED = re.compile(rf"^{PREFIX}/v2/batches/(\d+/files/[^/]+|multipart-upload/sessions/[^/]+/parts/\d+)$")


def aihub_router() -> APIRouter:
    router = APIRouter(prefix=f"{PREFIX}/v2")
    for module in (uploads, batches, jobs, runs):
        router.include_router(module.router)
    return router


def streams_body(scope: Scope) -> bool:
    """Whether a request's body is a file streamed to storage (exempt from the JSON body limit)."""
    return scope.get("method") == "PUT" and bool(_STREAMED.match(scope.get("path", "")))
