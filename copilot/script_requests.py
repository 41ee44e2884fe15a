"""The trainers' queue of script requests: objections reps met that no published script answers.

When an objection answer is 无匹配话术, the console offers "request a script"; the request keeps the rep's words,
the products at hand, the category the copilot read and the customer's type, so a trainer sees what the field needs
and can write the script (then closes the request naming it). Every request is scoped to the caller's tenant.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Literal

from copilot.clock import utc_now
from copilot.errors import CopilotError
from graph.errors import NotFoundError
from graph.frames import models_to_table
from graph.model import Entry, ScriptRequest, ScriptRequestStatus
from graph.ports import ChangeDraft, GraphStore


class RequestClosedError(CopilotError):
    """The script request was closed already (a second close would overwrite the first trainer's decision)."""

    code = "request_closed"


def create_request(
    store: GraphStore,
    tenant: str,
    *,
    query: str,
    requested_by: str,
    skus: Sequence[str] = (),
    category: str | None = None,
    customer_type: str | None = None,
) -> ScriptRequest:
    """A new open request in the tenant's queue (its id sorts by time)."""
    request = ScriptRequest.model_validate(
        {
            "tenant": tenant,
            "id": f"SR-{time.time_ns():020d}-{uuid.uuid4().hex[:6]}",
            "query": query,
            "skus": list(skus),
            "category": category,
            "customer_type": customer_type,
            "requested_by": requested_by,
            "at": utc_now(),
        }
    )
    store.load_batch(
        tenant,
        [(ScriptRequest, models_to_table(ScriptRequest, [request]))],
        change=ChangeDraft("script_requested", actor=requested_by, ids=(request.id,)),
    )
    return request


def list_requests(
    store: GraphStore, tenant: str, *, status: ScriptRequestStatus | None = "open", limit: int = 50, offset: int = 0
) -> tuple[int, list[ScriptRequest]]:
    """The tenant's requests (of ``status``; ``None``: all), oldest first (ids sort by time), one page and the total.

    No status is part of another (open, done, declined), so the store's text filter on ``status`` is exact.
    """
    page = store.search_nodes(tenant, ScriptRequest, text=status, fields=("status",) if status else (),
                              limit=limit, offset=offset)  # fmt: skip
    return page.total, list(page.items)


def close_request(
    store: GraphStore,
    tenant: str,
    request_id: str,
    *,
    status: Literal["done", "declined"],
    closed_by: str,
    entry_id: str | None = None,
    note: str | None = None,
) -> ScriptRequest:
    """Close an open request: ``done`` (naming the script written for it, which must exist) or ``declined``."""
    request = store.get_node(tenant, ScriptRequest, request_id)
    if request is None:
        raise NotFoundError(f"no script request {request_id}", details={"id": request_id})
    if request.status != "open":
        raise RequestClosedError(
            f"script request {request_id} is {request.status} already",
            details={"id": request_id, "status": request.status},
        )
    if entry_id is not None and store.get_node(tenant, Entry, entry_id) is None:
        raise NotFoundError(f"no entry {entry_id}", details={"entry_id": entry_id})
    closed = request.model_copy(
        update={"status": status, "entry_id": entry_id, "note": note, "closed_by": closed_by, "closed_at": utc_now()}
    )
    store.load_batch(
        tenant,
        [(ScriptRequest, models_to_table(ScriptRequest, [closed]))],
        change=ChangeDraft("script_request_closed", actor=closed_by, ids=(request_id,), details={"status": status}),
    )
    return closed
