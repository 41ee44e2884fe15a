"""What a new formulary edition changes for the business: products, customers, and knowledge entries to review.

After a new edition is applied (`salescopilot formulary apply`), this finds the products whose status changed, the
customers who buy them or whose doctors prescribe them, and marks the entries about those products (linked by ABOUT or
naming them in their text) ``stale`` with the reason, keeping the previous version and an audit record. Re-running
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from copilot import curation
from copilot.errors import CopilotError
from graph.errors import VersionConflictError
from graph.model import AboutProduct, Entry, FormularyEdition, ListedIn, Prescribes, Product, WorksAt
from graph.ports import GraphStore, PriceHistoryFilter

BUYERS_WINDOW_DAYS = 365
"""A customer who bought a changed product within this many days is affected."""
MIN_NAME_CHARS = 2
"""Shorter product names are not looked for in entry texts (one character names too much)."""
REASON_CHARS = 500
"""Longest list of changes a stale reason quotes (after the edition's name)."""


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
    editions = store.formulary_editions(tenant)
    if not editions:
        return None, None
    return (editions[-2] if len(editions) > 1 else None), editions[-1]


def edition_changes(
    store: GraphStore, tenant: str, old: str | None, new: str, *, skus: set[str] | None = None
) -> list[Change]:
    """Products added, removed, re-categorised, or with a changed restriction or payment standard from old to new."""
    listed: dict[str, dict[str, ListedIn]] = defaultdict(dict)
    sources = sorted(skus) if skus is not None else None
    for e in store.edges_of(tenant, ListedIn, sources=sources, targets=[x for x in (old, new) if x]):
        listed[e.sku][e.edition_id] = e
    found: list[tuple[str, str]] = []
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
        found.append((sku, detail))
    products = {p.sku: p for p in store.nodes_by_keys(tenant, Product, [sku for sku, _ in found])}
    out = []
    for sku, detail in found:
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
    report.customers = _affected_customers(store, tenant, sorted(changed), today)
    now = dt.datetime.combine(today, dt.time())
    for e, hit in _entries_to_review(store, tenant, changed):
        touched = "；".join(f"{changed[s].name} {changed[s].detail}" for s in sorted(hit))
        reason = f"医保目录 {new}：" + touched[:REASON_CHARS]
        if e.status == "stale" and e.stale_reason == reason:
            report.already_stale += 1
            continue
        report.stale_entries[e.id] = reason
        if dry_run:
            continue
        try:  # one versioned write per entry: a trainer's concurrent edit is never overwritten
            curation.mark_stale(store, tenant, e, reason=reason, edition=new, actor=actor, at=now)
        except VersionConflictError:
            report.conflicts.append(e.id)
    report.seconds = time.perf_counter() - t0
    return report


def _affected_customers(store: GraphStore, tenant: str, skus: list[str], today: dt.date) -> dict[str, list[str]]:
    """Customer → the changed SKUs it bought within the window or its doctors prescribe (sorted)."""
    customers: dict[str, set[str]] = defaultdict(set)
    since = today - dt.timedelta(days=BUYERS_WINDOW_DAYS)
    for sku in skus:
        for line in store.price_history(tenant, sku, PriceHistoryFilter(date_from=since)):
            customers[line.customer_id].add(sku)
    prescriptions = store.edges_of(tenant, Prescribes, targets=skus) if skus else []
    doctors = sorted({pr.doctor_id for pr in prescriptions})
    works_at = {w.doctor_id: w.customer_id for w in store.edges_of(tenant, WorksAt, sources=doctors)} if doctors else {}
    for pr in prescriptions:
        if pr.doctor_id in works_at:
            customers[works_at[pr.doctor_id]].add(pr.sku)
    return {c: sorted(s) for c, s in sorted(customers.items())}


def _entries_to_review(store: GraphStore, tenant: str, changed: Mapping[str, Change]) -> list[tuple[Entry, set[str]]]:
    """Entries (not retired) about a changed product or naming one in their text, with the SKUs each touches."""
    if not changed:
        return []
    skus = sorted(changed)
    about: dict[str, set[str]] = defaultdict(set)
    for ab in store.edges_of(tenant, AboutProduct, targets=skus):
        about[ab.entry_id].add(ab.sku)
    names = {
        p.sku: {n for n in (p.name, p.generic_name, p.brand) if n and len(n) >= MIN_NAME_CHARS}
        for p in store.nodes_by_keys(tenant, Product, skus)
    }
    found = {e.id: e for e in store.nodes_by_keys(tenant, Entry, sorted(about))}
    found.update((e.id, e) for e in store.entries_naming(tenant, sorted({n for ns in names.values() for n in ns})))
    out = []
    for e in sorted(found.values(), key=lambda e: e.id):
        if e.status == "retired":
            continue
        text = f"{e.title}\n{e.body}"
        hit = set(about.get(e.id, set())) | {sku for sku, ns in names.items() if any(n in text for n in ns)}
        if hit:
            out.append((e, hit))
    return out
