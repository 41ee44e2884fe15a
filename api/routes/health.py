"""Liveness and readiness probes (no API key needed), and who the caller is."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.auth import State, allow
from api.keys import ROLES, ApiKey, Role
from graph.model import Product

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process answers."""

    status: str = "ok"


class FeedPosition(BaseModel):
    """Where a tenant's indexes are in the tenant's change log."""

    seq: int = Field(description="The last change-log record applied to this worker's indexes.")
    caught_up: bool = Field(description="False while the worker has change-log records left to apply.")


class Readiness(BaseModel):
    """Whether the store answers, the indexes are built and caught up with the change log, and for which tenants."""

    status: str = Field(description="ready, starting (indexes being built or catching up) or unavailable")
    backend: str
    tenants_loaded: list[str]
    feed: dict[str, FeedPosition] = Field(default_factory=dict, description="Per tenant: its change-log position.")
    detail: str | None = None
    startup: dict[str, Any] = Field(
        default_factory=dict,
        description="Seconds per start-up stage so far: imports (process start to the app's start), store, keys, "
        "embedder, model (first embedding), catch_up (change log read once after the indexes), ready (process start "
        "to ready); under tenants, per tenant prices, competitors and retrieval with where each came from "
        "(prices_from, retrieval_from: snapshot plus the log since it, or built / store).",
    )


@router.get("/health", summary="Liveness")
async def health() -> Health:
    """Always ok while the process serves requests."""
    return Health()


@router.get("/ready", summary="Readiness", response_model=Readiness, responses={503: {"model": Readiness}})
def ready(state: State) -> Readiness | JSONResponse:
    """Ready when start-up has built the indexes, they are caught up with the change log and the store answers.

    503 with ``starting`` while a worker builds its indexes or reads the log since its snapshot; 503 with
    ``unavailable`` when the store does not answer.
    """
    loaded = sorted(state.loaded_tenants())
    feed = {t: FeedPosition(seq=seq, caught_up=ok) for t, (seq, ok) in sorted(state.feed().items())}
    startup = state.startup.snapshot()
    try:
        state.store.get_node("probe", Product, "probe")  # one index lookup: the store answers
    except Exception as e:  # noqa: BLE001 - any failure means not ready; the reason goes to the probe
        body = Readiness(status="unavailable", backend=state.store.backend, tenants_loaded=loaded, feed=feed,
                         detail=str(e)[:200], startup=startup)  # fmt: skip
        return JSONResponse(body.model_dump(), status_code=503)
    behind = sorted(t for t, f in feed.items() if not f.caught_up)
    if not state.started.is_set() or behind:
        detail = f"catching up with the change log: {', '.join(behind)}" if behind else "building the indexes"
        body = Readiness(status="starting", backend=state.store.backend, tenants_loaded=loaded, feed=feed,
                         detail=detail, startup=startup)  # fmt: skip
        return JSONResponse(body.model_dump(), status_code=503)
    return Readiness(status="ready", backend=state.store.backend, tenants_loaded=loaded, feed=feed, startup=startup)


class Me(BaseModel):
    """The caller's key: its id, name, role and tenant."""

    key_id: str
    name: str
    role: Role
    tenant: str
    rep_id: str | None = Field(None, description="A rep key's rep (its territory).")


@router.get("/me", summary="Who the API key belongs to")
def me(key: Annotated[ApiKey, Depends(allow(*ROLES))]) -> Me:
    """The calling key's role and tenant (any valid key), e.g. for a client to show what it may do."""
    return Me(key_id=key.id, name=key.name, role=key.role, tenant=key.tenant, rep_id=key.rep_id)
