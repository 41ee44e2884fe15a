"""Case suggestions while a rep creates a deal: the past success cases that best match, each saying why.

A case a rep can use solves the same problem, for the same product or a sibling one (a product sharing the
indication at hand), at the same kind of customer. The ranking is a transparent sum of those parts, each 0–1:

- ``problem``: how close the case is to the problem the rep describes (the cosine of the rep's words, product names
  taken out and sales jargon read through the glossary, with the case's stored vector), plus agreement of the
  objection category the words signal with the case's category. It counts only when the text describes something
  beyond product and customer names; then it weighs most (``TEXT_WEIGHTS``), otherwise not at all (``WEIGHTS``).
- ``products``: the deal's products the case is about (a case limited to the drug's *other* indication counts half);
  ``indications``: a sibling product's case through the indication at hand (hierarchy-aware: 糖尿病 meets 2型糖尿病).
  A case's indications are its own: those it is linked to and those its text names among its products' indications;
  only a case that names none stands for all its products' indications.
- ``segment``: the same customer type (1), the same segment (retail = chain + single pharmacy: 0.7); ``tier``,
  ``region``, ``size``: small tie-breakers.

The customer is an existing one (``customer_id``) or a new one described by a ``CustomerProfile`` (type, tier,
region, size). Ties are broken by entry id. The best suggestion's ``confidence`` (its problem, product and segment
evidence) below ``WEAK_BELOW`` (chosen on the development half of the independent set, see
``eval/eval_cases.py``) marks the result 匹配度低: nothing matches well, the cases are shown as related only.

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

import numpy as np

from copilot.errors import CaseProfileError
from graph.model import CUSTOMER_TYPE_NAMES, OBJECTION_CATEGORY_NAMES, Customer, CustomerType, Product, Treats
from graph.ports import CaseQuery, CaseRecord, GraphStore
from retrieval.glossary import indication_family, indications_meet, normalize
from retrieval.hybrid import KnowledgeIndex, SearchFilters

KIND = "case_study"
WEIGHTS: dict[str, float] = {
    "problem": 0.0,
    "products": 0.30,
    "indications": 0.30,
    "segment": 0.35,
    "tier": 0.02,
    "region": 0.02,
    "size": 0.01,
}
"""Weights when the rep's text describes no problem (empty, or only names): product and customer evidence."""
TEXT_WEIGHTS: dict[str, float] = {
    "problem": 0.49,
    "products": 0.08,
    "indications": 0.20,
    "segment": 0.20,
    "tier": 0.01,
    "region": 0.01,
    "size": 0.01,
}
"""Weights when the text describes a problem: the problem weighs most, products and segment next."""
CATEGORY_SHARE = 0.6
"""Share of the problem part carried by the category agreement (the rest is the cosine)."""
SIBLING_OF_OTHER_INDICATION = 0.5
PRODUCT_FREE = frozenset({"payment_terms", "incumbent_supplier"})
"""Problems whose solution does not depend on the product (账期, 现有供应商): such a case counts half on products."""
"""Product part of a same-product case limited to the drug's other indication."""
SAME_SEGMENT = 0.9
"""Segment part of a customer of another type in the same segment (a chain for a single pharmacy)."""
WEAK_BELOW = 0.7106
"""A best suggestion whose confidence is below this is labelled 匹配度低 (chosen on the dev half; see the eval)."""
WEAK_LABEL = "匹配度低"
TEXT_CANDIDATES = 50
"""Case studies the text search adds to the graph's candidates."""
PROBLEM_WHY = 0.5
"""A problem part at or above this one is named among the reasons."""
SUMMARY_CHARS = 80
"""Length of a case's summary (its first sentence, cut with an ellipsis)."""
PROBLEM_NAMES: dict[str, str] = {
    **OBJECTION_CATEGORY_NAMES,
    "repurchase": "复购", "cross_sell": "关联销售", "season": "季节备货", "sellthrough": "新品动销",
}  # fmt: skip
"""How a rep reads each problem kind."""
SEGMENTS: dict[str, str] = {
    "chain": "retail", "single_pharmacy": "retail", "hospital": "hospital", "clinic": "clinic", "dtp": "dtp"
}  # fmt: skip
"""Customer type → segment: a chain's case serves a single pharmacy better than a hospital's does."""
ATTRIBUTES = (("tier", "级别"), ("region", "区域"))
"""Customer attributes compared besides the type, with the word a rep reads for each."""
_WORDS = re.compile(r"[\w]+")
PROBLEM_CUES: dict[str, tuple[str, ...]] = {
    "repurchase": (
        "复购",
        "回购",
        "回头客",
        "老顾客",
        "不回来",
        "续方",
        "忘了",
        "忘记",
        "断药",
        "停药",
        "依从",
        "用药提醒",
        "慢病管理",
        "慢病会员",
        "长期用药",
        "吃着吃着",
        "流失",
        "随访",
    ),
    "cross_sell": ("搭配", "关联", "连带", "联合用药", "一起推荐", "组合", "捆绑", "带着卖", "顺带"),
    "season": ("季节", "花粉", "流感季", "换季", "高峰", "旺季", "冬季", "春季", "秋冬", "开学", "季前", "春节"),
    "sellthrough": ("动销", "新品", "上新", "卖不动", "滞销", "铺货", "首推", "刚进", "新进", "没人买", "卖不出去"),
    "payment_terms": ("回款", "结款", "压款", "账期", "欠款", "付款"),
    "formulary": ("进院", "进不了院", "目录里没有", "基层目录", "药事会", "开不出", "采购目录", "进目录"),
    "insurance_card": ("门慢", "统筹", "医保", "报销", "定点"),
    "price": ("低价", "价格战", "比价", "冲价", "便宜", "降价"),
    "incumbent_supplier": ("主供应商", "供应商", "挤进去", "老供货商", "插不进"),
    "vbp": ("集采", "带量", "中选", "中标"),
    "stock": ("断货", "缺货", "到货", "配送", "备货", "压货", "积压"),
    "dtp_prescription": (
        "外配处方",
        "处方外流",
        "处方流转",
        "处方接不到",
        "接不到处方",
        "承接处方",
        "处方承接",
        "双通道",
    ),
}
"""Words naming the kinds of sales problem that no objection category covers (复购, 关联销售, 季节备货, 新品动销).

Objection categories appear too, with the words deals use for them that an objection does not (回款, 进院, 主供应商).
A deal's problem is the objection categories the glossary reads in its text and the kinds these words name; a case's
problem is its category and the kinds its tags and title name."""


