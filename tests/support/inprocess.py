"""The app in-process: ``httpx.AsyncClient`` over ``ASGITransport`` with the app's lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from conveyor.api.app import create_app
from conveyor.services.core import Core
from conveyor.settings import Settings


def test_settings(home: Path, **overrides: object) -> Settings:
    fields: dict[str, object] = {"api_key": "key-project-a", "parse_workers": 1, "python_workers": 1, **overrides}
    return Settings(home=home, **fields)  # type: ignore[arg-type]


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def _no_server_errors(response: httpx.Response) -> None:
    """Every response of the suite is checked: a 500 anywhere fails the test that caused it."""
    assert response.status_code < 500, f"{response.request.method} {response.request.url} -> 500"


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Core]]:
    app = create_app(settings, announce_key=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://conveyor",
                                     headers={"Meibel-API-Key": settings.api_key or ""},
                                     event_hooks={"response": [_async_check]}) as client:
            yield client, app.state.core


async def _async_check(response: httpx.Response) -> None:
    _no_server_errors(response)
