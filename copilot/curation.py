"""Curating knowledge entries: create, edit, submit, publish, reject, retire — versioned, audited, never losing an edit.

Every write names the version it was made against; the store refuses a stale one (``VersionConflictError`` with the
stored entry), so two trainers editing the same script never overwrite each other silently. Each write keeps the
previous version and leaves an audit record of who changed what. The workflow:

    draft ──submit──▶ in_review ──publish──▶ published ──retire──▶ retired
      ▲                  │ reject                │ edit: a pending revision (draft → in_review → publish), while
      └──────────────────┘                       │       reps keep reading the published text
                                                 │ withdraw (a formulary change made a claim false)
                                                 ▼
                                               stale ──edit / submit──▶ in_review ──publish──▶ published

Rules a compliance officer signs:

- ``publish`` only from ``in_review`` (a draft or a withdrawn entry is submitted first);
- four eyes (``four_eyes``, on by default in the API): the publisher is not the last editor of the text being
  published (`FourEyesError`); confirming a withdrawn entry back to published counts as publishing;
- a formulary change never changes a draft's or an in-review entry's state: it attaches a note (``stale_reason`` with
  ``impact_*``) that the reviewer clears (``confirm``, or ``publish`` with ``clear_note``) before it can be published
  (`NoteOpenError`); a published entry whose claim became false is withdrawn (``stale``), one that is only
  incomplete stays live with the note (待复核);
- editing a published entry makes a pending revision (``Entry.revision``): the published fields stay what reps read
  (GET, retrieval, objection answers) until the revision is published, which replaces them in one versioned write.

Only ``published`` entries reach reps (retrieval filters on status).

This module is the only domain writer of entries: trainers' steps and the system's own (a formulary change marking
an entry stale, a FAQ draft made from clustered questions) all go through it, each with an audit record made by
`audit_event`. File loads (ingest) keep the store's versioned save inside their one-transaction load.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from copilot.clock import utc_now
from copilot.errors import CopilotError
from graph.errors import NotFoundError, VersionConflictError
from graph.model import AuditEvent, CustomerType, Entry, EntryKind, EntryStatus, EntryVersion, ObjectionCategory
from graph.ports import EntryLinks, GraphStore

Action = Literal["submit", "publish", "reject", "retire", "withdraw", "confirm"]

TRANSITIONS: dict[Action, tuple[frozenset[EntryStatus], EntryStatus | None]] = {
    "submit": (frozenset({"draft", "stale"}), "in_review"),
    "publish": (frozenset({"in_review"}), "published"),
    "reject": (frozenset({"in_review"}), "draft"),
    "retire": (frozenset({"draft", "in_review", "published", "stale"}), "retired"),
    "withdraw": (frozenset({"published"}), "stale"),
    "confirm": (frozenset({"draft", "in_review", "published", "stale"}), None),
}
"""For each workflow action: the statuses it may start from and the status it leads to (``None``: unchanged, but a
confirmed ``stale`` entry is published again)."""

REVISION_STEPS: dict[str, tuple[str, str]] = {"submit": ("draft", "in_review"), "reject": ("in_review", "draft")}
"""Steps of a pending revision of a published entry: from its state to the next (``publish`` from ``in_review``)."""

EDITABLE: frozenset[EntryStatus] = frozenset({"draft", "in_review", "published", "stale"})
_AUDIT_PREVIEW = 200
_LEGACY_ACTOR = re.compile(r"^(?P<name>.*) \((?:rep|trainer|admin|service), key [^)]*\)$")


class InvalidTransitionError(CopilotError):
    """The entry's status does not allow the requested action (e.g. publishing a draft that was never reviewed)."""

    code = "invalid_transition"


class FourEyesError(InvalidTransitionError):
    """The publisher is the last editor of the text: someone else must review and publish it."""

    code = "four_eyes_required"


class NoteOpenError(InvalidTransitionError):
    """A formulary change left a note on the entry that nobody has cleared yet."""

    code = "formulary_note_open"


