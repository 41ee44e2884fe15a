"""Case suggestions while a rep creates a deal: the past success cases that best match, each saying why.

The ranking is a transparent sum of parts a rep can check: shared products, shared indications, the same customer
type / tier / region, similar size, and text similarity to the rep's description (hybrid retrieval rank). Only
published case studies of the caller's tenant are candidates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from graph.model import CUSTOMER_TYPE_NAMES, AboutIndication, AboutProduct, CaseOf, Customer, Product, Treats
from graph.ports import GraphStore
from retrieval.hybrid import KnowledgeIndex, SearchFilters

WEIGHTS = {
    "products": 0.35,
    "indications": 0.15,
    "type": 0.15,
    "tier": 0.05,
    "region": 0.05,
    "size": 0.05,
    "text": 0.20,
}
"""Weight of each part (sums to 1); each part is a 0–1 similarity."""


@dataclass(frozen=True)
class CaseSuggestion:
    """A suggested case with its score, the parts of the score and the reasons in words."""

    entry_id: str
    title: str
    summary: str
    score: float
    parts: dict[str, float]
    why: tuple[str, ...]
    customer_id: str | None = None
    outcome: str = ""


@dataclass
class _Case:
    entry_id: str
    title: str
    body: str
    skus: set[str] = field(default_factory=set)
    indications: set[str] = field(default_factory=set)
    customer: Customer | None = None


def _summary(body: str, limit: int = 80) -> str:
    first = body.replace("\n", "").split("。")[0]
    return (first[:limit] + "…") if len(first) > limit else first + "。"


def _outcome(body: str) -> str:
    """The result of a case: its 【结果】 section's first sentence, else the first sentence with a percentage."""
    _, marker, rest = body.partition("【结果】")
    if marker:
        return rest.split("【")[0].split("。")[0].strip() + "。"
    sentences = (s.strip() for s in re.split(r"[。\n]", body))
    return next((s + "。" for s in sentences if "%" in s and any(ch.isdigit() for ch in s)), "")


def _size_similarity(a: Customer, b: Customer) -> float:
    if not a.annual_revenue or not b.annual_revenue:
        return 0.0
    lo, hi = sorted((a.annual_revenue, b.annual_revenue))
    return float(lo / hi)


def suggest_cases(
    store: GraphStore,
    tenant: str,
    *,
    customer_id: str,
    skus: Sequence[str],
    text: str = "",
    index: KnowledgeIndex | None = None,
    k: int = 3,
    weights: Mapping[str, float] | None = None,
) -> list[CaseSuggestion]:
    """The ``k`` best published case studies for a deal draft (customer, products, optional situation text).

    ``weights`` replaces ``WEIGHTS`` (a missing part weighs 0), so an evaluation can rank by some parts only through
    this same code; with no weight on ``text`` the text search is skipped.
    """
    weights = WEIGHTS if weights is None else weights
    customer = store.get_node(tenant, Customer, customer_id)
    products = {p.sku: p for page in store.iter_nodes(tenant, Product) for p in page}
    wanted = set(skus)
    treats: dict[str, set[str]] = defaultdict(set)
    for page in store.iter_edges(tenant, Treats):
        for t in page:
            treats[t.sku].add(t.indication)
    wanted_ind = {i for s in wanted for i in treats.get(s, set())}
    cases = {e.id: _Case(e.id, e.title, e.body) for e in store.entries(tenant, kind="case_study", status="published")}
    for abouts in store.iter_edges(tenant, AboutProduct):
        for a in abouts:
            if a.entry_id in cases:
                cases[a.entry_id].skus.add(a.sku)
    for about_ind in store.iter_edges(tenant, AboutIndication):
        for ai in about_ind:
            if ai.entry_id in cases:
                cases[ai.entry_id].indications.add(ai.indication)
    customers = {c.id: c for page in store.iter_nodes(tenant, Customer) for c in page}
    for links in store.iter_edges(tenant, CaseOf):
        for link in links:
            if link.entry_id in cases:
                cases[link.entry_id].customer = customers.get(link.customer_id)
    text_rank: dict[str, int] = {}
    if index is not None and weights.get("text", 0.0) > 0:
        query = " ".join([text, *(products[s].name for s in sorted(wanted) if s in products)]).strip()
        if query:
            hits = index.search(query, k=50, filters=SearchFilters(kinds=("case_study",)))
            text_rank = {h.entry_id: i + 1 for i, h in enumerate(hits)}
    out = []
    for case in cases.values():
        parts: dict[str, float] = {}
        why: list[str] = []
        shared = wanted & case.skus
        parts["products"] = len(shared) / len(wanted) if wanted else 0.0
        if shared:
            why.append("同产品：" + "、".join(products[s].name if s in products else s for s in sorted(shared)))
        case_ind = case.indications | {i for s in case.skus for i in treats.get(s, set())}
        shared_ind = wanted_ind & case_ind
        parts["indications"] = len(shared_ind) / len(wanted_ind) if wanted_ind else 0.0
        if shared_ind and not shared:
            why.append("同适应症：" + "、".join(sorted(shared_ind)))
        other = case.customer
        for attr, label in (("type", "客户类型"), ("tier", "级别"), ("region", "区域")):
            same = bool(
                customer and other and getattr(customer, attr) and getattr(customer, attr) == getattr(other, attr)
            )
            parts[attr] = 1.0 if same else 0.0
            if same and other is not None:
                value = getattr(other, attr)
                why.append(f"同{label}：{CUSTOMER_TYPE_NAMES.get(value, value) if attr == 'type' else value}")
        parts["size"] = _size_similarity(customer, other) if customer and other else 0.0
        rank = text_rank.get(case.entry_id)
        parts["text"] = 1.0 / rank if rank else 0.0
        if rank and rank <= 5:
            why.append(f"情境描述相近（文本检索第 {rank} 名）")
        score = sum(weights.get(p, 0.0) * v for p, v in parts.items())
        if score > 0:
            outcome = _outcome(case.body)
            out.append(CaseSuggestion(case.entry_id, case.title, _summary(case.body), round(score, 4),
                                      {p: round(v, 3) for p, v in parts.items()}, tuple(why),
                                      other.id if other else None, outcome))  # fmt: skip
    out.sort(key=lambda s: (-s.score, s.entry_id))
    return out[:k]
