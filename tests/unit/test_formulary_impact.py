"""Formulary impact on the demo data: changed products, affected customers, notes with history; idempotent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from copilot.formulary_impact import formulary_impact
from demo.load import load_demo
from graph.embedded import EmbeddedGraphStore
from graph.model import AuditEvent, Entry, EntryVersion

TODAY = dt.date(2026, 11, 25)


def test_impact_notes_the_entries_whose_claims_changed_once_and_keeps_history(tmp_path: Path) -> None:
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        load_demo(store, as_of=TODAY)
        dry = formulary_impact(store, "hz-pharma", today=TODAY, dry_run=True)
        assert (dry.old_edition, dry.new_edition) == ("NRDL-2022", "NRDL-2024")
        assert len(dry.changes) >= 30 and any("调出" in c.detail for c in dry.changes)
        assert dry.customers and dry.impacts
        # claims, not names: far fewer than the entries naming a changed product
        assert len(dry.impacts) * 4 < dry.mentioning
        statuses = {e.id: e.status for e in store.nodes_by_keys("hz-pharma", Entry, sorted(dry.impacts))}
        report = formulary_impact(store, "hz-pharma", today=TODAY)
        assert set(report.impacts) == set(dry.impacts)
        for some, impact in report.impacts.items():
            entry = store.get_node("hz-pharma", Entry, some)
            assert entry is not None and entry.stale_reason and entry.stale_reason.startswith("医保目录 NRDL-2024")
            assert entry.impact_severity == impact.severity and entry.impact_sentence == impact.sentence
            withdrawn = statuses[some] == "published" and impact.severity == "withdraw"
            assert entry.status == ("stale" if withdrawn else statuses[some])  # drafts and reviews keep their state
            old = store.get_node("hz-pharma", EntryVersion, f"{some}@{entry.version - 1}")
            assert old is not None and old.status == statuses[some]
            assert store.get_node("hz-pharma", AuditEvent, f"formulary-impact:NRDL-2024:{some}:{entry.version}")
        counts = store.counts("hz-pharma")
        again = formulary_impact(store, "hz-pharma", today=TODAY)
        assert again.impacts == {} and again.already_marked == len(report.impacts)
        assert store.counts("hz-pharma") == counts
        assert (
            formulary_impact(store, "sh-pharma", today=TODAY, dry_run=True)
            .customers.keys()
            .isdisjoint(report.customers.keys())
        )
