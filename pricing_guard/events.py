"""Price events of one SKU: those the company files (集采 awards, list changes) and level shifts found in its history.

After an event, a quote must never be compared with prices from before it. Events in the ``price_events`` file are
taken as given; a company that leaves one out still has it in its order history, so every SKU's history is also
searched for a *common break*: a day on which many customers' agreed prices step the same way at once.

The method (see ``docs/decisions/2026-12-06-price-change-points.md``): each customer's agreed price is piecewise
constant (it changes at that customer's renegotiations, which are spread over the year), so the history of a SKU is
a panel of step functions, one per customer, already cleaned of temporary prices (promotions, clearance) and unit
mistakes. For a candidate day t, every customer with an agreed-price line shortly before t and one on or after t
contributes the log change between those two lines — zero for customers whose contract simply continued. A policy
event moves every affected customer on one day, so at its day the changes agree in sign and size; renegotiations
move a few customers each, in both directions. The counts over all candidate days come from one sweep over the
pairs of consecutive lines (linear in the number of lines); the best day is kept when enough customers agree,
then the next best day away from it, up to a few events per SKU (binary segmentation of the panel).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

CUSTOMER_TYPES = ("chain", "single_pharmacy", "hospital", "clinic", "dtp")
"""Customer types by integer code (−1: unknown)."""
TYPE_CODE = {t: i for i, t in enumerate(CUSTOMER_TYPES)}
INSTITUTIONS = frozenset({"hospital", "clinic"})
"""Types that switch to a 集采 price on the award day; pharmacies follow over months."""
INSTITUTION_CODES = np.array([TYPE_CODE[t] for t in sorted(INSTITUTIONS)])
PHARMACY_CODES = np.array([TYPE_CODE[t] for t in CUSTOMER_TYPES if t not in INSTITUTIONS])

MAX_GAP_DAYS = 150
"""Two consecutive lines further apart than this say nothing about the day of a change between them."""
MOVED = 0.01
"""A change under 1 % is rounding or no change."""
MIN_STEP = 0.02
MIN_AGREE_SMALL, MIN_SHARE_SMALL = 4, 0.75
"""A small shift (under 20 %) needs 4 customers moving the same way and 75 % of those observed across the day."""
BIG_STEP = 0.2
MIN_AGREE_BIG, MIN_SHARE_BIG = 2, 0.6
"""A large shift (集采 cuts are 40–55 %) is no renegotiation: 2 customers and 60 % suffice."""
MAX_MOVING = 0.5
"""Agreed prices repeat: when most consecutive lines of a customer differ, there are no contracts to compare."""
ALPHA = 0.01
"""Chance of calling a break on a SKU whose customers only renegotiate (spread over all the days tried)."""
SEPARATION_DAYS = 45
MAX_EVENTS = 3
MERGE_DAYS = 21
"""A break found within three weeks of a filed event of the SKU is that event."""
PETTITT_P = 0.05
UNPAIRED_STEP = 0.25
"""Unpaired (sparse) detection only finds drops of 25 % or more: institutions differ by a few % among themselves."""
GLIDE_EVIDENCE = 0.12
"""A common drop of pharmacies' agreed prices this deep is no list change (those are a few %): it is pharmacies
following a 集采 award, so the institutions were cut before it, however few of their lines show it."""
GLIDE_BEFORE_DAYS = 180
"""Pharmacies' lines in the half year before their glide give the old level the institutions' cut is measured from."""
GLIDE_DAYS = 540
"""After a 集采 award, pharmacies re-price over months (a first step weeks after the award, then at renegotiations)."""


@dataclass(frozen=True)
class Event:
    """A day after which the prices of some customer types are not comparable with those before it."""

    day: int
    kind: str
    """``vbp`` (集采), ``list_change`` (调价) or ``detected`` (a level shift found in the history)."""
    types: frozenset[str]
    """Types that switch on the day; empty = all."""
    id: str | None = None
    new_floor: float | None = None
    new_list: float | None = None
    step: dict[str, float] = field(default_factory=dict)
    """Log change of the agreed prices at the event, per group (``institution`` / ``pharmacy``), when measured."""

    def applies(self, type_code: int) -> bool:
        """Whether customers of this type switch on the day."""
        if not self.types:
            return True
        return 0 <= type_code < len(CUSTOMER_TYPES) and CUSTOMER_TYPES[type_code] in self.types

    def mask(self, codes: np.ndarray) -> np.ndarray:
        """``applies`` for an array of type codes."""
        if not self.types:
            return np.ones(len(codes), dtype=bool)
        return np.isin(codes, [TYPE_CODE[t] for t in self.types if t in TYPE_CODE])

    @property
    def is_vbp(self) -> bool:
        """A 集采 award (filed, or a detected cut of 20 % or more at institutions)."""
        return self.kind == "vbp" or (self.kind == "detected" and self.step.get("institution", 0.0) <= -BIG_STEP)


def _pairs(
    day: np.ndarray, logp: np.ndarray, cust: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive agreed-price lines of one customer (sorted by customer, day): from-day, to-day, change, customer."""
    same = (cust[1:] == cust[:-1]) & (day[1:] - day[:-1] <= MAX_GAP_DAYS) & (day[1:] > day[:-1])
    return day[:-1][same], day[1:][same], (logp[1:] - logp[:-1])[same], cust[1:][same]


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    logs = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p) + (n - i) * math.log1p(-p)
        for i in range(k, n + 1)
    ]
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(v - top) for v in logs))


