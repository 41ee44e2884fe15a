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

import bisect
import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from graph.model import CUSTOMER_TYPE_NAMES
from pricing_guard.bands import MAD_TO_SD, recency_weights, robust_center
from pricing_guard.events import CUSTOMER_TYPES, INSTITUTION_CODES, PHARMACY_CODES, TYPE_CODE, Event
from pricing_guard.history import (
    CLEARANCE_DEPTH,
    RECENT_LINES,
    SkuHistory,
    latest,
    regimes,
    usual_start,
)

if TYPE_CHECKING:  # the index calls this module to warm its caches: a type, not an import at run time
    from pricing_guard.index import PriceIndex
from pricing_guard.days import EPOCH

ReferenceKind = Literal["own", "award", "level", "peers"]
HOSPITAL_CODE = TYPE_CODE["hospital"]

OWN_TOL = 0.08
"""Own agreed price: clean quotes sit within ±2 % of it, renegotiations move it a few %, quantity breaks 2.5 %."""
STALE_DAYS = 180
STALE_EXTRA = 0.04
"""An agreed price older than half a year may have been renegotiated since: 4 % more room."""
CARRIED_EXTRA = 0.03
"""An agreed price carried over a list change by the change measured on other customers: 3 % more room."""
UNKNOWN_CHANGE = 0.10
"""How far a list change nobody has bought under yet may have moved prices (list changes are a few %)."""
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
RECENT = RECENT_LINES
"""Agreed-price lines behind the customer's usual price (their median, beside the latest); ``USUAL_DAYS``: taken
within three months of the latest (older lines may be from before a renegotiation or a glide step)."""
GLIDE_DAYS = 540
"""After a 集采 award, pharmacies step down toward it over months (at their renegotiations): the time this takes."""
GLIDE_UP = 0.04
"""A gliding pharmacy's price only goes down: room above its latest price is rounding and noise only."""
GLIDE_SETTLED_DAYS = 300
"""Pharmacies' re-pricings after an award are over within about ten months; a pharmacy's recent price after that is
an agreed price again, renegotiated up or down like any other (an older one may still step down: late gliders)."""
GLIDE_FRESH_DAYS = 90
"""A gliding pharmacy's own price older than this (a renegotiation period) has likely stepped down since."""
GLIDE_MIN = 3
"""Pharmacies with prices before and after the award needed to measure the path."""
RECENT_DAYS = 90
"""Where pharmacies are on the path now: their lines of the last three months (six when too few)."""


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
    sample: np.ndarray | list[float]
    """Log prices (before ``shift``) that the percentile of a quote is taken among; sorted when large."""
    evidence: list[int]
    """Storage positions of the SKU's lines to show."""
    event: Event | None = None
    """The latest price event before the quote that changed what is comparable."""
    glide: bool = False
    before_event: bool = False
    """The prices before ``event`` were used (nobody has bought since it): the answer must not say otherwise."""
    shift: float = 0.0
    """Added to every ``sample`` value (a level, a carried change), kept apart so no array is made per check."""

    def percentile(self, price: float) -> float | None:
        """Share of the sample at or below ``price``, 0–100 (``None`` without a sample)."""
        n = len(self.sample)
        if not n:
            return None
        x = math.log(price) - self.shift
        if n <= SMALL_SAMPLE:
            sample = self.sample if isinstance(self.sample, list) else self.sample.tolist()
            at_or_below = len([v for v in sample if v <= x])
        else:
            big = self.sample if isinstance(self.sample, np.ndarray) else np.asarray(self.sample)
            at_or_below = int(big.searchsorted(x, side="right"))  # the method: no dispatch wrapper
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
    """The customer's agreed price (latest, and the median of its last few) since the last event moving its type.

    The usual case — no event, a quote dated on or after the customer's latest line, a window that reaches back
    past the lines behind its usual price — reads what `SkuHistory.block` keeps per customer; any other case
    takes the same values from the lines (`_own_from_lines`).
    """
    block = h.block(code)
    if block is None:
        return None
    event = _last_event(h, type_code, on)
    lo, hi, recent, last_day, last_log, usual_log = block
    if event is not None or on < last_day:
        return _own_from_lines(index, h, code, type_code, on, event)
    day_list, logp_list, line_list = h.lists()
    first = bisect.bisect_right(day_list, h.since(on, index.window_days), lo, hi)
    if first >= hi:
        return None
    if first > recent:  # the window cuts into the lines behind the usual price
        return _own_from_lines(index, h, code, type_code, on, event)
    return _own_reference(h, on, first, hi, last_day, math.exp(last_log), math.exp(usual_log), 0.0, None)


