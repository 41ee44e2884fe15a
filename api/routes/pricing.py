"""Price checks: the quote screen's call on every edit of a quote line."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, model_validator

from api.auth import Pricing, State
from api.request_model import RequestModel
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

    customer_id: str | None
    sku: str
    unit_price: float
    verdict: Verdict
    severity: Literal["none", "minor", "major", "critical"]
    explanation: str = Field(description="The verdict in words, e.g. 低于同类连锁客户近12个月成交区间下沿 18%.")
    band_low: float | None = Field(None, description="Low end of the peer band (selling unit).")
    band_high: float | None = None
    median: float | None = None
    percentile: float | None = Field(None, description="Where the quoted price falls among the peers (0–100).")
    peer_count: int = Field(0, description="Order lines in the peer group used.")
    level: int | None = Field(None, description="Widening level used: 0 is the narrowest peer group.")
    level_name: str | None = None
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
        default_factory=dict, description="Order lines of the SKU left out of the bands, by reason."
    )


class PriceCheckResponse(BaseModel):
    """One verdict per line, in the order of the request."""

    lines: list[LineVerdict]


def _out(check: QuoteCheck) -> LineVerdict:
    return LineVerdict(
        customer_id=check.line.customer_id,
        sku=check.line.sku,
        unit_price=check.line.unit_price,
        verdict=check.verdict,
        severity=check.severity,
        explanation=check.explanation,
        band_low=check.band_low,
        band_high=check.band_high,
        median=check.median,
        percentile=check.percentile,
        peer_count=check.peer_count,
        level=check.level,
        level_name=check.level_name,
        floor_price=check.floor_price,
        payment_standard=check.payment_standard,
        evidence=[EvidenceOut(**e.__dict__) for e in check.evidence],
        suggestions=list(check.suggestions),
        checked_against=check.checked_against,
        excluded=check.excluded,
    )


@router.post("/price-checks", summary="Check quote line prices against similar customers' deals")
async def price_checks(body: PriceCheckRequest, key: Pricing, state: State) -> PriceCheckResponse:
    """Per line: policy checks (floor price, payment standard) first, then the peer band, with evidence deals.

    Every line gets its own verdict: an unknown customer, SKU or unit is a verdict on that line (with the nearest
    ids), the other lines are answered. Reads only the in-memory price index (no database query), so it can run on
    every keystroke.
    """
    if not state.is_current(key.tenant):  # build (first use, or a new day) off the event loop
        await run_in_threadpool(state.services, key.tenant)
    prices = state.services(key.tenant).prices
    on = body.as_of or dt.date.today()
    lines = [
        QuoteLine(
            line.customer_id, line.sku, line.unit_price, line.qty, line.date or on, line.unit,
            CustomerProfile(line.profile.type, line.profile.tier, line.profile.region) if line.profile else None,
        )  # fmt: skip
        for line in body.lines
    ]
    return PriceCheckResponse(lines=[_out(check) for check in check_quote(prices, lines, today=on)])
