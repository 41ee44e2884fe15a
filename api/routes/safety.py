"""The drug-safety queue: suspected adverse reactions found in reps' notes and queries, for the drug-safety contact.

Role ``safety`` (the company's drug-safety / pharmacovigilance contact) and admins list the reports, read one with
its audit trail, and forward or close it. Everything is scoped to the caller's tenant; an unknown id is 404.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.auth import SafetyOfficer, State, WriteSlot
from api.request_model import RequestModel
from api.timestamps import UtcDatetime
from copilot import safety
from graph.model import AuditEvent, Customer, Product, SafetyReport, SafetySource, SafetyStatus
from graph.ports import GraphStore

router = APIRouter(prefix="/safety-reports", tags=["drug safety"])

ReportId = Annotated[str, Path(min_length=1, max_length=200)]


class SafetyReportOut(BaseModel):
    """A suspected adverse reaction: who (customer), what (products, symptoms), when, the text, its status."""

    id: str
    source: SafetySource
    source_id: str | None = Field(None, description="The interaction it was found in.")
    customer_id: str | None = None
    customer_name: str | None = None
    skus: list[str]
    products: list[str] = Field(description="The products' names, in the order of ``skus``.")
    at: UtcDatetime = Field(description="When it was reported.")
    text: str = Field(description="The whole text, as written.")
    sentence: str = Field(description="The words that report the reaction.")
    symptoms: list[str]
    reported_by: str | None = None
    status: SafetyStatus
    note: str | None = None
    updated_by: str | None = None
    updated_at: UtcDatetime | None = None


class SafetyReportPage(BaseModel):
    """One page of reports, by id."""

    total: int
    items: list[SafetyReportOut]


class AuditOut(BaseModel):
    """One status change: who, when, from and to (JSON in ``details``)."""

    at: UtcDatetime
    actor: str
    action: str
    details: str


class SafetyReportDetail(SafetyReportOut):
    """A report with its audit trail (status changes, oldest first)."""

    audit: list[AuditOut]


class StatusIn(RequestModel):
    """The new status: forwarded (to pharmacovigilance) or closed; new only while nothing was decided."""

    status: SafetyStatus
    note: str | None = Field(None, max_length=2000, examples=["已转药物警戒部，病例编号 PV-2026-0113"])


def _outs(store: GraphStore, tenant: str, reports: list[SafetyReport]) -> list[SafetyReportOut]:
    customer_ids = sorted({r.customer_id for r in reports if r.customer_id})
    skus = sorted({s for r in reports for s in r.skus})
    customers = {c.id: c.name for c in store.nodes_by_keys(tenant, Customer, customer_ids)}
    products = {p.sku: p.name for p in store.nodes_by_keys(tenant, Product, skus)}
    return [
        SafetyReportOut(
            **r.model_dump(exclude={"tenant"}),
            customer_name=customers.get(r.customer_id) if r.customer_id else None,
            products=[products.get(s, s) for s in r.skus],
        )
        for r in reports
    ]


def _actor(key: object) -> str:
    return f"{getattr(key, 'name', '')} ({getattr(key, 'role', '')}, key {getattr(key, 'id', '')})"


def _detail(store: GraphStore, tenant: str, report: SafetyReport, trail: list[AuditEvent]) -> SafetyReportDetail:
    (out,) = _outs(store, tenant, [report])
    audit = [AuditOut(at=a.at, actor=a.actor, action=a.action, details=a.details) for a in trail]
    return SafetyReportDetail(**out.model_dump(), audit=audit)


@router.get("", summary="The drug-safety queue")
def list_reports(
    key: SafetyOfficer,
    state: State,
    status_: Annotated[
        Literal["new", "forwarded", "closed", "all"], Query(alias="status", description="Default: new ones.")
    ] = "new",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SafetyReportPage:
    """Suspected adverse reactions of the caller's tenant, of one status (default new) or ``all``, by id."""
    wanted = None if status_ == "all" else status_
    total, page = safety.list_reports(state.store, key.tenant, status=wanted, limit=limit, offset=offset)
    return SafetyReportPage(total=total, items=_outs(state.store, key.tenant, page))


@router.get("/{report_id}", summary="One safety report with its audit trail")
def get_report(report_id: ReportId, key: SafetyOfficer, state: State) -> SafetyReportDetail:
    """The report, the customer's and products' names, and every status change; 404 for an unknown id."""
    report, trail = safety.get_report(state.store, key.tenant, report_id)
    return _detail(state.store, key.tenant, report, trail)


@router.post("/{report_id}/status", summary="Forward or close a safety report", dependencies=[WriteSlot])
def set_status(report_id: ReportId, body: StatusIn, key: SafetyOfficer, state: State) -> SafetyReportDetail:
    """Set the status (audited with the caller's name); 409 ``report_closed`` once it is closed."""
    state.tenant(key.tenant).set_safety_status(report_id, status=body.status, actor=_actor(key), note=body.note)
    report, trail = safety.get_report(state.store, key.tenant, report_id)
    return _detail(state.store, key.tenant, report, trail)
