"""Plants the situations of the next-action triggers into a tenant's demo data, relative to the date ``D``.

For each trigger a set of customers is chosen (spread over the reps, one role per customer and trigger) and their
orders, contracts, deals or interactions are changed so that the situation holds with a clear margin; near misses
are planted on the other side of each boundary (a silence of 1.1× the usual interval, a contract ending in 110–150
days or already renewed, a monthly buyer who bought 15–24 days ago, an objection answered by a later visit, a
follow-up with a later visit, a closed deal with an abnormal quote …). What was planted is returned as the expected
labels and the near misses; the full label list is computed from the final tables by ``demo.task_truth``, which the
unit tests check against these.

Everything draws from one random stream of its own, so the rest of the demo data is generated as before; only the
planted customers' rows change (and ``purchase_gaps`` is recomputed for the (customer, SKU) pairs whose orders
changed, from their observed re-order interval).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from demo.catalog import VBP_GENERICS, Competitor, ProductFacts, company_short
from demo.interactions import InteractionDraft
from demo.knowledge import Writer
from demo.parties import Customer, Rep, person_name
from demo.phrases import symptom
from demo.task_truth import CHRONIC_INDICATIONS, Label, changed_skus, tiers
from demo.vocab import CONTACT_ROLES, ROLE_SUFFIX

PLANTED = 16
"""Planted positives per trigger and tenant (on top of what the background data already holds)."""
PER_REP = 3
"""At most this many planted situations of one trigger per rep, so that they spread over the team."""

Row = dict[str, Any]


@dataclass
class Planting:
    """A tenant's data being planted into, and what was planted."""

    code: str
    as_of: dt.date
    w: Writer
    customers: list[Customer]
    reps: list[Rep]
    catalog: tuple[ProductFacts, ...]
    comps: dict[str, list[Competitor]]
    tables: dict[str, pa.Table]
    talk: list[InteractionDraft]
    anomalies: list[tuple[str, str, str]]
    expected: list[Label] = field(default_factory=list)
    near: list[Label] = field(default_factory=list)
    touched: set[tuple[str, str]] = field(default_factory=set)
    rows: dict[str, list[Row]] = field(default_factory=dict)
    lines: dict[str, Any] = field(default_factory=dict)
    """Per customer: the row numbers of its order lines in the generated ``Purchased`` table."""
    used: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Per trigger: customers already given a role in it."""

    def __post_init__(self) -> None:
        self.by_id = {c.id: c for c in self.customers}
        self.owner = {self.customers[i].id: r for r in self.reps for i in r.customers}
        self.product = {p.sku: p for p in self.catalog}
        self.chronic = {p.sku for p in self.catalog if set(p.indications) & CHRONIC_INDICATIONS}
        self.order_no = _max_suffix(self.tables["Purchased"].column("order_id"))
        self.latest_talk: dict[str, dt.datetime] = {}
        for d in self.talk:
            self.latest_talk[d.customer_id] = max(d.at, self.latest_talk.get(d.customer_id, d.at))
        eligible = [c.id for c in self.customers if c.duplicate_of is None and c.id in self.owner]
        self.order = [eligible[i] for i in self.w.rng.permutation(len(eligible)).tolist()]

    # ---- choosing customers
    def pick(self, trigger: str) -> Iterator[str]:
        """Customers not yet used for ``trigger``, in random order, whose rep has fewer than ``PER_REP`` taken yet."""
        for cid in self.order:
            rep = self.owner[cid].id
            if cid in self.used[trigger] or sum(1 for c in self.used[trigger] if self.owner[c].id == rep) >= PER_REP:
                continue
            yield cid

    def busy(self, cid: str) -> bool:
        """Whether another plant already changed the customer's orders (a second change could undo its label)."""
        return any(cid in self.used[t] for t in ("silent_customer", "basket_drop", "refill_gap", "formulary_change"))

    def take(self, trigger: str, cid: str) -> None:
        """Give ``cid`` a role in ``trigger`` (no second one)."""
        self.used[trigger].add(cid)

    # ---- orders
    def orders(self, cid: str) -> list[Row]:
        """The customer's order lines as rows (loaded once; written back by ``finish``)."""
        if cid not in self.rows:
            if not self.lines:  # row numbers per customer, found once
                column = self.tables["Purchased"].column("customer_id").to_numpy(zero_copy_only=False)
                names, inverse = np.unique(column, return_inverse=True)
                order = np.argsort(inverse, kind="stable")
                bounds = np.searchsorted(inverse[order], np.arange(len(names) + 1))
                self.lines = {str(n): order[bounds[k] : bounds[k + 1]] for k, n in enumerate(names)}
            rows = self.lines.get(cid)
            self.rows[cid] = [] if rows is None else self.tables["Purchased"].take(pa.array(rows)).to_pylist()
        return self.rows[cid]

    def dates(self, cid: str, sku: str | None = None, *, days: int = 365) -> list[dt.date]:
        """The customer's distinct order days (of ``sku``) in the ``days`` before the date, sorted."""
        lo = self.as_of - dt.timedelta(days=days)
        return sorted({r["at"] for r in self.orders(cid) if (sku is None or r["sku"] == sku) and lo <= r["at"]})

    def drop_after(self, cid: str, cutoff: dt.date, sku: str | None = None) -> None:
        """Remove the customer's order lines (of ``sku``) dated after ``cutoff``."""
        rows = self.orders(cid)
        gone = [r for r in rows if r["at"] > cutoff and (sku is None or r["sku"] == sku)]
        self.touched |= {(cid, str(r["sku"])) for r in gone}
        self.rows[cid] = [r for r in rows if not (r["at"] > cutoff and (sku is None or r["sku"] == sku))]

    def buy(self, cid: str, sku: str, day: dt.date) -> None:
        """Add an order of ``sku`` on ``day`` at the customer's usual price and quantity (one line, a new order)."""
        rows = self.orders(cid)
        if any(r["at"] == day and r["sku"] == sku for r in rows):
            return
        own = [r for r in rows if r["sku"] == sku]
        p = self.product[sku]
        price = float(own[-1]["unit_price"]) if own else round(p.list_price * 0.9, 2)
        qty = float(statistics.median(float(r["qty"]) for r in own)) if own else 10.0
        self.order_no += 1
        price = round(price * float(self.w.rng.lognormal(0.0, 0.01)), 2)
        order_id = f"SO-{self.code}-{self.order_no:08d}"
        rows.append({"customer_id": cid, "sku": sku, "order_id": order_id, "line": 1, "at": day, "qty": qty,
                     "unit_price": price})  # fmt: skip
        self.touched.add((cid, sku))

    # ---- interactions
    def say(self, cid: str, at: dt.datetime, channel: str, summary: str, step: str, skus: list[str],
            *, objection: bool) -> str:  # fmt: skip
        """Add an interaction of the customer's rep; returns its id."""
        iid = f"I-{self.code}-{len(self.talk) + 1:06d}"
        self.talk.append(InteractionDraft(iid, at, channel, summary, step, self.owner[cid].id, cid, skus, objection))
        self.latest_talk[cid] = max(at, self.latest_talk.get(cid, at))
        return iid

    def when(self, days_before: int) -> dt.datetime:
        """A time during working hours ``days_before`` days before the date."""
        day = self.as_of - dt.timedelta(days=days_before)
        return dt.datetime.combine(day, dt.time(self.w.n(9, 17), self.w.n(0, 59)))

    def finish(self) -> None:
        """Write the changed order lines back (the table stays sorted by date)."""
        if not self.rows:
            return
        p = self.tables["Purchased"]
        keep = p.filter(pc.invert(pc.is_in(p.column("customer_id"), pa.array(sorted(self.rows)))))
        new = [r for cid in sorted(self.rows) for r in self.rows[cid]]
        added = pa.Table.from_pylist(new, schema=p.schema)
        self.tables["Purchased"] = pa.concat_tables([keep, added]).sort_by(
            [("at", "ascending"), ("customer_id", "ascending"), ("order_id", "ascending"), ("line", "ascending")]
        )


