"""Prices and quantities in the product's selling unit, whatever unit an order line or a quote was written in.

The conversion rule itself (selling unit, tablets per box, boxes per case) is the domain model's
(`graph.units.UnitRule`); this module applies it to quote lines and to arrays of order lines.
"""

from __future__ import annotations

import numpy as np

from graph.units import UnitRule


def to_selling_unit(price: float, qty: float, unit: str | None, rule: UnitRule) -> tuple[float, float] | None:
    """``(price, qty)`` per selling unit, or ``None`` when the unit cannot be converted."""
    f = rule.factor(unit)
    if f is None:
        return None
    return price / f, qty * f


def factors(units: list[str | None], rule: UnitRule) -> np.ndarray:
    """Per-line factors (NaN where the unit is unknown) for converting arrays of order lines."""
    cache: dict[str | None, float] = {}
    out = np.empty(len(units))
    for i, u in enumerate(units):
        if u not in cache:
            f = rule.factor(u)
            cache[u] = np.nan if f is None else f
        out[i] = cache[u]
    return out
