"""Liveness: the only endpoint without authentication."""

from __future__ import annotations

from fastapi import APIRouter

from conveyor import __version__

router = APIRouter(tags=["Health"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
