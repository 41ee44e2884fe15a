"""FAQ clustering: what customers keep asking or objecting in visits, proposed as draft FAQ entries for trainers.

Reps write what the customer asked or objected into their interaction summaries ("店长问…", "药师担心…", "对方提出
X比Y贵…，希望降价"). This module

1. extracts those clauses with a documented rule (`extract_questions`), keeping the interaction id of each;
2. masks product and competitor names and numbers (so "担心可定断货" and "担心代文断货" are one question; the
   products are kept aside, from MENTIONS edges), embeds the masked texts with the embedder it is given, and clusters
   them with average-linkage agglomerative clustering on cosine distance with a distance threshold (or HDBSCAN);
3. drops clusters raised in fewer than ``min_size`` interactions, and turns the rest into `FaqProposal`s: the medoid
   question as the title, example questions with their interaction ids, the products mentioned, ranked by size; each
   is compared with the published FAQs and objection scripts (title similarity) so a trainer sees what is already
   answered (and can skip it);
4. writes chosen proposals as ``draft`` FAQ entries with an answer placeholder (`write_drafts`). Re-running never
   duplicates: a proposal whose interactions overlap an earlier draft's updates that draft, and a draft a trainer has
   already touched is left alone.

Every fact of a proposal is traceable: questions to interaction ids, products to SKUs, matches to entry ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from copilot import curation
from copilot.adverse_events import AdverseFinding, detect
from copilot.errors import CopilotError
from graph.errors import ConflictError
from graph.model import OBJECTION_CATEGORY_NAMES, AboutProduct, CompetitorProduct, Entry, Product
from graph.ports import GraphStore
from retrieval.embedders import Embedder
from retrieval.glossary import Glossary

Algorithm = Literal["agglomerative", "hdbscan"]
ALGORITHMS: tuple[Algorithm, ...] = ("agglomerative", "hdbscan")
DEFAULT_THRESHOLD = 0.4
"""Cosine distance at which agglomerative clustering stops merging (average linkage); chosen on eval/eval_faq.py."""
DEFAULT_ANSWERED = 0.7
"""Cosine similarity between a cluster's centroid and a published title above which the cluster counts as answered."""
SOURCE_PREFIX = "faq-cluster:"
"""``Entry.source`` of a draft written here: the prefix, then the cluster's interaction ids, comma-separated."""
DRAFT_PREFIX = "FAQ-DRAFT-"
ANSWER_PLACEHOLDER = "【待培训师填写答复】"
MASK = "某药"
MIN_CHARS = 4
"""Shorter extracted clauses are dropped (e.g. a bare "问价")."""
LOOK_BACK = 2
"""Pieces before a cue that a question takes in as its context ("额度用完了，不敢多进，问有没有办法")."""

# ------------------------------------------------------------------------------------------------ extraction

