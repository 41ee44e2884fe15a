"""Batch preparation: errors name the row and column; valid rows survive the round trip."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.errors import InvalidRowError
from graph.frames import UID, conform, edge_frame, models_to_table, node_frame
from graph.model import Customer, Product, Purchased


def test_conform_fills_tenant_and_optional_columns() -> None:
    out = conform(Product, pa.table({"sku": ["A"], "name": ["阿莫西林胶囊"]}), "t1")
    row = out.to_pylist()[0]
    assert row["tenant"] == "t1" and row["list_price"] is None and row["sku"] == "A"


def test_conform_names_row_and_column() -> None:
    table = pa.table({"sku": ["A", "B", None], "name": ["x", "y", "z"]})
    with pytest.raises(InvalidRowError) as e:
        conform(Product, table, "t1")
    assert e.value.details == {"row": 3, "column": "sku"}


def test_conform_rejects_uncastable_column() -> None:
    with pytest.raises(InvalidRowError, match="list_price"):
        conform(Product, pa.table({"sku": ["A"], "name": ["x"], "list_price": ["十二元"]}), "t1")


def test_node_frame_keeps_last_duplicate() -> None:
    table = pa.table({"sku": ["A", "B", "A"], "name": ["旧", "b", "新"]})
    frame = node_frame(Product, table, "t1")
    assert frame.num_rows == 2
    assert {r["sku"]: r["name"] for r in frame.to_pylist()} == {"A": "新", "B": "b"}
    assert frame.column_names[0] == UID


def test_edge_frame_identity_is_order_and_line() -> None:
    rows = [
        Purchased(
            tenant="t", customer_id="C", sku="S", order_id="O", line=1, at=dt.date(2025, 1, 1), qty=1, unit_price=1.0
        ),
        Purchased(
            tenant="t", customer_id="C", sku="S", order_id="O", line=2, at=dt.date(2025, 1, 1), qty=1, unit_price=1.0
        ),
    ]
    frame = edge_frame(Purchased, models_to_table(Purchased, rows), "t")
    assert frame.column(UID).to_pylist() == [rows[0].uid, rows[1].uid]


def test_models_to_table_rejects_mixed_types() -> None:
    with pytest.raises(InvalidRowError, match="expected Product"):
        models_to_table(
            Product, [Product(tenant="t", sku="A", name="x"), Customer(tenant="t", id="C", name="c", type="chain")]
        )  # type: ignore[list-item]


names = st.text(
    alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4E80) | st.sampled_from("abcXYZ0-9()（）"),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, names, st.none() | st.floats(0, 1e6, allow_nan=False)), min_size=1, max_size=20))
def test_products_round_trip_through_frames(rows: list[tuple[str, str, float | None]]) -> None:
    products = [Product(tenant="t", sku=sku, name=name, list_price=price) for sku, name, price in rows]
    frame = node_frame(Product, models_to_table(Product, products), "t")
    last = {p.sku: p for p in products}
    assert frame.num_rows == len(last)
    back = {r["sku"]: Product.model_validate({k: v for k, v in r.items() if k != UID}) for r in frame.to_pylist()}
    assert back == last
