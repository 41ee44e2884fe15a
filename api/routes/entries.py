"""Knowledge entries: reading, and the trainers' curation workflow with optimistic locking and an audit trail.

Every write carries the ``version`` it was made against; a stale one gets 409 ``version_conflict`` with the stored
entry in ``details.current``, so the editor can show what changed and merge. Reps see published entries only.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from api.auth import Curator, Reader, State, WriteSlot
from api.errors import ApiError
from api.request_model import RequestModel
from api.state import ServiceState
from api.timestamps import UtcDatetime
from copilot import curation
from copilot.curation import EntryEdit
from graph.errors import NotFoundError
from graph.model import Entry, EntryKind, EntryStatus

router = APIRouter(prefix="/entries", tags=["entries"])

EntryId = Annotated[str, Path(min_length=1, max_length=200, examples=["KB-HZ-OS-0001"])]
Key = Annotated[str, Field(min_length=1, max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=100)]


class EntryOut(BaseModel):
    """An entry as stored, with the products and indications it is about."""

    id: str
    kind: EntryKind
    title: str
    body: str
    tags: list[str]
    status: EntryStatus
    version: int = Field(description="Send this back with an edit: a stale version gets 409.")
    author: str | None = None
    updated_at: UtcDatetime | None = None
    stale_reason: str | None = Field(None, description="Why a formulary change put the entry up for review.")
    source: str | None = None
    skus: list[str] = Field(default_factory=list)
    indications: list[str] = Field(default_factory=list)


class EntryPage(BaseModel):
    """One page of entries, ordered by id."""

    total: int
    items: list[EntryOut]


class EntryCreate(RequestModel):
    """A new entry; it starts as a draft."""

    kind: EntryKind
    title: str = Field(min_length=1, max_length=200, examples=["顾客嫌立普妥贵怎么办"])
    body: str = Field("", max_length=20_000)
    tags: list[Tag] = Field(default_factory=list, max_length=30)
    skus: list[Key] = Field(default_factory=list, max_length=50, description="Products it is about.")
    indications: list[Key] = Field(default_factory=list, max_length=50, description="Indications it is about.")
    source: str | None = Field(None, max_length=500)


class EntryPatch(RequestModel):
    """Changed fields of an entry (absent: unchanged) and the version they were made against."""

    version: int = Field(ge=1, description="The version you edited (from the entry you read).")
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, max_length=20_000)
    tags: list[Tag] | None = Field(None, max_length=30)
    skus: list[Key] | None = Field(None, max_length=50)
    indications: list[Key] | None = Field(None, max_length=50)
    source: str | None = Field(None, max_length=500)


class TransitionIn(RequestModel):
    """A workflow step on the version it was decided on, with an optional note for the audit trail."""

    version: int = Field(ge=1)
    note: str | None = Field(None, max_length=1000)


class VersionOut(BaseModel):
    """One version of an entry."""

    version: int
    title: str
    body: str
    tags: list[str]
    status: EntryStatus
    author: str | None = None
    updated_at: UtcDatetime | None = None


class AuditOut(BaseModel):
    """Who did what to the entry, when."""

    id: str
    at: UtcDatetime
    actor: str
    action: str
    details: dict[str, Any]


class HistoryOut(BaseModel):
    """Every version (oldest first, the current one last) and the audit trail."""

    entry_id: str
    versions: list[VersionOut]
    audit: list[AuditOut]


class DiffLineOut(BaseModel):
    """A sentence-level difference: equal, insert, delete or replace."""

    op: Literal["equal", "insert", "delete", "replace"]
    old: str
    new: str


class DiffOut(BaseModel):
    """What changed between two versions of an entry."""

    entry_id: str
    from_version: int
    to_version: int
    title: list[DiffLineOut]
    body: list[DiffLineOut]


def _outs(state: ServiceState, tenant: str, entries: list[Entry]) -> list[EntryOut]:
    found = curation.links(state.store, tenant, [e.id for e in entries])
    return [
        EntryOut(**e.model_dump(exclude={"tenant"}), skus=found[e.id][0], indications=found[e.id][1]) for e in entries
    ]


def _out(state: ServiceState, tenant: str, entry: Entry) -> EntryOut:
    return _outs(state, tenant, [entry])[0]


def _visible(entry: Entry | None, role: str) -> bool:
    return entry is not None and (role != "rep" or entry.status == "published")


def _actor(key: Any) -> str:
    return f"{key.name} ({key.role}, key {key.id})"


@router.get("", summary="List entries by status, kind, product or text")
def list_entries(
    key: Reader,
    state: State,
    status_: Annotated[EntryStatus | None, Query(alias="status", description="stale: the review queue.")] = None,
    kind: EntryKind | None = None,
    sku: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=100, description="Substring of title or body.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> EntryPage:
    """Entries of the caller's tenant; reps see published ones only."""
    if key.role == "rep":
        if status_ not in (None, "published"):
            raise ApiError(403, "forbidden", "reps see published entries only", details={"status": status_})
        status_ = "published"
    found = state.store.entries(key.tenant, sku=sku, status=status_, kind=kind)
    if q:
        found = [e for e in found if q.lower() in f"{e.title}\n{e.body}".lower()]
    page = found[offset : offset + limit]
    return EntryPage(total=len(found), items=_outs(state, key.tenant, page))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a draft entry", dependencies=[WriteSlot])
