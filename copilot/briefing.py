"""Visit briefing pack: everything a rep needs before visiting a customer, assembled from the graph in a few reads.

Every fact carries the id of the node it comes from, so a person (or an LLM rewrite) can trace it. Text is
deterministic and extractive.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from pydantic import BaseModel, Field

from copilot.competitor_prices import CompetitorPriceBook
from copilot.formulary_impact import Change, edition_changes, latest_editions
from graph.model import CUSTOMER_TYPE_NAMES, Product
from graph.ports import CustomerContext, GraphStore
from pricing_guard.guard import QuoteLine, check_quote
from pricing_guard.index import PriceIndex


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
    profile: list[Fact]
    health: Health
    interactions: list[Fact]
    open_next_steps: list[Fact]
    doctors: list[Fact]
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
    if len(days) < 3:
        return None
    return float(statistics.median((b - a).days for a, b in zip(days, days[1:], strict=False)))


def _health(ctx: CustomerContext, today: dt.date) -> Health:
    factors: list[Factor] = []
    last = max((p.at for p in ctx.purchases), default=None)
    days = (today - last).days if last else None
    factors.append(
        Factor(
            name="最近采购",
            value=f"{days} 天前" if days is not None else "无",
            points=30 if days is not None and days <= 30 else 15 if days is not None and days <= 90 else 0,
        )
    )
    recent = sum(p.qty * p.unit_price for p in ctx.purchases if (today - p.at).days <= 90)
    before = sum(p.qty * p.unit_price for p in ctx.purchases if 90 < (today - p.at).days <= 180)
    trend = (recent - before) / before if before else 0.0
    factors.append(
        Factor(name="近90天采购额环比", value=f"{trend:+.0%}", points=25 if trend >= 0 else 10 if trend > -0.3 else 0)
    )
    seen = max((i.interaction.at.date() for i in ctx.interactions), default=None)
    gap = (today - seen).days if seen else None
    factors.append(
        Factor(
            name="最近拜访",
            value=f"{gap} 天前" if gap is not None else "无",
            points=20 if gap is not None and gap <= 30 else 10 if gap is not None and gap <= 90 else 0,
        )
    )
    active = [k for k in ctx.contracts if k.start_date <= today <= k.end_date]
    factors.append(Factor(name="有效合同", value=str(len(active)), points=15 if active else 0))
    won = sum(1 for d in ctx.deals if d.deal.outcome == "won")
    factors.append(Factor(name="赢单商机", value=str(won), points=10 if won else 0))
    score = sum(f.points for f in factors)
    return Health(score=score, tier="健康" if score >= 70 else "关注" if score >= 40 else "风险", factors=factors)


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
    its city) in the last 30 days, each with its date and gap to our list price.
    """
    ctx = store.customer_context(tenant, customer_id, since=today - dt.timedelta(days=365), limit=limit)
    c = ctx.customer
    products = {p.sku: p for page in store.iter_nodes(tenant, Product) for p in page}
    name = {sku: (p.brand + " " if p.brand else "") + p.name for sku, p in products.items()}
    profile = [
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
    interactions = [
        Fact(
            node_id=i.interaction.id,
            text=f"{i.interaction.at:%Y-%m-%d} {i.interaction.channel or ''}：{i.interaction.summary}",
        )
        for i in ctx.interactions[:5]
    ]
    next_steps = [
        Fact(node_id=i.interaction.id, text=f"{i.interaction.at:%m-%d} 约定：{i.interaction.next_step}")
        for i in ctx.interactions[:10]
        if i.interaction.next_step
    ]
    doctors = [
        Fact(
            node_id=d.doctor.id,
            text=f"{d.doctor.name}（{d.doctor.department or ''} {d.doctor.title or ''}）偏好："
            + "、".join(
                f"{name.get(p.sku, p.sku)} {p.share:.0%}" if p.share is not None else name.get(p.sku, p.sku)
                for p in sorted(d.prescriptions, key=lambda p: -(p.share or 0))[:3]
            ),
        )
        for d in ctx.doctors[:8]
    ]
    by_sku: dict[str, list[dt.date]] = defaultdict(list)
    for p in ctx.purchases:
        by_sku[p.sku].append(p.at)
    gaps = []
    for sku, dates in by_sku.items():
        interval = _intervals(dates)
        overdue = (today - max(dates)).days
        if interval and overdue > 1.5 * interval:
            gaps.append(
                Gap(
                    sku=sku,
                    name=name.get(sku, sku),
                    kind="overdue",
                    detail=f"通常 {interval:.0f} 天补货一次，已 {overdue} 天未采购",
                )
            )
    if price_index is not None:
        gaps += _peer_gaps(price_index, c.id, set(by_sku), name)
    old, new = latest_editions(store, tenant)
    changes = edition_changes(store, tenant, old.id if old else None, new.id, skus=set(by_sku)) if new else []
    objections = []
    for sku in list(by_sku)[:6]:
        for e in store.entries(tenant, sku=sku, status="published", kind="objection_script")[:1]:
            objections.append(Fact(node_id=e.id, text=f"{e.title}（{name.get(sku, sku)}）"))
    cases = [Fact(node_id=e.id, text=e.title) for e in ctx.cases if e.status == "published"][:3]
    if len(cases) < 3:
        for sku in list(by_sku)[:6]:
            for e in store.entries(tenant, sku=sku, status="published", kind="case_study")[:1]:
                if e.id not in {f.node_id for f in cases}:
                    cases.append(Fact(node_id=e.id, text=e.title))
        cases = cases[:3]
    ending = []
    for k in ctx.contracts:
        left = (k.end_date - today).days
        if 0 <= left <= 90:
            window = 7 if left <= 7 else 30 if left <= 30 else 90
            ending.append(Fact(node_id=k.id, text=f"合同 {k.id} {k.end_date} 到期（{window} 天内，还剩 {left} 天）"))
    deals = []
    for d in ctx.deals:
        if d.deal.outcome not in (None, "open"):
            continue
        flags = ""
        if price_index is not None and d.quotes:
            checks = check_quote(
                price_index,
                [QuoteLine(c.id, q.sku, q.unit_price, q.qty, today) for q in d.quotes if q.sku in price_index.products],
                today=today,
            )
            flags = "；".join(f"{name.get(x.line.sku, x.line.sku)} {x.explanation}" for x in checks if x.flagged)
        deals.append(
            Fact(
                node_id=d.deal.id, text=f"商机 {d.deal.id}（{d.deal.stage}）" + (f"：价格提示 {flags}" if flags else "")
            )
        )
    seen: list[Fact] = []
    if competitors is not None:
        for sight in competitors.near(city=c.city, customer_id=c.id, today=today)[:12]:
            product = products.get(sight.sku)
            ours = product.list_price if product else None
            seen.append(Fact(node_id=sight.observation_id, text=sight.text(name.get(sight.sku, sight.sku), ours)))
    return BriefingPack(
        competitor_prices=seen,
        tenant=tenant,
        customer_id=c.id,
        as_of=today,
        profile=profile,
        health=_health(ctx, today),
        interactions=interactions,
        open_next_steps=next_steps,
        doctors=doctors,
        purchase_gaps=gaps,
        formulary_changes=changes,
        likely_objections=objections,
        matching_cases=cases,
        contracts_ending=ending,
        open_deals=deals,
    )


def _peer_gaps(index: PriceIndex, customer_id: str, bought: set[str], name: dict[str, str]) -> list[Gap]:
    """SKUs that at least half of the customer's peers (same type and region) bought and this customer did not."""
    me = index.customers.get(customer_id)
    if me is None:
        return []
    peers = {
        c.id for c in index.customers.values() if c.type == me.type and c.region == me.region and c.id != customer_id
    }
    if len(peers) < 5:
        return []
    out = []
    for sku, lines in index.lines.items():
        if sku in bought:
            continue
        share = len(peers & set(lines.customer)) / len(peers)
        if share >= 0.5:
            out.append(
                Gap(sku=sku, name=name.get(sku, sku), kind="peers_buy", detail=f"{share:.0%} 的同类同区域客户在采购")
            )
    return sorted(out, key=lambda g: g.detail, reverse=True)[:5]
