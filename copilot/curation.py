"""Curating knowledge entries: create, edit, submit, publish, reject, retire — versioned, audited, never losing an edit.

Every write names the version it was made against; the store refuses a stale one (``VersionConflictError`` with the
stored entry), so two trainers editing the same script never overwrite each other silently. Each write keeps the
previous version and leaves an audit record of who changed what. The workflow:

    draft ──submit──▶ in_review ──publish──▶ published ──retire──▶ retired
      ▲                  │ reject                │ edit → draft (re-reviewed before reps see it again)
      └──────────────────┘                       ▼
    stale (a formulary change touched it) ──publish (confirmed still right) / edit / submit / retire

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

from copilot.errors import CopilotError
from graph.errors import NotFoundError
from graph.model import AuditEvent, Entry, EntryKind, EntryStatus, EntryVersion
from graph.ports import EntryLinks, GraphStore

Action = Literal["submit", "publish", "reject", "retire"]

TRANSITIONS: dict[Action, tuple[frozenset[EntryStatus], EntryStatus]] = {
    "submit": (frozenset({"draft", "stale"}), "in_review"),
    "publish": (frozenset({"in_review", "stale"}), "published"),
    "reject": (frozenset({"in_review"}), "draft"),
    "retire": (frozenset({"draft", "in_review", "published", "stale"}), "retired"),
}
"""For each workflow action: the statuses it may start from and the status it leads to."""

EDITABLE: frozenset[EntryStatus] = frozenset({"draft", "in_review", "published", "stale"})
_AUDIT_PREVIEW = 200


class InvalidTransitionError(CopilotError):
    """The entry's status does not allow the requested action (e.g. publishing a draft that was never reviewed)."""

    code = "invalid_transition"


@dataclass(frozen=True)
class EntryEdit:
    """The fields a trainer changes; ``None`` leaves a field as it is."""

    title: str | None = None
    body: str | None = None
    tags: Sequence[str] | None = None
    skus: Sequence[str] | None = None
    indications: Sequence[str] | None = None
    source: str | None = None


@dataclass(frozen=True)
class DiffLine:
    """One sentence-level difference between two versions: equal, insert, delete or replace."""

    op: str
    old: str
    new: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


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
    fields = ("title", "body", "tags", "status", "source", "stale_reason")
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
) -> Entry:
    """A new draft entry at version 1 (id generated unless given)."""
    now = _now()
    eid = entry_id or f"E-{uuid.uuid4().hex[:12].upper()}"
    entry = Entry(tenant=tenant, id=eid, kind=kind, title=title, body=body, tags=list(tags), status="draft",
                  author=actor, updated_at=now, source=source)  # fmt: skip
    audit = audit_event(tenant, actor, "create", eid, {"kind": kind, "title": title})
    return store.save_entry(
        tenant, entry, expected_version=None, audit=audit, skus=list(skus), indications=list(indications)
    )


def edit_entry(
    store: GraphStore, tenant: str, entry_id: str, *, actor: str, expected_version: int, edit: EntryEdit
) -> Entry:
    """Change an entry's text, tags or links; a published entry goes back to draft for review."""
    current = get_entry(store, tenant, entry_id)
    if current.status not in EDITABLE:
        raise InvalidTransitionError(
            f"entry {entry_id} is {current.status} and cannot be edited",
            details={"id": entry_id, "status": current.status},
        )
    update: dict[str, Any] = {k: v for k, v in (("title", edit.title), ("body", edit.body), ("source", edit.source))
                              if v is not None}  # fmt: skip
    if edit.tags is not None:
        update["tags"] = list(edit.tags)
    if current.status == "published":
        update["status"] = "draft"
    update |= {"author": actor, "updated_at": _now()}
    new = current.model_copy(update=update)
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


def transition(
    store: GraphStore,
    tenant: str,
    entry_id: str,
    action: Action,
    *,
    actor: str,
    expected_version: int,
    note: str | None = None,
) -> Entry:
    """Move an entry through the workflow (submit, publish, reject, retire); publishing clears a stale reason."""
    current = get_entry(store, tenant, entry_id)
    allowed, target = TRANSITIONS[action]
    if current.status not in allowed:
        raise InvalidTransitionError(
            f"cannot {action} entry {entry_id}: it is {current.status} (allowed from {', '.join(sorted(allowed))})",
            details={"id": entry_id, "status": current.status, "action": action},
        )
    update: dict[str, Any] = {"status": target, "updated_at": _now()}
    if target in ("published", "retired"):
        update["stale_reason"] = None
    new = current.model_copy(update=update)
    details: dict[str, Any] = {"from_version": expected_version, "changes": _changes(current, new)}
    if note:
        details["note"] = note
    audit = audit_event(tenant, actor, action, entry_id, details)
    return store.save_entry(tenant, new, expected_version=expected_version, audit=audit)


def mark_stale(
    store: GraphStore, tenant: str, entry: Entry, *, reason: str, edition: str, actor: str, at: dt.datetime
) -> Entry:
    """A formulary change puts ``entry`` up for review: status ``stale`` with the reason, versioned and audited.

    The write is made against the version read (a trainer's edit landing meanwhile raises
    ``VersionConflictError`` and wins); the audit id names the edition, so the same mark is never recorded twice.
    """
    audit = audit_event(
        tenant, actor, "mark_stale", entry.id, {"reason": reason, "from": entry.version}, at=at,
        event_id=f"{actor}:{edition}:{entry.id}:{entry.version + 1}",
    )  # fmt: skip
    stale = entry.model_copy(update={"status": "stale", "stale_reason": reason, "updated_at": at})
    return store.save_entry(tenant, stale, expected_version=entry.version, audit=audit)


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
