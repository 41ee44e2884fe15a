"""Order lines, deals with quote lines, and contracts of one tenant — vectorised with NumPy.

Prices follow one structure, so the pricing guard has something real to learn::

    unit_price = list_price × (1 − (1 − D) × headroom) × drift(t) × noise
    D = type × tier × volume band × region × customer

Chains and DTP pharmacies buy lowest, clinics highest; ``headroom`` keeps the discount within the SKU's room above
its floor price; ``drift`` is volume-based procurement (集采) cuts for some generics, a slow price decline for
western drugs and a slow rise for TCM. Each customer buys a basket of SKUs, each SKU at its own re-order interval;
some pairs stop (churn) or start late (new listings), which leaves purchase gaps a briefing should find.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from demo.catalog import EDITIONS, SEASONAL_CATEGORIES, VBP_GENERICS, ProductFacts
from demo.parties import Customer, Doctor
from graph.model import CustomerType

WINDOW_DAYS = 548
"""Eighteen months of order history before ``as_of``."""

TYPES: tuple[CustomerType, ...] = ("chain", "single_pharmacy", "hospital", "clinic", "dtp")
TYPE_DISCOUNT = {"chain": 0.82, "single_pharmacy": 0.91, "hospital": 0.95, "clinic": 0.985, "dtp": 0.87}
HQ_DISCOUNT = 0.78
"""Price factor of a chain headquarters with 100+ stores (0.80 from 30 stores, else 0.82)."""
TIER_DISCOUNT = {"A": 0.97, "B": 1.0, "C": 1.02}
VOLUME_BANDS = (10.0, 50.0, 200.0, 1000.0)
VOLUME_DISCOUNT = (1.0, 0.99, 0.975, 0.96, 0.94)
MAX_DISCOUNT = 0.285
"""Deepest combined discount (A-tier chain HQ, top volume band); the headroom scales it to each SKU's floor."""

BASKET = {"chain": (10, 22), "single_pharmacy": (6, 18), "hospital": (15, 35), "clinic": (6, 18), "dtp": (6, 14)}
HQ_BASKET = (40, 70)
INTERVAL = {"chain": 65.0, "single_pharmacy": 80.0, "hospital": 50.0, "clinic": 90.0, "dtp": 30.0}
CADENCE = {"chain": 14, "single_pharmacy": 14, "hospital": 7, "clinic": 14, "dtp": 7}
SIZE = {"chain": 9.0, "single_pharmacy": 5.0, "hospital": 45.0, "clinic": 4.0, "dtp": 4.0}

OTC_LIKE = frozenset({"感冒清热中成药", "解热镇痛抗炎药", "消化系统用药", "抗过敏药", "止咳化痰中成药", "消化中成药"})
CHRONIC = frozenset({"调脂药", "降压药", "降糖药", "抗血栓药", "心血管中成药"})

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass
class OrderBook:
    """Order lines of one tenant and what the other generators need from them."""

    purchased: pa.Table
    baskets: list[list[int]]
    annual_spend: FloatArray
    gaps: list[tuple[int, int]]
    last_price: dict[tuple[int, int], float] = field(default_factory=dict)


@dataclass
class PriceModel:
    """Everything needed to price a (customer, SKU, quantity, day), and the usual order size."""

    list_price: FloatArray
    headroom: FloatArray
    cust_factor: FloatArray
    vbp_day: FloatArray
    vbp_before: FloatArray
    trend: FloatArray
    size: FloatArray
    demand: FloatArray

    def expected(self, c: IntArray, p: IntArray, qty: FloatArray, day: FloatArray) -> FloatArray:
        """Price without noise."""
        band = np.searchsorted(np.array(VOLUME_BANDS), qty, side="right")
        d = self.cust_factor[c] * np.array(VOLUME_DISCOUNT)[band]
        eff = 1.0 - (1.0 - d) * self.headroom[p]
        years_before = (WINDOW_DAYS - day) / 365.0
        drift = (1.0 + self.trend[p] * years_before) * np.where(day < self.vbp_day[p], self.vbp_before[p], 1.0)
        out: FloatArray = self.list_price[p] * eff * drift
        return out