def _best_breaks(d0: np.ndarray, d1: np.ndarray, delta: np.ndarray) -> list[tuple[int, float, int, int]]:
    """Days on which the pairs agree on a common change: (day, median change, customers agreeing, day before).

    The change happened after "day before" (the latest line before it among the customers who moved) and on or
    before "day" (the earliest line after it).

    At a candidate day, the customers observed across it (a line before, one on or after) either moved or not. How
    often a pair of lines moves down (or up) anywhere in the SKU's history is the chance rate; a day where far more
    moved the same way than that rate allows (binomial tail under ``ALPHA`` / number of days tried) and where most of
    those observed moved, is a break.
    """
    moved = np.abs(delta) > MOVED
    candidates = np.unique(d1[moved])
    if not len(candidates) or len(d0) < 2 or moved.mean() > MAX_MOVING:
        return []  # prices that change at every line are no contract prices: the panel method does not apply
    # pair p covers candidate t when d0 < t <= d1: candidate indices [lo, hi)
    lo = np.searchsorted(candidates, d0, side="right")
    hi = np.searchsorted(candidates, d1, side="right")
    m = len(candidates) + 1

    def count(sel: np.ndarray) -> np.ndarray:
        diff = np.zeros(m)
        np.add.at(diff, lo[sel], 1)
        np.add.at(diff, hi[sel], -1)
        return np.cumsum(diff)[:-1]

    total = count(np.ones(len(d0), dtype=bool))
    down, up = count(delta < -MOVED), count(delta > MOVED)
    rate = {-1.0: max(float(np.mean(delta < -MOVED)), 1e-3), 1.0: max(float(np.mean(delta > MOVED)), 1e-3)}
    found: list[tuple[int, float, int, int]] = []
    blocked = np.zeros(len(candidates), dtype=bool)
    for _ in range(MAX_EVENTS):
        sign_down = down >= up
        agree = np.where(sign_down, down, up)
        share = np.where(total > 0, agree / np.maximum(total, 1), 0.0)
        p0 = np.where(sign_down, rate[-1.0], rate[1.0])
        z = (agree - total * p0) / np.sqrt(np.maximum(total * p0 * (1 - p0), 1e-9))
        score = np.where(blocked | (agree < MIN_AGREE_BIG) | (share < MIN_SHARE_BIG), -np.inf, z)
        k = int(np.argmax(score))
        if not np.isfinite(score[k]):
            break
        t = candidates[k]
        blocked |= np.abs(candidates - t) <= SEPARATION_DAYS
        sign = -1.0 if sign_down[k] else 1.0
        covering = (d0 < t) & (d1 >= t)
        agreeing = covering & (np.sign(delta) == sign) & (np.abs(delta) > MOVED)
        n_agree = int(agreeing.sum())
        step = float(np.median(delta[agreeing]))
        p_value = binomial_tail(n_agree, int(total[k]), rate[sign])
        big = abs(step) >= BIG_STEP
        enough = p_value < ALPHA / len(candidates) and (
            big or (n_agree >= MIN_AGREE_SMALL and share[k] >= MIN_SHARE_SMALL and abs(step) >= MIN_STEP)
        )
        if enough:
            found.append((int(d1[agreeing].min()), step, n_agree, int(d0[agreeing].max())))
    return found