def _max_suffix(ids: pa.ChunkedArray) -> int:
    return max((int(str(s).rsplit("-", 1)[1]) for s in ids.to_pylist()), default=0)


def _contact(w: Writer, c: Customer) -> str:
    role = w.one(CONTACT_ROLES[c.type])
    return f"{person_name(w.rng, young=False)[0]}{ROLE_SUFFIX.get(role, '老师')}（{role}）"


def _median_gap(days: list[dt.date]) -> float:
    return float(statistics.median((b - a).days for a, b in zip(days, days[1:], strict=False)))


# ---------------------------------------------------------------- orders: silent customers, drops, refills


def plant_silent(pl: Planting) -> None:
    """Customers whose orders stop for 2.2–3.5× their usual interval; near misses stop for about 1.1×."""
    todo = [("pos", PLANTED), ("near", 5)]
    for kind, n in todo:
        for cid in pl.pick("silent_customer"):
            if n == 0:
                break
            days = pl.dates(cid)
            if len(days) < 12:
                continue
            usual = _median_gap(days)
            factor = pl.w.num(2.2, 3.5, 2) if kind == "pos" else 1.1
            cut = pl.as_of - dt.timedelta(days=math.ceil(factor * usual))
            left = [d for d in days if d <= cut]
            if len(left) < 6:
                continue
            ratio = (pl.as_of - left[-1]).days / _median_gap(left)
            if (kind == "pos" and ratio <= 1.8) or (kind == "near" and not 0.9 <= ratio <= 1.3):
                continue
            pl.drop_after(cid, cut)
            pl.take("silent_customer", cid)
            (pl.expected if kind == "pos" else pl.near).append(("silent_customer", cid, "", ""))
            n -= 1


