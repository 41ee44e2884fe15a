"""The demo dataset: two companies of one pharma distribution group, deterministic for a seed, a scale and a date.

``build_demo(seed=7, scale=1, as_of=...)`` returns, per tenant, one Arrow table per graph model class (keyed by the
class name, e.g. ``"Product"``, ``"Purchased"``), with the model's columns except ``tenant``. The ingest pipeline adds
the tenant and loads them. Scale 1 is about 100,000 order lines over both tenants, scale 20 about 2,000,000.

The product catalogue (127 SKUs with their real 2022 and 2024 national formulary status) is shared; customers, reps,
doctors, orders, deals, contracts, interactions and knowledge entries are each tenant's own. ``truth`` records what
was planted for the other parts to find: near-duplicate customers, abnormal quote lines, purchase gaps, scripts
written under the 2022 formulary, and the next-action tasks due as of the date (``demo.task_plants`` plants them,
``demo.task_truth`` lists every one the data holds).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from demo.catalog import (
    Competitor,
    competitor_tables,
    competitors,
    formulary_tables,
    indication_tables,
    load_catalog,
    product_table,
)
from demo.interactions import interactions
from demo.knowledge import (
    PRODUCT_NOTES,
    RENEWAL_SCRIPTS,
    EntryDraft,
    Writer,
    case_studies,
    faqs,
    general_scripts,
    objection_scripts,
    product_note,
)
from demo.orders import build_contracts, build_deals, build_orders
from demo.parties import Customer, customers, doctors, reps
from demo.task_plants import Planting, plant, regap
from demo.task_truth import task_labels
from demo.vocab import TENANTS, TenantSpec

Tables = dict[str, pa.Table]
Truth = dict[str, list[tuple[str, ...]]]

# one independent random stream per part, so adding a part never shifts another
_STREAMS = (
    "competitors",
    "customers",
    "reps",
    "doctors",
    "orders",
    "contracts",
    "deals",
    "texts",
    "interactions",
    "general",
    "tasks",
    "renewal",
)


@dataclass(frozen=True)
class DemoDataset:
    """The generated data: per tenant, graph model class name → Arrow table (without the ``tenant`` column)."""

    as_of: dt.date
    tenants: dict[str, Tables]
    truth: dict[str, Truth] = field(default_factory=dict)
    """Per tenant: ``near_duplicates`` (copy id, original id), ``quote_anomalies`` (deal id, SKU, too_low|too_high),
    ``purchase_gaps`` (customer id, SKU), ``legacy_scripts`` (entry id,) citing the 2022 formulary as current;
    ``tasks`` (trigger, customer id, subject, detail): every next-action task due as of ``as_of``, with
    ``task_near_misses``, ``task_planted`` and ``task_ambiguous`` (see ``eval/datasets/next_actions/README.md``)."""


def build_demo(*, seed: int = 7, scale: int = 1, as_of: dt.date) -> DemoDataset:
    """Build the demo dataset; the same ``seed``, ``scale`` and ``as_of`` always give identical tables."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    out: dict[str, Tables] = {}
    truth: dict[str, Truth] = {}
    for number, spec in enumerate(TENANTS):
        out[spec.id], truth[spec.id] = _tenant(spec, number, seed, scale, as_of)
    return DemoDataset(as_of=as_of, tenants=out, truth=truth)


def _rng(seed: int, tenant: int, part: str) -> np.random.Generator:
    return np.random.default_rng([seed, tenant, _STREAMS.index(part)])


