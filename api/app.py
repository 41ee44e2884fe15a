"""The FastAPI application: ``create_app()`` wires settings, the graph store, indexes and routes.

``/v1`` is the API (OpenAPI at ``/docs`` and ``/openapi.json``); every route but health needs an API key.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.console import mount_console
from api.errors import ErrorResponse, error_response
from api.fast_paths import PriceCheckFastPath
from api.local_admin import LocalAdmin
from api.logs import RequestContext, configure_logging
from api.routes import (
    admin,
    catalog,
    competitors,
    copilot,
    entries,
    faq,
    health,
    local,
    pricing,
    safety,
    script_requests,
    tasks,
)
from api.services import Follower
from api.settings import Settings, get_settings
from api.state import ServiceState, StartupClock
from api.stores import open_keys, open_store
from copilot import adverse_events
from copilot.rewrite import load_chat_model
from retrieval.embedders import make_embedder, warm_up
from retrieval.threads import limit_blas_threads

log = logging.getLogger(__name__)

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


class ServiceApp(FastAPI):
    """The service's FastAPI app: a price check goes to its fast path before FastAPI's machinery (``api.fast_paths``).

    Everything else — and a price check the fast path does not answer — goes through FastAPI as usual. Only
    ``__call__`` differs from FastAPI's: ``fastapi_offline`` builds a plain ``FastAPI`` (its offline docs), which
    ``_service_app`` turns into this class.
    """

    price_checks: PriceCheckFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection or lifespan."""
        fast = self.price_checks
        if fast is not None and fast.takes(scope):
            await fast(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def general(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The full application: FastAPI's middleware layers and routes (the fast path's fallback)."""
        await super().__call__(scope, receive, send)


def _service_app(app: FastAPI) -> ServiceApp:
    """``app`` as a ``ServiceApp`` (the same object: the subclass adds no state but ``price_checks``)."""
    app.__class__ = ServiceApp
    assert isinstance(app, ServiceApp)  # noqa: S101 - narrows the type for mypy
    return app


def _traced(app: FastAPI) -> bool:
    """Whether FastAPI's native OpenTelemetry tracing is on (a provider configured): its requests are traced then."""
    telemetry = getattr(app, "_native_telemetry", None)
    enabled = getattr(telemetry, "enabled", None)
    return bool(enabled()) if callable(enabled) else False


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"


class BodyLimit:
    """Refuses a request body past its limit, counted on the bytes received (chunked uploads too), before work.

    Multipart uploads (ingest) may reach ``upload_bytes``; any other body (JSON) ``json_bytes``. A declared
    Content-Length over the limit is refused before anything is read; a body without one (chunked) is cut off the
    moment it passes the limit, so a 200 MB chunked upload never reaches the disk or memory whole.
    """

    def __init__(self, app: ASGIApp, upload_bytes: int, json_bytes: int) -> None:
        self.app = app
        self.upload_bytes = upload_bytes
        self.json_bytes = json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a receive channel that counts the body's bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/")
        limit = self.upload_bytes if multipart else self.json_bytes
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        overflow = replied = False

        async def counted() -> Message:
            nonlocal received, overflow
            if overflow:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # stop reading: the app sees the client gone, and this reply replaces its own
                    overflow = True
                    return {"type": "http.disconnect"}
            return message

        async def reply_too_large() -> None:
            nonlocal replied
            if not replied:
                replied = True
                await _too_large(limit)(scope, receive, send)

        async def tracked(message: Message) -> None:
            if overflow:
                await reply_too_large()
                return
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            if not overflow:
                raise
        if overflow:
            await reply_too_large()


def _too_large(limit: int) -> JSONResponse:
    return error_response(413, "too_large", f"request body larger than {_size(limit)}", {"limit_bytes": limit})


def _too_deep(_: Request, exc: Exception) -> JSONResponse:  # noqa: ARG001
    return error_response(400, "invalid_request", "the body is nested too deeply to be a request of this API")


def open_state(settings: Settings, clock: StartupClock | None = None) -> ServiceState:
    """Open the store, the embedder and the key file the settings name (each timed on ``clock``)."""
    clock = clock or StartupClock()
    with clock.stage("store"):
        store = open_store(settings)
    try:
        with clock.stage("keys"):
            keys = open_keys(settings, store)
    except BaseException:
        store.close()
        raise
    with clock.stage("embedder"):
        embedder = make_embedder(
            settings.embedder, model_dir=settings.embedder_model_dir, cache_dir=settings.index_root
        )
    chat_model = load_chat_model(settings.chat_model, settings.chat_model_kwargs) if settings.chat_model else None
    return ServiceState(
        settings=settings, store=store, embedder=embedder, keys=keys, chat_model=chat_model,
        write_gate=asyncio.Semaphore(settings.write_slots), startup=clock,
    )  # fmt: skip


def create_app(
    settings: Settings | None = None,
    *,
    state: ServiceState | None = None,
    preload: bool = True,
    background: bool = False,
    local_admin: LocalAdmin | None = None,
) -> FastAPI:
    """The service: opens the store, models and indexes once at start-up and closes them at shutdown.

    ``state`` lets a test hand in an already opened state; ``preload`` builds every tenant's indexes at start-up
    so the first request of a tenant is as fast as the others; ``background`` builds them while the service
    already answers (``/v1/ready`` says when they are built and caught up with the change log). Once started, a
    follower thread applies the tenants' change logs every ``feed_poll_s`` seconds (writes of other processes).
    ``local_admin`` opens the channel through which the CLI runs its commands in this service while it holds the
    embedded store (``api.local_admin``): its file is written once the store is open and removed at shutdown.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clock = state.startup if state is not None else StartupClock()
        clock.mark("imports")  # seconds since the service was first imported: the modules, uvicorn's start
        service = state or open_state(settings, clock)
        app.state.service = service
        if isinstance(app, ServiceApp) and app.price_checks is not None:  # traced: through FastAPI, which traces
            app.price_checks.enabled = not _traced(app)
        # blocking routes (curation, briefings…) run on these threads; each one running Python competes with the
        # event loop, which answers the price checks, for the GIL
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        if local_admin is not None:
            local_admin.write(service.settings.data_dir)
        poll_s = service.settings.feed_poll_s
        follower = Follower(service.services, poll_s) if poll_s > 0 else None
        service.keys.start()  # re-reads the cached keys (revocations elsewhere) and writes their uses

        def start() -> None:
            try:
                if preload:
                    with clock.stage("model"):
                        warm_up(service.embedder)
                    with clock.stage("detectors"):  # the adverse-reaction reader's typo pass: read by every answer
                        adverse_events.warm()
                    for tenant in service.settings.tenants or service.store.tenants():
                        service.tenant(tenant).warm(clock)
                        log.info("tenant ready", extra={"tenant": tenant})
                with clock.stage("catch_up"):
                    service.services.follow()  # the writes made while the indexes were read
            finally:
                clock.mark("ready")
                service.started.set()
                log.info("service ready", extra={"startup": clock.snapshot()})
            if follower is not None:
                follower.start()

        starter = threading.Thread(target=start, name="warm-up", daemon=True) if background else None
        if starter is not None:
            starter.start()  # /v1/health answers now; /v1/ready says 503 "starting" until the indexes are current
        else:
            start()
        try:
            yield
        finally:
            if starter is not None:
                starter.join()
            if follower is not None:
                follower.stop()
            service.keys.close()  # writes the uses not written yet
            if local_admin is not None:
                local_admin.remove(service.settings.data_dir)
            if state is None:
                service.close()

    # /docs and /redoc from assets shipped in the fastapi-offline package: they work without internet access.
    offline = FastAPIOffline(
        title="Sales knowledge graph & copilot",
        version="1.0",
        summary="Case suggestions, objection answers, price checks, briefing packs and knowledge curation.",
        lifespan=lifespan,
        responses=_ERRORS,
    )
    app = _service_app(offline)
    errors.install(app)
    app.state.local_admin = local_admin
    for module in (health, pricing, copilot, catalog, entries, script_requests, faq, safety, admin, competitors, tasks,
                   local):  # fmt: skip
        app.include_router(module.router, prefix=API_PREFIX)
    mount_console(app)  # the web console at / (its assets under /console); it calls only /v1
    # in front of every layer; it does the request id, access record and body limit itself and leaves the rest
    app.price_checks = PriceCheckFastPath(
        app, app.general, json_bytes=settings.json_max_kb << 10, cors=bool(settings.cors_origins)
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["X-API-Key", "Content-Type"],
        )
    app.add_exception_handler(RecursionError, _too_deep)  # JSON nested thousands deep: the parser's recursion
    app.add_middleware(BodyLimit, upload_bytes=settings.upload_max_mb << 20, json_bytes=settings.json_max_kb << 10)
    # outermost but for Starlette's last-resort handler: every response (a 413, a 500 too) carries the request id
    app.add_middleware(RequestContext, on_error=errors.unexpected)
    return app


def worker_app() -> FastAPI:
    """One worker of ``salescopilot serve --workers N`` (settings from the environment; takes requests once ready).

    Each worker opens its own connection to the Neo4j database, builds its indexes from the saved snapshots plus the
    change log since them, and follows the log. The workers share one listening socket, and a worker accepts
    connections only once its start-up (the app's lifespan) is done: so the indexes are built in the lifespan, not
    in the background, and no request reaches a worker that is still building them. (Built in the background, a
    starting worker took connections at once and held each request until its indexes were built.)
    """
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)  # as the command line asked (SKG_LOG_*)
    sys.setswitchinterval(settings.switch_interval_ms / 1000)  # as in a single-process serve (SKG_SWITCH_INTERVAL_MS)
    limit_blas_threads(settings.blas_threads)  # as in a single-process serve (SKG_BLAS_THREADS)
    return create_app(settings, background=False)
