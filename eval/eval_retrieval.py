"""Retrieval quality and latency on the rep-style Chinese query set, for every configuration.

Configurations: BM25 only, each embedder only, hybrid with each embedder; each with the default filters (published
objection scripts) and with the query's products as an extra filter (``+products``). The configuration named
``hybrid`` is hybrid retrieval with the default embedder. Usage::

    python -m eval.eval_retrieval [--json]      (also: python -m eval retrieval)

Writes ``eval/reports/retrieval/retrieval_eval.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from demo.load import load_demo
from eval.stats import percentiles
from graph.embedded import EmbeddedGraphStore
from graph.model import Product
from resolution.mentions import QueryProductMatcher
from retrieval.embedders import Embedder, HashingEmbedder, UniversalSentenceEncoder, minilm_embedder
from retrieval.hybrid import KnowledgeIndex, Mode, ProductDetector, SearchFilters, catalogue_words, entry_docs

DATASET = Path(__file__).parent / "datasets" / "objections_zh.jsonl"
TENANT = "hz-pharma"
DEFAULT_EMBEDDER = "use"
"""Chosen by this evaluation (docs/decisions/2026-11-25-default-embedder.md)."""


def load_queries(path: Path = DATASET) -> list[dict[str, Any]]:
    """The labelled queries."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def metrics(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    """recall@1/3/5 (share of the relevant entries in the top k), reciprocal rank and binary nDCG@5."""
    out = {f"recall@{k}": len(set(ranked[:k]) & relevant) / len(relevant) for k in (1, 3, 5)}
    first = next((i for i, e in enumerate(ranked) if e in relevant), None)
    out["mrr"] = 0.0 if first is None else 1.0 / (first + 1)
    dcg = sum(1.0 / math.log2(i + 2) for i, e in enumerate(ranked[:5]) if e in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), 5)))
    out["ndcg@5"] = dcg / ideal
    return out


def evaluate(
    index: KnowledgeIndex, queries: list[dict[str, Any]], mode: Mode, *, with_products: bool
) -> dict[str, float]:
    """Average metrics and latency percentiles of one configuration."""
    totals: dict[str, float] = {}
    times: list[float] = []
    for q in queries:
        f = SearchFilters(kinds=("objection_script",), skus=tuple(q["skus"]) if with_products else ())
        t0 = time.perf_counter()
        hits = index.search(q["query"], k=5, filters=f, mode=mode)
        times.append((time.perf_counter() - t0) * 1000)
        for name, value in metrics([h.entry_id for h in hits], set(q["relevant"])).items():
            totals[name] = totals.get(name, 0.0) + value
    result = {name: round(v / len(queries), 4) for name, v in totals.items()}
    latency = percentiles(times, (50, 95), 2)
    result["p50_ms"], result["p95_ms"] = latency["p50"], latency["p95"]
    return result


def product_detector(products: list[Product]) -> ProductDetector:
    """SKUs named in a query (names, brands, abbreviations, one-character typos), from the ingest resolver."""
    return QueryProductMatcher(products)


def run(embedders: dict[str, Embedder], queries: list[dict[str, Any]]) -> dict[str, Any]:
    """Every configuration over the demo data of one tenant."""
    configs: dict[str, dict[str, float]] = {}
    builds: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedGraphStore(Path(tmp) / "graph", buffer_pool_mb=256)
        load_demo(store, as_of=dt.date(2026, 11, 25))
        docs = entry_docs(store, TENANT)
        words = catalogue_words(store, TENANT)
        detector = product_detector(list(store.catalogue(TENANT).products))
        store.close()
    for short, embedder in embedders.items():
        index = KnowledgeIndex(TENANT, embedder, user_words=words, product_detector=detector)
        stats = index.build(docs)
        builds[short] = {"entries": stats.entries, "seconds": round(stats.build_s, 2),
                         "entries_per_s": round(stats.entries / stats.build_s, 1)}  # fmt: skip
        for with_products in (False, True):
            suffix = "+products" if with_products else ""
            if "bm25" + suffix not in configs:
                configs["bm25" + suffix] = evaluate(index, queries, "keyword", with_products=with_products)
            configs[f"{short}{suffix}"] = evaluate(index, queries, "vector", with_products=with_products)
            configs[f"hybrid-{short}{suffix}"] = evaluate(index, queries, "hybrid", with_products=with_products)
    if f"hybrid-{DEFAULT_EMBEDDER}" in configs:
        configs["hybrid"] = configs[f"hybrid-{DEFAULT_EMBEDDER}"]
        configs["hybrid+products"] = configs[f"hybrid-{DEFAULT_EMBEDDER}+products"]
    return {"queries": len(queries), "default": "hybrid", "default_embedder": DEFAULT_EMBEDDER, "configs": configs,
            "index_build": builds}  # fmt: skip


def markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown table."""
    lines = [
        "# Retrieval evaluation",
        "",
        f"{report['queries']} rep-style Chinese queries (`eval/datasets/objections_zh.jsonl`) over the published "
        f"objection scripts of the demo tenant `{TENANT}`; `hybrid` = vector + BM25 + products named in the query "
        f"(entity resolution), fused by reciprocal rank, with `{report['default_embedder']}` as embedder.",
        "",
        "| configuration | recall@1 | recall@3 | recall@5 | MRR | nDCG@5 | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in report["configs"].items():
        lines.append(
            f"| {name} | {m['recall@1']:.3f} | {m['recall@3']:.3f} | {m['recall@5']:.3f} | {m['mrr']:.3f} "
            f"| {m['ndcg@5']:.3f} | {m['p50_ms']} | {m['p95_ms']} |"
        )
    lines += ["", "Index build over the demo entries (embedding included):", ""]
    for name, b in report["index_build"].items():
        lines.append(f"- {name}: {b['entries']} entries in {b['seconds']} s ({b['entries_per_s']} entries/s)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the evaluation, write the reports, print a table (or JSON)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", type=Path, default=Path("eval/reports/retrieval"))
    p.add_argument("--embedders", nargs="+", default=["use", "minilm", "hashing"])
    args = p.parse_args(argv)
    makers: dict[str, Callable[[], Embedder]] = {
        "use": UniversalSentenceEncoder,
        "minilm": minilm_embedder,
        "hashing": HashingEmbedder,
    }
    report = run({name: makers[name]() for name in args.embedders}, load_queries())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "retrieval_eval.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "retrieval_eval.md").write_text(markdown(report), encoding="utf-8")
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.json else markdown(report))
    return report


if __name__ == "__main__":
    main()
