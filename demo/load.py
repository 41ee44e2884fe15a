"""Loading the demo dataset into a store, through the ingest load path — never over a user's data.

The demo goes only into demo tenants that are empty. Each load leaves a ``demo_loaded`` record (seed, scale, as-of
date) in the tenant's change log, so a second run with the same parameters is a no-op — a restart next month
changes nothing — and any write after it (a curation edit, an upload, a formulary apply) is visible as a later
change: the loader then refuses to touch the tenant unless asked to ``reset`` it, which deletes it first.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from copilot.safety import reports_of_tables, reports_table
from demo import build_demo
from demo.vocab import TENANTS
from graph.model import Change
from graph.ports import ChangeDraft, GraphStore, WriteResult
from ingest.errors import IngestError
from ingest.pipeline import Progress, load_tables
from resolution.customers import DedupeReport, dedupe_customers

DEMO_LOADED = "demo_loaded"
"""Kind of the change record a demo load leaves."""
DEMO_TENANTS: tuple[str, ...] = tuple(spec.id for spec in TENANTS)

State = Literal["empty", "loaded", "changed", "foreign"]


class DemoRefusedError(IngestError):
    """The demo would overwrite data a user made (or data it did not load); nothing was written."""

    code = "demo_refused"


@dataclass(frozen=True)
class DemoParams:
    """What the demo was (or is to be) built from; the same parameters give the same data."""

    seed: int
    scale: int
    as_of: dt.date


@dataclass(frozen=True)
class TenantState:
    """Whether a demo tenant is empty, holds the demo as loaded, holds later changes, or holds other data."""

    tenant: str
    state: State
    loaded: DemoParams | None = None
    changes_after: dict[str, int] = field(default_factory=dict)
    """Kinds of the changes made after the demo load, with their counts."""

    def describe(self) -> str:
        """The state in words, for the refusal message and the CLI."""
        if self.state == "empty":
            return f"{self.tenant}: empty"
        if self.state == "foreign":
            return f"{self.tenant}: holds data that the demo did not load (an upload or an older release's demo)"
        assert self.loaded is not None
        loaded = f"demo (seed {self.loaded.seed}, scale {self.loaded.scale}, as of {self.loaded.as_of})"
        if self.state == "loaded":
            return f"{self.tenant}: holds the {loaded}, unchanged"
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.changes_after.items()))
        return f"{self.tenant}: holds the {loaded} and {sum(self.changes_after.values())} later change(s): {kinds}"


@dataclass
class DemoReport:
    """What ``load_demo`` did per tenant: its state before, the writes, duplicates found, and how long it took."""

    as_of: dt.date
    before: dict[str, TenantState] = field(default_factory=dict)
    writes: dict[str, dict[str, WriteResult]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Tenants left as they were, with the reason."""
    deleted: dict[str, int] = field(default_factory=dict)
    """Nodes deleted per tenant by a reset."""
    duplicates: dict[str, DedupeReport] = field(default_factory=dict)
    generate_s: float = 0.0
    load_s: float = 0.0


def _params(change: Change) -> DemoParams:
    d = json.loads(change.details or "{}")
    return DemoParams(int(d["seed"]), int(d["scale"]), dt.date.fromisoformat(str(d["as_of"])))


def tenant_state(store: GraphStore, tenant: str) -> TenantState:
    """Read the tenant's change log to tell whether the demo may be loaded into it."""
    if not store.counts(tenant).get(tenant):
        return TenantState(tenant, "empty")
    log: list[Change] = []
    while page := store.changes(tenant, after=log[-1].seq if log else 0, limit=10_000):
        log += page
    loads = [i for i, c in enumerate(log) if c.kind == DEMO_LOADED]
    if not loads:
        return TenantState(tenant, "foreign")
    last = loads[-1]
    after = Counter(c.kind for c in log[last + 1 :])
    params = _params(log[last])
    return TenantState(tenant, "changed" if after else "loaded", params, dict(after))


def demo_states(store: GraphStore) -> dict[str, TenantState]:
    """The state of every demo tenant."""
    return {t: tenant_state(store, t) for t in DEMO_TENANTS}


def load_demo(
    store: GraphStore,
    *,
    seed: int = 7,
    scale: int = 1,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
    reset: bool = False,
    if_empty: bool = False,
    progress: Progress | None = None,
) -> DemoReport:
    """Load the deterministic demo into the demo tenants, refusing to overwrite anything a user made.

    ``as_of`` defaults to the date recorded by an earlier load, else ``today``. A tenant that holds the demo with the
    same parameters and no later change is left as it is. One that holds later changes, other data, or the demo of
    other parameters raises ``DemoRefusedError`` before anything is written — unless ``reset`` (delete the tenant,
    then load) or ``if_empty`` (leave it as it is: what the run command uses at every start).
    """
    states = demo_states(store)
    recorded = [s.loaded.as_of for s in states.values() if s.loaded is not None]
    want = DemoParams(seed, scale, as_of or (max(recorded) if recorded else today or dt.date.today()))
    report = DemoReport(want.as_of, before=states)
    todo: list[str] = []
    refused: list[TenantState] = []
    for tenant, s in states.items():
        if s.state == "empty":
            todo.append(tenant)
        elif s.state == "loaded" and s.loaded == want:
            report.skipped[tenant] = "the demo is loaded with these parameters; nothing to do"
        elif if_empty:
            report.skipped[tenant] = "holds data; left as it is (salescopilot demo --reset reloads it)"
        elif reset:
            todo.append(tenant)
        else:
            refused.append(s)
    if refused:
        asked = f"seed {want.seed}, scale {want.scale}, as of {want.as_of}"
        lines = "; ".join(s.describe() + (f" (asked for: {asked})" if s.state == "loaded" else "") for s in refused)
        raise DemoRefusedError(
            f"the demo was not loaded, nothing was written: {lines}. Loading it would overwrite that data; "
            "`salescopilot demo --reset` deletes these tenants and loads the demo again",
            details={"tenants": {s.tenant: s.describe() for s in refused}},
        )
    if not todo:
        return report
    t0 = time.perf_counter()
    demo = build_demo(seed=want.seed, scale=want.scale, as_of=want.as_of)
    report.generate_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    details = {"seed": want.seed, "scale": want.scale, "as_of": want.as_of.isoformat()}
    for tenant in todo:
        if states[tenant].state != "empty":
            report.deleted[tenant] = store.delete_tenant(tenant)
        change = ChangeDraft(DEMO_LOADED, actor="demo", details=details)
        tables = dict(demo.tenants[tenant])
        tables["SafetyReport"] = reports_table(reports_of_tables(tenant, tables))  # reactions in the notes: queued
        report.writes[tenant] = load_tables(store, tenant, tables, change=change, progress=progress)
        report.duplicates[tenant] = dedupe_customers(store.customers(tenant))
    report.load_s = time.perf_counter() - t0
    return report
