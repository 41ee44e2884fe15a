"""Formulary editions: load official NRDL files, compare two editions, apply an edition to the company's products.

Applying an edition re-tags products: each drug row is resolved to the company's SKUs (entity resolution), and every
matched SKU gets a ``LISTED_IN`` edge to the edition with the row's category, restriction, payment standard and
number. Low-confidence matches are not applied; they are returned for review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from graph.frames import models_to_table
from graph.model import FormularyEdition, ListedIn, Product
from graph.ports import GraphStore
from ingest.errors import FormatError
from ingest.nrdl import (
    SECTION_NEGOTIATED_TCM,
    SECTION_NEGOTIATED_WESTERN,
    DrugChange,
    FormularyDiff,
    NrdlDrug,
    diff_editions,
    load_nrdl_pdf,
    load_nrdl_xlsx,
)
from ingest.resolution import ProductResolver

KindFilter = Literal["western", "tcm", "all"]
NEGOTIATED_SECTIONS = frozenset({SECTION_NEGOTIATED_WESTERN, SECTION_NEGOTIATED_TCM})


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


@dataclass
class ApplyReport:
    """What applying an edition did to a tenant's products."""

    edition_id: str
    drugs: int
    products: int
    tagged: int = 0
    untagged: int = 0
    review: list[dict[str, Any]] = field(default_factory=list)
    unmatched_products: list[str] = field(default_factory=list)
    effective_date: dt.date | None = None


def apply_edition(
    store: GraphStore,
    tenant: str,
    drugs: Sequence[NrdlDrug],
    *,
    edition_id: str,
    name: str,
    effective_date: dt.date | None = None,
    resolver: ProductResolver | None = None,
) -> ApplyReport:
    """Tag the tenant's products with their status in an edition (idempotent: re-applying changes nothing).

    Each drug row is resolved by every individual name it covers; automatic matches become ``LISTED_IN`` edges,
    ``review`` matches are reported and not applied. Products listed in another edition but matching no row of this
    one are reported as ``unmatched_products`` (candidates for "removed from the list").
    """
    products = [p for page in store.iter_nodes(tenant, Product) for p in page]
    resolver = resolver or ProductResolver(products)
    report = ApplyReport(edition_id, len(drugs), len(products), effective_date=effective_date)
    listed: dict[str, ListedIn] = {}
    negotiated: set[str] = set()
    for drug in drugs:
        names = drug.alternative_names or (drug.name,)
        for alt in names:
            res = resolver.resolve(alt, drug.dosage_form)
            if res.decision == "match":
                for sku in res.skus:
                    # A product matching an ordinary row and a negotiated (协议) row is reimbursed on the negotiated
                    # row's terms: that row wins whichever comes first; otherwise the first row does.
                    if sku in listed and (sku in negotiated or drug.section not in NEGOTIATED_SECTIONS):
                        continue
                    if drug.section in NEGOTIATED_SECTIONS:
                        negotiated.add(sku)
                    listed[sku] = ListedIn(
                        tenant=tenant,
                        sku=sku,
                        edition_id=edition_id,
                        category=drug.category,
                        restriction=drug.restriction,
                        payment_standard="*" if drug.payment_standard_confidential else drug.payment_standard,
                        code=drug.number,
                    )
            elif res.decision == "review":
                report.review.append(
                    {
                        "drug": alt,
                        "dosage_form": drug.dosage_form,
                        "source": drug.source,
                        "skus": list(res.skus),
                        "score": res.score,
                        "explanation": res.explanation,
                    }
                )
    store.upsert_nodes(
        tenant, [FormularyEdition(tenant=tenant, id=edition_id, name=name, effective_date=effective_date)]
    )
    if listed:
        store.bulk_load(tenant, ListedIn, models_to_table(ListedIn, list(listed.values())))
    report.tagged = len(listed)
    previously = {e.sku for page in store.iter_edges(tenant, ListedIn) for e in page if e.edition_id != edition_id}
    report.unmatched_products = sorted(previously - set(listed))
    report.untagged = len(report.unmatched_products)
    return report