def _regular_skus(pl: Planting, cid: str, min_dates: int, chronic: bool | None) -> list[str]:
    by: dict[str, int] = defaultdict(int)
    for d in {(r["sku"], r["at"]) for r in pl.orders(cid)}:
        if d[1] >= pl.as_of - dt.timedelta(days=365):
            by[str(d[0])] += 1
    out = [s for s, k in sorted(by.items()) if k >= min_dates and (chronic is None or (s in pl.chronic) == chronic)]
    return [out[i] for i in pl.w.rng.permutation(len(out)).tolist()]


def plant_basket_drop(pl: Planting) -> None:
    """A regular SKU (not chronic) that stops for 2–3× its re-order interval; near misses stop for about 1.1×."""
    for kind, n in (("pos", PLANTED), ("near", 5)):
        for cid in pl.pick("basket_drop"):
            if n == 0:
                break
            days = pl.dates(cid)
            if pl.busy(cid) or len(days) < 12:
                continue
            if (pl.as_of - days[-1]).days > 1.2 * _median_gap(days):  # near silent: basket drops are not reported
                continue
            for sku in _regular_skus(pl, cid, 6, chronic=False):
                interval = max(21.0, _median_gap(pl.dates(cid, sku)))
                factor = pl.w.num(2.0, 3.0, 2) if kind == "pos" else 1.1
                cut = pl.as_of - dt.timedelta(days=math.ceil(factor * interval))
                left = [d for d in pl.dates(cid, sku) if d <= cut]
                if len(left) < 3:
                    continue
                ratio = (pl.as_of - left[-1]).days / max(21.0, _median_gap(left))
                if (kind == "pos" and ratio <= 1.8) or (kind == "near" and not 0.9 <= ratio <= 1.3):
                    continue
                lo = pl.as_of - dt.timedelta(days=365)
                rest = sorted(
                    {r["at"] for r in pl.orders(cid) if r["at"] >= lo and not (r["sku"] == sku and r["at"] > cut)}
                )
                if (pl.as_of - rest[-1]).days > 1.2 * _median_gap(rest):
                    continue
                pl.drop_after(cid, cut, sku)
                pl.take("basket_drop", cid)
                (pl.expected if kind == "pos" else pl.near).append(("basket_drop", cid, sku, ""))
                n -= 1
                break


def _monthly(pl: Planting, cid: str, sku: str, last: dt.date, months: int, *, clear: bool = False) -> None:
    """Make ``cid`` buy ``sku`` once in each of ``months`` calendar months ending with ``last``'s, last on ``last``."""
    if clear:
        pl.drop_after(cid, dt.date.min, sku)
    else:
        pl.drop_after(cid, last, sku)
    day = pl.w.n(3, 25)
    pl.buy(cid, sku, last)
    y, m = last.year, last.month
    for _ in range(months - 1):
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        pl.buy(cid, sku, dt.date(y, m, min(day, 28)))


def plant_refill(pl: Planting) -> None:
    """Monthly buyers of a chronic SKU whose last purchase is 45–90 days old; near misses around each boundary."""
    plans = [("pos", PLANTED, (45, 90), True, 4), ("recent", 4, (15, 24), True, 4), ("old", 3, (125, 160), True, 4),
             ("not_chronic", 3, (50, 80), False, 4), ("two_months", 3, (50, 80), True, 2)]  # fmt: skip
    for kind, n, (lo, hi), chronic, months in plans:
        for cid in pl.pick("refill_gap"):
            if n == 0:
                break
            if pl.busy(cid) or not pl.dates(cid):
                continue
            skus = _regular_skus(pl, cid, 1, chronic=chronic)
            skus = [s for s in skus if (cid, s) not in pl.touched]
            if not skus:
                continue
            sku = skus[0]
            last = pl.as_of - dt.timedelta(days=pl.w.n(lo, hi))
            _monthly(pl, cid, sku, last, months + pl.w.n(0, 2) if kind != "two_months" else 2,
                     clear=kind == "two_months")  # fmt: skip
            pl.take("refill_gap", cid)
            (pl.expected if kind == "pos" else pl.near).append(("refill_gap", cid, sku, ""))
            n -= 1


# ---------------------------------------------------------------- contracts


