"""Visit briefing pack: everything a rep needs before visiting a customer, assembled from the graph in a few reads.

Every fact carries the id of the node it comes from, so a person (or an LLM rewrite) can trace it. Text is
deterministic and extractive.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from copilot.competitor_prices import CompetitorPriceBook, Sighting
from copilot.formulary_impact import Change, edition_changes, latest_editions
from copilot.safety import SAFETY_ACTION, SAFETY_STATUS_NAMES, interaction_report_id
from graph.model import CUSTOMER_TYPE_NAMES, Entry, Interaction, Product, SafetyReport
from graph.ports import CustomerContext, GraphStore
from pricing_guard.guard import QuoteLine, check_quote
from pricing_guard.index import PriceIndex

HISTORY_DAYS = 365
"""Purchases of the last year are read (re-order intervals, what the customer buys)."""
RECENT_INTERACTIONS = 5
NEXT_STEP_INTERACTIONS = 10
"""Open next steps are taken from this many latest interactions."""
DOCTORS = 8
DOCTOR_PREFERENCES = 3
"""Products named per doctor (in name order, no figures) and per aggregated group (largest volume first)."""
DOCTOR_NOTES = 2
"""Clauses of recent visit notes shown per doctor (what the doctor is interested in)."""
MIN_DOCTORS_PER_FIGURE = 3
"""A prescription figure covers at least this many doctors (统方: no figure may single out a doctor)."""
MIN_ORDER_DAYS = 3
"""Distinct order days a SKU needs before its usual re-order interval counts."""
OVERDUE_FACTOR = 1.5
"""A SKU is overdue when the days since its last order pass this many usual intervals."""
PEER_SHARE = 0.5
"""A SKU that at least this share of the customer's peers (same type and region) buys is a gap if it does not."""
MIN_PEERS = 5
"""Fewer peers than this say nothing about what the customer is missing."""
PEER_GAPS = 5
SCRIPT_SKUS = 6
"""Objection scripts and cases are looked for about this many of the customer's latest products."""
CASES = 3
CONTRACT_WINDOWS = (7, 30, 90)
"""Contracts ending within the last window are listed, each with the smallest window it falls in."""
URGENT_CONTRACT_DAYS = 30
"""A contract ending within this many days is an urgent fact (the 7-day ones first)."""
FOLLOW_UP_DAYS = 14
"""A next step agreed this many days ago or more, with no visit since, is an overdue follow-up."""
CONTRACT_PENALTY = ((7, 20), (30, 10))
"""Health points lost for the nearest contract ending within each window (days, points) with no renewal."""
FOLLOW_UP_PENALTY = 3
FOLLOW_UP_PENALTY_MAX = 15
"""Health points lost per overdue follow-up, and at most."""
URGENT_PER_KIND = 3
"""Follow-ups and formulary changes named one by one among the urgent facts; the rest are counted in one line."""
KEY_SENTENCE_CHARS = 70
"""Length of a script's or case's key sentence in the pack."""
HEALTH_TIERS = ((70, "健康"), (40, "关注"))
"""Score at or above which each tier applies; below the last one: 风险."""


class Factor(BaseModel):
    """One input of the health score and its contribution."""

    name: str
    value: str
    points: int


class Health(BaseModel):
    """Customer health: 0–100, a tier and the factors behind it."""

    score: int = Field(ge=0, le=100)
    tier: str = Field(description="健康 / 关注 / 风险")
    factors: list[Factor]


class Gap(BaseModel):
    """A product the customer is due to re-order, or that similar customers buy and this one does not."""

    sku: str
    name: str
    kind: str = Field(description="overdue (usual re-order interval passed) or peers_buy")
    detail: str


class Fact(BaseModel):
    """A line of the pack with the node it comes from."""

    node_id: str
    text: str


