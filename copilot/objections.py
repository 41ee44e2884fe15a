"""Objection answers: the best published scripts for what a customer said, or a plain "no good match".

A script is written at one of three levels: about a product (本品), about an indication (同适应症: every drug of
that indication), or general (通用: any product). All three are scored side by side in one ranking, because the
right answer is the most specific script *on the customer's topic*, not the most specific script: 立普妥太贵 is
answered by the 立普妥 price script, 太贵了 (no product named or selected) by the general price script, and a
立普妥 question that no 立普妥 script covers by the 高胆固醇血症 or the general script on that topic.

How one request is read (once: one typo correction, one tokenisation, one embedding, whatever the levels):

1. the text is normalised and homophone typos are put right (`retrieval.typos`: 价隔 → 价格, 带文 → 代文);
2. products are found in it with their positions (`resolution.mentions`); a product after 比/跟/和 (立普妥比国产的贵,
   可威比达菲便宜) is the comparison, not the subject; a product selected in the UI is the subject, and one only
   named in the text then is a comparison;
3. the glossary (`retrieval.glossary`) adds the plain words of English and jargon terms (MOQ → 起订量, 账期, 动销…),
   names the objection categories they signal and the indications of class words (降压药 → 高血压);
4. the product names are taken out of the text that is compared with scripts (the level already says which
   product), and that text plus the glossary's words is embedded and tokenised once.

A script's score adds its cosine similarity to the query, the share of the query's words (idf-weighted) in its title,
a bonus for its level (a product script more when its category is one the query signals), and a small bonus when it
is written for the customer's type. Ties are broken by entry id, so the same request always gets the same answer.

The answer is given only when the best script's *confidence* (cosine plus title overlap: how well the text matches,
whatever the level) reaches the threshold of its level, chosen on the development half of the independent set
(`python -m eval.eval_answers --calibrate`). Below it the answer is 无匹配话术: no script, the nearest general scripts
labelled as such, and a "request a script" action that puts the query in the trainers' queue.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, get_args

import numpy as np

from graph.model import OBJECTION_CATEGORY_NAMES, ObjectionCategory
from retrieval.glossary import GlossaryMatch, normalize
from retrieval.hybrid import EntryDoc, KnowledgeIndex
from retrieval.typos import char_ngrams

Level = Literal["product", "indication", "general"]
LEVELS: tuple[Level, ...] = ("product", "indication", "general")
BADGES: dict[Level, str] = {"product": "本品", "indication": "同适应症", "general": "通用"}
"""How the console labels the level a script was found at."""
NO_MATCH_TEXT = "无匹配话术"
NO_MATCH_MESSAGE = "无匹配话术：没有针对这个问题的话术。下面是最接近的通用话术，仅供参考；可以请培训部补写。"
TypoMode = Literal["pinyin", "ngram", "none"]
KIND = "objection_script"
SHORTLIST = 24
"""Per level, how many scripts (by cosine and category) are scored in full; ties at the cut are all kept."""
LEVEL_SET_CACHE = 1024
"""Level sets (a product's, an indication's, the general scripts) kept with their vectors until the index changes."""
CATEGORY_CODES: dict[str, int] = {c: i for i, c in enumerate(get_args(ObjectionCategory))}
COMPARISON = re.compile(r"比|跟|和|与|相比|对比|不如|换成|换")
"""Words between two product names that make the second one the comparison (立普妥比国产阿托伐他汀贵)."""


class Mention(Protocol):
    """A product named in the text, with its offsets (``resolution.mentions.ProductMention``)."""

    @property
    def start(self) -> int:
        """Offset of the first character."""
        ...

    @property
    def end(self) -> int:
        """Offset after the last character."""
        ...

    @property
    def skus(self) -> tuple[str, ...]:
        """The SKUs the name stands for (several for an ambiguous generic name)."""
        ...


MentionFinder = Callable[[str], Sequence[Mention]]


@dataclass(frozen=True)
class Weights:
    """How a script's score is made; the defaults were chosen on the development split (see the module docstring)."""

    dense: float = 1.0
    title_overlap: float = 0.2
    product: float = 0.2
    product_category: float = 0.2
    indication: float = 0.05
    category: float = 0.0
    customer_type: float = 0.05
    category_confidence: float = 0.4
    """Added to the confidence when the script's category is one the query signals (it answers that kind of thing)."""
    ngram: float = 0.0
    """Weight of character-bigram overlap with the script (only in the ``ngram`` typo mode, the measured one)."""


