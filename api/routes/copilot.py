"""What reps see: case suggestions for a deal draft, objection answers, and visit briefing packs."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator

from api.auth import Reader, State, territory
from api.downloads import attachment
from api.keys import ApiKey
from api.request_model import RequestModel
from api.state import ServiceState
from copilot.adverse_events import SAFETY_ROUTE_MESSAGE, detect
from copilot.briefing import BriefingPack, build_briefing
from copilot.cases import WEAK_LABEL, CustomerProfile, suggest_cases
from copilot.competitor_prices import is_price_objection
from copilot.formulary_impact import status_changes
from copilot.objections import BADGES, NO_MATCH_TEXT, ObjectionAnswer
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
from graph.model import Customer, CustomerType, Entry, ObjectionCategory, Product

router = APIRouter(tags=["copilot"])

Id = Annotated[str, Path(min_length=1, max_length=200)]


class NewCustomerProfile(RequestModel):
    """A new customer that has no id yet: its type, and what the rep knows of tier, region and size."""

    type: CustomerType
    tier: str | None = Field(None, max_length=50, examples=["B"])
    region: str | None = Field(None, max_length=100, examples=["华东"])
    store_count: int | None = Field(None, ge=0, le=100_000, description="Stores of a chain.")
    size: str | None = Field(
        None, max_length=100, description="A hospital's size as the rep writes it.", examples=["800床"]
    )
    annual_revenue: float | None = Field(None, ge=0)


class DealDraft(RequestModel):
    """The deal a rep is creating: the customer (an id, or a new one's profile), the products, the situation."""

    customer_id: str | None = Field(None, min_length=1, max_length=200, examples=["C-HZ-00001"])
    profile: NewCustomerProfile | None = Field(None, description="A new customer, instead of ``customer_id``.")
    skus: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50, examples=[["SKU-ATV20-LPT"]]
    )
    text: str = Field("", max_length=2000, description="The situation, e.g. 连锁总部想做慢病会员日，担心毛利。")
    k: int = Field(3, ge=1, le=20, description="How many cases.")
    rewrite: bool = Field(False, description="Also return the cases as fluent text (see `RewriteOut`).")

    @model_validator(mode="after")
    def _one_customer(self) -> DealDraft:
        if (self.customer_id is None) == (self.profile is None):
            raise ValueError(
                "give either customer_id (an existing customer) or profile (a new one), not both or neither"
            )
        return self


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
    confidence: float = Field(description="Problem, product and segment evidence (0–1).")
    weak: bool = Field(description="Below the calibrated threshold: related at best (匹配度低).")
    label: str = Field(description="匹配度低 for a weak match, else empty.")


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
    match: Literal["good", "weak", "none"] = Field(
        description="good: the best case matches well; weak: the best is below the threshold (匹配度低); none: no case."
    )
    label: str = Field("", description="匹配度低 when the match is weak.")
    rewritten: RewriteOut | None = None


class ObjectionQuery(RequestModel):
    """What the customer said, and optionally the products, customer and category at hand."""

    objection: str = Field(min_length=1, max_length=1000, examples=["店长说立普妥太贵了，隔壁药房便宜"])
    skus: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50, examples=[["SKU-ATV20-LPT"]], description="Products selected in the UI."
    )
    customer_id: str | None = Field(
        None, max_length=200, description="The customer at hand: scripts written for its type are preferred."
    )
    customer_type: CustomerType | None = Field(
        None, description="The customer's type when there is no customer id (a prospect); preferred like one."
    )
    category: ObjectionCategory | None = Field(None, description="Only scripts of this objection category.")
    k: int = Field(3, ge=1, le=20)
    rewrite: bool = Field(False, description="Also return one combined answer as fluent text (see `RewriteOut`).")


class ObjectionAnswerOut(BaseModel):
    """A published script for the objection, with its source entry and version, and why it came back."""

    entry_id: str
    version: int
    title: str
    script: str
    level: Literal["product", "indication", "general"] = Field(
        description="Where it was found: a script about the product, about its indication, or a general one."
    )
    badge: Literal["本品", "同适应症", "通用"] = Field(description="The level as the console shows it.")
    score: float = Field(description="Ranking score: similarity, title words, level and category bonuses.")
    confidence: float = Field(description="How well the text matches whatever the level (the threshold's measure).")
    category: ObjectionCategory | None = None
    customer_types: list[CustomerType] = Field(default_factory=list, description="Written for these; empty = all.")
    why: list[str] = Field(description="Why it came back, in words (level, category, shared title words, type).")
    nearest: bool = Field(False, description="True under 无匹配话术: the closest general script, not an answer.")
    under_review: str | None = Field(
        None, description="待复核: a formulary change left the script true but incomplete (the note), still usable."
    )