def _own_from_lines(
    index: PriceIndex, h: SkuHistory, code: int, type_code: int, on: int, event: Event | None
) -> Reference | None:
    """`own` from the customer's lines (after an event, for an earlier date, or with a short window)."""
    start, end, cut = h.after(code, (h.since(on, index.window_days), on, event.day - 1 if event else -(10**6)))
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
    day_list, logp_list, _ = h.lists()
    recent = usual_start(day_list, max(first, end - RECENT), end)
    logs = sorted(logp_list[recent:end])
    last = math.exp(logp_list[end - 1] + carried)
    usual = math.exp((logs[(len(logs) - 1) // 2] + logs[len(logs) // 2]) / 2 + carried)
    return _own_reference(h, on, first, end, day_list[end - 1], last, usual, carried, event)


def _own_reference(
    h: SkuHistory, on: int, first: int, end: int, last_day: int, last: float, usual: float, carried: float,
    event: Event | None,
) -> Reference:  # fmt: skip
    """The own-price reference from the customer's agreed lines ``first:end``, its latest and usual prices."""
    tol = OWN_TOL + (STALE_EXTRA if on - last_day > STALE_DAYS else 0.0) + (CARRIED_EXTRA if carried else 0.0)
    text = f"该客户{_date(last_day).month}月协议价 {last:.2f}"
    if carried and event is not None:
        text += f"（按{_date(event.day)}调价幅度 {math.expm1(carried):+.0%} 折算）"
    _, logp_list, line_list = h.lists()
    sample = logp_list[first:end] if end - first <= SMALL_SAMPLE else np.sort(h.logp[first:end])
    return Reference(
        "own", last, min(last, usual) * (1 - tol), max(last, usual) * (1 + tol), end - first, text,
        sample, line_list[max(first, end - 5) : end][::-1], event, shift=carried,
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
    out = latest(h, on, h.since(on, index.window_days), regimes(h.events, on), index.ctype, include)
    index.remember(key, out)
    return out


def award(index: PriceIndex, h: SkuHistory, sku: str, type_code: int, region: object, on: int) -> Reference | None:
    """After a 集采 award, a hospital's or clinic's reference: the award price its region's institutions pay.

    Before any institution has bought since a filed award, the award price is not in the history yet: it lies
    between the new floor and the new list price filed with the award (institutions buy under the list price).
    """
    event = _vbp(h, on)
    if event is None or type_code not in INSTITUTION_CODES or not event.applies(type_code):
        return None
    found = _award_prices(index, h, sku, on, region)
    if found is None:
        if not (event.new_floor and event.new_list and event.new_list > event.new_floor):
            return None
        price = math.sqrt(event.new_floor * event.new_list)
        text = (f"集采中选价（{_date(event.day)}起，医疗机构尚无成交：按申报的新底价 {event.new_floor:g} 至新零售价 "
                f"{event.new_list:g} 核对）")  # fmt: skip
        return Reference("award", price, event.new_floor, event.new_list, 0, text, _NO_SAMPLE, [], event)
    values, lines, where = found
    center = float(np.median(values))
    price = math.exp(center)
    # award prices are one per region; where institutions kept their own levels after the cut, the spread says so
    spread = float(MAD_TO_SD * np.median(np.abs(values - center))) if len(values) >= 3 else 0.0
    tol = min(max(AWARD_TOL, Z * spread), PEER_TOL[1])
    text = f"集采中选价 {price:.2f}（{_date(event.day)}起，{where}）"
    return Reference("award", price, price * (1 - tol), price * (1 + tol), len(values), text,
                     _sorted_if_large(values), h.line[lines[-5:]][::-1].tolist(), event)  # fmt: skip


_NO_SAMPLE = np.zeros(0, dtype=np.int64)


def _award_prices(
    index: PriceIndex, h: SkuHistory, sku: str, on: int, region: object
) -> tuple[np.ndarray, np.ndarray, str] | None:
    """Institutions' latest log prices since the award that say what the award price is, their lines, and whose.

    The award is one price per region, paid by hospitals and clinics alike: the region's institutions, else all
    (regions' award prices differ by a few %). But clinics may also be sold near-expiry stock, and hospitals never
    are, so an institution's price 20 % or more under what hospitals pay (the region's, else any) is clearance, not
    the award, and is left out.
    """
    key = (sku, "award", on, region)
    hit = index.cached(key)
    if hit is not None:
        return hit if isinstance(hit, tuple) else None
    codes, lasts, values = _latest(index, h, sku, on, INSTITUTION_CODES)
    found: tuple[np.ndarray, np.ndarray, str] | bool = False
    if len(codes):
        here = np.array([r == region for r in index.region_of(codes)], dtype=bool) & (region is not None)
        hospitals = index.ctype[codes] == HOSPITAL_CODE
        paid = hospitals & here if (hospitals & here).any() else hospitals
        usual = values >= float(np.median(values[paid])) - CLEARANCE_DEPTH if paid.any() else np.ones_like(here)
        for use, where in ((here & usual, f"{region}医疗机构"), (usual, "各区域医疗机构")):
            if use.any():
                found = (values[use], lasts[use], where)
                break
    index.remember(key, found)
    return found if isinstance(found, tuple) else None


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
    evidence: list[int]
    """Storage positions of the most recent of those lines, newest first (what a check shows)."""
    newest: int = 0
    """Day of the newest of those lines."""


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
    found = Segment(
        base, spread, len(codes), np.sort(adjusted), lasts, h.line[newest].tolist(), int(h.day[lasts].max())
    )
    index.remember(key, found)
    return found


def _stale(seg: Segment, on: int) -> float:
    """Extra room when even the newest line behind a segment price is over half a year old (as for an own price)."""
    return STALE_EXTRA if on - seg.newest > STALE_DAYS else 0.0


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
    tol = min(max(Z * math.hypot(seg.spread, CUSTOMER_SKU_SPREAD), LEVEL_TOL[0]), LEVEL_TOL[1]) + _stale(seg, on)
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
    tol = min(max(Z * math.hypot(seg.spread, seg_spread), PEER_TOL[0]), PEER_TOL[1]) + _stale(seg, on)
    text = f"{who}参考价 {price:.2f}"
    return Reference("peers", price, price * (1 - tol), price * (1 + tol), seg.count, text,
                     seg.adjusted, seg.evidence, _last_event(h, type_code, on), shift=shift)  # fmt: skip


def glide(index: PriceIndex, h: SkuHistory, sku: str, code: int | None, type_code: int, on: int) -> Reference | None:
    """A pharmacy on a 集采 SKU in the months after the award: between its own price now and its own price cut.

    Pharmacies step down on their own dates (at renegotiations), and each ends about as far under *its own* price
    before the award as institutions went under theirs: a key account that bought 10 % under hospitals before the
    award ends about 10 % under the award price, not at it. So a pharmacy's price now is at most its latest price
    since the award (a little room for rounding), and at least its own price before the award cut by the
    institutions' cut (`award_cut`). A pharmacy that has not bought since the award is at most where the least
    advanced pharmacies buying lately are (their price against their own before the award, applied to its own);
    where no pharmacy has been seen on both sides yet, at most its own price before the award.
    """
    event = _gliding(h, type_code, on)
    if event is None or code is None:
        return None
    pre = _own_between(h, code, event.day - index.window_days, event.day - 1)
    post = _own_between(h, code, event.day, on)
    cut = award_cut(index, h, sku, event, on)
    if pre is not None and cut is not None:
        bottom = pre[0] * math.exp(cut) * (1 - AWARD_TOL)
    else:  # no own price before the award: the award price, moved by where the customer stands against hospitals
        _, tier, region = index.customer_attrs(code)
        lowest = glide_bottom(index, h, sku, code, type_code, tier, region, on)
        bottom = lowest[0] * (1 - AWARD_TOL) if lowest else math.inf
    path = _glide_path(index, h, sku, event, on) if pre is not None else None
    if post is not None:
        last, last_day, lines = post
        text = f"该客户{_date(last_day).month}月协议价 {last:.2f}（集采后逐步降价中）"
        price = last
        if pre is not None and path is not None and on - last_day > GLIDE_FRESH_DAYS:
            now = pre[0] * math.exp(path)  # a price this old has likely stepped down since: where the slowest are
            if now < last:
                price = now
                text = (f"该客户{_date(last_day).month}月协议价 {last:.2f}，按近期药店集采后降幅 "
                        f"{math.expm1(path):+.0%} 折算的 {now:.2f}（集采后逐步降价中）")  # fmt: skip
        settled = on - event.day > GLIDE_SETTLED_DAYS and on - last_day <= GLIDE_FRESH_DAYS
        up = OWN_TOL if settled else GLIDE_UP  # a recent price after the glide is an agreed price: either way
        high = min(last * (1 + up), price * (1 + OWN_TOL))
        return Reference("own", price, min(price * (1 - OWN_TOL), bottom), high, lines.stop - lines.start, text,
                         _sorted_if_large(h.logp[lines]), h.line[lines][-5:][::-1].tolist(), event,
                         glide=True)  # fmt: skip
    if pre is None:
        return None
    before, last_day, lines = pre
    if path is None:
        price, shift = before, 0.0
        text = f"该客户{_date(last_day).month}月协议价 {before:.2f}（集采后药店逐步降价，尚无可比成交）"
    else:
        price, shift = before * math.exp(path), path
        text = (f"该客户{_date(last_day).month}月协议价 {before:.2f} 按近期药店集采后降幅 {math.expm1(path):+.0%} "
                f"折算的 {price:.2f}")  # fmt: skip
    return Reference("own", price, min(price * (1 - OWN_TOL), bottom), price * (1 + OWN_TOL),
                     lines.stop - lines.start, text, _sorted_if_large(h.logp[lines]),
                     h.line[lines][-5:][::-1].tolist(), event, glide=True, shift=shift)  # fmt: skip


def award_cut(index: PriceIndex, h: SkuHistory, sku: str, event: Event, on: int) -> float | None:
    """How far institutions went down at a 集采 award (log of after / before, at most 0), or ``None`` unmeasured.

    The change measured across the award day on institutions' consecutive agreed prices when there is one; else
    the median of institutions' latest prices since the award against the median of theirs in the year before it
    (before any institution has bought since a filed award: its new floor, the deepest cut it can be).
    """
    step = event.step.get("institution")
    if step is not None:
        return min(step, 0.0)
    key = (sku, "cut", event.day, on)
    hit = index.cached(key)
    if hit is not None:
        return float(hit) if not isinstance(hit, bool) else None  # type: ignore[arg-type]
    none = np.full(6, -(10**6), dtype=np.int64)
    _, _, pre = latest(h, event.day - 1, event.day - 1 - index.window_days, none, index.ctype, INSTITUTION_CODES)
    _, _, post = latest(h, on, event.day - 1, none, index.ctype, INSTITUTION_CODES)
    if not len(post) and event.new_floor:  # no institution has bought since a filed award: at most down to its floor
        post = np.array([math.log(event.new_floor)])
    found: float | bool = min(float(np.median(post) - np.median(pre)), 0.0) if len(pre) and len(post) else False
    index.remember(key, found)
    return found if not isinstance(found, bool) else None


def best(
    index: PriceIndex,
    h: SkuHistory,
    sku: str,
    code: int | None,
    type_code: int,
    tier: object,
    region: object,
    on: int,
    who: str,
) -> Reference | None:
    """The most specific reference for a line: glide, own, award, level, segment, then the latest prices of all.

    ``code`` is ``None`` for a prospect (judged by its profile: type, tier, region); ``who`` names its segment.
    """
    ref = glide(index, h, sku, code, type_code, on)
    if ref is None and code is not None:
        ref = own(index, h, code, type_code, on)
    if ref is None:
        ref = award(index, h, sku, type_code, region, on)
    if ref is None and code is not None:
        ref = level(index, h, sku, code, type_code, on)
    if ref is None:
        ref = peers(index, h, sku, type_code, tier, region, on, who)
    if ref is None:  # every type's history predates an event that moved it: the latest prices, said so
        ref = peers(index, h, sku, -1, None, None, on, "全部客户")
    if ref is None:
        ref = before_change(index, h, sku, code, type_code, tier, region, on, who)
    return ref


def before_change(
    index: PriceIndex,
    h: SkuHistory,
    sku: str,
    code: int | None,
    type_code: int,
    tier: object,
    region: object,
    on: int,
    who: str,
) -> Reference | None:
    """After a list change that nobody has bought under yet: the reference of the day before, widened.

    A list change (调价) moves every price by one ratio, measured on the customers who bought across it; with no
    line after it there is nothing to measure, but the prices before it are still the best evidence there is (a
    sold SKU never gets ``no_history``). List changes are a few % (up to about 10 %), so the band is widened by
    ``UNKNOWN_CHANGE`` on both sides, and the answer says so. A 集采 award is no list change: its pre-award prices
    are not carried.
    """
    event = max((e for e in h.events if e.day <= on and not e.is_vbp), key=lambda e: e.day, default=None)
    if event is None:
        return None
    ref = best(index, h, sku, code, type_code, tier, region, event.day - 1, who)
    if ref is None:
        return None
    ref.low, ref.high = ref.low * (1 - UNKNOWN_CHANGE), ref.high * (1 + UNKNOWN_CHANGE)
    ref.text += f"（{_date(event.day)}调价后尚无成交，按调价前价格比较，上下各放宽 {UNKNOWN_CHANGE:.0%}）"
    ref.event, ref.before_event = event, True
    return ref


def glide_bottom(
    index: PriceIndex,
    h: SkuHistory,
    sku: str,
    code: int | None,
    type_code: int,
    tier: object,
    region: object,
    on: int,
) -> tuple[float, float] | None:
    """Where a gliding pharmacy ends at the lowest, judged by its standing: (that price, the award price).

    Pharmacies end about as far under their own old price as institutions went under theirs, so a pharmacy that
    bought 10 % under hospitals before the award ends about 10 % under the award price. Its standing against
    hospitals is its type's offset and its level (a prospect's or a new customer's: its segment's level).
    """
    award_price = award_floor(index, h, sku, type_code, on)
    if award_price is None:
        return None
    levels = index.levels()
    seen = code is not None and 0 <= code < len(levels.n_skus) and levels.n_skus[code] > 0
    mine = levels.of(code) if seen and code is not None else levels.segment(type_code, tier, region)[0]
    return award_price * math.exp(levels.offset(type_code) + mine - levels.offset(HOSPITAL_CODE)), award_price


def award_floor(index: PriceIndex, h: SkuHistory, sku: str, type_code: int, on: int) -> float | None:
    """For a pharmacy on a 集采 SKU within its glide: the award price institutions pay (its price may go down to it).

    Read from hospitals first (`_award_prices`); before any institution has bought since a filed award, its new
    floor (the lowest the award price can be).
    """
    event = _gliding(h, type_code, on)
    if event is None:
        return None
    found = _award_prices(index, h, sku, on, None)
    if found is None:
        return event.new_floor or None
    return float(np.exp(np.median(found[0])))


def _own_between(h: SkuHistory, code: int, since: int, until: int) -> tuple[float, int, slice] | None:
    """The customer's latest agreed price in [since, until], its day, and its agreed lines there."""
    lo, hi = h.after(code, (since - 1, until))
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
    return CUSTOMER_TYPE_NAMES.get(kind, kind)
