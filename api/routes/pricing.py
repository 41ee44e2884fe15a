"""Price checks: the quote screen's call on every edit of a quote line."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AliasChoices, AliasPath, BaseModel, Field, model_validator

from api.auth import Pricing, cached_territory, territory
from api.keys import ApiKey
from api.request_model import RequestModel
from api.state import ServiceState
from copilot.territory import Territory
from graph.model import CustomerType
from pricing_guard.guard import CustomerProfile, QuoteCheck, QuoteLine, Verdict, check_quote

router = APIRouter(tags=["pricing"])


class ProfileIn(RequestModel):
    """A prospect that has no customer id yet: its peers are customers of this type (and tier and region)."""

    type: CustomerType = Field(description="Customer type.", examples=["chain"])
    tier: str | None = Field(None, max_length=20, description="Commercial tier, e.g. A/B/C.", examples=["A"])
    region: str | None = Field(None, max_length=50, description="Sales region.", examples=["浙北"])


class QuoteLineIn(RequestModel):
    """One quote line as the rep is typing it: for a customer of the tenant, or for a prospect's ``profile``."""

    customer_id: str | None = Field(
        None, min_length=1, max_length=200, description="The tenant's customer id.", examples=["C-HZ-00001"]
    )
    profile: ProfileIn | None = Field(None, description="A prospect without a customer id (instead of customer_id).")
    sku: str = Field(min_length=1, max_length=200, examples=["SKU-ATV20-LPT"])
    unit_price: float = Field(gt=0, le=1e9, description="Quoted price per unit (yuan).", examples=[52.0])
    qty: float = Field(1.0, gt=0, le=1e9, description="Quantity in ``unit``.", examples=[50])
    unit: str | None = Field(
        None, max_length=20, description="Unit of price and quantity (盒, 件, 片…); default: the SKU's selling unit."
    )
    date: dt.date | None = Field(None, description="Date of this line; default: the request's as_of, else today.")

    @model_validator(mode="after")
    def _customer_or_profile(self) -> QuoteLineIn:
        if self.customer_id is None and self.profile is None:
            raise ValueError("give customer_id, or a profile (type, tier, region) for a prospect without an id")
        return self


class PriceCheckRequest(RequestModel):
    """Quote lines to check; ``as_of`` (default today) sets the date the peer window ends."""

    lines: list[QuoteLineIn] = Field(min_length=1, max_length=200)
    as_of: dt.date | None = Field(None, description="Date of the quote; default today.")


class EvidenceOut(BaseModel):
    """A past order line of the peer group."""

    customer_id: str
    customer_name: str
    at: dt.date
    qty: float
    unit_price: float
    order_id: str


class LineVerdict(BaseModel):
    """The verdict on one line, and why.

    ``unknown_customer`` / ``unknown_product`` / ``unknown_unit``: the line names something the tenant does not have
    (``suggestions`` holds the nearest ids, or the units accepted); it is never given a band.
    """

    customer_id: str | None = Field(validation_alias=AliasChoices("customer_id", AliasPath("line", "customer_id")))
    sku: str = Field(validation_alias=AliasChoices("sku", AliasPath("line", "sku")))
    unit_price: float = Field(validation_alias=AliasChoices("unit_price", AliasPath("line", "unit_price")))
    verdict: Verdict
    severity: Literal["none", "minor", "major", "critical"]
    explanation: str = Field(
        description="The verdict in words, e.g. 与该客户9月协议价 12.40 一致, 低于该客户一贯水平 9%, "
        "在促销「双11健康节」折扣范围内, 高于集采中选价 24.41 98%; lines left out are counted (已排除 3 笔近效期清货)."
    )
    band_low: float | None = Field(
        None, description="Low end of the acceptable range around the reference (selling unit; promotions included)."
    )
    band_high: float | None = None
    median: float | None = None
    percentile: float | None = Field(
        None, description="Where the quoted price falls among the reference's prices (0–100)."
    )
    peer_count: int = Field(0, description="The customer's own lines, or the customers, behind the reference.")
    level: int | None = Field(None, description="Deprecated: always null (references replaced peer widening).")
    level_name: str | None = Field(
        None, description="The reference in short: 本客户协议价, 集采中选价, 本客户一贯水平, 同类客户."
    )
    floor_price: float | None = None
    payment_standard: float | None = None
    evidence: list[EvidenceOut] = Field(default_factory=list)
    suggestions: list[str] = Field(
        default_factory=list, description="Unknown customer or SKU: ids it most likely meant; unknown unit: units."
    )
    checked_against: Literal["customer", "profile"] | None = Field(
        None, description="Judged against the customer's peers, or against the profile given for a prospect."
    )
    excluded: dict[str, int] = Field(
        default_factory=dict,
        description="Order lines of the SKU left out of every reference, by reason (近效期清货, 单价录成 10 倍…).",
    )
    reference: Literal["own", "award", "level", "peers"] | None = Field(
        None,
        description="Which reference decided: own (the customer's agreed price), award (集采 award price for "
        "hospitals and clinics), level (the customer's level against its segment, from its other SKUs), peers "
        "(its segment, for a customer without history or a prospect).",
    )
    reference_price: float | None = Field(None, description="The price the line was compared with (selling unit).")
    reference_text: str | None = Field(None, description="The reference in words, e.g. 该客户9月协议价 12.40.")
    promotion_id: str | None = Field(None, description="The running promotion the line was judged inside.")
    promotion_name: str | None = None
    event: str | None = Field(
        None, description="The latest price event before the line that limits the comparable history (e.g. 集采)."
    )
    competitor: CompetitorNoteOut | None = Field(
        None, description="Set when the quoted price is above a competitor's observed price for the SKU nearby."
    )


