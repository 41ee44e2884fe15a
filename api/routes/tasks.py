"""A rep's daily task list (今日待办): the tasks of its own customers as of a date, and their state changes.

A rep key reads its own rep's tasks (``/me``); a trainer or admin key names the rep (``rep_id``). A task id the rep
does not have that day — another rep's, or made up — is 404 ``not_found`` ("unknown task"), never a hint that it
exists elsewhere.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import Field, model_validator

from api.auth import Reader, State, WriteSlot
from api.errors import ApiError
from api.keys import ApiKey
from api.request_model import RequestModel
from copilot.tasks import NewInteraction, TaskItem, TaskList
from graph.errors import NotFoundError
from graph.model import Rep, TaskState

router = APIRouter(prefix="/me/tasks", tags=["tasks"])

TaskId = Annotated[str, Path(min_length=1, max_length=100, examples=["T-3f5a0c9e1b2d4f60a1b2"])]
AsOf = Annotated[dt.date | None, Query(description="The day of the list; default today.")]
RepParam = Annotated[
    str | None,
    Query(max_length=200, description="Trainer and admin keys: whose list. A rep key reads its own (leave it out)."),
]


def _rep(state: State, key: ApiKey, rep_id: str | None) -> str:
    """The rep whose tasks the caller reads: a rep key's own; another role's named one (which must exist)."""
    if key.role == "rep":
        if not key.rep_id:
            raise ApiError(403, "forbidden", "this rep key is bound to no rep: it has no tasks", details={})
        if rep_id and rep_id != key.rep_id:
            raise ApiError(403, "forbidden", "a rep key reads its own tasks only", details={"rep_id": rep_id})
        return key.rep_id
    if not rep_id:
        raise ApiError(422, "invalid_request", "rep_id is required for a trainer or admin key",
                       details={"field": "rep_id"})  # fmt: skip
    if state.store.get_node(key.tenant, Rep, rep_id) is None:
        raise NotFoundError(f"unknown rep {rep_id}", details={"rep_id": rep_id})
    return rep_id


class InteractionIn(RequestModel):
    """The visit or call that closed the task, recorded with it."""

    summary: str = Field(min_length=1, max_length=4000, examples=["已拜访店长，确认续签意向，下周提交新合同"])
    channel: str = Field("拜访", max_length=50, examples=["拜访", "电话", "微信"])
    next_step: str | None = Field(None, max_length=1000)


class StateIn(RequestModel):
    """A state change: done (with the interaction that closed it), snoozed until a date, dismissed with a reason."""

    state: TaskState
    snoozed_until: dt.date | None = Field(None, description="For snoozed: the day it opens again (after as_of).")
    dismiss_reason: str | None = Field(None, max_length=1000, examples=["客户已转由连锁总部统一采购"])
    interaction_id: str | None = Field(None, max_length=200, description="For done: an existing interaction.")
    interaction: InteractionIn | None = Field(None, description="For done: a new interaction, recorded now.")
    as_of: dt.date | None = Field(None, description="The day of the list the task is on; default today.")

    @model_validator(mode="after")
    def _fits(self) -> StateIn:
        if self.state == "done" and bool(self.interaction_id) == (self.interaction is not None):
            raise ValueError("done needs the interaction that closed it: interaction_id or interaction (one)")
        if self.state != "done" and (self.interaction_id or self.interaction is not None):
            raise ValueError("interaction_id / interaction go with state done only")
        if self.state == "snoozed" and self.snoozed_until is None:
            raise ValueError("snoozed needs snoozed_until")
        if self.state == "dismissed" and not (self.dismiss_reason or "").strip():
            raise ValueError("dismissed needs dismiss_reason")
        return self


@router.get("", summary="Today's tasks (今日待办) of the caller's rep")
async def list_tasks(key: Reader, state: State, as_of: AsOf = None, rep_id: RepParam = None) -> TaskList:
    """Tasks of the rep's customers as of ``as_of``: open first by priority, due date and value at risk.

    Each names its trigger, the reason with node ids, a due date, and (for the first open ones) the script or case to
    use, with its entry id.
    """
    rep = await run_in_threadpool(_rep, state, key, rep_id)
    services = state.tenant(key.tenant)
    return await run_in_threadpool(services.task_list, rep, as_of=as_of or dt.date.today())


@router.get("/{task_id}", summary="One task with its suggested script or case")
async def get_task(task_id: TaskId, key: Reader, state: State, as_of: AsOf = None, rep_id: RepParam = None) -> TaskItem:
    """The task as it reads on ``as_of``; 404 for an id the rep does not have that day."""
    rep = await run_in_threadpool(_rep, state, key, rep_id)
    services = state.tenant(key.tenant)
    tasks = await run_in_threadpool(services.task_list, rep, as_of=as_of or dt.date.today(), only=task_id)
    found = next((t for t in tasks.items if t.id == task_id), None)
    if found is None:
        raise NotFoundError(f"unknown task {task_id}", details={"id": task_id})
    return found


async def _set(task_id: str, body: StateIn, key: ApiKey, state: State, rep_id: str | None) -> TaskItem:
    rep = await run_in_threadpool(_rep, state, key, rep_id)
    new = NewInteraction(**body.interaction.model_dump()) if body.interaction else None
    actor = f"{key.name} ({key.role}, key {key.id})"
    return await run_in_threadpool(
        lambda: state.tenant(key.tenant).set_task_state(
            rep, task_id, state=body.state, as_of=body.as_of or dt.date.today(), actor=actor,
            snoozed_until=body.snoozed_until, dismiss_reason=body.dismiss_reason,
            interaction_id=body.interaction_id, interaction=new,
        )
    )  # fmt: skip


@router.patch("/{task_id}", summary="Mark a task done, snoozed or dismissed", dependencies=[WriteSlot])
async def patch_task(task_id: TaskId, body: StateIn, key: Reader, state: State, rep_id: RepParam = None) -> TaskItem:
    """Set the task's state; done links the interaction that closed it.

    The interaction is an existing one of the task's customer, or one recorded now. 422 for a state that does not
    fit, 404 for an unknown task or interaction.
    """
    return await _set(task_id, body, key, state, rep_id)


@router.post("/{task_id}/state", summary="Set a task's state (as PATCH)", dependencies=[WriteSlot])
async def post_state(task_id: TaskId, body: StateIn, key: Reader, state: State, rep_id: RepParam = None) -> TaskItem:
    """The same as ``PATCH /me/tasks/{task_id}``, for clients that send only GET and POST."""
    return await _set(task_id, body, key, state, rep_id)