@dataclass(frozen=True)
class Thresholds:
    """Least confidence per level for an answer; below it the answer is 无匹配话术 (chosen on the development split)."""

    product: float = 0.221
    indication: float = 0.0
    general: float = 0.54

    def of(self, level: Level) -> float:
        """The threshold of ``level``."""
        return float(getattr(self, level))


@dataclass(frozen=True)
class QueryReading:
    """What the copilot read in the query, shown to the rep so an answer can be trusted (or corrected)."""

    text: str
    corrected: str
    fixes: tuple[tuple[str, str], ...] = ()
    products: tuple[str, ...] = ()
    compared: tuple[str, ...] = ()
    indications: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    search_text: str = ""


@dataclass(frozen=True)
class ObjectionAnswer:
    """A script for the objection: its entry and version, the level it was found at, and why it came back."""

    entry_id: str
    version: int
    title: str
    script: str
    level: Level
    score: float
    confidence: float
    category: str | None = None
    customer_types: tuple[str, ...] = ()
    why: tuple[str, ...] = ()
    nearest: bool = False
    """True for a general script shown under 无匹配话术: the closest one, not an answer."""

    @property
    def badge(self) -> str:
        """本品, 同适应症 or 通用."""
        return BADGES[self.level]


@dataclass(frozen=True)
class ObjectionResult:
    """The answer to one request: scripts, or 无匹配话术 with the nearest general scripts and a request action."""

    status: Literal["answered", "no_match"]
    answers: tuple[ObjectionAnswer, ...]
    reading: QueryReading
    nearest_general: tuple[ObjectionAnswer, ...] = ()
    message: str | None = None

    @property
    def can_request_script(self) -> bool:
        """Whether the console offers "request a script" (a no-match answer)."""
        return self.status == "no_match"


@dataclass
class _Prepared:
    reading: QueryReading
    subject: frozenset[str]
    indications: frozenset[str]
    text_indications: frozenset[str]
    categories: frozenset[str]
    tokens: tuple[str, ...]
    vector: np.ndarray
    ngrams: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _LevelSet:
    ids: tuple[str, ...]
    matrix: np.ndarray
    categories: np.ndarray


@dataclass(frozen=True)
class _Scored:
    doc: EntryDoc
    level: Level
    score: float
    confidence: float
    why: tuple[Level, tuple[str, ...], bool, str | None]
    """What the reasons are made of (level, shared title words, on topic, customer type): put in words on output."""


@dataclass
class _VectorCache:
    """Query vectors by the text embedded (reps repeat 太贵了, 断货了…); least recently used first out."""

    size: int = 512
    items: OrderedDict[str, np.ndarray] = field(default_factory=OrderedDict)

    def get(self, text: str, embed: Callable[[str], np.ndarray]) -> np.ndarray:
        found = self.items.get(text)
        if found is None:
            found = self.items[text] = np.asarray(embed(text), dtype=np.float32)
            if len(self.items) > self.size:
                self.items.popitem(last=False)
        else:
            self.items.move_to_end(text)
        return found


