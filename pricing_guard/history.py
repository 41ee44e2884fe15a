"""What each past order line of one SKU is: an agreed (contract) price, a promotion, or dirt — before any band.

Real order histories hold lines that must not shape a band: free goods at 0.00, unit-entry mistakes (×10, ÷10, a
case price typed on a box line, a box price on a case line), near-expiry clearance at −25…−55 %, and promotion
prices. This module classifies every line of a SKU once (vectorised; recomputed only when the SKU gets new lines)
and keeps, per customer, its agreed-price lines in date order for the reference hierarchy.

Rules, each about how real B2B prices behave:

- A B2B customer's price for a SKU is fixed until its next renegotiation, so the lines of one customer form *runs*
  of one price. A run below both neighbouring runs is temporary: a promotion (a few %) or a clearance (≥ 20 % off).
- A line far from its customer's usual price by a factor near 10, a case size or a pack size is a unit-entry
  mistake, named by the nearest factor.
- A customer's last run ≥ 20 % under its previous one, bought in at least 1.8× its usual quantity, is a clearance
  (clearance is sold in extra, larger orders); without the larger quantity it may be a new price (a 集采 glide).
- Lines inside a promotion of the calendar that covers the customer are promotion prices.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pricing_guard.events import TYPE_CODE, Event, detect_events

CLEAN, FREE, X10, DIV10, CASE_ON_BOX, BOX_ON_CASE, PACK_ON_BOX, UNIT_OTHER, CLEARANCE, PROMOTION, DIP = range(11)
"""Line statuses; everything but ``CLEAN`` is left out of agreed prices and bands."""

STATUS_KEYS = {
    FREE: "free", X10: "unit_x10", DIV10: "unit_div10", CASE_ON_BOX: "unit_case_on_box",
    BOX_ON_CASE: "unit_box_on_case", PACK_ON_BOX: "unit_pack_on_box", UNIT_OTHER: "unit_error",
    CLEARANCE: "clearance", PROMOTION: "promotion", DIP: "promotion_detected",
}  # fmt: skip
"""Reason key (as counted in ``PriceIndex.excluded``) of each status."""

HOSPITAL = TYPE_CODE["hospital"]
BOX, CASE, PIECE = 0, 1, 2
"""How an order line was written: in the selling unit, in cases (件), in its smallest unit (片)."""

UNIT_ERROR_MIN = float(np.log(4.0))
"""A line 4× or more off its customer's usual price is not a negotiated price."""
UNIT_MATCH = 0.45
"""How close (in log) the ratio must be to 10, the case size or the pack size to name the mistake."""
SAME_PRICE = 5e-4
"""Two prices within 0.05 % are one agreed price (rounding to the cent)."""
DIP_MIN = 0.03
"""A run at least 3 % under both neighbouring runs is a temporary price."""
CLEARANCE_DEPTH = 0.2
"""Temporary prices 20 % or more under the customer's level are clearance; promotions give 4–12 %."""
CLEARANCE_QTY = 1.8
"""Clearance is sold in larger, extra orders: the quantity ratio that marks a one-sided drop as clearance."""
PROMO_WINDOW_GAP = 14
PROMO_WINDOW_CUSTOMERS = 3
"""Temporary prices of 3 customers within two weeks of each other make a promotion window."""
RECENT_LINES = 5
"""A customer's current price: the median of its last few agreed-price lines (one odd line does not move it)."""
USUAL_DAYS = 90
"""… taken within three months of the latest: older lines may be from before a renegotiation or a glide step."""
EXHAUSTIVE_LINES = 300
CAMPAIGN_DAYS = 30
CAMPAIGN_MAX_DAYS = 45
CAMPAIGN_CUSTOMERS = 4
"""A clearance campaign sells one SKU to several customers within weeks."""
CAMPAIGN_ROUNDS = 3
"""Searches for campaigns, each without the lines found before (a SKU may have several)."""