def create_entry(body: EntryCreate, key: Curator, state: State) -> EntryOut:
    """A new draft at version 1, with its ABOUT links and an audit record."""
    entry = state.tenant(key.tenant).create_entry(
        actor=_actor(key), kind=body.kind, title=body.title, body=body.body, tags=body.tags, skus=body.skus,
        indications=body.indications, source=body.source,
    )  # fmt: skip
    return _out(state, key.tenant, entry)


@router.get("/{entry_id}", summary="One entry")
def get_entry(entry_id: EntryId, key: Reader, state: State) -> EntryOut:
    """The entry with its links; 404 when absent, of another tenant, or (for reps) not published."""
    entry = state.store.get_node(key.tenant, Entry, entry_id)
    if entry is None or not _visible(entry, key.role):
        raise NotFoundError(f"no entry {entry_id}", details={"id": entry_id})
    return _out(state, key.tenant, entry)


@router.patch("/{entry_id}", summary="Edit an entry (optimistic locking)", dependencies=[WriteSlot])
def edit_entry(entry_id: EntryId, body: EntryPatch, key: Curator, state: State) -> EntryOut:
    """Change text, tags or links; 409 ``version_conflict`` when someone saved since ``version``.

    Editing a published entry sends it back to draft: it is reviewed again before reps see the new text.
    """
    edit = EntryEdit(title=body.title, body=body.body, tags=body.tags, skus=body.skus,
                     indications=body.indications, source=body.source)  # fmt: skip
    entry = state.tenant(key.tenant).edit_entry(entry_id, actor=_actor(key), expected_version=body.version, edit=edit)
    return _out(state, key.tenant, entry)


def _transition(entry_id: str, body: TransitionIn, key: Any, state: ServiceState, action: curation.Action) -> EntryOut:
    entry = state.tenant(key.tenant).transition(entry_id, action, actor=_actor(key), expected_version=body.version,
                                                note=body.note)  # fmt: skip
    return _out(state, key.tenant, entry)


@router.post("/{entry_id}/submit", summary="Submit a draft for review", dependencies=[WriteSlot])
def submit(entry_id: EntryId, body: TransitionIn, key: Curator, state: State) -> EntryOut:
    """Draft or stale → in_review."""
    return _transition(entry_id, body, key, state, "submit")


@router.post("/{entry_id}/publish", summary="Approve and publish", dependencies=[WriteSlot])
def publish(entry_id: EntryId, body: TransitionIn, key: Curator, state: State) -> EntryOut:
    """in_review → published, or stale → published (confirmed still right after a formulary change)."""
    return _transition(entry_id, body, key, state, "publish")


@router.post("/{entry_id}/reject", summary="Send back to draft", dependencies=[WriteSlot])
def reject(entry_id: EntryId, body: TransitionIn, key: Curator, state: State) -> EntryOut:
    """in_review → draft, with the reviewer's note in the audit trail."""
    return _transition(entry_id, body, key, state, "reject")


@router.post("/{entry_id}/retire", summary="Retire an entry", dependencies=[WriteSlot])
def retire(entry_id: EntryId, body: TransitionIn, key: Curator, state: State) -> EntryOut:
    """Any status but retired → retired; it leaves retrieval at once."""
    return _transition(entry_id, body, key, state, "retire")


@router.get("/{entry_id}/history", summary="Versions and audit trail of an entry")
def history(entry_id: EntryId, key: Curator, state: State) -> HistoryOut:
    """Every version, oldest first (the current one last), and who did what when."""
    current, versions, audit = curation.history(state.store, key.tenant, entry_id)
    rows = [VersionOut(**v.model_dump(include=set(VersionOut.model_fields))) for v in versions]
    rows.append(VersionOut(**current.model_dump(include=set(VersionOut.model_fields))))
    return HistoryOut(
        entry_id=entry_id,
        versions=rows,
        audit=[
            AuditOut(id=a.id, at=a.at, actor=a.actor, action=a.action, details=json.loads(a.details or "{}"))
            for a in audit
        ],
    )


@router.get("/{entry_id}/diff", summary="Differences between two versions")
def diff(
    entry_id: EntryId,
    key: Curator,
    state: State,
    from_version: Annotated[int, Query(alias="from", ge=1, le=1_000_000)],
    to_version: Annotated[int | None, Query(alias="to", ge=1, le=1_000_000, description="Default: current.")] = None,
) -> DiffOut:
    """Sentence-level differences of title and body from one version to another."""
    current = curation.get_entry(state.store, key.tenant, entry_id)
    to_v = to_version or current.version
    old_title, old_body = curation.version_text(state.store, key.tenant, entry_id, from_version)
    new_title, new_body = curation.version_text(state.store, key.tenant, entry_id, to_v)

    def lines(a: str, b: str) -> list[DiffLineOut]:
        return [DiffLineOut(op=d.op, old=d.old, new=d.new) for d in curation.text_diff(a, b)]

    return DiffOut(entry_id=entry_id, from_version=from_version, to_version=to_v,
                   title=lines(old_title, new_title), body=lines(old_body, new_body))  # fmt: skip