def plant_contracts(pl: Planting) -> None:
    """Contracts ending within 7 / 30 / 90 days; near misses: renewed, ending in 110–150 days, already ended."""
    k, kw = pl.tables["Contract"], pl.tables["ContractWith"]
    rows = k.to_pylist()
    owner = dict(zip(kw.column("contract_id").to_pylist(), kw.column("customer_id").to_pylist(), strict=True))
    holders = set(owner.values())
    number = _max_suffix(k.column("id"))
    new: list[tuple[Row, str]] = []

    def add(cid: str, start: dt.date, end: dt.date, value: float) -> str:
        nonlocal number
        number += 1
        kid = f"CT-{pl.code}-{number:05d}"
        new.append(({"id": kid, "start_date": start, "end_date": end, "value": round(value, -3)}, cid))
        return kid

    free = (c for c in pl.pick("contract_ending") if c not in holders)
    buckets = [(1, 6, "7"), (9, 28, "30"), (33, 88, "90")]
    for i in range(PLANTED):
        cid = next(free)
        lo, hi, window = buckets[i % 3]
        end = pl.as_of + dt.timedelta(days=pl.w.n(lo, hi))
        kid = add(cid, end - dt.timedelta(days=364), end, pl.w.num(50_000, 900_000))
        pl.take("contract_ending", cid)
        pl.expected.append(("contract_ending", cid, kid, window))
    for lo, hi in ((110, 150), (-20, -3)):
        for _ in range(3):
            cid = next(free)
            end = pl.as_of + dt.timedelta(days=pl.w.n(lo, hi))
            kid = add(cid, end - dt.timedelta(days=364), end, pl.w.num(50_000, 900_000))
            pl.take("contract_ending", cid)
            pl.near.append(("contract_ending", cid, kid, ""))
    # renewals of contracts ending soon: signed to start the day after (or a little before) → no task;
    # a successor starting 10–30 days after the end leaves a gap → still a task
    taken = pl.used["contract_ending"]
    ending = [r for r in rows if 0 <= (r["end_date"] - pl.as_of).days <= 90 and owner[r["id"]] not in taken]
    ending = [r for r in ending if sum(1 for o in owner.values() if o == owner[r["id"]]) == 1]
    for i, r in enumerate(ending[:8]):
        cid = owner[r["id"]]
        gap = pl.w.n(10, 30) if i >= 5 else -pl.w.n(0, 20) if i % 2 else 1
        start = r["end_date"] + dt.timedelta(days=gap)
        add(cid, start, start + dt.timedelta(days=364), float(r["value"]) * 1.05)
        pl.take("contract_ending", cid)
        days = (r["end_date"] - pl.as_of).days
        bucket = str(next(w for w in (7, 30, 90) if days <= w))
        if gap > 1:
            pl.expected.append(("contract_ending", cid, r["id"], bucket))
        else:
            pl.near.append(("contract_ending", cid, r["id"], bucket))
    rows += [r for r, _ in new]
    pl.tables["Contract"] = pa.Table.from_pylist(rows, schema=k.schema)
    pl.tables["ContractWith"] = pa.concat_tables(
        [kw, pa.table({"contract_id": [r["id"] for r, _ in new], "customer_id": [c for _, c in new]})]
    )


# ---------------------------------------------------------------- deals