@dataclass
class Promo:
    """A promotion as the index applies it: dates as day numbers and its eligible customers as a mask."""

    id: str
    name: str
    start: int
    end: int
    eligible: np.ndarray
    """Boolean per customer code."""
    min_discount: float | None
    max_discount: float | None


@dataclass
class SkuHistory:
    """One SKU's lines classified, with per-customer agreed-price lines and the price events found."""

    status: np.ndarray
    """Status per line, in the SKU's storage order."""
    counts: dict[str, int]
    """Lines left out, by reason key."""
    events: list[Event]
    cust: np.ndarray
    """Agreed-price lines (status CLEAN) sorted by customer and day: customer codes …"""
    day: np.ndarray
    logp: np.ndarray
    qty: np.ndarray
    line: np.ndarray
    """… and each one's position in storage order (for evidence)."""
    key: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Customer code and day of each agreed-price line as one sortable integer (`line_key`)."""
    _keys: list[int] | None = None
    _days: np.ndarray | None = None
    _blocks: dict[int, Block] | None = None
    _lists: tuple[list[int], list[float], list[int]] | None = None
    _since: dict[tuple[int, int], int] = field(default_factory=dict)

    def ready(self) -> SkuHistory:
        """Make what checks read (the per-customer blocks, the lists, the sorted days) now, not at a first check."""
        if self._days is None:
            self._days = np.sort(self.day)
        self.lists()
        self.block(-1)
        return self

    def since(self, on: int, window_days: int) -> int:
        """The day after which a check on day ``on`` reads agreed prices: ``window_days`` back, as a rule.

        A SKU nobody bought in that time still has prices: the window then ends at its latest agreed line before
        ``on`` (an old price is still the best evidence there is, and ``no_history`` is only for a SKU never sold).
        Kept per date: checks of one day share it.
        """
        found = self._since.get((on, window_days))
        if found is not None:
            return found
        days = self._days
        if days is None:
            days = self._days = np.sort(self.day)
        before = int(np.searchsorted(days, on, side="right"))
        latest = int(days[before - 1]) if before else 0
        found = on - window_days if not before or latest > on - window_days else latest - window_days
        if len(self._since) > 1_000:  # quotes on many dates: keep the memory bounded
            self._since.clear()
        self._since[(on, window_days)] = found
        return found

    def positions(self, code: int, days: Sequence[int], side: str = "right") -> list[int]:
        """Positions in the agreed lines after (``right``) or at (``left``) the customer's lines of each day."""
        keys = self._keys
        if keys is None:  # binary search in a Python list: no array call per lookup on the check path
            keys = self._keys = self.key.tolist()
        search = bisect.bisect_right if side == "right" else bisect.bisect_left
        base = int(code) << DAY_BITS
        return [search(keys, base | (int(d) + DAY_OFFSET)) for d in days]

    def customer_range(self, code: int) -> tuple[int, int]:
        """[start, end) of the customer's agreed-price lines (an empty range when it has none)."""
        block = self.block(code)
        return (block[0], block[1]) if block is not None else (0, 0)

    def block(self, code: int) -> Block | None:
        """The customer's agreed-price lines in brief (`Block`), or ``None`` when it has none."""
        blocks = self._blocks
        if blocks is None:
            blocks = self._blocks = _blocks(self.cust, self.day, self.logp)
        return blocks.get(code)

    def lists(self) -> tuple[list[int], list[float], list[int]]:
        """Day, log price and storage position of every agreed line as Python lists (made once per analysis).

        The check path reads a handful of values per quote: from a list that costs no array call or array object.
        """
        found = self._lists
        if found is None:
            found = self._lists = (self.day.tolist(), self.logp.tolist(), self.line.tolist())
        return found

    def after(self, code: int, days: Sequence[int]) -> list[int]:
        """Positions in the agreed lines after the customer's lines of each day (as `positions`, within its block)."""
        block = self.block(code)
        if block is None:
            return [0] * len(days)
        lo, hi = block[0], block[1]
        day_list = self.lists()[0]
        return [bisect.bisect_right(day_list, d, lo, hi) for d in days]


