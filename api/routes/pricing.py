"""Price checks: the quote screen's call on every edit of a quote line."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import Pricing, State
from api.request_model import RequestModel
from pricing_guard.errors import PricingError
from pricing_guard.guard import QuoteCheck, QuoteLine, check_line

router = APIRouter(tags=["pricing"])


class QuoteLineIn(RequestModel):
    """One quote line as the rep is typing it."""

    customer_id: str = Field(min_length=1, max_length=200, examples=["C-HZ-00001"])
    sku: str = Field(min_length=1, max_length=200, examples=["SKU-ATV20-LPT"])
    unit_price: float = Field(gt=0, le=1e9, description="Quoted price per unit (yuan).", examples=[52.0])
    qty: float = Field(1.0, gt=0, le=1e9, description="Quantity in ``unit``.", examples=[100])
    unit: str | None = Field(
        None, max_length=20, description="Unit of price and quantity (盒, 件, 片…); default: the SKU's selling unit."
    )


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
    """The verdict on one line: ok / low / high / below_floor / above_payment_standard / no_history, and why."""

    customer_id: str
    sku: str
    unit_price: float
    verdict: Literal["ok", "low", "high", "below_floor", "above_payment_standard", "no_history"]
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
    )


@router.post("/price-checks", summary="Check quote line prices against similar customers' deals")
async def price_checks(body: PriceCheckRequest, key: Pricing, state: State) -> PriceCheckResponse:
    """Per line: policy checks (floor price, payment standard) first, then the peer band, with evidence deals.

    Reads only the in-memory price index (no database query), so it can run on every keystroke.
    """
    if not state.is_current(key.tenant):  # build (first use, or a new day) off the event loop
        await run_in_threadpool(state.services, key.tenant)
    prices = state.services(key.tenant).prices
    on = body.as_of or dt.date.today()
    out = []
    with prices._lock:
        for i, line in enumerate(body.lines):
            q = QuoteLine(line.customer_id, line.sku, line.unit_price, line.qty, on, line.unit)
            try:
                out.append(_out(check_line(prices, q, today=on)))
            except PricingError as e:
                e.details["path"] = f"lines.{i}.{'unit' if 'unit' in e.code else 'sku'}"
                raise
    return PriceCheckResponse(lines=out)
