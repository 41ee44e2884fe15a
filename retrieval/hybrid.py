"""Hybrid search over knowledge entries: vector + BM25, fused by reciprocal rank, with graph filters in the search.

One `KnowledgeIndex` per tenant holds, per entry kind, a FAISS index and a BM25 index. Filters (entry kind, status,
products, indications, customer types) select the allowed entries first, and both retrievers search only those, so
a filter never lets another tenant's or an unpublished entry through and never starves the top k. Every hit carries
its rank and score in each retriever, so a caller can see why it came back.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from graph.model import Customer, Entry
from graph.ports import EntryLinks, GraphStore
from retrieval.embedders import CachedEmbedder, Embedder
from retrieval.glossary import Glossary
from retrieval.keyword_index import ChineseTokenizer, KeywordIndex
from retrieval.typos import PinyinCorrector
from retrieval.vector_index import VectorIndex

Mode = Literal["hybrid", "vector", "keyword"]
RRF_K = 60
"""Reciprocal-rank fusion constant (Cormack et al.): score = Σ 1 / (RRF_K + rank)."""


@dataclass(frozen=True)
class EntryDoc:
    """What the index knows of one entry: its text and the graph facts filters use."""

    entry_id: str
    kind: str
    status: str
    title: str
    body: str
    version: int = 1
    skus: tuple[str, ...] = ()
    indications: tuple[str, ...] = ()
    customer_types: tuple[str, ...] = ()
    category: str | None = None

    @property
    def text(self) -> str:
        """Title and body, the searchable text."""
        return f"{self.title}\n{self.body}"


@dataclass(frozen=True)
class SearchFilters:
    """Graph constraints applied during the search; empty tuples mean no constraint on that attribute.

    Product, indication and customer-type constraints match an entry linked to *any* of the given values.
    """

    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("published",)
    skus: tuple[str, ...] = ()
    indications: tuple[str, ...] = ()
    customer_types: tuple[str, ...] = ()
    no_product: bool = False
    """Only entries linked to no product (general, or about an indication only): never another product's entry."""

    def admits(self, doc: EntryDoc) -> bool:
        """Whether ``doc`` passes every constraint."""
        return (
            (not self.kinds or doc.kind in self.kinds)
            and (not self.no_product or not doc.skus)
            and (not self.statuses or doc.status in self.statuses)
            and (not self.skus or bool(set(self.skus) & set(doc.skus)))
            and (not self.indications or bool(set(self.indications) & set(doc.indications)))
            and (not self.customer_types or bool(set(self.customer_types) & set(doc.customer_types)))
        )


@dataclass(frozen=True)
class SearchHit:
    """One result with the evidence of each retriever (``None``: that retriever did not return it)."""

    entry_id: str
    kind: str
    title: str
    score: float
    vector_rank: int | None = None
    vector_score: float | None = None
    keyword_rank: int | None = None
    keyword_score: float | None = None
    skus: tuple[str, ...] = ()
    indications: tuple[str, ...] = ()
    version: int = 1
    graph_rank: int | None = None
    matched_products: tuple[str, ...] = ()


ProductDetector = Callable[[str], Sequence[str]]
"""Finds the SKUs a query mentions (entity resolution, built by the caller from the catalogue)."""


@dataclass
class _KindIndex:
    vectors: VectorIndex
    keywords: KeywordIndex


