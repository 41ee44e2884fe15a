"""The next-action labels of the demo (issue 24): planted situations found, near misses not, deterministic.

The labels come from ``demo.task_truth`` (written from the shared definition, blind to the trigger code); these
tests check them against what ``demo.task_plants`` planted, the health score against the briefing's own function,
the objection flags against the texts, and that the label code reacts when a planted situation is undone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from copilot.briefing import _health
from demo import DemoDataset, build_demo
from demo.task_truth import TRIGGERS, health_score, strategy_tier, task_labels
from demo.task_truth import _group as group_tables
from graph.model import Contract, Deal, Interaction, Purchased
from graph.ports import CustomerContext, DealRecord, InteractionRecord

D = dt.date(2025, 2, 15)
"""The evaluation date: NRDL-2024 took effect 45 days before it, so formulary changes are live."""
TENANTS = ("hz-pharma", "sh-pharma")

OBJECTION_MARKS = (
    "希望降价", "价格偏高", "医保结算", "账期", "询问处理办法", "断货", "疗效有疑问", "集采后价格下调", "进价比",
    "超限定支付范围", "报销限制", "效果不如预期", "后出现", "暂无更换打算", "集采落地后",
)  # fmt: skip
"""Words of the objections the generator writes (background and planted); no other text of it carries them."""


@pytest.fixture(scope="module")
def demo() -> DemoDataset:
    return build_demo(seed=7, scale=1, as_of=D)


def _objections(data: DemoDataset, tenant: str) -> set[str]:
    t = data.tenants[tenant]["Interaction"]
    return {i for i, s in zip(t.column("id").to_pylist(), t.column("summary").to_pylist(), strict=True)
            if any(m in s for m in OBJECTION_MARKS)}  # fmt: skip


def _relabel(data: DemoDataset, tenant: str, tables: dict[str, pa.Table]) -> set[tuple[str, str, str, str]]:
    truth = data.truth[tenant]
    out = task_labels(tables, data.as_of, objections=_objections(data, tenant), anomalies=truth["quote_anomalies"])
    return set(out.tasks)


@pytest.mark.parametrize("tenant", TENANTS)
def test_planted_situations_are_labelled_and_near_misses_are_not(demo: DemoDataset, tenant: str) -> None:
    truth = demo.truth[tenant]
    tasks, planted, near = set(truth["tasks"]), set(truth["task_planted"]), set(truth["task_near_misses"])
    assert planted - tasks == set()
    assert near & tasks == set()
    assert len(tasks) == len(truth["tasks"])
    assert all(len(x) == 4 and all(isinstance(v, str) for v in x) for x in tasks | near)
    owner = dict(
        zip(*(demo.tenants[tenant]["Owns"].column(n).to_pylist() for n in ("customer_id", "rep_id")), strict=True)
    )
    for trigger in TRIGGERS:
        mine = [x for x in planted if x[0] == trigger]
        assert len(mine) >= 15, trigger
        assert len({owner[x[1]] for x in mine}) >= 5, f"{trigger}: planted over too few reps"
        assert any(x[0] == trigger for x in near), f"{trigger}: no near miss"
    # two triggers on one customer
    per_customer = Counter(x[1] for x in planted)
    assert sum(1 for n in per_customer.values() if n >= 2) >= 5


@pytest.mark.parametrize("tenant", TENANTS)
def test_labels_recomputed_from_the_tables_and_the_texts_agree(demo: DemoDataset, tenant: str) -> None:
    """The objection flags the generator kept match the texts, so the labels follow from the tables alone."""
    assert _relabel(demo, tenant, dict(demo.tenants[tenant])) == set(demo.truth[tenant]["tasks"])


def test_the_label_check_fails_when_a_planted_situation_is_undone(demo: DemoDataset) -> None:
    tenant = "hz-pharma"
    tables = dict(demo.tenants[tenant])
    planted = demo.truth[tenant]["task_planted"]
    objection = next(x for x in planted if x[0] == "objection_no_followup")
    silent = next(x for x in planted if x[0] == "silent_customer")
    renewed = next(x for x in demo.truth[tenant]["task_near_misses"] if x[0] == "contract_ending" and x[3])
    # a visit after the objection, an order from the silent customer, the renewal contract gone
    i = tables["Interaction"]
    later = dt.datetime.combine(D, dt.time(8, 0))
    tables["Interaction"] = pa.concat_tables(
        [
            i,
            pa.Table.from_pylist(
                [{"id": "I-TEST-1", "at": later, "channel": "拜访", "summary": "回访，已解答。", "next_step": ""}],
                schema=i.schema,
            ),
        ]
    )
    tables["InteractionWith"] = pa.concat_tables(
        [tables["InteractionWith"], pa.table({"interaction_id": ["I-TEST-1"], "customer_id": [objection[1]]})]
    )
    p = tables["Purchased"]
    row = {
        **p.slice(0, 1).to_pylist()[0],
        "customer_id": silent[1],
        "order_id": "SO-TEST-1",
        "at": D - dt.timedelta(days=1),
    }
    tables["Purchased"] = pa.concat_tables([p, pa.Table.from_pylist([row], schema=p.schema)])
    kw = tables["ContractWith"]
    mine = [
        k
        for k, c in zip(*(kw.column(n).to_pylist() for n in ("contract_id", "customer_id")), strict=True)
        if c == renewed[1] and k != renewed[2]
    ]
    tables["ContractWith"] = kw.filter(pc.invert(pc.is_in(kw.column("contract_id"), pa.array(mine))))
    tables["Contract"] = tables["Contract"].filter(
        pc.invert(pc.is_in(tables["Contract"].column("id"), pa.array(mine))))  # fmt: skip
    labels = _relabel(demo, tenant, tables)
    assert objection not in labels
    assert silent not in labels
    assert renewed in labels
    assert len(set(planted) - labels) < len(planted) // 4


@pytest.mark.parametrize("tenant", TENANTS)
def test_objection_flags_match_the_texts(demo: DemoDataset, tenant: str) -> None:
    flagged = _objections(demo, tenant)
    labelled = {x[2] for x in demo.truth[tenant]["tasks"] if x[0] == "objection_no_followup"}
    assert labelled <= flagged
    near = {x[2] for x in demo.truth[tenant]["task_near_misses"] if x[0] == "objection_no_followup"}
    assert near - flagged  # the neutral near misses mention price or the formulary without an objection
    t = demo.tenants[tenant]["Interaction"]
    summaries = dict(zip(t.column("id").to_pylist(), t.column("summary").to_pylist(), strict=True))
    assert any("价格" in summaries[i] or "医保" in summaries[i] for i in near - flagged)


def _ids(edges: pa.Table, column: str, cid: str) -> set[str]:
    return set(edges.filter(pc.equal(edges.column("customer_id"), cid)).column(column).to_pylist())


def _context(tables: dict[str, pa.Table], tenant: str, cid: str, day: dt.date) -> CustomerContext:
    """The customer's context as the briefing reads it, with only the data dated up to ``day``."""
    from graph.model import Customer

    c = Customer.model_validate({**next(r for r in tables["Customer"].to_pylist() if r["id"] == cid), "tenant": tenant})
    p = tables["Purchased"]
    rows = [r for r in p.filter(pc.equal(p.column("customer_id"), cid)).to_pylist()
            if day - dt.timedelta(days=365) <= r["at"] <= day]  # fmt: skip
    rows.sort(key=lambda r: (r["at"], r["order_id"], r["line"]), reverse=True)
    purchases = tuple(Purchased.model_validate({**r, "tenant": tenant}) for r in rows)
    mine = _ids(tables["InteractionWith"], "interaction_id", cid)
    talks = [r for r in tables["Interaction"].to_pylist() if r["id"] in mine and r["at"].date() <= day]
    talks.sort(key=lambda r: r["id"])
    talks.sort(key=lambda r: r["at"], reverse=True)
    records = tuple(InteractionRecord(Interaction.model_validate({**r, "tenant": tenant}), None, ()) for r in talks)
    own = _ids(tables["ContractWith"], "contract_id", cid)
    contracts = tuple(Contract.model_validate({**r, "tenant": tenant}) for r in tables["Contract"].to_pylist()
                      if r["id"] in own and r["start_date"] <= day)  # fmt: skip
    deal_ids = _ids(tables["DealFor"], "deal_id", cid)
    deals = tuple(DealRecord(Deal.model_validate({**r, "tenant": tenant}), ()) for r in tables["Deal"].to_pylist()
                  if r["id"] in deal_ids and r["created_at"] <= day)  # fmt: skip
    return CustomerContext(c, (), records, (), purchases, contracts, deals)