class BriefingPack(BaseModel):
    """The visit briefing: JSON for programs, rendered to Markdown and PDF for people."""

    tenant: str
    customer_id: str
    as_of: dt.date
    urgent: list[Fact] = Field(
        default_factory=list,
        description="Act first: open drug-safety reports on this customer's visits, contracts ending within 7 / 30 "
        "days, price flags on open deals, overdue follow-ups, formulary changes on what the customer buys — most "
        "urgent first.",
    )
    profile: list[Fact]
    health: Health
    interactions: list[Fact]
    open_next_steps: list[Fact]
    doctors: list[Fact] = Field(description="Doctors' therapeutic preferences and interests, in words (no figures).")
    prescription_summary: list[Fact] = Field(
        default_factory=list,
        description="Prescription volumes per department and for the customer, each over at least 3 doctors (统方).",
    )
    purchase_gaps: list[Gap]
    formulary_changes: list[Change]
    likely_objections: list[Fact]
    matching_cases: list[Fact]
    contracts_ending: list[Fact]
    open_deals: list[Fact]
    competitor_prices: list[Fact] = Field(
        default_factory=list, description="Competitor prices seen near the customer in the last 30 days (photos)."
    )


def _intervals(dates: list[dt.date]) -> float | None:
    days = sorted(set(dates))
    if len(days) < MIN_ORDER_DAYS:
        return None
    return float(statistics.median((b - a).days for a, b in zip(days, days[1:], strict=False)))


def _days_points(days: int | None, steps: tuple[tuple[int, int], ...]) -> int:
    """Points for a number of days: those of the first ``(limit, points)`` step it is within, else 0."""
    return next((points for limit, points in steps if days is not None and days <= limit), 0)


def _health(ctx: CustomerContext, today: dt.date) -> Health:
    return health_of(ctx, today, purchase_summary([(p.at, p.qty * p.unit_price) for p in ctx.purchases], today))


@dataclass(frozen=True)
class PurchaseSummary:
    """What the health score reads of the purchases as of a day.

    The last order date, the spend of the last 90 days and of the 90 days before.
    """

    last: dt.date | None
    recent: float
    before: float


def purchase_summary(purchases: Sequence[tuple[dt.date, float]], today: dt.date) -> PurchaseSummary:
    """The summary of (date, amount) order lines dated up to ``today``."""
    return PurchaseSummary(
        max((at for at, _ in purchases), default=None),
        sum(amount for at, amount in purchases if (today - at).days <= 90),
        sum(amount for at, amount in purchases if 90 < (today - at).days <= 180),
    )


def health_of(ctx: CustomerContext, today: dt.date, purchases: PurchaseSummary) -> Health:
    """The customer's health score as of ``today``: the briefing's score, also what the task list's tiers read.

    ``purchases`` summarises the order lines (the task list computes it for hundreds of customers from one columnar
    read, not from the context); for a score as of a past day, everything given is dated up to that day.
    """
    factors = [Factor(name=name, value=value, points=points) for name, value, points in _factors(ctx, today, purchases)]
    score = _clamp(sum(f.points for f in factors))
    tier = next((name for at_least, name in HEALTH_TIERS if score >= at_least), "风险")
    return Health(score=score, tier=tier, factors=factors)


def health_score(ctx: CustomerContext, today: dt.date, purchases: PurchaseSummary) -> int:
    """``health_of(...).score`` without the models: the task list scores hundreds of customers twice per request."""
    return _clamp(sum(points for _, _, points in _factors(ctx, today, purchases)))


def _clamp(points: int) -> int:
    return max(0, min(100, points))


