"""FAQ proposals for trainers: customers' recurring questions, clustered from interaction summaries, made drafts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import Curator, State, WriteSlot
from api.request_model import RequestModel
from api.state import ServiceState
from copilot.faq import CatalogueNames, FaqProposal, FaqReport, propose_faqs
from graph.errors import NotFoundError
from retrieval.embedders import CachedEmbedder

router = APIRouter(prefix="/faq", tags=["faq"])


class ExampleOut(BaseModel):
    """A customer's question as a rep wrote it down, and where."""

    text: str
    interaction_id: str
    same_wording: int = Field(description="Questions of the cluster worded the same way.")


class ProductCountOut(BaseModel):
    """A product the questions mention, and how often."""

    sku: str
    name: str
    count: int


class ProposalOut(BaseModel):
    """A proposed FAQ: its topic and most central question as title, examples with their interactions, the products."""

    id: str = Field(description="Id of the draft entry it becomes (stable across runs).")
    title: str = Field(description="The topic, then the central question with product names masked (该药).")
    topic: str = Field("", description="What the questions are about: the objection category most of them signal.")
    size: int = Field(description="Interactions that raised it.")
    questions: int
    cohesion: float = Field(description="Mean similarity of the questions to the title question (0–1).")
    examples: list[ExampleOut]
    products: list[ProductCountOut]
    first_on: dt.date | None = Field(None, description="Day of the earliest interaction (local time as recorded).")
    last_on: dt.date | None = None
    answered_by: str | None = Field(None, description="A published FAQ or script that seems to answer it already.")
    draft_status: str = Field(description="new, drafted (a draft exists) or curated (a trainer took it over).")


class ProposalsOut(BaseModel):
    """Proposals, largest first, with how they were made."""

    interactions: int
    questions: int
    proposals: list[ProposalOut]
    seconds: float


class DraftRequest(RequestModel):
    """Which proposals to turn into draft FAQ entries."""

    proposal_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(min_length=1, max_length=50)
    min_size: int = Field(5, ge=2, le=1000, description="As in the proposals request the ids came from.")


class DraftsOut(BaseModel):
    """Entry ids per outcome (a re-run creates nothing new)."""

    created: list[str]
    updated: list[str]
    unchanged: list[str]
    skipped_curated: list[str]


def _propose(state: ServiceState, tenant: str, min_size: int) -> FaqReport:
    embedder = CachedEmbedder(state.embedder, state.settings.index_dir(tenant) / "embeddings.sqlite")
    return propose_faqs(state.store, tenant, embedder, min_size=min_size)


def _out(p: FaqProposal) -> ProposalOut:
    return ProposalOut(
        id=p.id, title=p.title, topic=p.topic, size=p.size, questions=p.questions, cohesion=round(p.cohesion, 3),
        examples=[ExampleOut(text=e.text, interaction_id=e.interaction_id, same_wording=e.same_wording)
                  for e in p.examples],
        products=[ProductCountOut(sku=c.sku, name=c.name, count=c.count) for c in p.products[:20]],
        first_on=p.first_at.date() if p.first_at else None, last_on=p.last_at.date() if p.last_at else None,
        answered_by=p.closest_published.entry_id if p.answered and p.closest_published else None,
        draft_status=p.draft_status,
    )  # fmt: skip


@router.get("/proposals", summary="Proposed FAQs from customers' recurring questions")
async def proposals(key: Curator, state: State, min_size: Annotated[int, Query(ge=2, le=1000)] = 5) -> ProposalsOut:
    """Questions and objections in interaction summaries, clustered (embeddings + agglomerative clustering)."""
    report = await run_in_threadpool(_propose, state, key.tenant, min_size)
    return ProposalsOut(interactions=report.interactions, questions=len(report.questions),
                        proposals=[_out(p) for p in report.proposals],
                        seconds=round(sum(report.seconds.values()), 3))  # fmt: skip


@router.post("/drafts", summary="Turn proposals into draft FAQ entries", dependencies=[WriteSlot])
async def drafts(body: DraftRequest, key: Curator, state: State) -> DraftsOut:
    """Draft entries (kind faq) listing the example questions, for a trainer to answer, submit and publish."""
    report = await run_in_threadpool(_propose, state, key.tenant, body.min_size)
    by_id = {p.id: p for p in report.proposals}
    missing = [i for i in body.proposal_ids if i not in by_id]
    if missing:
        raise NotFoundError(f"no current proposal {', '.join(missing)}", details={"proposal_ids": missing})
    names = CatalogueNames.from_store(state.store, key.tenant)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    chosen = [by_id[i] for i in body.proposal_ids]
    services = state.tenant(key.tenant)
    result = await run_in_threadpool(
        lambda: services.write_faq_drafts(chosen, now=now, author=f"faq-cluster ({key.name})", names=names)
    )
    return DraftsOut(created=result.created, updated=result.updated, unchanged=result.unchanged,
                     skipped_curated=result.skipped_curated)  # fmt: skip
