"""The drug-safety queue: suspected adverse reactions found in reps' text, for the company's drug-safety contact.

Every interaction summary (ingested, uploaded or from the demo) and every objection query is read by the detector
(`copilot.adverse_events`); a text that reports a suspected reaction becomes a `SafetyReport` with the customer, the
products, the date and the text as written. The drug-safety contact (role ``safety``, or an admin) forwards each to
pharmacovigilance or closes it; each status change is written with its audit record and a change-log record in one
transaction. A report made from an interaction has the id ``SAFE-<interaction id>``: scanning again never makes a
second one, and never resets a status someone set.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Mapping, Sequence

import pyarrow as pa

from copilot.adverse_events import AdverseFinding, detect
from copilot.clock import utc_now
from copilot.errors import CopilotError
from graph.errors import NotFoundError
from graph.frames import models_to_table
from graph.model import AuditEvent, Interaction, Node, SafetyReport, SafetyStatus
from graph.ports import ChangeDraft, GraphStore, InteractionRecord

SCAN_BATCH = 2_000
"""Reports written per transaction when a scan finds many (the demo's first scan)."""

SAFETY_STATUS_NAMES = {"new": "待药物警戒处理", "forwarded": "已转药物警戒", "closed": "药物警戒已结案"}
"""How a rep reads the status of a drug-safety report."""
SAFETY_ACTION = (
    "不用销售话术回应，也不评价与药品的因果关系；配合药物警戒部门随访，"
    "如实提供患者用药和不适情况（用药时间、剂量、症状、转归），并告知客户公司会跟进"
)
"""What a rep does about a suspected adverse reaction (the compliance rule: drug safety answers it, not a script)."""


class ReportClosedError(CopilotError):
    """The safety report is closed: its status no longer changes (a closed case is reopened as a new report)."""

    code = "report_closed"


def interaction_report_id(interaction_id: str) -> str:
    """The id of the report made from an interaction (one per interaction)."""
    return f"SAFE-{interaction_id}"


def _text_of(record: InteractionRecord) -> str:
    it = record.interaction
    return "。".join(t for t in (it.summary, it.next_step or "") if t)


def report_of_interaction(tenant: str, record: InteractionRecord) -> SafetyReport | None:
    """The report an interaction's summary (and next step) makes, or ``None`` when it reports no reaction."""
    text = _text_of(record)
    finding = detect(text)
    if finding is None:
        return None
    it = record.interaction
    return SafetyReport(
        tenant=tenant, id=interaction_report_id(it.id), source="interaction", source_id=it.id,
        customer_id=record.customer_id, skus=list(record.mentioned_skus), at=it.at, text=text,
        sentence=finding.sentence, symptoms=list(finding.symptoms), reported_by=record.rep_id,
    )  # fmt: skip


def reports_of_tables(tenant: str, tables: Mapping[str, pa.Table]) -> list[SafetyReport]:
    """The reports that interaction tables in graph shape make, before anything is stored (the rule of a scan).

    ``tables``: ``Interaction``, ``Had``, ``InteractionWith``, ``Mentions`` as the demo and imports hold them.
    """
    if "Interaction" not in tables:
        return []

    def links(name: str, column: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if name in tables:
            t = tables[name]
            for iid, key in zip(t.column("interaction_id").to_pylist(), t.column(column).to_pylist(), strict=True):
                out.setdefault(str(iid), []).append(str(key))
        return out

    reps, customers, skus = links("Had", "rep_id"), links("InteractionWith", "customer_id"), links("Mentions", "sku")
    found = []
    for row in tables["Interaction"].to_pylist():
        it = Interaction.model_validate({**row, "tenant": tenant})
        record = InteractionRecord(
            it, min(reps.get(it.id, []), default=None), tuple(sorted(set(skus.get(it.id, [])))),
            min(customers.get(it.id, []), default=None),
        )  # fmt: skip
        report = report_of_interaction(tenant, record)
        if report is not None:
            found.append(report)
    return found


def reports_table(reports: Sequence[SafetyReport]) -> pa.Table:
    """The reports as a table in graph shape (to load with the interactions, in their transaction)."""
    return models_to_table(SafetyReport, list(reports))


def scan_interactions(
    store: GraphStore, tenant: str, *, since: dt.datetime | None = None, actor: str = "system"
) -> list[SafetyReport]:
    """Read the tenant's interactions (at or after ``since``) and queue the reactions not queued yet; the new reports.

    Reports already in the queue are left as they are (their status is the drug-safety contact's decision).
    """
    found = [r for r in (report_of_interaction(tenant, rec) for rec in store.interactions(tenant, since=since)) if r]
    if not found:
        return []
    known = store.existing_keys(tenant, SafetyReport, [r.id for r in found])
    new = [r for r in found if r.id not in known]
    for i in range(0, len(new), SCAN_BATCH):
        chunk = new[i : i + SCAN_BATCH]
        store.load_batch(
            tenant,
            [(SafetyReport, models_to_table(SafetyReport, chunk))],
            change=ChangeDraft("safety_flagged", actor=actor, ids=tuple(r.id for r in chunk),
                               details={"reports": len(chunk), "source": "interaction"}),
        )  # fmt: skip
    return new


def report_query(
    store: GraphStore,
    tenant: str,
    text: str,
    finding: AdverseFinding,
    *,
    reported_by: str,
    customer_id: str | None = None,
    skus: Sequence[str] = (),
    source: str = "objection_query",
) -> SafetyReport:
    """Queue a reaction reported in an objection query (or a note typed in the console); the new report."""
    at = utc_now()
    report = SafetyReport.model_validate(
        {
            "tenant": tenant, "id": f"SAFE-Q-{time.time_ns():020d}-{uuid.uuid4().hex[:6]}", "source": source,
            "customer_id": customer_id, "skus": list(dict.fromkeys(skus)), "at": at, "text": text,
            "sentence": finding.sentence, "symptoms": list(finding.symptoms), "reported_by": reported_by,
        }
    )  # fmt: skip
    store.load_batch(
        tenant,
        [(SafetyReport, models_to_table(SafetyReport, [report]))],
        change=ChangeDraft("safety_flagged", actor=reported_by, ids=(report.id,), details={"source": source}),
    )
    return report


def list_reports(
    store: GraphStore, tenant: str, *, status: SafetyStatus | None = "new", limit: int = 50, offset: int = 0
) -> tuple[int, list[SafetyReport]]:
    """The tenant's reports (of ``status``; ``None``: all), by id, one page and the total.

    No status is part of another (new, forwarded, closed), so the store's text filter on ``status`` is exact.
    """
    page = store.search_nodes(tenant, SafetyReport, text=status, fields=("status",) if status else (),
                              limit=limit, offset=offset)  # fmt: skip
    return page.total, list(page.items)


def get_report(store: GraphStore, tenant: str, report_id: str) -> tuple[SafetyReport, list[AuditEvent]]:
    """One report and its audit trail (status changes, oldest first); ``NotFoundError`` for an unknown id."""
    report = store.get_node(tenant, SafetyReport, report_id)
    if report is None:
        raise NotFoundError(f"unknown safety report {report_id}", details={"id": report_id})
    return report, store.audit_trail(tenant, SafetyReport.label, report_id)


def set_status(
    store: GraphStore, tenant: str, report_id: str, *, status: SafetyStatus, actor: str, note: str | None = None
) -> SafetyReport:
    """Move a report to ``status`` (new → forwarded → closed, or new → closed), audited in the same transaction.

    A closed report does not change any more (``ReportClosedError``); setting the status it has is no change.
    """
    report, _trail = get_report(store, tenant, report_id)
    if report.status == "closed":
        raise ReportClosedError(f"safety report {report_id} is closed", details={"id": report_id, "status": "closed"})
    if report.status == status:
        return report
    now = utc_now()
    changed = report.model_copy(update={"status": status, "note": note, "updated_by": actor, "updated_at": now})
    audit = AuditEvent(
        tenant=tenant, id=f"AUD-safety-{report_id}-{time.time_ns():020d}", at=now, actor=actor,
        action=f"safety_{status}", target_label=SafetyReport.label, target_key=report_id,
        details=json.dumps({"from": report.status, "to": status, "note": note}, ensure_ascii=False),
    )  # fmt: skip
    loads: list[tuple[type[Node], pa.Table]] = [
        (SafetyReport, models_to_table(SafetyReport, [changed])),
        (AuditEvent, models_to_table(AuditEvent, [audit])),
    ]
    details = {"from": report.status, "to": status}
    store.load_batch(tenant, loads, change=ChangeDraft("safety_status", actor=actor, ids=(report_id,), details=details))
    return changed
