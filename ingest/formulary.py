"""Formulary editions: load official NRDL files, compare two editions, apply an edition to the company's products.

Applying an edition puts every product of the tenant in exactly one state for it (`resolution.nrdl_match`): matched
(a ``LISTED_IN`` edge with the row's section, number, name, form, category, restriction and payment standard), not
listed or waiting for review (a ``STATUS_IN`` edge with the reason and the candidate rows). A person's decisions in
the review queue (`confirm_row`, `mark_not_listed`) are kept as ``FormularyDecision`` nodes and reused when the next
edition is applied. Every write is one `GraphStore.load_batch` transaction with its change-log record.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from graph.errors import NotFoundError
from graph.frames import models_to_table
from graph.model import Edge, FormularyDecision, FormularyEdition, FormularyStatus, ListedIn, Node, Product
from graph.ports import ChangeDraft, GraphStore
from ingest.errors import FormatError, IngestError
from ingest.nrdl import DrugChange, FormularyDiff, NrdlDrug, diff_editions, load_nrdl_pdf, load_nrdl_xlsx
from resolution.errors import UnknownRowError
from resolution.lexicon import BrandLexicon
from resolution.nrdl_match import Candidate, Decision, FormularyMatcher, RowRef
from resolution.text import compact

KindFilter = Literal["western", "tcm", "all"]


def load_edition(paths: Sequence[Path], edition: str, *, kind: KindFilter = "all") -> list[NrdlDrug]:
    """Every drug row of an edition given as one or more official files (XLSX or PDF)."""
    drugs: list[NrdlDrug] = []
    for path in paths:
        suffix = path.suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            drugs += load_nrdl_xlsx(path, edition)
        elif suffix == ".pdf":
            drugs += load_nrdl_pdf(path, edition)
        else:
            raise FormatError(f"{path}: an official formulary file is .xlsx or .pdf")
    return [d for d in drugs if kind == "all" or d.kind == kind]


def diff_files(
    old: Sequence[Path],
    new: Sequence[Path],
    *,
    kind: KindFilter = "all",
    old_edition: str = "old",
    new_edition: str = "new",
) -> FormularyDiff:
    """Compare two editions given as files; ``kind`` restricts both to western or TCM drugs."""
    return diff_editions(load_edition(old, old_edition, kind=kind), load_edition(new, new_edition, kind=kind))


def _drug(d: NrdlDrug) -> dict[str, Any]:
    return {
        "name": d.name,
        "dosage_form": d.dosage_form,
        "section": d.section,
        "number": d.number,
        "category": d.category,
        "restriction": d.restriction,
        "payment_standard": "*" if d.payment_standard_confidential else d.payment_standard,
        "source": d.source,
    }


def _change(c: DrugChange) -> dict[str, Any]:
    return {"old": _drug(c.old), "new": _drug(c.new)}


def diff_as_json(diff: FormularyDiff) -> dict[str, Any]:
    """The diff as plain data: counts and every row of every list but ``matched``."""
    return {
        "counts": diff.counts(),
        "added": [_drug(d) for d in diff.added],
        "removed": [_drug(d) for d in diff.removed],
        "category_changed": [_change(c) for c in diff.category_changed],
        "restriction_changed": [_change(c) for c in diff.restriction_changed],
        "payment_standard_changed": [_change(c) for c in diff.payment_standard_changed],
        "section_changed": [_change(c) for c in diff.section_changed],
        "renamed": [_change(c) for c in diff.renamed],
    }


StateName = Literal["matched", "not_listed", "review", "unchecked"]


class ReviewStateError(IngestError):
    """A review-queue action that the product's current state does not allow (e.g. confirming a matched product)."""

    code = "invalid_state"


