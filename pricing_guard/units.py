"""Prices and quantities in the product's selling unit, whatever unit an order line or a quote was written in.

A SKU sold by the box (盒, ``pack_size`` tablets) may also appear in lines priced per tablet (片); comparing those
raw would make every per-tablet line look 7–30× too cheap. Lines are converted to the selling unit first.
"""

from __future__ import annotations

import numpy as np

from pricing_guard.errors import PricingError

SMALLEST_UNITS = frozenset({"片", "粒", "支", "袋", "丸", "贴", "瓶", "ml", "g"})
"""Units of one dose form; ``pack_size`` of them make one selling unit."""


class UnknownUnitError(PricingError):
    """A line's unit cannot be converted to the product's selling unit."""

    code = "unknown_unit"


def factor(unit: str | None, *, selling_unit: str | None, pack_size: int | None) -> float | None:
    """How many selling units one ``unit`` is (1 for the selling unit itself), or ``None`` when unknown."""
    if not unit or unit == selling_unit:
        return 1.0
    if unit in SMALLEST_UNITS and pack_size:
        return 1.0 / pack_size
    return None


def to_selling_unit(
    price: float, qty: float, unit: str | None, *, selling_unit: str | None, pack_size: int | None
) -> tuple[float, float]:
    """``(price, qty)`` per selling unit; raises ``UnknownUnitError`` when the unit cannot be converted."""
    f = factor(unit, selling_unit=selling_unit, pack_size=pack_size)
    if f is None:
        raise UnknownUnitError(
            f"cannot convert unit '{unit}' to the selling unit '{selling_unit or '?'}' (pack size {pack_size})",
            details={"unit": unit, "selling_unit": selling_unit},
        )
    return price / f, qty * f


def factors(units: list[str | None], *, selling_unit: str | None, pack_size: int | None) -> np.ndarray:
    """Per-line factors (NaN where the unit is unknown) for converting arrays of order lines."""
    cache: dict[str | None, float] = {}
    out = np.empty(len(units))
    for i, u in enumerate(units):
        if u not in cache:
            f = factor(u, selling_unit=selling_unit, pack_size=pack_size)
            cache[u] = np.nan if f is None else f
        out[i] = cache[u]
    return out
