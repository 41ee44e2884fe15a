"""What a new formulary edition changes for the business: products, customers, and knowledge entries to review.

After a new edition is applied (`salescopilot formulary apply`), this finds the products whose status changed, the
customers who buy them or whose doctors prescribe them, and marks the entries about those products (linked by ABOUT or
naming them in their text) ``stale`` with the reason, keeping the previous version and an audit record. Re-running
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field

from pydantic import BaseModel

from copilot.errors import CopilotError
from graph.errors import VersionConflictError
from graph.model import (
    AboutProduct,
    AuditEvent,
    Entry,
    FormularyEdition,
    ListedIn,
    Prescribes,
    Product,
    WorksAt,
)
from graph.ports import GraphStore


class Change(BaseModel):
    """A formulary change of one product."""

    sku: str
    name: str
    old_edition: str | None
    new_edition: str
    detail: str


def _same_text(text: str | None) -> str:
    """Text compared without whitespace and a trailing full stop (cosmetic edits are not changes)."""
    return "".join((text or "").split()).rstrip("。.")


def latest_editions(store: GraphStore, tenant: str) -> tuple[FormularyEdition | None, FormularyEdition | None]:
    """The previous and the latest edition by effective date."""
    editions = sorted(
        (e for page in store.iter_nodes(tenant, FormularyEdition) for e in page),
        key=lambda e: e.effective_date or dt.date.min,
    )
    if not editions:
        return None, None
    return (editions[-2] if len(editions) > 1 else None), editions[-1]


def edition_changes(
    store: GraphStore, tenant: str, old: str | None, new: str, *, skus: set[str] | None = None
) -> list[Change]:
    """Products added, removed, re-categorised, or with a changed restriction or payment standard from old to new."""
    products = {p.sku: p for page in store.iter_nodes(tenant, Product) for p in page}
    listed: dict[str, dict[str, ListedIn]] = defaultdict(dict)
    for listings in store.iter_edges(tenant, ListedIn):
        for e in listings:
            if skus is None or e.sku in skus:
                listed[e.sku][e.edition_id] = e
    out = []
    for sku in sorted(listed):
        a = listed[sku].get(old) if old else None
        b = listed[sku].get(new)
        if a is None and b is None:
            continue
        if a is None:
            if old is None:
                continue
            detail = f"新进入目录（{b.category or ''}类）" if b else ""
        elif b is None:
            detail = "已调出目录"
        elif a.category != b.category:
            detail = f"{a.category}类 → {b.category}类"
        elif _same_text(a.restriction) != _same_text(b.restriction):
            detail = f"限定支付范围变化：{a.restriction or '无'} → {b.restriction or '无'}"
        elif _same_text(a.payment_standard) != _same_text(b.payment_standard):
            detail = f"支付标准变化：{a.payment_standard or '无'} → {b.payment_standard or '无'}"
        else:
            continue
        p = products.get(sku)
        name = ((p.brand + " ") if p and p.brand else "") + (p.name if p else sku)
        out.append(Change(sku=sku, name=name, old_edition=old, new_edition=new, detail=detail))
    return out


@dataclass
class ImpactReport:
    """What the edition change touches."""

    old_edition: str | None
    new_edition: str
    changes: list[Change] = field(default_factory=list)
    customers: dict[str, list[str]] = field(default_factory=dict)
    stale_entries: dict[str, str] = field(default_factory=dict)
    already_stale: int = 0
    conflicts: list[str] = field(default_factory=list)
    seconds: float = 0.0


def formulary_impact(
    store: GraphStore,
    tenant: str,
    *,
    old: str | None = None,
    new: str | None = None,
    today: dt.date,
    actor: str = "formulary-impact",
    dry_run: bool = False,
) -> ImpactReport:
    """Changed products, affected customers (buyers in the last year, or via their doctors), entries marked stale."""
    t0 = time.perf_counter()
    if new is None:
        prev, latest = latest_editions(store, tenant)
        if latest is None:
            raise CopilotError("no formulary edition in the graph: apply one first")
        old, new = (prev.id if prev else None), latest.id
    changes = edition_changes(store, tenant, old, new)
    report = ImpactReport(old, new, changes)
    changed = {c.sku: c for c in changes}
    since = today - dt.timedelta(days=365)
    from graph.ports import PriceHistoryFilter

    customers: dict[str, set[str]] = defaultdict(set)
    for sku in changed:
        for line in store.price_history(tenant, sku, PriceHistoryFilter(date_from=since)):
            customers[line.customer_id].add(sku)
    works_at = {w.doctor_id: w.customer_id for batch in store.iter_edges(tenant, WorksAt) for w in batch}
    for prescriptions in store.iter_edges(tenant, Prescribes):
        for pr in prescriptions:
            if pr.sku in changed and pr.doctor_id in works_at:
                customers[works_at[pr.doctor_id]].add(pr.sku)
    report.customers = {c: sorted(s) for c, s in sorted(customers.items())}
    products = {p.sku: p for page in store.iter_nodes(tenant, Product) for p in page}
    names = {
        sku: {n for n in (p.name, p.generic_name, p.brand) if n and len(n) >= 2}
        for sku, p in products.items()
        if sku in changed
    }
    about: dict[str, set[str]] = defaultdict(set)
    for abouts in store.iter_edges(tenant, AboutProduct):
        for ab in abouts:
            if ab.sku in changed:
                about[ab.entry_id].add(ab.sku)
    now = dt.datetime.combine(today, dt.time())
    for entries in store.iter_nodes(tenant, Entry):
        for e in entries:
            if e.status == "retired":
                continue
            hit = set(about.get(e.id, set()))
            text = f"{e.title}\n{e.body}"
            hit |= {sku for sku, ns in names.items() if any(n in text for n in ns)}
            if not hit:
                continue
            reason = (
                f"医保目录 {new}：" + "；".join(f"{changed[s].name} {changed[s].detail}" for s in sorted(hit))[:500]
            )
            if e.status == "stale" and e.stale_reason == reason:
                report.already_stale += 1
                continue
            report.stale_entries[e.id] = reason
            if dry_run:
                continue
            audit = AuditEvent(
                tenant=tenant,
                id=f"{actor}:{new}:{e.id}:{e.version + 1}",
                at=now,
                actor=actor,
                action="mark_stale",
                target_label="Entry",
                target_key=e.id,
                details=json.dumps({"reason": reason, "from": e.version}, ensure_ascii=False),
            )
            stale = e.model_copy(update={"status": "stale", "stale_reason": reason, "updated_at": now})
            try:  # one versioned write per entry: a trainer's concurrent edit is never overwritten
                store.save_entry(tenant, stale, expected_version=e.version, audit=audit)
            except VersionConflictError:
                report.conflicts.append(e.id)
    report.seconds = time.perf_counter() - t0
    return report
