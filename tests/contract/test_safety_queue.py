"""The drug-safety queue on every backend: interactions scanned into reports, status changes audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from copilot import safety
from copilot.adverse_events import detect
from graph.base import CypherGraphStore
from graph.errors import NotFoundError
from graph.model import Had, Interaction, InteractionWith, Mentions, SafetyReport
from tests.contract.test_graph_store import load_sample

TenantFactory = Callable[..., str]


def _visit(store: CypherGraphStore, t: str, iid: str, summary: str, at: dt.datetime) -> None:
    store.upsert_nodes(t, [Interaction(tenant=t, id=iid, at=at, channel="拜访", summary=summary)])
    store.upsert_edges(t, [Had(tenant=t, rep_id="R-1", interaction_id=iid)])
    store.upsert_edges(t, [InteractionWith(tenant=t, interaction_id=iid, customer_id="C-001")])
    store.upsert_edges(t, [Mentions(tenant=t, interaction_id=iid, sku="SKU-ATV-20")])


def test_scan_queues_reports_once_and_keeps_their_status(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    t = tenant_factory()
    load_sample(store, t)
    at = dt.datetime(2025, 10, 2, 9, 0)
    _visit(store, t, "I-AE", "店长反映王阿姨吃了阿托伐他汀后肌肉酸痛，已停药", at)
    _visit(store, t, "I-NO", "回访：老顾客长期服用阿托伐他汀，没有不良反应", at)
    _visit(store, t, "I-HY", "店员担心老人吃了会头晕，问怎么跟顾客解释", at)

    made = safety.scan_interactions(store, t)
    assert [r.id for r in made] == ["SAFE-I-AE"]
    (report,) = made
    assert report.customer_id == "C-001" and report.skus == ["SKU-ATV-20"] and report.at == at
    assert report.reported_by == "R-1" and report.status == "new" and "肌肉酸痛" in report.symptoms
    assert store.get_node(t, SafetyReport, "SAFE-I-AE") == report

    forwarded = safety.set_status(store, t, "SAFE-I-AE", status="forwarded", actor="药物警戒 张 (safety)", note="已转")
    assert forwarded.status == "forwarded" and forwarded.updated_by == "药物警戒 张 (safety)"
    assert safety.scan_interactions(store, t) == []  # scanning again neither duplicates nor resets
    kept, trail = safety.get_report(store, t, "SAFE-I-AE")
    assert kept.status == "forwarded"
    assert [(a.action, a.actor) for a in trail] == [("safety_forwarded", "药物警戒 张 (safety)")]
    assert '"from": "new"' in trail[0].details and '"to": "forwarded"' in trail[0].details

    total, new = safety.list_reports(store, t, status="new")
    assert total == 1 and [r.id for r in new] == ["SAFE-I-001"]  # the sample's own report
    total, forwarded_page = safety.list_reports(store, t, status="forwarded")
    assert [r.id for r in forwarded_page] == ["SAFE-I-AE"]

    safety.set_status(store, t, "SAFE-I-AE", status="closed", actor="a")
    with pytest.raises(safety.ReportClosedError):
        safety.set_status(store, t, "SAFE-I-AE", status="new", actor="a")
    assert [a.action for a in safety.get_report(store, t, "SAFE-I-AE")[1]] == ["safety_forwarded", "safety_closed"]


def test_reports_are_tenant_scoped_and_unknown_ids_are_unknown(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    a, b = tenant_factory("a"), tenant_factory("b")
    load_sample(store, a)
    finding = detect("顾客说吃了立普妥后一直恶心")
    assert finding is not None
    made = safety.report_query(store, a, "顾客说吃了立普妥后一直恶心", finding, reported_by="rep", skus=["SKU-ATV-20"])
    assert made.source == "objection_query" and made.status == "new"
    with pytest.raises(NotFoundError):
        safety.get_report(store, b, made.id)
    with pytest.raises(NotFoundError):
        safety.set_status(store, b, made.id, status="closed", actor="x")
    assert safety.list_reports(store, b, status=None)[0] == 0
