"""The labels of the next-action triggers, computed from a tenant's demo tables (the evaluation's answer key).

Written from the shared real-world definition (``/work/prompts/tasks_spec.md``, summarised in
``eval/datasets/next_actions/README.md``) without reading the trigger code, so that the trigger code can be measured
against it. Everything is judged as of a date ``D``; every customer that meets a definition is listed, planted or
not, so that precision can be measured. A label is ``(trigger, customer id, subject, detail)``, all strings.

The health score is a second implementation of the briefing's score (``copilot.briefing._health``) over columns,
computed at ``D`` and ``D − 30`` with only the data dated up to each day (purchases by date, interactions by time,
deals by creation date, contracts by start date); a unit test checks it against the briefing's own function.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyarrow as pa

Label = tuple[str, str, str, str]

TRIGGERS = (
    "contract_ending",
    "silent_customer",
    "basket_drop",
    "refill_gap",
    "health_tier",
    "formulary_change",
    "price_flag_open_deal",
    "objection_no_followup",
    "followup_overdue",
)

CONTRACT_WINDOWS = (7, 30, 90)
HISTORY_DAYS = 365
SILENT_MIN_DATES = 4
SILENT_FACTOR = 1.5
BASKET_MIN_DATES = 3
BASKET_MIN_INTERVAL = 21
BASKET_FACTOR = 1.5
REFILL_MONTHS = 3
REFILL_DAYS = (35, 100)
CHRONIC_INDICATIONS = frozenset(
    {
        "高血压", "高脂血症", "冠心病", "心绞痛", "心力衰竭", "心房颤动", "2型糖尿病", "1型糖尿病", "慢性乙型肝炎",
        "支气管哮喘", "慢性阻塞性肺病", "骨质疏松", "痛风", "高尿酸血症", "甲状腺功能减退症", "良性前列腺增生",
    }
)  # fmt: skip
TIER_LOOKBACK = 30
FORMULARY_BOUGHT_DAYS = 180
FORMULARY_WINDOW = (-90, 60)
OBJECTION_DAYS = 14
FOLLOW_UP_DAYS = 14

# the briefing's health score (copilot/briefing.py), mirrored
_LAST_ORDER_POINTS = ((30, 30), (90, 15))
_LAST_VISIT_POINTS = ((30, 20), (90, 10))
_CONTRACT_POINTS = 15
_WON_POINTS = 10
_URGENT_CONTRACT_DAYS = 30
_CONTRACT_PENALTY = ((7, 20), (30, 10))
_FOLLOW_UP_PENALTY, _FOLLOW_UP_PENALTY_MAX, _NEXT_STEP_INTERACTIONS = 3, 15, 10


def strategy_tier(score: int) -> str:
    """The strategy tier of a health score: VIP (> 85), 教育 (45–65), 挽留 (< 30), else ``—``."""
    if score > 85:
        return "VIP"
    if 45 <= score <= 65:
        return "教育"
    if score < 30:
        return "挽留"
    return "—"


@dataclass
class _Tenant:
    """A tenant's tables, grouped per customer."""

    orders: dict[str, list[tuple[dt.date, str, float]]] = field(default_factory=lambda: defaultdict(list))
    contracts: dict[str, list[tuple[str, dt.date, dt.date]]] = field(default_factory=lambda: defaultdict(list))
    deals: dict[str, list[tuple[str, dt.date, str | None]]] = field(default_factory=lambda: defaultdict(list))
    talks: dict[str, list[tuple[dt.datetime, str, str]]] = field(default_factory=lambda: defaultdict(list))
    customers: list[str] = field(default_factory=list)
    dated: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    """Per customer: order-line days (ordinals, sorted) and line values, for the health score's sums."""


def _index(g: _Tenant) -> None:
    for cid, rows in g.orders.items():
        ordered = sorted((at.toordinal(), v) for at, _, v in rows)
        g.dated[cid] = ([x[0] for x in ordered], [x[1] for x in ordered])


