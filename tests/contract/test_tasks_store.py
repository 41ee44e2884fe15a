"""Reps' tasks on every backend: the territory reads, and a task closed by an interaction (the done round trip)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest

from copilot import tasks
from graph.base import CypherGraphStore
from graph.errors import NotFoundError
from graph.model import AuditEvent, Change, Had, Interaction, InteractionWith, Purchased, Rep, Task
from graph.ports import ChangeDraft
from tests.contract.test_graph_store import load_sample

TenantFactory = Callable[..., str]


def test_purchase_lines_read_the_customers_lines_in_the_dates(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    t, other = tenant_factory(), tenant_factory()
    load_sample(store, t)
    since, until = dt.date(2025, 3, 1), dt.date(2025, 6, 30)
    table = store.purchase_lines(t, ["C-001", "C-002", "C-404"], since=since, until=until)
    want = sorted(
        (p.customer_id, p.at, p.sku, p.qty, p.unit_price)
        for p in store.edges_of(t, Purchased, sources=["C-001", "C-002"])
        if since <= p.at <= until
    )
    got = sorted(zip(*(table[n].to_pylist() for n in ("customer_id", "at", "sku", "qty", "unit_price")), strict=True))
    assert got == want and len(got) >= 2
    assert table.column_names == ["customer_id", "sku", "at", "qty", "unit_price"]
    assert store.purchase_lines(other, ["C-001"], since=since, until=until).num_rows == 0  # another tenant's
    assert store.purchase_lines(t, [], since=since, until=until).num_rows == 0


def test_customer_interactions_read_up_to_a_time(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    table = store.customer_interactions(t, ["C-001", "C-002"], until=dt.datetime(2025, 12, 31))
    (row,) = table.to_pylist()
    assert row["customer_id"] == "C-001" and row["id"] == "I-1" and row["next_step"] == "下周带降价方案回访"
    assert row["at"] == dt.datetime(2025, 9, 1, 10, 30)
    assert store.customer_interactions(t, ["C-001"], until=dt.datetime(2025, 9, 1, 10, 29)).num_rows == 0


def test_a_task_closed_by_a_new_interaction(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    """Done → an interaction of the rep with the customer, linked from the stored task; the list shows it done."""
    t = tenant_factory()
    load_sample(store, t)
    day = dt.date(2025, 9, 10)  # I-1 (09-01) recorded a price objection, nothing since
    (item,) = [i for i in tasks.build_tasks(store, t, "R-1", as_of=day).items if i.customer_id == "C-001"
               and i.trigger == "objection_no_followup"]  # fmt: skip
    assert item.subject == "I-1" and item.state == "open" and "I-1" in item.reason

    done = tasks.set_state(
        store, t, "R-1", item.id, state="done", as_of=day, actor="test rep",
        interaction=tasks.NewInteraction("电话回访店长，已发送阿托伐他汀价格方案", channel="电话"),
    )  # fmt: skip
    assert done.state == "done" and done.interaction_id
    iid = done.interaction_id
    made = store.get_node(t, Interaction, iid)
    assert made is not None and made.summary == "电话回访店长，已发送阿托伐他汀价格方案" and made.channel == "电话"
    assert [e.customer_id for e in store.edges_of(t, InteractionWith, sources=[iid])] == ["C-001"]
    assert [e.rep_id for e in store.edges_of(t, Had, targets=[iid])] == ["R-1"]
    stored = store.get_node(t, Task, item.id)
    assert stored is not None and stored.state == "done" and stored.interaction_id == iid
    assert stored.trigger == "objection_no_followup" and stored.customer_id == "C-001" and stored.subject == "I-1"
    assert store.audit_trail(t, Task.label, item.id)[-1].action == "task_done"
    again = {i.id: i for i in tasks.build_tasks(store, t, "R-1", as_of=day).items}
    assert again[item.id].state == "done" and again[item.id].interaction_id == iid


def test_state_changes_check_their_input(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    day = dt.date(2025, 10, 5)  # K-1 ends 2025-12-31 (87 days: the 90-day band); I-1's next step is 34 days old
    items = {i.trigger: i for i in tasks.build_tasks(store, t, "R-1", as_of=day).items}
    contract = items["contract_ending"]
    assert contract.subject == "K-1" and contract.detail == "90"
    with pytest.raises(tasks.TaskStateError):
        tasks.set_state(store, t, "R-1", contract.id, state="dismissed", as_of=day, actor="x")
    with pytest.raises(tasks.TaskStateError):
        tasks.set_state(store, t, "R-1", contract.id, state="snoozed", as_of=day, actor="x", snoozed_until=day)
    with pytest.raises(tasks.TaskStateError):
        tasks.set_state(store, t, "R-1", contract.id, state="done", as_of=day, actor="x")
    with pytest.raises(NotFoundError):  # an interaction of no such customer
        tasks.set_state(store, t, "R-1", contract.id, state="done", as_of=day, actor="x", interaction_id="I-404")
    store.upsert_nodes(t, [Rep(tenant=t, id="R-2", name="王强")])
    with pytest.raises(NotFoundError):  # another rep's task: unknown to it
        tasks.set_state(store, t, "R-2", contract.id, state="dismissed", as_of=day, actor="x", dismiss_reason="x")
    with pytest.raises(NotFoundError):
        tasks.set_state(store, t, "R-1", "T-unknown", state="dismissed", as_of=day, actor="x", dismiss_reason="x")
    assert store.get_node(t, Task, contract.id) is None  # nothing was written
    snoozed = tasks.set_state(store, t, "R-1", contract.id, state="snoozed", as_of=day, actor="x",
                              snoozed_until=day + dt.timedelta(days=3))  # fmt: skip
    assert snoozed.state == "snoozed"
    later = {i.id: i for i in tasks.build_tasks(store, t, "R-1", as_of=day + dt.timedelta(days=3)).items}
    assert later[contract.id].state == "open"  # the snooze ended
    closed = tasks.set_state(store, t, "R-1", contract.id, state="done", as_of=day, actor="x", interaction_id="I-1")
    assert closed.interaction_id == "I-1"
    band_30 = {i.id: i for i in tasks.build_tasks(store, t, "R-1", as_of=dt.date(2025, 12, 1)).items}
    assert band_30[contract.id].detail == "30" and band_30[contract.id].state == "open"  # a nearer band: again
    assert {a.action for a in store.audit_trail(t, Task.label, contract.id)} == {"task_snoozed", "task_done"}
    assert all(isinstance(a, AuditEvent) for a in store.audit_trail(t, Task.label, contract.id))


def test_the_read_model_shows_every_write_in_the_next_list(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    """A cached territory is the list read afresh; a write the rules read (even a plain upsert) shows at once.

    A task's state change writes nothing the rules read: the findings stay cached, the new state shows.
    """
    t = tenant_factory()
    load_sample(store, t)
    day = dt.date(2025, 9, 10)  # I-1 (09-01) recorded a price objection, nothing since
    cache = tasks.TaskCache()

    def both() -> list[dict[str, object]]:
        cached = tasks.build_tasks(store, t, "R-1", as_of=day, cache=cache)
        fresh = tasks.build_tasks(store, t, "R-1", as_of=day)
        assert [i.model_dump() for i in cached.items] == [i.model_dump() for i in fresh.items]
        assert cached.counts == fresh.counts and cached.customers == fresh.customers
        return [i.model_dump() for i in cached.items]

    first = both()
    assert both() == first and (cache.hits, cache.misses) == (1, 1)
    objection = next(i for i in first if i["trigger"] == "objection_no_followup" and i["subject"] == "I-1")
    tasks.set_state(store, t, "R-1", str(objection["id"]), state="dismissed", as_of=day, actor="test rep",
                    dismiss_reason="已电话沟通")  # fmt: skip
    after = both()
    assert (cache.hits, cache.misses) == (2, 1)  # a state change: the findings are still those cached
    assert next(i for i in after if i["id"] == objection["id"])["state"] == "dismissed"

    other = Interaction(tenant=t, id="I-CACHE-0", at=dt.datetime(2025, 9, 5, 9), channel="电话", summary="客户担心价格")
    store.upsert_nodes(t, [other])  # a visit to a customer R-1 does not own: its findings stay
    store.upsert_edges(t, [InteractionWith(tenant=t, interaction_id="I-CACHE-0", customer_id="C-002")])
    assert both() == after and cache.misses == 1

    call = Interaction(
        tenant=t, id="I-CACHE-1", at=dt.datetime(2025, 9, 5, 9), channel="电话", summary="回访，客户已下单"
    )
    store.upsert_nodes(t, [call])  # written outside a batch: logged all the same
    store.upsert_edges(t, [InteractionWith(tenant=t, interaction_id="I-CACHE-1", customer_id="C-001")])
    later = both()
    assert cache.misses == 2  # the new interaction was read: I-1 is no longer the latest, its task is gone
    assert not any(i["subject"] == "I-1" and i["trigger"] == "objection_no_followup" for i in later)

    held = store.change_head(t)  # the tenant deleted and loaded anew: a log begun again, past the cached head
    store.delete_tenant(t)
    load_sample(store, t)
    while store.change_head(t) <= held:
        store.append_change(t, ChangeDraft("note", details={"written": {"Task": []}}))  # concerns no one
    again = both()
    assert any(i["subject"] == "I-1" and i["trigger"] == "objection_no_followup" for i in again)


def test_a_change_records_customers_follow_its_keys(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    """What a record wrote leads to the customers it concerns: by key, or by the edges of what it names."""
    t = tenant_factory()
    load_sample(store, t)

    def of(written: dict[str, list[str]] | None, kind: str = "ingest", **extra: object) -> frozenset[str] | None:
        details = {**({"written": written} if written is not None else {}), **extra}
        change = Change(tenant=t, id="000000000001", seq=1, kind=kind, at=dt.datetime(2025, 9, 1),
                        details=json.dumps(details))  # fmt: skip
        return tasks.changed_customers(store, t, change)

    assert of({"Purchased.customer_id": ["C-002"], "Purchased.sku": ["SKU-ATV-20"]}) == {"C-002"}
    assert of({"Interaction": ["I-1"], "Had.rep_id": ["R-1"], "Had.interaction_id": ["I-1"]}) == {"C-001"}
    assert of({"Contract": ["K-1"]}) == of({"Deal": ["DL-1"]}) == of({"Quotes.deal_id": ["DL-1"]}) == {"C-001"}
    assert of({"SafetyReport": ["SAFE-I-1"]}) == {"C-001"}  # a report of I-1, stored or not
    assert of({"SafetyReport": ["SAFE-I-001"]}) == {"C-001"}  # a stored report names its customer
    assert of({"Customer": ["C-003"], "Task": ["T-1"], "AuditEvent": []}) == {"C-003"}
    assert of({"Task": ["T-1"], "AuditEvent": [], "Entry": ["E-1"]}) == frozenset()  # read by no rule
    assert of({"Interaction": ["I-404"]}) == frozenset()  # an interaction with no customer concerns none
    assert of({"Product": ["SKU-ATV-20"]}) is None  # the catalogue: every territory
    assert of({"FormularyStatus.sku": ["SKU-ATV-20"]}) is None
    assert of(None) is None and of({"Customer": ["C-001"]}, cut=["Customer"]) is None
    assert of(None, kind="entry_saved") == frozenset()
