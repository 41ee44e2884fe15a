"""Each customer's persistent price level against its segment, measured across all the SKUs it buys.

A key account buying 8–13 % under its segment does so on every SKU: that is its level, not an anomaly on each line.
With log prices, one agreed price per (customer, SKU) is modelled as

    x[c, s] = base[s] + type_offset[type(c)] + level[c] + noise

and fitted by alternating medians (robust to a few odd pairs). A customer's raw level is the median of its
residuals over its SKUs; it is shrunk toward the mean level of its segment (same type, tier and region) by
n / (n + ``SHRINK``), so a customer seen on one or two SKUs keeps mostly its segment's level, and a customer seen on
twenty keeps its own. A customer with no lines at all gets its segment's level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pricing_guard.bands import MAD_TO_SD

SHRINK = 2.0
"""Pseudo-count of SKUs pulling a customer's level toward its segment."""
ITERATIONS = 6


def median_by(keys: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``values`` per integer key in ``range(size)`` (NaN where absent) and the count per key."""
    out = np.full(size, np.nan)
    count = np.bincount(keys, minlength=size)
    if not len(keys):
        return out, count
    order = np.lexsort((values, keys))
    k, v = keys[order], values[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[starts[1:], len(k)]
    lo = starts + (ends - starts - 1) // 2
    hi = starts + (ends - starts) // 2
    out[k[starts]] = (v[lo] + v[hi]) / 2
    return out, count


@dataclass
class Levels:
    """Fitted levels: per customer code, per customer type code, per segment, and each SKU's residual spread."""

    level: np.ndarray
    n_skus: np.ndarray
    type_offset: np.ndarray
    segment_level: dict[tuple[int, object, object], float] = field(default_factory=dict)
    segment_spread: dict[tuple[int, object, object], float] = field(default_factory=dict)
    spread: dict[int, float] = field(default_factory=dict)
    """Robust sd of the model's residuals per SKU index."""

    def of(self, code: int) -> float:
        """A customer's level (0 for a code the fit never saw)."""
        if 0 <= code < len(self.level):
            value = float(self.level[code])  # a Python float: math.isfinite costs far less than np.isfinite
            if math.isfinite(value):
                return value
        return 0.0

    def offset(self, type_code: int) -> float:
        """The offset of a customer type (0 when unknown)."""
        if 0 <= type_code < len(self.type_offset):
            value = float(self.type_offset[type_code])
            if math.isfinite(value):
                return value
        return 0.0

    def segment(self, type_code: int, tier: object, region: object) -> tuple[float, float, str]:
        """Level and spread of a segment for a customer without lines, widening region then tier; and which key."""
        for key, name in (((type_code, tier, region), "tier_region"), ((type_code, tier, None), "tier"),
                          ((type_code, None, None), "type")):  # fmt: skip
            if key in self.segment_level:
                return self.segment_level[key], self.segment_spread.get(key, 0.04), name
        return 0.0, 0.05, "none"


def fit_levels(
    sku: np.ndarray,
    cust: np.ndarray,
    x: np.ndarray,
    *,
    n_customers: int,
    ctype: np.ndarray,
    tier: list[object],
    region: list[object],
) -> Levels:
    """Fit the additive model on one agreed log price per (SKU index, customer code) pair."""
    n_types = 5
    level = np.zeros(n_customers)
    offset = np.zeros(n_types)
    types = ctype[cust].astype(np.int64)
    known = types >= 0
    sku, cust, x, types = sku[known], cust[known], x[known], types[known]
    n_sku = int(sku.max()) + 1 if len(sku) else 0
    raw_count = np.bincount(cust, minlength=n_customers)
    segments: dict[tuple[int, object, object], list[int]] = {}
    for code in np.flatnonzero(raw_count):
        c = int(code)
        t = int(ctype[c])
        for key in ((t, tier[c], region[c]), (t, tier[c], None), (t, None, None)):
            segments.setdefault(key, []).append(c)
    seg_level: dict[tuple[int, object, object], float] = {}
    seg_spread: dict[tuple[int, object, object], float] = {}
    base = np.zeros(n_sku)
    raw = np.zeros(n_customers)
    prior = np.zeros(n_customers)
    count = np.zeros(n_customers, dtype=np.int64)
    for _ in range(ITERATIONS):
        base, _ = median_by(sku, x - offset[types] - level[cust], n_sku)
        off, _ = median_by(types, x - base[sku] - level[cust], n_types)
        offset = np.nan_to_num(off)
        raw, count = median_by(cust, x - base[sku] - offset[types], n_customers)
        raw = np.nan_to_num(raw)
        for key, members in segments.items():
            vals = raw[members]
            seg_level[key] = float(np.mean(vals))
            seg_spread[key] = float(np.std(vals)) if len(vals) > 1 else 0.04
        prior = np.zeros(n_customers)
        for i in np.flatnonzero(count).tolist():
            t = int(ctype[i])
            key = (t, tier[i], region[i])
            prior[i] = seg_level.get(key, seg_level.get((t, tier[i], None), seg_level.get((t, None, None), 0.0)))
        w = count / (count + SHRINK)
        level = prior + (raw - prior) * w
    # how far a customer sits from its segment, pooled per type: what no segment can tell about a customer without lines
    well_seen = count >= 3
    for type_code in range(n_types):
        seen = np.flatnonzero(well_seen & (ctype[: len(count)] == type_code))
        if len(seen) >= 3:
            dev = raw[seen] - prior[seen]
            spread_t = float(MAD_TO_SD * np.median(np.abs(dev - np.median(dev))))
            for key in segments:
                if key[0] == type_code:
                    seg_spread[key] = spread_t
    resid = x - base[sku] - offset[types] - level[cust]
    spread_arr, count = median_by(sku, np.abs(resid), n_sku)
    spread = {int(s): float(MAD_TO_SD * spread_arr[s]) for s in np.flatnonzero(count >= 3)}
    return Levels(level, raw_count, offset, seg_level, seg_spread, spread)
