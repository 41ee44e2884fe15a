"""A rep's daily task list (今日待办): the situations in its territory that need an action, each with its reason.

Every trigger is a small named rule over the graph as of a date D, with its parameters in ``TaskParams`` (the shared
definition of docs/decisions/2026-12-07-next-actions.md). A rule returns findings: one per (trigger, customer,
subject), where the subject is a contract id, a SKU, an interaction id or a tier name; the reason is Chinese and
names the nodes it rests on. A finding becomes a task with a stable id (``task_id``: the same situation on the next
day is the same task), a priority, a due date, the script or case retrieval suggests for it, and the state the rep
gave it (stored as a ``Task`` node; a task nobody touched is open and not stored).

The data of a whole territory is read in a few batched reads (``load_territory``: one columnar read of the order
lines, edges and nodes by keys), not one customer context per customer: a rep with 300 customers gets its list
in one request.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, Field

from copilot.adverse_events import detect_as_typed
from copilot.briefing import NEXT_STEP_INTERACTIONS, PurchaseSummary, health_score
from copilot.clock import utc_now
from copilot.errors import CopilotError
from copilot.formulary_impact import edition_changes
from copilot.safety import SAFETY_ACTION, SAFETY_STATUS_NAMES, interaction_report_id, reports_of_tables
from copilot.territory import Territory
from graph.errors import NotFoundError
from graph.frames import models_to_table
from graph.model import (
    AuditEvent,
    Change,
    Contract,
    ContractWith,
    Customer,
    Deal,
    DealFor,
    Edge,
    Had,
    Interaction,
    InteractionWith,
    Mentions,
    Node,
    Product,
    Quotes,
    SafetyReport,
    Task,
    TaskState,
    Treats,
)
from graph.ports import WRITTEN, ChangeDraft, CustomerContext, DealRecord, GraphStore, InteractionRecord
from pricing_guard.guard import QuoteLine, check_quote
from pricing_guard.index import PriceIndex
from retrieval.hybrid import EntryDoc, KnowledgeIndex, SearchFilters

Trigger = Literal[
    "contract_ending", "silent_customer", "basket_drop", "refill_gap", "health_tier", "formulary_change",
    "price_flag_open_deal", "objection_no_followup", "followup_overdue",
]  # fmt: skip
TRIGGER_NAMES: dict[str, str] = {
    "contract_ending": "合同到期", "silent_customer": "客户沉默", "basket_drop": "常购品种断档",
    "refill_gap": "慢病续药断档", "health_tier": "健康分层变化", "formulary_change": "医保目录变化",
    "price_flag_open_deal": "在谈商机价格异常", "objection_no_followup": "异议未跟进",
    "followup_overdue": "跟进逾期",
}  # fmt: skip
"""How a rep names each trigger."""

CHRONIC_INDICATIONS = frozenset(
    {"高血压", "高脂血症", "冠心病", "心绞痛", "心力衰竭", "心房颤动", "2型糖尿病", "1型糖尿病", "慢性乙型肝炎",
     "支气管哮喘", "慢性阻塞性肺病", "骨质疏松", "痛风", "高尿酸血症", "甲状腺功能减退症", "良性前列腺增生"}
)  # fmt: skip
"""Chronic diseases whose patients take the drug every day for years: a monthly buyer who skips a month is a refill
gap (a patient who stopped, or went elsewhere), the moment for the follow-up service (慢病随访)."""


@dataclass(frozen=True)
class TaskParams:
    """Every parameter of the triggers, in one place (the shared definition; change it there first)."""

    contract_windows: tuple[int, ...] = (7, 30, 90)
    """A contract not renewed and ending within the last window is a task, banded by the smallest window it is in."""
    history_days: int = 365
    """Order history read for intervals (silence, basket, refill)."""
    silent_min_order_days: int = 4
    silent_factor: float = 1.5
    """A customer with at least this many order days is silent after this many usual intervals without an order."""
    basket_min_days: int = 3
    basket_min_interval: int = 21
    basket_factor: float = 1.5
    """A SKU bought on this many days, with its interval taken as at least 21 days, dropped after 1.5 intervals."""
    refill_min_months: int = 3
    refill_gap_days: tuple[int, int] = (35, 100)
    """A monthly buyer (this many consecutive calendar months) whose last purchase is 35–100 days old."""
    chronic_indications: frozenset[str] = CHRONIC_INDICATIONS
    tier_lookback_days: int = 30
    """A tier change is judged against the tier this many days earlier."""
    formulary_bought_days: int = 180
    formulary_window: tuple[int, int] = (-90, 60)
    """Formulary editions effective from D − 90 to D + 60 touch the SKUs bought in the last 180 days."""
    objection_days: int = 14
    """An objection recorded this many days ago or less with no interaction since."""
    followup_days: int = 14
    """A next step agreed this many days ago or more with no interaction since."""


PARAMS = TaskParams()

TIERS: tuple[tuple[str, Callable[[int], bool], str], ...] = (
    ("VIP", lambda s: s > 85, "VIP 药师服务：安排药师上门/专属服务，巩固合作"),
    ("教育", lambda s: 45 <= s <= 65, "定向教育内容：推送产品与疾病教育资料，提升动销"),
    ("挽留", lambda s: s < 30, "挽留任务：尽快拜访，了解流失原因并制定挽留方案"),
)
"""Health-score strategy tiers (name, rule, strategy); a score in none of them has no strategy tier (—)."""
NO_TIER = "—"

OBJECTION_CUES: dict[str, re.Pattern[str]] = {
    "价格": re.compile(
        r"贵|价格偏高|价格高|价格太高|降价|让价|压价|比价|价格.{0,4}(没有优势|不占优|竞争力)"
        r"|(进价|价格|价钱|售价|报价|供货价|单价|采购价).{0,12}(偏高|高出|更高|太高|过高|高于|高了)"
        r"|(更低|更优惠|更便宜)的?.{0,4}(价|折扣)|折扣.{0,4}(不够|太少|太低)"
    ),
    "医保报销": re.compile(
        r"医保.{0,12}(失败|不能|无法|不了|受限|超额|额度不够)|结算.{0,12}失败|报销.{0,4}(难|不了|失败|问题)"
    ),
    "账期/付款": re.compile(r"账期|回款.{0,4}(慢|压力|困难)|付款.{0,4}(延|压力|困难)"),
    "库存/配送": re.compile(r"断货|缺货|到货.{0,3}(慢|晚|不及时)|配送.{0,3}(慢|不及时)|保证供应|供货不稳"),
    "疗效": re.compile(
        r"疗效.{0,4}(疑问|质疑|不明显|一般|不好|差|存疑|不理想|不佳|有限)|效果.{0,3}(不好|不明显|一般|差|不理想|不佳|有限)"
        r"|不如预期|不及预期"
    ),
    "进院/目录": re.compile(r"(不在|未进|没进).{0,4}(目录|医保|院)|进院.{0,4}(难|困难|受阻)"),
    "集采": re.compile(r"集采.{0,8}(担心|跌价|降价|冲击)|担心.{0,8}集采"),
    "竞品/现有供应商": re.compile(
        r"竞品|现有供应商|已有供应商|换.{0,3}供应商|习惯用|不想换"
        r"|(暂无|暂不|没有|并无|无|不打算|不想|不愿|不考虑).{0,2}(更换|换用|替换|切换|改用)"
        r"|兴趣不大|不感兴趣|没有?兴趣|兴趣(一般|不高)|倾向于?(改用|换用|换成|用回)|改用(同类|其他|别的|竞)"
    ),
    "毛利/陈列": re.compile(r"毛利.{0,4}(低|薄|不够)|陈列费"),
    "减量/停购": re.compile(r"(减少|停止|暂停|不再)(进货|采购|订货)|(砍|撤)掉?.{0,2}(品种|品规)"),
    "顾虑": re.compile(r"担心|顾虑|异议|质疑|抱怨|不满|投诉"),
}
"""Words by which a visit note records an objection the customer raised (first match names the category): a stated
reason not to buy or keep buying — the price against an alternative or a demand for a lower one, reimbursement,
payment terms, supply, doubt about efficacy, listing, 集采, the product already in use with no intent to switch (or
a wish to switch to another), margin, a threat to buy less, a stated worry. A suspected adverse reaction
(`copilot.adverse_events`) is the side-effects objection. A cue that a negation word governs ("对价格和供货均无异议",
"没有顾虑", "不用担心") records that there was no objection (``NEGATION``)."""

NEGATION = re.compile(r"(无|没有|没|未|并非|不用|不必|无需|无须|毫无)[^，,、]{0,3}$")
"""A negation word just before a cue, in the same phrase: the note says the objection was not raised."""
NO_OBJECTION = re.compile(r"[^，,]{0,24}?(均|都|皆|并|也)?(无|没有|没|未提出?)(任何|什么)?(异议|意见|顾虑|疑问|不满)")
"""A phrase that says the customer has no objection to what it lists ("对价格和账期均无异议"): the topics it names
(价格, 账期) are not objections; the phrase is read out of the clause before the cues are."""
ANSWERED = re.compile(
    r"(?<![不没未])(接受|同意|认可)(了|新的|调整后的)?.{0,4}(价|方案|条件)|恢复正常?(订货|进货|采购)"
    r"|(顾虑|疑问|异议)已?(打消|消除|解决)"
)
"""A clause where the customer accepts the answer (a new price, the proposal) or resumes ordering: the objection the
note mentions (a special price asked for earlier) is answered, not open."""

DUE_DAYS: dict[str, int] = {
    "contract_ending": 0, "silent_customer": 3, "basket_drop": 7, "refill_gap": 3, "health_tier": 7,
    "formulary_change": 7, "price_flag_open_deal": 0, "objection_no_followup": 2, "followup_overdue": 0,
}  # fmt: skip
"""Days from D to the due date of each trigger's task (a contract's band and a tier adjust it)."""

SUGGESTION_QUERIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "contract_ending": ("合同到期 续约 续签 谈判", ("objection_script",)),
    "silent_customer": ("客户很久没有进货 流失 挽回 重新合作", ("case_study", "objection_script")),
    "basket_drop": ("不再进货 换品种 补货 断档", ("objection_script", "case_study")),
    "refill_gap": ("慢病会员 复购 依从性 随访 续药", ("objection_script", "case_study")),
    "health_tier": ("", ("case_study", "objection_script")),
    "formulary_change": ("医保目录 调整 报销 目录变化", ("objection_script", "product_note")),
    "price_flag_open_deal": ("价格 太贵 降价 特价 底价", ("objection_script",)),
    "objection_no_followup": ("", ("objection_script",)),
    "followup_overdue": ("", ("case_study", "objection_script")),
}
"""What retrieval is asked for each trigger (the query; the entry kinds, preferred first); an empty query means the
task's own words (the tier's strategy, the objection clause, the next step)."""

SCRIPT_CATEGORIES: dict[str, frozenset[str]] = {
    "contract_ending": frozenset({"contract_renewal"}),
    "price_flag_open_deal": frozenset({"price", "vbp"}),
    "formulary_change": frozenset({"formulary", "insurance_card"}),
}
"""The objection categories a script must have to be suggested for a trigger's task: the nearest script of another
topic is no help (a price-objection script for a contract about to end); no script is better than that."""
OBJECTION_SCRIPT_CATEGORIES: dict[str, frozenset[str]] = {
    "价格": frozenset({"price", "vbp"}), "医保报销": frozenset({"insurance_card", "formulary"}),
    "账期/付款": frozenset({"payment_terms"}), "库存/配送": frozenset({"stock"}), "疗效": frozenset({"efficacy"}),
    "进院/目录": frozenset({"formulary"}), "集采": frozenset({"vbp", "price"}),
    "竞品/现有供应商": frozenset({"incumbent_supplier", "price", "efficacy"}),
    "毛利/陈列": frozenset({"margin_display"}), "不良反应": frozenset({"side_effects"}),
    "减量/停购": frozenset({"price", "incumbent_supplier", "margin_display"}),
}  # fmt: skip
"""The same for an unanswered objection, by the category the note's words name (顾虑: any script on its words)."""