Block = tuple[int, int, int, int, float, float]
"""A customer's agreed-price lines of one SKU: start, end, where its usual price begins (`usual_start`), the day and
log price of its latest line, and its usual log price (the median of its last lines within three months)."""


def usual_start(day_list: Sequence[int], tail: int, end: int) -> int:
    """Where the lines behind a usual price begin: the first of ``tail:end`` within ``USUAL_DAYS`` of the latest."""
    recent, last_day = tail, day_list[end - 1]
    while day_list[recent] < last_day - USUAL_DAYS:
        recent += 1
    return recent


def _blocks(cust: np.ndarray, day: np.ndarray, logp: np.ndarray) -> dict[int, Block]:
    """Every customer's `Block`, vectorised over the customers (made once per analysis, not per check).

    The usual price is the median of the customer's last ``RECENT_LINES`` lines taken within ``USUAL_DAYS`` of its
    latest (the same values, in the same order of operations, as `pricing_guard.references.own` takes them).
    """
    if not len(cust):
        return {}
    bounds = group_bounds(cust)
    lo, hi = bounds[:-1], bounds[1:]
    last = hi - 1
    back = last[:, None] - np.arange(RECENT_LINES)[None, :]
    ok = back >= lo[:, None]
    back = np.maximum(back, 0)
    ok &= day[back] >= (day[last] - USUAL_DAYS)[:, None]
    values = np.sort(np.where(ok, logp[back], np.inf), axis=1)
    k = ok.sum(axis=1)
    rows = np.arange(len(k))
    usual = (values[rows, (k - 1) // 2] + values[rows, k // 2]) / 2
    return dict(
        zip(
            cust[lo].tolist(),
            zip(lo.tolist(), hi.tolist(), (hi - k).tolist(), day[last].tolist(), logp[last].tolist(), usual.tolist(),
                strict=True),
            strict=True,
        )
    )  # fmt: skip


DAY_BITS = 22
DAY_OFFSET = 1 << (DAY_BITS - 1)
DAY_MIN, DAY_MAX = -DAY_OFFSET, DAY_OFFSET - 1
"""Days since 2000 from −5,700 to +5,700 years, enough for any order date."""


def line_key(code: int, day: int) -> int:
    """Customer code and day in one integer that sorts like the pair."""
    return (int(code) << DAY_BITS) | (int(day) + DAY_OFFSET)


def group_bounds(keys: np.ndarray) -> np.ndarray:
    """Start positions of runs of equal values in sorted ``keys`` (with the end appended)."""
    if not len(keys):
        return np.zeros(1, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return np.asarray(np.r_[starts, len(keys)], dtype=np.int64)


def group_median(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct key (``keys`` sorted): the key, the median of its values, and its count."""
    bounds = group_bounds(keys)
    starts, ends = bounds[:-1], bounds[1:]
    order = np.lexsort((values, keys))
    v = values[order]
    lo = starts + (ends - starts - 1) // 2
    hi = starts + (ends - starts) // 2
    return keys[starts], (v[lo] + v[hi]) / 2, ends - starts


def analyse(
    price: np.ndarray,
    qty: np.ndarray,
    day: np.ndarray,
    cust: np.ndarray,
    unit_kind: np.ndarray,
    *,
    ctype: np.ndarray,
    institution: np.ndarray,
    case_size: int | None,
    pack_size: int | None,
    promos: Sequence[Promo],
    known: Sequence[Event],
    norm: np.ndarray | None = None,
) -> SkuHistory:
    """Classify every line of one SKU (arrays in storage order; ``ctype``/``institution`` per customer code).

    ``norm`` (per customer code: its type offset plus level, in log) lets clearance campaigns be found among customers
    who bought the SKU only in the campaign.
    """
    n = len(price)
    status = np.zeros(n, dtype=np.int8)
    order = np.lexsort((day, cust))
    p, d, c, q, u = price[order], day[order], cust[order], qty[order], unit_kind[order]
    st = np.zeros(n, dtype=np.int8)
    st[p <= 0] = FREE
    logp = np.log(np.where(p > 0, p, 1.0))
    _unit_errors(st, logp, c, u, case_size, pack_size, institution)
    for promo in promos:
        hit = (d >= promo.start) & (d <= promo.end) & promo.eligible[c] & (st == CLEAN)
        st[hit] = PROMOTION
    for _ in range(2):  # a dip next to another dip shows once the first is out
        _dips(st, logp, c)
    if norm is not None:
        hospital = ctype == HOSPITAL
        _campaigns(st, logp, c, d, norm, hospital, institution, known)
    events = detect_events(d, logp, c, st == CLEAN, ctype=ctype, known=known, norm=norm)
    _end_clearance(st, logp, c, d, q, ctype, institution, events)
    _end_promotions(st, logp, c, d, events)
    status[order] = st
    keep = st == CLEAN
    a_cust, a_day, a_logp, a_qty, a_line = c[keep], d[keep], logp[keep], q[keep], order[keep]
    keys = (a_cust.astype(np.int64) << DAY_BITS) | (a_day.astype(np.int64) + DAY_OFFSET)
    counts: dict[str, int] = {}
    for code, key in STATUS_KEYS.items():
        k = int((st == code).sum())
        if k:
            counts[key] = k
    return SkuHistory(status, counts, events, a_cust, a_day, a_logp, a_qty, a_line, keys)


def _unit_errors(
    st: np.ndarray,
    logp: np.ndarray,
    c: np.ndarray,
    u: np.ndarray,
    case_size: int | None,
    pack_size: int | None,
    institution: np.ndarray,
) -> None:
    """Mark lines 4× or more off their customer's usual price (or their customer group's) as unit mistakes."""
    ok = st == CLEAN
    if not ok.any():
        return
    keys, med, count = group_median(c[ok], logp[ok])
    inst = institution[c]
    fallback = np.full(len(logp), float(np.median(logp[ok])))
    for flag in (True, False):
        same = ok & (inst == flag)
        if same.any():
            fallback[inst == flag] = float(np.median(logp[same]))
    pos = np.minimum(np.searchsorted(keys, c), len(keys) - 1)
    own = (keys[pos] == c) & (count[pos] >= 3)
    ref = np.where(own, med[pos], fallback)
    r = logp - ref
    wild = ok & (np.abs(r) >= UNIT_ERROR_MIN)
    if not wild.any():
        return
    candidates: list[tuple[int, float, int | None]] = [
        (X10, float(np.log(10.0)), None),
        (DIV10, -float(np.log(10.0)), None),
    ]
    if case_size and case_size > 1:
        candidates += [(CASE_ON_BOX, math.log(case_size), BOX), (BOX_ON_CASE, -math.log(case_size), CASE)]
    if pack_size and pack_size > 1:
        candidates.append((PACK_ON_BOX, -math.log(pack_size), BOX))
    for i in np.flatnonzero(wild):
        best, gap = UNIT_OTHER, UNIT_MATCH
        for code, target, unit in candidates:
            if unit is not None and u[i] != unit:
                continue
            if abs(r[i] - target) < gap:
                best, gap = code, abs(r[i] - target)
        st[i] = best


def _runs(st: np.ndarray, logp: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of one agreed price among the CLEAN lines: their line indices, run id per line, run starts."""
    idx = np.flatnonzero(st == CLEAN)
    if not len(idx):
        return idx, idx, idx
    lp, cc = logp[idx], c[idx]
    new = np.r_[True, (cc[1:] != cc[:-1]) | (np.abs(lp[1:] - lp[:-1]) > SAME_PRICE)]
    run = np.cumsum(new) - 1
    return idx, run, np.flatnonzero(new)


def _dips(st: np.ndarray, logp: np.ndarray, c: np.ndarray) -> None:
    """Runs under both neighbouring runs of the same customer: promotion (3–20 %) or clearance (≥ 20 %)."""
    idx, run, starts = _runs(st, logp, c)
    if len(starts) < 3:
        return
    rlp = logp[idx[starts]]
    rc = c[idx[starts]]
    prev_same = np.r_[False, rc[1:] == rc[:-1]]
    next_same = np.r_[rc[:-1] == rc[1:], False]
    dp = rlp - np.r_[np.nan, rlp[:-1]]
    dn = rlp - np.r_[rlp[1:], np.nan]
    with np.errstate(invalid="ignore"):
        dip = prev_same & next_same & (dp < -DIP_MIN) & (dn < -DIP_MIN)
        depth = np.maximum(dp, dn)
    if not dip.any():
        return
    kind = np.where(depth <= -CLEARANCE_DEPTH, CLEARANCE, DIP).astype(np.int8)
    line_dip = dip[run]
    st[idx[line_dip]] = kind[run][line_dip]


def _last_runs(
    st: np.ndarray, logp: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The runs of agreed prices, with which are a customer's last run after an earlier one, and each run's drop.

    Returns the CLEAN line indices, run starts and ends (into those indices), each run's customer, the "last run
    after an earlier run of the same customer" mask, and each run's log change from the run before; ``None`` with
    fewer than two runs.
    """
    idx, _, starts = _runs(st, logp, c)
    if len(starts) < 2:
        return None
    rc = c[idx[starts]]
    last = np.r_[rc[:-1] != rc[1:], True] & np.r_[False, rc[1:] == rc[:-1]]
    rlp = logp[idx[starts]]
    drop = rlp - np.r_[np.nan, rlp[:-1]]
    return idx, starts, np.r_[starts[1:], len(idx)], rc, last, drop


def _end_clearance(
    st: np.ndarray,
    logp: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    q: np.ndarray,
    ctype: np.ndarray,
    institution: np.ndarray,
    events: Sequence[Event],
) -> None:
    """A customer's last run ≥ 20 % under its previous one, in larger quantities, with no price event between."""
    found = _last_runs(st, logp, c)
    if found is None:
        return
    idx, starts, ends, rc, last, drop = found
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero(last & (drop <= -CLEARANCE_DEPTH) & ~institution[rc])
    for k in cand:
        mine = idx[starts[k] : ends[k]]
        before = idx[starts[k - 1] : ends[k - 1]]
        cust_all = np.flatnonzero((c == rc[k]) & (st == CLEAN))
        earlier = cust_all[~np.isin(cust_all, mine)]
        if np.median(q[mine]) < CLEARANCE_QTY * np.median(q[earlier]):
            continue
        lo, hi = int(d[before[-1]]), int(d[mine[0]])
        if any(lo < e.day <= hi and e.applies(int(ctype[rc[k]])) for e in events):
            continue
        st[mine] = CLEARANCE


def _end_promotions(st: np.ndarray, logp: np.ndarray, c: np.ndarray, d: np.ndarray, events: Sequence[Event]) -> None:
    """A customer's last run a few % under its previous one, inside a window where other customers' prices dipped.

    Promotions missing from the calendar show as runs under both neighbouring runs (`_dips`) of several customers
    within a few weeks: those weeks are a promotion window. A customer whose last purchase fell in such a window
    (no later run to return to) bought at the promotion price too, unless a price event explains the drop.
    """
    dips = np.flatnonzero(st == DIP)
    if len(dips) < PROMO_WINDOW_CUSTOMERS:
        return
    order = np.argsort(d[dips], kind="stable")
    dips = dips[order]
    breaks = np.flatnonzero(np.diff(d[dips]) > PROMO_WINDOW_GAP) + 1
    windows = [
        (int(d[k[0]]), int(d[k[-1]])) for k in np.split(dips, breaks) if len(np.unique(c[k])) >= PROMO_WINDOW_CUSTOMERS
    ]
    if not windows:
        return
    found = _last_runs(st, logp, c)
    if found is None:
        return
    idx, starts, ends, _, last, drop = found
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero(last & (drop <= -DIP_MIN) & (drop > -CLEARANCE_DEPTH))
    for k in cand:
        first_day = int(d[idx[starts[k]]])
        if not any(w0 - PROMO_WINDOW_GAP <= first_day <= w1 for w0, w1 in windows):
            continue
        if any(int(d[idx[starts[k] - 1]]) < e.day <= first_day for e in events):
            continue
        st[idx[starts[k] : ends[k]]] = DIP


def _campaigns(
    st: np.ndarray,
    logp: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    norm: np.ndarray,
    hospital: np.ndarray,
    institution: np.ndarray,
    events: Sequence[Event],
) -> None:
    """Clearance campaigns: within a month, several customers' prices ≥ 20 % under what their level predicts.

    Each line's price is normalised by its customer's type offset and level (measured on other SKUs); a window of
    ``CAMPAIGN_DAYS`` where at least ``CAMPAIGN_CUSTOMERS`` customers sit 20 % or more under the SKU's normalised
    price outside the window (same period between events, within a year) is a campaign, and those lines are
    clearance — unless the lines after the window stay that low (a lasting cut, such as an award nobody filed).
    Hospitals are not sold clearance stock, so their lines are never clearance but do say what the SKU normally
    costs, and when they pay the low price too, from the window on, it is a cut: at the end of the history, where no
    line after the window shows that the low price lasts, the hospitals' lines still do. A SKU may have several
    campaigns, the deeper one dragging down the price "outside" the other: the search repeats without the lines
    already found. Near-expiry stock is sold after a 集采 award too; there institutions pay the award and pharmacies
    glide down on their own dates, so each is compared with lines of its own kind (``institution`` per customer).
    """
    sel = st == CLEAN
    if (sel & ~hospital[c]).sum() < CAMPAIGN_CUSTOMERS:
        return
    idx = np.flatnonzero(sel)
    x = logp[idx] - norm[c[idx]]
    order = np.argsort(d[idx], kind="stable")
    idx, x = idx[order], x[order]
    days = d[idx]
    candidate = ~hospital[c[idx]]
    cuts = sorted({e.day for e in events})
    period = np.searchsorted(cuts, days, side="right") if cuts else np.zeros(len(days), dtype=np.int64)
    first_award = min((e.day for e in events if e.is_vbp), default=None)
    inst = institution[c[idx]]
    groups: dict[bool, list[tuple[np.ndarray, float | None]]] = {
        False: [(np.ones(len(idx), dtype=bool), None)],
        True: [(inst, None), (~inst, None)],
    }
    if first_award is not None:  # pharmacies never glide further under their old prices than institutions were cut
        year = (days >= first_award - 365) & (days < first_award + 365)
        before, after = year & (days < first_award), year & (days >= first_award)
        if (before & inst).any() and (after & inst).any() and (before & ~inst).any():
            cut = float(np.median(x[after & inst]) - np.median(x[before & inst]))
            groups[True][1] = (~inst, float(np.median(x[before & ~inst])) + min(cut, 0.0))
    marked = np.zeros(len(idx), dtype=bool)
    for _ in range(CAMPAIGN_ROUNDS):
        found = np.zeros(len(idx), dtype=bool)
        for per in np.unique(period):
            # after a 集采 award institutions pay the award and pharmacies glide: each compared with its own kind
            split = first_award is not None and per > 0 and cuts[per - 1] >= first_award
            for group, bottom in groups[split]:
                here = np.flatnonzero((period == per) & ~marked & group)
                _campaigns_in(here, days, x, c[idx], candidate, found, must_end=split, bottom=bottom)
        if not found.any():
            break
        marked |= found
    st[idx[marked]] = CLEARANCE


def _campaigns_in(
    here: np.ndarray,
    days: np.ndarray,
    x: np.ndarray,
    cust: np.ndarray,
    candidate: np.ndarray,
    found: np.ndarray,
    *,
    must_end: bool,
    bottom: float | None = None,
) -> None:
    """Mark in ``found`` the campaign lines among ``here`` (positions of one period's comparable lines).

    ``must_end``: the prices must be seen back after the window (after an award, pharmacies' glide steps are lasting
    drops of several customers within weeks: only a return tells a campaign from them) — unless they sit well under
    ``bottom``, the lowest a glide can reach (pharmacies' old level cut as far as institutions were).
    """
    for w0, w1 in _campaign_windows(here[candidate[here]], days, x):
        inside = here[(days[here] >= w0) & (days[here] <= w1) & candidate[here]]
        outside = here[((days[here] < w0) | (days[here] > w1)) & (np.abs(days[here] - w0) <= 365)]
        if len(outside) < 2:
            continue
        ref = float(np.median(x[outside]))
        hits = inside[x[inside] < ref - CLEARANCE_DEPTH]
        if len(np.unique(cust[hits])) < CAMPAIGN_CUSTOMERS:
            continue
        after = here[(days[here] > w1) & (days[here] <= w0 + 365)]
        if len(after) >= 2 and np.median(x[after]) < ref - CLEARANCE_DEPTH / 2:
            continue  # the low prices last: a cut, not a campaign
        if must_end and len(after) < 2 and (bottom is None or np.median(x[hits]) > bottom - CLEARANCE_DEPTH / 2):
            continue
        since = here[~candidate[here] & (days[here] >= w0) & (days[here] <= w0 + 365)]
        if len(since) and np.median(x[since]) < ref - CLEARANCE_DEPTH / 2:
            continue  # hospitals pay the low price too: a cut (an award nobody filed), not clearance
        found[hits] = True


def _campaign_windows(cand: np.ndarray, days: np.ndarray, x: np.ndarray) -> list[tuple[int, int]]:
    """Windows a campaign may fill, among the candidate lines ``cand`` (positions into ``days`` / ``x``)."""
    if len(cand) <= EXHAUSTIVE_LINES:  # a campaign may be most of a sparse SKU's lines: try every window
        return [(int(a), int(a) + CAMPAIGN_DAYS) for a in np.unique(days[cand])]
    # windows around runs of lines far under the period's upper-middle price
    low = cand[x[cand] < np.quantile(x[cand], 0.75) - CLEARANCE_DEPTH]
    if len(low) < CAMPAIGN_CUSTOMERS:
        return []
    breaks = np.flatnonzero(np.diff(days[low]) > CAMPAIGN_DAYS) + 1
    windows = [(int(days[k[0]]), int(days[k[-1]])) for k in np.split(low, breaks)]
    return [(a, b) for a, b in windows if b - a <= CAMPAIGN_MAX_DAYS]  # longer: a lasting change


def latest(
    h: SkuHistory, on: int, since: int, regime: np.ndarray, ctype: np.ndarray, include: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer with agreed-price lines in (``since``, ``on``] in its type's current regime: its latest line.

    Returns the customer codes, the position of each one's latest line in the history's agreed lines, and the median
    log price of its last few lines. ``regime`` holds, per customer type code (index 5: unknown type), the first day
    of the current regime.
    """
    t = ctype[h.cust]
    ok = (h.day <= on) & (h.day > since) & (h.day >= regime[np.where(t >= 0, t, 5)])
    if include is not None:
        ok &= np.isin(t, include)
    pos = np.flatnonzero(ok)
    if not len(pos):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    cc = h.cust[pos]
    ends = np.r_[np.flatnonzero(cc[1:] != cc[:-1]), len(cc) - 1]
    starts = np.r_[0, ends[:-1] + 1]
    back = ends[:, None] - np.arange(RECENT_LINES)[None, :]
    values = np.where(back >= starts[:, None], h.logp[pos[np.maximum(back, 0)]], np.nan)
    return cc[ends].astype(np.int64), pos[ends], np.nanmedian(values, axis=1)


def regimes(events: Sequence[Event], on: int) -> np.ndarray:
    """Per customer type code (index 5: unknown), the day its current regime began: the last event moving it."""
    out = np.full(6, -(10**6), dtype=np.int64)
    for e in events:
        if e.day > on:
            continue
        for t in range(5):
            if e.applies(t):
                out[t] = max(out[t], e.day)
        if not e.types:
            out[5] = max(out[5], e.day)
    return out