def detect_events(
    day: np.ndarray,
    logp: np.ndarray,
    cust: np.ndarray,
    clean: np.ndarray,
    *,
    ctype: np.ndarray,
    known: Sequence[Event],
    norm: np.ndarray | None = None,
) -> list[Event]:
    """The filed events of the SKU with their measured steps, and the breaks found in its agreed prices.

    Arrays are one SKU's lines sorted by customer and day; ``clean`` marks the agreed-price lines; ``ctype`` holds the
    type code of each customer code.
    """
    d, lp, c = day[clean], logp[clean], cust[clean]
    d0, d1, delta, who = _pairs(d, lp, c)
    kinds = ctype[who] if len(who) else np.zeros(0, dtype=np.int8)
    groups = {
        "institution": np.isin(kinds, INSTITUTION_CODES),
        "pharmacy": np.isin(kinds, PHARMACY_CODES),
    }
    events = [_measured(e, d0, d1, delta, groups) for e in known]
    # changes a filed event explains (it falls between the two lines) are no evidence of another event; nor are
    # pharmacies' steps in the months after a 集采 award
    unexplained = np.ones(len(d0), dtype=bool)
    for e in events:
        unexplained &= ~((d0 < e.day) & (d1 >= e.day) & e.mask(kinds))
        if e.is_vbp:
            unexplained &= ~(groups["pharmacy"] & (d1 > e.day) & (d1 <= e.day + GLIDE_DAYS))
    found: list[tuple[int, float, int, str, int]] = []
    for name, sel in (("all", np.ones(len(d0), dtype=bool)), *groups.items()):
        sel = sel & unexplained
        found += [(t, step, n, name, lo) for t, step, n, lo in _best_breaks(d0[sel], d1[sel], delta[sel])]
    if not any(f[3] == "institution" for f in found) and not any(e.applies(TYPE_CODE["hospital"]) for e in known):
        inst = np.isin(ctype[c], INSTITUTION_CODES) if len(c) else np.zeros(0, dtype=bool)
        cut = _unpaired_cut(d[inst], lp[inst])
        glide = min(((f[0], f[1]) for f in found if f[3] != "institution" and f[1] <= -GLIDE_EVIDENCE), default=None)
        if cut is None and glide is not None:  # pharmacies gliding down: the institutions were cut before them
            cut = _cut_before_glide(d, lp - norm[c] if norm is not None else lp, inst, *glide)
        if cut is not None:
            found.append((cut[0], cut[1], 0, "institution", cut[0] - 1))
    if not found and not known and len(c):
        # prices that are no contracts (every line differs): one large shift of the whole SKU, lines normalised by
        # their customers' levels when known
        x = lp - norm[c] if norm is not None else lp
        cut = _unpaired_cut(d, x)
        if cut is not None:
            steps = {}
            for name, codes in (("institution", INSTITUTION_CODES), ("pharmacy", PHARMACY_CODES)):
                sel = np.isin(ctype[c], codes)
                before, after = sel & (d < cut[0]), sel & (d >= cut[0])
                if before.sum() >= 2 and after.sum() >= 2:
                    steps[name] = float(np.median(x[after]) - np.median(x[before]))
            moved = {g: v for g, v in steps.items() if v <= -UNPAIRED_STEP / 2}
            types = frozenset() if len(moved) == len(groups) or not moved else _types_of(moved)
            day_ = cut[0]
            if "institution" not in steps and steps.get("pharmacy", 0.0) <= -GLIDE_EVIDENCE:
                inst = np.isin(ctype[c], INSTITUTION_CODES)
                award = _cut_before_glide(d, x, inst, cut[0], steps["pharmacy"])  # institutions were cut first
                if award is not None:
                    day_, types, steps["institution"] = award[0], INSTITUTIONS, award[1]
            return sorted([*events, Event(day_, "detected", types, step=steps)], key=lambda e: e.day)
        # too few institution lines for a test of their own, pharmacies gliding on their own dates (no common day):
        # a lasting drop of the pharmacies' prices is still the sign of an award, and the institutions' lines show it
        inst = np.isin(ctype[c], INSTITUTION_CODES)
        pharmacies = np.isin(ctype[c], PHARMACY_CODES)
        drop = _unpaired_cut(d[pharmacies], x[pharmacies], min_step=GLIDE_EVIDENCE)
        inst_cut = _cut_before_glide(d, x, inst, *drop) if drop is not None else None
        if drop is not None and inst_cut is not None:
            steps = {"institution": inst_cut[1], "pharmacy": drop[1]}
            return sorted([*events, Event(inst_cut[0], "detected", INSTITUTIONS, step=steps)], key=lambda e: e.day)
    priority = {"institution": 0, "all": 1, "pharmacy": 2}
    found.sort(key=lambda f: (priority[f[3]], -f[2]))
    for t, _step, _n, name, lo in found:
        if any(abs(e.day - t) <= MERGE_DAYS for e in events):
            continue
        if name != "institution" and any(e.is_vbp and e.day < t <= e.day + GLIDE_DAYS for e in events):
            continue  # after a 集采 award pharmacies step down on their own dates: the award explains it
        steps = _group_steps(lo, t, d, lp, c, ctype)
        if name == "institution" and "institution" not in steps:
            steps["institution"] = _step
        moved = {g: v for g, v in steps.items() if abs(v) >= MIN_STEP}
        if name != "all":
            moved.setdefault(name, steps.get(name, _step))
        types = frozenset() if len(moved) == len(groups) else _types_of(moved)
        if steps.get("institution", 0.0) <= -BIG_STEP:  # an award: institutions switch, pharmacies glide after
            types = INSTITUTIONS
        events.append(Event(t, "detected", types, step=steps))
    return sorted(events, key=lambda e: e.day)


