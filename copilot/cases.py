"""Case suggestions while a rep creates a deal: the past success cases that best match, each saying why.

The ranking is a transparent sum of parts a rep can check: shared products, shared indications, the same customer
type / tier / region, similar size, and text similarity to the rep's description (hybrid retrieval rank). Only
published case studies of the caller's tenant are candidates.

The graph is asked for the candidates only (`GraphStore.case_candidates`: cases sharing a product, an indication or
a customer attribute with the deal, or found by the text search), never for whole tables. A case sharing none of
those can score at most the ``size`` weight; when fewer than ``k`` candidates score above that, every published case
is ranked instead, so the result is exactly that of ranking them all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from graph.model import CUSTOMER_TYPE_NAMES, Customer, Product, Treats
from graph.ports import CaseQuery, CaseRecord, GraphStore
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

TEXT_CANDIDATES = 50
"""Case studies the text search ranks; a case beyond that rank gets no text part."""
TEXT_WHY_RANK = 5
"""A text rank at or above this one is named among the reasons."""
SUMMARY_CHARS = 80
"""Length of a case's summary (its first sentence, cut with an ellipsis)."""
ATTRIBUTES = (("type", "客户类型"), ("tier", "级别"), ("region", "区域"))
"""Customer attributes compared, with the word a rep reads for each."""


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


@dataclass(frozen=True)
class _Deal:
    """What the draft is about: its customer, products (with names) and their indications."""

    customer: Customer | None
    skus: frozenset[str]
    names: Mapping[str, str]
    indications: frozenset[str]


@dataclass
class _Case:
    entry_id: str
    title: str
    body: str
    skus: set[str] = field(default_factory=set)
    indications: set[str] = field(default_factory=set)
    customer: Customer | None = None


def _summary(body: str, limit: int = SUMMARY_CHARS) -> str:
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


def _treated(store: GraphStore, tenant: str, skus: Sequence[str]) -> dict[str, set[str]]:
    """The indications each of ``skus`` treats."""
    treats: dict[str, set[str]] = defaultdict(set)
    for t in store.edges_of(tenant, Treats, sources=sorted(skus)) if skus else ():
        treats[t.sku].add(t.indication)
    return treats


def _deal(store: GraphStore, tenant: str, customer_id: str, skus: Sequence[str]) -> _Deal:
    wanted = frozenset(skus)
    names = {p.sku: p.name for p in store.nodes_by_keys(tenant, Product, sorted(wanted))}
    indications = frozenset(i for found in _treated(store, tenant, sorted(wanted)).values() for i in found)
    return _Deal(store.get_node(tenant, Customer, customer_id), wanted, names, indications)


def _text_ranks(index: KnowledgeIndex | None, deal: _Deal, text: str, weights: Mapping[str, float]) -> dict[str, int]:
    """Rank of each case study in the hybrid search for the rep's text and the products' names (1 = best)."""
    if index is None or weights.get("text", 0.0) <= 0:
        return {}
    query = " ".join([text, *(deal.names[s] for s in sorted(deal.skus) if s in deal.names)]).strip()
    if not query:
        return {}
    hits = index.search(query, k=TEXT_CANDIDATES, filters=SearchFilters(kinds=("case_study",)))
    return {h.entry_id: i + 1 for i, h in enumerate(hits)}


def _candidates(
    store: GraphStore, tenant: str, deal: _Deal, text_rank: Mapping[str, int], *, every: bool
) -> list[_Case]:
    """The published case studies to rank, with their products, indications (own and treated) and customer."""
    c = deal.customer
    query = CaseQuery(
        skus=tuple(sorted(deal.skus)),
        indications=tuple(sorted(deal.indications)),
        customer_type=(c.type or None) if c else None,
        tier=(c.tier or None) if c else None,
        region=(c.region or None) if c else None,
        entry_ids=tuple(sorted(text_rank)),
        every=every,
    )
    records: list[CaseRecord] = store.case_candidates(tenant, query)
    treats = _treated(store, tenant, sorted({s for r in records for s in r.links.skus}))
    return [
        _Case(
            r.entry.id,
            r.entry.title,
            r.entry.body,
            set(r.links.skus),
            set(r.links.indications) | {i for s in r.links.skus for i in treats.get(s, set())},
            r.customer,
        )  # fmt: skip
        for r in records
    ]


