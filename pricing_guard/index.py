"""The in-memory price index: every order line of a tenant, per SKU, ready for checks that never touch the database.

Built once from the graph (one price-history read per SKU) with the tenant's customers, products, formulary,
promotions and price events. Each SKU's lines are classified once (`pricing_guard.history`: agreed prices,
promotions, dirt, events) and the customers' levels are fitted across SKUs (`pricing_guard.levels`); both are kept,
so a check is a few lookups. New order lines are appended to their SKU in place: only that SKU's analysis is dropped
and redone at its next check (customer levels move slowly and are refitted by the next build).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.model import Customer, FormularyEdition, ListedIn, PriceEvent, Product, Promotion, Purchased
from graph.ports import PRICE_HISTORY_SCHEMA, GraphStore, PriceHistory, PriceHistoryFilter
from graph.units import CASE_UNITS, SMALLEST_UNITS, UnitRule, normalise_unit
from pricing_guard import references
from pricing_guard.days import EPOCH, EPOCH_UNIX, day, days_of
from pricing_guard.events import INSTITUTIONS, TYPE_CODE, Event
from pricing_guard.history import BOX, CASE, CLEAN, PIECE, STATUS_KEYS, Promo, SkuHistory, analyse, latest, regimes
from pricing_guard.levels import Levels, fit_levels
from pricing_guard.policy import PaymentStandard, payment_standard_per_pack
from pricing_guard.units import factors

HISTORY_ORDER = [("at", "ascending"), ("order_id", "ascending"), ("line", "ascending")]
"""The order of a whole-SKU history: the store's (`graph.base.CypherGraphStore.price_history`)."""

PHARMACY_TYPES = frozenset({"chain", "single_pharmacy", "dtp"})
"""Retail customers, whose patients pay any excess over the reimbursement payment standard at the counter."""


@dataclass
class CustomerInfo:
    """What a customer is compared by, and its position (``code``) in the index's arrays."""

    id: str
    name: str
    type: str
    tier: str | None
    region: str | None
    city: str | None
    code: int = -1