def _weights(catalog: tuple[ProductFacts, ...]) -> FloatArray:
    """Purchase propensity of each SKU for each customer type (rows in ``TYPES`` order)."""
    w = np.ones((len(TYPES), len(catalog)))
    for j, p in enumerate(catalog):
        base = 1.0
        if p.category in OTC_LIKE or p.tcm:
            base *= 1.3
        if p.list_price > 150:
            base *= 0.4
        for i, kind in enumerate(TYPES):
            f = base
            injection = p.dosage_form == "注射剂"
            if kind in ("chain", "single_pharmacy"):
                f *= 1.4 if p.category in OTC_LIKE else 1.0
                f *= 0.02 if p.specialty and not p.tcm else 1.0
                f *= 0.3 if injection else 1.0
            elif kind == "hospital":
                f *= 0.6 if p.category in OTC_LIKE else 1.2 if p.category in CHRONIC else 1.0
                f *= 1.5 if injection else 1.0
                f *= 0.7 if p.specialty else 1.0
            elif kind == "clinic":
                f *= 1.8 if p.category in CHRONIC else 1.0
                f *= 0.001 if p.specialty and not p.tcm else 1.0
                f *= 0.5 if injection else 1.0
            else:  # dtp
                f *= 60.0 if p.specialty and not p.tcm else 0.5 if p.category in CHRONIC else 0.15
            w[i, j] = f
    return w


