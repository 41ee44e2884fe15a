"""Price flags on an independent evaluation world: a distributor's files and labelled quote lines.

A world (written by someone who never read ``pricing_guard/``) is a folder of seeds; each seed has one folder per
tenant (products, customers, orders, formulary, promotions, price_events in the public ingest formats) and a
``quotes.jsonl`` of labelled quote lines::

    {"quote_id", "tenant", "customer_id", "sku", "unit_price", "qty", "unit", "date", "expected", "situation", …}

The world is loaded through the public ingest path (``ingest_paths`` into an embedded store in a temporary folder,
one tenant per subfolder), every quote is checked by the guard and by the simple peer-band baseline below, and both
are scored per situation. Only ``expected`` and ``situation`` are read for scoring; nothing else of a quote's label
(``truth_price``, ``note``) and nothing of a seed's ``truth.json`` is read.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.stats import percentiles
from graph.embedded import EmbeddedGraphStore
from graph.units import UnitRule
from ingest.pipeline import ingest_paths
from pricing_guard.bands import MAD_TO_SD
from pricing_guard.days import day, days_of
from pricing_guard.guard import QuoteLine, check_line
from pricing_guard.index import PriceIndex, ProductInfo

FLAGS = frozenset({"low", "high", "below_floor", "above_payment_standard"})
"""Verdicts that flag a line (what a rep sees in amber or red)."""
PHARMACIES = frozenset({"chain", "single_pharmacy", "dtp"})


@dataclass(frozen=True)
class Quote:
    """One labelled quote line of a world."""

    quote_id: str
    tenant: str
    customer_id: str
    sku: str
    unit_price: float
    qty: float
    unit: str | None
    date: dt.date
    expected: str
    situation: str

    @property
    def line(self) -> QuoteLine:
        """The line as a quote screen sends it."""
        return QuoteLine(self.customer_id, self.sku, self.unit_price, self.qty, self.date, self.unit)


def read_quotes(path: Path) -> list[Quote]:
    """The labelled quotes of a seed (only the fields a checker may see, plus the label and situation)."""
    out = []
    with path.open(encoding="utf-8") as f:
        for raw in f:
            if raw.strip():
                q = json.loads(raw)
                out.append(
                    Quote(q["quote_id"], q["tenant"], q["customer_id"], q["sku"], float(q["unit_price"]),
                          float(q.get("qty") or 1), q.get("unit") or None, dt.date.fromisoformat(q["date"]),
                          q["expected"], q["situation"])
                )  # fmt: skip
    return out


@dataclass
class TenantWorld:
    """One tenant of a world: its price index and what the baseline needs."""

    index: PriceIndex
    baseline: PeerBandBaseline
    build_s: float


def load_world(seed_dir: Path, store_dir: Path, *, as_of: dt.date) -> dict[str, TenantWorld]:
    """Ingest every tenant folder of ``seed_dir`` into one embedded store and build each tenant's index."""
    store = EmbeddedGraphStore(store_dir, buffer_pool_mb=1024)
    out = {}
    try:
        for folder in sorted(p for p in seed_dir.iterdir() if p.is_dir()):
            tenant = folder.name
            ingest_paths(store, tenant, [folder], actor="eval")
            t0 = time.perf_counter()
            index = PriceIndex.from_store(store, tenant, as_of=as_of)
            build_s = time.perf_counter() - t0
            out[tenant] = TenantWorld(index, PeerBandBaseline.from_store(store, tenant, index.products), build_s)
    finally:
        store.close()
    return out


@dataclass
class PeerBandBaseline:
    """The simple checker every figure is shown beside: policy rules, then one peer band of the customer's type.

    Prices in boxes; ``no_history`` when the SKU was never sold; below the floor; above the payment standard (pharmacy
    customers); else the tenant's lines of the SKU for customers of the same type in the last 183 days (falling back
    to all types, then to all history), band = median ± max(3 × 1.4826 × MAD, 5 % of the median). It knows nothing
    of own contract prices, key accounts, promotions, price events or dirty lines.
    """

    products: dict[str, ProductInfo]
    types: Mapping[str, str]
    lines: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Per SKU: box prices, days (ordinal), customer type codes."""
    pharmacy_types: frozenset[str] = PHARMACIES
    window_days: int = 183
    k: float = 3.0
    min_band: float = 0.05
    min_lines: int = 5

    @classmethod
    def from_store(cls, store: EmbeddedGraphStore, tenant: str, products: dict[str, ProductInfo]) -> PeerBandBaseline:
        """Every order line of the tenant, converted to boxes."""
        types = {c.id: c.type for c in store.customers(tenant)}
        base = cls(products, types)
        for p in store.catalogue(tenant).products:
            h = store.price_history(tenant, p.sku).table
            if not h.num_rows:
                continue
            rule = UnitRule(p.unit, p.pack_size, p.case_size)
            f = np.array([rule.factor(u) or np.nan for u in h.column("unit").to_pylist()])
            price = h.column("unit_price").to_numpy() / f
            days = days_of(h.column("at"))
            kinds = np.array([types.get(c, "") for c in h.column("customer_id").to_pylist()])
            keep = np.isfinite(price)
            base.lines[p.sku] = (price[keep], days[keep], kinds[keep])  # free goods (0.00) too: it knows no dirt
        return base

    def check(self, q: Quote) -> str:
        """The baseline's verdict on a labelled quote."""
        return self.check_line(q.customer_id, q.sku, q.unit_price, q.unit, q.date)

    def check_line(self, customer_id: str, sku: str, unit_price: float, unit: str | None, on: dt.date) -> str:
        """The baseline's verdict on one line."""
        info = self.products.get(sku)
        if info is None or sku not in self.lines:
            return "no_history"
        f = info.units.factor(unit) or 1.0
        p = unit_price / f
        if info.floor_price is not None and p < info.floor_price:
            return "below_floor"
        ctype = self.types.get(customer_id, "")
        standard = info.payment_standard.per_pack if info.payment_standard else None
        if standard is not None and ctype in self.pharmacy_types and p > standard:
            return "above_payment_standard"
        price, days, kinds = self.lines[sku]
        today = day(on)
        recent = (days <= today) & (days > today - self.window_days)
        for mask in (recent & (kinds == ctype), recent, days <= today):
            if mask.sum() >= self.min_lines:
                break
        sel = price[mask] if mask.any() else price
        med = float(np.median(sel))
        half = max(self.k * MAD_TO_SD * float(np.median(np.abs(sel - med))), self.min_band * med)
        return "low" if p < med - half else "high" if p > med + half else "ok"