class Revision(BaseModel):
    """A pending revision of a published entry: its text, links and review state (stored as JSON on the entry)."""

    title: str
    body: str = ""
    tags: list[str] = Field(default_factory=list)
    source: str | None = None
    category: ObjectionCategory | None = None
    customer_types: list[CustomerType] = Field(default_factory=list)
    skus: list[str] | None = Field(None, description="New ABOUT products; None: those of the published entry.")
    indications: list[str] | None = None
    status: Literal["draft", "in_review"] = "draft"
    author: str | None = None
    updated_at: dt.datetime | None = None
    base_version: int = Field(ge=1, description="The entry's version when the revision was started.")


def revision_of(entry: Entry) -> Revision | None:
    """The entry's pending revision, if it has one."""
    return Revision.model_validate_json(entry.revision) if entry.revision else None


def person(actor: str | None) -> str:
    """The person behind an actor text (older records read ``name (role, key id)``; now the key's name)."""
    text = (actor or "").strip()
    m = _LEGACY_ACTOR.match(text)
    return (m.group("name") if m else text).strip()


def last_editor(entry: Entry) -> str | None:
    """Who last wrote the text a publish would make live: the pending revision's author, else the entry's."""
    rev = revision_of(entry)
    return rev.author if rev is not None else entry.author


def check_four_eyes(entry: Entry, actor: str) -> None:
    """Refuse (`FourEyesError`) when ``actor`` is the last editor of the text to be published."""
    editor = last_editor(entry)
    if editor and person(editor) == person(actor):
        raise FourEyesError(
            f"四眼原则：{person(editor)} 是这条知识最后的编辑者，不能自己发布；请另一位培训师审核后发布。",
            details={"id": entry.id, "last_editor": person(editor), "publisher": person(actor)},
        )


def _note_fields() -> dict[str, Any]:
    return {"stale_reason": None, "impact_severity": None, "impact_sentence": None, "impact_edition": None,
            "impact_skus": []}  # fmt: skip


@dataclass(frozen=True)
class EntryEdit:
    """The fields a trainer changes; ``None`` leaves a field as it is."""

    title: str | None = None
    body: str | None = None
    tags: Sequence[str] | None = None
    skus: Sequence[str] | None = None
    indications: Sequence[str] | None = None
    source: str | None = None
    category: str | None = None
    clear_category: bool = False
    """Set the category to none (``category=None`` alone leaves it as it is)."""
    customer_types: Sequence[str] | None = None


@dataclass(frozen=True)
class DiffLine:
    """One sentence-level difference between two versions: equal, insert, delete or replace."""

    op: str
    old: str
    new: str


