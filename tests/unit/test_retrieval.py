"""Retrieval: embedders, FAISS and BM25 indexes, hybrid search with filters that never leak, LangChain adapter."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from retrieval.embedders import CachedEmbedder, HashingEmbedder, UniversalSentenceEncoder, minilm_embedder, warm_up
from retrieval.hybrid import EntryDoc, KnowledgeIndex, SearchFilters
from retrieval.keyword_index import ChineseTokenizer, KeywordIndex
from retrieval.langchain_adapter import KnowledgeRetriever
from retrieval.vector_index import VectorIndex

DOCS = [
    EntryDoc("OS-1", "objection_script", "published", "立普妥比仿制药贵怎么应对", "强调原研品质，算清日治疗费用。",
             skus=("SKU-ATV",), indications=("高胆固醇血症",)),
    EntryDoc("OS-2", "objection_script", "published", "医保卡刷不了怎么办", "先确认定点资质，再查目录限定支付范围。",
             skus=("SKU-MET",)),
    EntryDoc("OS-3", "objection_script", "draft", "立普妥降价草稿", "草稿：立普妥价格应对，未审核。",
             skus=("SKU-ATV",)),
    EntryDoc("OS-4", "objection_script", "published", "二甲双胍胃肠道反应", "建议随餐服用，缓释片可减轻腹泻。",
             skus=("SKU-MET",), indications=("2型糖尿病",)),
    EntryDoc("CS-1", "case_study", "published", "连锁药房他汀复购提升", "慢病会员日提升阿托伐他汀复购。",
             skus=("SKU-ATV",), customer_types=("chain",)),
    EntryDoc("OS-5", "objection_script", "published", "断货时如何安抚门店", "告知到货时间，推荐同类替代。"),
]  # fmt: skip
WORDS = ["立普妥", "阿托伐他汀", "二甲双胍", "医保卡"]


def make_index(embedder: object | None = None) -> KnowledgeIndex:
    index = KnowledgeIndex("t1", embedder or HashingEmbedder(), user_words=WORDS)  # type: ignore[arg-type]
    index.build(DOCS)
    return index


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    e = HashingEmbedder(64)
    a, b = e.embed_documents(["立普妥太贵", "立普妥太贵"])
    assert np.allclose(a, b) and abs(float(np.linalg.norm(a)) - 1) < 1e-5


def test_cache_never_reembeds_unchanged_text(tmp_path: Path) -> None:
    cached = CachedEmbedder(HashingEmbedder(32), tmp_path / "cache.sqlite")
    first = cached.embed_documents(["一", "二"])
    again = CachedEmbedder(HashingEmbedder(32), tmp_path / "cache.sqlite").embed_documents(["二", "一", "三"])
    assert cached.misses == 2 and np.allclose(again[0], first[1])


def test_warm_up_loads_the_model_behind_a_warm_cache(tmp_path: Path) -> None:
    """Start-up warms the model itself: a cache that already holds the warm-up text must not hide the lazy load."""
    use = UniversalSentenceEncoder(threads=1)
    cached = CachedEmbedder(use, tmp_path / "cache.sqlite")
    cached.embed_query("预热")  # the text is cached now (and the model loaded by it) ...
    fresh = UniversalSentenceEncoder(threads=1)
    assert fresh._model._backend is None  # ... a new process starts with nothing loaded
    warm_up(CachedEmbedder(fresh, tmp_path / "cache.sqlite"))
    assert fresh._model._backend is not None


def test_vector_index_update_remove_and_filter() -> None:
    idx = VectorIndex(4, approx_threshold=1000)
    idx.upsert(["a", "b"], np.eye(4, dtype=np.float32)[:2])
    assert idx.search(np.array([1, 0, 0, 0], np.float32), 1)[0][0] == "a"
    idx.upsert(["a"], np.array([[0, 0, 1, 0]], np.float32))  # edited: new vector at once
    assert idx.search(np.array([0, 0, 1, 0], np.float32), 1)[0][0] == "a"
    assert [h[0] for h in idx.search(np.array([0, 0, 1, 0], np.float32), 2, allowed={"b"})] == ["b"]
    idx.remove(["a"])
    assert [h[0] for h in idx.search(np.array([0, 0, 1, 0], np.float32), 5)] == ["b"]


def test_vector_index_switches_to_hnsw_and_tombstones(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(300, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    idx = VectorIndex(16, approx_threshold=200)
    idx.upsert([f"e{i}" for i in range(300)], vecs)
    assert idx.approximate
    assert idx.search(vecs[7], 1)[0][0] == "e7"
    idx.remove(["e7"])
    assert "e7" not in [h[0] for h in idx.search(vecs[7], 10)]
    idx.save(tmp_path / "v")
    again = VectorIndex.load(tmp_path / "v")
    assert again.search(vecs[8], 1)[0][0] == "e8" and "e7" not in again


def test_catalogue_words_stay_one_token() -> None:
    tok = ChineseTokenizer(["阿托伐他汀钙片"])
    assert "阿托伐他汀钙片" in tok.tokens("客户问阿托伐他汀钙片的价格")
    assert "的" not in tok.tokens("客户问阿托伐他汀钙片的价格")


def test_keyword_index_incremental_matches_rebuilt() -> None:
    tok = ChineseTokenizer(WORDS)
    inc = KeywordIndex(tok, merge_at=1000)
    inc.upsert([(d.entry_id, d.text) for d in DOCS[:3]])
    inc.rebuild()
    inc.upsert([(d.entry_id, d.text) for d in DOCS[3:]])  # delta segment
    full = KeywordIndex(tok)
    full.upsert([(d.entry_id, d.text) for d in DOCS])
    full.rebuild()
    for q in ("医保卡", "立普妥价格", "断货"):
        assert [h[0] for h in inc.search(q, 3)] == [h[0] for h in full.search(q, 3)], q


def test_hybrid_returns_evidence_of_each_retriever() -> None:
    hits = make_index().search("医保卡刷不了", k=2)
    assert hits[0].entry_id == "OS-2"
    assert hits[0].keyword_rank == 1 and hits[0].vector_rank is not None and hits[0].vector_score is not None


def test_filters_never_leak_unpublished_or_other_products() -> None:
    index = make_index()
    for mode in ("hybrid", "vector", "keyword"):
        for q in ("立普妥价格草稿", "草稿", "立普妥", "价格"):
            hits = index.search(q, k=10, mode=mode)  # type: ignore[arg-type]
            assert "OS-3" not in {h.entry_id for h in hits}, (mode, q)
            only = index.search(q, k=10, mode=mode, filters=SearchFilters(skus=("SKU-MET",)))  # type: ignore[arg-type]
            assert {h.entry_id for h in only} <= {"OS-2", "OS-4"}, (mode, q)
    cases = index.search("复购", k=5, filters=SearchFilters(kinds=("case_study",), customer_types=("chain",)))
    assert [h.entry_id for h in cases] == ["CS-1"]
    assert index.search("复购", k=5, filters=SearchFilters(kinds=("case_study",), customer_types=("clinic",))) == []


def test_other_tenant_index_sees_nothing() -> None:
    other = KnowledgeIndex("t2", HashingEmbedder(), user_words=WORDS)
    other.build([EntryDoc("X-1", "objection_script", "published", "别的公司话术", "完全无关。")])
    assert {h.entry_id for h in other.search("立普妥 医保卡 断货", k=10)} <= {"X-1"}


def test_edit_and_retire_take_effect_at_once() -> None:
    index = make_index()
    index.upsert([EntryDoc("OS-5", "objection_script", "published", "冷链配送延误", "胰岛素冷链延误如何处理。")])
    assert index.search("冷链", k=1)[0].entry_id == "OS-5"
    index.upsert([EntryDoc("OS-5", "objection_script", "retired", "冷链配送延误", "胰岛素冷链延误如何处理。")])
    assert "OS-5" not in {h.entry_id for h in index.search("冷链", k=5)}


def test_saved_index_reloads_and_other_embedder_forces_rebuild(tmp_path: Path) -> None:
    index = make_index()
    index.save(tmp_path / "idx")
    again = KnowledgeIndex("t1", HashingEmbedder(), user_words=WORDS)
    assert again.load(tmp_path / "idx")
    assert [h.entry_id for h in again.search("医保卡", k=2)] == [h.entry_id for h in index.search("医保卡", k=2)]
    assert not KnowledgeIndex("t1", HashingEmbedder(128)).load(tmp_path / "idx")


@pytest.mark.slow
def test_real_embedders_load_offline_and_rank_chinese() -> None:
    use = UniversalSentenceEncoder()
    index = make_index(use)
    assert index.search("刷医保卡失败", k=1, mode="vector")[0].entry_id == "OS-2"
    mini = minilm_embedder()
    assert mini.dimension == 384 and mini.embed_query("price objection").shape == (384,)


class TestKnowledgeRetrieverStandard(RetrieversIntegrationTests):
    """langchain-tests' standard retriever suite."""

    @property
    def retriever_constructor(self) -> type[KnowledgeRetriever]:
        return KnowledgeRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, object]:
        return {"index": make_index(), "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return "立普妥 医保卡 二甲双胍 断货 价格"


def test_open_index_persists_next_to_the_graph_and_follows_graph_edits(tmp_path: Path) -> None:
    import datetime as dt

    from graph.embedded import EmbeddedGraphStore
    from graph.model import Entry
    from retrieval.hybrid import open_index

    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=128) as store:
        store.upsert_nodes(
            "t1",
            [
                Entry(
                    tenant="t1",
                    id="E1",
                    kind="faq",
                    title="冷链药品如何签收",
                    body="核对温度记录。",
                    status="published",
                    updated_at=dt.datetime(2025, 1, 1),
                )
            ],
        )
        first = open_index(store, "t1", HashingEmbedder(), tmp_path / "index")
        assert [h.entry_id for h in first.search("冷链签收", k=1)] == ["E1"]
        store.upsert_nodes(
            "t1",
            [
                Entry(
                    tenant="t1",
                    id="E1",
                    kind="faq",
                    title="医保刷卡失败怎么办",
                    body="先查定点。",
                    status="published",
                    version=2,
                )
            ],
        )
        again = open_index(store, "t1", HashingEmbedder(), tmp_path / "index")
        assert again.docs["E1"].version == 2
        assert [h.entry_id for h in again.search("医保刷卡", k=1)] == ["E1"]
        assert (tmp_path / "index" / "embeddings.sqlite").exists()


class _Records(logging.Handler):
    """Every record that reaches the root logger's handlers, whatever its level."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_building_a_keyword_index_logs_nothing_below_the_service_level() -> None:
    """bm25s sets its logger to DEBUG on import; at the service's INFO level an index build must stay quiet."""
    root, seen = logging.getLogger(), _Records()
    level = root.level
    root.addHandler(seen)
    root.setLevel(logging.INFO)
    try:
        index = KeywordIndex(ChineseTokenizer())
        index.upsert([(d.entry_id, f"{d.title} {d.body}") for d in DOCS])
        index.rebuild()
    finally:
        root.removeHandler(seen)
        root.setLevel(level)
    assert not [r for r in seen.records if r.levelno < logging.INFO]