@dataclass(frozen=True)
class CustomerProfile:
    """A new customer, described before it has an id: type, and optionally tier, region and size.

    ``store_count`` for a pharmacy chain, ``size`` as the rep writes it (800床) for a hospital; ``annual_revenue``
    when known.
    """

    type: CustomerType
    tier: str | None = None
    region: str | None = None
    store_count: int | None = None
    size: str | None = None
    annual_revenue: float | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, object]) -> CustomerProfile:
        """A profile from a rep's or a file's fields (type, tier, region, store_count, size, annual_revenue).

        Raises ``CaseProfileError`` naming the field when the type is unknown or a number is not one.
        """
        kind = str(raw.get("type") or "")
        if kind not in SEGMENTS:
            raise CaseProfileError(f"profile.type must be one of {', '.join(SEGMENTS)}, got {kind!r}",
                                   details={"field": "profile.type"})  # fmt: skip
        numbers: dict[str, float | None] = {}
        for name in ("store_count", "annual_revenue"):
            value = raw.get(name)
            try:
                numbers[name] = None if value in (None, "") else float(str(value))
            except ValueError as e:
                raise CaseProfileError(
                    f"profile.{name} is not a number: {value!r}", details={"field": f"profile.{name}"}
                ) from e

        def text(name: str) -> str | None:
            value = raw.get(name)
            return str(value).strip() or None if value is not None else None

        stores = numbers["store_count"]
        return cls(type=kind, tier=text("tier"), region=text("region"),  # type: ignore[arg-type]
                   store_count=int(stores) if stores is not None else None, size=text("size"),
                   annual_revenue=numbers["annual_revenue"])  # fmt: skip

    def as_customer(self, tenant: str) -> Customer:
        """A transient customer node (never stored) to compare with the cases' customers."""
        return Customer(tenant=tenant, id="(new)", name="新客户", type=self.type, tier=self.tier, region=self.region,
                        store_count=self.store_count, annual_revenue=self.annual_revenue)  # fmt: skip


