"""Robust, recency-weighted centre and spread of a set of prices (log scale).

Prices are compared on a log scale (discounts and mistakes are multiplicative: ×0.75, ×10), so scaling every price
by a constant scales the result by the same constant. The centre is the weighted median and the spread the weighted
median absolute deviation × 1.4826 (a standard deviation when the bulk is normal), never mean ± k·sd, so a few wrong
prices do not move them.
"""

from __future__ import annotations

import numpy as np

MAD_TO_SD = 1.4826


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` under ``weights`` (values need not be sorted)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w) - 0.5 * w
    return float(np.interp(q * w.sum(), cum, v))


def robust_center(logs: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Weighted median of log prices and their robust standard deviation (weighted MAD × 1.4826)."""
    center = weighted_quantile(logs, weights, 0.5)
    return center, MAD_TO_SD * weighted_quantile(np.abs(logs - center), weights, 0.5)


def recency_weights(age_days: np.ndarray, half_life_days: float) -> np.ndarray:
    """Exponential decay: a line ``half_life_days`` old counts half as much as today's."""
    return np.asarray(np.power(0.5, np.maximum(age_days, 0) / half_life_days), dtype=np.float64)