def build_orders(
    catalog: tuple[ProductFacts, ...], found: list[Customer], doctors: list[Doctor], code: str,
    rng: np.random.Generator, as_of: dt.date,
) -> tuple[OrderBook, PriceModel]:  # fmt: skip
    """Order lines (``Purchased``) for 18 months before ``as_of``, plus baskets, spend and purchase gaps."""
    n_c, n_p = len(found), len(catalog)
    start = as_of - dt.timedelta(days=WINDOW_DAYS)
    type_idx = np.array([TYPES.index(c.type) for c in found])

    # ---- customer attributes
    hq = np.array([c.is_hq for c in found])
    disc = np.array([TYPE_DISCOUNT[c.type] for c in found]) * np.array([TIER_DISCOUNT[c.tier] for c in found])
    stores = np.array([c.store_count for c in found])
    disc = np.where(hq, np.where(stores >= 100, HQ_DISCOUNT, np.where(stores >= 30, 0.80, 0.82)), disc)
    county = np.array([c.district[-1] in "县市" for c in found])
    region = np.array([c.city.price_factor for c in found]) * np.where(county, 1.012, 1.0)
    cust_factor = disc * region * rng.lognormal(0.0, 0.012, n_c)
    size = np.array([SIZE[c.type] for c in found]) * np.array([{"A": 1.8, "B": 1.0, "C": 0.55}[c.tier] for c in found])
    size = np.where(hq, np.array([max(c.store_count, 1) * 2.5 for c in found]), size)
    cadence = np.array([3 if c.is_hq else CADENCE[c.type] for c in found])
    offset = rng.integers(0, 1 << 16, n_c) % cadence

    # ---- product attributes
    price = np.array([p.list_price for p in catalog])
    floor_ratio = np.array([p.floor_price / p.list_price for p in catalog])
    headroom = np.minimum(1.0, 0.92 * (1.0 - floor_ratio) / MAX_DISCOUNT)
    demand = np.clip(np.sqrt(30.0 / price), 0.08, 2.5)
    seasonal = np.array([p.category in SEASONAL_CATEGORIES for p in catalog])
    trend = np.array([-0.04 if p.tcm else 0.02 for p in catalog])
    vbp_ratio = np.array([VBP_GENERICS.get(p.generic_name, 1.0) for p in catalog])
    originator = np.array([p.originator for p in catalog])
    cut = np.where(originator, 1.0 - (1.0 - vbp_ratio) * 0.4, vbp_ratio)  # originators cut less than generics
    vbp_before = np.minimum(1.0 / cut, 1.8)
    vbp_by_generic = {g: float(rng.uniform(0.2, 0.75) * WINDOW_DAYS) for g in sorted(VBP_GENERICS)}
    vbp_day = np.array([vbp_by_generic.get(p.generic_name, -1.0) for p in catalog])
    change = [p.formulary_change for p in catalog]
    effective_2024 = float((EDITIONS[1][2] - start).days)
    policy_after = np.array([{"removed": 0.55, "restriction": 1.2, "added": 1.3}.get(ch, 1.0) for ch in change])
    added = np.array([ch == "added" for ch in change])

    # ---- baskets: Gumbel top-k over type propensities (hospital baskets lean to what their doctors prescribe)
    logw = np.log(_weights(catalog))[type_idx]
    for d in doctors:
        for j, _, _, _ in d.prescribes:
            logw[d.customer, j] += 0.7
    keys = logw + rng.gumbel(size=(n_c, n_p))
    lo = np.array([BASKET[c.type][0] for c in found])
    hi = np.array([BASKET[c.type][1] for c in found])
    k = rng.integers(lo, hi + 1)
    k = np.where(hq, rng.integers(HQ_BASKET[0], HQ_BASKET[1] + 1, n_c) - np.where(stores < 30, 20, 0), k)
    order = np.argsort(-keys, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_p)[None, :].repeat(n_c, 0), axis=1)
    pc_c, pc_p = np.nonzero(rank < k[:, None])
    n_pairs = len(pc_c)

    # ---- per pair: interval, quantity, start and stop
    interval = np.array([INTERVAL[c.type] for c in found])[pc_c] * np.where(hq[pc_c], 0.45, 1.0)
    interval = interval * np.where(demand[pc_p] > 1.0, 0.8, 1.0) * rng.lognormal(0.0, 0.35, n_pairs)
    interval = np.clip(interval, 4.0, 150.0)
    qty_base = size[pc_c] * demand[pc_p] * rng.lognormal(0.0, 0.4, n_pairs)
    first = rng.uniform(0.0, 1.0, n_pairs) * interval
    late = rng.random(n_pairs) < 0.08
    first = np.where(late, rng.uniform(0.1, 0.8, n_pairs) * WINDOW_DAYS, first)
    first = np.where(added[pc_p], rng.uniform(0.3, 0.7, n_pairs) * WINDOW_DAYS, first)
    stop = np.full(n_pairs, float(WINDOW_DAYS))
    churn = rng.random(n_pairs) < 0.08
    stop = np.where(churn, WINDOW_DAYS - rng.uniform(40.0, 300.0, n_pairs), stop)

    # ---- events: gamma-distributed gaps, cumulated per pair
    span = np.maximum(stop - first, 0.0)
    m = (np.ceil(span / interval * 1.5) + 4).astype(np.int64)
    pair = np.repeat(np.arange(n_pairs), m)
    gaps = rng.gamma(6.0, interval[pair] / 6.0)
    heads = np.cumsum(m) - m
    gaps[heads] = 0.0
    cum = np.cumsum(gaps)
    t = first[pair] + cum - np.repeat(cum[heads], m)
    keep = t < stop[pair]
    pair, t = pair[keep], t[keep]
    c_ev, p_ev = pc_c[pair], pc_p[pair]
    day = np.floor((t - offset[c_ev]) / cadence[c_ev]) * cadence[c_ev] + offset[c_ev]
    keep = (day >= 0) & (day < WINDOW_DAYS)
    pair, c_ev, p_ev, day = pair[keep], c_ev[keep], p_ev[keep], day[keep].astype(np.int64)

    # one line per (customer, day, SKU)
    sort = np.lexsort((p_ev, c_ev, day))
    pair, c_ev, p_ev, day = pair[sort], c_ev[sort], p_ev[sort], day[sort]
    dup = np.zeros(len(day), bool)
    dup[1:] = (day[1:] == day[:-1]) & (c_ev[1:] == c_ev[:-1]) & (p_ev[1:] == p_ev[:-1])
    pair, c_ev, p_ev, day = pair[~dup], c_ev[~dup], p_ev[~dup], day[~dup]
    n = len(day)

    # ---- quantities
    doy = start.timetuple().tm_yday + day
    season = 1.0 + np.where(seasonal[p_ev], 0.6 * np.cos(2 * np.pi * (doy - 15.0) / 365.0), 0.0)
    policy = np.where(day >= effective_2024, policy_after[p_ev], 1.0)
    vbp_volume = np.where(
        (day >= vbp_day[p_ev]) & (vbp_day[p_ev] >= 0) & (type_idx[c_ev] == TYPES.index("hospital")),
        np.where(originator[p_ev], 0.6, 1.4),
        1.0,
    )
    qty = np.maximum(1.0, np.round(qty_base[pair] * season * policy * vbp_volume * rng.lognormal(0.0, 0.25, n)))

    # ---- prices
    model = PriceModel(price, headroom, cust_factor, vbp_day, vbp_before, trend, size, demand)
    unit_price = np.round(model.expected(c_ev, p_ev, qty, day.astype(float)) * rng.lognormal(0.0, 0.02, n), 2)

    # ---- order ids and line numbers
    new_order = np.ones(n, bool)
    new_order[1:] = (day[1:] != day[:-1]) | (c_ev[1:] != c_ev[:-1])
    order_no = np.cumsum(new_order) - 1
    line = np.arange(n) - np.flatnonzero(new_order)[order_no] + 1
    ids = pc.utf8_lpad(pa.array(order_no + 1).cast(pa.string()), 8, "0")
    order_id = pc.binary_join_element_wise(f"SO-{code}-", ids, "")
    at = np.datetime64(start, "D") + day.astype("timedelta64[D]")

    cust_ids = pa.array([c.id for c in found])
    skus = pa.array([p.sku for p in catalog])
    purchased = pa.table(
        {
            "customer_id": cust_ids.take(pa.array(c_ev)),
            "sku": skus.take(pa.array(p_ev)),
            "order_id": order_id,
            "line": pa.array(line, pa.int64()),
            "at": pa.array(at, pa.date32()),
            "qty": pa.array(qty, pa.float64()),
            "unit_price": pa.array(unit_price, pa.float64()),
        }
    )

    # ---- what the other generators need
    baskets: list[list[int]] = [[] for _ in range(n_c)]
    for ci, pi in zip(pc_c.tolist(), pc_p.tolist(), strict=True):
        baskets[ci].append(pi)
    spend = np.bincount(c_ev, weights=qty * unit_price, minlength=n_c) * 365.0 / WINDOW_DAYS
    last_day = np.full(n_pairs, -1, np.int64)
    np.maximum.at(last_day, pair, day)
    count = np.bincount(pair, minlength=n_pairs)
    overdue = (count >= 3) & (WINDOW_DAYS - last_day > np.maximum(1.5 * interval, 21.0))
    gaps_found = [(int(pc_c[i]), int(pc_p[i])) for i in np.flatnonzero(overdue)]
    last_price: dict[tuple[int, int], float] = {}
    last_idx = np.full(n_pairs, -1, np.int64)
    np.maximum.at(last_idx, pair, np.arange(n))
    for i in np.flatnonzero(last_idx >= 0):
        last_price[(int(pc_c[i]), int(pc_p[i]))] = float(unit_price[last_idx[i]])
    book = OrderBook(purchased, baskets, spend.astype(np.float64), gaps_found, last_price)
    return book, model