def _unpaired_cut(day: np.ndarray, logp: np.ndarray, min_step: float = UNPAIRED_STEP) -> tuple[int, float] | None:
    """A 集采 cut at institutions too sparse for pairs: Pettitt's rank test for one change in the time-ordered prices.

    Institutions buy at their own levels (a few % apart), so only a large drop (≥ 25 %, ``min_step``) with Pettitt's
    p < 0.05 and at least two lines on each side counts.
    """
    n = len(day)
    if n < 4:
        return None
    order = np.argsort(day, kind="stable")
    x, t = logp[order], day[order]
    ranks = np.argsort(np.argsort(x, kind="stable"), kind="stable") + 1.0
    u = 2.0 * np.cumsum(ranks)[:-1] - np.arange(1, n) * (n + 1.0)
    valid = (np.arange(1, n) >= 2) & (np.arange(1, n) <= n - 2) & (t[1:] > t[:-1])
    if not valid.any():
        return None
    k = int(np.argmax(np.where(valid, np.abs(u), -1.0)))
    p = 2.0 * np.exp(-6.0 * u[k] ** 2 / (n**3 + n**2))
    step = float(np.median(x[k + 1 :]) - np.median(x[: k + 1]))
    if p >= PETTITT_P or step > -min_step:
        return None
    # Pettitt's split is where the ranks differ most, which among a few lines can be a little off the day of the
    # cut; the cut is where the prices cross the middle of the two levels: the split that leaves the most lines on
    # their side of it (the latest such split: lines before the cut are the old price)
    high = x >= float(np.median(x[: k + 1])) + step / 2
    right = np.where(valid, np.cumsum(high)[:-1] + (np.cumsum((~high)[::-1])[::-1])[1:], -1)
    k = int(np.flatnonzero(right == right.max())[-1])
    return int(t[k + 1]), float(np.median(x[k + 1 :]) - np.median(x[: k + 1]))


