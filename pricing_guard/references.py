"""The reference a quote line is judged against, from the most specific to the most general.

1. ``own``: the customer's own agreed price for the SKU — its latest agreed-price lines since the last price event
   that moved its type (a list change measured in the history carries an older price forward).
2. ``award``: after a 集采 award, hospitals and clinics pay one award price per region, whatever their contract.
3. ``level``: the customer's persistent level against its segment, measured across its other SKUs (key accounts
   sit 8–13 % under their segment on everything), applied to the segment's price of this SKU.
4. ``peers``: a customer without any history (or a prospect's profile): its segment's price and spread.

Each reference carries an acceptance band whose half-width reflects how well it is known: a customer's own price
to within renegotiation drift and rounding, a level-based price to within the customer × SKU spread the fit leaves,
a segment price to within the spread of customers in the segment. The segment price of a SKU uses only lines after
the last event that moved each customer's type — widening to other types (through the type offsets), never back in
time.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from pricing_guard.bands import MAD_TO_SD, recency_weights, robust_center
from pricing_guard.events import CUSTOMER_TYPES, INSTITUTION_CODES, PHARMACY_CODES, Event
from pricing_guard.history import SkuHistory, latest, regimes

if TYPE_CHECKING:  # the index calls this module to warm its caches: a type, not an import at run time
    from pricing_guard.index import PriceIndex
from pricing_guard.days import EPOCH

ReferenceKind = Literal["own", "award", "level", "peers"]

OWN_TOL = 0.08
"""Own agreed price: clean quotes sit within ±2 % of it, renegotiations move it a few %, quantity breaks 2.5 %."""
STALE_DAYS = 180
STALE_EXTRA = 0.04
"""An agreed price older than half a year may have been renegotiated since: 4 % more room."""
CARRIED_EXTRA = 0.03
"""An agreed price carried over a list change by the change measured on other customers: 3 % more room."""
AWARD_TOL = 0.06
"""Award prices are uniform within a region (±1.5 %)."""
Z = 3.0
LEVEL_TOL = (0.08, 0.20)
PEER_TOL = (0.10, 0.22)
SMALL_SAMPLE_SPREAD = 0.05
"""The spread assumed for a segment price resting on one or two customers."""
CUSTOMER_SKU_SPREAD = 0.015
"""What no level can know: one customer's price of one SKU against its level on the others."""
SMALL_SAMPLE = 64
"""A reference sample up to this size is counted in Python; larger ones are sorted and binary-searched."""
RECENT = 5
"""Agreed-price lines behind the customer's usual price (their median, beside the latest)."""
USUAL_DAYS = 90
"""… taken within three months of the latest: older lines may be from before a renegotiation or a glide step."""
GLIDE_DAYS = 540
"""After a 集采 award, pharmacies step down toward it over months (at their renegotiations): the time this takes."""
GLIDE_UP = 0.04
"""A gliding pharmacy's price only goes down: room above its latest price is rounding and noise only."""
GLIDE_MIN = 3
RECENT_DAYS = 90
"""Where pharmacies are on the path now: their lines of the last three months (six when too few)."""
"""Pharmacies with prices before and after the award needed to measure the path."""


@dataclass(slots=True)
class Reference:
    """What a quote is compared with, the band of acceptable prices, and how it reads."""

    kind: ReferenceKind
    price: float
    low: float
    high: float
    count: int
    """Own lines, or customers, behind the reference."""
    text: str
    """The reference in words, e.g. 该客户9月协议价 12.40."""
    sample: np.ndarray
    """Log prices (before ``shift``) that the percentile of a quote is taken among; sorted when large."""
    evidence: np.ndarray
    """Storage positions of the SKU's lines to show."""
    event: Event | None = None
    """The latest price event before the quote that changed what is comparable."""
    glide: bool = False
    shift: float = 0.0
    """Added to every ``sample`` value (a level, a carried change), kept apart so no array is made per check."""

    def percentile(self, price: float) -> float | None:
        """Share of the sample at or below ``price``, 0–100 (``None`` without a sample)."""
        n = len(self.sample)
        if not n:
            return None
        x = math.log(price) - self.shift
        if n <= SMALL_SAMPLE:
            at_or_below = sum(1 for v in self.sample.tolist() if v <= x)
        else:
            at_or_below = int(np.searchsorted(self.sample, x, side="right"))
        return round(100.0 * at_or_below / n, 1)


_DATES: dict[int, dt.date] = {}