def plant_deals(pl: Planting) -> None:
    """Open deals with an abnormally priced quote line; near misses: closed deals with one, open deals without."""
    d, f, q = pl.tables["Deal"], pl.tables["DealFor"], pl.tables["Quotes"]
    number = _max_suffix(d.column("id"))
    deals: list[Row] = []
    fors: list[tuple[str, str]] = []
    quotes: list[Row] = []
    stages = ("qualification", "quote", "negotiation", "contract")
    plans = [("open", 12), ("empty", 4), ("closed", 5), ("normal", 4)]
    for kind, n in plans:
        for cid in pl.pick("price_flag_open_deal"):
            if n == 0:
                break
            last: dict[str, Row] = {}
            for r in pl.orders(cid):
                last[str(r["sku"])] = r
            if len(last) < 3:
                continue
            number += 1
            did = f"DL-{pl.code}-{number:05d}"
            closed = kind == "closed"
            age = pl.w.n(110, 240) if closed else pl.w.n(3, 80)
            outcome = pl.w.one(["won", "lost"]) if closed else None if kind == "empty" else "open"
            deals.append({"id": did, "stage": "closed" if closed else pl.w.one(stages),
                          "created_at": pl.as_of - dt.timedelta(days=age), "outcome": outcome})  # fmt: skip
            fors.append((did, cid))
            skus = sorted(last)
            picked = [skus[i] for i in pl.w.rng.choice(len(skus), size=min(len(skus), pl.w.n(2, 4)), replace=False)]
            odd = -1 if kind == "normal" else pl.w.n(0, len(picked) - 1)
            for j, sku in enumerate(picked):
                price = float(last[sku]["unit_price"]) * float(pl.w.rng.lognormal(0.0, 0.015))
                if j == odd:
                    low = pl.w.rng.random() < 0.6
                    price *= pl.w.num(0.5, 0.72, 3) if low else pl.w.num(1.3, 1.7, 3)
                    pl.anomalies.append((did, sku, "too_low" if low else "too_high"))
                qty = float(max(1, round(float(last[sku]["qty"]) * 4 * float(pl.w.rng.lognormal(0.0, 0.3)))))
                quotes.append({"deal_id": did, "sku": sku, "unit_price": round(price, 2), "qty": qty})
            pl.take("price_flag_open_deal", cid)
            (pl.expected if kind in ("open", "empty") else pl.near).append(("price_flag_open_deal", cid, did, ""))
            n -= 1
    pl.tables["Deal"] = pa.concat_tables([d, pa.Table.from_pylist(deals, schema=d.schema)])
    pl.tables["DealFor"] = pa.concat_tables(
        [f, pa.table({"deal_id": [x[0] for x in fors], "customer_id": [x[1] for x in fors]})]
    )
    pl.tables["Quotes"] = pa.concat_tables([q, pa.Table.from_pylist(quotes, schema=q.schema)])


# ---------------------------------------------------------------- interactions


def _product(pl: Planting, cid: str) -> ProductFacts:
    skus = sorted({str(r["sku"]) for r in pl.orders(cid)})
    return pl.product[pl.w.one(skus)] if skus else pl.w.one(pl.catalog)


def objection_note(pl: Planting, cid: str) -> tuple[str, str, list[str]]:
    """A rep's note of a visit where the customer raised an objection, the agreed next step, the SKUs named."""
    c, w = pl.by_id[cid], pl.w
    p = _product(pl, cid)
    who = _contact(w, c)
    comp = pl.comps.get(p.sku)
    rival = "同类产品"
    if comp:
        other = comp[w.n(0, len(comp) - 1)]
        rival = other.name.split(" ")[0]
        if rival in (p.short, p.name, p.generic_name) or p.short in rival:
            rival = company_short(other.company) + rival  # the same generic from another maker
    clinical = c.type in ("hospital", "clinic")
    buyer = "患者" if clinical else "顾客"
    doubter = w.one(["科室主任", "药剂科", "临床医生"] if clinical else ["坐堂医生", "执业药师", "店长"])
    opener = w.one([f"到{c.short}拜访{who}", f"电话联系{who}", f"{who}微信反馈", f"上门拜访{c.short}的{who}"])
    notes = [
        (
            f"对方直言{p.short}进价比{rival}高出不少，下季度拿不到更低的供货价就减少进货",
            "三天内提交特价申请（附竞品价格证据），周五前回复对方",
        ),
        (
            f"对方认为{p.short}价格偏高，患者嫌贵，要求给到更大的折扣",
            f"核算{p.short}阶梯返利方案，下周面谈",
        ),
        (
            f"反映近期有{buyer}刷医保卡购买{p.short}时提示超限定支付范围，只能自费，已有两起投诉",
            f"本周内发送{p.short}医保支付范围说明并协助核对对码",
        ),
        (
            f"对方提到{p.short}新版医保目录的报销限制让医生开方有顾虑，担心被医保扣款",
            f"整理{p.short}医保目录条款一页纸，约科室主任解读",
        ),
        (
            f"{doubter}认为{p.short}对部分{p.indications[0]}患者效果不如预期，倾向改用{rival}",
            f"安排医学部提供{p.short}循证资料，两周内组织病例分享",
        ),
        (
            f"有患者服用{p.short}后出现{symptom(p)}，对方对继续推荐有顾虑",
            "当天提交药物警戒上报，三天内回访并提供说明书安全性资料",
        ),
        (
            f"对方抱怨上月{p.short}到货晚了一周，门店断货多日，要求先保证供应再谈上量",
            "协调仓库确认下批到货时间，明天回复对方",
        ),
        (
            f"采购提出现行{w.one(['30', '45'])}天账期资金压力大，要求延长到{w.one(['60', '90'])}天，否则下月订单减半",
            "提交账期调整申请至财务审批，一周内答复",
        ),
        (
            f"对方表示已长期使用{rival}，暂无更换打算，对{p.short}兴趣不大",
            f"下周带{p.short}与{rival}的对比资料再次拜访",
        ),
        (
            f"担心{p.short}集采落地后价格下调，库存跌价损失无人承担，暂缓大批量进货",
            "确认集采执行时间和差价补偿政策后回复对方",
        ),
    ]
    if not p.nrdl_2024_restriction:  # no restriction to exceed
        notes = [n for n in notes if "超限定支付范围" not in n[0]]
    if p.formulary_change not in ("restriction", "removed", "added"):  # the new list changed nothing for it
        notes = [n for n in notes if "新版医保目录" not in n[0]]
    if p.generic_name not in VBP_GENERICS:  # no volume-based procurement for it
        notes = [n for n in notes if "集采" not in n[0]]
    objection, step = w.one(notes)
    return f"{opener}；{objection}。", step, [p.sku]


