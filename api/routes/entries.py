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
from graph.model import CustomerType, Entry, EntryKind, EntryStatus, EntryVersion, ImpactSeverity, ObjectionCategory

router = APIRouter(prefix="/entries", tags=["entries"])

EntryId = Annotated[str, Path(min_length=1, max_length=200, examples=["KB-HZ-OS-0001"])]
Key = Annotated[str, Field(min_length=1, max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=100)]


class RevisionOut(BaseModel):
    """The pending revision of a published entry: its text, links and review state."""

    title: str
    body: str
    tags: list[str]
    source: str | None = None
    category: ObjectionCategory | None = None
    customer_types: list[CustomerType] = Field(default_factory=list)
    skus: list[str] | None = Field(None, description="New products it is about; null: unchanged.")
    indications: list[str] | None = None
    status: Literal["draft", "in_review"]
    author: str | None = None
    updated_at: UtcDatetime | None = None
    base_version: int


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
    stale_reason: str | None = Field(
        None, description="The formulary note: which change touches the entry. A reviewer clears it (confirm)."
    )
    impact_severity: ImpactSeverity | None = Field(
        None, description="withdraw: a claim is now false (reps do not see it); review: true but incomplete (待复核)."
    )
    impact_sentence: str | None = Field(None, description="The sentence whose claim the change touches.")
    impact_edition: str | None = Field(None, description="The edition whose change set the note.")
    impact_skus: list[str] = Field(default_factory=list, description="The changed products the note is about.")
    source: str | None = None
    category: ObjectionCategory | None = Field(None, description="What the objection (or the case's problem) is about.")
    customer_types: list[CustomerType] = Field(default_factory=list, description="Written for these; empty = all.")
    skus: list[str] = Field(default_factory=list)
    indications: list[str] = Field(default_factory=list)
    last_editor: str | None = Field(None, description="Who last wrote the text a publish would make live.")
    revision: RevisionOut | None = Field(
        None, description="A pending revision of this published entry (trainers and admins only; reps read the "
        "published fields until it is published).",
    )  # fmt: skip


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
    category: ObjectionCategory | None = Field(None, description="Objection category (price, stock, efficacy, …).")
    customer_types: list[CustomerType] = Field(
        default_factory=list, max_length=5, description="Customer types it is written for; empty = all."
    )


class EntryPatch(RequestModel):
    """Changed fields of an entry (absent: unchanged) and the version they were made against."""

    version: int = Field(ge=1, description="The version you edited (from the entry you read).")
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, max_length=20_000)
    tags: list[Tag] | None = Field(None, max_length=30)
    skus: list[Key] | None = Field(None, max_length=50)
    indications: list[Key] | None = Field(None, max_length=50)
    source: str | None = Field(None, max_length=500)
    category: ObjectionCategory | None = Field(None, description="Send null to leave it; see `clear_category`.")
    clear_category: bool = Field(False, description="Remove the category.")
    customer_types: list[CustomerType] | None = Field(None, max_length=5, description="Empty list = all types.")


class TransitionIn(RequestModel):
    """A workflow step on the version it was decided on, with an optional note for the audit trail."""

    version: int = Field(ge=1)
    note: str | None = Field(None, max_length=1000)
    clear_note: bool = Field(
        False, description="publish: clear the formulary note in the same step (you checked the text against it)."
    )


class VersionOut(BaseModel):
    """One version of an entry: the published (or working) text, and the pending revision it had, if any."""

    version: int
    title: str
    body: str
    tags: list[str]
    status: EntryStatus
    author: str | None = None
    updated_at: UtcDatetime | None = None
    revision: RevisionOut | None = None


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
    pending: bool = Field(False, description="True: `to` is the pending revision, not a stored version.")
    title: list[DiffLineOut]
    body: list[DiffLineOut]


def _revision(entry: Entry | EntryVersion) -> RevisionOut | None:
    rev = curation.Revision.model_validate_json(entry.revision) if entry.revision else None
    return None if rev is None else RevisionOut.model_validate(rev.model_dump())


def _outs(state: ServiceState, tenant: str, entries: list[Entry], role: str = "trainer") -> list[EntryOut]:
    found = curation.links(state.store, tenant, [e.id for e in entries])
    out = []
    for e in entries:
        data = e.model_dump(exclude={"tenant", "revision"})
        curator = role != "rep"
        out.append(
            EntryOut(
                **data,
                skus=found[e.id][0],
                indications=found[e.id][1],
                revision=_revision(e) if curator else None,
                last_editor=curation.person(curation.last_editor(e)) if curator else None,
            )  # fmt: skip
        )
    return out


def _out(state: ServiceState, tenant: str, entry: Entry, role: str = "trainer") -> EntryOut:
    return _outs(state, tenant, [entry], role)[0]


def _visible(entry: Entry | None, role: str) -> bool:
    return entry is not None and (role != "rep" or entry.status == "published")


def _actor(key: Any) -> str:
    """The audit trail's actor: the key's name (the person or program it was issued to)."""
    return str(key.name)


@router.get("", summary="List entries by status, kind, product or text")
def list_entries(
    key: Reader,
    state: State,
    status_: Annotated[EntryStatus | None, Query(alias="status", description="stale: the review queue.")] = None,
    kind: EntryKind | None = None,
    sku: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=100, description="Substring of title or body.")] = None,
    category: Annotated[ObjectionCategory | None, Query(description="Objection category.")] = None,
    customer_type: Annotated[
        CustomerType | None, Query(description="Entries written for this type (or for all types).")
    ] = None,
    noted: Annotated[bool, Query(description="Only entries with a formulary note (the review queue).")] = False,
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
    if category:
        found = [e for e in found if e.category == category]
    if customer_type:
        found = [e for e in found if not e.customer_types or customer_type in e.customer_types]
    if noted:
        found = [e for e in found if e.stale_reason and e.status != "retired"]
    page = found[offset : offset + limit]
    return EntryPage(total=len(found), items=_outs(state, key.tenant, page, key.role))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a draft entry", dependencies=[WriteSlot])