class CompetitorNoteOut(BaseModel):
    """The quote is above what a competitor nearby was seen selling the same product for (last 30 days)."""

    competitor: str
    city: str | None
    observed_on: dt.date
    effective_price: float = Field(description="The competitor's per-box price after its deal.")
    rule: str
    text: str
    observation_id: str
    photo_id: str


class PriceCheckResponse(BaseModel):
    """One verdict per line, in the order of the request."""

    lines: list[LineVerdict]


OUTSIDE_TERRITORY = "辖区外客户"
"""How a rep sees a peer line of a customer it does not own: the price and date stay, who bought it does not."""


def _mask_evidence(verdict: LineVerdict, visible: frozenset[str]) -> None:
    """Peer lines of customers outside a rep's territory keep their price and date but not the buyer or order."""
    for ev in verdict.evidence:
        if ev.customer_id not in visible:
            ev.customer_id, ev.customer_name, ev.order_id = "", OUTSIDE_TERRITORY, ""


def _out(check: QuoteCheck) -> LineVerdict:
    """The verdict by field name (customer, SKU and price from the line it judged)."""
    return LineVerdict.model_validate(check, from_attributes=True)


@router.post(
    "/price-checks",
    response_model=PriceCheckResponse,
    summary="Check quote line prices against the customer's own terms and its peers",
)
async def price_checks(body: PriceCheckRequest, key: Pricing, request: Request) -> Response:
    """Per line: policy checks first, then the best reference, inside any running promotion, with the evidence.

    Policy: the floor price; the payment standard for retail pharmacies. References: the customer's own agreed price,
    the 集采 award, the customer's level against its segment, the segment. Lines left out of every reference
    (clearance, unit mistakes, free goods, promotion prices) are counted in ``excluded``.

    Every line gets its own verdict: an unknown customer, SKU or unit is a verdict on that line (with the nearest
    ids), the other lines are answered. Reads only the in-memory price index (no database query), so it can run on
    every keystroke. A rep key names only its territory's customers: another customer is an unknown customer.
    """
    state: ServiceState = request.app.state.service  # not the ``State`` dependency: one less to solve per call
    services = state.tenant(key.tenant)
    if not services.is_current():  # build (first use, or a new day) off the event loop
        await run_in_threadpool(services.prices)
        await run_in_threadpool(services.competitors)
    area = cached_territory(state, key)
    if area is None:  # a rep's territory not read in the last seconds: one graph read, off the event loop
        area = await run_in_threadpool(territory, state, key)
    return Response(answer(state, key, body, area), media_type="application/json")


def answer(state: ServiceState, key: ApiKey, body: PriceCheckRequest, area: Territory) -> bytes:
    """The JSON answer to a price check, from the in-memory indexes only (the route has built them).

    Shared by the route and the event loop's fast path (``api.fast_paths``): both answer the same bytes.
    """
    services = state.tenant(key.tenant)
    prices = services.prices()
    on = body.as_of or dt.date.today()
    lines = [
        QuoteLine(
            line.customer_id,
            line.sku,
            line.unit_price,
            line.qty,
            line.date or on,
            line.unit,
            CustomerProfile(line.profile.type, line.profile.tier, line.profile.region) if line.profile else None,
        )  # fmt: skip
        for line in body.lines
    ]
    book = services.competitors()
    visible = area.customer_ids
    out = [_out(check) for check in check_quote(prices, lines, today=on, visible=visible)]
    for verdict, line in zip(out, lines, strict=True):
        if visible is not None:
            _mask_evidence(verdict, visible)
        # a customer outside a rep's territory is unknown: its city does not choose the competitor prices
        customer_id = line.customer_id if visible is None or line.customer_id in visible else None
        info = prices.customers.get(customer_id) if customer_id else None
        city = info.city if info else None
        if line.unit is not None:
            continue  # a price per case or per tablet is not comparable with a competitor's per-box price
        seen = book.cheapest_below(line.sku, line.unit_price, city=city, customer_id=customer_id, today=on)
        if seen is not None:
            verdict.competitor = CompetitorNoteOut(
                competitor=seen.competitor,
                city=seen.city,
                observed_on=seen.observed_on,
                effective_price=seen.effective_price,
                rule=seen.rule,
                text=f"报价 {line.unit_price:.2f} 高于{seen.city or '附近'}{seen.competitor} {seen.observed_on:%m-%d} "
                f"的到手价 {seen.effective_price:.2f}" + (f"（{seen.rule}）" if seen.rule else ""),
                observation_id=seen.observation_id,
                photo_id=seen.photo_id,
            )
    # serialised here, once: returned as a model, FastAPI would validate the verdicts again and then serialise them
    return PriceCheckResponse(lines=out).model_dump_json().encode()