# ------------------------------------------------------------------------------------------------ the data


KEPT_INTERACTIONS = 12
"""Interactions kept per customer and day (the health score reads 10; ties at the latest time need a few more)."""


@dataclass
class CustomerFacts:
    """What the rules read about one customer, as of D (nothing dated after D)."""

    customer: Customer
    order_days: list[dt.date] = field(default_factory=list)
    """Distinct order dates in the history window, oldest first."""
    sku_days: dict[str, list[dt.date]] = field(default_factory=dict)
    """SKU → its distinct order dates in the history window, oldest first."""
    sku_value: dict[str, float] = field(default_factory=dict)
    """SKU → its spend in the history window."""
    health_now: PurchaseSummary = PurchaseSummary(None, 0.0, 0.0)
    health_then: PurchaseSummary = PurchaseSummary(None, 0.0, 0.0)
    """What the health score reads of the purchases as of D and as of D − ``tier_lookback_days``."""
    interactions: list[Interaction] = field(default_factory=list)
    """Latest first (then by id): the ``KEPT_INTERACTIONS`` latest up to D and those up to D − 30 (the rules read
    the latest; the health score the 10 latest as of each day)."""
    contracts: list[Contract] = field(default_factory=list)
    deals: list[DealRecord] = field(default_factory=list)

    @property
    def spend(self) -> float:
        """Spend in the history window (the value at risk of a silent customer)."""
        return sum(self.sku_value.values())


@dataclass
class TerritoryData:
    """The facts of a set of customers as of D, plus the catalogue facts the rules need."""

    as_of: dt.date
    customers: dict[str, CustomerFacts]
    products: dict[str, Product]
    chronic: dict[str, str]
    """SKU → the chronic indication it treats (the first by name)."""
    formulary: dict[str, list[tuple[str, str, dt.date | None, str]]]
    """SKU → changes (edition id, previous edition id, effective date, detail) of editions in the window."""
    safety: dict[str, SafetyReport] = field(default_factory=dict)
    """Interaction id → the drug-safety report made from it (``SAFE-<id>``), for the interactions a rule reads."""
    memo: dict[tuple[str, str, TaskParams], object] = field(default_factory=dict, repr=False, compare=False)
    """What two rules both derive per customer (silence, refill gaps), worked out once: basket drops read both."""


_EPOCH = dt.date(1970, 1, 1)


def _summaries(lines: pa.Table, on: dt.date) -> dict[str, PurchaseSummary]:
    """Per customer, the health score's purchase summary as of ``on`` (the briefing's windows: 90 and 90–180 days).

    One pass over the territory's lines in NumPy (the lines are sorted by customer): the amounts are added in line
    order, as the briefing's own summary adds them.
    """
    if not lines.num_rows:
        return {}
    codes = pc.dictionary_encode(lines["customer_id"].combine_chunks())
    names = codes.dictionary.to_pylist()
    cust = codes.indices.to_numpy(zero_copy_only=False)
    days = lines["at"].combine_chunks().cast(pa.int32()).to_numpy(zero_copy_only=False)
    amount = lines["amount"].combine_chunks().to_numpy(zero_copy_only=False)
    d = (on - _EPOCH).days
    upto = days <= d
    last = np.full(len(names), -1, dtype=np.int64)
    np.maximum.at(last, cust[upto], days[upto])
    recent_rows = upto & (days >= d - 90)
    before_rows = (days >= d - 180) & (days < d - 90)
    recent = np.bincount(cust[recent_rows], weights=amount[recent_rows], minlength=len(names))
    before = np.bincount(cust[before_rows], weights=amount[before_rows], minlength=len(names))
    return {names[i]: PurchaseSummary(_EPOCH + dt.timedelta(days=int(last[i])), float(recent[i]), float(before[i]))
            for i in np.flatnonzero(last >= 0).tolist()}  # fmt: skip


def _day_lists(column: pa.ChunkedArray) -> list[list[dt.date]]:
    """Arrow lists of dates (``list<date32>``) as sorted Python lists, each distinct day made into a date once.

    ``to_pylist`` makes a date object per element (the territory's order days are tens of thousands, of a few
    hundred distinct days): this reads the day numbers as integers instead.
    """
    out: list[list[dt.date]] = []
    made: dict[int, dt.date] = {}
    for chunk in column.chunks:
        offsets = chunk.offsets.to_pylist()
        values = chunk.values.cast(pa.int32()).to_pylist()
        for day in set(values) - made.keys():
            made[day] = _EPOCH + dt.timedelta(days=day)
        for a, b in zip(offsets, offsets[1:], strict=False):
            out.append([made[d] for d in sorted(values[a:b])])
    return out