def _factors(ctx: CustomerContext, today: dt.date, purchases: PurchaseSummary) -> list[tuple[str, str, int]]:
    """The score's factors as (name, value, points): the one definition of the health score."""
    factors: list[tuple[str, str, int]] = []
    last = purchases.last
    days = (today - last).days if last else None
    factors.append(("最近采购", f"{days} 天前" if days is not None else "无", _days_points(days, ((30, 30), (90, 15)))))
    recent, before = purchases.recent, purchases.before
    trend = (recent - before) / before if before else 0.0
    factors.append(("近90天采购额环比", f"{trend:+.0%}", 25 if trend >= 0 else 10 if trend > -0.3 else 0))
    seen = max((i.interaction.at.date() for i in ctx.interactions), default=None)
    gap = (today - seen).days if seen else None
    factors.append(("最近拜访", f"{gap} 天前" if gap is not None else "无", _days_points(gap, ((30, 20), (90, 10)))))
    active = [k for k in ctx.contracts if k.start_date <= today <= k.end_date]
    factors.append(("有效合同", str(len(active)), 15 if active else 0))
    won = sum(1 for d in ctx.deals if d.deal.outcome == "won")
    factors.append(("赢单商机", str(won), 10 if won else 0))
    ending = _unrenewed_ending(ctx, today)
    if ending:
        left = min(left for _, left in ending)
        lost = next(points for days, points in CONTRACT_PENALTY if left <= days)
        factors.append(("合同即将到期未续", f"{len(ending)} 份，最近 {left} 天", -lost))
    overdue = len(_overdue_steps(ctx, today))
    if overdue:
        factors.append(("逾期未完成跟进", f"{overdue} 项", -min(FOLLOW_UP_PENALTY_MAX, FOLLOW_UP_PENALTY * overdue)))
    return factors


def _unrenewed_ending(ctx: CustomerContext, today: dt.date) -> list[tuple[str, int]]:
    """Contracts ending within ``URGENT_CONTRACT_DAYS`` with no other contract running on past their end (id, days)."""
    out = []
    for k in ctx.contracts:
        left = (k.end_date - today).days
        renewed = any(o.id != k.id and o.end_date > k.end_date and o.start_date <= k.end_date + dt.timedelta(days=1)
                      for o in ctx.contracts)  # fmt: skip
        if 0 <= left <= URGENT_CONTRACT_DAYS and not renewed:
            out.append((k.id, left))
    return sorted(out, key=lambda x: (x[1], x[0]))


def _overdue_steps(ctx: CustomerContext, today: dt.date) -> list[tuple[Interaction, int, bool]]:
    """Next steps agreed ``FOLLOW_UP_DAYS`` or more ago, as (interaction, days, whether no visit followed it)."""
    latest = max((i.interaction.at.date() for i in ctx.interactions), default=None)
    out = []
    seen: set[str] = set()
    for i in ctx.interactions[:NEXT_STEP_INTERACTIONS]:  # latest first: a step agreed again counts once
        at = i.interaction.at.date()
        days = (today - at).days
        step = " ".join((i.interaction.next_step or "").split())
        if step in seen:
            continue
        seen.add(step)
        if i.interaction.next_step and days >= FOLLOW_UP_DAYS and latest is not None and latest >= at:
            out.append((i.interaction, days, latest == at))
    return out


def _overdue_follow_ups(ctx: CustomerContext, today: dt.date) -> list[Fact]:
    """Next steps agreed ``FOLLOW_UP_DAYS`` or more ago with no visit since: nobody has followed them up."""
    out = []
    for it, days, unfollowed in _overdue_steps(ctx, today):
        # a later visit happened when not ``unfollowed``: the step may be done, but nothing records it
        head = "跟进逾期" if unfollowed else "跟进未确认"
        out.append(Fact(node_id=it.id, text=f"{head} {days} 天：{it.next_step}（{it.at.date():%m-%d} 约定）"))
    return out