@dataclass
class IndexStats:
    """Sizes and timings of the last build."""

    entries: int = 0
    build_s: float = 0.0
    embedded: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class KnowledgeIndex:
    """All knowledge entries of one tenant, searchable by hybrid retrieval with graph filters."""

    def __init__(
        self,
        tenant: str,
        embedder: Embedder,
        *,
        user_words: Iterable[str] = (),
        approx_threshold: int = 50_000,
        product_detector: ProductDetector | None = None,
        glossary: Glossary | None = None,
        product_words: Iterable[str] = (),
    ) -> None:
        self.tenant = tenant
        self.product_detector = product_detector
        self.embedder = embedder
        self.glossary = glossary or Glossary()
        words = list(user_words)
        self.tokenizer = ChineseTokenizer([*words, *self.glossary.words()])
        self.corrector = PinyinCorrector(
            [*words, *self.glossary.words()], products=product_words, common_word=self.tokenizer.frequency
        )
        """Typo correction against the domain's words; published entries' title words join as they are indexed."""
        self.approx_threshold = approx_threshold
        self.docs: dict[str, EntryDoc] = {}
        self._kinds: dict[str, _KindIndex] = {}
        self._allowed: dict[tuple[str, SearchFilters], frozenset[str]] = {}
        self._by_sku: dict[str, set[str]] = defaultdict(set)
        self._by_indication: dict[str, set[str]] = defaultdict(set)
        self._unlinked: set[str] = set()
        self.title_tokens: dict[str, tuple[str, ...]] = {}
        """Search tokens of each entry's title (the words a script is named by)."""
        self.generation = 0
        """Counts changes; a cache built from the index is stale when this moved."""
        self.stats = IndexStats()
        self.last_upsert: dict[str, float] = {}
        """Seconds the last ``upsert`` spent embedding, in the vector and keyword indexes and linking (the change
        feed's log of where an applied change went)."""

    def _kind(self, kind: str) -> _KindIndex:
        if kind not in self._kinds:
            self._kinds[kind] = _KindIndex(
                VectorIndex(self.embedder.dimension, approx_threshold=self.approx_threshold),
                KeywordIndex(self.tokenizer),
            )
        return self._kinds[kind]

    # ------------------------------------------------------------------ updates

    def upsert(self, docs: Sequence[EntryDoc]) -> None:
        """Add or replace entries; each is searchable with its new text as soon as this returns."""
        for doc in docs:
            old = self.docs.get(doc.entry_id)
            if old is not None and old.kind != doc.kind:
                self.remove([doc.entry_id])
        by_kind: dict[str, list[EntryDoc]] = {}
        for doc in docs:
            by_kind.setdefault(doc.kind, []).append(doc)
        spent = dict.fromkeys(("embed_s", "vectors_s", "keywords_s", "links_s"), 0.0)
        for kind, group in by_kind.items():
            index = self._kind(kind)
            changed = [d for d in group if d.entry_id not in self.docs or self.docs[d.entry_id].text != d.text]
            if changed:
                t0 = time.perf_counter()
                vectors = self.embedder.embed_documents([d.text for d in changed])
                t1 = time.perf_counter()
                index.vectors.upsert([d.entry_id for d in changed], vectors)
                t2 = time.perf_counter()
                index.keywords.upsert([(d.entry_id, d.text) for d in changed])
                t3 = time.perf_counter()
                spent["embed_s"] += t1 - t0
                spent["vectors_s"] += t2 - t1
                spent["keywords_s"] += t3 - t2
            t3 = time.perf_counter()
            for d in group:
                self._link(self.docs.get(d.entry_id), d)
                self.docs[d.entry_id] = d
            spent["links_s"] += time.perf_counter() - t3
        self._allowed.clear()
        self.last_upsert = spent

    def _link(self, old: EntryDoc | None, new: EntryDoc | None) -> None:
        """Keep the product and indication maps, title words and the typo vocabulary in step with an entry's change."""
        self.generation += 1
        if old is not None:
            for sku in old.skus:
                self._by_sku[sku].discard(old.entry_id)
            for ind in old.indications:
                self._by_indication[ind].discard(old.entry_id)
            self._unlinked.discard(old.entry_id)
            if old.status == "published":
                self.corrector.remove(self.title_tokens.get(old.entry_id, ()))
            self.title_tokens.pop(old.entry_id, None)
        if new is not None:
            for sku in new.skus:
                self._by_sku[sku].add(new.entry_id)
            for ind in new.indications:
                self._by_indication[ind].add(new.entry_id)
            if not new.skus and not new.indications:
                self._unlinked.add(new.entry_id)
            tokens = tuple(self.tokenizer.tokens(new.title))
            self.title_tokens[new.entry_id] = tokens
            if new.status == "published":
                self.corrector.add(tokens)

    def about_products(self, skus: Iterable[str]) -> set[str]:
        """Ids of the entries linked to any of ``skus`` (any kind and status: filter after)."""
        return {e for sku in skus for e in self._by_sku.get(sku, ())}

    def about_indications(self, indications: Iterable[str]) -> set[str]:
        """Ids of the entries linked to any of ``indications`` (any kind and status)."""
        return {e for ind in indications for e in self._by_indication.get(ind, ())}

    def linked_indications(self) -> set[str]:
        """Indications that at least one entry is linked to."""
        return {i for i, ids in self._by_indication.items() if ids}

    def unlinked(self) -> set[str]:
        """Ids of the entries linked to no product and no indication: general knowledge (a copy)."""
        return set(self._unlinked)

    def vectors_for(self, kind: str, entry_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``entry_ids`` of one kind, one row each (no embedding is computed)."""
        index = self._kinds.get(kind)
        if index is None or not entry_ids:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return index.vectors.vectors_of(entry_ids)

    def idf(self, kind: str, tokens: Iterable[str]) -> dict[str, float]:
        """BM25 idf of each token among the entries of ``kind`` (an unseen token gets the largest)."""
        index = self._kinds.get(kind)
        return index.keywords.idf(tokens) if index is not None else dict.fromkeys(tokens, 1.0)

    def _allowed_ids(self, kind: str, f: SearchFilters) -> frozenset[str]:
        """Entries of ``kind`` the filters admit, cached until the next change (queries repeat the same filters)."""
        key = (kind, f)
        found = self._allowed.get(key)
        if found is None:
            found = self._allowed[key] = frozenset(
                d.entry_id for d in self.docs.values() if d.kind == kind and f.admits(d)
            )
        return found

    def remove(self, entry_ids: Iterable[str]) -> None:
        """Remove entries (a retired entry can also stay, filtered out by status)."""
        for entry_id in list(entry_ids):
            doc = self.docs.pop(entry_id, None)
            if doc is not None:
                self._link(doc, None)
                self._allowed.clear()
                index = self._kinds[doc.kind]
                index.vectors.remove([entry_id])
                index.keywords.remove([entry_id])

    def sync(self, docs: Sequence[EntryDoc]) -> int:
        """Bring the index in line with ``docs`` (the graph's entries): upsert what changed, drop what is gone."""
        current = {d.entry_id: d for d in docs}
        changed = [d for d in docs if self.docs.get(d.entry_id) != d]
        gone = [e for e in self.docs if e not in current]
        self.remove(gone)
        self.upsert(changed)
        return len(changed) + len(gone)

    def build(self, docs: Sequence[EntryDoc]) -> IndexStats:
        """Index ``docs`` from scratch and compact the keyword segments."""
        t0 = time.perf_counter()
        for doc in list(self.docs.values()):
            self._link(doc, None)
        self.docs, self._kinds, self._by_sku = {}, {}, defaultdict(set)
        self._by_indication, self._unlinked, self.title_tokens = defaultdict(set), set(), {}
        for i in range(0, len(docs), 2048):
            self.upsert(docs[i : i + 2048])
        for index in self._kinds.values():
            index.keywords.rebuild()
        self.stats = IndexStats(
            entries=len(self.docs),
            build_s=time.perf_counter() - t0,
            embedded=len(docs),
            by_kind={k: len(v.vectors) for k, v in self._kinds.items()},
        )
        return self.stats

    def doc(self, entry_id: str) -> EntryDoc | None:
        """What the index holds of one entry (``None``: not indexed)."""
        return self.docs.get(entry_id)

    def indications_of(self, skus: Sequence[str]) -> list[str]:
        """The indications of the indexed entries about any of ``skus`` (an objection's next level), sorted."""
        wanted = set(skus)
        return sorted({i for d in self.docs.values() if wanted & set(d.skus) for i in d.indications})

    def set_catalogue(
        self, words: Iterable[str], product_detector: ProductDetector | None, product_words: Iterable[str] = ()
    ) -> None:
        """Take in new product and indication names.

        Each becomes one token (every entry's text is tokenized again, so queries and entries split the same way), and
        queries find the products they name with ``product_detector``; ``product_words`` (names, generic names,
        brands) join the typo corrector's vocabulary as products.
        """
        self.product_detector = product_detector
        words = list(words)
        self.tokenizer.add_words(words)
        self.corrector.add(words)
        self.corrector.add_products(product_words)
        for kind, index in self._kinds.items():
            index.keywords.upsert([(d.entry_id, d.text) for d in self.docs.values() if d.kind == kind])
            index.keywords.rebuild()
        self._allowed.clear()

    # ------------------------------------------------------------------ search

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
        candidates: int = 50,
    ) -> list[SearchHit]:
        """The best ``k`` entries for ``query`` among those the filters admit."""
        f = filters or SearchFilters()
        kinds = sorted(kd for kd in self._kinds if not f.kinds or kd in f.kinds)
        vector_hits: list[tuple[str, float]] = []
        keyword_hits: list[tuple[str, float]] = []
        qvec = self.embedder.embed_query(query) if mode in ("hybrid", "vector") else None
        for kind in kinds:
            index = self._kinds[kind]
            allowed = None
            if f != SearchFilters(kinds=f.kinds, statuses=()):
                allowed = self._allowed_ids(kind, f)
                if not allowed:
                    continue
            if qvec is not None:
                vector_hits += index.vectors.search(qvec, candidates, allowed=allowed)
            if mode in ("hybrid", "keyword"):
                keyword_hits += index.keywords.search(query, candidates, allowed=allowed)
        vector_hits.sort(key=lambda h: (-h[1], h[0]))
        keyword_hits.sort(key=lambda h: (-h[1], h[0]))
        vrank = {e: (i + 1, s) for i, (e, s) in enumerate(vector_hits[:candidates])}
        krank = {e: (i + 1, s) for i, (e, s) in enumerate(keyword_hits[:candidates])}
        fused: dict[str, float] = {}
        if mode in ("hybrid", "vector"):
            for e, (r, _) in vrank.items():
                fused[e] = fused.get(e, 0.0) + 1.0 / (RRF_K + r)
        if mode in ("hybrid", "keyword"):
            for e, (r, _) in krank.items():
                fused[e] = fused.get(e, 0.0) + 1.0 / (RRF_K + r)
        # Graph retriever: entries about the products the query names (立普妥 → its SKU), in text-relevance order.
        mentioned = tuple(self.product_detector(query)) if mode == "hybrid" and self.product_detector else ()
        grank: dict[str, int] = {}
        if mentioned:
            mentioning = {e for sku in mentioned for e in self._by_sku.get(sku, ())}
            linked = [e for e in mentioning if self.docs[e].kind in kinds and f.admits(self.docs[e])]
            linked.sort(key=lambda e: (-fused.get(e, 0.0), e))
            for i, e in enumerate(linked[:candidates]):
                grank[e] = i + 1
                fused[e] = fused.get(e, 0.0) + 1.0 / (RRF_K + i + 1)
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        hits = []
        for entry_id, score in best:
            doc = self.docs[entry_id]
            v, kw = vrank.get(entry_id), krank.get(entry_id)
            hits.append(
                SearchHit(
                    entry_id,
                    doc.kind,
                    doc.title,
                    score,
                    v[0] if v else None,
                    v[1] if v else None,
                    kw[0] if kw else None,
                    kw[1] if kw else None,
                    doc.skus,
                    doc.indications,
                    doc.version,
                    grank.get(entry_id),
                    tuple(sorted(set(doc.skus) & set(mentioned))),
                )  # fmt: skip
            )
        return hits

    # ------------------------------------------------------------------ persistence

    def save(self, directory: Path) -> None:
        """Persist vectors, tokens and entry facts under ``directory`` (next to the graph)."""
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"tenant": self.tenant, "embedder": self.embedder.name, "docs": [asdict(d) for d in self.docs.values()]}
        (directory / "entries.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        for kind, index in self._kinds.items():
            index.vectors.save(directory / kind)
            index.keywords.save(directory / kind)

    def load(self, directory: Path) -> bool:
        """Read a saved index; ``False`` (nothing loaded) when missing or built by another embedder."""
        path = directory / "entries.json"
        if not path.exists():
            return False
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("embedder") != self.embedder.name or meta.get("tenant") != self.tenant:
            return False
        docs = [
            EntryDoc(**{**d, **{k: tuple(d[k]) for k in ("skus", "indications", "customer_types")}})
            for d in meta["docs"]
        ]
        for doc in list(self.docs.values()):
            self._link(doc, None)
        self.docs = {d.entry_id: d for d in docs}
        self._kinds, self._allowed, self._by_sku = {}, {}, defaultdict(set)
        self._by_indication, self._unlinked, self.title_tokens = defaultdict(set), set(), {}
        for d in docs:
            self._link(None, d)
        for kind in sorted({d.kind for d in docs}):
            index = self._kind(kind)
            index.vectors = VectorIndex.load(directory / kind)
            index.keywords.load_tokens(directory / kind)
        return True


def catalogue_words(store: GraphStore, tenant: str) -> list[str]:
    """Product names, generic names, brands and indications of the tenant: jieba keeps each one token."""
    catalogue = store.catalogue(tenant)
    words = [w for p in catalogue.products for w in (p.name, p.generic_name, p.brand) if w]
    return words + [i.name for i in catalogue.indications]


def entry_docs(store: GraphStore, tenant: str, entries: Sequence[Entry] | None = None) -> list[EntryDoc]:
    """Entries (default: all of the tenant's) with the products, indications and customer types they are linked to."""
    if entries is None:
        entries = store.entries(tenant)
    found = store.entry_links(tenant, [e.id for e in entries])
    customer_type = {
        c.id: c.type
        for c in store.nodes_by_keys(tenant, Customer, sorted({c for ln in found.values() for c in ln.customers}))
    }
    docs = []
    for entry in entries:
        links = found.get(entry.id, EntryLinks())
        types = set(entry.customer_types) or {customer_type[c] for c in links.customers if c in customer_type}
        docs.append(
            EntryDoc(
                entry.id,
                entry.kind,
                entry.status,
                entry.title,
                entry.body,
                entry.version,
                links.skus,
                links.indications,
                tuple(sorted(types)),
                entry.category,
            )  # fmt: skip
        )
    return docs


def product_names(store: GraphStore, tenant: str) -> list[str]:
    """The tenant's product names, generic names and brands (the typo corrector reads typos of them as products)."""
    return [w for p in store.catalogue(tenant).products for w in (p.name, p.generic_name, p.brand) if w]


def open_index(
    store: GraphStore,
    tenant: str,
    embedder: Embedder,
    directory: Path | None = None,
    *,
    product_detector: ProductDetector | None = None,
    approx_threshold: int = 50_000,
    sync: bool = True,
) -> KnowledgeIndex:
    """The tenant's index, loaded from ``directory`` or rebuilt from the graph.

    A saved index built by another embedder (or missing) is rebuilt from the graph and saved again; with a
    ``directory``, embeddings go through a content-hash cache there, so a rebuild never re-embeds unchanged text.
    A loaded index is synced with the graph's entries unless ``sync`` is false (the caller then brings it up to
    date itself, e.g. from a change log since the saved copy).
    """
    if directory is not None and not isinstance(embedder, CachedEmbedder):
        embedder = CachedEmbedder(embedder, directory / "embeddings.sqlite")
    index = KnowledgeIndex(
        tenant,
        embedder,
        user_words=catalogue_words(store, tenant),
        approx_threshold=approx_threshold,
        product_detector=product_detector,
        product_words=product_names(store, tenant),
    )
    if directory is not None and index.load(directory):
        if sync and index.sync(entry_docs(store, tenant)):
            index.save(directory)
        return index
    index.build(entry_docs(store, tenant))
    if directory is not None:
        index.save(directory)
    return index