def _preview(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _AUDIT_PREVIEW:
        return value[:_AUDIT_PREVIEW] + "…"
    return value


def audit_event(
    tenant: str,
    actor: str,
    action: str,
    entry_id: str,
    details: dict[str, Any],
    *,
    at: dt.datetime | None = None,
    event_id: str | None = None,
) -> AuditEvent:
    """The audit record of one entry write: who, when, which action, and its details as JSON.

    ``event_id`` gives a system write an id of its own making (the same write made twice collides instead of being
    recorded twice); by default the id sorts by time and is unique across processes.
    """
    return AuditEvent(
        tenant=tenant,
        id=event_id or f"AUD-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}",
        at=dt.datetime.now(dt.UTC).replace(tzinfo=None) if at is None else at,
        actor=actor,
        action=action,
        target_label="Entry",
        target_key=entry_id,
        details=json.dumps(details, ensure_ascii=False, default=str),
    )


def _changes(old: Entry, new: Entry) -> dict[str, dict[str, Any]]:
    fields = ("title", "body", "tags", "status", "source", "stale_reason", "category", "customer_types",
              "impact_severity")  # fmt: skip
    return {
        f: {"from": _preview(getattr(old, f)), "to": _preview(getattr(new, f))}
        for f in fields
        if getattr(old, f) != getattr(new, f)
    }


def get_entry(store: GraphStore, tenant: str, entry_id: str) -> Entry:
    """The entry, or ``NotFoundError`` (also for an id of another tenant)."""
    entry = store.get_node(tenant, Entry, entry_id)
    if entry is None:
        raise NotFoundError(f"no entry {entry_id}", details={"id": entry_id})
    return entry


def links(store: GraphStore, tenant: str, entry_ids: Sequence[str]) -> dict[str, tuple[list[str], list[str]]]:
    """For each entry id: the SKUs and the indications it is ABOUT (sorted)."""
    found = store.entry_links(tenant, entry_ids)
    empty = EntryLinks()
    return {eid: (list(found.get(eid, empty).skus), list(found.get(eid, empty).indications)) for eid in entry_ids}


def create_entry(
    store: GraphStore,
    tenant: str,
    *,
    actor: str,
    kind: EntryKind,
    title: str,
    body: str = "",
    tags: Sequence[str] = (),
    skus: Sequence[str] = (),
    indications: Sequence[str] = (),
    source: str | None = None,
    entry_id: str | None = None,
    category: str | None = None,
    customer_types: Sequence[str] = (),
) -> Entry:
    """A new draft entry at version 1 (id generated unless given)."""
    now = utc_now()
    eid = entry_id or f"E-{uuid.uuid4().hex[:12].upper()}"
    entry = Entry.model_validate(
        {"tenant": tenant, "id": eid, "kind": kind, "title": title, "body": body, "tags": list(tags),
         "status": "draft", "author": actor, "updated_at": now, "source": source, "category": category,
         "customer_types": list(customer_types)}
    )  # fmt: skip
    audit = audit_event(tenant, actor, "create", eid, {"kind": kind, "title": title})
    return store.save_entry(
        tenant, entry, expected_version=None, audit=audit, skus=list(skus), indications=list(indications)
    )


def edit_entry(
    store: GraphStore, tenant: str, entry_id: str, *, actor: str, expected_version: int, edit: EntryEdit
) -> Entry:
    """Change an entry's text, tags or links; a published entry gets (or updates) a pending revision instead.

    The revision keeps the published text live for reps until it is published (see `transition`); a formulary note
    stays on the entry until a reviewer clears it.
    """
    current = get_entry(store, tenant, entry_id)
    if current.status not in EDITABLE:
        raise InvalidTransitionError(
            f"entry {entry_id} is {current.status} and cannot be edited",
            details={"id": entry_id, "status": current.status},
        )
    if current.status == "published":
        return _edit_revision(store, tenant, current, actor=actor, expected_version=expected_version, edit=edit)
    update: dict[str, Any] = {k: v for k, v in (("title", edit.title), ("body", edit.body), ("source", edit.source))
                              if v is not None}  # fmt: skip
    if edit.tags is not None:
        update["tags"] = list(edit.tags)
    if edit.category is not None or edit.clear_category:
        update["category"] = edit.category
    if edit.customer_types is not None:
        update["customer_types"] = list(edit.customer_types)
    update |= {"author": actor, "updated_at": utc_now()}
    new = Entry.model_validate({**current.model_dump(), **update})
    details = {"from_version": expected_version, "changes": _changes(current, new)}
    if edit.skus is not None or edit.indications is not None:
        details["links"] = {"skus": edit.skus, "indications": edit.indications}
    audit = audit_event(tenant, actor, "edit", entry_id, details)
    return store.save_entry(
        tenant,
        new,
        expected_version=expected_version,
        audit=audit,
        skus=None if edit.skus is None else list(edit.skus),
        indications=None if edit.indications is None else list(edit.indications),
    )


def _edit_revision(
    store: GraphStore, tenant: str, current: Entry, *, actor: str, expected_version: int, edit: EntryEdit
) -> Entry:
    """Start or change the pending revision of a published entry; the published fields are not touched."""
    before = revision_of(current)
    base = before or Revision(
        title=current.title, body=current.body, tags=list(current.tags), source=current.source,
        category=current.category, customer_types=list(current.customer_types), base_version=current.version,
    )  # fmt: skip
    update: dict[str, Any] = {k: v for k, v in (("title", edit.title), ("body", edit.body), ("source", edit.source))
                              if v is not None}  # fmt: skip
    for name, value in (("tags", edit.tags), ("customer_types", edit.customer_types), ("skus", edit.skus),
                        ("indications", edit.indications)):  # fmt: skip
        if value is not None:
            update[name] = list(value)
    if edit.category is not None or edit.clear_category:
        update["category"] = edit.category
    revision = Revision.model_validate({**base.model_dump(), **update, "author": actor, "updated_at": utc_now()})
    changes = {
        f: {"from": _preview(getattr(base, f)), "to": _preview(getattr(revision, f))}
        for f in ("title", "body", "tags", "source", "category", "customer_types", "skus", "indications")
        if getattr(base, f) != getattr(revision, f)
    }
    new = current.model_copy(update={"revision": revision.model_dump_json()})
    details = {"from_version": expected_version, "revision": {"status": revision.status, "changes": changes},
               "started": before is None}  # fmt: skip
    audit = audit_event(tenant, actor, "edit_revision", current.id, details)
    return store.save_entry(tenant, new, expected_version=expected_version, audit=audit)


def transition(
    store: GraphStore,
    tenant: str,
    entry_id: str,
    action: Action,
    *,
    actor: str,
    expected_version: int,
    note: str | None = None,
    four_eyes: bool = True,
    clear_note: bool = False,
    batch: dict[str, Any] | None = None,
) -> Entry:
    """Move an entry (or its pending revision) through the workflow, under the rules of the module docstring.

    ``clear_note`` lets a ``publish`` clear a formulary note in the same step (the reviewer read it); ``batch`` is
    recorded in the audit details of a bulk action.
    """
    current = get_entry(store, tenant, entry_id)
    if current.version != expected_version:
        raise VersionConflictError(
            f"entry {entry_id} is at version {current.version}, not {expected_version}",
            current=current,
            details={"id": entry_id, "expected": expected_version, "current": current.version},
        )
    rev = revision_of(current)
    if rev is not None and action in ("submit", "publish", "reject"):
        return _revision_step(store, tenant, current, rev, action, actor=actor, note=note, four_eyes=four_eyes,
                              clear_note=clear_note, batch=batch)  # fmt: skip
    allowed, target = TRANSITIONS[action]
    if current.status not in allowed:
        raise InvalidTransitionError(
            f"cannot {action} entry {entry_id}: it is {current.status} (allowed from {', '.join(sorted(allowed))})",
            details={"id": entry_id, "status": current.status, "action": action},
        )
    update: dict[str, Any] = {"updated_at": utc_now()}
    if action == "confirm":
        if not current.stale_reason:
            raise InvalidTransitionError(
                f"entry {entry_id} has no formulary note to confirm", details={"id": entry_id, "action": action}
            )
        if current.status == "stale":
            if four_eyes:
                check_four_eyes(current, actor)
            target = "published"
        update |= _note_fields()
    if action == "publish":
        if four_eyes:
            check_four_eyes(current, actor)
        if current.stale_reason and not clear_note:
            raise _note_open(current)
        update |= _note_fields()
    if action == "retire":
        update |= _note_fields() | {"revision": None}
    if target is not None:
        update["status"] = target
    new = current.model_copy(update=update)
    details: dict[str, Any] = {"from_version": expected_version, "changes": _changes(current, new)}
    if action in ("confirm", "publish") and current.stale_reason:
        details["cleared_note"] = {"reason": current.stale_reason, "severity": current.impact_severity,
                                   "sentence": current.impact_sentence}  # fmt: skip
    if note:
        details["note"] = note
    if batch:
        details["batch"] = batch
    audit = audit_event(tenant, actor, action, entry_id, details)
    return store.save_entry(tenant, new, expected_version=expected_version, audit=audit)


def _note_open(entry: Entry) -> NoteOpenError:
    return NoteOpenError(
        f"这条知识有医保目录变更提示，需先处理再发布：{entry.stale_reason}。核对后点“确认仍正确”（或发布时一并确认）。",
        details={"id": entry.id, "reason": entry.stale_reason, "severity": entry.impact_severity,
                 "sentence": entry.impact_sentence},
    )  # fmt: skip


def _revision_step(
    store: GraphStore,
    tenant: str,
    current: Entry,
    rev: Revision,
    action: Action,
    *,
    actor: str,
    note: str | None,
    four_eyes: bool,
    clear_note: bool,
    batch: dict[str, Any] | None,
) -> Entry:
    """Submit, reject or publish the pending revision of a published entry."""
    details: dict[str, Any] = {"from_version": current.version, "revision": True}
    if note:
        details["note"] = note
    if batch:
        details["batch"] = batch
    if action in REVISION_STEPS:
        start, to = REVISION_STEPS[action]
        if rev.status != start:
            raise InvalidTransitionError(
                f"cannot {action} the revision of entry {current.id}: it is {rev.status}",
                details={"id": current.id, "revision_status": rev.status, "action": action},
            )
        moved = rev.model_copy(update={"status": to})
        details["changes"] = {"revision_status": {"from": start, "to": to}}
        audit = audit_event(tenant, actor, action, current.id, details)
        new = current.model_copy(update={"revision": moved.model_dump_json()})
        return store.save_entry(tenant, new, expected_version=current.version, audit=audit)
    if rev.status != "in_review":
        raise InvalidTransitionError(
            f"cannot publish the revision of entry {current.id}: it is {rev.status} (submit it for review first)",
            details={"id": current.id, "revision_status": rev.status, "action": action},
        )
    if four_eyes:
        check_four_eyes(current, actor)
    if current.stale_reason and not clear_note:
        raise _note_open(current)
    update: dict[str, Any] = {
        "title": rev.title, "body": rev.body, "tags": rev.tags, "source": rev.source, "category": rev.category,
        "customer_types": rev.customer_types, "author": rev.author, "updated_at": utc_now(), "revision": None,
        "status": "published", **_note_fields(),
    }  # fmt: skip
    new = Entry.model_validate({**current.model_dump(), **update})
    details["changes"] = _changes(current, new)
    if current.stale_reason:
        details["cleared_note"] = {"reason": current.stale_reason, "severity": current.impact_severity,
                                   "sentence": current.impact_sentence}  # fmt: skip
    if rev.skus is not None or rev.indications is not None:
        details["links"] = {"skus": rev.skus, "indications": rev.indications}
    audit = audit_event(tenant, actor, "publish", current.id, details)
    return store.save_entry(tenant, new, expected_version=current.version, audit=audit, skus=rev.skus,
                            indications=rev.indications)  # fmt: skip


def mark_impact(
    store: GraphStore, tenant: str, entry: Entry, *, impact: Any, edition: str, actor: str, at: dt.datetime
) -> Entry:
    """A formulary change attaches its note to ``entry``; a published entry whose claim became false leaves reps.

    ``impact`` is a `copilot.formulary_impact.Impact` (severity, sentence, SKUs, reason). A draft, an in-review or a
    withdrawn entry keeps its state; a published one is withdrawn (``stale``) on ``withdraw`` and stays live on
    ``review``. The write is made against the version read (a trainer's edit landing meanwhile raises
    ``VersionConflictError`` and wins); the audit id names the edition, so the same note is never recorded twice.
    """
    status = "stale" if entry.status == "published" and impact.severity == "withdraw" else entry.status
    audit = audit_event(
        tenant, actor, "formulary_note", entry.id,
        {"reason": impact.reason, "severity": impact.severity, "sentence": impact.sentence, "edition": edition,
         "skus": list(impact.skus), "from": entry.version, "status": {"from": entry.status, "to": status}},
        at=at, event_id=f"{actor}:{edition}:{entry.id}:{entry.version + 1}",
    )  # fmt: skip
    marked = entry.model_copy(
        update={"status": status, "stale_reason": impact.reason, "impact_severity": impact.severity,
                "impact_sentence": impact.sentence, "impact_edition": edition, "impact_skus": list(impact.skus)}
    )  # fmt: skip
    return store.save_entry(tenant, marked, expected_version=entry.version, audit=audit)


def entries_with_note(
    store: GraphStore, tenant: str, *, sku: str | None = None, edition: str | None = None
) -> list[Entry]:
    """Entries carrying a formulary note, of one changed product and/or one change (edition), ordered by id."""
    found = [e for e in store.entries(tenant) if e.stale_reason and e.impact_severity and e.status != "retired"]
    if sku is not None:
        found = [e for e in found if sku in e.impact_skus]
    if edition is not None:
        found = [e for e in found if e.impact_edition == edition]
    return sorted(found, key=lambda e: e.id)


@dataclass
class BulkResult:
    """What a bulk action did: the entries written, and the ones left with the reason."""

    done: list[Entry]
    skipped: dict[str, str]


def bulk_action(
    store: GraphStore,
    tenant: str,
    action: Literal["confirm", "withdraw"],
    *,
    actor: str,
    sku: str | None = None,
    edition: str | None = None,
    four_eyes: bool = True,
) -> BulkResult:
    """Confirm or withdraw every noted entry of one product or one change: one versioned write and audit record each.

    ``withdraw`` applies to live (published) entries; ``confirm`` clears the notes (a withdrawn entry confirmed as
    still right is published again, under four eyes). An entry the rules refuse is skipped with the reason; an entry
    edited meanwhile is skipped too (its version moved), never overwritten.
    """
    if sku is None and edition is None:
        raise CopilotError("a bulk action needs a product (sku) or a change (edition)")
    batch = {"action": action, "sku": sku, "edition": edition, "id": f"BULK-{time.time_ns():020d}"}
    result = BulkResult([], {})
    for e in entries_with_note(store, tenant, sku=sku, edition=edition):
        if action == "withdraw" and e.status != "published":
            result.skipped[e.id] = f"not live ({e.status})"
            continue
        try:
            result.done.append(
                transition(
                    store,
                    tenant,
                    e.id,
                    action,
                    actor=actor,
                    expected_version=e.version,
                    four_eyes=four_eyes,
                    batch=batch,
                )  # fmt: skip
            )
        except (InvalidTransitionError, VersionConflictError) as err:
            result.skipped[e.id] = str(err)
    return result


def save_generated_draft(
    store: GraphStore,
    tenant: str,
    entry: Entry,
    *,
    expected_version: int | None,
    skus: Sequence[str],
    actor: str,
    action: str,
    details: dict[str, Any],
    at: dt.datetime,
    event_id: str,
) -> Entry:
    """Create (``expected_version=None``) or refresh a draft the system made (a FAQ proposal), with its ABOUT links.

    Versioned like a trainer's write: a stale ``expected_version`` raises ``VersionConflictError`` and the draft is
    left to the person who changed it.
    """
    audit = audit_event(tenant, actor, action, entry.id, details, at=at, event_id=event_id)
    return store.save_entry(tenant, entry, expected_version=expected_version, audit=audit, skus=list(skus))


def history(store: GraphStore, tenant: str, entry_id: str) -> tuple[Entry, list[EntryVersion], list[AuditEvent]]:
    """The current entry, its earlier versions (oldest first) and its audit trail."""
    current = get_entry(store, tenant, entry_id)
    return current, store.entry_versions(tenant, entry_id), store.audit_trail(tenant, "Entry", entry_id)


_SENTENCE = re.compile(r"(?<=[。！？；\n!?;])")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def text_diff(old: str, new: str) -> list[DiffLine]:
    """Sentence-level differences between two texts (Chinese sentences end in 。！？；)."""
    a, b = _sentences(old), _sentences(new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        out.append(DiffLine(op, "".join(a[i1:i2]), "".join(b[j1:j2])))
    return out


def version_text(store: GraphStore, tenant: str, entry_id: str, version: int) -> tuple[str, str]:
    """Title and body of one version of an entry (the current one or a kept earlier one)."""
    current = get_entry(store, tenant, entry_id)
    if version == current.version:
        return current.title, current.body
    kept = store.get_node(tenant, EntryVersion, f"{entry_id}@{version}")
    if kept is None:
        raise NotFoundError(f"entry {entry_id} has no version {version}", details={"id": entry_id, "version": version})
    return kept.title, kept.body