def tiers(
    orders: list[tuple[dt.date, str, float]], contracts: list[tuple[str, dt.date, dt.date]],
    deals: list[tuple[str, dt.date, str | None]], talks: list[tuple[dt.datetime, str, str]], as_of: dt.date,
) -> tuple[str, str]:  # fmt: skip
    """One customer's strategy tier as of ``as_of − 30`` and as of ``as_of``, from its rows (for the planting).

    ``orders`` are (day, SKU, value), ``contracts`` (id, start, end), ``deals`` (id, created, outcome), ``talks``
    (time, id, next step).
    """
    g = _Tenant(customers=["c"])
    g.orders["c"], g.contracts["c"], g.deals["c"], g.talks["c"] = (
        list(orders),
        list(contracts),
        list(deals),
        list(talks),
    )
    _index(g)
    then = as_of - dt.timedelta(days=TIER_LOOKBACK)
    return strategy_tier(health_score(g, "c", then)), strategy_tier(health_score(g, "c", as_of))


def _group(t: Mapping[str, pa.Table]) -> _Tenant:
    g = _Tenant(customers=t["Customer"].column("id").to_pylist())
    p = t["Purchased"]
    cols = [p.column(n).to_pylist() for n in ("customer_id", "at", "sku", "qty", "unit_price")]
    for cid, at, sku, qty, price in zip(*cols, strict=True):
        g.orders[cid].append((at, sku, qty * price))
    _index(g)
    ends = dict(zip(t["Contract"].column("id").to_pylist(), t["Contract"].to_pylist(), strict=True))
    for kid, cid in zip(
        *(t["ContractWith"].column(n).to_pylist() for n in ("contract_id", "customer_id")), strict=True
    ):
        g.contracts[cid].append((kid, ends[kid]["start_date"], ends[kid]["end_date"]))
    deals = {d["id"]: d for d in t["Deal"].to_pylist()}
    for did, cid in zip(*(t["DealFor"].column(n).to_pylist() for n in ("deal_id", "customer_id")), strict=True):
        g.deals[cid].append((did, deals[did]["created_at"], deals[did]["outcome"]))
    talks = {r["id"]: r for r in t["Interaction"].to_pylist()}
    for iid, cid in zip(*(t["InteractionWith"].column(n).to_pylist() for n in ("interaction_id", "customer_id")),
                        strict=True):  # fmt: skip
        r = talks[iid]
        g.talks[cid].append((r["at"], iid, r["next_step"] or ""))
    return g


