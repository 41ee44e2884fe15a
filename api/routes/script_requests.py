"""The trainers' queue of script requests: objections reps met that no published script answers.

A rep (or a trainer trying the copilot) posts a request from a 无匹配话术 answer; trainers list the open ones and close
each, naming the script they wrote or declining it. Everything is scoped to the caller's tenant.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from api.auth import Curator, Reader, State, WriteSlot
from api.request_model import RequestModel
from api.timestamps import UtcDatetime
from copilot import script_requests
from graph.model import CustomerType, ObjectionCategory, ScriptRequest, ScriptRequestStatus

router = APIRouter(prefix="/script-requests", tags=["script requests"])

RequestId = Annotated[str, Path(min_length=1, max_length=200)]


class ScriptRequestIn(RequestModel):
    """What the rep met and no script answers (the body the objection answer's ``request_script`` carries)."""

    query: str = Field(min_length=1, max_length=1000, examples=["发票老是开错"])
    skus: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=50)
    category: ObjectionCategory | None = None
    customer_type: CustomerType | None = None


class ScriptRequestOut(BaseModel):
    """A request in the queue."""

    id: str
    query: str
    skus: list[str]
    category: ObjectionCategory | None = None
    customer_type: CustomerType | None = None
    requested_by: str
    at: UtcDatetime
    status: ScriptRequestStatus
    entry_id: str | None = Field(None, description="The script written for it.")
    note: str | None = None
    closed_by: str | None = None
    closed_at: UtcDatetime | None = None


class ScriptRequestPage(BaseModel):
    """One page of requests, oldest first (a queue)."""

    total: int
    items: list[ScriptRequestOut]


class CloseIn(RequestModel):
    """How a trainer closes a request: done (with the script written) or declined (with a note)."""

    status: Literal["done", "declined"]
    entry_id: str | None = Field(None, max_length=200, description="The entry written for it (it must exist).")
    note: str | None = Field(None, max_length=1000)


def _out(r: ScriptRequest) -> ScriptRequestOut:
    return ScriptRequestOut(**r.model_dump(exclude={"tenant"}))


def _actor(key: object) -> str:
    return f"{getattr(key, 'name', '')} ({getattr(key, 'role', '')}, key {getattr(key, 'id', '')})"


@router.post("", status_code=status.HTTP_201_CREATED, summary="Ask the trainers for a script", dependencies=[WriteSlot])
def create(body: ScriptRequestIn, key: Reader, state: State) -> ScriptRequestOut:
    """An open request in the caller's tenant's queue, with the query and the products at hand."""
    made = state.tenant(key.tenant).request_script(
        query=body.query, requested_by=_actor(key), skus=body.skus, category=body.category,
        customer_type=body.customer_type,
    )  # fmt: skip
    return _out(made)


@router.get("", summary="The trainers' queue of script requests")
def list_requests(
    key: Curator,
    state: State,
    status_: Annotated[ScriptRequestStatus | None, Query(alias="status", description="Default: open ones.")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ScriptRequestPage:
    """Requests of the caller's tenant, oldest first."""
    total, page = script_requests.list_requests(state.store, key.tenant, status=status_, limit=limit, offset=offset)
    return ScriptRequestPage(total=total, items=[_out(r) for r in page])


@router.post("/{request_id}/close", summary="Close a script request", dependencies=[WriteSlot])
def close(request_id: RequestId, body: CloseIn, key: Curator, state: State) -> ScriptRequestOut:
    """Open → done (naming the script written) or declined; 409 ``request_closed`` when it was closed already."""
    closed = state.tenant(key.tenant).close_script_request(
        request_id, status=body.status, closed_by=_actor(key), entry_id=body.entry_id, note=body.note
    )
    return _out(closed)