def score(quotes: list[Quote], verdicts: list[str], sold: Callable[[Quote], bool]) -> dict[str, Any]:
    """Precision, recall, false flags, exact verdicts overall and per situation, and misplaced ``no_history``."""
    flagged = [v in FLAGS for v in verdicts]
    anomaly = [q.expected in FLAGS for q in quotes]
    clean = [q.expected == "ok" for q in quotes]
    tp = sum(f and a for f, a in zip(flagged, anomaly, strict=True))
    false = sum(f and c for f, c in zip(flagged, clean, strict=True))
    by: dict[str, dict[str, Any]] = {}
    for situation in dict.fromkeys(q.situation for q in quotes):
        idx = [i for i, q in enumerate(quotes) if q.situation == situation]
        labels = Counter(quotes[i].expected for i in idx)
        by[situation] = {
            "n": len(idx),
            "expected": dict(labels),
            "flagged": round(sum(flagged[i] for i in idx) / len(idx), 4),
            "exact": round(sum(verdicts[i] == quotes[i].expected for i in idx) / len(idx), 4),
            "verdicts": dict(Counter(verdicts[i] for i in idx)),
        }
    clean_situations = [s for s, v in by.items() if set(v["expected"]) == {"ok"}]
    misplaced = sum(v == "no_history" and sold(q) for q, v in zip(quotes, verdicts, strict=True))
    return {
        "quotes": len(quotes),
        "precision": round(tp / max(sum(flagged), 1), 4),
        "recall": round(tp / max(sum(anomaly), 1), 4),
        "false_flag_rate": round(false / max(sum(clean), 1), 4),
        "max_false_flag_rate_clean_situation": max((by[s]["flagged"] for s in clean_situations), default=0.0),
        "exact": round(sum(v == q.expected for q, v in zip(quotes, verdicts, strict=True)) / len(quotes), 4),
        "no_history_where_sold": misplaced,
        "by_situation": by,
    }


def evaluate_seed(seed_dir: Path, *, tmp: str | None = None, misses: Path | None = None) -> dict[str, Any]:
    """Load one seed, check every quote with the guard and the baseline, and score both."""
    quotes = read_quotes(seed_dir / "quotes.jsonl")
    as_of = max(q.date for q in quotes)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=tmp) as d:
        world = load_world(seed_dir, Path(d) / "graph", as_of=as_of)
    load_s = time.perf_counter() - t0
    guard, base, times = [], [], []
    checks = []
    for q in quotes:
        tw = world.get(q.tenant)
        if tw is None:
            guard.append("unknown_tenant")
            base.append("unknown_tenant")
            continue
        t1 = time.perf_counter()
        c = check_line(tw.index, q.line, today=q.date)
        times.append((time.perf_counter() - t1) * 1000)
        checks.append((q, c))
        guard.append(c.verdict)
        base.append(tw.baseline.check(q))

    def sold(q: Quote) -> bool:
        tw = world.get(q.tenant)
        return tw is not None and q.sku in tw.baseline.lines

    if misses is not None:
        _write_misses(misses, checks)
    return {
        "seed": seed_dir.name,
        "tenants": {
            t: {"order_lines": tw.index.line_count, "index_build_s": round(tw.build_s, 2)} for t, tw in world.items()
        },  # fmt: skip
        "load_s": round(load_s, 1),
        "check_ms": percentiles(times, (50, 99), 4),
        "guard": score(quotes, guard, sold),
        "baseline": score(quotes, base, sold),
        "guard_excluded": _excluded(tw.index for tw in world.values()),
    }


def _excluded(indexes: Iterable[PriceIndex]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for index in indexes:
        for sku in index.lines:
            for reason, n in index.exclusions(sku).items():
                total[reason] += n
    return dict(total)


def _write_misses(path: Path, checks: list[tuple[Quote, Any]]) -> None:
    """Every quote whose verdict differs from its label, with the guard's explanation (for reading misses)."""
    with path.open("w", encoding="utf-8") as f:
        for q, c in checks:
            if c.verdict != q.expected:
                row = {
                    "quote_id": q.quote_id, "tenant": q.tenant, "situation": q.situation, "expected": q.expected,
                    "verdict": c.verdict, "customer_id": q.customer_id, "sku": q.sku, "unit_price": q.unit_price,
                    "qty": q.qty, "unit": q.unit, "date": q.date.isoformat(), "explanation": c.explanation,
                    "band": [c.band_low, c.band_high], "reference": getattr(c, "reference", None),
                }  # fmt: skip
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
