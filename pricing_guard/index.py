"""The in-memory price index: every order line of a tenant, per SKU, ready for checks that never touch the database.

Built once from the graph (one price-history read per SKU) and updated incrementally when order lines arrive: new
lines are appended to their SKU and only that SKU's cached bands are dropped.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from graph.model import Customer, ListedIn, Product, Purchased
from graph.ports import GraphStore
from graph.units import UnitRule
from pricing_guard.bands import Band, recency_weights, robust_band
from pricing_guard.peers import LEVELS, PeerKey, volume_band, volume_edges
from pricing_guard.policy import PaymentStandard, payment_standard_per_pack
from pricing_guard.units import factors

EPOCH = dt.date(2000, 1, 1)


def day(d: dt.date) -> int:
    """Days since 2000-01-01 (dates as integers in the arrays)."""
    return (d - EPOCH).days


@dataclass
class CustomerInfo:
    """What peers are grouped by."""

    id: str
    name: str
    type: str
    tier: str | None
    region: str | None
    city: str | None


@dataclass
class SkuLines:
    """All order lines of one SKU as parallel arrays."""

    price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    qty: np.ndarray = field(default_factory=lambda: np.zeros(0))
    day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    customer: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    codes: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int32))
    bands: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    edges: tuple[float, float] = (0.0, 0.0)
    cache: dict[tuple[object, ...], tuple[Band | None, np.ndarray]] = field(default_factory=dict)

    def append(
        self,
        price: np.ndarray,
        qty: np.ndarray,
        days: np.ndarray,
        customers: list[str],
        orders: list[str],
        codes: np.ndarray,
    ) -> None:
        """Add lines with their customers' attribute codes; drops the cached bands of this SKU only."""
        self.price = np.concatenate([self.price, price])
        self.qty = np.concatenate([self.qty, qty])
        self.day = np.concatenate([self.day, days]).astype(np.int64)
        self.customer += customers
        self.order += orders
        self.codes = np.concatenate([self.codes, codes]).astype(np.int32)
        self.edges = volume_edges(self.qty)
        self.bands = np.digitize(self.qty, self.edges, right=True).astype(np.int32)
        self.cache = {}


@dataclass
class ProductInfo:
    """Policy facts of a SKU."""

    sku: str
    name: str
    list_price: float | None
    floor_price: float | None
    payment_standard: PaymentStandard | None
    unit: str | None = None
    pack_size: int | None = None
    case_size: int | None = None

    @property
    def units(self) -> UnitRule:
        """How this SKU's lines convert to its selling unit."""
        return UnitRule(self.unit, self.pack_size, self.case_size)


UNKNOWN_UNIT = "unit"
"""Reason key of order lines left out of the bands because their unit cannot be converted."""
EXCLUSION_NAMES = {UNKNOWN_UNIT: "单位无法换算"}
"""How each reason for leaving order lines out of the bands reads to a rep."""