def _date(d: int) -> dt.date:
    found = _DATES.get(d)
    if found is None:
        found = _DATES[d] = EPOCH + dt.timedelta(days=int(d))
    return found


def _last_event(h: SkuHistory, type_code: int, on: int) -> Event | None:
    if not h.events:
        return None
    return max((e for e in h.events if e.day <= on and e.applies(type_code)), key=lambda e: e.day, default=None)


def _vbp(h: SkuHistory, on: int) -> Event | None:
    if not h.events:
        return None
    return max((e for e in h.events if e.day <= on and e.is_vbp), key=lambda e: e.day, default=None)


def _gliding(h: SkuHistory, type_code: int, on: int) -> Event | None:
    """The 集采 award a pharmacy of this type is still gliding toward (one that moved only institutions)."""
    event = _vbp(h, on)
    if event is None or type_code in INSTITUTION_CODES or event.applies(type_code) or on - event.day > GLIDE_DAYS:
        return None
    return event


def own(index: PriceIndex, h: SkuHistory, code: int, type_code: int, on: int) -> Reference | None:
    """The customer's agreed price (latest, and the median of its last few) since the last event moving its type."""
    event = _last_event(h, type_code, on)
    start, end, cut = h.positions(code, (on - index.window_days, on, event.day - 1 if event else -(10**6)))
    if start >= end:
        return None
    carried = 0.0
    if cut < end:
        first = max(cut, start)
    else:  # every line is from before the event
        group = "institution" if type_code in INSTITUTION_CODES else "pharmacy"
        assert event is not None
        if event.is_vbp or group not in event.step:
            return None
        first = start
        carried = event.step[group]
    tail = max(first, end - RECENT)
    days = h.day[tail:end].tolist()
    last_day = days[-1]
    recent = tail + next((i for i, d in enumerate(days) if d >= last_day - USUAL_DAYS), 0)
    logs = sorted(h.logp[recent:end].tolist())
    last = math.exp(float(h.logp[end - 1]) + carried)
    usual = math.exp((logs[(len(logs) - 1) // 2] + logs[len(logs) // 2]) / 2 + carried)
    tol = OWN_TOL + (STALE_EXTRA if on - last_day > STALE_DAYS else 0.0) + (CARRIED_EXTRA if carried else 0.0)
    text = f"该客户{_date(last_day).month}月协议价 {last:.2f}"
    if carried and event is not None:
        text += f"（按{_date(event.day)}调价幅度 {math.expm1(carried):+.0%} 折算）"
    return Reference(
        "own", last, min(last, usual) * (1 - tol), max(last, usual) * (1 + tol), end - first, text,
        _sorted_if_large(h.logp[first:end]), h.line[max(first, end - 5) : end][::-1], event, shift=carried,
    )  # fmt: skip


def _sorted_if_large(logs: np.ndarray) -> np.ndarray:
    """The sample as `Reference.percentile` needs it: as it is when small, sorted when large."""
    return logs if len(logs) <= SMALL_SAMPLE else np.sort(logs)


def _latest(
    index: PriceIndex, h: SkuHistory, sku: str, on: int, include: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer of the SKU with lines in the window: code, latest line position, median of recent log prices.

    Only lines after the last event that moved the customer's type count (``include``: type codes allowed).
    """
    key = (sku, "latest", on, None if include is None else tuple(include.tolist()))
    hit = index.cached(key)
    if hit is not None:
        return hit  # type: ignore[return-value]
    out = latest(h, on, on - index.window_days, regimes(h.events, on), index.ctype, include)
    index.remember(key, out)
    return out


def award(index: PriceIndex, h: SkuHistory, sku: str, type_code: int, region: object, on: int) -> Reference | None:
    """After a 集采 award, a hospital's or clinic's reference: the award price its region's institutions pay."""
    event = _vbp(h, on)
    if event is None or type_code not in INSTITUTION_CODES or not event.applies(type_code):
        return None
    codes, lasts, values = _latest(index, h, sku, on, INSTITUTION_CODES)
    if not len(codes):
        return None
    regions = np.array([r == region for r in index.region_of(codes)], dtype=bool)
    use = regions if regions.any() else np.ones(len(codes), dtype=bool)
    center = float(np.median(values[use]))
    price = math.exp(center)
    # award prices are one per region; where institutions kept their own levels after the cut, the spread says so
    spread = float(MAD_TO_SD * np.median(np.abs(values[use] - center))) if use.sum() >= 3 else 0.0
    tol = min(max(AWARD_TOL, Z * spread), PEER_TOL[1])
    where = f"{region}" if regions.any() and region else "各区域"
    text = f"集采中选价 {price:.2f}（{_date(event.day)}起，{where}医疗机构）"
    return Reference("award", price, price * (1 - tol), price * (1 + tol), int(use.sum()), text,
                     _sorted_if_large(values[use]), h.line[lasts[use][-5:]][::-1], event)  # fmt: skip


@dataclass(frozen=True)
class Segment:
    """A SKU's price for a customer of average level in a segment (log, without the type offset) and its spread."""

    base: float
    spread: float
    count: int
    adjusted: np.ndarray
    """Each customer's recent log price with its type offset and level taken out, sorted."""
    lasts: np.ndarray
    """Positions (in the history's agreed lines) of each customer's latest line."""
    evidence: np.ndarray
    """Storage positions of the most recent of those lines, newest first (what a check shows)."""


def _group(h: SkuHistory, type_code: int, on: int) -> np.ndarray | None:
    """Types comparable with ``type_code`` on the SKU: all, unless a 集采 award split institutions from pharmacies."""
    event = _vbp(h, on)
    if event is None or not event.types or all(event.applies(int(t)) for t in PHARMACY_CODES):
        return None
    return INSTITUTION_CODES if type_code in INSTITUTION_CODES else PHARMACY_CODES


def segment(index: PriceIndex, h: SkuHistory, sku: str, type_code: int, on: int) -> Segment | None:
    """The segment price of the SKU for customers comparable with this type, after the events that moved them."""
    include = _group(h, type_code, on)
    key = (sku, "segment", on, None if include is None else tuple(include.tolist()))
    hit = index.cached(key)
    if hit is not None:
        return hit if isinstance(hit, Segment) else None
    codes, lasts, values = _latest(index, h, sku, on, include)
    if not len(codes):
        index.remember(key, False)
        return None
    levels = index.levels()
    offsets = np.nan_to_num(levels.type_offset[np.maximum(index.ctype[codes], 0)])
    adjusted = values - offsets - levels.level[codes]
    weights = recency_weights((on - h.day[lasts]).astype(np.float64), index.half_life_days)
    base, spread = robust_center(adjusted, weights)
    if len(adjusted) < 3:
        spread = SMALL_SAMPLE_SPREAD
    newest = lasts[np.argsort(-h.day[lasts], kind="stable")[:5]]
    found = Segment(base, spread, len(codes), np.sort(adjusted), lasts, h.line[newest])
    index.remember(key, found)
    return found


def level(index: PriceIndex, h: SkuHistory, sku: str, code: int, type_code: int, on: int) -> Reference | None:
    """A customer with history on other SKUs: the segment's price of this SKU moved by the customer's level."""
    levels = index.levels()
    if code < 0 or code >= len(levels.n_skus) or levels.n_skus[code] == 0:
        return None
    seg = segment(index, h, sku, type_code, on)
    if seg is None:
        return None
    mine = levels.of(code)
    shift = levels.offset(type_code) + mine
    price = float(np.exp(seg.base + shift))
    tol = min(max(Z * math.hypot(seg.spread, CUSTOMER_SKU_SPREAD), LEVEL_TOL[0]), LEVEL_TOL[1])
    kind = CUSTOMER_TYPES[type_code] if 0 <= type_code < len(CUSTOMER_TYPES) else ""
    rel = "低于" if mine < 0 else "高于"
    text = f"该客户一贯水平（{rel}同类{_type_name(kind)}客户 {abs(math.expm1(mine)):.0%}）折算的参考价 {price:.2f}"
    return Reference("level", price, price * (1 - tol), price * (1 + tol), seg.count, text,
                     seg.adjusted, seg.evidence, _last_event(h, type_code, on), shift=shift)  # fmt: skip


def peers(
    index: PriceIndex, h: SkuHistory, sku: str, type_code: int, tier: object, region: object, on: int, who: str
) -> Reference | None:
    """A customer without history, or a prospect: its segment's price of the SKU and the segment's spread."""
    seg = segment(index, h, sku, type_code, on)
    if seg is None:
        return None
    seg_level, seg_spread, _ = index.levels().segment(type_code, tier, region)
    shift = index.levels().offset(type_code) + seg_level
    price = float(np.exp(seg.base + shift))
    tol = min(max(Z * math.hypot(seg.spread, seg_spread), PEER_TOL[0]), PEER_TOL[1])
    text = f"{who}参考价 {price:.2f}"
    return Reference("peers", price, price * (1 - tol), price * (1 + tol), seg.count, text,
                     seg.adjusted, seg.evidence, _last_event(h, type_code, on), shift=shift)  # fmt: skip


def glide(index: PriceIndex, h: SkuHistory, sku: str, code: int | None, type_code: int, on: int) -> Reference | None:
    """A pharmacy on a 集采 SKU in the months after the award: between its own price and the award.

    Pharmacies step down toward the award on their own dates (at renegotiations), so a pharmacy's price now is at
    most its latest price since the award (a little room for rounding), and anywhere down to the award price that
    institutions pay. A pharmacy that has not bought since the award is at most where the least advanced pharmacies
    buying lately are (their price against their own before the award, applied to its own price before the award).
    """
    event = _gliding(h, type_code, on)
    if event is None or code is None:
        return None
    post = _own_between(h, code, event.day, on)
    award_price = award_floor(index, h, sku, type_code, on)
    if post is not None:
        last, last_day, lines = post
        low = min(last * (1 - OWN_TOL), award_price * (1 - AWARD_TOL) if award_price else math.inf)
        text = f"该客户{_date(last_day).month}月协议价 {last:.2f}（集采后逐步降价中）"
        return Reference("own", last, low, last * (1 + GLIDE_UP), lines.stop - lines.start, text,
                         _sorted_if_large(h.logp[lines]), h.line[lines][-5:][::-1], event, glide=True)  # fmt: skip
    pre = _own_between(h, code, event.day - index.window_days, event.day - 1)
    path = _glide_path(index, h, sku, event, on)
    if pre is None or path is None:
        return None
    before, last_day, lines = pre
    price = before * math.exp(path)
    low = min(price * (1 - OWN_TOL), award_price * (1 - AWARD_TOL) if award_price else math.inf)
    text = (f"该客户{_date(last_day).month}月协议价 {before:.2f} 按近期药店集采后降幅 {math.expm1(path):+.0%} "
            f"折算的 {price:.2f}")  # fmt: skip
    return Reference("own", price, low, price * (1 + OWN_TOL), lines.stop - lines.start, text,
                     _sorted_if_large(h.logp[lines]), h.line[lines][-5:][::-1], event, glide=True,
                     shift=path)  # fmt: skip


def award_floor(index: PriceIndex, h: SkuHistory, sku: str, type_code: int, on: int) -> float | None:
    """For a pharmacy on a 集采 SKU within its glide: the award price institutions pay (its price may go down to it)."""
    if _gliding(h, type_code, on) is None:
        return None
    codes, _, values = _latest(index, h, sku, on, INSTITUTION_CODES)
    if not len(codes):
        return None
    return float(np.exp(np.median(values)))


def _own_between(h: SkuHistory, code: int, since: int, until: int) -> tuple[float, int, slice] | None:
    """The customer's latest agreed price in [since, until], its day, and its agreed lines there."""
    lo, hi = h.positions(code, (since - 1, until))
    if lo >= hi:
        return None
    return float(np.exp(h.logp[hi - 1])), int(h.day[hi - 1]), slice(lo, hi)


def _glide_path(index: PriceIndex, h: SkuHistory, sku: str, event: Event, on: int) -> float | None:
    """How little the pharmacies buying lately have come down since the award (log of now / before, 95th pct)."""
    key = (sku, "glide", event.day, on)
    hit = index.cached(key)
    if hit is not None:
        return float(hit) if not isinstance(hit, bool) else None  # type: ignore[arg-type]
    none = np.full(6, -(10**6), dtype=np.int64)
    after = np.full(6, event.day, dtype=np.int64)
    pre_c, _, pre_v = latest(h, event.day - 1, event.day - 1 - index.window_days, none, index.ctype, PHARMACY_CODES)
    found: float | bool = False
    for recent in (RECENT_DAYS, 2 * RECENT_DAYS):
        post_c, _, post_v = latest(h, on, max(event.day - 1, on - recent), after, index.ctype, PHARMACY_CODES)
        both, i, j = np.intersect1d(pre_c, post_c, return_indices=True)
        if len(both) >= GLIDE_MIN:
            found = float(np.quantile(post_v[j] - pre_v[i], 0.95))
            break
    index.remember(key, found)
    return found if not isinstance(found, bool) else None


def _type_name(kind: str) -> str:
    from graph.model import CUSTOMER_TYPE_NAMES

    return CUSTOMER_TYPE_NAMES.get(kind, kind)
