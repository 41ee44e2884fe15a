"""Units of a product's order and quote lines: how many selling units one line unit is.

A SKU sold by the box (盒, ``pack_size`` tablets, ``case_size`` boxes per 件) appears in lines priced per box, per
case (件) and per tablet (片). Comparing those raw would make a case price look 20–400× too dear and a tablet price
7–30× too cheap, so every price is converted to the selling unit first. The rule lives in the domain model because
ingest (which reports lines it cannot convert) and the pricing guard (which converts them) both need it.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SELLING_UNIT = "盒"
"""A product without a stated selling unit is sold by the box, as nearly every SKU of a distributor is."""

SMALLEST_UNITS = frozenset({"片", "粒", "支", "袋", "丸", "贴", "瓶", "ml", "g", "枚", "喷"})
"""Units of one dose form; ``pack_size`` of them make one selling unit."""

CASE_UNITS = frozenset({"件", "箱"})
"""A shipping case; ``case_size`` selling units make one."""

UNIT_ALIASES = {"盒装": "盒", "小盒": "盒", "box": "盒", "boxes": "盒", "case": "件", "cases": "件", "ctn": "件"}


@dataclass(frozen=True)
class UnitRule:
    """What one product's lines may be written in: its selling unit, tablets per box, boxes per case."""

    selling_unit: str | None = None
    pack_size: int | None = None
    case_size: int | None = None

    @property
    def unit(self) -> str:
        """The selling unit, 盒 when the product does not say."""
        return self.selling_unit or DEFAULT_SELLING_UNIT

    def factor(self, unit: str | None) -> float | None:
        """How many selling units one ``unit`` is (1 for the selling unit itself), or ``None`` when unknown."""
        u = normalise_unit(unit)
        if not u or u == self.unit:
            return 1.0
        if u in CASE_UNITS:
            return float(self.case_size) if self.case_size else None
        if u in SMALLEST_UNITS and self.pack_size:
            return 1.0 / self.pack_size
        return None

    def accepted(self) -> list[str]:
        """The units a line of this product can be converted from, for a message a rep can act on."""
        out = [self.unit]
        if self.case_size:
            out.append(f"件（{self.case_size}{self.unit}）")
        if self.pack_size:
            out.append(f"片/粒等最小单位（{self.pack_size}/{self.unit}）")
        return out


def normalise_unit(unit: str | None) -> str | None:
    """The unit as written, trimmed and lower-cased, with common aliases (box, case…) mapped; ``None`` when empty."""
    if unit is None:
        return None
    u = unit.strip().lower()
    if not u:
        return None
    return UNIT_ALIASES.get(u, u)