def _safety_reports(store: GraphStore, tenant: str, ctx: CustomerContext) -> list[Fact]:
    """Drug-safety reports still open on this customer's visits of the briefing's year: the latest three, then a count.

    A suspected adverse reaction is drug safety's case, not a sales topic: the rep needs to know it is open, its
    report id and what to do on the visit (support the follow-up, no script, no judgement on the cause). The
    reaction's own words stay in the drug-safety queue; the rep's visit record (below) already holds them.
    """
    keys = sorted(interaction_report_id(i.interaction.id) for i in ctx.interactions)
    reports = [r for r in store.nodes_by_keys(tenant, SafetyReport, keys) if r.status != "closed"] if keys else []
    if not reports:
        return []
    reports.sort(key=lambda r: (r.at, r.id), reverse=True)
    shown = reports[:URGENT_PER_KIND]
    names = {p.sku: p.name for p in store.nodes_by_keys(tenant, Product, sorted({s for r in shown for s in r.skus}))}
    facts = [
        Fact(
            node_id=r.id,
            text=f"药物警戒：{r.at:%m-%d} 拜访记录的疑似不良反应"
            + (f"（{'、'.join(names.get(s, s) for s in r.skus)}）" if r.skus else "")
            + f"，报告 {r.id}（{SAFETY_STATUS_NAMES.get(r.status, r.status)}）"
            # what to do is said once, on the latest report: the same paragraph three times is read zero times
            + (f"：{SAFETY_ACTION}" if n == 0 else ""),
        )
        for n, r in enumerate(shown)
    ]
    if len(reports) > len(shown):
        rest = f"药物警戒：另有 {len(reports) - len(shown)} 份疑似不良反应报告未结案（见药物警戒队列）"
        facts.append(Fact(node_id=ctx.customer.id, text=rest))
    return facts


def _urgent(pack: BriefingPack, ctx: CustomerContext, today: dt.date, safety: list[Fact]) -> list[Fact]:
    """The facts to act on first, most urgent first: drug safety, contracts, price flags, follow-ups, formulary."""
    # a suspected adverse reaction first: drug safety's follow-up has reporting deadlines, a sale does not
    facts: list[Fact] = list(safety)
    for kid, left in _unrenewed_ending(ctx, today):
        window = 7 if left <= 7 else 30
        facts.append(Fact(node_id=kid, text=f"合同 {kid} {left} 天后到期（{window} 天内），尚无续约"))
    facts += [f for f in pack.open_deals if "价格提示" in f.text]
    follow = _overdue_follow_ups(ctx, today)
    facts += follow[:URGENT_PER_KIND]
    if len(follow) > URGENT_PER_KIND:
        facts.append(
            Fact(node_id=ctx.customer.id, text=f"另有 {len(follow) - URGENT_PER_KIND} 项跟进未确认（见待办跟进）")
        )
    # removals first: a product leaving the list changes what the customer can sell on the insurance card
    changes = sorted(
        pack.formulary_changes, key=lambda c: (0 if "调出" in c.detail else 1 if "新进入" in c.detail else 2, c.sku)
    )
    facts += [Fact(node_id=c.sku, text=f"医保目录变化：{c.name} {c.detail}") for c in changes[:URGENT_PER_KIND]]
    if len(changes) > URGENT_PER_KIND:
        facts.append(
            Fact(
                node_id=ctx.customer.id,
                text=f"另有 {len(changes) - URGENT_PER_KIND} 个在购产品医保目录有变化（见医保目录变化）",
            )
        )
    return facts


SCRIPT_MARKERS = ("【参考话术】", "参考话术：", "【应对思路】")
CASE_MARKERS = ("【结果】", "结果：", "结果:")
"""Where the key sentence of a script (what to say) and of a case (what it achieved) starts."""


def _key_sentence(body: str, markers: tuple[str, ...], limit: int = KEY_SENTENCE_CHARS) -> str:
    """The sentence a rep needs: after the first of ``markers`` found, else the body's first sentence (cut)."""
    text = " ".join(body.split())
    for marker in markers:
        _, found, rest = text.partition(marker)
        if found and rest.strip():
            sentence = rest.split("【")[0].split("。")[0].strip().lstrip("“").strip()
            break
    else:
        first = text.split("】", 1)[1] if text.startswith("【") and "】" in text else text
        sentence = first.split("【")[0].split("。")[0].strip()
    return (sentence[:limit] + "…") if len(sentence) > limit else sentence + "。"


