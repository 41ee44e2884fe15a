"""Hard policy checks that come before statistics: the floor price and the reimbursement payment standard."""

from __future__ import annotations

import re
from dataclasses import dataclass

_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*元\s*(?:/\s*([^\s(（/]+)|[(（]([^)）]*)[)）])?")
_PER_UNIT = re.compile(r"/\s*(片|粒|支|瓶|袋|丸|贴|盒|板)\s*\)?$")
_EACH_UNIT = re.compile(r"^\s*每\s*(片|粒|支|瓶|袋|丸|贴|盒|板)")
_BARE = re.compile(r"^\s*[¥￥]?\s*(\d+(?:\.\d+)?)\s*元?\s*$")


@dataclass(frozen=True)
class PaymentStandard:
    """A payment standard per selling unit of a product, parsed from the published text."""

    per_pack: float
    source_text: str


def payment_standard_per_pack(text: str | None, *, pack_size: int | None, spec: str | None) -> PaymentStandard | None:
    """The standard per selling unit, or ``None`` when confidential (``*``), absent or not safely comparable.

    Published standards read like ``5.39元(75mg/片)`` or ``24.15元(每片含…)`` (per tablet: × pack size),
    ``479.00元/盒(…)`` (per box), or list several strengths; then the one whose strength appears in the product's spec
    is used. A bare amount (``24.15``, as a company's own formulary file gives it) is per selling unit.
    """
    if not text or text.strip() == "*":
        return None
    bare = _BARE.match(text)
    if bare:  # a company's own formulary file: one amount per selling unit (24.15, 24.15元)
        return PaymentStandard(float(bare.group(1)), text)
    candidates: list[tuple[float, str, str]] = []
    for m in _AMOUNT.finditer(text):
        amount = float(m.group(1))
        unit = m.group(2) or ""
        detail = m.group(3) or ""
        if not unit:
            per = _PER_UNIT.search(detail) or _EACH_UNIT.search(detail)
            unit = per.group(1) if per else ""
        candidates.append((amount, unit, detail))
    if not candidates:
        return None
    if len(candidates) > 1:
        spec_key = (spec or "").replace(" ", "").lower()
        matching = [c for c in candidates if _strength(c[2]) and _strength(c[2]) in spec_key]
        if len(matching) != 1:
            return None
        candidates = matching
    amount, unit, _ = candidates[0]
    if unit == "盒":
        return PaymentStandard(amount, text)
    if unit in ("片", "粒", "支", "丸", "袋", "贴", "瓶") and pack_size:
        return PaymentStandard(round(amount * pack_size, 4), text)
    return None


def _strength(detail: str) -> str:
    m = re.search(r"(\d+(?:\.\d+)?)\s*(mg|g|ml|μg|ug|iu|万单位)", detail.lower())
    return f"{m.group(1)}{m.group(2)}" if m else ""