class SkuLines:
    """All order lines of one SKU as parallel arrays (prices and quantities in the selling unit).

    The arrays are views of buffers with room to grow (doubling): appending a few new lines to a SKU of 100,000
    copies nothing, where concatenating would copy (and page in) every array of the SKU on every update.
    """

    __slots__ = ("_n", "_price", "_qty", "_day", "_cust", "_unit_kind", "customer", "order")

    def __init__(self) -> None:
        self._n = 0
        self._price = np.zeros(0)
        self._qty = np.zeros(0)
        self._day = np.zeros(0, dtype=np.int64)
        self._cust = np.zeros(0, dtype=np.int32)
        self._unit_kind = np.zeros(0, dtype=np.int8)
        self.customer: list[str] = []
        self.order: list[str] = []

    @property
    def price(self) -> np.ndarray:
        """Unit price per line, in the selling unit."""
        return self._price[: self._n]

    @property
    def qty(self) -> np.ndarray:
        """Quantity per line, in the selling unit."""
        return self._qty[: self._n]

    @property
    def day(self) -> np.ndarray:
        """Order day per line (days since the epoch)."""
        return self._day[: self._n]

    @property
    def cust(self) -> np.ndarray:
        """Customer code per line."""
        return self._cust[: self._n]

    @property
    def unit_kind(self) -> np.ndarray:
        """How each line was written (box, case, piece)."""
        return self._unit_kind[: self._n]

    def append(self, price: np.ndarray, qty: np.ndarray, days: np.ndarray, cust: np.ndarray, unit_kind: np.ndarray,
               customers: list[str], orders: list[str]) -> None:  # fmt: skip
        """Add lines at the end (the buffers grow by doubling when full)."""
        n, k = self._n, len(price)
        if n + k > len(self._price):  # room for as many again, or a quarter more after a bulk load
            size = max(n + k + max(k // 4, 16), 2 * len(self._price))
            self._price = _grown(self._price, n, size)
            self._qty = _grown(self._qty, n, size)
            self._day = _grown(self._day, n, size)
            self._cust = _grown(self._cust, n, size)
            self._unit_kind = _grown(self._unit_kind, n, size)
        self._price[n : n + k] = price
        self._qty[n : n + k] = qty
        self._day[n : n + k] = days
        self._cust[n : n + k] = cust
        self._unit_kind[n : n + k] = unit_kind
        self._n = n + k
        self.customer += customers
        self.order += orders


def _grown(a: np.ndarray, n: int, size: int) -> np.ndarray:
    """A buffer of ``size`` holding the first ``n`` values of ``a``."""
    out = np.zeros(size, dtype=a.dtype)
    out[:n] = a[:n]
    return out


class SkuRows:
    """One SKU's order lines as the store holds them (price, quantity and unit as written), for whole-SKU reads.

    `SkuLines` keeps what checks compare (converted to the selling unit, lines in an unknown unit left out); this
    keeps what the store's price history returns, so the index answers it without a query: the customer as its code
    (its name, type, tier, region and city are the index's `CustomerInfo`), the order id (an Arrow string array: a
    read hands it over as it is), line number, day, quantity, unit price and unit (a code into `PriceIndex.units`):
    ≈ 30 bytes per line plus the order id's characters. Kept in the store's order (date, order id, line): re-sorted
    once after appends, at the next read.
    """

    __slots__ = ("cust", "order", "line", "day", "qty", "price", "unit", "_sorted")

    def __init__(self) -> None:
        self.cust = np.zeros(0, dtype=np.int32)
        self.order = pa.array([], pa.string())
        self.line = np.zeros(0, dtype=np.int32)
        self.day = np.zeros(0, dtype=np.int32)
        self.qty = np.zeros(0)
        self.price = np.zeros(0)
        self.unit = np.zeros(0, dtype=np.int16)
        self._sorted = True

    def __len__(self) -> int:
        return len(self.order)

    def append(self, cust: np.ndarray, orders: list[str], line: np.ndarray, days: np.ndarray, qty: np.ndarray,
               price: np.ndarray, unit: np.ndarray, *, in_order: bool = False) -> None:  # fmt: skip
        """Add lines (in any order: the next read sorts them; ``in_order``: already in the store's order)."""
        if not len(orders):
            return
        was_empty = not len(self.order)
        self.cust = np.concatenate([self.cust, cust.astype(np.int32)])
        self.order = pa.concat_arrays([self.order, pa.array(orders, pa.string())])
        self.line = np.concatenate([self.line, line.astype(np.int32)])
        self.day = np.concatenate([self.day, days.astype(np.int32)])
        self.qty = np.concatenate([self.qty, qty.astype(np.float64)])
        self.price = np.concatenate([self.price, price.astype(np.float64)])
        self.unit = np.concatenate([self.unit, unit.astype(np.int16)])
        self._sorted = was_empty and in_order

    def sort(self) -> None:
        """Put the lines in the store's order: date, order id, line (Arrow's sort, as the store's read uses)."""
        if self._sorted:
            return
        keys = pa.table({"at": self.day, "order_id": self.order, "line": self.line})
        indices = pc.sort_indices(keys, sort_keys=HISTORY_ORDER)
        perm = indices.to_numpy()
        self.cust, self.line, self.day = self.cust[perm], self.line[perm], self.day[perm]
        self.qty, self.price, self.unit = self.qty[perm], self.price[perm], self.unit[perm]
        self.order = self.order.take(indices)
        self._sorted = True


@dataclass
class ProductInfo:
    """Policy facts of a SKU: floor price and the payment standard of each formulary edition."""

    sku: str
    name: str
    list_price: float | None
    floor_price: float | None
    payment_standard: PaymentStandard | None
    unit: str | None = None
    pack_size: int | None = None
    case_size: int | None = None
    spec: str | None = None
    standards: list[tuple[int, PaymentStandard | None]] = field(default_factory=list)
    """(first day in force, standard) of each edition listing the SKU, oldest first."""
    _rule: UnitRule | None = field(default=None, repr=False, compare=False)

    @property
    def units(self) -> UnitRule:
        """How this SKU's lines convert to its selling unit (made once: every check converts the quoted unit)."""
        rule = self._rule
        if rule is None or (rule.selling_unit, rule.pack_size, rule.case_size) != (self.unit, self.pack_size,
                                                                                     self.case_size):  # fmt: skip
            rule = self._rule = UnitRule(self.unit, self.pack_size, self.case_size)
        return rule

    def standard_on(self, on: int) -> PaymentStandard | None:
        """The payment standard in force on day ``on`` (the edition in force then; else the one set without dates)."""
        current = None
        found = False
        for start, standard in self.standards:
            if start <= on:
                current, found = standard, True
        return current if found else self.payment_standard


UNKNOWN_UNIT = "unit"
"""Reason key of order lines left out of the bands because their unit cannot be converted."""
EXCLUSION_NAMES = {
    UNKNOWN_UNIT: "单位无法换算", "free": "赠品（0 元）", "unit_x10": "单价录成 10 倍", "unit_div10": "单价录成 1/10",
    "unit_case_on_box": "整件价录在单盒行", "unit_box_on_case": "单盒价录在整件行",
    "unit_pack_on_box": "单片价录在单盒行",
    "unit_error": "单位录入错误", "clearance": "近效期清货", "promotion": "促销价（促销日历）",
    "promotion_detected": "临时低价（疑似未登记促销）",
}  # fmt: skip
"""How each reason for leaving order lines out of the bands reads to a rep."""
EXCLUSION_ORDER = ("clearance", *[k for k in EXCLUSION_NAMES if k != "clearance"])


DERIVED = ("_lock", "_stale", "_buyers", "_segments", "_customer_columns")
"""`PriceIndex` fields a snapshot leaves out (made again on use)."""


class PriceIndex:
    """Order lines, customers and policy facts of one tenant, in memory."""

    def __init__(
        self,
        tenant: str,
        *,
        window_days: int = 365,
        half_life_days: float = 180.0,
        payment_standard_types: frozenset[str] = PHARMACY_TYPES,
    ) -> None:
        self.tenant = tenant
        self.window_days = window_days
        self.half_life_days = half_life_days
        self.payment_standard_types = payment_standard_types
        """Customer types whose quotes must stay at or under the payment standard (retail pharmacies)."""
        self.customers: dict[str, CustomerInfo] = {}
        self._ids: list[str] = []
        self._code_by_id: dict[str, int] = {}
        self._ctype = np.zeros(0, dtype=np.int8)
        self._institution = np.zeros(0, dtype=bool)
        self._tier: list[object] = []
        self._region: list[object] = []
        self.products: dict[str, ProductInfo] = {}
        self.lines: dict[str, SkuLines] = {}
        self.rows: dict[str, SkuRows] = {}
        """Per SKU: its order lines as the store holds them (`SkuRows`: the whole-SKU history without a query)."""
        self.units: list[str | None] = [None]
        """Units as written on order lines (`SkuRows.unit` codes into it; 0: none written)."""
        self.promotions: dict[str, Promotion] = {}
        self.events: dict[str, list[PriceEvent]] = {}
        self._lock = threading.RLock()
        self.excluded: dict[str, dict[str, int]] = {}
        """Per SKU: order lines left out at loading, by reason (``unit``: unit not convertible)."""
        self._history: dict[str, SkuHistory] = {}
        self._stale: dict[str, SkuHistory] = {}
        """Analyses dropped by an update, freed when their SKU is analysed again (see `_retire`)."""
        self._promos: dict[str, list[Promo]] = {}
        self._levels: Levels | None = None
        self._sku_code: dict[str, int] = {}
        self._cache: dict[object, dict[tuple[object, ...], object]] = {}
        """Derived values per SKU (segment prices, award prices, texts), dropped with the SKU's analysis."""
        self.as_of: dt.date | None = None
        self._derived()

    def _derived(self) -> None:
        """Caches made from the lines and customers on first use (not in a snapshot: cheap to make again)."""
        self._buyers: dict[str, np.ndarray] = {}
        """Per SKU: the codes of its buyers, sorted (who bought it; dropped when its lines change)."""
        self._segments: dict[tuple[str, str | None], tuple[int, dict[str, int]]] = {}
        """Per (type, region): its customers and, per SKU, how many of them bought it (dropped on any change)."""
        self._customer_columns: tuple[int, dict[str, pa.Array], np.ndarray] | None = None
        """The customers' fields per code, as Arrow arrays (for whole-SKU histories)."""

    def __getstate__(self) -> dict[str, Any]:
        """What a snapshot keeps (every field but the lock): a worker starts from it instead of reading the store."""
        with self._lock:
            return {k: v for k, v in self.__dict__.items() if k not in DERIVED}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._derived()
        self._stale = {}
        self._lock = threading.RLock()

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
        """Read customers, products, formulary editions, promotions, price events and every order line of the tenant."""
        index = cls(tenant, window_days=window_days, half_life_days=half_life_days)
        index.as_of = as_of or dt.date.today()
        index.set_customers(store.customers(tenant))
        products = list(store.catalogue(tenant).products)
        index.set_products(products)
        editions = store.formulary_editions(tenant)
        listed = store.edges_of(tenant, ListedIn, targets=[e.id for e in editions]) if editions else []
        index.set_formulary(editions, listed, today=index.as_of)
        index.set_promotions(store.promotions(tenant))
        index.set_price_events(store.price_events(tenant))
        for p in products:
            history = store.price_history(tenant, p.sku).table
            if history.num_rows:
                index._append(
                    p.sku,
                    history.column("unit_price").to_numpy(),
                    history.column("qty").to_numpy(),
                    days_of(history.column("at")),
                    history.column("customer_id").to_pylist(),
                    history.column("order_id").to_pylist(),
                    history.column("unit").to_pylist(),
                    history.column("line").to_numpy(),
                    in_order=True,
                )
        index.prepare()
        return index

    def warm(self, on: dt.date) -> None:
        """Compute what checks dated ``on`` share per SKU (segment prices, award prices), so none pays for it."""
        with self._lock:
            for sku in self.lines:
                h = self.history(sku)
                if h is None:
                    continue
                for type_code in range(len(TYPE_CODE)):
                    references.segment(self, h, sku, type_code, day(on))
                    references.award_floor(self, h, sku, type_code, day(on))

    def prepare(self) -> None:
        """Analyse every SKU and fit the customers' levels now (else the first checks would do it).

        Twice: clearance campaigns are found with the customers' levels, and the levels are better without them.
        """
        with self._lock:
            self._history.clear()
            self._stale.clear()
            self._levels = None
            for sku in self.lines:
                self.history(sku, ready=False)  # analysed again below, with the levels: nothing to make for checks
            self.levels()
            self._history.clear()
            for sku in self.lines:
                self.history(sku)
            self._levels = None
            self._cache.clear()
            self.levels()
            if self.as_of is not None:
                self.warm(self.as_of)

    def add_table(self, lines: pa.Table) -> int:
        """Incremental update from an Arrow table of order lines (columns as `Purchased`); the bulk path."""
        with self._lock:
            skus = lines.column("sku").to_numpy(zero_copy_only=False)
            days = days_of(lines.column("at"))
            price = lines.column("unit_price").to_numpy()
            qty = lines.column("qty").to_numpy()
            customers = lines.column("customer_id").to_pylist()
            orders = lines.column("order_id").to_pylist()
            units = lines.column("unit").to_pylist() if "unit" in lines.column_names else [None] * lines.num_rows
            numbers = (
                lines.column("line").to_numpy() if "line" in lines.column_names else np.ones(lines.num_rows, np.int64)
            )
            order = np.argsort(skus, kind="stable")
            bounds = np.flatnonzero(skus[order][1:] != skus[order][:-1]) + 1
            for group in np.split(order, bounds):
                if len(group):
                    g = group.tolist()
                    self._append(
                        str(skus[g[0]]), price[g], qty[g], days[g], [customers[i] for i in g], [orders[i] for i in g],
                        [units[i] for i in g], numbers[g],
                    )  # fmt: skip
        return int(lines.num_rows)

    def replace_lines(self, sku: str, history: pa.Table) -> int:
        """Replace one SKU's order lines with ``history`` (the store's price history of it, all lines).

        How a follower of the change log takes order lines another process wrote: re-reading a SKU is idempotent, so
        a change applied twice (by the writer and by its follower) never counts a line twice.
        """
        with self._lock:
            self.lines.pop(sku, None)
            self.rows.pop(sku, None)
            self.excluded.pop(sku, None)
            self._retire(sku)
            if history.num_rows:
                self._append(
                    sku,
                    history.column("unit_price").to_numpy(),
                    history.column("qty").to_numpy(),
                    days_of(history.column("at")),
                    history.column("customer_id").to_pylist(),
                    history.column("order_id").to_pylist(),
                    history.column("unit").to_pylist(),
                    history.column("line").to_numpy(),
                    in_order=True,
                )
        return int(history.num_rows)

    def set_customers(self, customers: Iterable[Customer]) -> None:
        """Add or replace customers (their type, tier and region define segments)."""
        with self._lock:
            for c in customers:
                code = self._code_by_id.get(c.id)
                if code is None:
                    code = self._new_code(c.id)
                self.customers[c.id] = CustomerInfo(c.id, c.name, c.type, c.tier, c.region, c.city, code)
                self._ctype[code] = TYPE_CODE.get(c.type, -1)
                self._institution[code] = c.type in INSTITUTIONS
                self._tier[code], self._region[code] = c.tier, c.region
            self._invalidate()

    def _unit_codes(self, units: list[str | None] | None, n: int) -> np.ndarray:
        """Codes into `units` of the units as written on ``n`` lines (0: none written)."""
        if units is None:
            return np.zeros(n, dtype=np.int16)
        code: dict[str | None, int] = {}
        for u in set(units):
            if u is None:
                code[u] = 0
            elif u in self.units[1:]:
                code[u] = self.units.index(u, 1)
            else:
                self.units.append(u)
                code[u] = len(self.units) - 1
        return np.array([code[u] for u in units], dtype=np.int16)

    def _new_code(self, customer_id: str) -> int:
        self._customer_columns = None
        code = len(self._ids)
        self._ids.append(customer_id)
        self._code_by_id[customer_id] = code
        self._ctype = np.append(self._ctype, np.int8(-1))
        self._institution = np.append(self._institution, False)
        self._tier.append(None)
        self._region.append(None)
        return code

    def _codes(self, customers: list[str]) -> np.ndarray:
        """Customer codes of order lines (a customer the index has not seen gets a code of unknown type)."""
        known = self._code_by_id
        out = np.empty(len(customers), dtype=np.int32)
        for i, cid in enumerate(customers):
            code = known.get(cid)
            out[i] = code if code is not None else self._new_code(cid)
        return out

    def set_products(self, products: Iterable[Product], listed: dict[str, ListedIn] | None = None) -> None:
        """Add or replace products with their floor price (and, given ``listed``, the payment standard in force)."""
        listed = listed or {}
        with self._lock:
            for p in products:
                entry = listed.get(p.sku)
                old = self.products.get(p.sku)
                standard = (
                    payment_standard_per_pack(entry.payment_standard, pack_size=p.pack_size, spec=p.spec)
                    if entry
                    else old.payment_standard
                    if old is not None
                    else None
                )
                self.products[p.sku] = ProductInfo(
                    p.sku, p.name, p.list_price, p.floor_price, standard, p.unit, p.pack_size, p.case_size, p.spec,
                    old.standards if old is not None else [],
                )  # fmt: skip
                self._sku_code.setdefault(p.sku, len(self._sku_code))
                self._history.pop(p.sku, None)
            self._cache.clear()

    def set_formulary(
        self, editions: Sequence[FormularyEdition], listed: Sequence[ListedIn], *, today: dt.date
    ) -> None:
        """Payment standards of every edition by date; an edition without a date counts as in force from always."""
        starts = {e.id: day(e.effective_date) if e.effective_date else -(10**6) for e in editions}
        by_sku: dict[str, list[tuple[int, PaymentStandard | None]]] = {}
        for entry in listed:
            info = self.products.get(entry.sku)
            if info is None or entry.edition_id not in starts:
                continue
            standard = payment_standard_per_pack(entry.payment_standard, pack_size=info.pack_size, spec=info.spec)
            by_sku.setdefault(entry.sku, []).append((starts[entry.edition_id], standard))
        with self._lock:
            for sku, info in self.products.items():
                info.standards = sorted(by_sku.get(sku, []), key=lambda s: s[0])
                info.payment_standard = info.standard_on(day(today))

    def set_promotions(self, promotions: Iterable[Promotion]) -> None:
        """Add or replace promotions of the calendar (their lines leave the normal band; quotes in them are judged)."""
        with self._lock:
            for p in promotions:
                self.promotions[p.id] = p
            self._promos.clear()
            self._invalidate()

    def set_price_events(self, events: Iterable[PriceEvent]) -> None:
        """Add or replace filed price events (集采 awards, list changes)."""
        with self._lock:
            by_id = {e.id: e for per_sku in self.events.values() for e in per_sku}
            by_id.update({e.id: e for e in events})
            self.events = {}
            for e in sorted(by_id.values(), key=lambda e: e.effective_date):
                self.events.setdefault(e.sku, []).append(e)
            self._invalidate()

    def _invalidate(self) -> None:
        self._buyers.clear()
        self._segments.clear()
        self._customer_columns = None
        self._history.clear()
        self._stale.clear()
        self._levels = None
        self._cache.clear()

    def add_order_lines(self, lines: Sequence[Purchased]) -> int:
        """Incremental update with new order lines (no rebuild); returns the number added."""
        by_sku: dict[str, list[Purchased]] = {}
        for line in lines:
            by_sku.setdefault(line.sku, []).append(line)
        with self._lock:
            for sku, group in by_sku.items():
                self._append(
                    sku,
                    np.array([g.unit_price for g in group], dtype=np.float64),
                    np.array([g.qty for g in group], dtype=np.float64),
                    np.array([day(g.at) for g in group], dtype=np.int64),
                    [g.customer_id for g in group],
                    [g.order_id for g in group],
                    [g.unit for g in group],
                    np.array([g.line for g in group], dtype=np.int64),
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
        line: np.ndarray | None = None,
        *,
        in_order: bool = False,
    ) -> None:
        """Add lines of one SKU, converted to its selling unit; lines in an unknown unit are left out and counted.

        Every line, as written, also goes to the SKU's `SkuRows` (``line``: the line numbers, 1 when not given;
        ``in_order``: the lines are a store's price history, already in its order).
        """
        codes = self._codes(customers)
        self.rows.setdefault(sku, SkuRows()).append(
            codes, orders, line if line is not None else np.ones(len(price), np.int64), days, qty, price,
            self._unit_codes(units, len(price)), in_order=in_order,
        )  # fmt: skip
        kind = np.zeros(len(price), dtype=np.int8)
        if units is not None and any(units):
            info = self.products.get(sku)
            f = factors(units, info.units if info else UnitRule())
            keep = ~np.isnan(f)
            dropped = int((~keep).sum())
            if dropped:
                per_sku = self.excluded.setdefault(sku, {})
                per_sku[UNKNOWN_UNIT] = per_sku.get(UNKNOWN_UNIT, 0) + dropped
            kind = np.array([_unit_kind(u) for u in units], dtype=np.int8)
            price, qty, days, kind = price[keep] / f[keep], qty[keep] * f[keep], days[keep], kind[keep]
            customers = [c for c, k in zip(customers, keep, strict=True) if k]
            orders = [o for o, k in zip(orders, keep, strict=True) if k]
            codes = codes[keep]
        self.lines.setdefault(sku, SkuLines()).append(price, qty, days, codes, kind, customers, orders)
        self._sku_code.setdefault(sku, len(self._sku_code))
        self._retire(sku)

    def _retire(self, sku: str) -> None:
        """Drop the SKU's analysis, which its next check redoes; the old one is freed then, not now.

        Freeing an analysis is not free: its per-customer blocks and lists are tens of thousands of Python objects
        per SKU at 2M order lines, so freeing those of every SKU an update touches made the first update after a
        build cost 0.2–2 s (later updates found nothing left to free). Kept aside, the old analysis is freed by the
        re-analysis that the SKU's next check does anyway (which costs far more), and memory stays where it was
        before the update.
        """
        old = self._history.pop(sku, None)
        if old is not None:
            self._stale.setdefault(sku, old)
        self._cache.pop(sku, None)
        self._buyers.pop(sku, None)
        self._segments.clear()

    # ------------------------------------------------------------------ derived state

    def history(self, sku: str, *, ready: bool = True) -> SkuHistory | None:
        """The SKU's lines classified (computed on first use after a change), or ``None`` without lines.

        ``ready``: with what checks read made at once (`SkuHistory.ready`).
        """
        found = self._history.get(sku)
        if found is not None:
            return found
        lines = self.lines.get(sku)
        if lines is None or not len(lines.price):
            return None
        info = self.products.get(sku)
        known = [
            Event(day(e.effective_date), e.kind, frozenset(e.customer_types), e.id, e.new_floor_price, e.new_list_price)
            for e in self.events.get(sku, [])
        ]
        found = analyse(
            lines.price, lines.qty, lines.day, lines.cust, lines.unit_kind,
            ctype=self._ctype, institution=self._institution,
            case_size=info.case_size if info else None, pack_size=info.pack_size if info else None,
            promos=self.promos_for(sku), known=known, norm=self._norm(),
        )  # fmt: skip
        self._history[sku] = found.ready() if ready else found
        self._stale.pop(sku, None)  # the analysis this one replaces (see `_retire`) is freed here
        return found

    def _norm(self) -> np.ndarray | None:
        """Per customer code: its type offset plus level (log), once levels are fitted."""
        if self._levels is None:
            return None
        lv = self._levels
        n = len(self._ids)
        level = np.zeros(n)
        level[: min(n, len(lv.level))] = np.nan_to_num(lv.level[:n])
        offset = np.array([lv.offset(int(t)) for t in self._ctype])
        return np.asarray(level + offset, dtype=np.float64)

    def promos_for(self, sku: str) -> list[Promo]:
        """The calendar's promotions covering ``sku``, with their eligible customers as a mask over customer codes."""
        found = self._promos.get(sku)
        if found is not None and (not found or all(len(p.eligible) == len(self._ids) for p in found)):
            return found
        out = []
        for p in self.promotions.values():
            if p.skus and sku not in p.skus:
                continue
            eligible = np.array(
                [p.covers(sku, cid, self.customers[cid].type if cid in self.customers else None,
                          self.customers[cid].tier if cid in self.customers else None) for cid in self._ids],
                dtype=bool,
            )  # fmt: skip
            out.append(Promo(p.id, p.name, day(p.start_date), day(p.end_date), eligible, p.min_discount,
                             p.max_discount))  # fmt: skip
        self._promos[sku] = out
        return out

    def levels(self) -> Levels:
        """The customers' levels against their segments (fitted on first use after a rebuild)."""
        if self._levels is not None:
            return self._levels
        on = day(self.as_of) if self.as_of is not None else self._last_day()
        skus, custs, xs = [], [], []
        for sku in self.lines:
            h = self.history(sku)
            if h is None or any(e.is_vbp for e in h.events):
                continue  # a 集采 SKU's prices follow the award, not the customers' levels
            codes, _, values = latest(h, on, on - self.window_days, regimes(h.events, on), self._ctype)
            skus.append(np.full(len(codes), self._sku_code[sku], dtype=np.int64))
            custs.append(codes)
            xs.append(values)
        self._levels = fit_levels(
            _cat(skus, np.int64), _cat(custs, np.int64), _cat(xs, np.float64),
            n_customers=len(self._ids), ctype=self._ctype, tier=self._tier, region=self._region,
        )  # fmt: skip
        return self._levels

    def _last_day(self) -> int:
        """The day of the latest order line held (the levels' reference day when no ``as_of`` was given)."""
        return max((int(lines.day.max()) for lines in self.lines.values() if len(lines.day)), default=0)

    def sku_code(self, sku: str) -> int:
        """The SKU's position in the levels' per-SKU tables."""
        return self._sku_code.get(sku, -1)

    def type_code(self, customer_id: str | None) -> int:
        """Type code of a customer (−1 when unknown)."""
        info = self.customers.get(customer_id) if customer_id is not None else None
        return int(self._ctype[info.code]) if info is not None else -1

    @property
    def ctype(self) -> np.ndarray:
        """Type code per customer code (−1: unknown)."""
        return self._ctype

    def region_of(self, codes: np.ndarray) -> list[object]:
        """Regions of customer codes."""
        return [self._region[int(c)] for c in codes]

    def customer_attrs(self, code: int) -> tuple[int, object, object]:
        """Type code, tier and region of a customer code."""
        return int(self._ctype[code]), self._tier[code], self._region[code]

    def cached(self, key: tuple[object, ...]) -> object | None:
        """A derived value of one SKU (key starts with the SKU), dropped when the SKU changes."""
        per_sku = self._cache.get(key[0])
        return per_sku.get(key) if per_sku is not None else None

    def remember(self, key: tuple[object, ...], value: object) -> None:
        """Keep a derived value of one SKU (key starts with the SKU)."""
        per_sku = self._cache.setdefault(key[0], {})
        if len(per_sku) > 1_000:  # quotes on many dates: keep the memory bounded
            per_sku.clear()
        per_sku[key] = value

    @property
    def line_count(self) -> int:
        """Order lines held (in every SKU, lines left out included)."""
        return sum(len(lines.price) for lines in self.lines.values()) + sum(
            n for per_sku in self.excluded.values() for n in per_sku.values()
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

    def buyer_codes(self, sku: str) -> np.ndarray:
        """Codes of the customers who bought ``sku`` (in its lines the checks compare), sorted."""
        found = self._buyers.get(sku)
        if found is None:
            lines = self.lines.get(sku)
            found = np.unique(lines.cust) if lines is not None else np.zeros(0, dtype=np.int32)
            self._buyers[sku] = found
        return found

    def segment_buyers(self, *, type: str, region: str | None) -> tuple[set[str], dict[str, int]]:
        """The customers of one type and region, and per SKU with order lines how many of them bought it.

        What `buyers` and `customers_in` give, counted once per segment and kept until the lines or the customers
        change: a briefing's peer gaps then read a dictionary, not every order line of the tenant.
        """
        with self._lock:
            members = {c.id for c in self.customers.values() if c.type == type and c.region == region}
            found = self._segments.get((type, region))
            if found is None:
                mask = np.zeros(len(self._ids), dtype=bool)
                mask[[self.customers[c].code for c in members]] = True
                counts = {sku: int(np.count_nonzero(mask[self.buyer_codes(sku)])) for sku in self.lines}
                found = self._segments[(type, region)] = (len(members), counts)
            return members, found[1]

    def bought(self, customer_id: str, sku: str) -> bool:
        """Whether the customer bought ``sku`` (a line the checks compare)."""
        with self._lock:
            info = self.customers.get(customer_id)
            if info is None:
                return False
            codes = self.buyer_codes(sku)
            at = int(np.searchsorted(codes, info.code))
            return at < len(codes) and int(codes[at]) == info.code

    def price_history(self, sku: str, filters: PriceHistoryFilter | None = None) -> PriceHistory | None:
        """The SKU's order lines with their customers, as the store's ``price_history`` returns them, from memory.

        The same rows in the same order with the same values as the store's read of the lines the index was given
        (built from the store and kept current by the change feed, which re-reads a SKU whose lines changed).
        ``None`` when the index cannot answer exactly: a line of a customer it holds no fields of.
        """
        with self._lock:
            rows = self.rows.get(sku)
            if rows is None or not len(rows):
                return PriceHistory(PRICE_HISTORY_SCHEMA.empty_table())
            rows.sort()
            n, columns, known = self._customer_fields()
            if int(rows.cust.max()) >= n or not bool(known[rows.cust].all()):
                return None
            take = pa.array(rows.cust)
            table = pa.table(
                {
                    **{name: columns[name].take(take) for name in _CUSTOMER_FIELDS},
                    "order_id": rows.order,
                    "line": pa.array(rows.line, pa.int64()),
                    "at": pa.array(rows.day + EPOCH_UNIX, pa.int32()).cast(pa.date32()),
                    "qty": pa.array(rows.qty, pa.float64()),
                    "unit_price": pa.array(rows.price, pa.float64()),
                    "unit": pa.array(self.units, pa.string()).take(pa.array(rows.unit)),
                },
                schema=PRICE_HISTORY_SCHEMA,
            )
        return PriceHistory(_filtered(table, filters))

    def _customer_fields(self) -> tuple[int, dict[str, pa.Array], np.ndarray]:
        """Per customer code: its fields as Arrow arrays, and whether the index holds them (``known``)."""
        found = self._customer_columns
        if found is not None and found[0] == len(self._ids):
            return found
        info = [self.customers.get(cid) for cid in self._ids]
        values = {
            "customer_id": list(self._ids),
            "customer_name": [c.name if c else None for c in info],
            "customer_type": [c.type if c else None for c in info],
            "tier": [c.tier if c else None for c in info],
            "region": [c.region if c else None for c in info],
            "city": [c.city if c else None for c in info],
        }
        columns = {k: pa.array(v, pa.string()) for k, v in values.items()}
        known = np.array([c is not None for c in info], dtype=bool)
        found = self._customer_columns = (len(self._ids), columns, known)
        return found

    def has_product(self, sku: str) -> bool:
        """Whether the SKU is a product of the index (a quote line for another SKU is not checked)."""
        with self._lock:
            return sku in self.products

    @property
    def skipped_lines(self) -> int:
        """Order lines of every SKU left out of the bands (for any reason)."""
        return sum(sum(self.exclusion_counts(sku).values()) for sku in set(self.lines) | set(self.excluded))

    def exclusion_counts(self, sku: str) -> dict[str, int]:
        """Lines of ``sku`` left out of its bands, by reason key."""
        out = dict(self.excluded.get(sku, {}))
        h = self.history(sku)
        if h is not None:
            for k, n in h.counts.items():
                out[k] = out.get(k, 0) + n
        return out

    def exclusions(self, sku: str) -> dict[str, int]:
        """Lines of ``sku`` left out of its bands, by the reason a rep reads (e.g. 近效期清货: 3)."""
        key = (sku, "exclusions")
        hit = self.cached(key)
        if isinstance(hit, dict):
            return hit
        counts = self.exclusion_counts(sku)
        found = {EXCLUSION_NAMES.get(k, k): counts[k] for k in sorted(counts, key=_exclusion_rank)}
        if sku in self._history or sku not in self.lines:
            self.remember(key, found)
        return found

    def exclusion_text(self, sku: str) -> str:
        """The lines left out, as an explanation ends: "；已排除 3 笔近效期清货、1 笔单价录成 10 倍" (or nothing)."""
        key = (sku, "exclusion_text")
        hit = self.cached(key)
        if isinstance(hit, str):
            return hit
        counts = "、".join(f"{n} 笔{why}" for why, n in self.exclusions(sku).items())
        text = f"；已排除 {counts}" if counts else ""
        if sku in self._history or sku not in self.lines:
            self.remember(key, text)
        return text

    def clean_mask(self, sku: str) -> np.ndarray:
        """Which of the SKU's stored lines are agreed prices (not dirt, not promotions)."""
        h = self.history(sku)
        return h.status == CLEAN if h is not None else np.zeros(0, dtype=bool)


_CUSTOMER_FIELDS = ("customer_id", "customer_name", "customer_type", "tier", "region", "city")


def _filtered(table: pa.Table, filters: PriceHistoryFilter | None) -> pa.Table:
    """The rows the store's filters keep (a field that is not set filters nothing; a missing value matches none)."""
    if filters is None:
        return table
    mask = None
    for name, column, op in (
        ("customer_type", "customer_type", pc.equal), ("tier", "tier", pc.equal), ("region", "region", pc.equal),
        ("date_from", "at", pc.greater_equal), ("date_to", "at", pc.less_equal),
    ):  # fmt: skip
        value = getattr(filters, name)
        if value is not None:
            test = pc.fill_null(op(table.column(column), pa.scalar(value, table.schema.field(column).type)), False)
            mask = test if mask is None else pc.and_(mask, test)
    if mask is not None:
        table = table.filter(mask)
    if filters.limit is not None:
        table = table.slice(0, max(filters.limit, 0))
    return table


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _exclusion_rank(key: str) -> int:
    return EXCLUSION_ORDER.index(key) if key in EXCLUSION_ORDER else len(EXCLUSION_ORDER)


def _unit_kind(unit: str | None) -> int:
    u = normalise_unit(unit)
    if u in CASE_UNITS:
        return CASE
    if u in SMALLEST_UNITS:
        return PIECE
    return BOX


__all__ = ["EPOCH", "PriceIndex", "ProductInfo", "CustomerInfo", "SkuLines", "STATUS_KEYS", "day"]