@dataclass(frozen=True)
class CaseSuggestion:
    """A suggested case with its score, the parts of the score and the reasons in words.

    ``confidence``: the case's problem, product and segment evidence (0–1); ``weak``: below ``WEAK_BELOW``, the
    case is related at best (labelled 匹配度低).
    """

    entry_id: str
    title: str
    summary: str
    score: float
    parts: dict[str, float]
    why: tuple[str, ...]
    customer_id: str | None = None
    outcome: str = ""
    confidence: float = 0.0
    weak: bool = False

    @property
    def label(self) -> str:
        """匹配度低 for a weak match, else empty."""
        return WEAK_LABEL if self.weak else ""


@dataclass(frozen=True)
class _Deal:
    """What the draft is about: its customer, products (with names), indications, and the problem in its words."""

    customer: Customer | None
    skus: frozenset[str]
    names: Mapping[str, str]
    indications: frozenset[str]
    text_indications: frozenset[str]
    topic: str = ""
    problems: frozenset[str] = frozenset()
    vector: np.ndarray | None = None

    @property
    def describes_problem(self) -> bool:
        """Whether the text says something beyond names: then the problem weighs most."""
        return self.vector is not None


@dataclass
class _Case:
    entry_id: str
    title: str
    body: str
    skus: set[str] = field(default_factory=set)
    indications: set[str] = field(default_factory=set)
    customer: Customer | None = None
    customer_type: str | None = None
    problems: frozenset[str] = frozenset()
    """The case's problem: its category and the problem kinds its tags and title name."""
    own_indications: bool = False
    """Whether ``indications`` are the case's own (linked or named), not every indication of its products."""


def _summary(body: str, limit: int = SUMMARY_CHARS) -> str:
    first = body.replace("\n", "").split("。")[0]
    return (first[:limit] + "…") if len(first) > limit else first + "。"


def _outcome(body: str) -> str:
    """The result of a case: its 【结果】 / 结果： section's first sentence, else the first sentence with a %."""
    for marker in ("【结果】", "结果："):
        _, found, rest = body.partition(marker)
        if found:
            return rest.split("【")[0].split("。")[0].strip() + "。"
    sentences = (s.strip() for s in re.split(r"[。\n]", body))
    return next((s + "。" for s in sentences if "%" in s and any(ch.isdigit() for ch in s)), "")


def _size_similarity(a: Customer, b: Customer) -> float:
    for attr in ("annual_revenue", "store_count"):
        x, y = getattr(a, attr), getattr(b, attr)
        if x and y:
            lo, hi = sorted((float(x), float(y)))
            return lo / hi
    return 0.0


def _treated(store: GraphStore, tenant: str, skus: Sequence[str]) -> dict[str, set[str]]:
    """The indications each of ``skus`` treats."""
    treats: dict[str, set[str]] = defaultdict(set)
    for t in store.edges_of(tenant, Treats, sources=sorted(skus)) if skus else ():
        treats[t.sku].add(t.indication)
    return treats