@dataclass
class ApplyReport:
    """What applying an edition did: every product's state counted, the review queue, what changed since last time."""

    edition_id: str
    drugs: int
    products: int
    states: dict[str, int] = field(default_factory=dict)
    review: list[dict[str, Any]] = field(default_factory=list)
    """Products left for a person: sku, name, reason, explanation, candidate rows."""
    reused_decisions: int = 0
    unmatched_products: list[str] = field(default_factory=list)
    """Products listed in another edition and not matched in this one (candidates for "removed from the list")."""
    effective_date: dt.date | None = None
    seconds: float = 0.0

    @property
    def tagged(self) -> int:
        """Products matched to a row (``LISTED_IN``)."""
        return self.states.get("matched", 0)

    @property
    def untagged(self) -> int:
        """Products listed before and not matched now."""
        return len(self.unmatched_products)


def row_key(section: str | None, name: str | None, dosage_form: str | None) -> str:
    """A row's identity across editions: section, name and form (numbers change from one edition to the next)."""
    return "|".join(compact(x or "") for x in (section, name, dosage_form))


def _candidates_json(cands: Sequence[Candidate]) -> str:
    return json.dumps(
        [
            {
                "identity": c.row.identity,
                "section": c.row.section,
                "number": c.row.number,
                "name": c.row.name,
                "dosage_form": c.row.dosage_form,
                "category": c.row.category,
                "restriction": c.row.restriction,
                "payment_standard": c.row.payment_standard,
                "why": c.why,
            }
            for c in cands[:8]
        ],
        ensure_ascii=False,
    )


def _listed(tenant: str, sku: str, edition_id: str, row: RowRef, reason: str, decided_by: str) -> ListedIn:
    return ListedIn(
        tenant=tenant,
        sku=sku,
        edition_id=edition_id,
        category="甲" if row.category == "甲" else "乙" if row.category == "乙" else None,
        restriction=row.restriction,
        payment_standard=row.payment_standard,
        code=row.number,
        section=row.section,
        nrdl_name=row.name,
        dosage_form=row.dosage_form,
        match_reason=reason[:500],
        decided_by=decided_by,
    )


def _reuse(decision: Decision, person: FormularyDecision, matcher: FormularyMatcher) -> Decision:
    """A person's earlier decision applied to this edition (see `FormularyDecision`)."""
    who = f"{person.actor}（{person.edition_id}）"
    if person.state == "matched":
        row = matcher.find_row(person.section or "", person.nrdl_name or "", person.dosage_form)
        if row is not None:
            return Decision("matched", "confirmed", f"{who}确认的目录行", row, (), decision.parsed)
        return Decision(
            "review", "confirmed_row_gone",
            f"{who}确认的目录行（{person.section} {person.nrdl_name} {person.dosage_form or ''}）不在本版目录中",
            candidates=decision.candidates
            or ((Candidate(decision.row, decision.explanation),) if decision.row else ()),
            parsed=decision.parsed,
        )  # fmt: skip
    if decision.state == "matched" and decision.row is not None:
        if row_key(decision.row.section, decision.row.name, decision.row.dosage_form) not in person.rejected:
            return Decision(
                "review", "new_row_for_not_listed",
                f"{who}标为不在目录；本版目录有相符的行：{decision.row.label()}",
                candidates=(Candidate(decision.row, decision.explanation),), parsed=decision.parsed,
            )  # fmt: skip
    return Decision("not_listed", person.reason or "not_listed", f"{who}标为不在目录", parsed=decision.parsed)


def _table(model: type[Node] | type[Edge], rows: Sequence[Node | Edge]) -> pa.Table:
    return models_to_table(model, rows).drop_columns(["tenant"])


def _pairs(rows: Sequence[tuple[str, str]]) -> pa.Table:
    return pa.table({"sku": [r[0] for r in rows], "edition_id": [r[1] for r in rows]})