class ObjectionAnswerer:
    """Answers objections from one tenant's knowledge index (published objection scripts only)."""

    def __init__(
        self,
        index: KnowledgeIndex,
        *,
        mentions: MentionFinder | None = None,
        product_indications: Mapping[str, Sequence[str]] | None = None,
        weights: Weights | None = None,
        thresholds: Thresholds | None = None,
        typo_mode: TypoMode = "pinyin",
        cache_vectors: bool = True,
    ) -> None:
        self.index = index
        self.mentions = mentions
        self.product_indications = {k: tuple(v) for k, v in (product_indications or {}).items()}
        self.weights = weights or Weights()
        self.thresholds = thresholds or Thresholds()
        self.typo_mode = typo_mode
        self._vectors = _VectorCache() if cache_vectors else None
        self._sets: OrderedDict[tuple[Level, frozenset[str], str | None], _LevelSet] = OrderedDict()
        self._generation = -1
        self._known: tuple[int, frozenset[str]] | None = None

    # ------------------------------------------------------------------ reading the query

    def read(self, text: str, skus: Sequence[str] = ()) -> _Prepared:
        """The query read once: corrected, products and indications found, tokenised and embedded."""
        normal = " ".join(normalize(text).split())
        corrected, fixes = self.index.corrector.correct(normal) if self.typo_mode == "pinyin" else (normal, ())
        found = list(self.mentions(corrected)) if self.mentions else []
        subject, compared = _subject(found, corrected, skus)
        topic = corrected
        for m in sorted(found, key=lambda m: m.start, reverse=True):
            if _names_the_generics(m, found, corrected):
                continue
            topic = topic[: m.start] + " " + topic[m.end :]
        topic = " ".join(topic.split()) or corrected
        gloss: GlossaryMatch = self.index.glossary.match(topic)
        known = self._known_indications()
        text_inds = {i for i in gloss.indications if i in known} | {i for i in known if i in topic}
        inds = set(text_inds)
        for sku in subject:
            inds.update(self.product_indications.get(sku, ()))
        search_text = f"{topic} {gloss.expansion}".strip()
        tokens = tuple(dict.fromkeys(self.index.tokenizer.tokens(search_text)))
        embed = self.index.embedder.embed_query
        vector = self._vectors.get(search_text, embed) if self._vectors else np.asarray(embed(search_text))
        reading = QueryReading(
            text=text,
            corrected=corrected,
            fixes=tuple((f.typed, f.word) for f in fixes),
            products=tuple(sorted(subject)),
            compared=tuple(sorted(compared - subject)),
            indications=tuple(sorted(inds)),
            categories=tuple(sorted(gloss.categories)),
            terms=gloss.forms,
            search_text=search_text,
        )
        grams = frozenset(char_ngrams(search_text)) if self.typo_mode == "ngram" else frozenset()
        return _Prepared(reading, frozenset(subject), frozenset(inds), frozenset(text_inds), gloss.categories, tokens,
                         vector, grams)  # fmt: skip

    def _known_indications(self) -> frozenset[str]:
        """Indications of the products and of the entries (kept until the index changes)."""
        if self._known is None or self._known[0] != self.index.generation:
            known = {i for v in self.product_indications.values() for i in v} | self.index.linked_indications()
            self._known = (self.index.generation, frozenset(known))
        return self._known[1]

    # ------------------------------------------------------------------ answering

    def answer(
        self,
        text: str,
        *,
        skus: Sequence[str] = (),
        customer_type: str | None = None,
        category: str | None = None,
        k: int = 3,
    ) -> ObjectionResult:
        """The ``k`` best scripts, or 无匹配话术 with the nearest general scripts when none is good enough.

        ``skus``: the products selected in the UI. ``customer_type``: the customer's type (boosts scripts written for
        it). ``category``: only scripts of this objection category.
        """
        q = self.read(text, skus)
        scored = self.score(q, customer_type=customer_type, category=category)
        if scored and scored[0].confidence >= self.thresholds.of(scored[0].level):
            return ObjectionResult("answered", tuple(self._out(s, q) for s in scored[:k]), q.reading)
        general = [s for s in scored if s.level == "general"][: min(k, 2)]
        return ObjectionResult(
            "no_match", (), q.reading, tuple(self._out(s, q, nearest=True) for s in general), NO_MATCH_MESSAGE
        )

    def score(self, q: _Prepared, *, customer_type: str | None = None, category: str | None = None) -> list[_Scored]:
        """The candidate scripts of the three levels, best first (score, then entry id).

        Each level's cosines come from one matrix product; the best ``SHORTLIST`` of a level by cosine plus the bonuses
        known without the title (ties at the cut included) are scored in full, so a level of thousands of general
        scripts costs one product, not thousands of Python steps.
        """
        self._sync()
        idf = self.index.idf(KIND, q.tokens)
        total = sum(idf.values()) or 1.0
        w = self.weights
        vector = np.asarray(q.vector, dtype=np.float32)
        wanted = np.zeros(len(CATEGORY_CODES) + 1, dtype=bool)  # the last slot: no category (code -1)
        wanted[[CATEGORY_CODES[c] for c in q.categories if c in CATEGORY_CODES]] = True
        out = []
        plan: tuple[tuple[Level, frozenset[str]], ...] = (
            ("product", q.subject), ("indication", q.indications), ("general", frozenset())
        )  # fmt: skip
        for level, key in plan:
            found = self._level_set(level, key, category)
            if not found.ids:
                continue
            cos = found.matrix @ vector
            on = wanted[found.categories]
            pre = w.dense * cos + (w.category_confidence + w.category + w.product_category * (level == "product")) * on
            keep = np.arange(len(found.ids))
            if len(keep) > SHORTLIST:
                cut = np.partition(pre, -SHORTLIST)[-SHORTLIST]
                keep = np.flatnonzero(pre >= cut)
            for i in keep.tolist():
                out.append(self._full(found.ids[i], level, float(cos[i]), bool(on[i]), q, idf, total, customer_type))
        out.sort(key=lambda s: (-s.score, s.doc.entry_id))
        return out

    def _full(
        self,
        e: str,
        level: Level,
        cos: float,
        on_topic: bool,
        q: _Prepared,
        idf: Mapping[str, float],
        total: float,
        customer_type: str | None,
    ) -> _Scored:
        """One script's score and confidence, with the reasons in words."""
        w = self.weights
        doc = self.index.docs[e]
        title = set(self.index.title_tokens.get(e, ()))
        shared = [t for t in q.tokens if t in title]
        confidence = w.dense * cos + w.title_overlap * sum(idf[t] for t in shared) / total
        if q.ngrams:
            grams = set(char_ngrams(normalize(doc.text)))
            confidence += w.ngram * len(q.ngrams & grams) / len(q.ngrams)
        confidence += w.category_confidence * on_topic
        bonus = w.category * on_topic
        if level == "product":
            limited = bool(doc.indications and q.text_indications) and not set(doc.indications) & q.text_indications
            if not limited:  # a script about the drug's other indication is not this query's product script
                bonus += w.product + w.product_category * on_topic
        elif level == "indication":
            bonus += w.indication
        if customer_type and customer_type in doc.customer_types:
            bonus += w.customer_type
        why = (level, tuple(shared), on_topic, customer_type)
        return _Scored(doc, level, confidence + bonus, confidence, why)

    def _sync(self) -> None:
        """Forget the level sets when the index changed (a publish, an edit, a retirement)."""
        if self._generation != self.index.generation:
            self._sets.clear()
            self._generation = self.index.generation

    def _level_set(self, level: Level, key: frozenset[str], category: str | None) -> _LevelSet:
        """Published objection scripts of one level for ``key`` (products or indications), with their vectors."""
        cache_key = (level, key, category)
        found = self._sets.get(cache_key)
        if found is not None:
            self._sets.move_to_end(cache_key)
            return found
        docs = self.index.docs

        def ok(e: str) -> bool:
            d = docs.get(e)
            return d is not None and d.kind == KIND and d.status == "published" and category in (None, d.category)

        if level == "product":
            ids = [e for e in self.index.about_products(key) if ok(e)]
        elif level == "indication":
            ids = [e for e in self.index.about_indications(key) if ok(e) and not docs[e].skus]
        else:
            ids = [e for e in self.index.unlinked() if ok(e)]
        ids.sort()
        categories = np.asarray([CATEGORY_CODES.get(docs[e].category or "", -1) for e in ids], dtype=np.int64)
        found = _LevelSet(tuple(ids), self.index.vectors_for(KIND, ids), categories)
        self._sets[cache_key] = found
        if len(self._sets) > LEVEL_SET_CACHE:
            self._sets.popitem(last=False)
        return found

    def _out(self, s: _Scored, q: _Prepared, *, nearest: bool = False) -> ObjectionAnswer:
        d = s.doc
        level, shared, on_topic, customer_type = s.why
        return ObjectionAnswer(d.entry_id, d.version, d.title, d.body, s.level, round(s.score, 4),
                               round(s.confidence, 4), d.category, d.customer_types,
                               _why(level, d, q, shared, on_topic, customer_type), nearest)  # fmt: skip


