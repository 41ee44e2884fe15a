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
from retrieval.glossary import Glossary, IndicationCue, indication_family, indications_meet, normalize
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
"""Product part of a same-product case limited to the drug's other indication."""
PRODUCT_FREE = frozenset({"payment_terms", "incumbent_supplier"})
"""Problems whose solution does not depend on the product (账期, 现有供应商): such a case counts half on products."""
PRODUCT_FREE_SHARE = 0.25
"""Share of the product and indication parts when the deal's problem is one of ``PRODUCT_FREE``."""
SAME_SEGMENT = 0.9
"""Segment part of a customer of another type in the same segment (a chain for a single pharmacy)."""
WEAK_BELOW = 0.579
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
    "tender": "招标", "cold_chain": "冷链", "traceability": "追溯码", "invoice": "票据", "recall": "召回",
    "commercial_insurance": "商保", "gsp": "GSP", "family_doctor": "家庭医生",
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
        "复购", "回购", "回头客", "老顾客", "不回来", "续方", "忘了", "忘记", "断药", "停药", "依从", "用药提醒",
        "慢病管理", "慢病会员", "长期用药", "吃着吃着", "流失", "随访",
        # refills of chronic patients: irregular pick-up, long prescriptions, family-doctor contracted patients
        "不规律", "不按时", "长处方", "签约患者", "签约居民",
    ),
    "cross_sell": (
        "搭配", "关联", "连带", "联合用药", "一起推荐", "组合", "捆绑", "带着卖", "顺带", "搭在一起", "一起推", "搭着",
    ),
    "season": ("季节", "花粉", "流感季", "换季", "高峰", "旺季", "冬季", "春季", "秋冬", "开学", "季前", "春节", "冬天",
               "入冬"),
    "family_doctor": ("家庭医生", "家医"),
    "sellthrough": ("动销", "新品", "上新", "卖不动", "滞销", "铺货", "首推", "刚进", "没人买", "卖不出去", "推不动",
                    "想推", "主推", "上不去", "用量少"),
    "payment_terms": ("回款", "结款", "压款", "账期", "欠款", "付款"),
    "formulary": ("进院", "进不了院", "目录里没有", "基层目录", "药事会", "开不出", "采购目录", "进目录"),
    "insurance_card": ("门慢", "统筹", "医保", "报销", "定点"),
    "price": ("低价", "价格战", "比价", "冲价", "便宜", "降价", "抢了生意", "抢生意", "抢客", "抢顾客"),
    "incumbent_supplier": ("主供应商", "供应商", "挤进去", "老供货商", "插不进", "配送商"),
    "vbp": ("集采", "带量", "中选", "中标"),
    "stock": ("断货", "缺货", "断供", "供货", "保供", "送货", "配送", "缺药", "没库存", "没货", "补货", "库存不足"),
    "dtp_prescription": (
        "外配处方", "处方外流", "处方流转", "处方接不到", "接不到处方", "承接处方", "处方承接", "双通道",
    ),
    # problems a case library rarely covers: named so that a deal about them is not read as a nearby covered one
    "tender": ("招标", "投标", "遴选", "挂网"),
    "cold_chain": ("冷链",),
    "traceability": ("追溯码", "电子监管码"),
    "invoice": ("两票制", "票据", "发票"),
    "recall": ("召回", "批号"),
    "commercial_insurance": ("商保", "商业保险", "惠民保"),
    "gsp": ("gsp",),
}  # fmt: skip
"""Words naming the kinds of sales problem that no objection category covers (复购, 关联销售, 季节备货, 新品动销).

Objection categories appear too, with the words deals use for them that an objection does not (回款, 进院, 主供应商),
and kinds a case library seldom covers (招标, 冷链, 追溯码, 两票制, 召回, 商保). A deal's problem is read from these
words and the glossary's objection categories (``_read_problem``); a case's problem is its category and the kinds
its tags and title name."""
STOCKING_CUES = ("备货", "备多了", "压货", "积压", "囤货", "到货", "抢不到")
"""Stocking decisions (how much to stock): a stock problem, but one that yields to the season or the 集采 behind it."""
PROBLEM_ORDER = (
    "tender", "cold_chain", "traceability", "invoice", "recall", "commercial_insurance", "gsp",
    "vbp", "insurance_card", "formulary", "dtp_prescription", "payment_terms", "incumbent_supplier", "compliance",
    "cross_sell", "margin_display", "price", "stock", "season", "stocking", "efficacy", "side_effects",
    "contract_renewal", "family_doctor", "sellthrough", "repurchase",
)  # fmt: skip
"""Which problem a deal is about when its words name several: the cause before its symptoms.

A rep who writes "集采之后卖不动，老顾客流失" has a 集采 problem; 卖不动 and 流失 are what it does to the shelf. The
specific kinds a library seldom covers come first (a 招标 that asks for a new quote is a tender, not a price
problem); stock-outs (断货) come before the season, stocking decisions (备货, 压货) after it; sell-through and
repurchase last. ``stocking`` reads as ``stock``."""
NOT_PROBLEM_WORDS = ("dtp药房", "dtp", "特药药房", "特药")
"""Words in a deal that name the customer's type, not its problem (the glossary reads DTP as a prescription topic)."""
SELLTHROUGH_WORDS = ("卖不动", "推不动", "不主推", "主推", "动销")
"""Words the glossary reads as margin/display that, in a deal, say the product does not move off the shelf."""
SECONDARY_SHARE = 0.25
"""Problem agreement of a case that shares one of the deal's other problem kinds but not the main one."""
OFF_PROBLEM = 0.5
"""Share of a case's product and customer parts when it solved another problem than the one the rep names."""
DEPARTMENT_CUES: tuple[IndicationCue, ...] = (
    IndicationCue(("神经内科", "神内", "卒中中心"), ("缺血性脑卒中",)),
    IndicationCue(("心内科", "心血管内科", "胸痛中心"), ("冠心病", "高血压", "高胆固醇血症", "心力衰竭")),
    IndicationCue(("风湿科", "风湿免疫科"), ("类风湿关节炎",)),
    IndicationCue(("骨科", "关节外科"), ("骨关节炎",)),
    IndicationCue(("内分泌科",), ("糖尿病",)),
    IndicationCue(("皮肤科",), ("荨麻疹",)),
    IndicationCue(("耳鼻喉科", "耳鼻咽喉科"), ("过敏性鼻炎",)),
    IndicationCue(("消化科", "消化内科"), ("反流性食管炎", "消化性溃疡")),
    IndicationCue(("呼吸科", "呼吸内科"), ("呼吸道感染", "咳嗽咳痰")),
    IndicationCue(("泌尿科", "泌尿外科"), ("尿路感染",)),
    IndicationCue(("肝病科", "感染科"), ("慢性乙型肝炎",)),
    IndicationCue(("肿瘤科", "胸外科"), ("肺癌",)),
)
"""Hospital departments → the indications they treat (general clinical organisation): "神经内科用波立维" is about
stroke, not the drug's 冠心病. Only indications the deal's products treat are ever narrowed to."""
FORMULARY_ENTRY = ("想进", "要进", "引进")
SEASONAL_INDICATIONS = frozenset({"流行性感冒", "感冒", "过敏性鼻炎"})
"""Indications whose demand comes in seasons: stocking a product for them (备多了, 压货) is a season problem."""
"""At a hospital or clinic, bringing a product in (想进西乐葆) is a formulary problem; at a pharmacy it is stocking."""


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
    primary: str | None = None
    """The problem the deal is about when its words name several (``PROBLEM_ORDER``): the cause, not its symptoms."""
    treats: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Each product's indications (all of them, before the text narrows them)."""

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
    its indications, and is not read. A hospital department names the indications it treats (``DEPARTMENT_CUES``).
    """
    if not text:
        return set()
    found = {i for i in among if i in text}
    names = [normalize(n) for n in product_names if n]
    cues = (*index.glossary.indication_cues, *DEPARTMENT_CUES) if index is not None else DEPARTMENT_CUES
    if cues:
        for cue in cues:
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
    treats = {sku: frozenset(found) for sku, found in _treated(store, tenant, sorted(wanted)).items()}
    treated = {i for found in treats.values() for i in found}
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
    if named and treated:  # each product narrows to the named indications it treats; one treating none keeps its own
        indications = frozenset(i for found in treats.values() for i in ((found & named) or found))
    else:
        indications = frozenset(treated or named)
    vector = None
    problems: frozenset[str] = frozenset()
    primary = None
    if index is not None and len("".join(_WORDS.findall(topic))) >= 2:
        gloss = index.glossary.match(topic)
        problems, primary = _read_problem(index.glossary, topic, customer, set(indications or known))
        vector = np.asarray(index.embedder.embed_query(f"{topic} {gloss.expansion}".strip()), dtype=np.float32)
    return _Deal(customer, wanted, names, indications, frozenset(named), topic, problems, vector, primary, treats)


def _read_problem(
    glossary: Glossary, topic: str, customer: Customer | None, indications: set[str]
) -> tuple[frozenset[str], str | None]:
    """The problem kinds a deal's words name, and the one it is about (``PROBLEM_ORDER``: the cause first).

    Read from ``PROBLEM_CUES`` and the glossary's objection categories, after taking out the words that say something
    else in a deal: indication names (过敏 in 过敏性鼻炎 is no side effect), the customer's type (DTP), and the
    sell-through words the glossary reads as display (卖不动, 不主推). At a hospital or clinic, bringing a product in
    (想进) is a formulary problem.
    """
    text = topic
    for word in sorted(indications, key=len, reverse=True):
        text = text.replace(word, " ")
    for word in NOT_PROBLEM_WORDS:
        text = text.replace(word, " ")
    kinds = set(_problem_kinds(text))
    if any(w in text for w in STOCKING_CUES):
        kinds.add("stocking")
    if customer is not None and SEGMENTS.get(customer.type or "") in ("hospital", "clinic"):
        if any(w in text for w in FORMULARY_ENTRY):
            kinds.add("formulary")
    for word in SELLTHROUGH_WORDS:
        text = text.replace(word, " ")
    categories = glossary.match(text).categories
    stock_words = [f for f in PROBLEM_CUES["stock"] if f in text]
    if "stock" in categories and not stock_words and "stock" not in kinds:
        kinds.add("stocking")  # the glossary's stock words that are no stock-out (备货, 压货) are stocking
        categories = categories - {"stock"}
    if "vbp" in categories and "vbp" not in kinds and "incumbent_supplier" in kinds:
        categories = categories - {"vbp"}  # 替换 next to a supplier: the supplier is replaced, not the drug by 集采
    kinds |= categories
    if "stocking" in kinds and any(indications_meet(i, s) for i in indications for s in SEASONAL_INDICATIONS):
        kinds.add("season")
    primary = next((k for k in PROBLEM_ORDER if k in kinds), None)
    if primary is None and kinds:
        primary = sorted(kinds)[0]
    kinds.discard("stocking")
    if primary == "stocking":
        primary = "stock"
        kinds.add("stock")
    return frozenset(kinds), primary


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
        problems = _case_problem(index.glossary if index is not None else None, label, category)
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


def _case_problem(glossary: Glossary | None, label: str, category: str | None) -> frozenset[str]:
    """A case's problem: its category if its trainer's label names it too, else the label's, else the category.

    The label is the more specific: a 季节备货 case filed under stock is about the season; a 陈列动销 case filed
    under margin/display is about the display (动销 is what the display is for), and a 替换供应商 case about the
    supplier, although the glossary reads 替换 as a 集采 word.
    """
    if glossary is None:
        return _problem_kinds(label) | ({category} if category else frozenset())
    kinds, primary = _read_problem(glossary, label, None, set())
    if category and category in kinds:
        return frozenset({category})
    if primary is not None:
        return frozenset({primary})
    return frozenset({category}) if category else frozenset()


def _product_part(case: _Case, deal: _Deal, why: list[str]) -> float:
    shared = deal.skus & case.skus
    if not shared:
        return 0.0
    names = "、".join(deal.names.get(s, s) for s in sorted(shared))
    # the case is about the drug's other indication: the text names indications of a shared product, the case none
    at_hand = {i for s in shared for i in deal.treats.get(s, frozenset()) & deal.text_indications}
    other = bool(at_hand and case.own_indications) and not any(
        indications_meet(d, i) for d in at_hand for i in case.indications
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
    """1 when the case meets an indication at hand (a sibling product's case counts through any one of them)."""
    if not deal.indications:
        return 0.0
    shared = sorted(d for d in deal.indications if any(indications_meet(d, i) for i in case.indications))
    if shared and not deal.skus & case.skus:
        why.append("同适应症：" + "、".join(shared))
    return 1.0 if shared else 0.0


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
    if deal.primary is not None and deal.primary in case.problems:
        on_topic = 1.0
    else:
        on_topic = SECONDARY_SHARE if shared else 0.0
    part = (1 - CATEGORY_SHARE) * max(0.0, cosine) + CATEGORY_SHARE * on_topic
    if shared:
        why.append("同类问题：" + "、".join(PROBLEM_NAMES.get(p, p) for p in shared))
    elif part >= PROBLEM_WHY * (1 - CATEGORY_SHARE):
        why.append("情境描述相近")
    return part


def _score(case: _Case, deal: _Deal, cosine: float, weights: Mapping[str, float]) -> CaseSuggestion | None:
    """The case's parts, reasons and weighted score; ``None`` when it scores nothing.

    When the rep names a problem and the case solved another one (its problem is known), its product and customer
    parts count only
    ``OFF_PROBLEM``: a same-product case about something else teaches nothing about this deal. When the problem is
    one negotiated with the customer whatever the product (账期, 现有供应商), the product parts count only
    ``PRODUCT_FREE_SHARE``: the customer's kind decides.
    """
    why: list[str] = []
    parts = {"problem": _problem_part(case, deal, cosine, why)}
    parts["products"] = _product_part(case, deal, why)
    parts["indications"] = _indication_part(case, deal, why)
    parts["segment"] = _segment_part(case, deal, why)
    for attr, label in ATTRIBUTES:
        parts[attr] = _attribute_part(attr, label, case, deal, why)
    parts["size"] = _size_similarity(deal.customer, case.customer) if deal.customer and case.customer else 0.0
    share = dict.fromkeys(parts, 1.0)
    if deal.describes_problem and deal.primary is not None and case.problems and deal.primary not in case.problems:
        share = {p: 1.0 if p == "problem" else OFF_PROBLEM for p in parts}
    elif deal.describes_problem and deal.primary in PRODUCT_FREE:  # same problem, negotiated with the customer
        share |= {"products": PRODUCT_FREE_SHARE, "indications": PRODUCT_FREE_SHARE}
    score = sum(weights.get(p, 0.0) * v * share[p] for p, v in parts.items())
    if score <= 0:
        return None
    confidence = _confidence(parts, deal)
    return CaseSuggestion(case.entry_id, case.title, _summary(case.body), round(score, 4),
                          {p: round(v, 3) for p, v in parts.items()}, tuple(why),
                          case.customer.id if case.customer else None, _outcome(case.body),
                          round(confidence, 4), confidence < WEAK_BELOW)  # fmt: skip


def _confidence(parts: Mapping[str, float], deal: _Deal) -> float:
    """How well a case fits on the three things a usable case shares with the deal: problem, product, segment.

    The least of the parts the deal gives evidence for (no text: product and segment; no product: problem and
    segment), the product side being the product or, failing it, the sibling part (not counted for a problem of
    ``PRODUCT_FREE``). A case is usable only when it fits on all three: a same-product, same-segment case about
    another problem is no good match.
    """
    sides = []
    if deal.describes_problem:
        sides.append(parts["problem"])
    if (deal.skus or deal.indications) and not (deal.describes_problem and deal.primary in PRODUCT_FREE):
        sides.append(max(parts["products"], parts["indications"]))
    if deal.customer is not None:
        sides.append(parts["segment"])
    return min(sides) if sides else 0.0


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