def _named_indications(
    index: KnowledgeIndex | None, text: str, among: set[str], product_names: Sequence[str] = ()
) -> set[str]:
    """Indications of ``among`` that ``text`` names, literally or through the glossary's lay and class words.

    A class word inside the product's own names (他汀 in 阿托伐他汀, 地平 in 氨氯地平) names the product, not one of
    its indications, and is not read.
    """
    if not text:
        return set()
    found = {i for i in among if i in text}
    if index is not None:
        names = [normalize(n) for n in product_names if n]
        for cue in index.glossary.indication_cues:
            forms = [normalize(f) for f in cue.forms]
            if any(f in text and not any(f in n for n in names) for f in forms):
                found |= {i for i in among if any(indications_meet(c, i) for c in cue.indications)}
    return found


def _names_of(products: Sequence[Product]) -> list[str]:
    return [n for p in products for n in (p.name, p.generic_name, p.brand) if n]


def _deal(
    store: GraphStore,
    tenant: str,
    customer: Customer | None,
    skus: Sequence[str],
    text: str = "",
    index: KnowledgeIndex | None = None,
) -> _Deal:
    """The deal read once: products and their indications, the indications the text narrows to, the problem."""
    wanted = frozenset(skus)
    products = store.nodes_by_keys(tenant, Product, sorted(wanted))
    names = {p.sku: p.name for p in products}
    treated = {i for found in _treated(store, tenant, sorted(wanted)).values() for i in found}
    normal = " ".join(normalize(text).split())
    topic = normal
    for p in products:  # names carry no problem: the products part already counts them
        for name in (p.name, p.generic_name, p.brand):
            if name and len(name) >= 2:
                topic = topic.replace(normalize(name), " ")
    if customer is not None and customer.name:
        topic = topic.replace(normalize(customer.name), " ")
    topic = " ".join(topic.split())
    known = treated or (index.linked_indications() if index is not None else set())
    named = _named_indications(index, topic, set(known), _names_of(products))
    indications = frozenset(named if named and treated else treated or named)
    vector = None
    problems: frozenset[str] = frozenset()
    if index is not None and len("".join(_WORDS.findall(topic))) >= 2:
        gloss = index.glossary.match(topic)
        problems = gloss.categories | _problem_kinds(topic)
        vector = np.asarray(index.embedder.embed_query(f"{topic} {gloss.expansion}".strip()), dtype=np.float32)
    return _Deal(customer, wanted, names, indications, frozenset(named), topic, problems, vector)


def _problem_kinds(text: str) -> frozenset[str]:
    """The problem kinds of ``PROBLEM_CUES`` that ``text`` names."""
    return frozenset(kind for kind, forms in PROBLEM_CUES.items() if any(f in text for f in forms))


def _text_hits(index: KnowledgeIndex | None, deal: _Deal) -> tuple[str, ...]:
    """Case studies the hybrid search finds for the rep's problem (candidates besides the graph's)."""
    if index is None or not deal.describes_problem:
        return ()
    hits = index.search(deal.topic, k=TEXT_CANDIDATES, filters=SearchFilters(kinds=(KIND,)))
    return tuple(sorted(h.entry_id for h in hits))


def _candidates(
    store: GraphStore,
    tenant: str,
    deal: _Deal,
    text_hits: Sequence[str],
    index: KnowledgeIndex | None,
    *,
    every: bool,
) -> list[_Case]:
    """The published case studies to rank, with their products, own indications, customer and category."""
    c = deal.customer
    wider = {f for i in deal.indications for f in indication_family(i)}
    query = CaseQuery(
        skus=tuple(sorted(deal.skus)),
        indications=tuple(sorted(wider)),
        customer_type=(c.type or None) if c else None,
        tier=(c.tier or None) if c else None,
        region=(c.region or None) if c else None,
        entry_ids=tuple(text_hits),
        every=every,
    )
    records: list[CaseRecord] = store.case_candidates(tenant, query)
    linked = sorted({s for r in records for s in r.links.skus})
    treats = _treated(store, tenant, linked)
    names: dict[str, list[str]] = {p.sku: _names_of([p]) for p in store.nodes_by_keys(tenant, Product, linked)}
    out = []
    for r in records:
        doc = index.docs.get(r.entry.id) if index is not None else None
        of_products = {i for s in r.links.skus for i in treats.get(s, set())}
        # its own: linked, or named in its title (a body mentions much in passing)
        own = set(r.links.indications) or _named_indications(
            index, normalize(r.entry.title), of_products, [n for s in r.links.skus for n in names.get(s, ())]
        )
        types = doc.customer_types if doc is not None else ()
        category = doc.category if doc is not None else r.entry.category
        # the trainer's label (tags) says the problem; the title only when there is neither label nor category
        label = normalize(" ".join(r.entry.tags) if r.entry.tags or category else r.entry.title)
        problems = _problem_kinds(label) | ({category} if category else set())
        out.append(
            _Case(
                r.entry.id,
                r.entry.title,
                r.entry.body,
                set(r.links.skus),
                own or of_products,
                r.customer,
                r.customer.type if r.customer else (types[0] if len(types) == 1 else None),
                frozenset(problems),
                bool(own),
            )  # fmt: skip
        )
    return out