def create_entry(body: EntryCreate, key: Curator, state: State) -> EntryOut:
    """A new draft at version 1, with its ABOUT links and an audit record."""
    entry = state.tenant(key.tenant).create_entry(
        actor=_actor(key), kind=body.kind, title=body.title, body=body.body, tags=body.tags, skus=body.skus,
        indications=body.indications, source=body.source, category=body.category,
        customer_types=body.customer_types,
    )  # fmt: skip
    return _out(state, key.tenant, entry)


@router.get("/{entry_id}", summary="One entry")
def get_entry(entry_id: EntryId, key: Reader, state: State) -> EntryOut:
    """The entry with its links; 404 when absent, of another tenant, or (for reps) not published."""
    entry = state.store.get_node(key.tenant, Entry, entry_id)
    if entry is None or not _visible(entry, key.role):
        raise NotFoundError(f"no entry {entry_id}", details={"id": entry_id})
    return _out(state, key.tenant, entry, key.role)


@router.patch("/{entry_id}", summary="Edit an entry (optimistic locking)", dependencies=[WriteSlot])
def edit_entry(entry_id: EntryId, body: EntryPatch, key: Curator, state: State) -> EntryOut:
    """Change text, tags or links; 409 ``version_conflict`` when someone saved since ``version``.

    Editing a published entry makes (or updates) its pending ``revision``: reps keep reading the published text until
    the revision is submitted and published by someone else; then it replaces the published text in one step.
    """
    edit = EntryEdit(title=body.title, body=body.body, tags=body.tags, skus=body.skus,
                     indications=body.indications, source=body.source, category=body.category,
                     clear_category=body.clear_category, customer_types=body.customer_types)  # fmt: skip
    entry = state.tenant(key.tenant).edit_entry(entry_id, actor=_actor(key), expected_version=body.version, edit=edit)
    return _out(state, key.tenant, entry)


def _transition(entry_id: str, body: TransitionIn, key: Any, state: ServiceState, action: curation.Action) -> EntryOut:
    entry = state.tenant(key.tenant).transition(entry_id, action, actor=_actor(key), expected_version=body.version,
                                                note=body.note, clear_note=body.clear_note)  # fmt: skip
    return _out(state, key.tenant, entry)


@router.post("/{entry_id}/submit", summary="Submit a draft for review", dependencies=[WriteSlot])
def submit(entry_id: EntryId, body: TransitionIn, key: Curator, state: State) -> EntryOut:
    """Draft or stale → in_review."""
    return _transition(entry_id, body, key, state, "submit")


@router.post(
    "/{entry_id}/publish",
    summary="Approve and publish (four eyes)",
    dependencies=[WriteSlot],
    responses={403: {"description": "four_eyes_required: you last edited this text; another trainer publishes it."},
               409: {"description": "invalid_transition (not in review), formulary_note_open, version_conflict."}},
)  # fmt: skip
def publish(entry_id: EntryId, body: TransitionIn, key: Curator, state: State) -> EntryOut:
    """in_review → published (or a pending revision in review replaces the published text).

    Refused with 403 ``four_eyes_required`` when the caller is the text's last editor (setting ``SKG_FOUR_EYES``),
    and with 409 ``formulary_note_open`` while a formulary note is on the entry (unless ``clear_note``).
    """
    return _transition(entry_id, body, key, state, "publish")


@router.post("/{entry_id}/confirm", summary="Clear a formulary note: the text is still right", dependencies=[WriteSlot])
def confirm(entry_id: EntryId, body: TransitionIn, key: Curator, state: State) -> EntryOut:
    """Clears the note; a withdrawn (stale) entry confirmed as still right is published again (four eyes)."""
    return _transition(entry_id, body, key, state, "confirm")


@router.post("/{entry_id}/withdraw", summary="Withdraw a published entry from reps", dependencies=[WriteSlot])
def withdraw(entry_id: EntryId, body: TransitionIn, key: Curator, state: State) -> EntryOut:
    """Published → stale: reps stop seeing it until it is corrected, reviewed and published again."""
    return _transition(entry_id, body, key, state, "withdraw")


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
    fields = set(VersionOut.model_fields) - {"revision"}
    rows = [VersionOut(**v.model_dump(include=fields), revision=_revision(v)) for v in versions]
    rows.append(VersionOut(**current.model_dump(include=fields), revision=_revision(current)))
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
    pending: Annotated[
        bool, Query(description="Compare the published text of version `from` with the pending revision.")
    ] = False,
) -> DiffOut:
    """Sentence-level differences of title and body from one version to another, or to the pending revision."""
    current = curation.get_entry(state.store, key.tenant, entry_id)
    to_v = to_version or current.version
    old_title, old_body = curation.version_text(state.store, key.tenant, entry_id, from_version)
    if pending:
        rev = curation.revision_of(current)
        if rev is None:
            raise NotFoundError(f"entry {entry_id} has no pending revision", details={"id": entry_id})
        new_title, new_body = rev.title, rev.body
    else:
        new_title, new_body = curation.version_text(state.store, key.tenant, entry_id, to_v)

    def lines(a: str, b: str) -> list[DiffLineOut]:
        return [DiffLineOut(op=d.op, old=d.old, new=d.new) for d in curation.text_diff(a, b)]

    return DiffOut(entry_id=entry_id, from_version=from_version, to_version=to_v, pending=pending,
                   title=lines(old_title, new_title), body=lines(old_body, new_body))  # fmt: skip