def load_territory(
    store: GraphStore, tenant: str, customer_ids: Sequence[str], as_of: dt.date, params: TaskParams = PARAMS
) -> TerritoryData:
    """Read the facts of ``customer_ids`` as of ``as_of`` in batched, columnar reads (no per-customer query)."""
    customers = {c.id: CustomerFacts(c) for c in store.nodes_by_keys(tenant, Customer, sorted(set(customer_ids)))}
    ids = sorted(customers)
    since = as_of - dt.timedelta(days=params.history_days)
    lines = store.purchase_lines(tenant, ids, since=since, until=as_of)
    lines = lines.append_column("amount", pc.multiply(lines["qty"], lines["unit_price"]))
    by_sku = lines.group_by(["customer_id", "sku"]).aggregate([("at", "distinct"), ("amount", "sum")])
    for cid, sku, days, value in zip(by_sku["customer_id"].to_pylist(), by_sku["sku"].to_pylist(),
                                     _day_lists(by_sku["at_distinct"]), by_sku["amount_sum"].to_pylist(),
                                     strict=True):  # fmt: skip
        f = customers[cid]
        f.sku_days[sku] = days
        f.sku_value[sku] = value
    by_customer = lines.group_by("customer_id").aggregate([("at", "distinct")])
    for cid, days in zip(by_customer["customer_id"].to_pylist(), _day_lists(by_customer["at_distinct"]), strict=True):
        customers[cid].order_days = days
    then = as_of - dt.timedelta(days=params.tier_lookback_days)
    for day, name in ((as_of, "health_now"), (then, "health_then")):
        for cid, summary in _summaries(lines, day).items():
            setattr(customers[cid], name, summary)
    until = dt.datetime.combine(as_of, dt.time.max)
    talks = store.customer_interactions(tenant, ids, until=until)
    then_day = dt.datetime.combine(then, dt.time.max)
    kept: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # per customer: models made up to D, up to D − 30
    rows: list[int] = []
    for i, (cid, at) in enumerate(zip(talks["customer_id"].to_pylist(), talks["at"].to_pylist(), strict=True)):
        seen = kept[cid]
        early = at <= then_day
        if seen[0] >= KEPT_INTERACTIONS and (not early or seen[1] >= KEPT_INTERACTIONS):
            continue  # neither the latest ones (rules, score now) nor the latest ones before D − 30 (score then)
        seen[0] += 1
        seen[1] += early
        rows.append(i)
    chosen = talks.take(pa.array(rows, pa.int64()))  # only the kept rows become Python objects
    cols = {n: chosen[n].to_pylist() for n in ("customer_id", "id", "at", "channel", "summary", "next_step")}
    for i, cid in enumerate(cols["customer_id"]):
        row = {n: cols[n][i] for n in ("id", "at", "channel", "summary", "next_step")}
        customers[cid].interactions.append(Interaction.model_construct(tenant=tenant, **row))
    contract_of = (
        {e.contract_id: e.customer_id for e in store.edges_of(tenant, ContractWith, targets=ids)} if ids else {}
    )
    for k in store.nodes_by_keys(tenant, Contract, sorted(contract_of)):
        customers[contract_of[k.id]].contracts.append(k)
    deal_of = {e.deal_id: e.customer_id for e in store.edges_of(tenant, DealFor, targets=ids)} if ids else {}
    deals = [d for d in store.nodes_by_keys(tenant, Deal, sorted(deal_of)) if d.created_at <= as_of]
    open_ids = [d.id for d in deals if d.outcome in (None, "open")]
    quotes: dict[str, list[Quotes]] = defaultdict(list)
    for q in store.edges_of(tenant, Quotes, sources=open_ids) if open_ids else []:
        quotes[q.deal_id].append(q)
    for d in sorted(deals, key=lambda d: (d.created_at, d.id), reverse=True):
        customers[deal_of[d.id]].deals.append(DealRecord(d, tuple(quotes.get(d.id, ()))))
    skus = sorted(
        {sku for f in customers.values() for sku in f.sku_days} | {q.sku for qs in quotes.values() for q in qs}
    )
    products = {p.sku: p for p in store.nodes_by_keys(tenant, Product, skus)}
    chronic: dict[str, str] = {}
    for t in sorted(store.edges_of(tenant, Treats, sources=skus) if skus else [], key=lambda t: t.indication):
        if t.indication in params.chronic_indications:
            chronic.setdefault(t.sku, t.indication)
    data = TerritoryData(as_of, customers, products, chronic, _formulary(store, tenant, skus, as_of, params))
    wanted = sorted(interaction_report_id(i.id) for f in customers.values() for i in _latest(f)
                    if _read(i, as_of, params))  # fmt: skip
    data.safety = {r.source_id or "": r for r in store.nodes_by_keys(tenant, SafetyReport, wanted)} if wanted else {}
    return data


def _read(it: Interaction, as_of: dt.date, params: TaskParams) -> bool:
    """Whether a rule reads this latest interaction: recent (an objection) or with a next step now due (a follow-up)."""
    days = (as_of - it.at.date()).days
    return days <= params.objection_days or (bool((it.next_step or "").strip()) and days >= params.followup_days)


def _formulary(
    store: GraphStore, tenant: str, skus: list[str], as_of: dt.date, params: TaskParams
) -> dict[str, list[tuple[str, str, dt.date | None, str]]]:
    """Changes (added, removed, category, restriction) that editions effective in the window made to ``skus``."""
    editions = store.formulary_editions(tenant)
    lo, hi = (as_of + dt.timedelta(days=d) for d in params.formulary_window)
    out: dict[str, list[tuple[str, str, dt.date | None, str]]] = defaultdict(list)
    for before, edition in zip(editions, editions[1:], strict=False):
        if edition.effective_date is None or not lo <= edition.effective_date <= hi or not skus:
            continue
        for c in edition_changes(store, tenant, before.id, edition.id, skus=set(skus)):
            if not c.detail.startswith("支付标准"):  # the definition: added, removed, category or restriction
                out[c.sku].append((edition.id, before.id, edition.effective_date, c.detail))
    return out


# ------------------------------------------------------------------------------------------------ the rules


@dataclass(frozen=True)
class Finding:
    """One situation a rule found: what, for whom, about what, why (with node ids), how urgent."""

    trigger: str
    customer_id: str
    subject: str
    reason: str
    priority: int
    """1 urgent, 2 this week, 3 when convenient."""
    detail: str = ""
    due_days: int | None = None
    value: float = 0.0
    """The value at risk (the customer's or the SKU's spend of the last year), to rank within a priority."""
    query: str = ""
    skus: tuple[str, ...] = ()
    fact_ids: tuple[str, ...] = ()
    categories: frozenset[str] = frozenset()
    """The objection categories a suggested script must have (empty: any); see ``SCRIPT_CATEGORIES``."""
    safety_report: str | None = None
    """The drug-safety report of the interaction (a suspected adverse reaction): the task suggests no script."""
    no_script: bool = False
    """No script or case is suggested (a suspected adverse reaction, queued or not: never a sales script)."""


Rule = Callable[[CustomerFacts, TerritoryData, TaskParams], list[Finding]]


def _median_gap(days: Sequence[dt.date]) -> float:
    """The median of the gaps (days) between consecutive dates of ``days`` (sorted, at least two)."""
    gaps = sorted((b - a).days for a, b in zip(days, days[1:], strict=False))
    mid = len(gaps) // 2
    return float(gaps[mid]) if len(gaps) % 2 else (gaps[mid - 1] + gaps[mid]) / 2


def _name(data: TerritoryData, sku: str) -> str:
    p = data.products.get(sku)
    return ((p.brand + " ") if p and p.brand else "") + (p.name if p else sku)