def _profile(ctx: CustomerContext) -> list[Fact]:
    c = ctx.customer
    return [
        Fact(
            node_id=c.id,
            text=f"{c.name}（{CUSTOMER_TYPE_NAMES.get(c.type, c.type)}，"
            f"{c.city or ''} {c.region or ''}，{c.tier or '-'}级）",
        ),
        Fact(
            node_id=c.id,
            text=f"医保定点：{'是' if c.insurance_designated else '否'}；DTP资质：{'是' if c.dtp_certified else '否'}"
            + (f"；门店 {c.store_count} 家" if c.store_count else ""),
        ),
    ] + [Fact(node_id=r.id, text=f"负责代表：{r.name}（{r.territory or ''}）") for r in ctx.reps]


def _interactions(ctx: CustomerContext) -> list[Fact]:
    return [
        Fact(
            node_id=i.interaction.id,
            text=f"{i.interaction.at:%Y-%m-%d} {i.interaction.channel or ''}：{i.interaction.summary}",
        )
        for i in ctx.interactions[:RECENT_INTERACTIONS]
    ]


def _next_steps(ctx: CustomerContext) -> list[Fact]:
    return [
        Fact(node_id=i.interaction.id, text=f"{i.interaction.at:%m-%d} 约定：{i.interaction.next_step}")
        for i in ctx.interactions[:NEXT_STEP_INTERACTIONS]
        if i.interaction.next_step
    ]


def _doctors(ctx: CustomerContext, name: Mapping[str, str]) -> list[Fact]:
    """Each doctor's therapeutic preferences and interests, in words — never a figure of the doctor's prescribing.

    统方 (collecting doctor-level prescription statistics for sales) is prohibited in China: a doctor's line names the
    products the doctor prefers (declared preferences, in product-name order: no rank by volume) and what recent
    visit notes say about the doctor; figures appear only aggregated (``_prescription_summary``).
    """
    facts = []
    for d in ctx.doctors[:DOCTORS]:
        preferred = sorted({name.get(p.sku, p.sku) for p in d.prescriptions})[:DOCTOR_PREFERENCES]
        text = f"{d.doctor.name}（{d.doctor.department or ''} {d.doctor.title or ''}）"
        text += "治疗偏好：" + ("、".join(preferred) if preferred else "未记录")
        notes = _doctor_notes(ctx, d.doctor.name)
        if notes:
            text += "；近期关注：" + "；".join(notes)
        facts.append(Fact(node_id=d.doctor.id, text=text))
    return facts


def _doctor_notes(ctx: CustomerContext, doctor_name: str) -> list[str]:
    """Clauses of recent visit notes that name the doctor (what the doctor asked about, is interested in)."""
    if len(doctor_name) < 2:
        return []
    out: list[str] = []
    for i in ctx.interactions[:NEXT_STEP_INTERACTIONS]:
        for clause in re.split(r"[；;。\n]", i.interaction.summary):
            if doctor_name in clause and clause.strip() and clause.strip() not in out:
                out.append(clause.strip())
    return out[:DOCTOR_NOTES]