def _tenant(spec: TenantSpec, number: int, seed: int, scale: int, as_of: dt.date) -> tuple[Tables, Truth]:
    catalog = load_catalog()
    t: Tables = {"Product": product_table(catalog)}
    t["Indication"], t["Treats"] = indication_tables(catalog)
    t["FormularyEdition"], t["ListedIn"], t["FormularyStatus"] = formulary_tables(catalog)
    comp_list = competitors(catalog, _rng(seed, number, "competitors"), as_of)
    t["CompetitorProduct"], t["CompetesWith"] = competitor_tables(comp_list)
    comps: dict[str, list[Competitor]] = {}
    for c in comp_list:
        comps.setdefault(c.sku, []).append(c)

    found = customers(spec, scale, _rng(seed, number, "customers"))
    team = reps(spec, found, _rng(seed, number, "reps"))
    docs = doctors(spec, found, catalog, _rng(seed, number, "doctors"), as_of)
    t["Customer"] = _customer_table(found)
    t["Rep"] = pa.table({"id": [r.id for r in team], "name": [r.name for r in team],
                         "territory": [r.territory for r in team]})  # fmt: skip
    owns = [(r.id, found[i].id) for r in team for i in r.customers]
    t["Owns"] = pa.table({"rep_id": [o[0] for o in owns], "customer_id": [o[1] for o in owns]})
    t["Doctor"] = pa.table(
        {
            "id": [d.id for d in docs],
            "name": [d.name for d in docs],
            "department": [d.department for d in docs],
            "title": [d.title for d in docs],
        }
    )
    t["WorksAt"] = pa.table({"doctor_id": [d.id for d in docs], "customer_id": [found[d.customer].id for d in docs]})
    rx = [(d.id, catalog[j].sku, share, count, last) for d in docs for j, share, count, last in d.prescribes]
    t["Prescribes"] = pa.table(
        {
            "doctor_id": [r[0] for r in rx],
            "sku": [r[1] for r in rx],
            "share": pa.array([r[2] for r in rx], pa.float64()),
            "count": pa.array([r[3] for r in rx], pa.int64()),
            "last_at": pa.array([r[4] for r in rx], pa.date32()),
        }
    )

    book, model = build_orders(catalog, found, docs, spec.code, _rng(seed, number, "orders"), as_of)
    t["Purchased"] = book.purchased
    t["Contract"], t["ContractWith"] = build_contracts(
        found, book.annual_spend, spec.code, _rng(seed, number, "contracts"), as_of
    )
    t["Deal"], t["DealFor"], t["Quotes"], anomalies = build_deals(
        catalog, found, book, model, spec.code, scale, _rng(seed, number, "deals"), as_of
    )

    contract_end: dict[str, dt.date] = {}
    ends = t["Contract"].column("end_date").to_pylist()
    for cid, end in zip(t["ContractWith"].column("customer_id").to_pylist(), ends, strict=True):
        contract_end[cid] = max(end, contract_end.get(cid, end))
    talk = interactions(
        Writer(_rng(seed, number, "interactions")), spec.code, found, team, book.baskets, catalog, comps,
        contract_end, as_of,
    )  # fmt: skip
    planting = Planting(spec.code, as_of, Writer(_rng(seed, number, "tasks")), found, team, catalog, comps, t, talk,
                        anomalies)  # fmt: skip
    plant(planting)
    t["Interaction"] = pa.table(
        {
            "id": [d.id for d in talk],
            "at": pa.array([d.at for d in talk], pa.timestamp("us")),
            "channel": [d.channel for d in talk],
            "summary": [d.summary for d in talk],
            "next_step": [d.next_step for d in talk],
        }
    )
    t["Had"] = pa.table({"rep_id": [d.rep_id for d in talk], "interaction_id": [d.id for d in talk]})
    t["InteractionWith"] = pa.table({"interaction_id": [d.id for d in talk],
                                     "customer_id": [d.customer_id for d in talk]})  # fmt: skip
    mentions = [(d.id, s) for d in talk for s in dict.fromkeys(d.skus)]
    t["Mentions"] = pa.table({"interaction_id": [m[0] for m in mentions], "sku": [m[1] for m in mentions]})

    w = Writer(_rng(seed, number, "texts"))
    drafts = objection_scripts(w, catalog, comps, spec)
    drafts += case_studies(w, found, book.baskets, catalog, comps)
    popular = np.bincount([j for b in book.baskets for j in b], minlength=len(catalog))
    for j in np.argsort(-popular, kind="stable")[:PRODUCT_NOTES].tolist():
        p = catalog[j]
        related = [q for q in catalog if q.sku != p.sku and set(q.indications) & set(p.indications)]
        drafts.append(product_note(w, p, comps.get(p.sku, []), related))
    drafts += faqs(w, catalog, spec)
    drafts += general_scripts(Writer(_rng(seed, number, "general")))  # last and on its own draws: nothing else moves
    drafts += general_scripts(Writer(_rng(seed, number, "renewal")), RENEWAL_SCRIPTS)  # after them: the same
    legacy = _entry_tables(t, drafts, spec, w, as_of)

    truth: Truth = {
        "near_duplicates": [(c.id, found[c.duplicate_of].id) for c in found if c.duplicate_of is not None],
        "quote_anomalies": [tuple(a) for a in anomalies],
        "purchase_gaps": [
            (c, s)
            for c, s in regap(
                [(found[ci].id, catalog[pj].sku) for ci, pj in book.gaps], t["Purchased"], planting.touched, as_of
            )
        ],
        "legacy_scripts": [(e,) for e in legacy],
    }
    objections = {d.id for d in talk if d.objection}
    labels = task_labels(t, as_of, objections=objections, anomalies=truth["quote_anomalies"])
    truth["tasks"] = list(labels.tasks)
    truth["task_near_misses"] = sorted(set(planting.near) | set(labels.near))
    truth["task_ambiguous"] = list(labels.ambiguous)
    truth["task_planted"] = sorted(set(planting.expected))
    return t, truth