_CLAUSE_END = re.compile(r"(?<=[；;。！!？?\n])|(?<=\.)\s+")
_PIECE = re.compile(r"[，,]")
_ASK = (
    r"(?:询问|咨询|请教|打听|想知道|想了解|提问|(?<![访顾慰学疑])问(?![题候卷责]))(?=.{2})"
    r"|(?i:\b(?:ask(?:s|ed|ing)?|question(?:s|ed)?|wonder(?:s|ed)?)\b)"
)
_WORRY = (
    r"担心|担忧|顾虑|(?<![恐哪])怕|疑问|疑虑|质疑|怀疑|不放心|不信任|不认可|不接受|不愿|不肯|不同意|不想|拒绝|犹豫|"
    r"不满|抱怨|投诉|吐槽|嫌|(?<![没无])有问题|没效果|没有效果|效果不好|效果差|不如"
    r"|(?i:\b(?:concern(?:s|ed)?|worr(?:y|ied|ies)|complain(?:s|ed|ts?)?|object(?:s|ed|ions?)?|doubt(?:s|ed)?)\b)"
)
_REPORT = r"反映|反馈(?=有|说|称|[:：]|顾客|患者|病人|客户|很多|不少|部分)"
_PROBLEM = (
    r"断货|缺货|没货|到不了货|副作用|不良反应|不舒服|报不了|报不上|刷不过|刷不了|结不了|结算失败|报销受限|不理解|"
    r"退货|不明显|没效|不见效|还不好|白吃|利润(?:太|偏)?低|差价|不好卖|卖不动|没法卖|断了|断供|供不上|供应不上|跟不上|"
    r"吃了|吃完|服用.{1,15}后|用药后|有意见|不满意|不配合|不会操作|不坚持|记不住|忘吃|漏服|流失|守不住|谈不拢|不成功|不够|"
    r"(?P<ab>[\u4e00-\u9fff])不(?P=ab)"
    r"|(?i:\b(?:out of stock|shortage|side effects?|ADR|adverse|failed|refund)\b)"
)
_PRICE = (
    r"太贵|偏贵|较贵|贵了|贵约|更贵|比.{1,20}?贵|价格(?:偏|太|较)?高|价格没有优势|降价|压价|砍价|比价|让利|便宜|"
    r"太(?:高|低|大|少|慢|长|麻烦)|过高|偏高"
    r"|(?i:\b(?:too expensive|pricier|cheaper|price cut|discount)\b)"
)
_DEMAND = (
    r"希望|要求|提出|能否|可否|能不能|是否|可不可以|有没有|会不会|是不是|为什么|为何|为啥|怎么办|怎么|如何|咋|"
    r"哪个|哪些|要(?:我|把|退|换|降|延)|让我|非要|[吗呢么]$|(?<=[能可报用吃])不$"
    r"|(?i:\b(?:wants?|wanted|requests?|requested|why|how (?:do|can|to))\b)"
)
CUE = re.compile("|".join(f"(?:{p})" for p in (_ASK, _WORRY, _REPORT, _PROBLEM, _PRICE, _DEMAND)))
"""A piece of a clause in the customer's voice: asking, worry or doubt, a problem reported, price, a demand."""
TRAILING_ASK = re.compile(r"(?:问|咨询|请教)$")
"""A piece ending in 问 ("关节炎老人问") asks about the piece before it, when that one is not in the rep's voice."""
REP_VOICE = re.compile(
    r"^(?:我|代表|已|与|建议|介绍|讲解|沟通|安排|提交|协调|跟进|推进|复盘|讨论|解读|核对|对接|了解|组织|参加|上门|例行|拜访|"
    r"到(?!货)|电话(?:沟通|跟进|拜访|联系)|微信跟进|陪同|下周|明天|后续|现场|当场|整理|承诺|答应|告知|解答|答复|回复|"
    r"(?:向|给)(?:对方|客户|店长|医生|药师)|(?:对方|客户|店长)?(?:表示|认可|满意|接受|同意)|客户满意|"
    r"(?i:(?:I|we|rep|visited|called|explained|answered|promised|will)\b))"
)
"""A piece written in the rep's voice (what the rep did, or the outcome): never a question, and ends one."""


def _clauses(summary: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_END.split(summary) if c and c.strip()]


