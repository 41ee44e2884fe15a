"""The FastAPI application: ``create_app()`` wires settings, the graph store, indexes and routes.

``/v1`` is the API (OpenAPI at ``/docs`` and ``/openapi.json``); every route but health needs an API key.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Receive, Scope, Send

from api import errors
from api.console import mount_console
from api.errors import ErrorResponse, error_response
from api.keys import KeyStore
from api.routes import admin, catalog, copilot, entries, faq, health, pricing
from api.settings import Settings, get_settings
from api.state import ServiceState
from api.stores import open_store
from copilot.rewrite import load_chat_model
from retrieval.embedders import make_embedder

log = logging.getLogger("salescopilot.api")

API_PREFIX = "/v1"
_ERRORS = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (400, "The body could not be parsed (not JSON, not UTF-8, broken multipart)."),
        (401, "No API key, or an unknown or revoked one."),
        (403, "The key's role may not call this endpoint."),
        (404, "Not found in the caller's tenant."),
        (409, "Version conflict or a step the entry's status does not allow."),
        (422, "Invalid input; `details` names the field path (or file, row and column)."),
    )
}


class UploadLimit:
    """Refuses a request body larger than the limit from its Content-Length before reading it (413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 for an oversized body, else pass the request on."""
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes:
                response = error_response(413, "too_large", f"request body larger than {self.max_bytes >> 20} MiB")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def open_state(settings: Settings) -> ServiceState:
    """Open the store, the embedder and the key file the settings name."""
    store = open_store(settings)
    embedder = make_embedder(settings.embedder, model_dir=settings.embedder_model_dir)
    chat_model = load_chat_model(settings.chat_model, settings.chat_model_kwargs) if settings.chat_model else None
    return ServiceState(
        settings=settings, store=store, embedder=embedder, keys=KeyStore(settings.keys_path), chat_model=chat_model
    )


def create_app(settings: Settings | None = None, *, state: ServiceState | None = None, preload: bool = True) -> FastAPI:
    """The service: opens the store, models and indexes once at start-up and closes them at shutdown.

    ``state`` lets a test hand in an already opened state; ``preload`` builds every tenant's indexes at start-up
    so the first request of a tenant is as fast as the others.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = state or open_state(settings)
        app.state.service = service
        if preload:
            for tenant in service.store.tenants():
                service.services(tenant)
                log.info("tenant %s ready", tenant)
        try:
            yield
        finally:
            if state is None:
                service.close()

    # /docs and /redoc from assets shipped in the fastapi-offline package: they work without internet access.
    app = FastAPIOffline(
        title="Sales knowledge graph & copilot",
        version="1.0",
        summary="Case suggestions, objection answers, price checks, briefing packs and knowledge curation.",
        lifespan=lifespan,
        responses=_ERRORS,
    )
    errors.install(app)
    for module in (health, pricing, copilot, catalog, entries, faq, admin):
        app.include_router(module.router, prefix=API_PREFIX)
    mount_console(app)  # the web console at / (its assets under /console); it calls only /v1
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["X-API-Key", "Content-Type"],
        )
    app.add_middleware(UploadLimit, max_bytes=settings.upload_max_mb << 20)
    return app
