"""The retrieval evaluation: metrics are right, and hybrid beats each single retriever on the query set."""

from __future__ import annotations

import pytest

from eval.eval_retrieval import load_queries, metrics, run
from retrieval.embedders import HashingEmbedder


def test_metrics() -> None:
    m = metrics(["a", "x", "b", "y", "z"], {"a", "b"})
    assert m["recall@1"] == 0.5 and m["recall@3"] == 1.0 and m["mrr"] == 1.0
    assert metrics(["x", "a"], {"a"})["mrr"] == 0.5
    assert metrics(["x"], {"a"})["ndcg@5"] == 0.0


def test_query_set_is_large_and_labelled() -> None:
    queries = load_queries()
    assert len(queries) >= 300
    assert all(q["relevant"] for q in queries)
    assert len({q["style"] for q in queries}) == 7


@pytest.mark.slow
def test_hybrid_beats_each_single_retriever_with_a_model_free_embedder() -> None:
    report = run({"hashing": HashingEmbedder()}, load_queries())
    c = report["configs"]
    assert c["hybrid-hashing"]["recall@3"] > max(c["bm25"]["recall@3"], c["hashing"]["recall@3"])
    assert c["hybrid-hashing+products"]["recall@3"] >= c["hybrid-hashing"]["recall@3"]