def neutral_note(pl: Planting, cid: str, *, in_passing: bool = False) -> tuple[str, list[str]]:
    """A note of a visit without an objection; with ``in_passing`` one that mentions price or the formulary."""
    c, w = pl.by_id[cid], pl.w
    p = _product(pl, cid)
    who = _contact(w, c)
    staff = "科室学习" if c.type in ("hospital", "clinic") else "店员培训"
    note = w.one([
        f"例行拜访{c.short}，与{who}核对{p.short}月度订单，对方对价格和供货均无异议，按计划下单",
        f"向{who}介绍{p.short}医保支付标准更新，对方表示清楚，已安排{staff}",
    ] + ([] if in_passing else [
        f"与{who}复盘{p.short}近三个月动销，月销量稳定，库存周转正常",
        f"回访{c.short}，{who}确认上次特价申请结果已收到，接受新的供货价，恢复正常订货",
        f"在{c.short}组织{p.short}产品培训会，{w.n(8, 30)}人参加，反馈良好",
    ]))  # fmt: skip
    return f"{note}。", [p.sku]


def plant_objections(pl: Planting) -> None:
    """Objections raised 1–12 days ago with no visit since; near misses: answered later, too old, no objection."""
    plans = [("pos", PLANTED), ("answered", 5), ("old", 4), ("neutral", 4)]
    for kind, n in plans:
        for cid in pl.pick("objection_no_followup"):
            if n == 0:
                break
            first = pl.w.n(18, 25) if kind == "old" else pl.w.n(6, 12) if kind == "answered" else pl.w.n(1, 12)
            at = pl.when(first)
            if pl.latest_talk.get(cid, dt.datetime.min) >= at - dt.timedelta(days=1):
                continue
            if kind == "neutral":  # half of them mention price or the formulary without an objection
                summary, skus = neutral_note(pl, cid, in_passing=n % 2 == 0)
                iid = pl.say(cid, at, pl.w.one(["拜访", "电话", "微信"]), summary, "两周后回访动销情况", skus,
                             objection=False)  # fmt: skip
            else:
                summary, step, skus = objection_note(pl, cid)
                iid = pl.say(cid, at, pl.w.one(["拜访", "拜访", "电话", "微信"]), summary, step, skus, objection=True)
            if kind == "answered":
                later, skus2 = neutral_note(pl, cid)
                pl.say(cid, pl.when(pl.w.n(1, first - 2)), "拜访", later, "两周后回访动销情况", skus2, objection=False)
            if kind == "old":
                pl.expected.append(("followup_overdue", cid, iid, ""))
            pl.take("objection_no_followup", cid)
            (pl.expected if kind == "pos" else pl.near).append(("objection_no_followup", cid, iid, ""))
            n -= 1


FOLLOW_STEPS = (
    "整理{p}医保政策一页纸发给对方",
    "约采购负责人面谈{p}年度协议",
    "跟进上月订单回款，月底前确认到账",
    "三周后回访{p}动销情况",
)
PHARMACY_STEPS = ("下周提交{p}季度促销方案", "安排{p}店员培训，确定培训日期", "确认{p}端架陈列位置并拍照回传")
CLINICAL_STEPS = ("两周内安排科室会，讲解{p}最新指南", "提交{p}进院申请材料，跟进药事会排期")


def _step(pl: Planting, cid: str, sku: str) -> str:
    clinical = pl.by_id[cid].type in ("hospital", "clinic")
    return pl.w.one(FOLLOW_STEPS + (CLINICAL_STEPS if clinical else PHARMACY_STEPS)).format(p=pl.product[sku].short)