def extract_questions(summary: str) -> list[str]:
    """The questions and objections a summary reports, in the customer's words as the rep wrote them.

    Why a rule and not a model: it is transparent to trainers, needs no labelled data, and is tested. The rule:

    - the summary is split into clauses at ``；;。！!？?``, new lines and ". ", and each clause into pieces at commas;
    - a piece in the rep's voice (``REP_VOICE``: 拜访…, 介绍…, 已…, 建议…, 对方认可…) is never a question;
    - a question starts at a piece with a cue (``CUE``): asking (问/询问/咨询 with something after it, asked),
      worry or doubt (担心/顾虑/疑问/质疑/嫌/不愿/投诉, worried), a problem reported (反映, 反馈有/说, 断货/缺货,
      副作用/不良反应, 报不了/结算失败, 利润低/差价), price (贵/比…贵/价格偏高/太高/降价/便宜), or a demand or
      question word (希望/要求/提出/能否/怎么/为啥/咋/…吗/…不, 伤不伤/报不报);
    - a piece ending in 问/咨询 ("老人问") asks about the piece before it, if that one is not in the rep's voice;
    - a clause ending in ？/? is a question from its first piece not in the rep's voice;
    - it takes in up to ``LOOK_BACK`` pieces before the cue that are not in the rep's voice (the situation the customer
      describes before asking: "额度月中就用完了，不敢多进，问有没有办法");
    - it runs to the end of the clause or up to the next piece in the rep's voice, whichever comes first;
      clauses shorter than ``MIN_CHARS`` characters are dropped.

    "了解临床对X的使用反馈" and "张经理微信咨询" (an opener with nothing asked) are therefore not questions, while
    "店员反馈有顾客服用X后出现头晕，询问处理办法" is one.
    """
    out: list[str] = []
    for clause in _clauses(summary):
        question = clause.endswith(("？", "?"))
        body = clause.rstrip("；;。！!？?.\n ").strip()
        pieces = [p.strip() for p in _PIECE.split(body) if p.strip()]
        if question:
            start = next((k for k, p in enumerate(pieces) if not REP_VOICE.search(p)), None)
            if start is not None:
                text = "，".join(pieces[start:]) + clause[-1]
                if len(text) >= MIN_CHARS:
                    out.append(text)
            continue
        i = done = 0
        while i < len(pieces):
            trailing_ask = i > 0 and TRAILING_ASK.search(pieces[i]) and not REP_VOICE.search(pieces[i - 1])
            if REP_VOICE.search(pieces[i]) or not (CUE.search(pieces[i]) or trailing_ask):
                i += 1
                continue
            start = i
            while start > max(i - LOOK_BACK, done) and not REP_VOICE.search(pieces[start - 1]):
                start -= 1
            j = i + 1
            while j < len(pieces) and not REP_VOICE.search(pieces[j]):
                j += 1
            text = "，".join(pieces[start:j])
            done = j
            if len(text) >= MIN_CHARS:
                out.append(text)
            i = j
    return out


@dataclass(frozen=True)
class Question:
    """One question or objection from an interaction summary, with the interaction it came from."""

    text: str
    interaction_id: str
    at: dt.datetime | None = None
    skus: tuple[str, ...] = ()


class CatalogueNames:
    """The tenant's product and competitor names: masks them in text, and finds which products a text names."""

    def __init__(self, products: Iterable[Product], competitors: Iterable[CompetitorProduct] = ()) -> None:
        self.names: dict[str, str] = {}
        surfaces: dict[str, set[str]] = defaultdict(set)
        for p in products:
            self.names[p.sku] = f"{p.brand} {p.name}" if p.brand and p.brand not in p.name else p.name
            for s in (p.name, p.generic_name, p.brand, (p.brand or "") + p.name):
                if s and len(s) >= 2:
                    surfaces[s].add(p.sku)
        for c in competitors:
            for s in (c.name, c.name.split(" ")[0]):
                if s and len(s) >= 2:
                    surfaces.setdefault(s, set())
        self._surfaces = dict(surfaces)
        ordered = sorted(surfaces, key=lambda s: (-len(s), s))
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    @classmethod
    def from_store(cls, store: GraphStore, tenant: str) -> CatalogueNames:
        """Names of the tenant's products and competitor products."""
        catalogue = store.catalogue(tenant)
        return cls(catalogue.products, catalogue.competitors)

    def mask(self, text: str) -> str:
        """The text with every product or competitor name replaced by 某药 and every number by N, no spaces."""
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return re.sub(r"\d+(?:\.\d+)?", "N", "".join(text.split()))

    def named(self, text: str) -> set[str]:
        """SKUs of the products the text names."""
        if self._pattern is None:
            return set()
        return {sku for m in self._pattern.finditer(text) for sku in self._surfaces.get(m.group(0), ())}


def _carries_reaction(question: str, reaction: AdverseFinding) -> bool:
    """Whether a question of a summary that reports a reaction carries it (the reported clause or a symptom word)."""
    if detect(question) is not None:
        return True
    sentence = reaction.sentence
    return any(w in question for w in reaction.symptoms) or sentence in question or question in sentence


