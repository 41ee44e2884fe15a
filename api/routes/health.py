"""Liveness and readiness probes (no API key needed), and who the caller is."""

from __future__ import annotations

from typing import Annotated

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


class Readiness(BaseModel):
    """Whether the store answers, and which tenants have their indexes loaded."""

    status: str = Field(description="ready or unavailable")
    backend: str
    tenants_loaded: list[str]
    detail: str | None = None


@router.get("/health", summary="Liveness")
async def health() -> Health:
    """Always ok while the process serves requests."""
    return Health()


@router.get("/ready", summary="Readiness", response_model=Readiness, responses={503: {"model": Readiness}})
def ready(state: State) -> Readiness | JSONResponse:
    """Ready when the graph store answers a query; 503 otherwise."""
    loaded = sorted(state.loaded_tenants())
    try:
        state.store.get_node("probe", Product, "probe")  # one index lookup: the store answers
    except Exception as e:  # noqa: BLE001 - any failure means not ready; the reason goes to the probe
        body = Readiness(status="unavailable", backend=state.store.backend, tenants_loaded=loaded, detail=str(e)[:200])
        return JSONResponse(body.model_dump(), status_code=503)
    return Readiness(status="ready", backend=state.store.backend, tenants_loaded=loaded)


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
