"""Peer groups: customers similar to the quoting one, widened step by step until there is enough history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph.model import CUSTOMER_TYPE_NAMES

LEVELS: tuple[tuple[str, ...], ...] = (
    ("type", "tier", "region", "band"),
    ("type", "tier", "band"),
    ("type", "band"),
    ("type",),
    (),
)
"""Attributes a peer must share, from the narrowest group to all customers: drop region, tier, volume band, type."""

LEVEL_NAMES = ("同类型同级别同区域同量级", "同类型同级别同量级", "同类型同量级", "同类型", "全部客户")

MIN_PEERS = 10
"""Order lines needed before a group's band is trusted.

With fewer, one unusual deal moves the median and the MAD by a large share (the MAD of 5 points is one point);
from 10 on, the breakdown point of median/MAD lets up to 4 odd prices pass without moving the band.
"""


def volume_edges(qty: np.ndarray) -> tuple[float, float]:
    """Tertile edges of a SKU's order quantities: small / medium / large orders."""
    if len(qty) == 0:
        return (0.0, 0.0)
    lo, hi = np.quantile(qty, [1 / 3, 2 / 3])
    return float(lo), float(hi)


def volume_band(qty: float, edges: tuple[float, float]) -> int:
    """0, 1 or 2: the quantity's tertile among the SKU's orders."""
    return 0 if qty <= edges[0] else 1 if qty <= edges[1] else 2


@dataclass(frozen=True)
class PeerKey:
    """The attributes of the quoting customer that define its peers."""

    type: str
    tier: str | None
    region: str | None
    band: int

    def at(self, level: int) -> tuple[object, ...]:
        """The key of the peer group at widening ``level``."""
        return tuple(getattr(self, a) for a in LEVELS[level])

    def describe(self, level: int) -> str:
        """The group in words a rep understands, e.g. 同类连锁客户(A级, 浙北)."""
        attrs = LEVELS[level]
        if not attrs:
            return "全部客户"
        parts = []
        if "tier" in attrs and self.tier:
            parts.append(f"{self.tier}级")
        if "region" in attrs and self.region:
            parts.append(self.region)
        if "band" in attrs:
            parts.append(("小", "中", "大")[self.band] + "量")
        who = f"同类{CUSTOMER_TYPE_NAMES.get(self.type, self.type)}客户"
        return who + (f"({', '.join(parts)})" if parts else "")