class PriceIndex:
    """Order lines, customers and policy facts of one tenant, in memory."""

    def __init__(self, tenant: str, *, window_days: int = 365, half_life_days: float = 180.0) -> None:
        self.tenant = tenant
        self.window_days = window_days
        self.half_life_days = half_life_days
        self.customers: dict[str, CustomerInfo] = {}
        self.products: dict[str, ProductInfo] = {}
        self.lines: dict[str, SkuLines] = {}
        self._lock = threading.RLock()
        self._codes: dict[object, int] = {}
        self.excluded: dict[str, dict[str, int]] = {}
        """Per SKU: order lines left out of the bands, by reason (e.g. ``unit``: unit not convertible)."""
        self._by_customer: dict[str, tuple[int, int, int]] = {}

    # ------------------------------------------------------------------ build and update

    @classmethod
    def from_store(
        cls,
        store: GraphStore,
        tenant: str,
        *,
        as_of: dt.date | None = None,
        window_days: int = 365,
        half_life_days: float = 180.0,
    ) -> PriceIndex:
        """Read customers, products, the formulary edition in force and every order line of the tenant."""
        index = cls(tenant, window_days=window_days, half_life_days=half_life_days)
        index.set_customers(store.customers(tenant))
        products = list(store.catalogue(tenant).products)
        editions = store.formulary_editions(tenant)
        today = as_of or dt.date.today()
        in_force = max(
            (e for e in editions if e.effective_date is None or e.effective_date <= today),
            key=lambda e: e.effective_date or dt.date.min,
            default=None,
        )
        listed = {e.sku: e for e in store.edges_of(tenant, ListedIn, targets=[in_force.id])} if in_force else {}
        index.set_products(products, listed)
        for p in products:
            history = store.price_history(tenant, p.sku).table
            if history.num_rows:
                index._append(
                    p.sku,
                    history.column("unit_price").to_numpy(),
                    history.column("qty").to_numpy(),
                    np.array([day(d) for d in history.column("at").to_pylist()], dtype=np.int64),
                    history.column("customer_id").to_pylist(),
                    history.column("order_id").to_pylist(),
                    history.column("unit").to_pylist(),
                )
        return index

    def add_table(self, lines: pa.Table) -> int:
        """Incremental update from an Arrow table of order lines (columns as `Purchased`); the bulk path."""
        with self._lock:
            skus = lines.column("sku").to_numpy(zero_copy_only=False)
            days = np.array([day(d) for d in lines.column("at").to_pylist()], dtype=np.int64)
            price = lines.column("unit_price").to_numpy()
            qty = lines.column("qty").to_numpy()
            customers = lines.column("customer_id").to_pylist()
            orders = lines.column("order_id").to_pylist()
            units = lines.column("unit").to_pylist() if "unit" in lines.column_names else [None] * lines.num_rows
            order = np.argsort(skus, kind="stable")
            bounds = np.flatnonzero(skus[order][1:] != skus[order][:-1]) + 1
            for group in np.split(order, bounds):
                if len(group):
                    g = group.tolist()
                    self._append(
                        str(skus[g[0]]), price[g], qty[g], days[g], [customers[i] for i in g], [orders[i] for i in g],
                        [units[i] for i in g],
                    )  # fmt: skip
        return int(lines.num_rows)

    def set_customers(self, customers: Iterable[Customer]) -> None:
        """Add or replace customers (their attributes define peer groups)."""
        with self._lock:
            for c in customers:
                self.customers[c.id] = CustomerInfo(c.id, c.name, c.type, c.tier, c.region, c.city)
                self._by_customer[c.id] = (self._code(c.type), self._code(c.tier), self._code(c.region))
            for lines in self.lines.values():
                lines.codes = self._customer_codes(lines.customer)
                lines.cache = {}

    def set_products(self, products: Iterable[Product], listed: dict[str, ListedIn] | None = None) -> None:
        """Add or replace products with their floor price and payment standard in force."""
        listed = listed or {}
        with self._lock:
            for p in products:
                entry = listed.get(p.sku)
                standard = (
                    payment_standard_per_pack(entry.payment_standard, pack_size=p.pack_size, spec=p.spec)
                    if entry
                    else None
                )
                self.products[p.sku] = ProductInfo(
                    p.sku, p.name, p.list_price, p.floor_price, standard, p.unit, p.pack_size, p.case_size
                )

    def add_order_lines(self, lines: Sequence[Purchased]) -> int:
        """Incremental update with new order lines (no rebuild); returns the number added."""
        by_sku: dict[str, list[Purchased]] = {}
        for line in lines:
            by_sku.setdefault(line.sku, []).append(line)
        with self._lock:
            for sku, group in by_sku.items():
                self._append(
                    sku,
                    np.array([g.unit_price for g in group]),
                    np.array([g.qty for g in group]),
                    np.array([day(g.at) for g in group], dtype=np.int64),
                    [g.customer_id for g in group],
                    [g.order_id for g in group],
                    [g.unit for g in group],
                )
        return len(lines)

    def _append(
        self,
        sku: str,
        price: np.ndarray,
        qty: np.ndarray,
        days: np.ndarray,
        customers: list[str],
        orders: list[str],
        units: list[str | None] | None = None,
    ) -> None:
        """Add lines of one SKU, converted to its selling unit; lines in an unknown unit are left out and counted."""
        if units is not None and any(units):
            info = self.products.get(sku)
            f = factors(units, info.units if info else UnitRule())
            keep = ~np.isnan(f)
            dropped = int((~keep).sum())
            if dropped:
                per_sku = self.excluded.setdefault(sku, {})
                per_sku[UNKNOWN_UNIT] = per_sku.get(UNKNOWN_UNIT, 0) + dropped
            price, qty, days = price[keep] / f[keep], qty[keep] * f[keep], days[keep]
            customers = [c for c, k in zip(customers, keep, strict=True) if k]
            orders = [o for o, k in zip(orders, keep, strict=True) if k]
        self.lines.setdefault(sku, SkuLines()).append(
            price, qty, days, customers, orders, self._customer_codes(customers)
        )

    def customer(self, customer_id: str) -> CustomerInfo | None:
        """What the index knows of a customer (type, tier, region, city), or ``None``."""
        with self._lock:
            return self.customers.get(customer_id)

    def customers_in(self, *, type: str, region: str | None) -> set[str]:
        """Ids of the customers of one type and region (a segment of peers)."""
        with self._lock:
            return {c.id for c in self.customers.values() if c.type == type and c.region == region}

    def buyers(self) -> dict[str, set[str]]:
        """Per SKU with order lines: the customers who bought it."""
        with self._lock:
            return {sku: set(lines.customer) for sku, lines in self.lines.items()}

    def has_product(self, sku: str) -> bool:
        """Whether the SKU is a product of the index (a quote line for another SKU is not checked)."""
        with self._lock:
            return sku in self.products

    @property
    def skipped_lines(self) -> int:
        """Order lines of every SKU left out of the bands (for any reason)."""
        return sum(n for per_sku in self.excluded.values() for n in per_sku.values())

    def exclusions(self, sku: str) -> dict[str, int]:
        """Lines of ``sku`` left out of its bands, by reason name a rep reads (e.g. 单位无法换算: 3)."""
        return {EXCLUSION_NAMES.get(k, k): n for k, n in sorted(self.excluded.get(sku, {}).items())}

    # ------------------------------------------------------------------ peers

    def _code(self, value: object) -> int:
        """Integer code of an attribute value (peer masks compare integers, not Python strings)."""
        code = self._codes.get(value)
        if code is None:
            code = self._codes[value] = len(self._codes)
        return code

    def _customer_codes(self, customers: list[str]) -> np.ndarray:
        missing = (self._code(None),) * 3
        rows = [self._by_customer.get(c, missing) for c in customers]
        return np.array(rows, dtype=np.int32).reshape(-1, 3)

    def peer_band(self, sku: str, key: PeerKey, level: int, on: dt.date) -> tuple[Band | None, np.ndarray]:
        """The band of a peer group and the indices of its lines (within the window before ``on``)."""
        lines = self.lines.get(sku)
        if lines is None or not len(lines.price):
            return None, np.zeros(0, dtype=np.int64)
        cache_key = (level, key.at(level), on)
        hit = lines.cache.get(cache_key)
        if hit is not None:
            return hit
        today = day(on)
        mask = (lines.day <= today) & (lines.day > today - self.window_days)
        columns = {"type": 0, "tier": 1, "region": 2}
        for a in LEVELS[level]:
            value = getattr(key, a)
            if a == "band":
                mask &= lines.bands == value
            else:
                mask &= lines.codes[:, columns[a]] == self._code(value)
        idx = np.flatnonzero(mask)
        band = None
        if len(idx):
            weights = recency_weights((today - lines.day[idx]).astype(float), self.half_life_days)
            band = robust_band(lines.price[idx], weights)
        lines.cache[cache_key] = (band, idx)
        return band, idx

    def key_for(self, customer_id: str, sku: str, qty: float) -> PeerKey | None:
        """The peer key of a customer quoting ``qty`` of ``sku`` (``None`` for an unknown customer)."""
        c = self.customers.get(customer_id)
        if c is None:
            return None
        edges = self.lines[sku].edges if sku in self.lines else (0.0, 0.0)
        return PeerKey(c.type, c.tier, c.region, volume_band(qty, edges))
