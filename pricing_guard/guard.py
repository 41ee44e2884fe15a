"""``check_quote``: a verdict for every quote line, from policy first and then the peer band, with the evidence.

It reads only the in-memory `PriceIndex`; a quote screen calls it on every keystroke.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from pricing_guard.errors import UnknownProductError
from pricing_guard.index import EPOCH, PriceIndex
from pricing_guard.peers import LEVEL_NAMES, LEVELS, MIN_PEERS, PeerKey
from pricing_guard.units import to_selling_unit

TOLERANCE = 0.03
"""A price this close outside the band (3 %) is within negotiation and rounding noise: ok, with the band shown."""

Verdict = Literal["ok", "low", "high", "below_floor", "above_payment_standard", "no_history"]
Severity = Literal["none", "minor", "major", "critical"]


@dataclass(frozen=True)
class QuoteLine:
    """One line of a quote being edited."""

    customer_id: str
    sku: str
    unit_price: float
    qty: float = 1.0
    at: dt.date | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Evidence:
    """A past order line of the peer group."""

    customer_id: str
    customer_name: str
    at: dt.date
    qty: float
    unit_price: float
    order_id: str


@dataclass(frozen=True)
class QuoteCheck:
    """The verdict on one quote line and why."""

    line: QuoteLine
    verdict: Verdict
    severity: Severity
    explanation: str
    band_low: float | None = None
    band_high: float | None = None
    median: float | None = None
    percentile: float | None = None
    peer_count: int = 0
    level: int | None = None
    level_name: str | None = None
    floor_price: float | None = None
    payment_standard: float | None = None
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    @property
    def flagged(self) -> bool:
        """Whether the line needs attention (anything but ok / no history)."""
        return self.verdict not in ("ok", "no_history")


def _severity(deviation: float) -> Severity:
    return "minor" if deviation < 0.10 else "major" if deviation < 0.30 else "critical"


def _evidence(index: PriceIndex, sku: str, idx: np.ndarray, line: QuoteLine, limit: int = 5) -> tuple[Evidence, ...]:
    """Up to ``limit`` peer lines nearest to the customer: the customer itself, then its city, then the latest."""
    lines = index.lines[sku]
    me = index.customers.get(line.customer_id)

    def nearness(i: int) -> tuple[int, int, int]:
        c = index.customers.get(lines.customer[i])
        same = int(lines.customer[i] == line.customer_id)
        city = int(bool(me and c and me.city and c.city == me.city))
        return (-same, -city, -int(lines.day[i]))

    chosen = sorted((int(i) for i in idx[-400:]), key=nearness)[:limit]
    out = []
    for i in chosen:
        c = index.customers.get(lines.customer[i])
        out.append(
            Evidence(
                lines.customer[i],
                c.name if c else lines.customer[i],
                EPOCH + dt.timedelta(days=int(lines.day[i])),
                float(lines.qty[i]),
                float(lines.price[i]),
                lines.order[i],
            )  # fmt: skip
        )
    return tuple(out)


def check_line(index: PriceIndex, line: QuoteLine, *, today: dt.date | None = None, widen: bool = True) -> QuoteCheck:
    """The verdict on one quote line (``widen=False``: the narrowest peer group only, a baseline)."""
    product = index.products.get(line.sku)
    if product is None:
        raise UnknownProductError(f"unknown SKU '{line.sku}'", details={"sku": line.sku})
    on = line.at or today or dt.date.today()
    p, qty = to_selling_unit(
        line.unit_price, line.qty, line.unit, selling_unit=product.unit, pack_size=product.pack_size
    )
    per = f"（按{product.unit}折算）" if line.unit and line.unit != product.unit else ""
    standard = product.payment_standard.per_pack if product.payment_standard else None
    if product.floor_price is not None and p < product.floor_price:
        gap = (product.floor_price - p) / product.floor_price
        return QuoteCheck(
            line, "below_floor", "critical", f"低于公司最低限价 {product.floor_price:g} 元 {gap:.0%}{per}",
            floor_price=product.floor_price, payment_standard=standard,
        )  # fmt: skip
    if standard is not None and p > standard:
        gap = (p - standard) / standard
        return QuoteCheck(
            line, "above_payment_standard", "major", f"高于医保支付标准 {standard:g} 元 {gap:.0%}，患者需自付差额{per}",
            floor_price=product.floor_price, payment_standard=standard,
        )  # fmt: skip
    key = index.key_for(line.customer_id, line.sku, qty)
    if key is None:
        key = PeerKey("", None, None, 1)
    levels = range(len(LEVELS)) if widen else range(1)
    best = None
    for level in levels:
        if key.type == "" and LEVELS[level]:
            continue
        band, idx = index.peer_band(line.sku, key, level, on)
        if band is not None and band.count >= MIN_PEERS:
            best = (level, band, idx)
            break
    if best is None:
        return QuoteCheck(
            line, "no_history", "none",
            f"近{index.window_days // 30}个月没有足够的可比成交（任一层级少于 {MIN_PEERS} 笔）",
            floor_price=product.floor_price, payment_standard=standard,
        )  # fmt: skip
    level, band, idx = best
    who = key.describe(level)
    months = index.window_days // 30
    if p < band.low * (1 - TOLERANCE):
        verdict: Verdict = "low"
        gap = (band.low - p) / band.low
        severity = _severity(gap)
        text = f"低于{who}近{months}个月成交区间下沿 {gap:.0%}{per}"
    elif p > band.high * (1 + TOLERANCE):
        verdict = "high"
        gap = (p - band.high) / band.high
        severity = _severity(gap)
        text = f"高于{who}近{months}个月成交区间上沿 {gap:.0%}{per}"
    else:
        verdict, severity = "ok", "none"
        text = f"在{who}近{months}个月成交区间内（{band.low:.2f}–{band.high:.2f} 元）{per}"
    return QuoteCheck(
        line, verdict, severity, text, round(band.low, 4), round(band.high, 4), round(band.median, 4),
        band.percentile(p), band.count, level, LEVEL_NAMES[level], product.floor_price, standard,
        _evidence(index, line.sku, idx, line),
    )  # fmt: skip


def check_quote(
    index: PriceIndex, lines: Sequence[QuoteLine], *, today: dt.date | None = None, widen: bool = True
) -> list[QuoteCheck]:
    """Verdicts for many quote lines at once (the quote screen's call)."""
    with index._lock:
        return [check_line(index, line, today=today, widen=widen) for line in lines]
