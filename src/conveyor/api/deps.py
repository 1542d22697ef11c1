"""FastAPI dependencies: the core and the calling project."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from conveyor.services.core import Core
from conveyor.store.models import Project

_meibel_key = APIKeyHeader(name="Meibel-API-Key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)


def get_core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


async def get_project(
    core: Annotated[Core, Depends(get_core)],
    meibel_key: Annotated[str | None, Depends(_meibel_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Project:
    """The project of the API key in ``Meibel-API-Key`` or ``Authorization: Bearer``; else 401."""
    secret = meibel_key or (bearer.credentials if bearer is not None else None)
    return await core.auth.authenticate(secret)


CoreDep = Annotated[Core, Depends(get_core)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)]
ProjectDep = Annotated[Project, Depends(get_project)]