def plant_followups(pl: Planting) -> None:
    """Next steps agreed 18–60 days ago with no visit since; near misses: visited since, no step, not yet due."""
    plans = [("pos", PLANTED), ("visited", 5), ("no_step", 4), ("not_due", 4), ("two", 3)]
    for kind, n in plans:
        for cid in pl.pick("followup_overdue"):
            if n == 0:
                break
            if cid in pl.used["objection_no_followup"]:
                continue
            first = (
                pl.w.n(6, 10) if kind == "not_due" else pl.w.n(25, 60) if kind in ("visited", "two") else pl.w.n(18, 60)
            )
            at = pl.when(first)
            if pl.latest_talk.get(cid, dt.datetime.min) >= at - dt.timedelta(days=1):
                continue
            summary, skus = neutral_note(pl, cid)
            p = pl.product[skus[0]]
            step = "" if kind == "no_step" else _step(pl, cid, p.sku)
            iid = pl.say(cid, at, pl.w.one(["拜访", "电话", "会议"]), summary, step, skus, objection=False)
            if kind == "visited":
                later, skus2 = neutral_note(pl, cid)
                pl.say(cid, pl.when(pl.w.n(2, 8)), "拜访", later, "下月初回访", skus2, objection=False)
            if kind == "two":
                later, skus2 = neutral_note(pl, cid)
                step2 = _step(pl, cid, skus2[0])
                second = pl.say(cid, pl.when(pl.w.n(15, first - 3)), "电话", later, step2, skus2, objection=False)
                pl.expected.append(("followup_overdue", cid, second, ""))
            pl.take("followup_overdue", cid)
            (pl.expected if kind == "pos" else pl.near).append(("followup_overdue", cid, iid, ""))
            n -= 1


def plant_formulary(pl: Planting) -> None:
    """First orders of a SKU whose formulary status changed: 20–170 days ago, and (near misses) 200–300 days ago.

    When no edition takes effect within ``[D − 90, D + 60]``, the recent ones are near misses too (nothing changed
    around ``D``); the SKUs are then those the latest edition changed.
    """
    editions = sorted(pl.tables["FormularyEdition"].to_pylist(), key=lambda e: (e["effective_date"], e["id"]))
    live = changed_skus(pl.tables, pl.as_of)
    latest = {e["id"]: e for e in editions}
    skus = sorted(live or changed_skus(pl.tables, latest[editions[-1]["id"]]["effective_date"]))
    if not skus:
        return
    for kind, n, (lo, hi) in (("pos", PLANTED, (20, 170)), ("near", 5, (200, 300))):
        for cid in pl.pick("formulary_change"):
            if n == 0:
                break
            bought = {r["sku"] for r in pl.orders(cid)}
            fresh = [x for x in skus if x not in bought]
            if pl.busy(cid) or not bought or not fresh:
                continue
            sku = pl.w.one(fresh)
            pl.buy(cid, sku, pl.as_of - dt.timedelta(days=pl.w.n(lo, hi)))
            pl.take("formulary_change", cid)
            (pl.expected if kind == "pos" and live else pl.near).append(("formulary_change", cid, sku, ""))
            n -= 1


def _rows_of(pl: Planting, cid: str, index: dict[str, dict[str, list[Any]]]) -> tuple[list[Any], ...]:
    """The customer's orders, contracts, deals and interactions in the shapes ``task_truth.tiers`` takes."""
    orders = [(r["at"], r["sku"], r["qty"] * r["unit_price"]) for r in pl.orders(cid)]
    return orders, index["contracts"].get(cid, []), index["deals"].get(cid, []), index["talks"].get(cid, [])


def _index(pl: Planting) -> dict[str, dict[str, list[Any]]]:
    """Contracts, deals and interactions per customer, read once."""
    out: dict[str, dict[str, list[Any]]] = {"contracts": defaultdict(list), "deals": defaultdict(list),
                                            "talks": defaultdict(list)}  # fmt: skip
    kw = pl.tables["ContractWith"]
    holder = dict(zip(kw.column("contract_id").to_pylist(), kw.column("customer_id").to_pylist(), strict=True))
    for r in pl.tables["Contract"].to_pylist():
        out["contracts"][holder[r["id"]]].append((r["id"], r["start_date"], r["end_date"]))
    f = pl.tables["DealFor"]
    buyer = dict(zip(f.column("deal_id").to_pylist(), f.column("customer_id").to_pylist(), strict=True))
    for r in pl.tables["Deal"].to_pylist():
        out["deals"][buyer[r["id"]]].append((r["id"], r["created_at"], r["outcome"]))
    for x in pl.talk:
        out["talks"][x.customer_id].append((x.at, x.id, x.next_step))
    return out