def apply_edition(
    store: GraphStore,
    tenant: str,
    drugs: Sequence[NrdlDrug],
    *,
    edition_id: str,
    name: str,
    effective_date: dt.date | None = None,
    matcher: FormularyMatcher | None = None,
    actor: str = "system",
) -> ApplyReport:
    """Put every product of the tenant in one state for an edition, in one transaction (re-applying changes nothing).

    Decisions come from `resolution.nrdl_match.FormularyMatcher` over the edition's rows, except where a person
    decided before (`FormularyDecision`, kept while the product's name is unchanged). A product that changes state
    loses its old edge of this edition in the same transaction.
    """
    t0 = time.perf_counter()
    products = list(store.catalogue(tenant).products)
    if matcher is None:
        lexicon = BrandLexicon.default()
        lexicon.add_brands((p.brand, p.generic_name) for p in products if p.brand)
        lexicon.add_makers(p.manufacturer for p in products if p.manufacturer)
        matcher = FormularyMatcher(drugs, lexicon=lexicon)
    people = {d.sku: d for d in store.nodes_by_keys(tenant, FormularyDecision, [p.sku for p in products])}
    report = ApplyReport(edition_id, len(drugs), len(products), effective_date=effective_date)
    listed: list[ListedIn] = []
    statuses: list[FormularyStatus] = []
    for product in products:
        decision = matcher.match_product(product)
        person = people.get(product.sku)
        decided_by = "rule"
        if person is not None and person.product_name == product.name:
            decision = _reuse(decision, person, matcher)
            report.reused_decisions += 1
            decided_by = f"person:{person.actor}"
        if decision.state == "matched" and decision.row is not None:
            listed.append(_listed(tenant, product.sku, edition_id, decision.row, decision.explanation, decided_by))
            continue
        state: Literal["not_listed", "review"] = "review" if decision.state == "review" else "not_listed"
        statuses.append(
            FormularyStatus(
                tenant=tenant,
                sku=product.sku,
                edition_id=edition_id,
                state=state,
                reason=decision.reason,
                explanation=decision.explanation[:1000],
                candidates=_candidates_json(decision.candidates),
                decided_by=decided_by,
            )
        )
        if state == "review":
            report.review.append(
                {
                    "sku": product.sku,
                    "name": product.name,
                    "reason": decision.reason,
                    "explanation": decision.explanation,
                    "candidates": [c.row.label() for c in decision.candidates[:5]],
                }
            )
    report.states = dict(Counter({"matched": len(listed)}) + Counter(s.state for s in statuses))
    for key in ("matched", "not_listed", "review"):
        report.states.setdefault(key, 0)
    matched = {e.sku for e in listed}
    old_listed = {e.sku for e in store.edges_of(tenant, ListedIn, targets=[edition_id])}
    old_status = {e.sku for e in store.edges_of(tenant, FormularyStatus, targets=[edition_id])}
    deletes: list[tuple[type[Edge], pa.Table]] = []
    gone_listed = sorted(old_listed - matched)
    gone_status = sorted(old_status & matched)
    if gone_listed:
        deletes.append((ListedIn, _pairs([(s, edition_id) for s in gone_listed])))
    if gone_status:
        deletes.append((FormularyStatus, _pairs([(s, edition_id) for s in gone_status])))
    edition = FormularyEdition(tenant=tenant, id=edition_id, name=name, effective_date=effective_date)
    loads: list[tuple[type[Node] | type[Edge], pa.Table]] = [(FormularyEdition, _table(FormularyEdition, [edition]))]
    if listed:
        loads.append((ListedIn, _table(ListedIn, listed)))
    if statuses:
        loads.append((FormularyStatus, _table(FormularyStatus, statuses)))
    change = ChangeDraft(
        "formulary_applied", actor=actor, ids=(edition_id,), details={"edition": edition_id, **report.states}
    )
    store.load_batch(tenant, loads, change=change, deletes=deletes)
    others = [e.id for e in store.formulary_editions(tenant) if e.id != edition_id]
    previously = {e.sku for e in store.edges_of(tenant, ListedIn, targets=others)}
    report.unmatched_products = sorted(previously - matched)
    report.seconds = time.perf_counter() - t0
    return report