def _prescription_summary(ctx: CustomerContext, name: Mapping[str, str]) -> list[Fact]:
    """Prescription volumes aggregated per department, and for the customer — never per doctor.

    Every figure (a product's volume in a group) sums at least ``MIN_DOCTORS_PER_FIGURE`` doctors: a department of
    one or two prescribers of a product would show those doctors' own figures. Per product, departments too small
    are pooled (其他科室) when the pool is big enough, and the customer's total is left out when the total minus the
    departments shown would single out one or two doctors.
    """
    doctors: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # sku → dept → doctors
    volume: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # sku → dept → volume
    for d in ctx.doctors:
        dept = d.doctor.department or "未注明科室"
        for p in d.prescriptions:
            if p.count:
                doctors[p.sku][dept].add(d.doctor.id)
                volume[p.sku][dept] += p.count
    cells: dict[str, dict[str, tuple[set[str], int]]] = defaultdict(dict)  # group → sku → (doctors, volume)
    total_group = "全院/全店合计"
    for sku, by_dept in doctors.items():
        shown = [dept for dept, docs in by_dept.items() if len(docs) >= MIN_DOCTORS_PER_FIGURE]
        for dept in shown:
            cells[dept][sku] = (by_dept[dept], volume[sku][dept])
        small = [dept for dept in by_dept if dept not in shown]
        rest: set[str] = set().union(*(by_dept[dept] for dept in small)) if small else set()
        if shown and len(rest) >= MIN_DOCTORS_PER_FIGURE:
            cells["其他科室"][sku] = (rest, sum(volume[sku][dept] for dept in small))
        everyone: set[str] = set().union(*by_dept.values())
        rest_exposed = bool(shown) and 0 < len(rest) < MIN_DOCTORS_PER_FIGURE
        same_as_one = len(shown) == 1 and not rest
        if len(everyone) >= MIN_DOCTORS_PER_FIGURE and not rest_exposed and not same_as_one:
            cells[total_group][sku] = (everyone, sum(volume[sku].values()))
    order = [*sorted(g for g in cells if g not in ("其他科室", total_group)), "其他科室", total_group]
    facts = []
    for group in (g for g in order if g in cells):
        node_id = ctx.customer.id if group == total_group else f"{ctx.customer.id}:{group}"
        facts.append(_volume_fact(node_id, group, cells[group], name))
    return facts


def _volume_fact(node_id: str, group: str, cells: Mapping[str, tuple[set[str], int]], name: Mapping[str, str]) -> Fact:
    """One aggregated line: the group, how many doctors it covers, its largest products by volume."""
    covered: set[str] = set().union(*(docs for docs, _ in cells.values()))
    top = sorted(cells.items(), key=lambda kv: (-kv[1][1], kv[0]))[:DOCTOR_PREFERENCES]
    listed = "、".join(f"{name.get(sku, sku)} {n}" for sku, (_, n) in top)
    return Fact(node_id=node_id, text=f"{group}（{len(covered)} 位医生汇总）处方量：{listed}")


def _bought(ctx: CustomerContext) -> dict[str, list[dt.date]]:
    """Order dates per SKU, SKUs in the order of their latest purchase (the context's order)."""
    by_sku: dict[str, list[dt.date]] = defaultdict(list)
    for p in ctx.purchases:
        by_sku[p.sku].append(p.at)
    return by_sku


def _overdue_gaps(bought: Mapping[str, list[dt.date]], today: dt.date, name: Mapping[str, str]) -> list[Gap]:
    gaps = []
    for sku, dates in bought.items():
        interval = _intervals(dates)
        overdue = (today - max(dates)).days
        if interval and overdue > OVERDUE_FACTOR * interval:
            gaps.append(Gap(sku=sku, name=name.get(sku, sku), kind="overdue",
                            detail=f"通常 {interval:.0f} 天补货一次，已 {overdue} 天未采购"))  # fmt: skip
    return gaps


def _peer_shares(index: PriceIndex, customer_id: str, bought: set[str]) -> list[tuple[str, float]]:
    """SKUs that at least ``PEER_SHARE`` of the customer's peers (same type and region) bought and it did not.

    The largest shares first (ties by SKU), at most ``PEER_GAPS``.
    """
    me = index.customer(customer_id)
    if me is None:
        return []
    members, counts = index.segment_buyers(type=me.type, region=me.region)
    peers = len(members) - (customer_id in members)
    if peers < MIN_PEERS:
        return []
    shares = [
        (sku, (n - (customer_id in members and index.bought(customer_id, sku))) / peers)
        for sku, n in counts.items()
        if sku not in bought
    ]
    found = [(sku, share) for sku, share in shares if share >= PEER_SHARE]
    return sorted(found, key=lambda s: (-s[1], s[0]))[:PEER_GAPS]


