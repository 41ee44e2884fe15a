"""Multi-type loads of every backend: one transaction with one change record; curated entries never overwritten."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pyarrow as pa
import pytest

from graph.base import CypherGraphStore
from graph.errors import ConflictError, InvalidRowError, UnknownReferenceError
from graph.frames import models_to_table
from graph.model import (
    AuditEvent,
    Change,
    Customer,
    Entry,
    EntryVersion,
    FormularyStatus,
    ListedIn,
    Owns,
    Product,
    Purchased,
    Rep,
)
from graph.ports import ChangeDraft
from tests.contract.test_graph_store import load_sample

TenantFactory = Callable[..., str]


def _customers(t: str, n: int) -> pa.Table:
    rows = [Customer(tenant=t, id=f"C-{i:04d}", name=f"测试药房{i}号店", type="chain") for i in range(n)]
    return models_to_table(Customer, rows).drop_columns(["tenant"])


def test_a_multi_type_load_is_all_or_nothing(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    rep = models_to_table(Rep, [Rep(tenant=t, id="R-1", name="王强")]).drop_columns(["tenant"])
    owns = pa.table({"rep_id": ["R-1", "R-1"], "customer_id": ["C-0000", "C-9999"]})  # C-9999 does not exist
    with pytest.raises(UnknownReferenceError):
        store.load_batch(t, [(Customer, _customers(t, 50)), (Rep, rep), (Owns, owns)], change=ChangeDraft("ingest"))
    assert store.counts(t) == {t: {}}  # neither the customers nor the rep of the failed load
    assert store.changes(t) == []
    owns = pa.table({"rep_id": ["R-1"], "customer_id": ["C-0000"]})
    result = store.load_batch(
        t, [(Owns, owns), (Customer, _customers(t, 50)), (Rep, rep)], change=ChangeDraft("ingest", actor="李工")
    )
    assert (result["Customer"].created, result["Rep"].created, result["Owns"].created) == (50, 1, 1)
    [change] = store.changes(t)
    assert (change.seq, change.kind, change.actor) == (1, "ingest", "李工")
    written = json.loads(change.details)["written"]  # what a follower of the log re-reads
    assert written["Customer"] == [f"C-{i:04d}" for i in range(50)] and written["Rep"] == ["R-1"]
    assert (written["Owns.rep_id"], written["Owns.customer_id"]) == (["R-1"], ["C-0000"])
    assert store.change_head(t) == 1


def test_change_log_is_monotonic_per_tenant(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    a, b = tenant_factory("a"), tenant_factory("b")
    for i in range(3):
        store.append_change(a, ChangeDraft("ingest", ids=(f"f{i}.csv",), details={"n": i}))
    store.append_change(b, ChangeDraft("ingest"))
    assert [c.seq for c in store.changes(a)] == [1, 2, 3]
    assert [c.seq for c in store.changes(a, after=1)] == [2, 3]
    assert [c.seq for c in store.changes(a, after=1, limit=1)] == [2]
    assert json.loads(store.changes(a)[2].details) == {"n": 2}
    assert [c.seq for c in store.changes(b)] == [1]
    assert [c.tenant for c in store.changes(b)] == [b]
    assert (store.change_head(a), store.change_head(b), store.change_head(tenant_factory("c"))) == (3, 1, 0)


def test_change_log_read_across_a_gap_left_by_an_imported_backup(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    """Records 1, 2 and 5 imported (3 and 4 absent): a follower still reads 5, and the next write is 6."""
    t = tenant_factory("gap")
    at = dt.datetime(2025, 1, 2, 3, 4, 5)
    imported = [Change(tenant=t, id=f"{s:012d}", seq=s, kind="ingest", at=at) for s in (1, 2, 5)]
    store.bulk_load(t, Change, models_to_table(Change, imported))
    assert store.change_head(t) == 5
    assert [c.seq for c in store.changes(t)] == [1, 2, 5]
    assert [c.seq for c in store.changes(t, after=2)] == [5]
    assert [c.seq for c in store.changes(t, after=2, limit=1)] == [5]
    assert store.changes(t, after=5) == []
    store.append_change(t, ChangeDraft("entry_saved"))
    assert [c.seq for c in store.changes(t, after=2)] == [5, 6]
    assert [c.seq for c in store.changes(t, after=5)] == [6]


def test_loading_an_existing_entry_goes_through_the_versioned_save(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    t = tenant_factory()
    load_sample(store, t)
    before = store.get_node(t, Entry, "E-1")
    assert before is not None
    unchanged = models_to_table(Entry, [before]).drop_columns(["tenant"])
    result = store.load_batch(t, [(Entry, unchanged)], change=ChangeDraft("ingest"))["Entry"]
    assert (result.created, result.updated) == (0, 0)
    # A file (or an older backup) holding other text, and a version number lower than the stored one:
    older = before.model_copy(update={"body": "旧文件里的正文。", "version": 1})
    result = store.load_batch(
        t, [(Entry, models_to_table(Entry, [older]).drop_columns(["tenant"]))], change=ChangeDraft("ingest", "管理员")
    )["Entry"]
    assert (result.created, result.updated) == (0, 1)
    after = store.get_node(t, Entry, "E-1")
    assert after is not None and after.body == "旧文件里的正文。" and after.version == before.version + 1
    kept = store.get_node(t, EntryVersion, f"E-1@{before.version}")
    assert kept is not None and kept.body == before.body
    assert store.audit_trail(t, "Entry", "E-1")[-1].actor == "管理员"
    assert [c.kind for c in store.changes(t)][-1] == "ingest"


def test_history_records_are_never_overwritten(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    [audit] = [a for a in store.audit_trail(t, "Entry", "E-1") if a.id == "A-1"]
    forged = models_to_table(AuditEvent, [audit.model_copy(update={"actor": "别人"})]).drop_columns(["tenant"])
    with pytest.raises(ConflictError):
        store.load_batch(t, [(AuditEvent, forged)], change=ChangeDraft("import"))
    same = models_to_table(AuditEvent, [audit]).drop_columns(["tenant"])
    assert store.load_batch(t, [(AuditEvent, same)], change=ChangeDraft("import"))["AuditEvent"].created == 0


def test_a_duplicate_key_is_a_conflict_not_a_crash(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    entry = store.get_node(t, Entry, "E-1")
    assert entry is not None
    audit = AuditEvent(
        tenant=t, id="A-1", at=dt.datetime(2026, 1, 1), actor="x", action="edit", target_label="Entry", target_key="E-1"
    )  # the id of an existing audit record
    with pytest.raises(ConflictError):
        store.save_entry(t, entry.model_copy(update={"body": "新"}), expected_version=entry.version, audit=audit)
    again = store.get_node(t, Entry, "E-1")
    assert again == entry  # nothing of the failed save was written


def test_order_lines_and_products_load_together(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    products = models_to_table(
        Product, [Product(tenant=t, sku="P-1", name="阿莫西林胶囊", unit="盒", pack_size=24, case_size=200)]
    ).drop_columns(["tenant"])
    lines = models_to_table(
        Purchased,
        [
            Purchased(
                tenant=t,
                customer_id="C-0001",
                sku="P-1",
                order_id="SO-1",
                line=1,
                at=dt.date(2026, 1, 5),
                qty=2,
                unit_price=1800.0,
                unit="件",
            )
        ],
    ).drop_columns(["tenant"])
    store.load_batch(
        t, [(Purchased, lines), (Product, products), (Customer, _customers(t, 3))], change=ChangeDraft("ingest")
    )
    product = store.get_node(t, Product, "P-1")
    assert product is not None and product.case_size == 200
    assert [p.unit for p in store.price_history(t, "P-1")] == ["件"]


def test_narrow_reads_entry_links_and_nodes_by_keys(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    from graph.ports import EntryLinks

    t, other = tenant_factory(), tenant_factory("o")
    load_sample(store, t)
    load_sample(store, other)
    links = store.entry_links(t, ["E-1", "E-2", "E-NOPE"])
    assert set(links) == {"E-1", "E-2"}
    assert links["E-1"] == EntryLinks(skus=("SKU-ATV-20",), indications=("高胆固醇血症",), customers=())
    assert links["E-2"] == EntryLinks(customers=("C-001",))
    assert store.entry_links(other, ["E-1"])["E-1"].skus == ("SKU-ATV-20",)  # the other tenant's own E-1
    assert all(isinstance(v, EntryLinks) for v in links.values())
    found = store.nodes_by_keys(t, Customer, ["C-001", "C-002", "C-NOPE", "C-001"])
    assert sorted(c.id for c in found) == ["C-001", "C-002"] and {c.tenant for c in found} == {t}
    assert store.nodes_by_keys(t, Customer, []) == []


def test_a_load_can_replace_edges_in_its_transaction(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    """A re-apply moves a product from review to matched: its STATUS_IN edge goes, LISTED_IN comes, at once."""
    t = tenant_factory()
    load_sample(store, t)
    pair = pa.table({"sku": ["SKU-MET-05"], "edition_id": ["NRDL-2024"]})
    listed = models_to_table(
        ListedIn,
        [ListedIn(tenant=t, sku="SKU-MET-05", edition_id="NRDL-2024", category="甲", code="129", section="西药部分")],
    ).drop_columns(["tenant"])
    before = len(store.changes(t))
    result = store.load_batch(
        t, [(ListedIn, listed)], change=ChangeDraft("formulary_applied"), deletes=[(FormularyStatus, pair)]
    )
    assert result["FormularyStatus.deleted"].deleted == 1 and result["ListedIn"].created == 1
    assert [e for page in store.iter_edges(t, FormularyStatus) for e in page] == []
    assert {e.sku for page in store.iter_edges(t, ListedIn) for e in page} == {"SKU-ATV-20", "SKU-MET-05"}
    assert len(store.changes(t)) == before + 1
    again = store.load_batch(t, [], change=ChangeDraft("formulary_applied"), deletes=[(FormularyStatus, pair)])
    assert again["FormularyStatus.deleted"].deleted == 0 and len(store.changes(t)) == before + 1  # nothing changed
    with pytest.raises(InvalidRowError):
        store.load_batch(
            t, [], change=ChangeDraft("x"), deletes=[(Purchased, pa.table({"customer_id": [], "sku": []}))]
        )


def test_every_write_reaches_the_change_log(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    """upsert_nodes / upsert_edges / bulk_load append one record naming what they wrote, none when nothing changed.

    A follower of the log (the service's indexes, the task lists' read model) must see each of them; a failed upsert
    writes neither its rows nor a record (one transaction).
    """
    t = tenant_factory()
    store.upsert_nodes(t, [Rep(tenant=t, id="R-1", name="王强")])
    store.bulk_load(t, Customer, _customers(t, 3))
    store.upsert_edges(t, [Owns(tenant=t, rep_id="R-1", customer_id="C-0001")])
    kinds = [(c.seq, c.kind, json.loads(c.details)["written"]) for c in store.changes(t)]
    assert kinds == [
        (1, "upsert", {"Rep": ["R-1"]}),
        (2, "bulk_load", {"Customer": ["C-0000", "C-0001", "C-0002"]}),
        (3, "upsert", {"Owns.customer_id": ["C-0001"], "Owns.rep_id": ["R-1"]}),
    ]
    store.upsert_nodes(t, [Rep(tenant=t, id="R-1", name="王强")])  # the same values: no change, no record
    store.bulk_load(t, Customer, _customers(t, 3))
    assert store.change_head(t) == 3
    store.upsert_nodes(t, [Rep(tenant=t, id="R-1", name="王强强")])
    assert [c.kind for c in store.changes(t, after=3)] == ["upsert"]
    with pytest.raises(UnknownReferenceError):
        store.upsert_edges(t, [Owns(tenant=t, rep_id="R-1", customer_id="C-9999")])
    assert store.change_head(t) == 4
    assert len(store.edges_of(t, Owns, sources=["R-1"])) == 1
