"""Seeded synthetic graph data at any size, for benchmarks (not the demo dataset, which lives in ``ingest``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from graph.model import CustomerType

CUSTOMER_TYPES: list[CustomerType] = ["chain", "single_pharmacy", "hospital", "clinic", "dtp"]
REGIONS = ["华东", "华南", "华北", "华中", "西南", "西北", "东北"]
TIERS = ["A", "B", "C"]


def products(n: int = 127) -> pa.Table:
    """``n`` products with list and floor prices."""
    rng = np.random.default_rng(1)
    price = np.round(rng.uniform(5, 300, n), 2)
    return pa.table(
        {
            "sku": [f"SKU-{i:04d}" for i in range(n)],
            "name": [f"药品{i:04d}片" for i in range(n)],
            "list_price": price,
            "floor_price": np.round(price * 0.7, 2),
        }
    )


def customers(n: int) -> pa.Table:
    """``n`` customers spread over types, regions and tiers."""
    rng = np.random.default_rng(2)
    return pa.table(
        {
            "id": [f"CUST-{i:06d}" for i in range(n)],
            "name": [f"客户{i:06d}大药房" for i in range(n)],
            "type": np.array(CUSTOMER_TYPES)[rng.integers(0, len(CUSTOMER_TYPES), n)],
            "region": np.array(REGIONS)[rng.integers(0, len(REGIONS), n)],
            "tier": np.array(TIERS)[rng.integers(0, len(TIERS), n)],
        }
    )


def purchases(n: int, customer_ids: list[str], skus: list[str], *, seed: int = 3) -> pa.Table:
    """``n`` order lines over 540 days with prices around a per-SKU base."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(5, 300, len(skus))
    sku_idx = rng.integers(0, len(skus), n)
    return pa.table(
        {
            "customer_id": pa.array(np.array(customer_ids)[rng.integers(0, len(customer_ids), n)]),
            "sku": pa.array(np.array(skus)[sku_idx]),
            "order_id": pa.array(np.char.add("SO-", (np.arange(n) // 4).astype(str))),
            "line": pa.array(np.arange(n) % 4 + 1, pa.int64()),
            "at": pa.array(np.datetime64("2024-06-01") + rng.integers(0, 540, n).astype("timedelta64[D]")),
            "qty": pa.array(rng.integers(1, 200, n).astype(float)),
            "unit_price": pa.array(np.round(base[sku_idx] * rng.normal(1.0, 0.08, n), 2)),
        }
    )