# ------------------------------------------------------------------------------------------------ read-back


@dataclass(frozen=True)
class ProductFormularyState:
    """A product's state in one edition, as the API, the CLI and exports show it."""

    sku: str
    product_name: str
    edition_id: str
    state: StateName
    section: str | None = None
    number: str | None = None
    nrdl_name: str | None = None
    dosage_form: str | None = None
    category: str | None = None
    restriction: str | None = None
    payment_standard: str | None = None
    reason: str | None = None
    explanation: str | None = None
    candidates: tuple[dict[str, Any], ...] = ()
    decided_by: str | None = None


def formulary_states(
    store: GraphStore,
    tenant: str,
    *,
    edition_id: str | None = None,
    skus: Sequence[str] | None = None,
    products: Sequence[Product] | None = None,
) -> list[ProductFormularyState]:
    """Every product's state in an edition (default: the latest), or in every edition when ``skus`` are given.

    A product with neither edge in an edition is ``unchecked`` (added after the edition was applied, or the edition
    was loaded as data rather than applied): listed so that no product goes unaccounted for.
    """
    editions = [e.id for e in store.formulary_editions(tenant)]
    if edition_id is not None:
        if edition_id not in editions:
            raise NotFoundError(f"no formulary edition {edition_id}", details={"edition": edition_id})
        wanted = [edition_id]
    elif skus is not None:
        wanted = editions
    else:
        wanted = editions[-1:]
    whole = products is None and skus is None  # then every edge of the wanted editions is read, by edition
    if products is None:
        if skus is not None:
            products = store.nodes_by_keys(tenant, Product, list(skus))
        else:
            products = store.catalogue(tenant).products
    chosen = {p.sku for p in products}
    sources = None if whole else sorted(chosen)
    listed = {
        (e.sku, e.edition_id): e
        for e in store.edges_of(tenant, ListedIn, sources=sources, targets=wanted)
        if e.sku in chosen
    }
    status = {
        (e.sku, e.edition_id): e
        for e in store.edges_of(tenant, FormularyStatus, sources=sources, targets=wanted)
        if e.sku in chosen
    }
    out: list[ProductFormularyState] = []
    for p in sorted(products, key=lambda x: x.sku):
        for ed in wanted:
            li = listed.get((p.sku, ed))
            st = status.get((p.sku, ed))
            if li is not None:
                out.append(
                    ProductFormularyState(
                        p.sku, p.name, ed, "matched", li.section, li.code, li.nrdl_name, li.dosage_form, li.category,
                        li.restriction, li.payment_standard, explanation=li.match_reason, decided_by=li.decided_by,
                    )
                )  # fmt: skip
            elif st is not None:
                out.append(
                    ProductFormularyState(
                        p.sku, p.name, ed, st.state, reason=st.reason, explanation=st.explanation,
                        candidates=tuple(json.loads(st.candidates or "[]")), decided_by=st.decided_by,
                    )
                )  # fmt: skip
            else:
                out.append(ProductFormularyState(p.sku, p.name, ed, "unchecked"))
    return out


# ------------------------------------------------------------------------------------------------ review queue


def _status_edge(store: GraphStore, tenant: str, sku: str, edition_id: str) -> tuple[Product, FormularyStatus | None]:
    product = store.get_node(tenant, Product, sku)
    if product is None:
        raise NotFoundError(f"no product {sku}", details={"sku": sku})
    if store.get_node(tenant, FormularyEdition, edition_id) is None:
        raise NotFoundError(f"no formulary edition {edition_id}", details={"edition": edition_id})
    found = store.edges_of(tenant, FormularyStatus, sources=[sku], targets=[edition_id])
    return product, (found[0] if found else None)


