"""Who is calling: the API key in ``X-API-Key`` gives a tenant and a role; each route names the roles it admits.

The role × route matrix (tested cell by cell in ``tests/api/test_roles.py``):

| route group | rep | trainer | admin | service | safety |
|---|---|---|---|---|---|
| who am I (`/v1/me`) | ✓ | ✓ | ✓ | ✓ | ✓ |
| price checks | ✓ (territory) | ✓ | ✓ | ✓ | |
| cases, objections, script requests (ask), briefings, customers, products, formulary, entries | ✓ | ✓ | ✓ | | |
| entries of any status, curation writes, history, formulary impact, FAQ proposals, script-request queue | | ✓ | ✓ | | |
| the drug-safety queue (suspected adverse reactions) | | | ✓ | | ✓ |
| ingest upload, API keys | | | ✓ | | |

Territory cells: a rep key reads only the customers its rep owns (`copilot.territory`); a customer outside it is
answered like an unknown id. The other roles see the whole tenant.

The ``store`` role (a store manager's key) only uploads competitor photos and reads them and the competitor price
matrix (and who it is); admins may do the same. Reps and trainers read the matrix; trainers and admins review the
items the SKU resolution was not sure of.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from api.errors import ApiError
from api.keys import ApiKey, Role
from api.logs import set_tenant
from api.state import ServiceState
from copilot.territory import Territory

PRICING: tuple[Role, ...] = ("rep", "trainer", "admin", "service")
READERS: tuple[Role, ...] = ("rep", "trainer", "admin")
CURATORS: tuple[Role, ...] = ("trainer", "admin")
ADMINS: tuple[Role, ...] = ("admin",)
SAFETY: tuple[Role, ...] = ("safety", "admin")
PHOTO_UPLOADERS: tuple[Role, ...] = ("store", "admin")
MATRIX_READERS: tuple[Role, ...] = ("rep", "trainer", "admin", "store")
REVIEWERS: tuple[Role, ...] = ("trainer", "admin")

_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key `skg_<id>_<secret>` (salescopilot keys create)."
)


async def get_state(request: Request) -> ServiceState:
    """The service state opened by the app's lifespan."""
    state: ServiceState = request.app.state.service
    return state


State = Annotated[ServiceState, Depends(get_state)]


async def caller(state: State, token: Annotated[str | None, Security(_header)]) -> ApiKey:
    """The live API key of the request (401 without one).

    ``async``: checked on the event loop from the key cache, so a request never waits for a worker thread (while
    50 trainers' writes held every thread of the pool, price checks queued for seconds behind them).
    """
    key = state.keys.verify(token)
    set_tenant(key.tenant)  # the request's log records carry it from here on
    return key


def allow(*roles: Role) -> Callable[[Request, str | None], Awaitable[ApiKey]]:
    """A dependency admitting only callers with one of ``roles`` (403 for the others).

    One flat dependency (the request and the header), not ``caller`` and ``get_state`` under it: FastAPI's solving
    of each nested dependency cost about as much as the whole price check (profile of a quote screen's calls).
    """

    async def check(request: Request, token: Annotated[str | None, Security(_header)]) -> ApiKey:
        state: ServiceState = request.app.state.service
        key = state.keys.verify(token)
        set_tenant(key.tenant)
        if key.role not in roles:
            raise ApiError(
                403,
                "forbidden",
                f"role '{key.role}' may not call this endpoint (allowed: {', '.join(roles)})",
                details={"role": key.role, "allowed": list(roles)},
            )
        return key

    check.__name__ = f"allow_{'_'.join(roles)}"
    return check


Pricing = Annotated[ApiKey, Depends(allow(*PRICING))]
Reader = Annotated[ApiKey, Depends(allow(*READERS))]
Curator = Annotated[ApiKey, Depends(allow(*CURATORS))]
Admin = Annotated[ApiKey, Depends(allow(*ADMINS))]
SafetyOfficer = Annotated[ApiKey, Depends(allow(*SAFETY))]


TERRITORY_CACHE_S = 5.0
"""Seconds a rep's territory is reused without reading the graph (a quote screen checks prices on every keystroke);
a reassignment by an ingest reaches its reads within this time, like a key revoked elsewhere."""
_territories: dict[tuple[int, str, str | None], tuple[Territory, float]] = {}


def cached_territory(state: ServiceState, key: ApiKey) -> Territory | None:
    """``territory`` when it needs no graph read (not a rep key, or a rep's territory read in the last seconds).

    Lets an ``async`` route skip the hop to a worker thread on the common path.
    """
    if key.role != "rep":
        return Territory.whole_tenant()
    hit = _territories.get((id(state.store), key.tenant, key.rep_id))
    return hit[0] if hit is not None and hit[1] > time.monotonic() else None


def territory(state: ServiceState, key: ApiKey) -> Territory:
    """The customers ``key`` may read: a rep key its rep's customers, any other key the whole tenant."""
    if key.role != "rep":
        return Territory.whole_tenant()
    cached = cached_territory(state, key)
    if cached is not None:
        return cached
    cache_key = (id(state.store), key.tenant, key.rep_id)
    area = Territory.of_rep(state.store, key.tenant, key.rep_id)
    if len(_territories) > 10_000:
        _territories.clear()
    _territories[cache_key] = (area, time.monotonic() + TERRITORY_CACHE_S)
    return area


PhotoUploader = Annotated[ApiKey, Depends(allow(*PHOTO_UPLOADERS))]
MatrixReader = Annotated[ApiKey, Depends(allow(*MATRIX_READERS))]
Reviewer = Annotated[ApiKey, Depends(allow(*REVIEWERS))]


async def write_slot(state: State) -> AsyncIterator[None]:
    """Hold one of the few write slots while a write route runs (the others wait without a thread).

    Writes to one store are serialised anyway; letting 40 worker threads run their Python work (validation, audit,
    re-indexing) at once only made them fight the event loop for the GIL, and price checks waited seconds.
    """
    async with state.write_gate:
        yield


WriteSlot = Depends(write_slot)
"""Add to a write route's ``dependencies``."""