def _peer_gap(sku: str, share: float, name: Mapping[str, str]) -> Gap:
    return Gap(sku=sku, name=name.get(sku, sku), kind="peers_buy", detail=f"{share:.0%} 的同类同区域客户在采购")


def _formulary_changes(store: GraphStore, tenant: str, bought: Mapping[str, list[dt.date]]) -> list[Change]:
    old, new = latest_editions(store, tenant)
    return edition_changes(store, tenant, old.id if old else None, new.id, skus=set(bought)) if new else []


def _first_entries(store: GraphStore, tenant: str, skus: list[str]) -> dict[tuple[str, str], Entry]:
    """The first (by id) published objection script and case study about each of ``skus``, in one read."""
    first: dict[tuple[str, str], Entry] = {}
    for sku, e in store.entries_about(tenant, skus[:SCRIPT_SKUS], status="published",
                                      kinds=("objection_script", "case_study")):  # fmt: skip
        first.setdefault((sku, e.kind), e)
    return first


def _objections(first: Mapping[tuple[str, str], Entry], skus: list[str], name: Mapping[str, str]) -> list[Fact]:
    """The first published objection script about each of the customer's latest products."""
    facts = []
    for sku in skus[:SCRIPT_SKUS]:
        e = first.get((sku, "objection_script"))
        if e is not None:
            facts.append(
                Fact(node_id=e.id, text=f"{e.title}（{name.get(sku, sku)}）：{_key_sentence(e.body, SCRIPT_MARKERS)}")
            )
    return facts


def _cases(first: Mapping[tuple[str, str], Entry], ctx: CustomerContext, skus: list[str]) -> list[Fact]:
    """The customer's own published cases, then cases about its latest products, ``CASES`` in all."""
    cases = [Fact(node_id=e.id, text=f"{e.title}：{_key_sentence(e.body, CASE_MARKERS)}") for e in ctx.cases
             if e.status == "published"][:CASES]  # fmt: skip
    if len(cases) < CASES:
        for sku in skus[:SCRIPT_SKUS]:
            found = first.get((sku, "case_study"))
            for e in [found] if found is not None else []:
                if e.id not in {f.node_id for f in cases}:
                    cases.append(Fact(node_id=e.id, text=f"{e.title}：{_key_sentence(e.body, CASE_MARKERS)}"))
        cases = cases[:CASES]
    return cases


def _contracts_ending(ctx: CustomerContext, today: dt.date) -> list[Fact]:
    ending = []
    for k in ctx.contracts:
        left = (k.end_date - today).days
        if 0 <= left <= CONTRACT_WINDOWS[-1]:
            window = next(w for w in CONTRACT_WINDOWS if left <= w)
            ending.append(Fact(node_id=k.id, text=f"合同 {k.id} {k.end_date} 到期（{window} 天内，还剩 {left} 天）"))
    return ending


def _open_deals(
    ctx: CustomerContext, price_index: PriceIndex | None, today: dt.date, name: Mapping[str, str]
) -> list[Fact]:
    """Open deals, each with the price flags of its quote lines (when a price index is at hand)."""
    deals = []
    for d in ctx.deals:
        if d.deal.outcome not in (None, "open"):
            continue
        flags = ""
        if price_index is not None and d.quotes:
            lines = [
                QuoteLine(ctx.customer.id, q.sku, q.unit_price, q.qty, today)
                for q in d.quotes
                if price_index.has_product(q.sku)
            ]
            checks = check_quote(price_index, lines, today=today)
            flags = "；".join(f"{name.get(x.line.sku, x.line.sku)} {x.explanation}" for x in checks if x.flagged)
        text = f"商机 {d.deal.id}（{d.deal.stage}）" + (f"：价格提示 {flags}" if flags else "")
        deals.append(Fact(node_id=d.deal.id, text=text))
    return deals