class FixOut(BaseModel):
    """A typo put right before searching."""

    typed: str
    read_as: str


class ReadingOut(BaseModel):
    """What the copilot read in the query: corrections, products, indications, categories and sales terms."""

    corrected: str
    fixes: list[FixOut]
    products: list[str] = Field(description="SKUs the objection is about (selected, or named as its subject).")
    compared: list[str] = Field(description="SKUs named only as a comparison (比…, 跟…).")
    indications: list[str]
    categories: list[ObjectionCategory]
    terms: list[str] = Field(description="Glossary terms recognised (MOQ, 账期, 动销…).")


class RequestScriptAction(BaseModel):
    """How to ask the trainers for a script: POST this body to this path (the console's "request a script")."""

    method: Literal["POST"] = "POST"
    path: str = "/v1/script-requests"
    body: dict[str, object]


class FormularyChangeOut(BaseModel):
    """A product of the question whose reimbursement status changed in the latest formulary edition."""

    sku: str
    name: str
    old_edition: str
    new_edition: str
    effective_date: dt.date | None
    old_status: str = Field(examples=["乙类，限二线用药"])
    new_status: str = Field(examples=["乙类，无限定支付范围"])
    text: str = Field(description="The change in one sentence, to say first.")


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


class SafetyRoute(BaseModel):
    """The query reports a suspected adverse reaction: it went to the drug-safety queue instead of a script."""

    report_id: str = Field(description="The report in the drug-safety queue.")
    sentence: str = Field(description="The words that report the reaction.")
    symptoms: list[str]


class ObjectionAnswers(BaseModel):
    """Scripts best first, 无匹配话术 with the nearest general scripts and a request action, or a drug-safety route.

    When a product of the question changed reimbursement status in the latest formulary edition, the change comes
    first (``formulary_changes``, from the formulary itself), then the scripts. For a price objection, also the
    competitor prices seen for the products (last 30 days). ``adverse_event``: the query reports a suspected adverse
    reaction; no script or FAQ is given (a reaction is not an objection to handle), the rep is told to pass it to
    drug safety, and it is queued there (``safety``).
    """

    status: Literal["answered", "no_match", "adverse_event"]
    formulary_changes: list[FormularyChangeOut] = Field(
        default_factory=list, description="Status changes of the question's products, old → new, with the date."
    )
    message: str | None = Field(
        None, description=f"Set when status is no_match ({NO_MATCH_TEXT}…) or adverse_event (route to drug safety)."
    )
    safety: SafetyRoute | None = Field(None, description="Under adverse_event: the report queued.")
    answers: list[ObjectionAnswerOut]
    nearest_general: list[ObjectionAnswerOut] = Field(
        default_factory=list, description="Under no_match: the closest general scripts, labelled as such."
    )
    reading: ReadingOut
    request_script: RequestScriptAction | None = Field(None, description="Under no_match: ask for a script.")
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


def _answer_out(a: ObjectionAnswer, under_review: str | None = None) -> ObjectionAnswerOut:
    return ObjectionAnswerOut(
        entry_id=a.entry_id, version=a.version, title=a.title, script=a.script, level=a.level, badge=BADGES[a.level],
        score=a.score, confidence=a.confidence, category=a.category,
        customer_types=list(a.customer_types),
        why=list(a.why), nearest=a.nearest, under_review=under_review,
    )  # fmt: skip


def _check_customer(state: ServiceState, key: ApiKey, customer_id: str | None) -> Customer | None:
    """The customer (``None`` without an id); 404 for an unknown one or one outside a rep's territory."""
    if customer_id is None:
        return None
    return territory(state, key).customer(state.store, key.tenant, customer_id)


def _check_skus(state: ServiceState, tenant: str, skus: list[str]) -> None:
    missing = sorted(set(skus) - state.store.existing_keys(tenant, Product, skus)) if skus else []
    if missing:
        raise NotFoundError(f"unknown SKU {', '.join(missing)}", details={"skus": missing})


@router.post("/case-suggestions", summary="Past success cases matching a deal draft")
def case_suggestions(body: DealDraft, key: Reader, state: State) -> CaseSuggestions:
    """The ``k`` best published case studies, ranked by graph overlap and text similarity, each saying why."""
    _check_customer(state, key, body.customer_id)
    _check_skus(state, key.tenant, body.skus)
    with state.tenant(key.tenant).searching() as index:
        profile = CustomerProfile(**body.profile.model_dump()) if body.profile else None
        found = suggest_cases(state.store, key.tenant, customer_id=body.customer_id, profile=profile, skus=body.skus,
                              text=body.text, index=index, k=body.k)  # fmt: skip
    rewritten = None
    if body.rewrite:
        rewritten = _rewrite_out(rewrite(case_facts(found), CASES_PURPOSE, state.chat_model))
    match = "none" if not found else "weak" if found[0].weak else "good"
    return CaseSuggestions(
        rewritten=rewritten,
        cases=[CaseOut.model_validate(s, from_attributes=True) for s in found],
        match=match,
        label=WEAK_LABEL if match == "weak" else "",
    )