def _median_gap(days: list[dt.date]) -> float:
    """Median of the gaps (days) between consecutive sorted distinct dates (at least two dates)."""
    gaps = sorted((b - a).days for a, b in zip(days, days[1:], strict=False))
    n = len(gaps)
    return float(gaps[n // 2]) if n % 2 else (gaps[n // 2 - 1] + gaps[n // 2]) / 2.0


def health_score(g: _Tenant, cid: str, day: dt.date, *, all_contracts: bool = False, lines: int | None = None) -> int:
    """The briefing's health score of ``cid`` as of ``day``, with only the data dated up to ``day``.

    The other readings (for the ambiguity list): ``all_contracts`` counts contracts that start after ``day`` too;
    ``lines`` keeps only the latest order lines, as the briefing's store read does (its ``limit``).
    """
    dated = g.dated.get(cid, ([], []))
    today = day.toordinal()
    lo, hi = bisect.bisect_left(dated[0], today - HISTORY_DAYS), bisect.bisect_right(dated[0], today)
    if lines is not None:
        lo = max(lo, hi - lines)
    points = 0
    last = dated[0][hi - 1] if hi > lo else None
    points += _steps(today - last if last is not None else None, _LAST_ORDER_POINTS)
    mid, old = bisect.bisect_left(dated[0], today - 90, lo, hi), bisect.bisect_left(dated[0], today - 180, lo, hi)
    recent = math.fsum(dated[1][mid:hi])
    before = math.fsum(dated[1][old:mid])
    trend = (recent - before) / before if before else 0.0
    points += 25 if trend >= 0 else 10 if trend > -0.3 else 0
    talks = sorted((x for x in g.talks.get(cid, ()) if x[0].date() <= day), key=lambda x: x[1])
    talks.sort(key=lambda x: x[0], reverse=True)  # latest first, ties by id (the briefing's ORDER BY at DESC, id)
    seen = talks[0][0].date() if talks else None
    points += _steps((day - seen).days if seen else None, _LAST_VISIT_POINTS)
    contracts = [k for k in g.contracts.get(cid, ()) if all_contracts or k[1] <= day]
    points += _CONTRACT_POINTS if any(s <= day <= e for _, s, e in contracts) else 0
    points += _WON_POINTS if any(o == "won" for _, at, o in g.deals.get(cid, ()) if at <= day) else 0
    ending = [
        (e - day).days
        for kid, _, e in contracts
        if 0 <= (e - day).days <= _URGENT_CONTRACT_DAYS
        and not any(o != kid and oe > e and os <= e + dt.timedelta(days=1) for o, os, oe in contracts)
    ]
    if ending:
        points -= next(p for limit, p in _CONTRACT_PENALTY if min(ending) <= limit)
    steps: set[str] = set()
    overdue = 0
    for at, _, step in talks[:_NEXT_STEP_INTERACTIONS]:
        text = " ".join(step.split())
        if text in steps:
            continue
        steps.add(text)
        if step and (day - at.date()).days >= FOLLOW_UP_DAYS:
            overdue += 1
    if overdue:
        points -= min(_FOLLOW_UP_PENALTY_MAX, _FOLLOW_UP_PENALTY * overdue)
    return max(0, min(100, points))


def _steps(days: int | None, steps: tuple[tuple[int, int], ...]) -> int:
    return next((p for limit, p in steps if days is not None and days <= limit), 0)


def _months(days: Iterable[dt.date]) -> set[int]:
    return {d.year * 12 + d.month - 1 for d in days}


def _has_run(months: set[int], length: int) -> bool:
    return any(all(m + k in months for k in range(length)) for m in months)


def chronic_skus(t: Mapping[str, pa.Table]) -> set[str]:
    """SKUs that treat one of the chronic diseases of the refill-gap rule."""
    treats = t["Treats"]
    return {
        s
        for s, i in zip(treats.column("sku").to_pylist(), treats.column("indication").to_pylist(), strict=True)
        if i in CHRONIC_INDICATIONS
    }


def changed_skus(t: Mapping[str, pa.Table], as_of: dt.date) -> set[str]:
    """SKUs whose formulary status an edition effective in ``[D − 90, D + 60]`` changed from the edition before it.

    A change is: added, removed, another category (甲/乙), or another restriction (compared without the trailing
    ``。`` and whitespace the 2024 texts carry). The first edition has no edition before it and changes nothing.
    """
    editions = sorted(t["FormularyEdition"].to_pylist(), key=lambda e: (e["effective_date"], e["id"]))
    listed: dict[str, dict[str, tuple[str | None, str]]] = defaultdict(dict)
    for r in t["ListedIn"].to_pylist():
        listed[r["edition_id"]][r["sku"]] = (r["category"], "".join((r["restriction"] or "").split()).rstrip("。"))
    lo, hi = (as_of + dt.timedelta(days=d) for d in FORMULARY_WINDOW)
    out: set[str] = set()
    for before, edition in zip(editions, editions[1:], strict=False):
        if not lo <= edition["effective_date"] <= hi:
            continue
        a, b = listed[before["id"]], listed[edition["id"]]
        out |= {s for s in set(a) | set(b) if a.get(s) != b.get(s)}
    return out


@dataclass(frozen=True)
class TaskTruth:
    """The labels, the near misses found in the data, and the labels another reading of the definition changes."""

    tasks: list[Label]
    near: list[Label]
    """Situations on the wrong side of a boundary: ``basket_drop`` of a silent customer or of a pair that
    ``refill_gap`` reports, a health tier moving to ``—``, a changed SKU last bought 181–365 days ago, a contract
    ending in 91–150 days."""
    ambiguous: list[Label]
    """Labels that a different, defensible reading of the definition adds or removes (see the dataset README):
    the refill-gap's months (any run in the history, a run in the last 365 days, a run ending with the last purchase),
    the 365-day window's first day, the health score with contracts not yet started or with the briefing's 500
    latest order lines, two interactions on the customer's latest day."""


READINGS: dict[str, tuple[str, ...]] = {
    "window_364": ("silent_customer", "basket_drop"),
    "refill_run_365": ("refill_gap", "basket_drop"),
    "refill_run_to_last": ("refill_gap", "basket_drop"),
    "health_all_contracts": ("health_tier",),
    "health_500_lines": ("health_tier",),
    "later_by_date": ("objection_no_followup", "followup_overdue"),
}
"""Other defensible readings of the definition, and the triggers each one changes (see ``TaskTruth.ambiguous``)."""


def task_labels(
    t: Mapping[str, pa.Table], as_of: dt.date, *, objections: set[str], anomalies: Iterable[tuple[str, ...]]
) -> TaskTruth:
    """Every task the definitions give for one tenant's tables as of ``as_of``, sorted.

    ``objections`` are the ids of the interactions whose summary records an objection the customer raised (the
    generator knows which texts it wrote with one); ``anomalies`` the ``quote_anomalies`` truth (deal, SKU, kind).
    """
    g = _group(t)
    d = as_of
    out: list[Label] = []
    near: list[Label] = []
    alt: dict[str, list[Label]] = {r: [] for r in READINGS}
    chronic = chronic_skus(t)
    changed = changed_skus(t, d)
    flagged = {a[0] for a in anomalies}
    deal_customer = dict(zip(*(t["DealFor"].column(n).to_pylist() for n in ("deal_id", "customer_id")), strict=True))
    for deal in t["Deal"].to_pylist():
        if deal["outcome"] in (None, "", "open") and deal["id"] in flagged:
            out.append(("price_flag_open_deal", deal_customer[deal["id"]], deal["id"], ""))
    then_day = d - dt.timedelta(days=TIER_LOOKBACK)
    for cid in g.customers:
        _contracts(g, cid, d, out, near)
        orders = [x for x in g.orders.get(cid, []) if x[0] <= d]
        by_sku: dict[str, set[dt.date]] = defaultdict(set)
        for at, sku, _ in orders:
            by_sku[sku].add(at)
        readings = (
            ("", HISTORY_DAYS, "anywhere"),
            ("window_364", HISTORY_DAYS - 1, "anywhere"),
            ("refill_run_365", HISTORY_DAYS, "last_365"),
            ("refill_run_to_last", HISTORY_DAYS, "to_last"),
        )
        silent_in = {w: _silent(orders, d, w) for w in (HISTORY_DAYS, HISTORY_DAYS - 1)}
        dropped_in = {w: [sku for sku in sorted(by_sku) if _dropped(by_sku[sku], d, w)] for w in silent_in}
        for reading, window, run in readings:
            found = alt[reading] if reading else out
            silent = silent_in[window]
            if silent:
                found.append(("silent_customer", cid, "", ""))
            refills = _refills(by_sku, chronic, d, run)
            found += [("refill_gap", cid, sku, "") for sku in sorted(refills)]
            for sku in dropped_in[window]:
                label = ("basket_drop", cid, sku, "")
                if silent or sku in refills:
                    if not reading:
                        near.append(label)
                else:
                    found.append(label)
        for sku in sorted(set(by_sku) & changed):
            ages = [(d - x).days for x in by_sku[sku]]
            if any(0 <= a <= FORMULARY_BOUGHT_DAYS for a in ages):
                out.append(("formulary_change", cid, sku, ""))
            elif any(a <= HISTORY_DAYS for a in ages):
                near.append(("formulary_change", cid, sku, ""))
        variants = (("", False, None), ("health_all_contracts", True, None), ("health_500_lines", False, 500))
        for reading, all_contracts, lines in variants:
            now, then = (
                strategy_tier(health_score(g, cid, x, all_contracts=all_contracts, lines=lines)) for x in (d, then_day)
            )
            if now != then and now != "—":
                (alt[reading] if reading else out).append(("health_tier", cid, now, ""))
            elif now != then and not reading:
                near.append(("health_tier", cid, now, ""))
        talks = [x for x in g.talks.get(cid, ()) if x[0].date() <= d]
        _talks(cid, talks, d, objections, out, by_date=False)
        _talks(cid, talks, d, objections, alt["later_by_date"], by_date=True)
    tasks = set(out)
    ambiguous: set[Label] = set()
    for reading, triggers in READINGS.items():
        ambiguous |= {x for x in tasks if x[0] in triggers} ^ {x for x in alt[reading] if x[0] in triggers}
    return TaskTruth(sorted(tasks), sorted(set(near) - tasks), sorted(ambiguous))


def _contracts(g: _Tenant, cid: str, d: dt.date, out: list[Label], near: list[Label]) -> None:
    for kid, _, end in g.contracts.get(cid, ()):
        left = (end - d).days
        renewed = any(o != kid and oe > end and os <= end + dt.timedelta(days=1) for o, os, oe in g.contracts[cid])
        if 0 <= left <= CONTRACT_WINDOWS[-1]:
            window = str(next(w for w in CONTRACT_WINDOWS if left <= w))
            (near if renewed else out).append(("contract_ending", cid, kid, window))
        elif CONTRACT_WINDOWS[-1] < left <= 150:
            near.append(("contract_ending", cid, kid, ""))


def _silent(orders: list[tuple[dt.date, str, float]], d: dt.date, window: int) -> bool:
    recent = sorted({at for at, _, _ in orders if 0 <= (d - at).days <= window})
    return len(recent) >= SILENT_MIN_DATES and (d - recent[-1]).days > SILENT_FACTOR * _median_gap(recent)


def _dropped(days: set[dt.date], d: dt.date, window: int) -> bool:
    recent = sorted(x for x in days if 0 <= (d - x).days <= window)
    if len(recent) < BASKET_MIN_DATES:
        return False
    return (d - recent[-1]).days > BASKET_FACTOR * max(float(BASKET_MIN_INTERVAL), _median_gap(recent))


def _refills(by_sku: Mapping[str, set[dt.date]], chronic: set[str], d: dt.date, run: str) -> set[str]:
    out = set()
    for sku in set(by_sku) & chronic:
        days = by_sku[sku]
        last = max(days)
        if not REFILL_DAYS[0] <= (d - last).days <= REFILL_DAYS[1]:
            continue
        if run == "anywhere":
            ok = _has_run(_months(days), REFILL_MONTHS)
        elif run == "last_365":
            ok = _has_run(_months(x for x in days if (d - x).days <= HISTORY_DAYS), REFILL_MONTHS)
        else:
            months, end = _months(days), last.year * 12 + last.month - 1
            ok = all(end - k in months for k in range(REFILL_MONTHS))
        if ok:
            out.add(sku)
    return out


def _talks(
    cid: str, talks: list[tuple[dt.datetime, str, str]], d: dt.date, objections: set[str], out: list[Label],
    *, by_date: bool,
) -> None:  # fmt: skip
    """Objections without a later interaction, and the overdue follow-up (the customer's latest interaction)."""
    if not talks:
        return
    if by_date:
        day = max(x[0].date() for x in talks)
        last = [x for x in talks if x[0].date() == day]
    else:
        latest = max(x[0] for x in talks)
        last = [x for x in talks if x[0] == latest]
    for at, iid, _ in last:
        if iid in objections and (d - at.date()).days <= OBJECTION_DAYS:
            out.append(("objection_no_followup", cid, iid, ""))
    at, iid, step = max(last)  # ties: the latest time, then the larger id
    if step.strip() and (d - at.date()).days >= FOLLOW_UP_DAYS:
        out.append(("followup_overdue", cid, iid, ""))