def _product_names(store: GraphStore, tenant: str, ctx: CustomerContext, more: list[str]) -> dict[str, str]:
    """How each product the pack names reads (brand and name), for the SKUs of the context and ``more``."""
    skus = {p.sku for p in ctx.purchases} | set(more)
    skus |= {p.sku for d in ctx.doctors for p in d.prescriptions} | {q.sku for d in ctx.deals for q in d.quotes}
    products = store.nodes_by_keys(tenant, Product, sorted(skus))
    return {p.sku: (p.brand + " " if p.brand else "") + p.name for p in products}


def build_briefing(
    store: GraphStore,
    tenant: str,
    customer_id: str,
    *,
    today: dt.date,
    price_index: PriceIndex | None = None,
    competitors: CompetitorPriceBook | None = None,
    limit: int = 500,
) -> BriefingPack:
    """Assemble the pack for ``customer_id``; raises ``NotFoundError`` for an unknown customer.

    ``competitors`` adds the competitor prices photographed near the customer (its own store managers' photos and
    its city) in the last 30 days, each with its date and the gap to our list price. The store's reads share one
    read transaction (`GraphStore.reading`).
    """
    with store.reading():
        return _build(store, tenant, customer_id, today=today, price_index=price_index, competitors=competitors,
                      limit=limit)  # fmt: skip


def _build(
    store: GraphStore,
    tenant: str,
    customer_id: str,
    *,
    today: dt.date,
    price_index: PriceIndex | None,
    competitors: CompetitorPriceBook | None,
    limit: int,
) -> BriefingPack:
    ctx = store.customer_context(tenant, customer_id, since=today - dt.timedelta(days=HISTORY_DAYS), limit=limit)
    bought = _bought(ctx)
    peer = _peer_shares(price_index, ctx.customer.id, set(bought)) if price_index is not None else []
    seen = (
        competitors.near(city=ctx.customer.city, customer_id=ctx.customer.id, today=today)[:12] if competitors else []
    )
    name = _product_names(store, tenant, ctx, [sku for sku, _ in peer] + [s.sku for s in seen])
    latest = list(bought)
    first = _first_entries(store, tenant, latest)
    pack = BriefingPack(
        tenant=tenant,
        customer_id=ctx.customer.id,
        as_of=today,
        profile=_profile(ctx),
        health=_health(ctx, today),
        interactions=_interactions(ctx),
        open_next_steps=_next_steps(ctx),
        doctors=_doctors(ctx, name),
        prescription_summary=_prescription_summary(ctx, name),
        purchase_gaps=_overdue_gaps(bought, today, name) + [_peer_gap(sku, share, name) for sku, share in peer],
        formulary_changes=_formulary_changes(store, tenant, bought),
        likely_objections=_objections(first, latest, name),
        matching_cases=_cases(first, ctx, latest),
        contracts_ending=_contracts_ending(ctx, today),
        open_deals=_open_deals(ctx, price_index, today, name),
        competitor_prices=_competitor_prices(store, tenant, seen, name),
    )
    pack.urgent = _urgent(pack, ctx, today, _safety_reports(store, tenant, ctx))
    return pack


def _competitor_prices(store: GraphStore, tenant: str, seen: list[Sighting], name: dict[str, str]) -> list[Fact]:
    """One line per competitor price seen nearby, with our list price beside it (the evidence: the observation)."""
    ours = {p.sku: p.list_price for p in store.nodes_by_keys(tenant, Product, sorted({s.sku for s in seen}))}
    return [Fact(node_id=s.observation_id, text=s.text(name.get(s.sku, s.sku), ours.get(s.sku))) for s in seen]