def _product_part(case: _Case, deal: _Deal, why: list[str]) -> float:
    shared = deal.skus & case.skus
    if shared:
        why.append("同产品：" + "、".join(deal.names.get(s, s) for s in sorted(shared)))
    return len(shared) / len(deal.skus) if deal.skus else 0.0


def _indication_part(case: _Case, deal: _Deal, why: list[str]) -> float:
    shared = deal.indications & case.indications
    if shared and not deal.skus & case.skus:
        why.append("同适应症：" + "、".join(sorted(shared)))
    return len(shared) / len(deal.indications) if deal.indications else 0.0


def _attribute_part(attr: str, label: str, case: _Case, deal: _Deal, why: list[str]) -> float:
    mine, other = deal.customer, case.customer
    same = bool(mine and other and getattr(mine, attr) and getattr(mine, attr) == getattr(other, attr))
    if same and other is not None:
        value = getattr(other, attr)
        why.append(f"同{label}：{CUSTOMER_TYPE_NAMES.get(value, value) if attr == 'type' else value}")
    return 1.0 if same else 0.0


def _text_part(case: _Case, text_rank: Mapping[str, int], why: list[str]) -> float:
    rank = text_rank.get(case.entry_id)
    if rank and rank <= TEXT_WHY_RANK:
        why.append(f"情境描述相近（文本检索第 {rank} 名）")
    return 1.0 / rank if rank else 0.0


def _score(
    case: _Case, deal: _Deal, text_rank: Mapping[str, int], weights: Mapping[str, float]
) -> CaseSuggestion | None:
    """The case's parts, reasons and weighted score; ``None`` when it scores nothing."""
    why: list[str] = []
    parts = {"products": _product_part(case, deal, why), "indications": _indication_part(case, deal, why)}
    for attr, label in ATTRIBUTES:
        parts[attr] = _attribute_part(attr, label, case, deal, why)
    parts["size"] = _size_similarity(deal.customer, case.customer) if deal.customer and case.customer else 0.0
    parts["text"] = _text_part(case, text_rank, why)
    score = sum(weights.get(p, 0.0) * v for p, v in parts.items())
    if score <= 0:
        return None
    return CaseSuggestion(case.entry_id, case.title, _summary(case.body), round(score, 4),
                          {p: round(v, 3) for p, v in parts.items()}, tuple(why),
                          case.customer.id if case.customer else None, _outcome(case.body))  # fmt: skip


def _ranked(
    cases: list[_Case], deal: _Deal, text_rank: Mapping[str, int], weights: Mapping[str, float]
) -> list[CaseSuggestion]:
    scored = [s for s in (_score(c, deal, text_rank, weights) for c in cases) if s is not None]
    return sorted(scored, key=lambda s: (-s.score, s.entry_id))


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
    deal = _deal(store, tenant, customer_id, skus)
    text_rank = _text_ranks(index, deal, text, weights)
    ranked = _ranked(_candidates(store, tenant, deal, text_rank, every=False), deal, text_rank, weights)
    # A case outside the candidates shares nothing but maybe size: it scores at most the size weight.
    outside_at_most = weights.get("size", 0.0) if deal.customer and deal.customer.annual_revenue else 0.0
    if outside_at_most > 0 and sum(s.score > outside_at_most for s in ranked) < k:
        ranked = _ranked(_candidates(store, tenant, deal, text_rank, every=True), deal, text_rank, weights)
    return ranked[:k]