def build_contracts(
    found: list[Customer], spend: FloatArray, code: str, rng: np.random.Generator, as_of: dt.date,
) -> tuple[pa.Table, pa.Table]:  # fmt: skip
    """Supply contracts: the current one of most key customers (some ending within 7, 30 and 90 days), a few old."""
    share = {"chain": 0.45, "single_pharmacy": 0.3, "hospital": 1.0, "clinic": 0.25, "dtp": 1.0}
    rows: list[tuple[str, dt.date, dt.date, float, str]] = []
    buckets = [(0, 7), (8, 30), (31, 90)]
    for i, c in enumerate(found):
        if c.duplicate_of is not None or not (c.is_hq or rng.random() < share[c.type]):
            continue
        forced = len(rows) < 3 * len(buckets)
        if forced:
            lo, hi = buckets[len(rows) % len(buckets)]
        else:
            u = rng.random()
            lo, hi = (0, 7) if u < 0.07 else (8, 30) if u < 0.18 else (31, 90) if u < 0.38 else (91, 420)
        end = as_of + dt.timedelta(days=int(rng.integers(lo, hi + 1)))
        years = 2 if c.type == "hospital" and rng.random() < 0.4 else 1
        begin = end - dt.timedelta(days=365 * years - 1)
        value = max(spend[i], c.annual_revenue * 0.002) * years * float(rng.uniform(0.85, 1.2))
        rows.append((f"CT-{code}-{len(rows) + 1:05d}", begin, end, round(value, -3), c.id))
        if rng.random() < 0.2:  # the expired contract before this one
            old_end = begin - dt.timedelta(days=1)
            old_begin = old_end - dt.timedelta(days=364)
            rows.append((f"CT-{code}-{len(rows) + 1:05d}", old_begin, old_end, round(value * 0.9, -3), c.id))
    nodes = pa.table(
        {
            "id": [r[0] for r in rows],
            "start_date": pa.array([r[1] for r in rows], pa.date32()),
            "end_date": pa.array([r[2] for r in rows], pa.date32()),
            "value": pa.array([r[3] for r in rows], pa.float64()),
        }
    )
    edges = pa.table({"contract_id": [r[0] for r in rows], "customer_id": [r[4] for r in rows]})
    return nodes, edges


