"""``check_quote``: a verdict for every quote line, from policy first and then the peer band, with the evidence.

It reads only the in-memory `PriceIndex`; a quote screen calls it on every keystroke.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from graph.model import CUSTOMER_TYPE_NAMES
from pricing_guard.index import EPOCH, PriceIndex
from pricing_guard.peers import LEVEL_NAMES, LEVELS, MIN_PEERS, PeerKey, volume_band
from pricing_guard.units import to_selling_unit

TOLERANCE = 0.03
"""A price this close outside the band (3 %) is within negotiation and rounding noise: ok, with the band shown."""

Verdict = Literal[
    "ok",
    "low",
    "high",
    "below_floor",
    "above_payment_standard",
    "no_history",
    "unknown_customer",
    "unknown_product",
    "unknown_unit",
]
Severity = Literal["none", "minor", "major", "critical"]
UNKNOWN: frozenset[str] = frozenset({"unknown_customer", "unknown_product", "unknown_unit"})
"""Verdicts that say the line could not be checked: its input names something the tenant does not have."""
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class CustomerProfile:
    """A prospect without a customer id: the attributes its peers are chosen by."""

    type: str
    tier: str | None = None
    region: str | None = None

    def describe(self) -> str:
        """The profile in words, e.g. 连锁, A级, 华东."""
        parts = [CUSTOMER_TYPE_NAMES.get(self.type, self.type)]
        if self.tier:
            parts.append(f"{self.tier}级")
        if self.region:
            parts.append(self.region)
        return "、".join(parts)


@dataclass(frozen=True)
class QuoteLine:
    """One line of a quote being edited: for a customer of the tenant, or for a prospect described by a profile."""

    customer_id: str | None
    sku: str
    unit_price: float
    qty: float = 1.0
    at: dt.date | None = None
    unit: str | None = None
    profile: CustomerProfile | None = None


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
    suggestions: tuple[str, ...] = ()
    """Unknown customer or SKU: the tenant's ids it most likely meant; unknown unit: the units accepted."""
    checked_against: Literal["customer", "profile"] | None = None
    """Whose peers the line was judged against: the customer's, or those of the profile given for a prospect."""
    excluded: dict[str, int] = field(default_factory=dict)
    """Order lines of the SKU left out of the bands, by reason (e.g. 单位无法换算: 3)."""

    @property
    def flagged(self) -> bool:
        """Whether the line needs attention (anything but ok / no history)."""
        return self.verdict not in ("ok", "no_history")


def _severity(deviation: float) -> Severity:
    return "minor" if deviation < 0.10 else "major" if deviation < 0.30 else "critical"


def _evidence(index: PriceIndex, sku: str, idx: np.ndarray, line: QuoteLine, limit: int = 5) -> tuple[Evidence, ...]:
    """Up to ``limit`` peer lines nearest to the customer: the customer itself, then its city, then the latest."""
    lines = index.lines[sku]
    me = index.customers.get(line.customer_id) if line.customer_id is not None else None

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