def _product_part(case: _Case, deal: _Deal, why: list[str]) -> float:
    shared = deal.skus & case.skus
    if not shared:
        return 0.0
    names = "、".join(deal.names.get(s, s) for s in sorted(shared))
    other = bool(deal.text_indications and case.own_indications) and not any(
        indications_meet(d, i) for d in deal.text_indications for i in case.indications
    )
    if case.problems and case.problems <= PRODUCT_FREE:  # its solution would be the same for any product
        why.append("同产品：" + names)
        return SIBLING_OF_OTHER_INDICATION * len(shared) / len(deal.skus)
    if other:  # the case is about the drug's other indication
        why.append(f"同产品（另一适应症：{'、'.join(sorted(case.indications))}）：{names}")
        return SIBLING_OF_OTHER_INDICATION * len(shared) / len(deal.skus)
    why.append("同产品：" + names)
    return len(shared) / len(deal.skus)


def _indication_part(case: _Case, deal: _Deal, why: list[str]) -> float:
    if not deal.indications:
        return 0.0
    shared = sorted(d for d in deal.indications if any(indications_meet(d, i) for i in case.indications))
    if shared and not deal.skus & case.skus:
        why.append("同适应症：" + "、".join(shared))
    return len(shared) / len(deal.indications)


def _segment_part(case: _Case, deal: _Deal, why: list[str]) -> float:
    mine = deal.customer.type if deal.customer else None
    if not mine or not case.customer_type:
        return 0.0
    if mine == case.customer_type:
        why.append(f"同客户类型：{CUSTOMER_TYPE_NAMES.get(mine, mine)}")
        return 1.0
    if SEGMENTS.get(mine) == SEGMENTS.get(case.customer_type):
        why.append(f"同类客户：{CUSTOMER_TYPE_NAMES.get(case.customer_type, case.customer_type)}")
        return SAME_SEGMENT
    return 0.0


def _attribute_part(attr: str, label: str, case: _Case, deal: _Deal, why: list[str]) -> float:
    mine, other = deal.customer, case.customer
    same = bool(mine and other and getattr(mine, attr) and getattr(mine, attr) == getattr(other, attr))
    if same and other is not None:
        why.append(f"同{label}：{getattr(other, attr)}")
    return 1.0 if same else 0.0


def _problem_part(case: _Case, deal: _Deal, cosine: float, why: list[str]) -> float:
    if not deal.describes_problem:
        return 0.0
    shared = sorted(case.problems & deal.problems)
    on_topic = 1.0 if shared else 0.0
    part = (1 - CATEGORY_SHARE) * max(0.0, cosine) + CATEGORY_SHARE * on_topic
    if shared:
        why.append("同类问题：" + "、".join(PROBLEM_NAMES.get(p, p) for p in shared))
    elif part >= PROBLEM_WHY * (1 - CATEGORY_SHARE):
        why.append("情境描述相近")
    return part


