"""Loading the demo dataset into a store, through the ingest load path."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from graph.model import Customer
from graph.ports import GraphStore, WriteResult
from ingest.demo import build_demo
from ingest.pipeline import Progress, load_tables
from ingest.resolution import DedupeReport, dedupe_customers


@dataclass
class DemoReport:
    """What ``load_demo`` wrote per tenant, the near-duplicate customers it found, and how long it took."""

    as_of: dt.date
    writes: dict[str, dict[str, WriteResult]] = field(default_factory=dict)
    duplicates: dict[str, DedupeReport] = field(default_factory=dict)
    generate_s: float = 0.0
    load_s: float = 0.0


def load_demo(
    store: GraphStore, *, seed: int = 7, scale: int = 1, as_of: dt.date, progress: Progress | None = None
) -> DemoReport:
    """Build the deterministic demo dataset and load every tenant of it.

    Re-running with the same inputs changes nothing. Near-duplicate customers (planted on purpose) are reported, not
    merged.
    """
    t0 = time.perf_counter()
    demo = build_demo(seed=seed, scale=scale, as_of=as_of)
    report = DemoReport(as_of, generate_s=time.perf_counter() - t0)
    t0 = time.perf_counter()
    for tenant, tables in demo.tenants.items():
        report.writes[tenant] = load_tables(store, tenant, tables, progress=progress)
        customers = [c for page in store.iter_nodes(tenant, Customer) for c in page]
        report.duplicates[tenant] = dedupe_customers(customers)
    report.load_s = time.perf_counter() - t0
    return report
