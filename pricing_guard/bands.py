"""Robust, recency-weighted price bands.

Prices are compared on a log scale (discounts and mistakes are multiplicative: ×0.75, ×10), so scaling every price
by a constant scales the band by the same constant. The band is the weighted median ± k robust standard deviations
(1.4826 × weighted MAD) with a minimum half-width, never mean ± k·sd, so a few wrong historical prices do not widen it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAD_TO_SD = 1.4826


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` under ``weights`` (values need not be sorted)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w) - 0.5 * w
    return float(np.interp(q * w.sum(), cum, v))


@dataclass(frozen=True)
class Band:
    """A price band of one peer group, with what the percentile of a quoted price needs."""

    low: float
    high: float
    median: float
    mad: float
    count: int
    sorted_prices: np.ndarray
    cum_weights: np.ndarray

    def percentile(self, price: float) -> float:
        """Weighted share of peer prices at or below ``price``, 0–100."""
        i = int(np.searchsorted(self.sorted_prices, price, side="right"))
        total = float(self.cum_weights[-1])
        return round(100.0 * (float(self.cum_weights[i - 1]) if i else 0.0) / total, 1)


def robust_band(prices: np.ndarray, weights: np.ndarray, *, k: float = 3.0, min_half_width: float = 0.06) -> Band:
    """The band of peer ``prices`` (weights: recency); ``min_half_width`` is relative (6 % ⇒ at least ±6 %)."""
    logs = np.log(prices)
    med = weighted_quantile(logs, weights, 0.5)
    mad = weighted_quantile(np.abs(logs - med), weights, 0.5)
    half = max(k * MAD_TO_SD * mad, np.log1p(min_half_width))
    order = np.argsort(prices, kind="stable")
    return Band(
        low=float(np.exp(med - half)),
        high=float(np.exp(med + half)),
        median=float(np.exp(med)),
        mad=float(mad),
        count=len(prices),
        sorted_prices=prices[order],
        cum_weights=np.cumsum(weights[order]),
    )


def recency_weights(age_days: np.ndarray, half_life_days: float) -> np.ndarray:
    """Exponential decay: a line ``half_life_days`` old counts half as much as today's."""
    return np.asarray(np.power(0.5, np.maximum(age_days, 0) / half_life_days), dtype=np.float64)