def _cut_before_glide(
    day: np.ndarray, x: np.ndarray, inst: np.ndarray, glide: int, glided: float
) -> tuple[int, float] | None:
    """The institutions' cut behind a glide of pharmacies that starts on day ``glide``, from however few lines.

    ``x``: log prices with each customer's type offset and level taken out (so types compare). The old level is
    where pharmacies stood in the half year before their glide. The institutions' cut shows as their first line
    ≥ 25 % under it after which none of their lines is back above the middle of the two levels; and it must be
    clearly deeper than the pharmacies' drop (``glided``, log): institutions switch to the award at once, pharmacies
    take months, whereas a cut that moved everybody alike is no award. Institutions switch on the award day, before
    pharmacies start gliding, so the cut is dated at the glide's start when that line comes later and no
    institution bought at the old level in between.
    """
    before = ~inst & (day < glide) & (day >= glide - GLIDE_BEFORE_DAYS)
    if before.sum() < 2:
        return None
    old = float(np.median(x[before]))
    sel = np.flatnonzero(inst & (day >= glide - GLIDE_BEFORE_DAYS))
    sel = sel[np.argsort(day[sel], kind="stable")]
    xs, ds = x[sel], day[sel]
    # below[j]: every institution line from the j-th on is under the middle of the two levels
    below = np.cumsum((xs < old - UNPAIRED_STEP / 2)[::-1])[::-1] == np.arange(len(xs), 0, -1)
    first = np.flatnonzero(below & (xs <= old - UNPAIRED_STEP))
    if not len(first):
        return None
    j = int(first[0])
    step = float(np.median(xs[j:])) - old
    if step > -UNPAIRED_STEP or step > glided - GLIDE_EVIDENCE:
        return None
    at = int(ds[j]) if j and ds[j - 1] >= glide else min(int(ds[j]), glide)
    return at, step


def _types_of(steps: dict[str, float]) -> frozenset[str]:
    out: set[str] = set()
    for group in steps:
        out |= INSTITUTIONS if group == "institution" else set(CUSTOMER_TYPES) - INSTITUTIONS
    return frozenset(out)


def _group_steps(
    lo: int, t: int, day: np.ndarray, logp: np.ndarray, cust: np.ndarray, ctype: np.ndarray
) -> dict[str, float]:
    """Per group, the median change of customers' agreed prices across a break in (``lo``, ``t``].

    Each customer's last line on or before ``lo`` against its first on or after ``t`` (both within
    ``MAX_GAP_DAYS``); only groups where most of those customers moved.
    """
    if not len(day):
        return {}
    offset = 1 << 21
    keys = (cust.astype(np.int64) << 22) | (day.astype(np.int64) + offset)
    who = np.unique(cust)
    pre = np.searchsorted(keys, (who.astype(np.int64) << 22) | (lo + offset), side="right") - 1
    post = np.searchsorted(keys, (who.astype(np.int64) << 22) | (t + offset), side="left")
    pre_ok = (pre >= 0) & (cust[np.maximum(pre, 0)] == who) & (day[np.maximum(pre, 0)] >= lo - MAX_GAP_DAYS)
    post_c = np.minimum(post, len(day) - 1)
    post_ok = (post < len(day)) & (cust[post_c] == who) & (day[post_c] <= t + MAX_GAP_DAYS)
    ok = pre_ok & post_ok
    delta = logp[post_c[ok]] - logp[np.maximum(pre, 0)[ok]]
    kinds = ctype[who[ok]]
    groups = {name: np.isin(kinds, codes) for name, codes in (("institution", INSTITUTION_CODES),
                                                                ("pharmacy", PHARMACY_CODES))}  # fmt: skip
    return _group_moves(delta, groups)


def _group_moves(delta: np.ndarray, groups: dict[str, np.ndarray]) -> dict[str, float]:
    """Per group (a mask over ``delta``): the median change of those that moved, where most of the group moved."""
    out = {}
    for name, sel in groups.items():
        moved = sel & (np.abs(delta) > MOVED)
        if moved.sum() >= 1 and moved.sum() >= 0.5 * sel.sum():
            out[name] = float(np.median(delta[moved]))
    return out


def _steps_at(
    t: int, d0: np.ndarray, d1: np.ndarray, delta: np.ndarray, groups: dict[str, np.ndarray]
) -> dict[str, float]:
    """Median change per group across day ``t``, for groups where most customers observed across it moved."""
    covering = (d0 < t) & (d1 >= t)
    return _group_moves(delta, {name: covering & sel for name, sel in groups.items()})


def _measured(e: Event, d0: np.ndarray, d1: np.ndarray, delta: np.ndarray, groups: dict[str, np.ndarray]) -> Event:
    steps = _steps_at(e.day, d0, d1, delta, groups)
    return Event(e.day, e.kind, e.types, e.id, e.new_floor, e.new_list, steps)