def confirm_row(
    store: GraphStore, tenant: str, sku: str, edition_id: str, identity: str, *, actor: str, now: dt.datetime
) -> ProductFormularyState:
    """A person picks one of the candidate rows of a product in review (or not listed): it becomes matched.

    The decision is kept (`FormularyDecision`) and reused on the next edition. Raises ``NotFoundError`` for an unknown
    product or edition, `ReviewStateError` when the product has no open state with candidates, and
    ``UnknownRowError`` when ``identity`` is not one of its candidates.
    """
    product, status = _status_edge(store, tenant, sku, edition_id)
    if status is None:
        raise ReviewStateError(f"{sku} is not in review or not listed in {edition_id}", details={"sku": sku})
    cands = json.loads(status.candidates or "[]")
    chosen = next((c for c in cands if c.get("identity") == identity), None)
    if chosen is None:
        raise UnknownRowError(
            f"{identity!r} is not a candidate row of {sku}", details={"candidates": [c.get("identity") for c in cands]}
        )
    row = RowRef(
        edition_id, chosen["section"], chosen["number"], chosen["name"], chosen["dosage_form"], chosen["category"],
        chosen["restriction"], chosen["payment_standard"],
    )  # fmt: skip
    listed = _listed(tenant, sku, edition_id, row, f"{actor}确认", f"person:{actor}")
    decision = FormularyDecision(
        tenant=tenant,
        sku=sku,
        product_name=product.name,
        state="matched",
        edition_id=edition_id,
        section=row.section,
        number=row.number,
        nrdl_name=row.name,
        dosage_form=row.dosage_form,
        rejected=[row_key(c["section"], c["name"], c["dosage_form"]) for c in cands if c is not chosen],
        actor=actor,
        decided_at=now,
    )
    store.load_batch(
        tenant,
        [(ListedIn, _table(ListedIn, [listed])), (FormularyDecision, _table(FormularyDecision, [decision]))],
        change=ChangeDraft(
            "formulary_confirmed", actor=actor, ids=(sku,), details={"edition": edition_id, "row": identity}
        ),
        deletes=[(FormularyStatus, _pairs([(sku, edition_id)]))],
    )
    return formulary_states(store, tenant, edition_id=edition_id, products=[product])[0]


def mark_not_listed(
    store: GraphStore,
    tenant: str,
    sku: str,
    edition_id: str,
    *,
    reason: str,
    note: str | None,
    actor: str,
    now: dt.datetime,
) -> ProductFormularyState:
    """A person decides a product is not in the edition (from review, or overruling a match); kept for next time."""
    product, status = _status_edge(store, tenant, sku, edition_id)
    listed = store.edges_of(tenant, ListedIn, sources=[sku], targets=[edition_id])
    shown = json.loads(status.candidates or "[]") if status is not None else []
    rejected = [row_key(c["section"], c["name"], c["dosage_form"]) for c in shown]
    rejected += [row_key(e.section, e.nrdl_name, e.dosage_form) for e in listed]
    text = f"{actor}标为不在目录" + (f"：{note}" if note else "")
    edge = FormularyStatus(
        tenant=tenant, sku=sku, edition_id=edition_id, state="not_listed", reason=reason, explanation=text[:1000],
        candidates=status.candidates if status is not None else "[]", decided_by=f"person:{actor}",
    )  # fmt: skip
    decision = FormularyDecision(
        tenant=tenant, sku=sku, product_name=product.name, state="not_listed", edition_id=edition_id,
        reason=reason, rejected=sorted(set(rejected)), actor=actor, decided_at=now,
    )  # fmt: skip
    store.load_batch(
        tenant,
        [
            (FormularyStatus, _table(FormularyStatus, [edge])),
            (FormularyDecision, _table(FormularyDecision, [decision])),
        ],
        change=ChangeDraft(
            "formulary_not_listed", actor=actor, ids=(sku,), details={"edition": edition_id, "reason": reason}
        ),
        deletes=[(ListedIn, _pairs([(sku, edition_id)]))] if listed else [],
    )
    return formulary_states(store, tenant, edition_id=edition_id, products=[product])[0]
