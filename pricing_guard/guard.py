"""``check_quote``: a verdict for every quote line — policy first, then the best reference, with the evidence.

The reference hierarchy (`pricing_guard.references`): the customer's own agreed price, the 集采 award price for
institutions, the customer's level against its segment, the segment itself. A promotion of the calendar running for
the customer widens the band down by its largest discount and is named. It reads only the in-memory `PriceIndex`; a
quote screen calls it on every keystroke.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from graph.model import CUSTOMER_TYPE_NAMES, PRICE_EVENT_NAMES
from pricing_guard import references as refs
from pricing_guard.events import TYPE_CODE, Event
from pricing_guard.history import Promo
from pricing_guard.index import EPOCH, PriceIndex, day
from pricing_guard.references import ReferenceKind
from pricing_guard.units import to_selling_unit

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


@dataclass(slots=True)
class Evidence:
    """A past order line of the peer group."""

    customer_id: str
    customer_name: str
    at: dt.date
    qty: float
    unit_price: float
    order_id: str


@dataclass(slots=True)
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
    """Order lines of the SKU left out of the bands, by reason (e.g. 近效期清货: 3)."""
    reference: ReferenceKind | None = None
    """Which reference decided: own (agreed price), award (集采), level (customer's level), peers (segment)."""
    reference_price: float | None = None
    reference_text: str | None = None
    promotion_id: str | None = None
    """The running promotion the line was judged inside, if any."""
    promotion_name: str | None = None
    event: str | None = None
    """The latest price event before the line that changed which history is comparable (e.g. 2026-06-02 集采)."""

    @property
    def flagged(self) -> bool:
        """Whether the line needs attention (anything but ok / no history)."""
        return self.verdict not in ("ok", "no_history")


def _severity(deviation: float) -> Severity:
    return "minor" if deviation < 0.10 else "major" if deviation < 0.30 else "critical"


def _evidence(index: PriceIndex, sku: str, positions: list[int]) -> tuple[Evidence, ...]:
    """The order lines behind the reference (storage positions), newest first.

    Made anew for each check, not kept (but for segment prices' few lines, see `_evidence_of`): a kept line would
    outlive the check, and objects that outlive it are what makes Python's cyclic garbage collector run.
    """
    lines = index.lines[sku]
    price, qty, days, customers, orders = lines.price, lines.qty, lines.day, lines.customer, lines.order
    known = index.customers
    out = []
    for i in positions:
        cid, d = customers[i], days.item(i)
        c = known.get(cid)
        out.append(Evidence(cid, c.name if c else cid, _DATES.get(d) or _date_of(d), qty.item(i), price.item(i),
                            orders[i]))  # fmt: skip
    return tuple(out)


def _evidence_of(index: PriceIndex, sku: str, ref: refs.Reference) -> tuple[Evidence, ...]:
    """The reference's order lines; those of a segment price (level, peers) made once per SKU and segment.

    Every quote judged against one segment shows the same few lines, and making them touches scattered objects
    (customer, order id, name): kept with the SKU's derived values, dropped when the SKU changes. An own price's
    lines are the customer's own (thousands of customers per SKU): made per check, kept by nobody.
    """
    if ref.kind not in ("level", "peers"):
        return _evidence(index, sku, ref.evidence)
    key = (sku, "evidence", *ref.evidence)
    hit = index.cached(key)
    if isinstance(hit, tuple):
        return hit
    found = _evidence(index, sku, ref.evidence)
    index.remember(key, found)
    return found


_DATES: dict[int, dt.date] = {}


def _date_of(d: int) -> dt.date:
    found = _DATES[d] = EPOCH + dt.timedelta(days=d)
    return found


def _suggest(query: str | None, choices: dict[str, str]) -> tuple[str, ...]:
    """Ids of ``choices`` (id → name) nearest to ``query`` by edit distance on the id, or by the name it resembles."""
    if not query:
        return ()
    q = query.strip()
    ids = list(choices)
    near = process.extract(q, ids, scorer=Levenshtein.distance, limit=MAX_SUGGESTIONS, score_cutoff=max(2, len(q) // 2))
    out = [hit for hit, _, _ in sorted(near, key=lambda h: (h[1], h[0]))]
    named = process.extract(q, choices, scorer=fuzz.WRatio, limit=MAX_SUGGESTIONS, score_cutoff=85)
    out += [key for _, _, key in sorted(named, key=lambda h: (-h[1], h[2])) if key not in out]
    return tuple(out[:MAX_SUGGESTIONS])


def _unknown(line: QuoteLine, verdict: Verdict, text: str, suggestions: tuple[str, ...]) -> QuoteCheck:
    if suggestions:
        text += f"；您是不是要找：{'、'.join(suggestions)}"
    return QuoteCheck(line, verdict, "none", text, suggestions=suggestions)


def _running_promotion(
    index: PriceIndex, sku: str, code: int | None, on: int, type_name: str, tier: str | None
) -> Promo | None:
    """The deepest promotion of the calendar running on ``on`` for the customer (``code``) or a prospect's profile."""
    best = None
    for p in index.promos_for(sku):
        if not p.start <= on <= p.end:
            continue
        if code is not None and code < len(p.eligible):
            eligible = bool(p.eligible[code])
        else:  # a prospect: eligible by type and tier, never by a customer list
            prom = index.promotions.get(p.id)
            eligible = prom is not None and not prom.customer_ids and prom.covers(sku, None, type_name, tier)
        if eligible and (best is None or (p.max_discount or 0) > (best.max_discount or 0)):
            best = p
    return best


def _event_text(event: Event | None) -> str | None:
    if event is None:
        return None
    name = PRICE_EVENT_NAMES.get(event.kind, "价格水平变化（从历史识别）")
    return f"{EPOCH + dt.timedelta(days=event.day)} {name}"


def _percent(x: float) -> str:
    return f"{x:.0%}" if x >= 0.01 else "不足1%"


def check_line(
    index: PriceIndex, line: QuoteLine, *, today: dt.date | None = None, visible: Collection[str] | None = None
) -> QuoteCheck:
    """The verdict on one quote line.

    A line whose SKU, customer or unit the tenant does not know gets an ``unknown_*`` verdict with the nearest ids
    it has — never a band: a confident "ok" against all customers would be a guess. ``visible``: the customer ids
    the caller may name (a rep's territory); another customer is answered as unknown, suggested among those only.
    """
    product = index.products.get(line.sku)
    if product is None:
        names = {sku: p.name for sku, p in index.products.items()}
        return _unknown(line, "unknown_product", f"本公司没有商品编码 '{line.sku}'", _suggest(line.sku, names))
    customer = index.customers.get(line.customer_id) if line.customer_id is not None else None
    if customer is not None and visible is not None and line.customer_id not in visible:
        customer = None
    if customer is None and line.profile is None:
        if not line.customer_id:
            return _unknown(line, "unknown_customer", "未给客户编码：新客户请给出客户画像（类型、级别、区域）", ())
        names = {cid: c.name for cid, c in index.customers.items() if visible is None or cid in visible}
        text = f"本公司没有客户编码 '{line.customer_id}'（新客户请给出客户画像）"
        return _unknown(line, "unknown_customer", text, _suggest(line.customer_id, names))
    on_date = line.at or today or dt.date.today()
    on = day(on_date)
    converted = to_selling_unit(line.unit_price, line.qty, line.unit, product.units)
    if converted is None:
        accepted = tuple(product.units.accepted())
        text = f"单位 '{line.unit}' 无法换算成{product.units.unit}：本商品可用 {'、'.join(accepted)}"
        return QuoteCheck(line, "unknown_unit", "none", text, suggestions=accepted)
    p, _qty = converted
    against: Literal["customer", "profile"] = "customer" if customer is not None else "profile"
    per = f"（按{product.units.unit}折算）" if line.unit and product.units.factor(line.unit) != 1.0 else ""
    if customer is not None:
        type_name, tier, region = customer.type, customer.tier, customer.region
    else:
        assert line.profile is not None
        type_name, tier, region = line.profile.type, line.profile.tier, line.profile.region
        per += f"（按客户画像 {line.profile.describe()} 核对）"
    type_code = TYPE_CODE.get(type_name, -1)
    standard_info = product.standard_on(on)
    standard = standard_info.per_pack if standard_info else None
    excluded = index.exclusions(line.sku)

    def policy(verdict: Verdict, severity: Severity, text: str) -> QuoteCheck:
        return QuoteCheck(
            line, verdict, severity, text, floor_price=product.floor_price, payment_standard=standard,
            checked_against=against, excluded=excluded,
        )  # fmt: skip

    if product.floor_price is not None and p < product.floor_price:
        gap = (product.floor_price - p) / product.floor_price
        return policy("below_floor", "critical", f"低于公司最低限价 {product.floor_price:g} 元 {_percent(gap)}{per}")
    if standard is not None and p > standard and type_name in index.payment_standard_types:
        gap = (p - standard) / standard
        text = f"高于医保支付标准 {standard:g} 元 {_percent(gap)}，患者需自付差额{per}"
        return policy("above_payment_standard", "major", text)
    left_out = index.exclusion_text(line.sku)
    h = index.history(line.sku)
    if h is None or not len(h.cust):
        text = f"本公司尚无该商品的可比成交{left_out}"
        return policy("no_history", "none", text)
    code = customer.code if customer is not None else None
    ref = refs.best(index, h, line.sku, code, type_code, tier, region, on, _who(type_name, tier, region))
    if ref is None:
        return policy("no_history", "none", f"该商品没有事件后的可比成交{left_out}")
    low, high = ref.low, ref.high
    notes = []
    if ref.kind in ("level", "peers"):
        lowest = refs.glide_bottom(index, h, line.sku, code, type_code, tier, region, on)
        if lowest is not None and lowest[0] * (1 - refs.AWARD_TOL) < low:
            low = lowest[0] * (1 - refs.AWARD_TOL)
            notes.append(f"集采后药店逐步降价，可低至 {lowest[0]:.2f}（中选价 {lowest[1]:.2f} 按该客户水平折算）")
    if standard is not None and p > standard:  # not binding for hospitals and clinics, but worth knowing
        notes.append(f"高于医保支付标准 {standard:g} 元")
    promo = _running_promotion(index, line.sku, code, on, type_name, tier)
    if promo is not None:
        low = low * (1 - (promo.max_discount or 0.0))
        notes.append(f"促销「{promo.name}」进行中（{_discounts(promo)}）")
    note = f"（{'；'.join(notes)}）" if notes else ""
    reference = ref.text
    low, high = round(low, 4), round(high, 4)  # judged on the band as reported: its own edges are inside it
    price = round(ref.price, 4)
    if p < low:
        verdict: Verdict = "low"
        gap = 1 - p / ref.price
        text = f"低于{reference} {_percent(gap)}{note}{per}"
    elif p > high:
        verdict = "high"
        gap = p / ref.price - 1
        text = f"高于{reference} {_percent(gap)}{note}{per}"
    else:
        verdict, gap = "ok", 0.0
        text = f"与{reference} 一致{note}{per}" if ref.kind in ("own", "award") else f"符合{reference}{note}{per}"
    event_text = _event_text(ref.event)
    if event_text is not None and ref.kind != "award" and not ref.before_event:
        text += f"；{event_text}后只比较此后的成交"
    percentile = ref.percentile(p)
    return QuoteCheck(
        line, verdict, "none" if verdict == "ok" else _severity(gap), text + left_out, low, high,
        price, percentile, ref.count, None, _REFERENCE_NAMES[ref.kind], product.floor_price, standard,
        _evidence_of(index, line.sku, ref), checked_against=against, excluded=excluded,
        reference=ref.kind, reference_price=price, reference_text=ref.text,
        promotion_id=promo.id if promo else None, promotion_name=promo.name if promo else None,
        event=event_text,
    )  # fmt: skip


_REFERENCE_NAMES: dict[str, str] = {
    "own": "本客户协议价", "award": "集采中选价", "level": "本客户一贯水平", "peers": "同类客户",
}  # fmt: skip


def _discounts(p: Promo) -> str:
    if p.min_discount is not None and p.max_discount is not None:
        return f"折扣 {p.min_discount:.0%}–{p.max_discount:.0%}"
    return f"最高折扣 {p.max_discount:.0%}" if p.max_discount is not None else "折扣未登记"


@functools.lru_cache(maxsize=4096)  # segments are few; a profile from a request may be anything: bounded
def _who(type_name: str, tier: str | None, region: str | None) -> str:
    parts = [x for x in (f"{tier}级" if tier else None, region) if x]
    name = f"同类{CUSTOMER_TYPE_NAMES.get(type_name, type_name)}客户"
    return name + (f"({', '.join(parts)})" if parts else "")


def check_quote(
    index: PriceIndex,
    lines: Sequence[QuoteLine],
    *,
    today: dt.date | None = None,
    visible: Collection[str] | None = None,
) -> list[QuoteCheck]:
    """Verdicts for many quote lines at once (the quote screen's call); ``visible`` as for `check_line`."""
    with index._lock:
        return [check_line(index, line, today=today, visible=visible) for line in lines]
