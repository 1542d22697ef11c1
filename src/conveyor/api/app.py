"""``create_app(settings)``: the ASGI application with every face mounted."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from conveyor import __version__
from conveyor.api import health
from conveyor.api.aihub import aihub_router, streams_body
from conveyor.api.aihub.convert import webhook_body
from conveyor.api.errors import install_error_handlers
from conveyor.api.limits import BodyLimitMiddleware
from conveyor.api.llamacloud import llamacloud_router
from conveyor.api.llamacloud import webhooks as llamacloud_webhooks
from conveyor.api.meibel import meibel_router
from conveyor.api.signing import UrlSigner
from conveyor.services.core import build_core
from conveyor.settings import Settings

log = logging.getLogger("conveyor")


def create_app(settings: Settings, *, announce_key: bool = True) -> FastAPI:
    """The application; the core is built and started by the lifespan, and closed after it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        core = build_core(settings)
        core.webhooks.register("aihub", webhook_body)
        core.webhooks.register(llamacloud_webhooks.FORMAT, llamacloud_webhooks.body,
                               signature_header=llamacloud_webhooks.SIGNATURE_HEADER)
        await core.db.migrate()
        boot = await core.auth.bootstrap(settings.api_key)
        if boot.new_key and announce_key:
            _announce(boot.new_key)
        await core.start_background()
        app.state.core = core
        try:
            yield
        finally:
            await core.close()

    app = FastAPI(title="Conveyor", version=__version__, lifespan=lifespan,
                  description="Self-hosted batch document AI. Speaks the Meibel v2 batch API at /v2, the "
                              "LlamaCloud batch API at /llamacloud and the Instabase AI Hub batch API at "
                              "/aihub/api.")
    app.state.url_signer = UrlSigner(settings.signing_key)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_request_bytes, streamed=streams_body)
    app.include_router(health.router)
    app.include_router(meibel_router())
    app.include_router(llamacloud_router())
    app.include_router(aihub_router())
    return app


def _announce(key: str) -> None:
    print(
        "\n  Conveyor created the default project and its first API key.\n"
        f"  API key: {key}\n"
        "  It is shown only this once; only its hash is stored. `conveyor keys create` makes more.\n",
        flush=True)