@router.post("/objection-answers", summary="Scripts answering a customer's objection, or 无匹配话术")
def objection_answers(body: ObjectionQuery, key: Reader, state: State) -> ObjectionAnswers:
    """Product, indication and general scripts ranked side by side; 无匹配话术 when none is good enough.

    Typos are put right, products named in the text are found (a product after 比 is a comparison), English and
    jargon terms are read through the glossary. Under ``no_match`` the nearest general scripts come labelled
    (``nearest``), with the request that puts the query in the trainers' queue.
    """
    _check_skus(state, key.tenant, body.skus)
    customer_type: str | None = body.customer_type
    customer = _check_customer(state, key, body.customer_id)
    if customer is not None:
        customer_type = customer.type
    services = state.tenant(key.tenant)
    answerer = services.answerer
    with services.lock:
        result = answerer.answer(
            body.objection, skus=body.skus, customer_type=customer_type, category=body.category, k=body.k
        )
    r = result.reading
    reading = ReadingOut(
        corrected=r.corrected,
        fixes=[FixOut(typed=t, read_as=w) for t, w in r.fixes],
        products=list(r.products),
        compared=list(r.compared),
        indications=list(r.indications),
        categories=list(r.categories),
        terms=list(r.terms),
    )  # fmt: skip
    reaction = detect(body.objection)
    if reaction is not None:
        report = services.report_safety_query(
            body.objection, reaction, reported_by=f"{key.name} ({key.role}, key {key.id})",
            customer_id=body.customer_id, skus=[*body.skus, *r.products],
        )  # fmt: skip
        return ObjectionAnswers(
            status="adverse_event", message=SAFETY_ROUTE_MESSAGE, answers=[], reading=reading,
            safety=SafetyRoute(report_id=report.id, sentence=reaction.sentence, symptoms=list(reaction.symptoms)),
        )  # fmt: skip
    rewritten = None
    if body.rewrite and result.answers:
        purpose = OBJECTION_PURPOSE.format(objection=body.objection)
        rewritten = _rewrite_out(rewrite(objection_facts(result.answers), purpose, state.chat_model))
    shown = [*result.answers, *result.nearest_general]
    notes = {e.id: e.stale_reason for e in state.store.nodes_by_keys(key.tenant, Entry, [a.entry_id for a in shown])
             if e.stale_reason and e.impact_severity == "review"}  # fmt: skip
    subject = list(r.products) or body.skus
    changes = status_changes(state.store, key.tenant, subject)
    request = None
    if result.can_request_script:
        request = RequestScriptAction(
            body={
                "query": body.objection,
                "skus": list(r.products) or body.skus,
                "category": r.categories[0] if len(r.categories) == 1 else body.category,
                "customer_type": customer_type,
            }  # fmt: skip
        )
    seen: list[CompetitorPriceOut] = []
    price_skus = body.skus or list(r.products)
    if is_price_objection(body.objection) and price_skus:
        seen = competitor_prices_out(state, key.tenant, price_skus, body.customer_id, dt.date.today())
    return ObjectionAnswers(
        status=result.status,
        formulary_changes=[FormularyChangeOut(**dataclasses.asdict(c), text=c.text) for c in changes],
        message=result.message,
        answers=[_answer_out(a, notes.get(a.entry_id)) for a in result.answers],
        nearest_general=[_answer_out(a, notes.get(a.entry_id)) for a in result.nearest_general],
        reading=reading,
        request_script=request,
        rewritten=rewritten,
        competitor_prices=seen,
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
    await run_in_threadpool(_check_customer, state, key, customer_id)
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
    await run_in_threadpool(_check_customer, state, key, customer_id)
    services = state.tenant(key.tenant)
    prices = await run_in_threadpool(services.prices)
    book = await run_in_threadpool(services.competitors)
    pack = await run_in_threadpool(
        partial(build_briefing, competitors=book), state.store, key.tenant, customer_id, today=today, price_index=prices
    )
    done = await arewrite(briefing_facts(pack), BRIEFING_PURPOSE, state.chat_model, extractive=to_markdown(pack))
    return _rewrite_out(done)