def test_the_health_score_is_the_briefings(demo: DemoDataset) -> None:
    """The label code's health score equals ``copilot.briefing._health`` on the same data, at D and D − 30."""
    tenant = "sh-pharma"
    tables = dict(demo.tenants[tenant])
    g = group_tables(tables)
    planted = [x[1] for x in demo.truth[tenant]["task_planted"] if x[0] == "health_tier"]
    others = tables["Customer"].column("id").to_pylist()[::6]
    for cid in planted + others:
        for day in (D, D - dt.timedelta(days=30)):
            assert health_score(g, cid, day) == _health(_context(tables, tenant, cid, day), day).score, (cid, day)
    assert strategy_tier(86) == "VIP" and strategy_tier(85) == "—" and strategy_tier(65) == "教育"
    assert strategy_tier(45) == "教育" and strategy_tier(44) == "—" and strategy_tier(29) == "挽留"


def test_labels_are_deterministic_and_follow_the_seed(demo: DemoDataset) -> None:
    again = build_demo(seed=7, scale=1, as_of=D)
    for tenant in TENANTS:
        for key in ("tasks", "task_near_misses", "task_planted", "task_ambiguous"):
            assert again.truth[tenant][key] == demo.truth[tenant][key], (tenant, key)
    other = build_demo(seed=11, scale=1, as_of=D)
    assert other.truth["hz-pharma"]["tasks"] != demo.truth["hz-pharma"]["tasks"]


def test_formulary_changes_are_labelled_only_near_an_edition() -> None:
    """Half a year after NRDL-2024 took effect no edition is within [D − 90, D + 60]: no formulary task."""
    later = build_demo(seed=7, scale=1, as_of=dt.date(2025, 6, 30))
    for tenant in TENANTS:
        truth = later.truth[tenant]
        assert not [x for x in truth["tasks"] if x[0] == "formulary_change"]
        assert len([x for x in truth["task_near_misses"] if x[0] == "formulary_change"]) >= 15
        assert set(truth["task_planted"]) <= set(truth["tasks"])
        assert not set(truth["task_near_misses"]) & set(truth["tasks"])