def collect_questions(
    store: GraphStore, tenant: str, *, since: dt.datetime | None = None, names: CatalogueNames | None = None
) -> tuple[list[Question], int]:
    """Every question extracted from the tenant's interactions (oldest first) and the number of interactions read.

    A question's products are the interaction's MENTIONS that the question itself names, or all of the interaction's
    MENTIONS when it names none of them (reps often write "对方认为价格偏高" after naming the product earlier).
    A question that carries a suspected adverse reaction is left out: it belongs to the drug-safety queue.
    """
    out: list[Question] = []
    records = store.interactions(tenant, since=since)
    for record in records:
        it, skus = record.interaction, record.mentioned_skus
        reaction = detect(it.summary)
        for text in extract_questions(it.summary):
            if reaction is not None and _carries_reaction(text, reaction):
                continue  # a suspected adverse reaction goes to drug safety (copilot.safety), never into an FAQ
            named = names.named(text) & set(skus) if names is not None else set()
            out.append(Question(text, it.id, it.at, tuple(sorted(named)) if named else skus))
    out.sort(key=lambda q: (q.at or dt.datetime.min, q.interaction_id, q.text))
    return out, len(records)


# ------------------------------------------------------------------------------------------------ clustering


@dataclass(frozen=True)
class Example:
    """An example question of a cluster: its words, where it came from, and how typical it is."""

    text: str
    interaction_id: str
    similarity: float
    same_wording: int
    """Questions of the cluster worded the same way (after masking names and numbers)."""


@dataclass(frozen=True)
class ProductCount:
    """A product the cluster's questions mention, and in how many of them."""

    sku: str
    name: str
    count: int


@dataclass(frozen=True)
class PublishedMatch:
    """The published FAQ or objection script whose title is closest to the cluster."""

    entry_id: str
    kind: str
    title: str
    similarity: float


@dataclass
class FaqProposal:
    """A proposed FAQ: the most central question as title, examples with interaction ids, products, size."""

    id: str
    """Stable id of the draft entry it would become (an earlier draft's id when it overlaps one)."""
    title: str
    """The topic, then the central question with product names masked (it speaks for every product in it)."""
    medoid_interaction_id: str
    size: int
    """Distinct interactions that raised it (the ranking key)."""
    questions: int
    cohesion: float
    """Mean cosine similarity of the cluster's questions to the medoid."""
    interaction_ids: tuple[str, ...]
    examples: tuple[Example, ...]
    products: tuple[ProductCount, ...]
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    closest_published: PublishedMatch | None = None
    answered: bool = False
    draft_status: Literal["new", "drafted", "curated"] = "new"
    """``drafted``: an earlier draft exists (writing updates it); ``curated``: a trainer already took it over."""
    topic: str = ""
    """What the questions are about (价格, 库存/配送, 医保报销…): the objection category most of them signal."""