def contract_ending(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> list[Finding]:
    """A contract ending within 90 days with no renewal (a later contract starting by its end + 1 day)."""
    out = []
    for k in f.contracts:
        left = (k.end_date - data.as_of).days
        if not 0 <= left <= params.contract_windows[-1]:
            continue
        renewed = [o for o in f.contracts if o.id != k.id and o.end_date > k.end_date
                   and o.start_date <= k.end_date + dt.timedelta(days=1)]  # fmt: skip
        if renewed:
            continue
        band = next(w for w in params.contract_windows if left <= w)
        due = 0 if band == params.contract_windows[0] else min(left, 7 if band <= 30 else 30)
        value = f"，合同额 ¥{k.value:,.0f}" if k.value else ""
        out.append(Finding(
            "contract_ending", f.customer.id, k.id, f"合同 {k.id} 于 {k.end_date} 到期（还剩 {left} 天，{band} 天内"
            f"{value}），尚无续约合同：启动续签", 1 if band == params.contract_windows[0] else 2 if band <= 30 else 3,
            detail=str(band), due_days=due, value=k.value or 0.0, fact_ids=(k.id,),
        ))  # fmt: skip
    return out


def _silence(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> tuple[float, dt.date] | None:
    """(usual interval, last order date) when the customer is silent, else ``None`` (worked out once per list)."""
    key = ("silence", f.customer.id, params)
    if key not in data.memo:
        data.memo[key] = _silence_of(f, data, params)
    return data.memo[key]  # type: ignore[return-value]


def _silence_of(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> tuple[float, dt.date] | None:
    days = f.order_days
    if len(days) < params.silent_min_order_days:
        return None
    interval = _median_gap(days)
    if (data.as_of - days[-1]).days > params.silent_factor * interval:
        return interval, days[-1]
    return None


def silent_customer(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> list[Finding]:
    """No order for more than 1.5× the customer's own usual interval (median gap of the last year's order days)."""
    found = _silence(f, data, params)
    if found is None:
        return []
    interval, last = found
    spend = f.spend
    days = (data.as_of - last).days
    return [Finding(
        "silent_customer", f.customer.id, "", f"客户 {f.customer.id} 已 {days} 天未下单（通常每 {interval:.0f} 天下单，"
        f"最近一次 {last}）；近一年采购额 ¥{spend:,.0f} 面临流失", 1 if days > 3 * interval else 2, value=spend,
    )]  # fmt: skip


def _refill_gaps(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> dict[str, tuple[int, dt.date]]:
    """SKU → (longest run of consecutive months, last purchase) for the chronic SKUs with a refill gap (once a list)."""
    key = ("refill", f.customer.id, params)
    if key not in data.memo:
        data.memo[key] = _refill_gaps_of(f, data, params)
    return data.memo[key]  # type: ignore[return-value]


def _refill_gaps_of(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> dict[str, tuple[int, dt.date]]:
    out = {}
    lo, hi = params.refill_gap_days
    for sku, days in f.sku_days.items():
        if sku not in data.chronic or not lo <= (data.as_of - days[-1]).days <= hi:
            continue
        months = sorted({d.year * 12 + d.month - 1 for d in days})
        run = best = 1
        for a, b in zip(months, months[1:], strict=False):
            run = run + 1 if b == a + 1 else 1
            best = max(best, run)
        if best >= params.refill_min_months:
            out[sku] = (best, days[-1])
    return out


def refill_gap(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> list[Finding]:
    """A monthly buyer (≥ 3 consecutive months) of a chronic-disease SKU whose last purchase is 35–100 days old."""
    out = []
    for sku, (run, last) in sorted(_refill_gaps(f, data, params).items()):
        days = (data.as_of - last).days
        out.append(Finding(
            "refill_gap", f.customer.id, sku,
            f"{_name(data, sku)}（{sku}，{data.chronic[sku]}用药）曾连续 {run} 个月每月采购，最近一次 {last}，"
            f"已 {days} 天未补货：患者可能断药，建议启动慢病随访服务", 1, skus=(sku,),
            value=f.sku_value.get(sku, 0.0),
        ))  # fmt: skip
    return out


def basket_drop(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> list[Finding]:
    """The SKUs of a regular basket (≥ 3 order days) not re-ordered for 1.5× their interval; not for a silent customer.

    One finding per customer (subject ``""``) listing every dropped SKU with its id, the largest spend first: the rep
    visits the customer once about its basket, not once per SKU (the demo rep had 51 such tasks over 8 customers).
    ``skus`` holds the SKUs, each a situation of the definition (the evaluation scores them one by one).
    """
    if _silence(f, data, params) is not None:
        return []
    refill = _refill_gaps(f, data, params)
    dropped: list[tuple[str, int, float, int, dt.date]] = []
    for sku, days in f.sku_days.items():
        gone = (data.as_of - days[-1]).days
        if (
            len(days) < params.basket_min_days
            or sku in refill
            or gone <= params.basket_factor * params.basket_min_interval
        ):
            continue  # the interval is at least the minimum: bought since then, not dropped
        interval = max(_median_gap(days), float(params.basket_min_interval))
        if gone > params.basket_factor * interval:
            dropped.append((sku, len(days), interval, gone, days[-1]))
    if not dropped:
        return []
    dropped.sort(key=lambda x: (-f.sku_value.get(x[0], 0.0), x[0]))
    parts = [f"{_name(data, sku)}（{sku}）过去一年 {n} 次采购，通常每 {interval:.0f} 天补货，已 {gone} 天未采购（最近 "
             f"{last}）" for sku, n, interval, gone, last in dropped]  # fmt: skip
    skus = tuple(x[0] for x in dropped)
    return [Finding(
        "basket_drop", f.customer.id, "", f"{len(dropped)} 个常购品种断档：" + "；".join(parts), 2,
        detail=",".join(sorted(skus)), skus=skus, value=sum(f.sku_value.get(s, 0.0) for s in skus),
    )]  # fmt: skip


def tier_of(score: int) -> str:
    """The strategy tier of a health score (VIP, 教育, 挽留) or ``—``."""
    return next((name for name, rule, _ in TIERS if rule(score)), NO_TIER)


def _score(f: CustomerFacts, on: dt.date, purchases: PurchaseSummary) -> int:
    """The briefing's health score as of ``on`` from the data dated up to ``on`` (contracts: as recorded).

    Only the 10 latest interactions up to ``on`` are read (the briefing's: last visit and open follow-ups).
    """
    talks = [i for i in f.interactions if i.at.date() <= on][:NEXT_STEP_INTERACTIONS]
    ctx = CustomerContext(
        f.customer,
        interactions=tuple(InteractionRecord(i, None, ()) for i in talks),
        contracts=tuple(f.contracts),
        deals=tuple(d for d in f.deals if d.deal.created_at <= on),
    )
    return health_score(ctx, on, purchases)


def health_tier(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> list[Finding]:
    """The health score's strategy tier as of D differs from its tier as of D − 30, and is one of the three."""
    now = _score(f, data.as_of, f.health_now)
    tier = tier_of(now)
    if tier == NO_TIER:
        return []
    then_day = data.as_of - dt.timedelta(days=params.tier_lookback_days)
    then = _score(f, then_day, f.health_then)
    if tier_of(then) == tier:
        return []
    strategy = next(s for name, _, s in TIERS if name == tier)
    return [Finding(
        "health_tier", f.customer.id, tier,
        f"客户 {f.customer.id} 健康分 {now}（{then_day} 为 {then}，{tier_of(then)} → {tier}）：{strategy}",
        {"挽留": 1, "教育": 2}.get(tier, 3), due_days=3 if tier == "挽留" else 7, query=strategy,
    )]  # fmt: skip


def formulary_change(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> list[Finding]:
    """A SKU bought in the last 180 days whose formulary status an edition effective in [D − 90, D + 60] changed."""
    since = data.as_of - dt.timedelta(days=params.formulary_bought_days)
    bought = sorted(sku for sku, days in f.sku_days.items() if days[-1] >= since and sku in data.formulary)
    out = []
    for sku in bought:
        edition, _before, effective, detail = data.formulary[sku][-1]
        ahead = (effective - data.as_of).days if effective else 0
        out.append(Finding(
            "formulary_change", f.customer.id, sku, f"{_name(data, sku)}（{sku}）医保目录变化：{detail}（{edition}，"
            f"{effective} 生效）；客户近 {params.formulary_bought_days} 天有采购，需讲清对报销和动销的影响",
            1 if "调出" in detail else 2, due_days=max(0, min(7, ahead)), skus=(sku,), fact_ids=(edition,),
        ))  # fmt: skip
    return out


def _safety_note(it: Interaction, data: TerritoryData) -> str:
    """The part of a reason that says where a suspected adverse reaction in ``it`` went, and what the rep does."""
    report = data.safety.get(it.id)
    if report is None:
        return f"疑似不良反应尚未进入药物警戒队列：今天内上报药物警戒部门；{SAFETY_ACTION}"
    return f"已转药物警戒（报告 {report.id}，{SAFETY_STATUS_NAMES.get(report.status, report.status)}）：{SAFETY_ACTION}"


def objection_no_followup(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> list[Finding]:
    """The customer's latest interaction (within 14 days) records an objection, and nothing followed it yet.

    A suspected adverse reaction (the side-effects objection, or any note in the drug-safety queue) is not answered
    with a sales script: the task names the safety report and tells the rep to support drug safety's follow-up.
    """
    out = []
    for it in _latest(f):
        found = objection_in(it.summary) if (data.as_of - it.at.date()).days <= params.objection_days else None
        if found is None:
            continue
        category, clause = found
        report = data.safety.get(it.id)
        if category == "不良反应" or report is not None:
            out.append(Finding(
                "objection_no_followup", f.customer.id, it.id,
                f"{it.at:%m-%d} 的拜访 {it.id} 记录疑似不良反应：“{clause}”。{_safety_note(it, data)}",
                1, due_days=0 if report is None else None, fact_ids=(it.id, *((report.id,) if report else ())),
                safety_report=report.id if report else None, no_script=True,
            ))  # fmt: skip
            continue
        out.append(Finding(
            "objection_no_followup", f.customer.id, it.id,
            f"{it.at:%m-%d} 的拜访 {it.id} 记录客户异议（{category}）：“{clause}”，之后尚无跟进",
            1, query=clause, fact_ids=(it.id,), categories=OBJECTION_SCRIPT_CATEGORIES.get(category, frozenset()),
        ))  # fmt: skip
    return out


OBJECTION_CACHE = 65_536
"""Visit notes whose objection reading is kept (a few hundred recent notes per rep)."""


def _latest(f: CustomerFacts) -> list[Interaction]:
    """The customer's interactions with no later one (several only when they share the latest time)."""
    return [i for i in f.interactions if i.at == f.interactions[0].at] if f.interactions else []


@functools.lru_cache(maxsize=OBJECTION_CACHE)
def objection_in(summary: str) -> tuple[str, str] | None:
    """(category, clause) of the first objection a visit note records, or ``None``.

    A function of the text alone, cached: the same recent notes are read on every list of the day, and the
    adverse-reaction reading of each clause costs milliseconds.
    """
    for clause in (c.strip() for c in re.split(r"[；;。\n]", summary)):
        if not clause:
            continue
        if detect_as_typed(clause) is not None:
            return "不良反应", clause
        if ANSWERED.search(clause):
            continue
        text = NO_OBJECTION.sub("，", clause)
        for category, cue in OBJECTION_CUES.items():
            if any(not NEGATION.search(text, 0, m.start()) for m in cue.finditer(text)):
                return category, clause
    return None


def followup_overdue(f: CustomerFacts, data: TerritoryData, params: TaskParams) -> list[Finding]:
    """The customer's latest interaction agreed a next step 14 or more days ago, and no interaction followed.

    When that interaction is in the drug-safety queue, the task says so and suggests no script (see objections).
    """
    it = next((i for i in _latest(f) if (i.next_step or "").strip()), None)
    days = (data.as_of - it.at.date()).days if it is not None else 0
    if it is None or days < params.followup_days:
        return []
    report = data.safety.get(it.id)
    reason = f"{it.at:%Y-%m-%d} 拜访 {it.id} 约定“{it.next_step}”，已过 {days} 天，之后没有拜访记录"
    if report is not None:
        return [Finding(
            "followup_overdue", f.customer.id, it.id, f"{reason}；该拜访记录了疑似不良反应，{_safety_note(it, data)}",
            1, fact_ids=(it.id, report.id), safety_report=report.id, no_script=True,
        )]  # fmt: skip
    return [Finding("followup_overdue", f.customer.id, it.id, reason, 1, query=it.next_step or "", fact_ids=(it.id,))]


RULES: dict[str, Rule] = {
    "contract_ending": contract_ending,
    "silent_customer": silent_customer,
    "basket_drop": basket_drop,
    "refill_gap": refill_gap,
    "health_tier": health_tier,
    "formulary_change": formulary_change,
    "objection_no_followup": objection_no_followup,
    "followup_overdue": followup_overdue,
}
"""The rules that read only the customer's own facts; price flags need the price index (``price_flags``)."""


def price_flags(data: TerritoryData, index: PriceIndex) -> list[Finding]:
    """Open deals with a quote line the price guard flags (too low / too high against the customer's usual price)."""
    out = []
    mine = set(data.customers)  # the explanation may not lean on customers outside the territory
    for f in data.customers.values():
        for d in f.deals:
            if d.deal.outcome not in (None, "open") or not d.quotes:
                continue
            lines = [QuoteLine(f.customer.id, q.sku, q.unit_price, q.qty, data.as_of) for q in d.quotes
                     if index.has_product(q.sku)]  # fmt: skip
            flagged = [x for x in check_quote(index, lines, today=data.as_of, visible=mine) if x.flagged]
            if not flagged:
                continue
            text = "；".join(f"{_name(data, x.line.sku)} ¥{x.line.unit_price:g}：{x.explanation}" for x in flagged)
            out.append(Finding(
                "price_flag_open_deal", f.customer.id, d.deal.id,
                f"在谈商机 {d.deal.id}（{d.deal.stage}）报价异常：{text}",
                1, skus=tuple(x.line.sku for x in flagged), fact_ids=(d.deal.id,),
            ))  # fmt: skip
    return out


def find(data: TerritoryData, *, price_index: PriceIndex | None = None, params: TaskParams = PARAMS) -> list[Finding]:
    """Every finding of every rule over the territory (price flags only with a price index)."""
    out = [x for f in data.customers.values() for rule in RULES.values() for x in rule(f, data, params)]
    if price_index is not None:
        out += price_flags(data, price_index)
    return out


# ------------------------------------------------------------------------------------------------ the tasks


def task_id(trigger: str, customer_id: str, subject: str) -> str:
    """The stable id of the task of one situation (the same on every day it holds)."""
    digest = hashlib.sha256(f"{trigger}\x1f{customer_id}\x1f{subject}".encode()).hexdigest()
    return f"T-{digest[:20]}"


class Suggestion(BaseModel):
    """The script or case retrieval suggests for a task."""

    entry_id: str
    kind: str
    title: str
    badge: str = Field(
        "", description="本品: about the task's product; 通用: about no product; 同适应症: about an indication only; "
        "empty: a case of a task that names no product.",
    )  # fmt: skip


class TaskItem(BaseModel):
    """One task of a rep's list."""

    id: str
    trigger: str
    trigger_name: str
    also: list[str] = Field(default_factory=list, description="Other triggers about the same customer and subject.")
    customer_id: str
    customer_name: str
    subject: str
    detail: str = Field("", description="A contract's band (7, 30, 90); a basket drop's SKUs (comma-separated).")
    skus: list[str] = Field(default_factory=list, description="The SKUs the task is about (a basket drop: each one).")
    reason: str
    priority: int = Field(ge=1, le=3, description="1 urgent, 2 this week, 3 when convenient.")
    due: dt.date
    value_at_risk: float = 0.0
    fact_ids: list[str] = Field(default_factory=list, description="The nodes the reason cites.")
    suggestion: Suggestion | None = None
    safety_report_id: str | None = Field(
        None, description="The drug-safety report (SAFE-…) of the suspected adverse reaction the task is about: such a "
        "task suggests no script; the rep supports drug safety's follow-up.",
    )  # fmt: skip
    state: TaskState = "open"
    snoozed_until: dt.date | None = None
    dismiss_reason: str | None = None
    interaction_id: str | None = None
    updated_at: dt.datetime | None = None


class TaskList(BaseModel):
    """A rep's tasks as of a date: open ones first (priority, due, value at risk), then snoozed, done, dismissed."""

    rep_id: str
    as_of: dt.date
    customers: int
    counts: dict[str, int]
    items: list[TaskItem]


Ask = tuple[str, tuple[str, ...], tuple[str, ...], frozenset[str]]
"""What a task asks retrieval: the query, the entry kinds (preferred first), its SKUs, the script categories allowed."""
Suggest = Callable[[str, tuple[str, ...], tuple[str, ...], frozenset[str]], Suggestion | None]
SUGGEST_DEPTH = 8
"""Hits read per search when a script category is required (the best one of the right topic among them)."""


def _badge(doc: EntryDoc | None, skus: tuple[str, ...]) -> str:
    """本品, 通用, 同适应症 or empty (see ``Suggestion.badge``)."""
    if doc is None:
        return ""
    if set(doc.skus) & set(skus):
        return "本品"
    if not doc.skus:
        return "同适应症" if doc.indications else "通用"
    return ""


def retrieval_suggester(index: KnowledgeIndex) -> Suggest:
    """A suggester over the tenant's published entries: the best hit of the preferred kind (cached per question).

    An objection script is suggested only when its category is one the task allows (``SCRIPT_CATEGORIES``): with
    none of them published, the task has no suggestion rather than the nearest script on another topic. An entry
    about a product must be about one of the task's products: a task about products looks among their entries, then
    among entries about no product (通用); a script or note for a task that names no product is one about no product
    (the 保和丸 price flag was offered 「瑞舒伐他汀钙片比竞品贵7%…」 before). Cases of a task without a product are
    not limited: a case is a customer's story, read for how it was won back.
    """
    cache: dict[Ask, Suggestion | None] = {}

    def fits(entry_id: str, kind: str, categories: frozenset[str]) -> bool:
        doc = index.docs.get(entry_id)
        return kind != "objection_script" or not categories or (doc is not None and doc.category in categories)

    def suggest(
        query: str, kinds: tuple[str, ...], skus: tuple[str, ...], categories: frozenset[str] = frozenset()
    ) -> Suggestion | None:
        key = (query, kinds, skus, categories)
        if key not in cache:
            cache[key] = None
            for kind in kinds:
                depth = SUGGEST_DEPTH if kind == "objection_script" and categories else 1
                general = SearchFilters(kinds=(kind,), no_product=bool(skus) or kind != "case_study")
                for filters in (SearchFilters(kinds=(kind,), skus=skus), general) if skus else (general,):
                    hits = index.search(query, k=depth, filters=filters) if query else []
                    hit = next((h for h in hits if fits(h.entry_id, h.kind, categories)), None)
                    if hit is not None:
                        badge = _badge(index.docs.get(hit.entry_id), skus)
                        cache[key] = Suggestion(entry_id=hit.entry_id, kind=hit.kind, title=hit.title, badge=badge)
                        return cache[key]
        return cache[key]

    return suggest


SUGGEST_FIRST = 20
"""Open tasks (in list order) that get a suggested script or case in a list; one task read alone always gets one."""
INTERACTION_TRIGGERS = frozenset({"objection_no_followup", "followup_overdue"})
GROUPED_TRIGGERS = frozenset({"basket_drop"})
"""Triggers with one task per customer for several SKUs (``skus``); each SKU is one situation of the definition."""
"""Triggers whose subject is an interaction: findings of both about one interaction are one task."""
STATE_ORDER = {"open": 0, "snoozed": 1, "done": 2, "dismissed": 3}


def _state_of(item: TaskItem, stored: Task | None, as_of: dt.date) -> None:
    """Apply the stored state: a snooze ends on its date; a contract's more urgent band reopens a closed task."""
    if stored is None:
        return
    if stored.state == "snoozed" and stored.snoozed_until is not None and stored.snoozed_until <= as_of:
        return
    if item.trigger == "contract_ending" and stored.detail and item.detail and int(item.detail) < int(stored.detail):
        return  # 90 → 30 → 7 days: each band is a new alarm
    if item.trigger in GROUPED_TRIGGERS and set(item.skus) - set((stored.detail or "").split(",")):
        return  # a SKU dropped since the rep closed the task: a new alarm about the basket
    item.state = stored.state
    item.snoozed_until = stored.snoozed_until
    item.dismiss_reason = stored.dismiss_reason
    item.interaction_id = stored.interaction_id
    item.updated_at = stored.updated_at


def _due_days(x: Finding) -> int:
    return DUE_DAYS[x.trigger] if x.due_days is None else x.due_days


UNRELATED_TYPES = frozenset({
    "Task", "AuditEvent", "Entry", "EntryVersion", "Previous", "AboutProduct", "AboutIndication", "CaseOf",
    "CompetitorProduct", "CompetesWith", "CompetitorPhoto", "CompetitorObservation", "ScriptRequest", "Doctor",
    "WorksAt", "Prescribes", "Promotion", "PriceEvent", "Rep", "Owns", "Had", "Mentions",
})  # fmt: skip
"""Graph types no rule of ``RULES`` reads: a write of these alone leaves a territory's findings as they were (a task's
state is read on every list; price flags, which read the price index, are worked out on every list; a rep's
customers are part of the read model's key). Any other type, or a change record that does not say what it wrote,
makes the findings be read again."""
UNRELATED_KINDS = frozenset({"entry_saved"})
"""Change kinds that write only what no rule reads (an entry's versioned save)."""
CACHE_LOG_BATCH = 1_000
"""Change records read to decide whether a cached territory still holds; more than this: read it again."""


CUSTOMER_FACTS: dict[str, tuple[type[Edge] | None, str]] = {
    "Customer": (None, ""), "Purchased": (None, "customer_id"), "InteractionWith": (None, "customer_id"),
    "ContractWith": (None, "customer_id"), "DealFor": (None, "customer_id"), "Interaction": (InteractionWith, ""),
    "Contract": (ContractWith, ""), "Deal": (DealFor, ""), "Quotes": (DealFor, "deal_id"),
    "SafetyReport": (InteractionWith, ""),
}  # fmt: skip
"""Types whose writes concern known customers, and how a change's keys lead to them: a node's key is a customer's
(``Customer``), or the source of an edge to customers (an interaction's ``InteractionWith``); an edge's endpoint
field names the customer, or a deal whose ``DealFor`` does. A write of any other type a rule reads (a product, a
formulary edition, an indication) concerns the whole tenant."""


def changed_customers(store: GraphStore, tenant: str, change: Change) -> frozenset[str] | None:
    """The customers whose facts a change-log record may have changed; ``None``: maybe any (conservative).

    Read from what the record says it wrote (``WRITTEN``), with key lookups for the customers of the interactions,
    contracts, deals and safety reports it names. A record that does not say, or lists cut short, concern everyone.
    """
    if change.kind in UNRELATED_KINDS:
        return frozenset()
    try:
        details = json.loads(change.details or "{}")
    except ValueError:
        return None
    written = details.get(WRITTEN) if isinstance(details, dict) else None
    if not isinstance(written, dict) or details.get("cut"):
        return None
    customers: set[str] = set()
    for name, keys in written.items():
        parts = str(name).split(".")
        if parts[0] in UNRELATED_TYPES:
            continue
        if parts[0] not in CUSTOMER_FACTS or not isinstance(keys, list):
            return None
        edge, field_name = CUSTOMER_FACTS[parts[0]]
        if (parts[-1] if len(parts) > 1 else "") != field_name:
            continue  # an edge's other endpoint (the product of an order line): its customer side is listed too
        keys = [str(k) for k in keys]
        if parts[0] == "SafetyReport":  # a report's key is SAFE-<interaction id>; its source says so too
            reports = store.nodes_by_keys(tenant, SafetyReport, keys)
            keys = [k.removeprefix("SAFE-") for k in keys] + [r.source_id for r in reports if r.source_id]
            customers.update(r.customer_id for r in reports if r.customer_id)
        if edge is None:
            customers.update(keys)
        elif keys:
            customers.update(str(getattr(e, "customer_id")) for e in store.edges_of(tenant, edge, sources=keys))  # noqa: B009
    return frozenset(customers)


@dataclass
class _Findings:
    """What one territory's rules found as of a day, while the change log stands at ``head``."""

    head: int
    mark: tuple[str, dt.datetime, int] | None
    """The record at ``head`` (kind, time, hash of its details): a log begun again (the tenant deleted and loaded
    anew) no longer holds it, and the findings are read again."""
    customers: int
    items: list[TaskItem]
    """One task per group, as found (open, no suggestion): copied for each list, never handed out."""
    ids_of: dict[str, list[str]]
    asks: dict[str, Ask]
    deals: TerritoryData
    """The territory's customers with their open deals and the products they quote, for the price flags."""


CacheKey = tuple[str, tuple[str, ...], dt.date, TaskParams]


class TaskCache:
    """The task lists' read model: per tenant, territory (its customers), day and parameters, what the rules found.

    Valid while the tenant's change log says nothing the rules read about its customers was written since: each
    list reads the log's head first (one key lookup); when it moved, the records since are read and the findings
    kept only when none of them concerns the territory's customers (``changed_customers``: a task's state change, an
    entry's edit, a photo concern no one; another rep's visit or order lines concern other customers; a product or
    formulary edition concerns everyone), so a write is seen in the next list. Every write path logs
    (``load_batch``, ``upsert_*``, ``bulk_load``, the entry save). What a list adds on top is read every time: the
    tasks' stored states, the price flags of open deals (the price index follows the log on its own), the
    suggestions. The least recently used territories are dropped past ``size`` (a territory of 300 customers with
    945 tasks keeps ≈ 3.3 MB: 64 of them ≈ 210 MB per tenant and process). Thread-safe; a list computed by two
    requests at once is stored once (the later head).
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[CacheKey, _Findings] = OrderedDict()
        self._touched: OrderedDict[tuple[str, int, tuple[str, dt.datetime, int]], frozenset[str] | None] = OrderedDict()
        """A change record → the customers it concerns (``None``: any), worked out once for every territory."""
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, store: GraphStore, key: CacheKey, head: int) -> _Findings | None:
        """The findings of ``key`` if no write since they were read concerns its customers' facts (up to ``head``)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
        if found is None or found.head > head:
            return None
        if found.head < head:
            changes = store.changes(key[0], after=max(found.head - 1, 0), limit=CACHE_LOG_BATCH)
            if found.head:  # the record the findings were read at must still be there: the same log
                if not changes or changes[0].seq != found.head or _mark(changes[0]) != found.mark:
                    return None
                changes = changes[1:]
            if len(changes) >= CACHE_LOG_BATCH - 1 or not changes or changes[-1].seq < head:
                return None
            mine = set(key[1])
            for change in changes:
                touched = self._customers(store, change)
                if touched is None or not touched.isdisjoint(mine):
                    return None
            at_head = next((c for c in changes if c.seq == head), None)
            if at_head is None:
                return None
            found.head, found.mark = head, _mark(at_head)  # nothing its rules read changed: no look at the log next
        return found

    def _customers(self, store: GraphStore, change: Change) -> frozenset[str] | None:
        at = (change.tenant, change.seq, _mark(change))
        with self._lock:
            if at in self._touched:
                return self._touched[at]
        touched = changed_customers(store, change.tenant, change)
        with self._lock:
            self._touched[at] = touched
            while len(self._touched) > CACHE_LOG_BATCH:
                self._touched.popitem(last=False)
        return touched

    def put(self, key: CacheKey, found: _Findings) -> None:
        """Keep the findings of ``key`` (unless a list read at a later head is held already)."""
        with self._lock:
            held = self._entries.get(key)
            if held is None or held.head <= found.head:
                self._entries[key] = found
                self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every territory (a tenant's data replaced wholesale)."""
        with self._lock:
            self._entries.clear()
            self._touched.clear()


def _mark(change: Change) -> tuple[str, dt.datetime, int]:
    """What tells one change record from another with the same number (in a log begun again)."""
    return change.kind, change.at, hash(change.details)


def _findings(
    store: GraphStore,
    tenant: str,
    customer_ids: Sequence[str],
    as_of: dt.date,
    head: int,
    params: TaskParams,
    *,
    marked: bool = False,
) -> _Findings:
    """Read the territory and run ``RULES``: one task per group of findings, before states, price flags, suggestions.

    ``marked``: note the change record at ``head`` (read first: a later write only moves the head further).
    """
    at_head = store.changes(tenant, after=head - 1, limit=1) if marked and head else []
    mark = _mark(at_head[0]) if at_head and at_head[0].seq == head else None
    data = load_territory(store, tenant, customer_ids, as_of, params)
    out = _group(find(data, params=params), data, as_of)
    deals = TerritoryData(
        as_of,
        {cid: CustomerFacts(f.customer, deals=[d for d in f.deals if d.deal.outcome in (None, "open") and d.quotes])
         for cid, f in data.customers.items()},
        dict(data.products), {}, {},
    )  # fmt: skip
    return _Findings(head, mark, len(data.customers), out[0], out[1], out[2], deals)


def _group(
    findings: list[Finding], data: TerritoryData, as_of: dt.date
) -> tuple[list[TaskItem], dict[str, list[str]], dict[str, Ask]]:
    """Findings about the same customer and subject become one task (see ``build_tasks``)."""
    grouped: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for x in findings:
        same = x.trigger in INTERACTION_TRIGGERS
        key = (x.customer_id, x.subject if same else f"{x.trigger}\x1f{x.subject}")
        grouped[key].append(x)
    items: list[TaskItem] = []
    ids_of: dict[str, list[str]] = {}
    asks: dict[str, Ask] = {}
    for group in grouped.values():
        group.sort(key=lambda x: (x.priority, x.trigger))
        x = group[0]
        item = TaskItem.model_construct(  # built from the rules' own values: validating 900 items cost ~25 ms
            id=task_id(x.trigger, x.customer_id, x.subject), trigger=x.trigger, trigger_name=TRIGGER_NAMES[x.trigger],
            also=[o.trigger for o in group[1:]], customer_id=x.customer_id,
            customer_name=data.customers[x.customer_id].customer.name, subject=x.subject, detail=x.detail,
            skus=list(x.skus), reason="；".join(o.reason for o in group), priority=x.priority,
            due=as_of + dt.timedelta(days=min(_due_days(o) for o in group)),
            value_at_risk=round(max(o.value for o in group), 2),
            fact_ids=sorted({i for o in group for i in o.fact_ids}),
            safety_report_id=next((o.safety_report for o in group if o.safety_report), None),
        )  # fmt: skip
        query, kinds = SUGGESTION_QUERIES[x.trigger]
        if not any(o.no_script for o in group):  # a suspected adverse reaction: drug safety answers, not a script
            asks[item.id] = (query or x.query, kinds, x.skus,
                             x.categories or SCRIPT_CATEGORIES.get(x.trigger, frozenset()))  # fmt: skip
        ids_of[item.id] = [task_id(o.trigger, o.customer_id, o.subject) for o in group]
        items.append(item)
    return items, ids_of, asks


def build_tasks(
    store: GraphStore,
    tenant: str,
    rep_id: str,
    *,
    as_of: dt.date,
    price_index: PriceIndex | None = None,
    suggest: Suggest | None = None,
    suggest_first: int = SUGGEST_FIRST,
    only: str | None = None,
    params: TaskParams = PARAMS,
    cache: TaskCache | None = None,
) -> TaskList:
    """The task list of ``rep_id`` as of ``as_of``: the findings over the customers it owns, one task per situation.

    Findings about the same customer and subject from several triggers (an objection and an overdue next step of one
    interaction) are one task (``also`` names the others; its state is stored under each trigger's id). ``suggest``
    adds the script or case to use to the first ``suggest_first`` open tasks (what a rep reads first; each retrieval
    costs milliseconds) and to the task ``only`` (one task opened by itself). ``cache`` keeps what the rules found
    per territory and day until the change log says a fact they read was written (``TaskCache``): the same list,
    without reading the territory again.
    """
    territory = Territory.of_rep(store, tenant, rep_id)
    customer_ids = tuple(sorted(territory.customer_ids or ()))
    key: CacheKey = (tenant, customer_ids, as_of, params)
    head = store.change_head(tenant) if cache is not None else 0  # read before the facts: a later write moves it
    found = cache.get(store, key, head) if cache is not None else None
    if cache is not None:
        if found is None:
            cache.misses += 1
        else:
            cache.hits += 1
    if found is None:
        found = _findings(store, tenant, customer_ids, as_of, head, params, marked=cache is not None)
        if cache is not None:
            cache.put(key, found)
    fresh = cache is None  # a list read afresh is this call's own; a cached one is copied, never handed out
    items = found.items if fresh else [t.model_copy() for t in found.items]
    ids_of, asks = (found.ids_of, found.asks) if fresh else (dict(found.ids_of), dict(found.asks))
    if price_index is not None:
        flagged, flag_ids, flag_asks = _group(price_flags(found.deals, price_index), found.deals, as_of)
        items += flagged
        ids_of.update(flag_ids)
        asks.update(flag_asks)
    stored = {t.id: t for t in store.nodes_by_keys(tenant, Task, sorted({i for ids in ids_of.values() for i in ids}))}
    for item in items:
        _state_of(item, next((stored[i] for i in ids_of[item.id] if i in stored), None), as_of)
    items.sort(key=lambda t: (STATE_ORDER[t.state], t.priority, t.due, -t.value_at_risk, t.customer_id, t.id))
    if suggest is not None:
        for item in [t for t in items if t.state == "open" or t.id == only][:suggest_first]:
            ask = asks.get(item.id)
            item.suggestion = suggest(*ask) if ask is not None else None
    counts = {s: sum(1 for t in items if t.state == s) for s in STATE_ORDER}
    return TaskList(rep_id=rep_id, as_of=as_of, customers=found.customers, counts=counts, items=items)


# ------------------------------------------------------------------------------------------------ state changes


class TaskStateError(CopilotError):
    """A state change that does not fit the task (dismiss without a reason, snooze into the past, …)."""

    code = "invalid_task_state"


@dataclass(frozen=True)
class NewInteraction:
    """The visit or call that closes a task, recorded with it (the rep's own words)."""

    summary: str
    channel: str = "拜访"
    next_step: str | None = None


def set_state(
    store: GraphStore,
    tenant: str,
    rep_id: str,
    item_id: str,
    *,
    state: TaskState,
    as_of: dt.date,
    actor: str,
    snoozed_until: dt.date | None = None,
    dismiss_reason: str | None = None,
    interaction_id: str | None = None,
    interaction: NewInteraction | None = None,
    price_index: PriceIndex | None = None,
    cache: TaskCache | None = None,
) -> TaskItem:
    """Set the state of one of the rep's tasks as of ``as_of``; the task as it now reads.

    ``done`` links the interaction that closed it: an existing one of the same customer (``interaction_id``) or one
    recorded now (``interaction``, by this rep, with the customer; a suspected adverse reaction in it goes to the
    drug-safety queue in the same transaction). ``snoozed`` needs a date after ``as_of``; ``dismissed`` a reason.
    A task id the rep does not have today is unknown (``NotFoundError``), as for another rep's task.
    """
    tasks = build_tasks(store, tenant, rep_id, as_of=as_of, price_index=price_index, cache=cache)
    item = next((t for t in tasks.items if t.id == item_id), None)
    if item is None:
        raise NotFoundError(f"unknown task {item_id}", details={"id": item_id})
    if state == "snoozed" and (snoozed_until is None or snoozed_until <= as_of):
        raise TaskStateError("snoozed needs snoozed_until after today", details={"field": "snoozed_until"})
    if state == "dismissed" and not (dismiss_reason or "").strip():
        raise TaskStateError("dismissed needs a reason", details={"field": "dismiss_reason"})
    if state != "done" and (interaction_id or interaction):
        raise TaskStateError("an interaction closes a task only when it is done", details={"field": "interaction"})
    if state == "done" and bool(interaction_id) == bool(interaction):
        raise TaskStateError("done needs the interaction that closed it: interaction_id or a new interaction",
                             details={"field": "interaction_id"})  # fmt: skip
    now = utc_now()
    loads: list[tuple[type[Node] | type[Edge], pa.Table]] = []
    if interaction_id:
        linked = store.edges_of(tenant, InteractionWith, sources=[interaction_id])
        if not any(e.customer_id == item.customer_id for e in linked):
            raise NotFoundError(f"unknown interaction {interaction_id} of customer {item.customer_id}",
                                details={"interaction_id": interaction_id})  # fmt: skip
    if interaction is not None:
        if not interaction.summary.strip():
            raise TaskStateError("the interaction needs a summary", details={"field": "interaction.summary"})
        interaction_id = f"I-TASK-{time.time_ns():020d}"
        it = Interaction(tenant=tenant, id=interaction_id, at=now, channel=interaction.channel,
                         summary=interaction.summary, next_step=interaction.next_step or None)  # fmt: skip
        skus = item.skus if item.trigger in ("basket_drop", "refill_gap", "formulary_change") else []
        tables = {
            "Interaction": models_to_table(Interaction, [it]),
            "Had": models_to_table(Had, [Had(tenant=tenant, rep_id=rep_id, interaction_id=interaction_id)]),
            "InteractionWith": models_to_table(InteractionWith, [
                InteractionWith(tenant=tenant, interaction_id=interaction_id, customer_id=item.customer_id)]),
            "Mentions": models_to_table(Mentions, [
                Mentions(tenant=tenant, interaction_id=interaction_id, sku=s) for s in skus]),
        }  # fmt: skip
        loads += [(Interaction, tables["Interaction"])]
        safety = reports_of_tables(tenant, tables)
        if safety:
            loads.append((SafetyReport, models_to_table(SafetyReport, safety)))
        loads += [(Had, tables["Had"]), (InteractionWith, tables["InteractionWith"])]
        if skus:
            loads.append((Mentions, tables["Mentions"]))
    ids = [item.id] + [task_id(t, item.customer_id, item.subject) for t in item.also]
    rows = [
        Task(tenant=tenant, id=i, trigger=t, customer_id=item.customer_id, subject=item.subject, detail=item.detail,
             reason=item.reason, due=item.due, state=state, snoozed_until=snoozed_until if state == "snoozed" else None,
             dismiss_reason=dismiss_reason if state == "dismissed" else None,
             interaction_id=interaction_id if state == "done" else None, rep_id=rep_id, updated_by=actor,
             updated_at=now)
        for i, t in zip(ids, [item.trigger, *item.also], strict=True)
    ]  # fmt: skip
    audit = AuditEvent(
        tenant=tenant, id=f"AUD-task-{item.id}-{time.time_ns():020d}", at=now, actor=actor, action=f"task_{state}",
        target_label=Task.label, target_key=item.id,
        details=json.dumps({"from": item.state, "to": state, "interaction_id": interaction_id,
                            "dismiss_reason": dismiss_reason}, ensure_ascii=False),
    )  # fmt: skip
    loads += [(Task, models_to_table(Task, rows)), (AuditEvent, models_to_table(AuditEvent, [audit]))]
    store.load_batch(
        tenant, loads, change=ChangeDraft("task_state", actor=actor, ids=tuple(ids), details={"state": state})
    )
    return item.model_copy(update={"state": state, "snoozed_until": rows[0].snoozed_until,
                                   "dismiss_reason": rows[0].dismiss_reason, "interaction_id": rows[0].interaction_id,
                                   "updated_at": now})  # fmt: skip


def _situations(item: TaskItem) -> list[tuple[str, str, str]]:
    """(trigger, customer, subject) of each situation a task stands for: merged triggers and a basket's SKUs each."""
    out = []
    for t in (item.trigger, *item.also):
        subjects = item.skus if t in GROUPED_TRIGGERS else [item.subject]
        out += [(t, item.customer_id, s) for s in subjects]
    return out


def label_tuples(items: Iterable[TaskItem]) -> set[tuple[str, str, str]]:
    """(trigger, customer, subject) of every situation the items stand for (merged triggers and grouped SKUs each)."""
    return {k for i in items for k in _situations(i)}


def details_of(items: Iterable[TaskItem]) -> Mapping[tuple[str, str, str], str]:
    """The detail (a contract's band) of each situation."""
    return {k: ("" if k[0] in GROUPED_TRIGGERS else i.detail) for i in items for k in _situations(i)}
