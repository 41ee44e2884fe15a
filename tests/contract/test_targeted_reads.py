"""The targeted reads of every backend: pages with counts, edges by endpoint, catalogue, cases, interactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from graph.base import CypherGraphStore
from graph.errors import InvalidRowError
from graph.model import (
    AboutIndication,
    AboutProduct,
    CaseOf,
    Customer,
    Entry,
    FormularyEdition,
    FormularyStatus,
    Interaction,
    ListedIn,
    Mentions,
    Prescribes,
    PriceEvent,
    Product,
    Promotion,
    Purchased,
    Treats,
    WorksAt,
)
from graph.ports import CaseQuery, EntryLinks
from tests.contract.test_graph_store import load_sample

TenantFactory = Callable[..., str]


def _cases(store: CypherGraphStore, t: str) -> None:
    """Published case studies linked in every way a candidate can be found, and one that must never be."""
    store.upsert_nodes(
        t,
        [
            Entry(tenant=t, id="CS-P", kind="case_study", title="同产品案例", status="published"),
            Entry(tenant=t, id="CS-I", kind="case_study", title="同适应症案例", status="published"),
            Entry(tenant=t, id="CS-T", kind="case_study", title="治疗同适应症的产品的案例", status="published"),
            Entry(tenant=t, id="CS-C", kind="case_study", title="同类型客户案例", status="published"),
            Entry(tenant=t, id="CS-R", kind="case_study", title="同区域客户案例", status="published"),
            Entry(tenant=t, id="CS-X", kind="case_study", title="无关案例", status="published"),
            Entry(tenant=t, id="CS-D", kind="case_study", title="草稿案例", status="draft"),
            Entry(tenant=t, id="OS-P", kind="objection_script", title="同产品话术", status="published"),
        ],
    )
    store.upsert_edges(
        t,
        [
            AboutProduct(tenant=t, entry_id="CS-P", sku="SKU-ATV-20"),
            AboutProduct(tenant=t, entry_id="CS-T", sku="SKU-MET-05"),
            AboutProduct(tenant=t, entry_id="CS-D", sku="SKU-ATV-20"),
            AboutProduct(tenant=t, entry_id="OS-P", sku="SKU-ATV-20"),
        ],
    )
    store.upsert_edges(t, [AboutIndication(tenant=t, entry_id="CS-I", indication="高胆固醇血症")])
    store.upsert_edges(
        t,
        [
            CaseOf(tenant=t, entry_id="CS-C", customer_id="C-001"),  # chain, 华东, A
            CaseOf(tenant=t, entry_id="CS-R", customer_id="C-003"),  # dtp, 华东, B
            CaseOf(tenant=t, entry_id="CS-X", customer_id="C-002"),  # clinic, 华南, C
        ],
    )


def test_search_nodes_pages_filters_and_counts(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    page = store.search_nodes(t, Customer, limit=2)
    assert (page.total, [c.id for c in page.items]) == (3, ["C-001", "C-002"])
    assert [c.id for c in store.search_nodes(t, Customer, limit=2, offset=2).items] == ["C-003"]
    found = store.search_nodes(t, Customer, text="杭州", fields=("name", "id", "city"))
    assert (found.total, [c.id for c in found.items]) == (2, ["C-001", "C-003"])
    assert store.search_nodes(t, Customer, text="c-00", fields=("id",)).total == 3  # any case
    products = store.search_nodes(t, Product, text="立普妥", fields=("name", "generic_name", "brand", "sku"))
    assert [p.sku for p in products.items] == ["SKU-ATV-20"]
    assert store.search_nodes(t, Product, text="nothing", fields=("name",)).total == 0
    other = tenant_factory()
    assert store.search_nodes(other, Customer).total == 0
    with pytest.raises(InvalidRowError):
        store.search_nodes(t, Customer, text="x", fields=("annual_revenue",))
    with pytest.raises(InvalidRowError):
        store.search_nodes(t, Customer, text="x")


def test_search_entries_filters_text_and_pages(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    _cases(store, t)
    everything = store.search_entries(t, limit=3)
    assert everything.total == 10 and [e.id for e in everything.items] == ["CS-C", "CS-D", "CS-I"]
    assert [e.id for e in store.search_entries(t, sku="SKU-ATV-20").items] == ["CS-D", "CS-P", "E-1", "OS-P"]
    published = store.search_entries(t, sku="SKU-ATV-20", status="published", kind="case_study")
    assert (published.total, [e.id for e in published.items]) == (1, ["CS-P"])
    assert [e.id for e in store.search_entries(t, text="医保支付").items] == ["E-1"]  # in the body
    assert [e.id for e in store.search_entries(t, text="慢病会员").items] == ["E-2"]  # in the title
    assert store.search_entries(t, text="案例", status="published").total == 6
    page = store.search_entries(t, text="案例", limit=2, offset=5)
    assert (page.total, [e.id for e in page.items]) == (7, ["CS-T", "CS-X"])
    assert store.search_entries(t, sku="SKU-NONE").total == 0


def test_edges_of_by_source_target_or_both(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    lines = store.edges_of(t, Purchased, sources=["C-001"])
    assert [(p.order_id, p.line) for p in lines] == [("SO-1", 1), ("SO-2", 1), ("SO-4", 1)]
    to_sku = store.edges_of(t, Purchased, targets=["SKU-ATV-20"])
    assert sorted(p.customer_id for p in to_sku) == ["C-001", "C-001", "C-002", "C-003"]
    both = store.edges_of(t, Purchased, sources=["C-001"], targets=["SKU-MET-05"])
    assert [(p.order_id, p.unit_price) for p in both] == [("SO-4", 15.0)]
    [listed] = store.edges_of(t, ListedIn, targets=["NRDL-2024"])
    assert (listed.sku, listed.category, listed.payment_standard) == ("SKU-ATV-20", "甲", "3.49元(20mg/片)")
    assert [s.sku for s in store.edges_of(t, FormularyStatus, sources=["SKU-MET-05"], targets=["NRDL-2024"])] == [
        "SKU-MET-05"
    ]
    assert [w.customer_id for w in store.edges_of(t, WorksAt, sources=["D-1"])] == ["C-003"]
    assert [p.share for p in store.edges_of(t, Prescribes, targets=["SKU-ATV-20"])] == [0.6]
    assert {x.indication for x in store.edges_of(t, Treats, sources=["SKU-ATV-20", "SKU-MET-05"])} == {
        "高胆固醇血症",
        "2型糖尿病",
    }
    assert store.edges_of(t, Mentions, sources=["I-NONE"]) == []
    assert store.edges_of(tenant_factory(), Purchased, sources=["C-001"]) == []  # another tenant's keys
    with pytest.raises(InvalidRowError):
        store.edges_of(t, Purchased)
    with pytest.raises(InvalidRowError):
        store.edges_of(t, Customer, sources=["C-001"])  # type: ignore[type-var]


def test_catalogue_customers_and_editions(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    catalogue = store.catalogue(t)
    assert [p.sku for p in catalogue.products] == ["SKU-ATV-20", "SKU-MET-05"]
    assert [i.name for i in catalogue.indications] == ["2型糖尿病", "高胆固醇血症"]
    assert [c.id for c in catalogue.competitors] == ["CP-1"]
    assert catalogue.products[0].brand == "立普妥"
    store.upsert_nodes(t, [Customer(tenant=t, id="C-004", name="无城市药店", type="single_pharmacy")])
    assert [c.id for c in store.customers(t)] == ["C-001", "C-002", "C-003", "C-004"]
    assert [c.id for c in store.customers(t, with_city=True)] == ["C-001", "C-002", "C-003"]
    store.upsert_nodes(
        t,
        [
            FormularyEdition(tenant=t, id="NRDL-2022", name="2022", effective_date=dt.date(2023, 1, 1)),
            FormularyEdition(tenant=t, id="LOCAL", name="地方目录"),
        ],
    )
    assert [e.id for e in store.formulary_editions(t)] == ["LOCAL", "NRDL-2022", "NRDL-2024"]
    empty = tenant_factory()
    assert store.catalogue(empty).products == () and store.customers(empty) == []


def test_promotions_and_price_events_in_date_order(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    store.upsert_nodes(
        t,
        [
            Promotion(tenant=t, id="CX-0", name="春季", start_date=dt.date(2025, 3, 1), end_date=dt.date(2025, 3, 9)),
            Promotion(tenant=t, id="CX-2", name="年末", start_date=dt.date(2025, 12, 1), end_date=dt.date(2025, 12, 9)),
        ],
    )
    store.upsert_nodes(
        t,
        [
            PriceEvent(tenant=t, id="PE-0", sku="SKU-MET-05", effective_date=dt.date(2025, 1, 1), kind="list_change"),
            PriceEvent(tenant=t, id="PE-2", sku="SKU-ATV-20", effective_date=dt.date(2026, 1, 1), kind="list_change"),
        ],
    )
    promotions = store.promotions(t)
    assert [p.id for p in promotions] == ["CX-0", "CX-1", "CX-2"]
    assert promotions[1].skus == ["SKU-ATV-20", "SKU-MET-05"] and promotions[1].max_discount == 0.1
    assert [e.id for e in store.price_events(t)] == ["PE-0", "PE-1", "PE-2"]
    assert [e.id for e in store.price_events(t, sku="SKU-ATV-20")] == ["PE-1", "PE-2"]
    assert store.price_events(t, sku="SKU-NONE") == []
    other = tenant_factory()
    assert store.promotions(other) == [] and store.price_events(other) == []


def test_case_candidates_by_each_shared_fact(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    _cases(store, t)

    def ids(**kw: object) -> list[str]:
        return [c.entry.id for c in store.case_candidates(t, CaseQuery(**kw))]  # type: ignore[arg-type]

    assert ids(skus=("SKU-ATV-20",)) == ["CS-P"]  # published case studies only
    assert ids(indications=("高胆固醇血症",)) == ["CS-I", "CS-P"]  # ABOUT it, or about a product that treats it
    assert ids(indications=("2型糖尿病",)) == ["CS-T"]
    assert ids(customer_type="chain") == ["CS-C"]
    assert ids(region="华东") == ["CS-C", "CS-R"]
    assert ids(customer_type="clinic", tier="B") == ["CS-R", "CS-X"]
    assert ids(entry_ids=("CS-X", "CS-D", "OS-P", "NOPE")) == ["CS-X"]
    assert ids(every=True) == ["CS-C", "CS-I", "CS-P", "CS-R", "CS-T", "CS-X"]
    assert ids() == []
    [record] = store.case_candidates(t, CaseQuery(customer_type="chain"))
    assert record.customer is not None and (record.customer.id, record.customer.tier) == ("C-001", "A")
    assert record.links == EntryLinks(customers=("C-001",))
    [about] = store.case_candidates(t, CaseQuery(skus=("SKU-ATV-20",)))
    assert about.links.skus == ("SKU-ATV-20",) and about.customer is None


def test_interactions_with_rep_and_mentions(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    store.upsert_nodes(t, [Interaction(tenant=t, id="I-0", at=dt.datetime(2024, 1, 2, 9, 0), summary="电话回访")])
    records = store.interactions(t)
    assert [(r.interaction.id, r.rep_id, r.mentioned_skus) for r in records] == [
        ("I-0", None, ()),
        ("I-1", "R-1", ("SKU-ATV-20",)),
    ]
    assert [r.interaction.id for r in store.interactions(t, since=dt.datetime(2025, 1, 1))] == ["I-1"]
    assert store.interactions(tenant_factory()) == []


def test_entries_naming(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    assert [e.id for e in store.entries_naming(t, ["竞品", "慢病"])] == ["E-1", "E-2"]
    assert [e.id for e in store.entries_naming(t, ["医保支付标准"])] == ["E-1"]
    assert store.entries_naming(t, []) == [] and store.entries_naming(t, ["不存在的药"]) == []


def test_small_writes_find_stored_records_by_key(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    """A one-row write matches the stored row by its key: unchanged, changed, and a moved order line."""
    t = tenant_factory()
    load_sample(store, t)
    [c1] = store.nodes_by_keys(t, Customer, ["C-001"])
    assert store.upsert_nodes(t, [c1]).unchanged == 1
    assert store.upsert_nodes(t, [c1.model_copy(update={"tier": "B"})]).updated == 1
    about = AboutProduct(tenant=t, entry_id="E-1", sku="SKU-ATV-20")
    assert store.upsert_edges(t, [about]).unchanged == 1
    [line] = store.edges_of(t, Purchased, sources=["C-002"])
    moved = line.model_copy(update={"customer_id": "C-003"})
    result = store.upsert_edges(t, [moved])
    assert (result.created, result.updated) == (0, 1)
    assert store.edges_of(t, Purchased, sources=["C-002"]) == []
    assert [p.order_id for p in store.edges_of(t, Purchased, sources=["C-003"])] == ["SO-3", "SO-4"]


def test_entries_about_several_products_in_one_read(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    _cases(store, t)
    skus = ["SKU-MET-05", "SKU-ATV-20", "SKU-NONE"]
    kinds = ("objection_script", "case_study")
    with store.reading():  # the briefing's reads share one transaction; the answers are those outside it
        inside = store.entries_about(t, skus, status="published", kinds=kinds)
        context = store.customer_context(t, "C-001")
    expected = [
        (sku, e) for sku in sorted(skus) for e in store.entries(t, sku=sku, status="published") if e.kind in kinds
    ]
    assert inside == expected and {sku for sku, _ in inside} == {"SKU-ATV-20", "SKU-MET-05"}
    assert store.entries_about(t, skus, status="published", kinds=kinds) == expected
    assert context == store.customer_context(t, "C-001")
    assert store.entries_about(t, skus, status="draft", kinds=["case_study"]) == [
        ("SKU-ATV-20", e) for e in store.entries(t, sku="SKU-ATV-20", status="draft", kind="case_study")
    ]
    assert store.entries_about(t, [], status="published", kinds=kinds) == []
