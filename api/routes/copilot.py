"""What reps see: case suggestions for a deal draft, objection answers, and visit briefing packs."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import Reader, State
from api.downloads import attachment
from api.request_model import RequestModel
from api.state import ServiceState
from copilot.briefing import BriefingPack, build_briefing
from copilot.cases import suggest_cases
from copilot.competitor_prices import is_price_objection
from copilot.objections import answer_objection
from copilot.render import to_markdown, to_pdf
from copilot.rewrite import (
    BRIEFING_PURPOSE,
    CASES_PURPOSE,
    OBJECTION_PURPOSE,
    Rewritten,
    arewrite,
    briefing_facts,
    case_facts,
    objection_facts,
    rewrite,
)
from graph.errors import NotFoundError
from graph.model import Customer, Product

router = APIRouter(tags=["copilot"])

Id = Annotated[str, Path(min_length=1, max_length=200)]


class DealDraft(RequestModel):
    """The deal a rep is creating: the customer, the products, and optionally the situation in their words."""

    customer_id: str = Field(min_length=1, max_length=200, examples=["C-HZ-00001"])
    skus: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50, examples=[["SKU-ATV20-LPT"]]
    )
    text: str = Field("", max_length=2000, description="The situation, e.g. 连锁总部想做慢病会员日，担心毛利。")
    k: int = Field(3, ge=1, le=20, description="How many cases.")
    rewrite: bool = Field(False, description="Also return the cases as fluent text (see `RewriteOut`).")


class CaseOut(BaseModel):
    """A suggested past success case and why it matched."""

    entry_id: str
    title: str
    summary: str
    outcome: str = Field(description="The result sentence of the case (with its numbers), when it has one.")
    score: float = Field(description="Weighted sum of the parts (0–1).")
    parts: dict[str, float] = Field(description="Each part's similarity (0–1): products, indications, type, …")
    why: list[str] = Field(description="Why it matched, in words: shared products, indications, attributes, text.")
    customer_id: str | None = None


class RewriteOut(BaseModel):
    """The results as one text, rewritten from the retrieved facts only.

    With a configured chat model: its text, citing fact ids in brackets and checked (unknown ids, numbers or
    reimbursement terms not in the facts are refused). Without one, or when the check fails: the facts themselves.
    """

    text: str
    cited_ids: list[str]
    source: Literal["llm", "extractive"]
    model: str | None = None
    fallback_reason: str | None = Field(None, description="Why the model's text was not used.")


def _rewrite_out(done: Rewritten) -> RewriteOut:
    return RewriteOut(**done.model_dump(include=set(RewriteOut.model_fields)))


class CaseSuggestions(BaseModel):
    """The best published cases of the caller's tenant for the draft."""

    cases: list[CaseOut]
    rewritten: RewriteOut | None = None


class ObjectionQuery(RequestModel):
    """What the customer said, and optionally the products and customer at hand."""

    objection: str = Field(min_length=1, max_length=1000, examples=["店长说立普妥太贵了，隔壁药房便宜"])
    skus: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50, examples=[["SKU-ATV20-LPT"]]
    )
    customer_id: str | None = Field(None, max_length=200)
    k: int = Field(3, ge=1, le=20)
    rewrite: bool = Field(False, description="Also return one combined answer as fluent text (see `RewriteOut`).")


class ObjectionAnswerOut(BaseModel):
    """A published script answering the objection, with its source entry and version."""

    entry_id: str
    version: int
    title: str
    script: str
    level: Literal["product", "indication", "general"] = Field(
        description="Where it was found: a script about the products, about their indication, or a general one."
    )
    score: float
    vector_rank: int | None = None
    keyword_rank: int | None = None


class CompetitorPriceOut(BaseModel):
    """A competitor's latest observed price for a SKU nearby, with the gap to ours and its evidence."""

    sku: str
    competitor: str
    city: str | None
    observed_on: dt.date
    current_price: float
    effective_price: float = Field(description="Per box after the deal, for a walk-in customer.")
    rule: str
    our_price: float | None = Field(description="Our list price.")
    gap_pct: float | None = Field(description="(ours − theirs) / theirs × 100: positive when we are dearer.")
    text: str = Field(description="The fact in one sentence a rep can say.")
    observation_id: str
    photo_id: str


class ObjectionAnswers(BaseModel):
    """Scripts, best first; for a price objection, the competitor prices seen for the products (last 30 days)."""

    answers: list[ObjectionAnswerOut]
    rewritten: RewriteOut | None = None
    competitor_prices: list[CompetitorPriceOut] = Field(
        default_factory=list,
        description="For an objection about price: the current observed gap to each competitor nearby, with its date.",
    )


def competitor_prices_out(
    state: ServiceState, tenant: str, skus: list[str], customer_id: str | None, today: dt.date
) -> list[CompetitorPriceOut]:
    """Competitor prices of these SKUs seen near the customer (or anywhere without one) in the last 30 days."""
    services = state.tenant(tenant)
    customer = state.store.get_node(tenant, Customer, customer_id) if customer_id else None
    city = customer.city if customer else None
    products = {p.sku: p for p in state.store.nodes_by_keys(tenant, Product, skus)} if skus else {}
    out: list[CompetitorPriceOut] = []
    for sku in skus:
        p = products.get(sku)
        ours = p.list_price if p else None
        label = ((p.brand + " ") if p and p.brand else "") + (p.name if p else sku)
        for s in services.competitors().sightings(sku, city=city, customer_id=customer_id, today=today)[:5]:
            out.append(
                CompetitorPriceOut(
                    sku=sku,
                    competitor=s.competitor,
                    city=s.city,
                    observed_on=s.observed_on,
                    current_price=s.current_price,
                    effective_price=s.effective_price,
                    rule=s.rule,
                    our_price=ours,
                    gap_pct=s.gap_pct(ours),
                    text=s.text(label, ours),
                    observation_id=s.observation_id,
                    photo_id=s.photo_id,
                )  # fmt: skip
            )
    return out


