"""The price index answers a whole-SKU price history exactly as the store does, on every backend.

A running service serves the history from its in-memory index (no query); these tests hold it to the store's rows,
order and values, with every filter, for lines in units the checks cannot convert, for customers without a tier or
city, and with another tenant's lines of the same SKU in the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from graph.base import CypherGraphStore
from graph.model import Customer, Purchased
from graph.ports import PriceHistoryFilter
from pricing_guard.index import PriceIndex
from tests.contract.test_graph_store import load_sample

TenantFactory = Callable[..., str]
DAY = dt.date(2025, 3, 1)
UNITS = (None, "盒", "件", "瓶", "片")
"""瓶 converts to nothing for these SKUs: such lines are left out of the checks, never out of the history."""


def _lines(t: str, price: float) -> list[Purchased]:
    """Order lines over four customers and two SKUs: orders of several lines, days shared by several orders."""
    customers = ("C-001", "C-002", "C-003", "C-H", "C-X")
    out = []
    for i in range(90):
        out.append(
            Purchased(
                tenant=t,
                customer_id=customers[i % 5],
                sku=("SKU-ATV-20", "SKU-MET-05")[i % 2],
                order_id=f"SO-{(i * 7) % 23:03d}",
                line=i // 23 + 1,
                at=DAY + dt.timedelta(days=(i * 11) % 40),
                qty=float(1 + i % 6),
                unit_price=round(price + (i % 9) * 0.37, 2),
                unit=UNITS[i % 5],
            )
        )
    return out


def _load(store: CypherGraphStore, t: str, price: float) -> None:
    load_sample(store, t)
    store.upsert_nodes(
        t,
        [
            Customer(tenant=t, id="C-H", name="市第一人民医院", type="hospital", region="华东"),
            Customer(tenant=t, id="C-X", name="新开诊所", type="clinic", region="华南", city="深圳", tier="C"),
        ],
    )
    store.upsert_edges(t, _lines(t, price))


FILTERS = [
    None,
    PriceHistoryFilter(),
    PriceHistoryFilter(customer_type="clinic"),
    PriceHistoryFilter(customer_type="hospital", date_from=DAY + dt.timedelta(days=10)),
    PriceHistoryFilter(tier="C"),
    PriceHistoryFilter(tier="A", region="华东"),
    PriceHistoryFilter(region="华南", date_to=DAY + dt.timedelta(days=20)),
    PriceHistoryFilter(date_from=DAY + dt.timedelta(days=5), date_to=DAY + dt.timedelta(days=5)),
    PriceHistoryFilter(limit=7),
    PriceHistoryFilter(customer_type="dtp", limit=3),
    PriceHistoryFilter(limit=0),
]


def _same(store: CypherGraphStore, index: PriceIndex, t: str, sku: str) -> None:
    for f in FILTERS:
        mine = index.price_history(sku, f)
        assert mine is not None, (sku, f)
        theirs = store.price_history(t, sku, f).table
        assert mine.table.schema == theirs.schema
        assert mine.table.to_pylist() == theirs.to_pylist(), (sku, f)


def test_the_index_answers_a_whole_sku_history_as_the_store_does(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    t, other = tenant_factory(), tenant_factory()
    _load(store, t, 30.0)
    _load(store, other, 55.0)  # the same SKUs and order ids in another tenant: never in this tenant's answer
    index = PriceIndex.from_store(store, t, as_of=DAY + dt.timedelta(days=60))
    for sku in ("SKU-ATV-20", "SKU-MET-05", "SKU-NONE"):
        _same(store, index, t, sku)
    full = index.price_history("SKU-ATV-20")
    assert full is not None and len(full) == 45 + 4  # and the sample's own lines of it
    assert "瓶" in full.column("unit") and None in full.column("tier") and None in full.column("city")
    compared = sum(len(lines.price) for lines in index.lines.values())  # the lines checks compare: no 瓶 lines
    assert compared < sum(len(store.price_history(t, s)) for s in ("SKU-ATV-20", "SKU-MET-05"))


def test_a_write_reaches_the_index_answer_when_its_change_is_applied(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    t = tenant_factory()
    _load(store, t, 30.0)
    index = PriceIndex.from_store(store, t, as_of=DAY + dt.timedelta(days=60))
    writer = PriceIndex.from_store(store, t, as_of=DAY + dt.timedelta(days=60))
    before = store.price_history(t, "SKU-MET-05").table.to_pylist()
    late = [
        Purchased(tenant=t, customer_id="C-002", sku="SKU-MET-05", order_id="SO-001", line=9, at=DAY, qty=2,
                  unit_price=12.5, unit="瓶"),
        Purchased(tenant=t, customer_id="C-H", sku="SKU-MET-05", order_id="SO-900", line=1,
                  at=DAY + dt.timedelta(days=90), qty=1, unit_price=13.0),
    ]  # fmt: skip
    store.upsert_edges(t, late)  # written by another process: this index has not seen it
    writer.add_order_lines(late)  # the writer's own update: appended out of date order, sorted at the next read
    _same(store, writer, t, "SKU-MET-05")
    stale = index.price_history("SKU-MET-05")
    assert stale is not None and stale.table.to_pylist() == before
    index.replace_lines("SKU-MET-05", store.price_history(t, "SKU-MET-05").table)  # what the feed's follower does
    _same(store, index, t, "SKU-MET-05")
    index.add_order_lines(late)  # the writer's own in-process update, then its change applied again: no double
    index.replace_lines("SKU-MET-05", store.price_history(t, "SKU-MET-05").table)
    _same(store, index, t, "SKU-MET-05")


def test_a_line_of_a_customer_the_index_does_not_hold_is_left_to_the_store(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    t = tenant_factory()
    _load(store, t, 30.0)
    index = PriceIndex.from_store(store, t, as_of=DAY + dt.timedelta(days=60))
    store.upsert_nodes(t, [Customer(tenant=t, id="C-NEW", name="新客户", type="clinic")])
    new = Purchased(tenant=t, customer_id="C-NEW", sku="SKU-ATV-20", order_id="SO-NEW", at=DAY, qty=1, unit_price=31)
    store.upsert_edges(t, [new])
    index.replace_lines("SKU-ATV-20", store.price_history(t, "SKU-ATV-20").table)
    assert index.price_history("SKU-ATV-20") is None  # no name, type or region of C-NEW here: not an exact answer
    assert index.price_history("SKU-MET-05") is not None
    index.set_customers([Customer(tenant=t, id="C-NEW", name="新客户", type="clinic")])
    _same(store, index, t, "SKU-ATV-20")
