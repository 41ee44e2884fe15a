"""One contract for every GraphStore backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from graph.base import CypherGraphStore
from graph.errors import InvalidRowError, NotFoundError, UnknownReferenceError
from graph.model import (
    EDGE_TYPES,
    NODE_TYPES,
    Change,
    CompetitorPhoto,
    Customer,
    Entry,
    FormularyStatus,
    ListedIn,
    PriceEvent,
    Product,
    Promotion,
    Purchased,
    SafetyReport,
    ScriptRequest,
    Task,
)
from graph.ports import GraphStore, KeyRecord, PriceHistoryFilter
from tests.contract.sample import sample_edges, sample_nodes

TenantFactory = Callable[..., str]


def load_sample(store: CypherGraphStore, t: str) -> None:
    """The sample through the upserts; its change record first, so each upsert's own record follows it in the log."""
    for batch in sorted(sample_nodes(t), key=lambda batch: not isinstance(batch[0], Change)):
        store.upsert_nodes(t, batch)
    for batch in sample_edges(t):
        store.upsert_edges(t, batch)


def test_backend_implements_the_port(store: CypherGraphStore) -> None:
    assert isinstance(store, GraphStore)


def test_round_trip_of_every_node_and_edge_type(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    nodes = [n for batch in sample_nodes(t) for n in batch]
    assert {type(n) for n in nodes} == set(NODE_TYPES)
    for node in nodes:
        assert store.get_node(t, type(node), node.key) == node
    edges = sample_edges(t)
    assert {type(b[0]) for b in edges} == set(EDGE_TYPES)
    for batch in edges:
        model = type(batch[0])
        got = [e for page in store.iter_edges(t, model) for e in page]
        assert sorted(got, key=lambda e: e.uid) == sorted(batch, key=lambda e: e.uid), model.__name__
    for model in NODE_TYPES:
        expected = sorted((n for n in nodes if type(n) is model), key=lambda n: n.key)
        got = [n for page in store.iter_nodes(t, model) for n in page]
        if model is Change:  # the sample's record, then one per upsert that wrote something
            assert got[: len(expected)] == expected and {c.kind for c in got[len(expected) :]} == {"upsert"}
            continue
        assert got == expected


def test_reupsert_is_idempotent(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    before = store.counts(t)
    for batch in sample_nodes(t):
        r = store.upsert_nodes(t, batch)
        assert (r.created, r.updated, r.unchanged) == (0, 0, len(batch))
    for batch in sample_edges(t):
        r = store.upsert_edges(t, batch)
        assert (r.created, r.updated) == (0, 0)
    assert store.counts(t) == before
    assert before[t]["PURCHASED"] == 5
    assert before[t]["WITH"] == 2
    assert before[t]["ABOUT"] == 2


def test_update_changes_values_in_place(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    product = store.get_node(t, Product, "SKU-ATV-20")
    assert product is not None
    r = store.upsert_nodes(t, [product.model_copy(update={"list_price": 33.0, "brand": None})])
    assert (r.created, r.updated) == (0, 1)
    again = store.get_node(t, Product, "SKU-ATV-20")
    assert again is not None and again.list_price == 33.0 and again.brand is None
    # An order line re-sent with another customer moves; it is never duplicated.
    line = Purchased(
        tenant=t,
        customer_id="C-002",
        sku="SKU-ATV-20",
        order_id="SO-1",
        line=1,
        at=dt.date(2025, 3, 1),
        qty=100,
        unit_price=30.0,
    )
    store.upsert_edges(t, [line])
    history = store.price_history(t, "SKU-ATV-20")
    assert len(history) == 4
    assert [p.customer_id for p in history if p.order_id == "SO-1"] == ["C-002"]


def test_tenant_isolation_through_every_read(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    a, b = tenant_factory("a"), tenant_factory("b")
    load_sample(store, a)
    store.upsert_nodes(b, [Product(tenant=b, sku="B-ONLY", name="只属于B")])
    for batch in sample_nodes(a):
        for node in batch:
            found = store.get_node(b, type(node), node.key)  # b's log numbers its own records from 1: b's, not a's
            assert found is None or (type(node) is Change and found.tenant == b and found != node)
    for model in NODE_TYPES:
        got = [n for page in store.iter_nodes(b, model) for n in page]
        assert all(n.tenant == b for n in got)
        assert store.list_nodes(b, model, limit=1000) == got
    for model in EDGE_TYPES:
        assert [e for page in store.iter_edges(b, model) for e in page] == []
    assert len(store.price_history(b, "SKU-ATV-20")) == 0
    with pytest.raises(NotFoundError):
        store.customer_context(b, "C-001")
    assert store.entries(b) == []
    assert store.entries(b, sku="SKU-ATV-20") == []
    assert store.entries(b, indication="高胆固醇血症") == []
    assert store.counts(b) == {b: {"Change": 1, "Product": 1}}  # the product and the change record of its write
    # B cannot link to A's nodes either: the keys do not exist in B.
    with pytest.raises(UnknownReferenceError):
        store.upsert_edges(
            b,
            [
                Purchased(
                    tenant=b,
                    customer_id="C-001",
                    sku="B-ONLY",
                    order_id="X",
                    line=1,
                    at=dt.date(2025, 1, 1),
                    qty=1,
                    unit_price=1.0,
                )
            ],
        )
    # Same natural key in two tenants: two different nodes.
    store.upsert_nodes(b, [Product(tenant=b, sku="SKU-ATV-20", name="B的阿托伐他汀")])
    pa_ = store.get_node(a, Product, "SKU-ATV-20")
    pb = store.get_node(b, Product, "SKU-ATV-20")
    assert pa_ is not None and pb is not None and pa_.name == "阿托伐他汀钙片" and pb.name == "B的阿托伐他汀"


def test_rows_of_another_tenant_are_rejected(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    a, b = tenant_factory("a"), tenant_factory("b")
    with pytest.raises(InvalidRowError, match="tenant"):
        store.upsert_nodes(a, [Product(tenant=a, sku="P1", name="x"), Product(tenant=b, sku="P2", name="y")])
    assert store.counts(a) == {a: {}}
    assert store.counts(b) == {b: {}}


def test_batch_with_one_invalid_row_leaves_store_unchanged(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    t = tenant_factory()
    load_sample(store, t)
    before = store.counts(t)
    good = [
        Purchased(
            tenant=t,
            customer_id="C-002",
            sku="SKU-MET-05",
            order_id=f"N-{i}",
            line=1,
            at=dt.date(2025, 8, 1),
            qty=5,
            unit_price=16.0,
        )
        for i in range(50)
    ]
    bad = Purchased(
        tenant=t,
        customer_id="C-002",
        sku="NO-SUCH-SKU",
        order_id="N-bad",
        line=1,
        at=dt.date(2025, 8, 1),
        qty=5,
        unit_price=16.0,
    )
    with pytest.raises(UnknownReferenceError) as err:
        store.upsert_edges(t, [*good[:25], bad, *good[25:]])
    assert err.value.details["row"] == 26 and err.value.details["column"] == "sku"
    assert "NO-SUCH-SKU" in str(err.value)
    # a changed existing row in the same rejected batch is not applied either
    changed = Customer(tenant=t, id="C-001", name="改名", type="chain")
    with pytest.raises(InvalidRowError):
        # model_construct skips pydantic's checks: the store must catch the bad key itself
        bad_key = Customer.model_construct(tenant=t, id="bad\x01key", name="x", type="clinic", tags=[])
        store.upsert_nodes(t, [changed, bad_key])
    customer = store.get_node(t, Customer, "C-001")
    assert customer is not None and customer.name == "康邻大药房(人民路店)"
    # bulk path: a null in a required column
    table = pa.table(
        {
            "customer_id": ["C-001", "C-002"],
            "sku": ["SKU-MET-05", None],
            "order_id": ["Z1", "Z2"],
            "line": [1, 1],
            "at": [dt.date(2025, 1, 1)] * 2,
            "qty": [1.0, 2.0],
            "unit_price": [9.0, 9.0],
        }
    )
    with pytest.raises(InvalidRowError) as err2:
        store.bulk_load(t, Purchased, table)
    assert err2.value.details == {"row": 2, "column": "sku"}
    assert store.counts(t) == before


def _purchase_table(n: int, customers: list[str], skus: list[str], seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01")
    return pa.table(
        {
            "customer_id": pa.array(np.array(customers)[rng.integers(0, len(customers), n)]),
            "sku": pa.array(np.array(skus)[rng.integers(0, len(skus), n)]),
            "order_id": pa.array([f"BO-{i // 3}" for i in range(n)]),
            "line": pa.array([i % 3 + 1 for i in range(n)], pa.int64()),
            "at": pa.array(start + rng.integers(0, 540, n).astype("timedelta64[D]")),
            "qty": pa.array(rng.integers(1, 500, n).astype(float)),
            "unit_price": pa.array(np.round(rng.uniform(10, 40, n), 2)),
        }
    )


def test_bulk_load_100k_purchases_is_idempotent(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    table = _purchase_table(100_000, ["C-001", "C-002", "C-003"], ["SKU-ATV-20", "SKU-MET-05"])
    r = store.bulk_load(t, Purchased, table)
    assert (r.received, r.created) == (100_000, 100_000)
    assert store.counts(t)[t]["PURCHASED"] == 100_005
    r2 = store.bulk_load(t, Purchased, table)
    assert (r2.created, r2.updated) == (0, 0)
    assert store.counts(t)[t]["PURCHASED"] == 100_005
    history = store.price_history(t, "SKU-MET-05")
    expected = int((np.asarray(table.column("sku")) == "SKU-MET-05").sum()) + 1
    assert len(history) == expected


def test_initial_bulk_load_then_reload_and_change(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    """Order lines into a tenant that has none (Neo4j: the initial-load path, parallel CREATE), then the same again
    (nothing created or changed), then one changed line (updated in place, no duplicate)."""
    t = tenant_factory()
    for batch in sample_nodes(t):
        store.upsert_nodes(t, batch)
    table = _purchase_table(12_000, ["C-001", "C-002", "C-003"], ["SKU-ATV-20", "SKU-MET-05"], seed=11)
    r = store.bulk_load(t, Purchased, table)
    assert (r.received, r.created, r.updated) == (12_000, 12_000, 0)
    assert store.counts(t)[t]["PURCHASED"] == 12_000
    again = store.bulk_load(t, Purchased, table)
    assert (again.created, again.updated) == (0, 0)
    prices = table.column("unit_price").to_pylist()
    changed = table.set_column(
        table.schema.get_field_index("unit_price"), "unit_price", pa.array([prices[0] + 1.0, *prices[1:]])
    )
    third = store.bulk_load(t, Purchased, changed)
    assert (third.created, third.updated) == (0, 1)
    assert store.counts(t)[t]["PURCHASED"] == 12_000
    first = changed.slice(0, 1).to_pylist()[0]
    key = (first["order_id"], first["line"])
    lines = [p for p in store.price_history(t, first["sku"]) if (p.order_id, p.line) == key]
    assert [p.unit_price for p in lines] == [prices[0] + 1.0]


def test_bulk_load_nodes_and_missing_columns(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    table = pa.table({"sku": [f"P{i:05d}" for i in range(2000)], "name": [f"药品{i}" for i in range(2000)]})
    r = store.bulk_load(t, Product, table)
    assert r.created == 2000
    assert store.get_node(t, Product, "P01999") == Product(tenant=t, sku="P01999", name="药品1999")
    with pytest.raises(InvalidRowError, match="missing required column 'name'"):
        store.bulk_load(t, Product, pa.table({"sku": ["X"]}))
    with pytest.raises(InvalidRowError, match="unknown column"):
        store.bulk_load(t, Product, pa.table({"sku": ["X"], "name": ["x"], "colour": ["red"]}))
    page = store.list_nodes(t, Product, limit=10, offset=1990)
    assert [p.sku for p in page] == [f"P{i:05d}" for i in range(1990, 2000)]


def test_price_history_filters(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    sku = "SKU-ATV-20"
    assert [p.order_id for p in store.price_history(t, sku)] == ["SO-1", "SO-2", "SO-3", "SO-4"]
    chain = store.price_history(t, sku, PriceHistoryFilter(customer_type="chain"))
    assert [(p.customer_id, p.unit_price) for p in chain] == [("C-001", 30.0), ("C-001", 29.5)]
    assert chain[0].customer_name == "康邻大药房(人民路店)" and chain[0].region == "华东"
    assert chain[-1].at == dt.date(2025, 6, 1) and chain.column("unit_price") == [30.0, 29.5]
    assert chain.table.schema.field("at").type == pa.date32()
    assert [p.order_id for p in store.price_history(t, sku, PriceHistoryFilter(region="华东"))] == [
        "SO-1",
        "SO-2",
        "SO-4",
    ]
    assert [p.order_id for p in store.price_history(t, sku, PriceHistoryFilter(tier="B"))] == ["SO-4"]
    window = PriceHistoryFilter(date_from=dt.date(2025, 6, 1), date_to=dt.date(2025, 6, 30))
    assert [p.order_id for p in store.price_history(t, sku, window)] == ["SO-2", "SO-3"]
    both = PriceHistoryFilter(region="华东", date_from=dt.date(2025, 6, 1), limit=1)
    assert [p.order_id for p in store.price_history(t, sku, both)] == ["SO-2"]
    assert len(store.price_history(t, "NO-SUCH")) == 0


def test_customer_context(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    ctx = store.customer_context(t, "C-001")
    assert ctx.customer.name == "康邻大药房(人民路店)"
    assert [r.id for r in ctx.reps] == ["R-1"]
    assert len(ctx.interactions) == 1
    assert ctx.interactions[0].rep_id == "R-1" and ctx.interactions[0].mentioned_skus == ("SKU-ATV-20",)
    assert "竞品" in ctx.interactions[0].interaction.summary
    assert [(p.order_id, p.line) for p in ctx.purchases] == [("SO-4", 1), ("SO-2", 1), ("SO-1", 1)]
    assert [k.id for k in ctx.contracts] == ["K-1"]
    assert [(d.deal.id, [q.sku for q in d.quotes]) for d in ctx.deals] == [("DL-1", ["SKU-ATV-20"])]
    assert [c.id for c in ctx.cases] == ["E-2"]
    since = store.customer_context(t, "C-001", since=dt.date(2025, 6, 1))
    assert [p.order_id for p in since.purchases] == ["SO-4", "SO-2"]
    hospital = store.customer_context(t, "C-003")
    assert [d.doctor.name for d in hospital.doctors] == ["张医生"]
    assert [(p.sku, p.share, p.count) for p in hospital.doctors[0].prescriptions] == [("SKU-ATV-20", 0.6, 42)]
    with pytest.raises(NotFoundError):
        store.customer_context(t, "C-404")


def test_entries_by_product_indication_status(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    assert [e.id for e in store.entries(t)] == ["E-1", "E-2"]
    assert [e.id for e in store.entries(t, sku="SKU-ATV-20")] == ["E-1"]
    assert [e.id for e in store.entries(t, indication="高胆固醇血症", status="published")] == ["E-1"]
    assert store.entries(t, indication="高胆固醇血症", status="draft") == []
    assert [e.id for e in store.entries(t, kind="case_study")] == ["E-2"]
    assert [e.id for e in store.entries(t, status="draft")] == ["E-2"]
    e1 = store.entries(t, sku="SKU-ATV-20")[0]
    assert isinstance(e1, Entry) and e1.tags == ["价格", "竞品"] and e1.version == 2


def test_delete_tenant(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    a, b = tenant_factory("a"), tenant_factory("b")
    load_sample(store, a)
    load_sample(store, b)
    before_b = store.counts(b)
    logged = store.change_head(a)  # the sample's change record and one per upsert
    n_nodes = sum(len(batch) for batch in sample_nodes(a) if not isinstance(batch[0], Change)) + logged
    assert store.delete_tenant(a) == n_nodes
    assert store.counts(a) == {a: {}}
    assert store.counts(b) == before_b
    assert store.get_node(a, Customer, "C-001") is None
    assert len(store.price_history(b, "SKU-ATV-20")) == 4


def _as_old_schema(store: object, version: int) -> None:
    """Make an embedded store look as schema ``version`` wrote it."""
    run = store._run  # type: ignore[attr-defined]
    run("DROP TABLE _ApiKey")  # v9 moved the API keys into the store
    if version < 8:
        run("DROP TABLE Task")  # v8 added the states of reps' tasks
    if version < 7:
        for column in ("impact_severity", "impact_sentence", "impact_edition", "impact_skus", "revision"):
            run(f"ALTER TABLE Entry DROP {column}")  # v7 added formulary notes, pending revisions and the safety queue
        run("ALTER TABLE EntryVersion DROP revision")
        run("DROP TABLE SafetyReport")
    if version < 6:
        run("DROP TABLE ScriptRequest")  # v6 added the script-request queue, the entries' category and customer types,
        run("ALTER TABLE Entry DROP category")
        run("ALTER TABLE Entry DROP customer_types")
        run("DROP TABLE CompetitorObservation")  # … competitor photos, observations and SKU corrections
        run("DROP TABLE CompetitorPhoto")
        run("DROP TABLE SkuCorrection")
    if version < 5:
        run("DROP TABLE Promotion")  # v5 added promotions and price events
        run("DROP TABLE PriceEvent")
    if version < 4:
        run("DROP TABLE STATUS_IN")  # v4 added the formulary row fields, STATUS_IN and FormularyDecision
        run("DROP TABLE FormularyDecision")
        for column in ("section", "nrdl_name", "dosage_form", "match_reason", "decided_by"):
            run(f"ALTER TABLE LISTED_IN DROP {column}")
    if version < 3:
        run("ALTER TABLE Product DROP case_size")  # v3 added Product.case_size and the change log
        run("DROP TABLE Change")
        run("DROP TABLE _ChangeHead")
    if version < 2:
        run("ALTER TABLE PURCHASED DROP unit")  # v2 added PURCHASED.unit
    run("MATCH (m:_Meta {key: 'schema_version'}) SET m.value = $v", {"v": str(version)})


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6, 7, 8])
def test_embedded_store_migrates_an_older_store(tmp_path: Path, version: int) -> None:
    """A store written by an older schema is upgraded in place on open, data kept, new features usable."""
    from graph.embedded import SCHEMA_VERSION, EmbeddedGraphStore
    from graph.ports import ChangeDraft

    store = EmbeddedGraphStore(tmp_path / "old", buffer_pool_mb=1024)
    for batch in sample_nodes("t1"):
        if (isinstance(batch[0], Task) and version < 8) or (isinstance(batch[0], SafetyReport) and version < 7):
            continue
        if isinstance(batch[0], ScriptRequest) and version < 6:
            continue
        if isinstance(batch[0], Promotion | PriceEvent) and version < 5:
            continue
        if not isinstance(batch[0], Change) or version >= 3:
            store.upsert_nodes("t1", batch)
    for edges in sample_edges("t1"):
        store.upsert_edges("t1", edges)
    _as_old_schema(store, version)
    store.close()
    reopened = EmbeddedGraphStore(tmp_path / "old", buffer_pool_mb=1024)
    assert reopened.schema_version() == SCHEMA_VERSION == 9
    assert reopened.counts("t1")["t1"]["PURCHASED"] == 5
    listed = [e for page in reopened.iter_edges("t1", ListedIn) for e in page]
    assert len(listed) == 1 and listed[0].code == "455"
    assert listed[0].section == (None if version < 4 else "西药部分")  # v4 added the row's fields to LISTED_IN
    reopened.upsert_edges(
        "t1", [FormularyStatus(tenant="t1", sku="SKU-MET-05", edition_id="NRDL-2024", state="review", reason="x")]
    )
    (promotion,) = [p for batch in sample_nodes("t1") for p in batch if isinstance(p, Promotion)]
    reopened.upsert_nodes("t1", [promotion])
    assert reopened.get_node("t1", Promotion, "CX-1") == promotion
    if version == 1:
        assert {p.unit for p in reopened.price_history("t1", "SKU-ATV-20")} == {None}
    product = reopened.get_node("t1", Product, "SKU-ATV-20")
    assert product is not None and product.case_size is None and product.pack_size == 7
    head = reopened.change_head("t1")  # the upserts since the store was opened logged theirs (v3 added the log)
    assert head >= 1 and reopened.append_change("t1", ChangeDraft("ingest")).seq == head + 1
    entries = [e for page in reopened.iter_nodes("t1", Entry) for e in page]
    assert entries and (version >= 6 or all(e.category is None and e.customer_types == [] for e in entries))
    assert all(e.revision is None and e.impact_severity is None and e.impact_skus == [] for e in entries)
    kept = {(e.id, e.title, e.body) for batch in sample_nodes("t1") for e in batch if isinstance(e, Entry)}
    assert {(e.id, e.title, e.body) for e in entries} == kept  # v7 kept every entry's text
    at = dt.datetime(2026, 12, 1)
    request = ScriptRequest(tenant="t1", id="SR-9", query="发票老是开错", requested_by="rep", at=at)
    reopened.upsert_nodes("t1", [request])
    assert reopened.get_node("t1", ScriptRequest, "SR-9") == request
    report = SafetyReport(tenant="t1", id="SAFE-1", source="note", at=at, text="吃了X头晕", sentence="吃了X头晕")
    reopened.upsert_nodes("t1", [report])
    assert reopened.get_node("t1", SafetyReport, "SAFE-1") == report
    (task,) = [n for batch in sample_nodes("t1") for n in batch if isinstance(n, Task)]
    reopened.upsert_nodes("t1", [task])  # v8: reps' task states
    assert reopened.get_node("t1", Task, task.id) == task
    photo = CompetitorPhoto(
        tenant="t1", id="f" * 64, media_type="image/jpeg", size_bytes=1, width=1, height=1,
        taken_on=dt.date(2026, 12, 1), uploaded_by="店长", uploaded_at=dt.datetime(2026, 12, 1, 9, 0),
    )  # fmt: skip
    reopened.upsert_nodes("t1", [photo])
    photos, total = reopened.competitor_photos("t1")
    assert photo in photos and total == (1 if version < 6 else 2)  # a v6 store kept its sample photo
    key = KeyRecord("k1", "t1", "rep", "张三", "d" * 64, dt.datetime(2026, 12, 1, 9, 0), rep_id="R-1")
    reopened.create_key(key)  # v9: the API keys
    assert reopened.keys_by_ids(["k1"]) == [key] and reopened.list_keys("t1") == [key]
    reopened.close()


def test_a_page_past_the_end_is_empty(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    """Offsets at or far past the last row give an empty page, never a query that could crash the engine.

    LadybugDB crashed the process on ``ORDER BY … SKIP n`` with ``n`` far past the end (the API fuzz test paging
    the script-request queue with offset 1,000,000).
    """
    t = tenant_factory()
    load_sample(store, t)
    assert store.list_nodes(t, ScriptRequest, limit=1, offset=1) == []  # exactly at the end (one request)
    for offset in (100_000, 1_000_000):
        assert store.list_nodes(t, ScriptRequest, limit=1, offset=offset) == []
        page = store.search_nodes(t, ScriptRequest, text="open", fields=("status",), limit=500, offset=offset)
        assert page.items == [] and page.total == 1
        assert store.search_entries(t, limit=1, offset=offset).items == []
        assert store.competitor_photos(t, limit=50, offset=offset) == ([], 1)
        assert store.competitor_observations(t, limit=1, offset=offset) == []
    assert len(store.list_nodes(t, ScriptRequest, limit=1, offset=0)) == 1


def test_embedded_store_keeps_writing_past_its_buffer_pool(tmp_path: Path) -> None:
    """Many small writes fit in a small buffer pool: what each write's Arrow frame took is given back.

    LadybugDB keeps the pages a statement scanning an Arrow parameter used until its connection closes; before the
    store opened a fresh connection after such writes, the 64 MB pool was full after 4 upserts of one product, and a
    service with the default 1 GB pool stopped writing after about 28 uploaded photos.
    """
    from graph.embedded import EmbeddedGraphStore
    from graph.frames import models_to_table

    store = EmbeddedGraphStore(tmp_path / "small", buffer_pool_mb=64)
    try:
        for i in range(40):
            product = Product(
                tenant="t1", sku=f"P{i:03d}", name="感冒灵颗粒", generic_name="感冒灵颗粒", list_price=9.9
            )
            store.upsert_nodes("t1", [product])  # one transaction
            customers = models_to_table(Customer, [Customer(tenant="t1", id=f"C{i:03d}", name="门店", type="chain")])
            store.bulk_load("t1", Customer, customers)  # one auto-committed COPY
        assert store.counts("t1")["t1"]["Product"] == 40
        assert store.counts("t1")["t1"]["Customer"] == 40
    finally:
        store.close()