def _customer_table(found: list[Customer]) -> pa.Table:
    return pa.table(
        {
            "id": [c.id for c in found],
            "name": [c.name for c in found],
            "type": [c.type for c in found],
            "region": [c.city.region for c in found],
            "city": [c.city.name for c in found],
            "tier": [c.tier for c in found],
            "insurance_designated": pa.array([c.insurance_designated for c in found], pa.bool_()),
            "dtp_certified": pa.array([c.dtp_certified for c in found], pa.bool_()),
            "store_count": pa.array(
                [c.store_count if c.type not in ("hospital", "clinic") else None for c in found], pa.int64()
            ),
            "annual_revenue": pa.array([c.annual_revenue for c in found], pa.float64()),
            "tags": pa.array([c.tags for c in found], pa.list_(pa.string())),
        }
    )


_KIND_CODE = {"objection_script": "OS", "case_study": "CS", "product_note": "PN", "faq": "FAQ"}


def _entry_tables(t: Tables, drafts: list[EntryDraft], spec: TenantSpec, w: Writer, as_of: dt.date) -> list[str]:
    """Fill the entry tables (with earlier versions and ABOUT / CASE_OF edges); returns the legacy script ids."""
    counters: dict[str, int] = {}
    entries: list[dict[str, object]] = []
    versions: list[dict[str, object]] = []
    about_p: list[tuple[str, str]] = []
    about_i: list[tuple[str, str]] = []
    case_of: list[tuple[str, str]] = []
    legacy: list[str] = []
    for d in drafts:
        code = _KIND_CODE[d.kind]
        counters[code] = counters.get(code, 0) + 1
        eid = f"KB-{spec.code}-{code}-{counters[code]:04d}"
        version = int(w.rng.choice([1, 2, 3, 4], p=[0.5, 0.3, 0.15, 0.05]))
        if d.written_before is not None:
            legacy.append(eid)
            status = "published"
            latest = d.written_before - dt.timedelta(days=int(w.rng.integers(0, 240)))
        else:
            drawn = str(w.rng.choice(["published", "in_review", "draft", "retired"], p=[0.76, 0.1, 0.09, 0.05]))
            status = d.status or drawn
            latest = as_of - dt.timedelta(days=int(w.rng.integers(2, 420)))
        author = w.one(spec.trainers)
        stamp = dt.datetime.combine(latest, dt.time(int(w.rng.integers(9, 19)), int(w.rng.integers(0, 60))))
        entries.append(
            {"id": eid, "kind": d.kind, "title": d.title, "body": d.body, "tags": d.tags, "status": status,
             "version": version, "author": author, "updated_at": stamp, "category": d.category,
             "customer_types": d.customer_types}
        )  # fmt: skip
        sections = d.body.split("\n")
        for v in range(1, version):
            earlier = stamp - dt.timedelta(days=int(30 * (version - v) + w.rng.integers(0, 20)))
            keep = max(1, len(sections) - (version - v))
            versions.append(
                {"id": f"{eid}@{v}", "entry_id": eid, "version": v, "kind": d.kind, "title": d.title,
                 "body": "\n".join(sections[:keep]), "tags": d.tags[: max(1, len(d.tags) - 1)],
                 "status": "published", "author": w.one(spec.trainers), "updated_at": earlier}
            )  # fmt: skip
        about_p += [(eid, s) for s in dict.fromkeys(d.skus)]
        about_i += [(eid, i) for i in dict.fromkeys(d.indications)]
        if d.customer_id is not None:
            case_of.append((eid, d.customer_id))

    def table(rows: list[dict[str, object]], types: dict[str, pa.DataType]) -> pa.Table:
        return pa.table({k: pa.array([r[k] for r in rows], v) for k, v in types.items()})

    common = {
        "kind": pa.string(), "title": pa.string(), "body": pa.string(), "tags": pa.list_(pa.string()),
        "status": pa.string(), "author": pa.string(), "updated_at": pa.timestamp("us"),
    }  # fmt: skip
    t["Entry"] = table(entries, {"id": pa.string(), "version": pa.int64(), **common, "category": pa.string(),
                                 "customer_types": pa.list_(pa.string())})  # fmt: skip
    t["EntryVersion"] = table(versions, {"id": pa.string(), "entry_id": pa.string(), "version": pa.int64(), **common})
    t["Previous"] = pa.table({"entry_id": [v["entry_id"] for v in versions], "version_id": [v["id"] for v in versions]})
    t["AboutProduct"] = pa.table({"entry_id": [a[0] for a in about_p], "sku": [a[1] for a in about_p]})
    t["AboutIndication"] = pa.table({"entry_id": [a[0] for a in about_i], "indication": [a[1] for a in about_i]})
    t["CaseOf"] = pa.table({"entry_id": [c[0] for c in case_of], "customer_id": [c[1] for c in case_of]})
    return legacy