GENERIC_QUALIFIER = re.compile(r"(国产|仿制药?|进口|集采的?|别家的?|其他厂家的?|别的厂家的?|便宜的)$")
"""Words before a drug name that make it the generic copies (国产氯吡格雷), not the product the rep sells."""


def _names_the_generics(m: Mention, found: Sequence[Mention], text: str) -> bool:
    """Whether a product name stands for the drug's generic copies and so is part of the objection's words.

    Two real-world forms: a name qualified as a copy (医院换国产氯吡格雷了: the hospital switched to generics), and one
    product named twice in two forms (二甲双胍到处都有，为啥要格华止: the generic against the brand). Taking such a
    name out of the compared text leaves 医院换国产了 or 到处都有，为啥要, which no script title says.
    """
    if GENERIC_QUALIFIER.search(text[max(0, m.start - 5) : m.start]):
        return True
    return any(o is not m and set(o.skus) & set(m.skus) and text[o.start : o.end] != text[m.start : m.end]
               for o in found)  # fmt: skip


def _subject(found: Sequence[Mention], text: str, selected: Sequence[str]) -> tuple[set[str], set[str]]:
    """The products the objection is about, and those only named as a comparison.

    With a selection, the selection is the subject. Otherwise the first product named is, and each later one too
    unless the words since the previous name compare (比, 跟, 和 …).
    """
    named = [set(m.skus) for m in found]
    if selected:
        return set(selected), {s for n in named for s in n}
    subject: set[str] = set()
    compared: set[str] = set()
    previous_end = None
    for m in found:
        between = text[previous_end : m.start] if previous_end is not None else ""
        (compared if subject and COMPARISON.search(between) else subject).update(m.skus)
        previous_end = m.end
    return subject, compared


def _why(
    level: Level, doc: EntryDoc, q: _Prepared, shared: Iterable[str], on_topic: bool, customer_type: str | None
) -> tuple[str, ...]:
    """Reasons in words, each true of this script and this query."""
    out = []
    if level == "product":
        names = sorted(set(doc.skus) & q.subject)
        out.append(f"本品话术（{'、'.join(names)}）")
    elif level == "indication":
        out.append(f"同适应症话术（{'、'.join(sorted(set(doc.indications) & q.indications))}）")
    else:
        out.append("通用话术")
    if on_topic and doc.category:
        out.append(f"异议类别相同：{OBJECTION_CATEGORY_NAMES.get(doc.category, doc.category)}")
    words = list(shared)
    if words:
        out.append(f"标题含：{'、'.join(words[:5])}")
    if customer_type and customer_type in doc.customer_types:
        out.append(f"适用客户类型：{customer_type}")
    return tuple(out)