def _suggest(query: str | None, choices: dict[str, str]) -> tuple[str, ...]:
    """Ids of ``choices`` (id → name) nearest to ``query`` by edit distance on the id, or by the name it resembles."""
    if not query:
        return ()
    q = query.strip()
    ids = list(choices)
    near = process.extract(
        q, ids, scorer=Levenshtein.distance, limit=MAX_SUGGESTIONS, score_cutoff=max(2, len(q) // 2)
    )
    out = [hit for hit, _, _ in sorted(near, key=lambda h: (h[1], h[0]))]
    named = process.extract(q, choices, scorer=fuzz.WRatio, limit=MAX_SUGGESTIONS, score_cutoff=85)
    out += [key for _, _, key in sorted(named, key=lambda h: (-h[1], h[2])) if key not in out]
    return tuple(out[:MAX_SUGGESTIONS])


def _unknown(line: QuoteLine, verdict: Verdict, text: str, suggestions: tuple[str, ...]) -> QuoteCheck:
    if suggestions:
        text += f"；您是不是要找：{'、'.join(suggestions)}"
    return QuoteCheck(line, verdict, "none", text, suggestions=suggestions)


def check_line(index: PriceIndex, line: QuoteLine, *, today: dt.date | None = None, widen: bool = True) -> QuoteCheck:
    """The verdict on one quote line (``widen=False``: the narrowest peer group only, a baseline).

    A line whose SKU, customer or unit the tenant does not know gets an ``unknown_*`` verdict with the nearest ids
    it has — never a band: a confident "ok" against all customers would be a guess.
    """
    product = index.products.get(line.sku)
    if product is None:
        names = {sku: p.name for sku, p in index.products.items()}
        return _unknown(line, "unknown_product", f"本公司没有商品编码 '{line.sku}'", _suggest(line.sku, names))
    customer = index.customers.get(line.customer_id) if line.customer_id is not None else None
    if customer is None and line.profile is None:
        if not line.customer_id:
            return _unknown(line, "unknown_customer", "未给客户编码：新客户请给出客户画像（类型、级别、区域）", ())
        names = {cid: c.name for cid, c in index.customers.items()}
        text = f"本公司没有客户编码 '{line.customer_id}'（新客户请给出客户画像）"
        return _unknown(line, "unknown_customer", text, _suggest(line.customer_id, names))
    on = line.at or today or dt.date.today()
    converted = to_selling_unit(line.unit_price, line.qty, line.unit, product.units)
    if converted is None:
        accepted = tuple(product.units.accepted())
        text = f"单位 '{line.unit}' 无法换算成{product.units.unit}：本商品可用 {'、'.join(accepted)}"
        return QuoteCheck(line, "unknown_unit", "none", text, suggestions=accepted)
    p, qty = converted
    against: Literal["customer", "profile"] = "customer" if customer is not None else "profile"
    per = f"（按{product.units.unit}折算）" if line.unit and product.units.factor(line.unit) != 1.0 else ""
    if against == "profile":
        assert line.profile is not None
        per += f"（按客户画像 {line.profile.describe()} 核对）"
    standard = product.payment_standard.per_pack if product.payment_standard else None
    excluded = index.exclusions(line.sku)

    def policy(verdict: Verdict, severity: Severity, text: str) -> QuoteCheck:
        return QuoteCheck(
            line, verdict, severity, text, floor_price=product.floor_price, payment_standard=standard,
            checked_against=against, excluded=excluded,
        )  # fmt: skip

    if product.floor_price is not None and p < product.floor_price:
        gap = (product.floor_price - p) / product.floor_price
        text = f"低于公司最低限价 {product.floor_price:g} 元 {gap:.0%}{per}"
        return policy("below_floor", "critical", text)
    if standard is not None and p > standard:
        gap = (p - standard) / standard
        text = f"高于医保支付标准 {standard:g} 元 {gap:.0%}，患者需自付差额{per}"
        return policy("above_payment_standard", "major", text)
    edges = index.lines[line.sku].edges if line.sku in index.lines else (0.0, 0.0)
    if customer is not None:
        key = index.key_for(customer.id, line.sku, qty)
        assert key is not None
    else:
        assert line.profile is not None
        prof = line.profile
        key = PeerKey(prof.type, prof.tier, prof.region, volume_band(qty, edges))
    levels = range(len(LEVELS)) if widen else range(1)
    best = None
    for level in levels:
        band, idx = index.peer_band(line.sku, key, level, on)
        if band is not None and band.count >= MIN_PEERS:
            best = (level, band, idx)
            break
    left_out = "".join(f"；已排除 {n} 笔{why}的订单行" for why, n in excluded.items())
    if best is None:
        text = f"近{index.window_days // 30}个月没有足够的可比成交（任一层级少于 {MIN_PEERS} 笔）{left_out}"
        return policy("no_history", "none", text)
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
        line, verdict, severity, text + left_out, round(band.low, 4), round(band.high, 4), round(band.median, 4),
        band.percentile(p), band.count, level, LEVEL_NAMES[level], product.floor_price, standard,
        _evidence(index, line.sku, idx, line), checked_against=against, excluded=excluded,
    )  # fmt: skip


def check_quote(
    index: PriceIndex, lines: Sequence[QuoteLine], *, today: dt.date | None = None, widen: bool = True
) -> list[QuoteCheck]:
    """Verdicts for many quote lines at once (the quote screen's call)."""
    with index._lock:
        return [check_line(index, line, today=today, widen=widen) for line in lines]
