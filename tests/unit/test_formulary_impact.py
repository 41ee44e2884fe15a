"""Formulary impact on the demo data: changed products, affected customers, stale entries with history; idempotent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from copilot.formulary_impact import formulary_impact
from demo.load import load_demo
from graph.embedded import EmbeddedGraphStore
from graph.model import AuditEvent, Entry, EntryVersion

TODAY = dt.date(2026, 11, 25)


def test_impact_marks_entries_stale_once_and_keeps_history(tmp_path: Path) -> None:
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        load_demo(store, as_of=TODAY)
        dry = formulary_impact(store, "hz-pharma", today=TODAY, dry_run=True)
        assert (dry.old_edition, dry.new_edition) == ("NRDL-2022", "NRDL-2024")
        assert len(dry.changes) >= 30 and any("调出" in c.detail for c in dry.changes)
        assert dry.customers and dry.stale_entries
        before_stale = {e.id for e in store.entries("hz-pharma", status="stale")}
        report = formulary_impact(store, "hz-pharma", today=TODAY)
        stale = {e.id: e for e in store.entries("hz-pharma", status="stale")}
        assert set(report.stale_entries) <= set(stale) and set(report.stale_entries) - before_stale
        some = next(iter(report.stale_entries))
        entry = store.get_node("hz-pharma", Entry, some)
        assert entry is not None and entry.stale_reason and entry.stale_reason.startswith("医保目录 NRDL-2024")
        old = store.get_node("hz-pharma", EntryVersion, f"{some}@{entry.version - 1}")
        assert old is not None and old.status != "stale"
        assert store.get_node("hz-pharma", AuditEvent, f"formulary-impact:NRDL-2024:{some}:{entry.version}")
        counts = store.counts("hz-pharma")
        again = formulary_impact(store, "hz-pharma", today=TODAY)
        assert again.stale_entries == {} and again.already_stale >= len(report.stale_entries)
        assert store.counts("hz-pharma") == counts
        assert (
            formulary_impact(store, "sh-pharma", today=TODAY, dry_run=True)
            .customers.keys()
            .isdisjoint(report.customers.keys())
        )