def _score(case: _Case, deal: _Deal, cosine: float, weights: Mapping[str, float]) -> CaseSuggestion | None:
    """The case's parts, reasons and weighted score; ``None`` when it scores nothing."""
    why: list[str] = []
    parts = {"problem": _problem_part(case, deal, cosine, why)}
    parts["products"] = _product_part(case, deal, why)
    parts["indications"] = _indication_part(case, deal, why)
    parts["segment"] = _segment_part(case, deal, why)
    for attr, label in ATTRIBUTES:
        parts[attr] = _attribute_part(attr, label, case, deal, why)
    parts["size"] = _size_similarity(deal.customer, case.customer) if deal.customer and case.customer else 0.0
    score = sum(weights.get(p, 0.0) * v for p, v in parts.items())
    if score <= 0:
        return None
    confidence = _confidence(parts, deal)
    return CaseSuggestion(case.entry_id, case.title, _summary(case.body), round(score, 4),
                          {p: round(v, 3) for p, v in parts.items()}, tuple(why),
                          case.customer.id if case.customer else None, _outcome(case.body),
                          round(confidence, 4), confidence < WEAK_BELOW)  # fmt: skip


def _confidence(parts: Mapping[str, float], deal: _Deal) -> float:
    """How well a case fits on the three things a usable case shares with the deal: problem, product, segment.

    The mean of the three parts that the deal gives evidence for (no text: product and segment; no product: problem
    and segment), the product side being the product or, failing it, the sibling part.
    """
    sides = []
    if deal.describes_problem:
        sides.append(parts["problem"])
    if deal.skus or deal.indications:
        sides.append(max(parts["products"], parts["indications"]))
    if deal.customer is not None:
        sides.append(parts["segment"])
    return sum(sides) / len(sides) if sides else 0.0


def _ranked(
    cases: list[_Case], deal: _Deal, index: KnowledgeIndex | None, weights: Mapping[str, float]
) -> list[CaseSuggestion]:
    cosines: dict[str, float] = {}
    if deal.vector is not None and index is not None and cases:
        ids = [c.entry_id for c in cases if c.entry_id in index.docs]
        if ids:
            cosines = dict(zip(ids, (index.vectors_for(KIND, ids) @ deal.vector).tolist(), strict=True))
    scored = [s for s in (_score(c, deal, cosines.get(c.entry_id, 0.0), weights) for c in cases) if s is not None]
    return sorted(scored, key=lambda s: (-s.score, s.entry_id))


def suggest_cases(
    store: GraphStore,
    tenant: str,
    *,
    customer_id: str | None = None,
    profile: CustomerProfile | None = None,
    skus: Sequence[str],
    text: str = "",
    index: KnowledgeIndex | None = None,
    k: int = 3,
    weights: Mapping[str, float] | None = None,
) -> list[CaseSuggestion]:
    """The ``k`` best published case studies for a deal draft (customer or profile, products, optional text).

    ``profile`` describes a new customer when there is no ``customer_id``. ``weights`` replaces both weight sets
    (a missing part weighs 0), so an evaluation can rank by some parts only through this same code; otherwise
    ``TEXT_WEIGHTS`` apply when the text describes a problem and ``WEIGHTS`` when it does not.
    """
    customer = store.get_node(tenant, Customer, customer_id) if customer_id else None
    if customer is None and profile is not None:
        customer = profile.as_customer(tenant)
    deal = _deal(store, tenant, customer, skus, text, index)
    w = weights if weights is not None else (TEXT_WEIGHTS if deal.describes_problem else WEIGHTS)
    hits = _text_hits(index, deal)
    ranked = _ranked(_candidates(store, tenant, deal, hits, index, every=False), deal, index, w)
    # A case outside the candidates shares nothing but maybe size: it scores at most the size weight.
    outside_at_most = w.get("size", 0.0) if deal.customer else 0.0
    if outside_at_most > 0 and sum(s.score > outside_at_most for s in ranked) < k:
        ranked = _ranked(_candidates(store, tenant, deal, hits, index, every=True), deal, index, w)
    return ranked[:k]