def _check_customer(state: ServiceState, tenant: str, customer_id: str | None) -> None:
    if customer_id is not None and state.store.get_node(tenant, Customer, customer_id) is None:
        raise NotFoundError(f"no customer {customer_id}", details={"customer_id": customer_id})


def _check_skus(state: ServiceState, tenant: str, skus: list[str]) -> None:
    missing = sorted(set(skus) - state.store.existing_keys(tenant, Product, skus)) if skus else []
    if missing:
        raise NotFoundError(f"unknown SKU {', '.join(missing)}", details={"skus": missing})


@router.post("/case-suggestions", summary="Past success cases matching a deal draft")
def case_suggestions(body: DealDraft, key: Reader, state: State) -> CaseSuggestions:
    """The ``k`` best published case studies, ranked by graph overlap and text similarity, each saying why."""
    _check_customer(state, key.tenant, body.customer_id)
    _check_skus(state, key.tenant, body.skus)
    with state.tenant(key.tenant).searching() as index:
        found = suggest_cases(state.store, key.tenant, customer_id=body.customer_id, skus=body.skus, text=body.text,
                              index=index, k=body.k)  # fmt: skip
    rewritten = None
    if body.rewrite:
        rewritten = _rewrite_out(rewrite(case_facts(found), CASES_PURPOSE, state.chat_model))
    return CaseSuggestions(
        rewritten=rewritten,
        cases=[CaseOut.model_validate(s, from_attributes=True) for s in found],
    )


@router.post("/objection-answers", summary="Scripts answering a customer's objection")
def objection_answers(body: ObjectionQuery, key: Reader, state: State) -> ObjectionAnswers:
    """Hybrid retrieval over published scripts: about the products first, then their indication, then general."""
    _check_customer(state, key.tenant, body.customer_id)
    _check_skus(state, key.tenant, body.skus)
    with state.tenant(key.tenant).searching() as index:
        found = answer_objection(index, body.objection, skus=body.skus, k=body.k)
    rewritten = None
    if body.rewrite:
        purpose = OBJECTION_PURPOSE.format(objection=body.objection)
        rewritten = _rewrite_out(rewrite(objection_facts(found), purpose, state.chat_model))
    seen = []
    if is_price_objection(body.objection) and body.skus:
        seen = competitor_prices_out(state, key.tenant, body.skus, body.customer_id, dt.date.today())
    return ObjectionAnswers(
        rewritten=rewritten,
        competitor_prices=seen,
        answers=[
            ObjectionAnswerOut(
                entry_id=a.entry_id,
                version=a.version,
                title=a.title,
                script=a.script,
                level=a.level,
                score=a.hit.score,
                vector_rank=a.hit.vector_rank,
                keyword_rank=a.hit.keyword_rank,
            )
            for a in found
        ],
    )


_BRIEFING_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The pack as JSON (default), Markdown or an A4 PDF with embedded Chinese font.",
        "content": {
            "text/markdown": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get(
    "/customers/{customer_id}/briefing",
    summary="Visit briefing pack for a customer",
    response_model=BriefingPack,
    responses=_BRIEFING_RESPONSES,
)
async def briefing(
    customer_id: Id,
    key: Reader,
    state: State,
    fmt: Annotated[Literal["json", "md", "pdf"], Query(alias="format")] = "json",
    as_of: Annotated[dt.date | None, Query(description="Visit date; default today.")] = None,
) -> Response | BriefingPack:
    """Profile, health, interactions, doctors, purchase gaps, formulary changes, objections, cases, contracts, deals.

    Every fact names the node it comes from.
    """
    today = as_of or dt.date.today()
    services = state.tenant(key.tenant)
    prices = await run_in_threadpool(services.prices)
    book = await run_in_threadpool(services.competitors)
    pack = await run_in_threadpool(
        partial(build_briefing, competitors=book), state.store, key.tenant, customer_id, today=today, price_index=prices
    )
    if fmt == "md":
        return Response(to_markdown(pack), media_type="text/markdown; charset=utf-8")
    if fmt == "pdf":
        pdf = await run_in_threadpool(to_pdf, pack)
        headers = {"Content-Disposition": attachment(f"briefing-{customer_id}-{today}.pdf")}
        return Response(pdf, media_type="application/pdf", headers=headers)
    return pack


@router.get("/customers/{customer_id}/briefing/summary", summary="Visit briefing as a short text")
async def briefing_summary(
    customer_id: Id,
    key: Reader,
    state: State,
    as_of: Annotated[dt.date | None, Query(description="Visit date; default today.")] = None,
) -> RewriteOut:
    """The pack's facts as a short visit brief.

    The configured chat model's rewrite (checked, citing node ids), or the pack as Markdown when no model is
    configured or its text fails the checks.
    """
    today = as_of or dt.date.today()
    services = state.tenant(key.tenant)
    prices = await run_in_threadpool(services.prices)
    book = await run_in_threadpool(services.competitors)
    pack = await run_in_threadpool(
        partial(build_briefing, competitors=book), state.store, key.tenant, customer_id, today=today, price_index=prices
    )
    done = await arewrite(briefing_facts(pack), BRIEFING_PURPOSE, state.chat_model, extractive=to_markdown(pack))
    return _rewrite_out(done)