@dataclass
class FaqReport:
    """Proposals and how they were made: counts, settings, seconds per step."""

    tenant: str | None
    embedder: str
    algorithm: str
    threshold: float
    min_size: int
    interactions: int
    questions: list[Question]
    labels: list[int]
    """Per question: the index of its proposal, or -1 (noise, a tiny cluster, or skipped as answered)."""
    proposals: list[FaqProposal]
    clusters: int = 0
    """Clusters found before dropping tiny ones."""
    skipped_answered: int = 0
    truncated: int = 0
    """Oldest questions left out to stay under ``max_questions``."""
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """Counts and settings, without the per-question lists (for JSON output)."""
        clustered = sum(1 for x in self.labels if x >= 0)
        return {
            "tenant": self.tenant,
            "embedder": self.embedder,
            "algorithm": self.algorithm,
            "threshold": self.threshold,
            "min_size": self.min_size,
            "interactions": self.interactions,
            "questions": len(self.questions),
            "clustered_questions": clustered,
            "clusters": self.clusters,
            "proposals": len(self.proposals),
            "skipped_answered": self.skipped_answered,
            "truncated": self.truncated,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def cluster_labels(vectors: np.ndarray, *, algorithm: Algorithm, threshold: float, min_size: int) -> np.ndarray:
    """Cluster label per row (-1 = noise) of L2-normalised vectors, with scikit-learn.

    ``agglomerative``: average linkage on cosine distance, merging while the average distance between two clusters
    is below ``threshold`` (no number of clusters to guess). ``hdbscan``: density-based, on euclidean distance of the
    normalised vectors (monotonic in cosine), ``min_cluster_size = min_size``; it leaves outliers as noise.
    """
    n = len(vectors)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    if algorithm == "agglomerative":
        from sklearn.cluster import AgglomerativeClustering  # type: ignore[import-untyped]

        model = AgglomerativeClustering(
            n_clusters=None, distance_threshold=threshold, metric="cosine", linkage="average"
        )
        return np.asarray(model.fit_predict(vectors), dtype=np.int64)
    if algorithm == "hdbscan":
        from sklearn.cluster import HDBSCAN

        hdb = HDBSCAN(min_cluster_size=max(2, min_size), metric="euclidean", copy=True)
        return np.asarray(hdb.fit_predict(vectors), dtype=np.int64)
    raise CopilotError(f"unknown clustering algorithm '{algorithm}' ({', '.join(ALGORITHMS)})")


def draft_id(interaction_ids: Iterable[str]) -> str:
    """Entry id of a new draft, derived from the cluster's sorted interaction ids (same cluster, same id)."""
    digest = hashlib.sha1("\n".join(sorted(set(interaction_ids))).encode(), usedforsecurity=False).hexdigest()
    return DRAFT_PREFIX + digest[:12].upper()


def _embed_unique(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Vectors of ``texts``, embedding each distinct text once (reps repeat phrasings a lot)."""
    unique = sorted(set(texts))
    if not unique:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    vecs = embedder.embed_documents(unique)
    row = {t: i for i, t in enumerate(unique)}
    return np.asarray(vecs[[row[t] for t in texts]], dtype=np.float32)


_GLOSSARY = Glossary()
OTHER_TOPIC = "其他问题"


def topic_of(texts: Sequence[str], glossary: Glossary = _GLOSSARY) -> str:
    """The objection category most of ``texts`` signal (through the sales glossary), in a trainer's words.

    A cluster is one question asked about many products; its topic is what a trainer files the answer under. Ties go
    to the category named first in ``OBJECTION_CATEGORY_NAMES``; no signal at all gives 其他问题.
    """
    votes: Counter[str] = Counter()
    for t in texts:
        votes.update(glossary.match(t).categories)
    if not votes:
        return OTHER_TOPIC
    order = list(OBJECTION_CATEGORY_NAMES)
    best = min(votes, key=lambda c: (-votes[c], order.index(c) if c in order else len(order), c))
    return OBJECTION_CATEGORY_NAMES.get(best, best)


def topic_title(topic: str, masked_medoid: str, products: int) -> str:
    """The title a trainer reads: topic, the central question with names masked as 该药, and how many products."""
    question = masked_medoid.replace(MASK, "该药")
    return f"{topic}：{question}" + (f"（涉及 {products} 个产品）" if products > 1 else "")


def _proposal(
    members: np.ndarray, questions: Sequence[Question], masked: Sequence[str], vectors: np.ndarray,
    names: CatalogueNames | None, max_examples: int,
) -> FaqProposal:  # fmt: skip
    sub = vectors[members]
    sims = sub @ sub.T
    centre = int(np.argmax(sims.sum(axis=1)))
    to_medoid = sims[centre]
    medoid = questions[int(members[centre])]
    by_wording: dict[str, list[int]] = defaultdict(list)
    for k, m in enumerate(members):
        by_wording[masked[int(m)]].append(k)
    groups = sorted(by_wording.values(), key=lambda ks: (-len(ks), -float(to_medoid[ks[0]]), ks[0]))
    medoid_group = next(g for g in groups if centre in g)
    groups.remove(medoid_group)
    examples = []
    for g in [medoid_group, *groups][:max_examples]:
        k = centre if centre in g else max(g, key=lambda x: (questions[int(members[x])].at or dt.datetime.min, -x))
        q = questions[int(members[k])]
        examples.append(Example(q.text, q.interaction_id, round(float(to_medoid[k]), 4), len(g)))
    counts: Counter[str] = Counter(sku for m in members for sku in set(questions[int(m)].skus))
    products = tuple(
        ProductCount(sku, names.names.get(sku, sku) if names else sku, n)
        for sku, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    )
    ids = sorted({questions[int(m)].interaction_id for m in members})
    times = [t for t in (questions[int(m)].at for m in members) if t is not None]
    topic = topic_of([masked[int(m)] for m in members])
    return FaqProposal(
        id=draft_id(ids),
        title=topic_title(topic, masked[int(members[centre])], len(products)),
        topic=topic,
        medoid_interaction_id=medoid.interaction_id,
        size=len(ids),
        questions=len(members),
        cohesion=round(float(to_medoid.mean()), 4),
        interaction_ids=tuple(ids),
        examples=tuple(examples),
        products=products,
        first_at=min(times) if times else None,
        last_at=max(times) if times else None,
    )


def cluster_questions(
    questions: Sequence[Question],
    embedder: Embedder,
    *,
    names: CatalogueNames | None = None,
    algorithm: Algorithm = "agglomerative",
    threshold: float = DEFAULT_THRESHOLD,
    min_size: int = 5,
    max_examples: int = 8,
    published: Sequence[Entry] = (),
    answered_threshold: float = DEFAULT_ANSWERED,
    skip_answered: bool = False,
) -> FaqReport:
    """Cluster questions into proposals ranked by size (distinct interactions), dropping those under ``min_size``.

    Names and numbers are masked before embedding when ``names`` is given. With ``published`` entries (FAQs and
    objection scripts), each proposal records the closest one by title; ``answered`` when the cosine similarity of
    the cluster's centroid to that title reaches ``answered_threshold``, and ``skip_answered`` leaves those out.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    masked = [names.mask(q.text) if names is not None else "".join(q.text.split()) for q in questions]
    vectors = _embed_unique(embedder, masked)
    timings["embed"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    raw = cluster_labels(vectors, algorithm=algorithm, threshold=threshold, min_size=min_size)
    timings["cluster"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    groups: dict[int, list[int]] = defaultdict(list)
    for i, lab in enumerate(raw.tolist()):
        if lab >= 0:
            groups[int(lab)].append(i)
    kept: list[tuple[FaqProposal, np.ndarray]] = []
    for idx in groups.values():
        members = np.asarray(idx, dtype=np.int64)
        if len({questions[i].interaction_id for i in idx}) < min_size:
            continue
        kept.append((_proposal(members, questions, masked, vectors, names, max_examples), members))
    _match_published([p for p, _ in kept], [vectors[m] for _, m in kept], published, embedder, names,
                     answered_threshold)  # fmt: skip
    skipped = 0
    if skip_answered:
        skipped = sum(1 for p, _ in kept if p.answered)
        kept = [(p, m) for p, m in kept if not p.answered]
    kept.sort(key=lambda pm: (-pm[0].size, -pm[0].cohesion, pm[0].id))
    labels = [-1] * len(questions)
    for k, (_, members) in enumerate(kept):
        for i in members.tolist():
            labels[int(i)] = k
    timings["propose"] = time.perf_counter() - t2
    return FaqReport(
        tenant=None,
        embedder=embedder.name,
        algorithm=algorithm,
        threshold=threshold,
        min_size=min_size,
        interactions=len({q.interaction_id for q in questions}),
        questions=list(questions),
        labels=labels,
        proposals=[p for p, _ in kept],
        clusters=len(groups),
        skipped_answered=skipped,
        seconds=timings,
    )


def _match_published(
    proposals: Sequence[FaqProposal], member_vectors: Sequence[np.ndarray], published: Sequence[Entry],
    embedder: Embedder, names: CatalogueNames | None, threshold: float,
) -> None:  # fmt: skip
    if not proposals or not published:
        return
    titles = [names.mask(e.title) if names is not None else e.title for e in published]
    tv = _embed_unique(embedder, titles)
    for p, vecs in zip(proposals, member_vectors, strict=True):
        centroid = vecs.mean(axis=0)
        centroid = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
        sims = tv @ centroid
        best = int(np.argmax(sims))
        e = published[best]
        p.closest_published = PublishedMatch(e.id, e.kind, e.title, round(float(sims[best]), 4))
        p.answered = float(sims[best]) >= threshold


def propose_faqs(
    store: GraphStore,
    tenant: str,
    embedder: Embedder,
    *,
    since: dt.datetime | None = None,
    algorithm: Algorithm = "agglomerative",
    threshold: float = DEFAULT_THRESHOLD,
    min_size: int = 5,
    max_examples: int = 8,
    check_published: bool = True,
    answered_threshold: float = DEFAULT_ANSWERED,
    skip_answered: bool = False,
    max_questions: int = 5000,
) -> FaqReport:
    """Proposed FAQs from the tenant's interaction summaries (since a date, if given), largest first.

    Agglomerative clustering holds a distance matrix of the questions (memory grows with the square), so at most
    ``max_questions`` of the most recent ones are clustered; the report says how many were left out. Proposals that
    overlap a draft written earlier carry that draft's id and status (``drafted`` / ``curated``).
    """
    t0 = time.perf_counter()
    names = CatalogueNames.from_store(store, tenant)
    questions, read = collect_questions(store, tenant, since=since, names=names)
    truncated = max(0, len(questions) - max_questions)
    if truncated:
        questions = questions[truncated:]
    published: list[Entry] = []
    if check_published:
        for kind in ("faq", "objection_script"):
            published += store.entries(tenant, status="published", kind=kind)
    collected = time.perf_counter() - t0
    report = cluster_questions(
        questions, embedder, names=names, algorithm=algorithm, threshold=threshold, min_size=min_size,
        max_examples=max_examples, published=published, answered_threshold=answered_threshold,
        skip_answered=skip_answered,
    )  # fmt: skip
    report.tenant = tenant
    report.interactions = read
    report.truncated = truncated
    existing = _cluster_drafts(store, tenant)
    for p, e in _match_drafts(report.proposals, existing):
        if e is not None:
            p.id = e.id
            p.draft_status = "drafted" if _untouched(e, "faq-cluster") else "curated"
    report.seconds = {"collect": collected, **report.seconds, "total": time.perf_counter() - t0}
    return report


# ------------------------------------------------------------------------------------------------ drafts


@dataclass
class DraftReport:
    """What `write_drafts` did, by entry id."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped_curated: list[str] = field(default_factory=list)
    about_edges: int = 0


def _cluster_drafts(store: GraphStore, tenant: str) -> list[Entry]:
    return [e for e in store.entries(tenant, kind="faq") if (e.source or "").startswith(SOURCE_PREFIX)]


def _source_ids(e: Entry) -> set[str]:
    return {x for x in (e.source or "")[len(SOURCE_PREFIX) :].split(",") if x}


def _untouched(e: Entry, author: str) -> bool:
    """A draft as this module last wrote it: still a draft, nobody else saved it since (curation sets the author)."""
    return e.status == "draft" and e.author == author


def _match_drafts(
    proposals: Sequence[FaqProposal], existing: Sequence[Entry], min_overlap: float = 0.5
) -> list[tuple[FaqProposal, Entry | None]]:
    """Pair each proposal with the earlier cluster draft sharing most of its interactions (each draft used once).

    Overlap = shared interactions / the smaller of the two sets, so a cluster that grew by new interactions still
    finds its draft. Largest proposals choose first.
    """
    free = {e.id: (e, _source_ids(e)) for e in existing}
    out: list[tuple[FaqProposal, Entry | None]] = []
    for p in proposals:
        ids = set(p.interaction_ids)
        best: tuple[float, str] | None = None
        for eid, (_, src) in free.items():
            if not src or not ids:
                continue
            overlap = len(ids & src) / min(len(ids), len(src))
            if overlap >= min_overlap and (best is None or (overlap, eid) > best):
                best = (overlap, eid)
        if best is None:
            out.append((p, None))
        else:
            out.append((p, free.pop(best[1])[0]))
    return out


def about_skus(p: FaqProposal, *, share: float = 0.25, limit: int = 5) -> list[str]:
    """Products the FAQ is about: named in at least ``share`` of its questions (and in two), at most ``limit``.

    A question raised about many products (断货, 账期) is a general FAQ and gets no ABOUT edge, so it does not crowd
    the product-filtered results; its products stay listed in the body.
    """
    need = max(2.0, share * p.questions)
    return [c.sku for c in p.products if c.count >= need][:limit]


def draft_body(p: FaqProposal) -> str:
    """The draft's text: the example questions with interaction ids, the products, and the answer placeholder."""
    span = ""
    if p.first_at and p.last_at:
        span = f"，{p.first_at:%Y-%m-%d} 至 {p.last_at:%Y-%m-%d}"
    lines = [f"客户原话（{p.questions} 条，来自 {p.size} 次拜访/沟通{span}）："]
    for e in p.examples:
        more = f"（同样说法 {e.same_wording} 次）" if e.same_wording > 1 else ""
        lines.append(f"- {e.text}〔{e.interaction_id}〕{more}")
    if p.products:
        shown = "、".join(f"{c.name}〔{c.sku}〕{c.count}次" for c in p.products[:10])
        rest = f" 等 {len(p.products)} 个产品" if len(p.products) > 10 else ""
        lines.append(f"涉及产品：{shown}{rest}")
    if p.closest_published is not None:
        m = p.closest_published
        lines.append(f"最接近的已发布条目：{m.entry_id}「{m.title}」（相似度 {m.similarity:.2f}）")
    lines += ["", f"答复：{ANSWER_PLACEHOLDER}"]
    return "\n".join(lines)


def draft_entry(
    p: FaqProposal, tenant: str, *, now: dt.datetime, author: str = "faq-cluster", names: CatalogueNames | None = None
) -> tuple[Entry, list[AboutProduct]]:
    """The draft FAQ entry of a proposal and its ABOUT edges (`about_skus`)."""
    skus = about_skus(p)
    tags = ["FAQ", "FAQ聚类草稿"]
    if names is not None:
        tags += [names.names[s] for s in skus if s in names.names]
    entry = Entry(
        tenant=tenant,
        id=p.id,
        kind="faq",
        title=p.title[:200],
        body=draft_body(p),
        tags=tags,
        status="draft",
        version=1,
        author=author,
        updated_at=now,
        source=SOURCE_PREFIX + ",".join(p.interaction_ids),
    )
    return entry, [AboutProduct(tenant=tenant, entry_id=p.id, sku=s) for s in skus]


def _content(e: Entry) -> tuple[object, ...]:
    return (e.title, e.body, tuple(e.tags), e.status, e.source)


def write_drafts(
    store: GraphStore,
    tenant: str,
    proposals: Sequence[FaqProposal],
    *,
    now: dt.datetime,
    author: str = "faq-cluster",
    names: CatalogueNames | None = None,
) -> DraftReport:
    """Write proposals as draft FAQ entries (ABOUT edges and an audit record each); re-running never duplicates.

    A proposal overlapping an earlier cluster draft (see `_match_drafts`) updates that draft (a new version, its ABOUT
    edges replaced) if nobody else has saved it since, and is skipped if a trainer has (edited, submitted, published
    or retired it). Unchanged drafts are not rewritten, so a second run with the same data writes nothing.
    """
    report = DraftReport()
    for p, old in _match_drafts(proposals, _cluster_drafts(store, tenant)):
        if old is not None and not _untouched(old, author):
            report.skipped_curated.append(old.id)
            continue
        if old is not None:
            p.id = old.id
        entry, about = draft_entry(p, tenant, now=now, author=author, names=names)
        if old is not None and _content(old) == _content(entry):
            report.unchanged.append(entry.id)
            continue
        digest = hashlib.sha1(repr(_content(entry)).encode(), usedforsecurity=False).hexdigest()[:12]
        try:  # versioned: a trainer's edit landing meanwhile wins, and this draft is left for the next run
            curation.save_generated_draft(
                store,
                tenant,
                entry,
                expected_version=None if old is None else old.version,
                skus=[e.sku for e in about],
                actor=author,
                action="faq_draft_update" if old is not None else "faq_draft_create",
                details={"interactions": len(p.interaction_ids), "questions": p.questions,
                         "about": [e.sku for e in about]},
                at=now,
                event_id=f"{author}:{entry.id}:{digest}",
            )  # fmt: skip
        except ConflictError:
            report.skipped_curated.append(entry.id)
            continue
        (report.updated if old is not None else report.created).append(entry.id)
        report.about_edges += len(about)
    return report
