"""Tenant services: every write keeps the retrieval and price indexes in step (write-through), without a rebuild
where the change allows it; each index has its own lifetime."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.services import Services, TenantServices, Written
from copilot.curation import EntryEdit
from graph.embedded import EmbeddedGraphStore
from graph.model import Customer
from ingest.pipeline import ingest_paths
from retrieval.embedders import HashingEmbedder
from retrieval.hybrid import SearchFilters

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T = "hz"
DAY = dt.date(2025, 10, 1)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[TenantServices]:
    store = EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=512)
    ingest_paths(store, T, [EXAMPLES])
    made = Services(store, HashingEmbedder(), index_root=tmp_path / "index", today=lambda: DAY).tenant(T)
    made.warm()
    yield made
    store.close()


def _orders(tmp_path: Path, rows: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text("order_id,line,customer_id,sku,at,qty,unit_price\n" + rows, encoding="utf-8")
    return path


def test_new_order_lines_are_appended_to_the_price_index_without_a_rebuild(
    services: TenantServices, tmp_path: Path
) -> None:
    prices = services.prices()
    before = prices.line_count
    lines = "SO-9001,1,C-002,SKU-ATV-20,2025-09-20,10,31.00\nSO-9001,2,C-002,SKU-AML-5,2025-09-20,5,27\n"
    new = _orders(tmp_path, lines)
    services.ingest([new])
    assert services.prices() is prices and prices.line_count == before + 2
    assert "SO-9001" in prices.lines["SKU-ATV-20"].order
    services.ingest([new])  # the same file again: nothing new, nothing counted twice
    assert services.prices() is prices and prices.line_count == before + 2


def test_a_changed_order_line_or_master_data_rebuilds_the_price_index(services: TenantServices, tmp_path: Path) -> None:
    prices = services.prices()
    services.ingest([_orders(tmp_path, "SO-9002,1,C-002,SKU-ATV-20,2025-09-20,10,31.00\n")])
    services.ingest([_orders(tmp_path, "SO-9002,1,C-002,SKU-ATV-20,2025-09-20,10,33.00\n", "fix.csv")])
    rebuilt = services.prices()
    assert rebuilt is not prices and rebuilt.line_count == prices.line_count  # replaced, not appended
    assert rebuilt.lines["SKU-ATV-20"].price.tolist().count(33.0) == 1
    customers = tmp_path / "customers.csv"
    customers.write_text("客户编码,客户名称,客户类型\nC-002,仁心诊所,医院\n", encoding="utf-8")
    services.ingest([customers])
    again = services.prices()
    assert again is not rebuilt and again.customer("C-002") is not None
    assert again.customer("C-002").type == "hospital"  # type: ignore[union-attr]


def test_the_price_index_lives_for_its_day(services: TenantServices) -> None:
    today = services.prices()
    assert today.as_of == DAY and services.prices(DAY) is today and services.is_current()
    other = services.prices(DAY + dt.timedelta(days=1))
    assert other is not today and other.as_of == DAY + dt.timedelta(days=1) and not services.is_current()


def _found(services: TenantServices, query: str, status: str = "published") -> list[str]:
    with services.searching() as index:
        return [h.entry_id for h in index.search(query, k=10, filters=SearchFilters(statuses=(status,)))]


def test_curation_writes_reach_retrieval_when_they_return(services: TenantServices) -> None:
    index = services.retrieval
    entry = services.create_entry(actor="王老师", kind="objection_script", title="客户嫌氨氯地平起效慢",
                                  body="说明长效平稳降压的证据。", skus=["SKU-AML-5"])  # fmt: skip
    assert entry.id in _found(services, "氨氯地平起效慢", status="draft")
    assert entry.id not in _found(services, "氨氯地平起效慢")
    submitted = services.transition(entry.id, "submit", actor="王老师", expected_version=entry.version)
    published = services.transition(entry.id, "publish", actor="李主管", expected_version=submitted.version)
    assert published.status == "published" and entry.id in _found(services, "氨氯地平起效慢")
    assert index.docs[entry.id].skus == ("SKU-AML-5",)
    pending = services.edit_entry(entry.id, actor="王老师", expected_version=published.version,
                                  edit=EntryEdit(body="补充：夜间血压控制更好。", skus=["SKU-ATV-20"]))  # fmt: skip
    assert index.docs[entry.id].skus == ("SKU-AML-5",)  # reps keep the published text while the revision waits
    again = services.transition(entry.id, "submit", actor="王老师", expected_version=pending.version)
    services.transition(entry.id, "publish", actor="李主管", expected_version=again.version)
    assert index.docs[entry.id].skus == ("SKU-ATV-20",) and "夜间血压" in index.docs[entry.id].body
    assert services.retrieval is index  # kept in step, never rebuilt


def test_an_ingest_reindexes_the_entries_it_touches_and_the_catalogue(services: TenantServices, tmp_path: Path) -> None:
    index = services.retrieval
    assert index.docs["E-002"].customer_types == ("chain",)
    customers = tmp_path / "customers.csv"
    customers.write_text("客户编码,客户名称,客户类型\nC-001,康邻大药房(人民路店),DTP药房\n", encoding="utf-8")
    services.ingest([customers])
    assert index.docs["E-002"].customer_types == ("dtp",)  # the case study of that customer
    products = tmp_path / "products.csv"
    products.write_text("商品编码,品名,通用名,单位\nSKU-NEW-1,沙库巴曲缬沙坦钠片,沙库巴曲缬沙坦,盒\n", encoding="utf-8")
    services.ingest([products])
    assert index.product_detector is not None and "SKU-NEW-1" in index.product_detector("诺欣妥 沙库巴曲缬沙坦钠片贵")
    assert services.retrieval is index


def test_written_of_an_ingest_names_what_the_indexes_need(services: TenantServices, tmp_path: Path) -> None:
    report = ingest_paths(services.store, T, [_orders(tmp_path, "SO-9003,1,C-001,SKU-ATV-20,2025-09-21,1,30\n")])
    written = Written.of_ingest(report)
    assert written.order_lines is not None and written.order_lines.num_rows == 1
    assert not written.prices and not written.catalogue and written.entries == ()
    same = Written.of_ingest(ingest_paths(services.store, T, [EXAMPLES]))  # nothing changed
    assert same == Written()


def test_indexes_not_built_yet_are_left_to_read_the_graph(tmp_path: Path) -> None:
    store = EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=512)
    try:
        ingest_paths(store, T, [EXAMPLES])
        made: list[str] = []

        def embedder() -> HashingEmbedder:
            made.append("loaded")
            return HashingEmbedder()

        services = Services(store, embedder, today=lambda: DAY).tenant(T)
        services.ingest([_orders(tmp_path, "SO-9004,1,C-001,SKU-ATV-20,2025-09-21,1,30\n")])
        assert made == []  # a write never loads a model
        assert "SO-9004" in services.prices().lines["SKU-ATV-20"].order
        assert store.get_node(T, Customer, "C-001") is not None and made == []
        assert "E-001" in _found(services, "立普妥贵") and made == ["loaded"]
    finally:
        store.close()


def test_uploaded_visit_notes_reporting_a_reaction_reach_the_safety_queue(
    services: TenantServices, tmp_path: Path
) -> None:
    """An interactions upload is read for suspected reactions; a re-upload keeps the status set meanwhile."""
    from copilot import safety

    notes = tmp_path / "interactions.jsonl"
    rows = [
        {"id": "I-AE-1", "at": "2025-09-20 10:00", "channel": "拜访", "rep_id": "R-001", "customer_id": "C-001",
         "summary": "店长反映有老顾客吃了立普妥以后肌肉酸痛，已停药", "skus": ["SKU-ATV-20"]},
        {"id": "I-AE-2", "at": "2025-09-21 10:00", "channel": "拜访", "rep_id": "R-001", "customer_id": "C-001",
         "summary": "店长担心顾客吃了会头晕，要资料", "skus": ["SKU-ATV-20"]},
    ]  # fmt: skip
    notes.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    services.ingest([notes])
    total, queued = safety.list_reports(services.store, T, status=None)
    assert [r.id for r in queued] == ["SAFE-I-AE-1"] and total == 1
    assert queued[0].customer_id == "C-001" and queued[0].skus == ["SKU-ATV-20"] and queued[0].reported_by == "R-001"
    services.set_safety_status("SAFE-I-AE-1", status="forwarded", actor="药物警戒")
    services.ingest([notes])
    kept, _ = safety.get_report(services.store, T, "SAFE-I-AE-1")
    assert kept.status == "forwarded"