def plant_health(pl: Planting) -> None:
    """Customers whose health score moves them into a strategy tier within the last 30 days.

    VIP: a deal won in the last three weeks and a visit this week lift a 70–85 customer past 85; 教育: a contract
    ending within a week (the score's renewal penalty) drops a 66–85 customer into 45–65; 挽留: no order for 100 days
    drops a customer below 30. A candidate is kept only when the planned change gives the move (checked with the
    label code's score); customers with a role in another trigger are left alone, so that their labels stay as
    planted.
    """
    others = set().union(*(v for k, v in pl.used.items() if k != "health_tier"))
    want = {"VIP": 6, "教育": 6, "挽留": 6}
    deal_no = _max_suffix(pl.tables["Deal"].column("id"))
    contract_no = _max_suffix(pl.tables["Contract"].column("id"))
    index = _index(pl)
    for cid in pl.pick("health_tier"):
        if cid in others or not any(want.values()):
            continue
        orders, contracts, deals, talks = _rows_of(pl, cid, index)
        if not orders:
            continue
        open_targets = [t for t, n in want.items() if n > 0]
        for k in pl.w.rng.permutation(len(open_targets)).tolist():  # the first move this customer can make
            target = open_targets[k]
            did = f"DL-{pl.code}-{deal_no + 1:05d}"
            won = pl.as_of - dt.timedelta(days=pl.w.n(3, 20))
            visit = pl.when(pl.w.n(1, 5))
            end = pl.as_of + dt.timedelta(days=pl.w.n(1, 6))
            kid = f"CT-{pl.code}-{contract_no + 1:05d}"
            cut = pl.as_of - dt.timedelta(days=100)
            if target == "VIP":
                plan = (orders, contracts, [*deals, (did, won, "won")], [*talks, (visit, "new", "下月初回访")])
            elif target == "教育":
                plan = (orders, [(kid, end - dt.timedelta(days=364), end)], deals, talks)
            else:
                plan = ([o for o in orders if o[0] <= cut], contracts, deals, talks)
            then, now = tiers(*plan, pl.as_of)
            if now == target and then != target and not (target == "教育" and contracts):
                break
        else:
            continue
        if target == "VIP":
            deal_no += 1
            pl.tables["Deal"] = pa.concat_tables(
                [
                    pl.tables["Deal"],
                    pa.Table.from_pylist(
                        [{"id": did, "stage": "closed", "created_at": won, "outcome": "won"}],
                        schema=pl.tables["Deal"].schema,
                    ),
                ]
            )
            pl.tables["DealFor"] = pa.concat_tables(
                [pl.tables["DealFor"], pa.table({"deal_id": [did], "customer_id": [cid]})]
            )
            summary, skus = neutral_note(pl, cid)
            pl.say(cid, visit, "拜访", summary, "下月初回访", skus, objection=False)
        elif target == "教育":
            contract_no += 1
            pl.tables["Contract"] = pa.concat_tables(
                [
                    pl.tables["Contract"],
                    pa.Table.from_pylist(
                        [{"id": kid, "start_date": end - dt.timedelta(days=364), "end_date": end, "value": 120_000.0}],
                        schema=pl.tables["Contract"].schema,
                    ),
                ]
            )
            pl.tables["ContractWith"] = pa.concat_tables(
                [pl.tables["ContractWith"], pa.table({"contract_id": [kid], "customer_id": [cid]})]
            )
        else:
            pl.drop_after(cid, cut)
        pl.take("health_tier", cid)
        pl.expected.append(("health_tier", cid, target, ""))
        want[target] -= 1


def plant(pl: Planting) -> None:
    """Plant every trigger's situations, in a fixed order (each draws from the planting's own random stream)."""
    plant_silent(pl)
    plant_basket_drop(pl)
    plant_refill(pl)
    plant_contracts(pl)
    plant_deals(pl)
    plant_objections(pl)
    plant_followups(pl)
    plant_formulary(pl)
    plant_health(pl)
    pl.finish()


def regap(
    gaps: list[tuple[str, str]], purchased: pa.Table, touched: set[tuple[str, str]], as_of: dt.date
) -> list[tuple[str, str]]:
    """``purchase_gaps`` with the pairs whose orders the planting changed re-judged from their observed orders."""
    keep = [g for g in gaps if g not in touched]
    if not touched:
        return keep
    mask = pc.is_in(purchased.column("customer_id"), pa.array(sorted({c for c, _ in touched})))
    sub = purchased.filter(mask)
    days: dict[tuple[str, str], set[dt.date]] = defaultdict(set)
    for c, s, at in zip(*(sub.column(n).to_pylist() for n in ("customer_id", "sku", "at")), strict=True):
        if (c, s) in touched:
            days[(c, s)].add(at)
    for pair in sorted(days):
        ds = sorted(days[pair])
        if len(ds) >= 3 and (as_of - ds[-1]).days > max(1.5 * _median_gap(ds), 21.0):
            keep.append(pair)
    order = {g: i for i, g in enumerate(gaps)}
    return sorted(keep, key=lambda g: (order.get(g, len(order)), g))