STAGES = ("qualification", "quote", "negotiation", "contract")


def build_deals(
    catalog: tuple[ProductFacts, ...], found: list[Customer], book: OrderBook, model: PriceModel, code: str,
    scale: int, rng: np.random.Generator, as_of: dt.date,
) -> tuple[pa.Table, pa.Table, pa.Table, list[tuple[str, str, str]]]:  # fmt: skip
    """Deals with quote lines; a few lines are priced abnormally low or high (returned as the truth to find)."""
    eligible = [i for i, c in enumerate(found) if c.duplicate_of is None and book.baskets[i]]
    weight = np.array([{"A": 3.0, "B": 1.5, "C": 0.7}[found[i].tier] for i in eligible])
    n_deals = 70 * scale
    picks = rng.choice(len(eligible), size=n_deals, p=weight / weight.sum())
    deals: list[tuple[str, str, dt.date, str | None, str]] = []
    quotes: list[tuple[str, str, float, float]] = []
    anomalies: list[tuple[str, str, str]] = []
    for n, pick in enumerate(picks.tolist()):
        ci = eligible[pick]
        deal_id = f"DL-{code}-{n + 1:05d}"
        age = int(rng.integers(1, 270))
        created = as_of - dt.timedelta(days=age)
        if age > 100 and rng.random() < 0.85:
            stage, outcome = "closed", ("won" if rng.random() < 0.6 else "lost")
        else:
            stage, outcome = STAGES[int(rng.integers(len(STAGES)))], "open"
        deals.append((deal_id, stage, created, outcome, found[ci].id))
        basket = book.baskets[ci]
        k = min(len(basket), int(rng.integers(1, 7)))
        for pj in rng.choice(basket, size=k, replace=False).tolist():
            p = catalog[pj]
            qty = float(max(1, round(model.size[ci] * model.demand[pj] * 4 * rng.lognormal(0.0, 0.5))))
            day = float(WINDOW_DAYS - age)
            fair = float(model.expected(np.array([ci]), np.array([pj]), np.array([qty]), np.array([day]))[0]) * float(
                rng.lognormal(0.0, 0.02)
            )
            u = rng.random()
            if u < 0.06:
                fair *= float(rng.uniform(0.5, 0.72))
                anomalies.append((deal_id, p.sku, "too_low"))
            elif u < 0.1:
                fair *= float(rng.uniform(1.3, 1.7))
                anomalies.append((deal_id, p.sku, "too_high"))
            quotes.append((deal_id, p.sku, round(fair, 2), qty))
    deal_table = pa.table(
        {
            "id": [d[0] for d in deals],
            "stage": [d[1] for d in deals],
            "created_at": pa.array([d[2] for d in deals], pa.date32()),
            "outcome": [d[3] for d in deals],
        }
    )
    deal_for = pa.table({"deal_id": [d[0] for d in deals], "customer_id": [d[4] for d in deals]})
    quote_table = pa.table(
        {
            "deal_id": [q[0] for q in quotes],
            "sku": [q[1] for q in quotes],
            "unit_price": pa.array([q[2] for q in quotes], pa.float64()),
            "qty": pa.array([q[3] for q in quotes], pa.float64()),
        }
    )
    return deal_table, deal_for, quote_table, anomalies
