"""Objection answers on the independent set: recall, abstention (无匹配话术), typo modes and the LangChain baseline.

The set (``eval/datasets/answers``, written by a helper session that never read ``retrieval/`` or ``copilot/``; see its
README) holds 26 products, 60 customers and 196 published objection scripts at three levels, and 546 rep queries with
graded labels, half ``dev`` and half ``heldout``. It is loaded as a company would load it: the product's ingest of
``products.csv``, ``customers.csv``, ``indications.csv`` and ``entries.json`` into a fresh embedded store. Each query
sends only ``text`` and ``skus`` (the product selected in the UI); labels (``relevant``, ``no_match``, ``_label``) are
used for scoring only.

Metrics per split (``heldout`` is the figure; ``dev`` is what rules and thresholds were chosen on):

- recall@k: the share of a query's grade-2 scripts among the first k answers, out of min(k, their number) (a query
  raising two objections has two grade-2 scripts; recall@1 is then 1 when either comes first); a query answered
  with 无匹配话术 has no answers. Over the queries that have an answer (not ``no_match``).
- nDCG@3 with the grades, MRR of the first grade-2 script.
- no-match right: the share of ``no_match`` queries answered 无匹配话术; false no-match: the share of the others.
- the same by tag (short, productless, typo, english_jargon, …), latency p50/p95 of one answer in process.

Rows: ``answers`` (the shipped answerer), ``answers-ngram`` and ``answers-no-typo`` (typo tolerance by character
bigrams instead of pinyin, and none: the measurement behind the choice), and ``langchain-ensemble``: LangChain's
``EnsembleRetriever`` of the same BM25 and the same vectors (``retrieval.langchain_adapter``), equal weights, over the
published scripts, given the same text; it has no abstention. Usage::

    python -m eval.eval_answers [--json] [--calibrate] [--misses dev]

``--calibrate`` prints the per-level thresholds the rule picks on ``dev`` (the most no-match queries caught with at
most 3 % false no-match); the shipped ones are ``copilot.objections.Thresholds``. Writes
``eval/reports/answers/answers_eval.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from copilot.objections import LEVELS, ObjectionAnswerer, Thresholds, TypoMode
from eval.stats import percentiles
from graph.embedded import EmbeddedGraphStore
from graph.model import Treats
from ingest.pipeline import ingest_paths
from resolution.mentions import QueryProductMatcher
from retrieval.embedders import CachedEmbedder, Embedder, HashingEmbedder, UniversalSentenceEncoder
from retrieval.hybrid import KnowledgeIndex, SearchFilters, open_index

DATASET = Path(__file__).parent / "datasets" / "answers"
TENANT = "answers-eval"
TAGS = ("short", "productless", "typo", "product_typo", "brand_generic", "english_jargon", "idiom", "long")
TARGETS = {"recall@3": 0.95, "recall@1": 0.85, "short_recall@3": 0.85, "no_match_right": 0.95, "false_no_match": 0.03}
"""Issue 20's targets on the held-out split (false no-match: at most)."""
MINIMUM_COUNTS = {"queries": 400, "short": 80, "productless": 60, "typo": 60, "english_jargon": 40, "no_match": 40}
"""What issue 20 asks the set to hold (both splits together)."""
MAX_FALSE_NO_MATCH = 0.03


def load_queries(folder: Path = DATASET) -> list[dict[str, Any]]:
    """The labelled queries of the set."""
    path = folder / "queries.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class _QueryCache:
    """Eval-only: query vectors through the same content-hash cache as documents (re-runs embed nothing twice)."""

    def __init__(self, inner: CachedEmbedder) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.inner.embed_documents([text])[0], dtype=np.float32)


def load_set(
    folder: Path, embedder: Embedder, work: Path
) -> tuple[KnowledgeIndex, QueryProductMatcher, dict[str, list[str]]]:
    """Ingest the set into a fresh store under ``work`` and build the tenant's index, product finder and indications."""
    store = EmbeddedGraphStore(work / "graph", buffer_pool_mb=512)
    try:
        files = [folder / n for n in ("indications.csv", "products.csv", "customers.csv", "entries.json")]
        ingest_paths(store, TENANT, files, actor="eval")
        products = list(store.catalogue(TENANT).products)
        matcher = QueryProductMatcher(products)
        treats: dict[str, list[str]] = {}
        for t in store.edges_of(TENANT, Treats, sources=[p.sku for p in products]):
            treats.setdefault(t.sku, []).append(t.indication)
        index = open_index(store, TENANT, embedder, product_detector=matcher)
    finally:
        store.close()
    return index, matcher, treats


def _recall(ranked: Sequence[str], grade2: set[str], k: int) -> float:
    return len(set(ranked[:k]) & grade2) / min(k, len(grade2))


def _ndcg(ranked: Sequence[str], grades: dict[str, int], k: int = 3) -> float:
    dcg = sum((2 ** grades.get(e, 0) - 1) / math.log2(i + 2) for i, e in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def score_run(
    queries: list[dict[str, Any]], ranked: dict[str, list[str]], abstained: dict[str, bool]
) -> dict[str, Any]:
    """Metrics of one configuration over ``queries`` (overall and per tag)."""

    def block(qs: list[dict[str, Any]]) -> dict[str, float | int]:
        answerable = [q for q in qs if not q["no_match"]]
        none = [q for q in qs if q["no_match"]]
        out: dict[str, float | int] = {"n": len(answerable), "n_no_match": len(none)}
        if answerable:
            sums = dict.fromkeys(("recall@1", "recall@3", "ndcg@3", "mrr"), 0.0)
            for q in answerable:
                r = [] if abstained[q["id"]] else ranked[q["id"]]
                g2 = {e for e, g in q["relevant"].items() if g == 2}
                sums["recall@1"] += _recall(r, g2, 1)
                sums["recall@3"] += _recall(r, g2, 3)
                sums["ndcg@3"] += _ndcg(r, q["relevant"])
                first = next((i for i, e in enumerate(r) if e in g2), None)
                sums["mrr"] += 0.0 if first is None else 1 / (first + 1)
            out.update({k: round(v / len(answerable), 4) for k, v in sums.items()})
            out["false_no_match"] = round(sum(abstained[q["id"]] for q in answerable) / len(answerable), 4)
        if none:
            out["no_match_right"] = round(sum(abstained[q["id"]] for q in none) / len(none), 4)
        return out

    result: dict[str, Any] = {"all": block(queries)}
    for tag in (*TAGS, "no_match"):
        tagged = [q for q in queries if tag in q["tags"]]
        if tagged:
            result[tag] = block(tagged)
    return result


def run_answerer(
    answerer: ObjectionAnswerer, queries: list[dict[str, Any]]
) -> tuple[dict[str, list[str]], dict[str, bool], list[float], dict[str, Any]]:
    """Rankings, abstentions, latencies (ms) and the raw results of the answerer (labels never passed)."""
    ranked: dict[str, list[str]] = {}
    abstained: dict[str, bool] = {}
    times: list[float] = []
    raw: dict[str, Any] = {}
    for q in queries:
        t0 = time.perf_counter()
        res = answerer.answer(q["text"], skus=q["skus"], k=3)
        times.append((time.perf_counter() - t0) * 1000)
        q_scored = answerer.score(answerer.read(q["text"], q["skus"]))
        ranked[q["id"]] = [s.doc.entry_id for s in q_scored[:10]]
        abstained[q["id"]] = res.status == "no_match"
        top = q_scored[0] if q_scored else None
        raw[q["id"]] = {
            "level": top.level if top else None,
            "confidence": top.confidence if top else None,
            "reading": asdict(res.reading),
            "top": [(s.doc.entry_id, s.level, round(s.score, 3), round(s.confidence, 3)) for s in q_scored[:3]],
        }
    return ranked, abstained, times, raw


def run_ensemble(index: KnowledgeIndex, queries: list[dict[str, Any]]) -> tuple[dict[str, list[str]], list[float]]:
    """LangChain's EnsembleRetriever of BM25 and the vectors (equal weights) over the published scripts."""
    try:
        from langchain_classic.retrievers import EnsembleRetriever
    except ImportError as e:  # pragma: no cover - an install hint
        raise SystemExit('the baseline needs langchain-classic: pip install -e ".[dev]"') from e
    from retrieval.langchain_adapter import KnowledgeRetriever

    f = SearchFilters(kinds=("objection_script",))
    ensemble = EnsembleRetriever(
        retrievers=[KnowledgeRetriever(index=index, k=10, filters=f, mode="keyword"),
                    KnowledgeRetriever(index=index, k=10, filters=f, mode="vector")],
        weights=[0.5, 0.5],
    )  # fmt: skip
    ranked: dict[str, list[str]] = {}
    times: list[float] = []
    for q in queries:
        t0 = time.perf_counter()
        docs = ensemble.invoke(q["text"])
        times.append((time.perf_counter() - t0) * 1000)
        ranked[q["id"]] = [str(d.metadata["entry_id"]) for d in docs]
    return ranked, times


def calibrate(queries: list[dict[str, Any]], raw: dict[str, Any]) -> tuple[Thresholds, dict[str, float]]:
    """Per-level thresholds on the top script's confidence: most no-match queries caught, ≤ 3 % false no-match.

    Each level's candidates are 0 and the midpoints between its consecutive observed confidences: the line is drawn
    halfway between the strongest query withheld and the weakest one answered (the widest margin the dev half
    allows), not just above a dev query, so a held-out query a little weaker than dev's weakest answer is still
    answered. Every combination is tried (a query's outcome depends only on its top level's threshold, so each
    level's counts are computed once). Among the best, the lowest thresholds (the fewest answers withheld) win.
    """
    tops = {q["id"]: (raw[q["id"]]["level"], raw[q["id"]]["confidence"]) for q in queries}
    answerable = [q["id"] for q in queries if not q["no_match"]]
    none = [q["id"] for q in queries if q["no_match"]]
    unanswered = sum(tops[q][0] is None or tops[q][1] is None for q in answerable)
    caught_anyway = sum(tops[q][0] is None or tops[q][1] is None for q in none)
    per_level: dict[str, list[tuple[float, int, int]]] = {}
    for lv in LEVELS:
        ans = sorted(c for q in answerable if tops[q][0] == lv and (c := tops[q][1]) is not None)
        nm = sorted(c for q in none if tops[q][0] == lv and (c := tops[q][1]) is not None)
        seen = sorted({round(c, 4) for c in ans + nm})
        cands = (
            [0.0] + [round((a + b) / 2, 4) for a, b in itertools.pairwise(seen)] + ([seen[-1] + 1e-4] if seen else [])
        )
        per_level[lv] = [(t, sum(c < t for c in nm), sum(c < t for c in ans)) for t in cands]
    best: tuple[float, float, tuple[float, ...]] | None = None
    for combo in itertools.product(*(per_level[lv] for lv in LEVELS)):
        fnm = (unanswered + sum(c[2] for c in combo)) / max(1, len(answerable))
        if fnm > MAX_FALSE_NO_MATCH:
            continue
        right = (caught_anyway + sum(c[1] for c in combo)) / max(1, len(none))
        t = tuple(c[0] for c in combo)
        if best is None or (right, -fnm, tuple(-x for x in t)) > (best[0], best[1], tuple(-x for x in best[2])):
            best = (right, -fnm, t)
    assert best is not None
    th = Thresholds(*(round(x, 4) for x in best[2]))
    return th, {"no_match_right": round(best[0], 4), "false_no_match": round(-best[1], 4)}


def misses(
    queries: list[dict[str, Any]], raw: dict[str, Any], abstained: dict[str, bool], titles: dict[str, str]
) -> list[str]:
    """One line per query the answerer got wrong (no grade-2 script first, or the wrong abstention)."""
    lines = []
    for q in queries:
        r = raw[q["id"]]
        g2 = [e for e, g in q["relevant"].items() if g == 2]
        first = r["top"][0][0] if r["top"] else None
        wrong = abstained[q["id"]] != q["no_match"] or (not q["no_match"] and first not in g2)
        if wrong:
            got = (
                "无匹配话术"
                if abstained[q["id"]]
                else " / ".join(f"{e} {titles.get(e, '')[:16]}" for e, *_ in r["top"])
            )
            want = "无匹配话术" if q["no_match"] else " / ".join(f"{e} {titles[e][:16]}" for e in g2)
            lines.append(f"{q['id']} {q['text']!r} skus={q['skus']} tags={q['tags']} conf={r['confidence']} "
                         f"read={r['reading']['search_text']!r} | got {got} | want {want}")  # fmt: skip
    return lines


def run(
    folder: Path,
    embedder: Embedder,
    *,
    thresholds: Thresholds | None = None,
    baseline: bool = True,
    splits_run: Sequence[str] = ("dev", "heldout"),
) -> dict[str, Any]:
    """Every configuration on the splits (both by default; ``dev`` alone while tuning); the report's dictionary."""
    queries = load_queries(folder)
    splits = {s: [q for q in queries if q["split"] == s] for s in splits_run}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        index, matcher, treats = load_set(folder, embedder, Path(tmp))
        load_s = time.perf_counter() - t0
    titles = {d.entry_id: d.title for d in index.docs.values()}

    def answerer(mode: TypoMode, th: Thresholds | None = None) -> ObjectionAnswerer:
        return ObjectionAnswerer(index, mentions=matcher.mentions, product_indications=treats, typo_mode=mode,
                                 thresholds=th or thresholds, cache_vectors=False)  # fmt: skip

    configs: dict[str, Any] = {}
    raws: dict[str, dict[str, Any]] = {}
    modes: tuple[tuple[str, TypoMode], ...] = (
        ("answers", "pinyin"), ("answers-ngram", "ngram"), ("answers-no-typo", "none")
    )  # fmt: skip
    for name, mode in modes:
        if mode == "ngram":
            from copilot.objections import Weights

            a = answerer(mode)
            a.weights = replace(Weights(), ngram=0.3)
        else:
            a = answerer(mode)
        per_split = {}
        for split, qs in splits.items():
            ranked, abstained, times, raw = run_answerer(a, qs)
            per_split[split] = {**score_run(qs, ranked, abstained), "latency_ms": percentiles(times, (50, 95), 2)}
            raws[f"{name}/{split}"] = {"raw": raw, "abstained": abstained}
        configs[name] = per_split
    calibrated, cal_dev = calibrate(splits["dev"], raws["answers/dev"]["raw"])
    if baseline:
        per_split = {}
        for split, qs in splits.items():
            ranked, times = run_ensemble(index, qs)
            per_split[split] = {**score_run(qs, ranked, dict.fromkeys(ranked, False)),
                                "latency_ms": percentiles(times, (50, 95), 2)}  # fmt: skip
        configs["langchain-ensemble"] = per_split
    shipped = answerer("pinyin").thresholds
    counts = {
        "queries": len(queries),
        **{tag: sum(tag in q["tags"] for q in queries) for tag in ("short", "productless", "typo", "english_jargon")},
        "no_match": sum(q["no_match"] for q in queries),
    }
    return {
        "run": {"at": dt.datetime.now().isoformat(timespec="seconds"), "embedder": embedder.name,
                "set": str(folder), "load_s": round(load_s, 2), "scripts": sum(d.kind == "objection_script"
                                                                                for d in index.docs.values())},
        "counts": counts,
        "minimum_counts": MINIMUM_COUNTS,
        "thresholds": asdict(shipped),
        "calibrated_on_dev": {"thresholds": asdict(calibrated), **cal_dev},
        "targets": TARGETS,
        "configs": configs,
        "dev_misses": misses(splits["dev"], raws["answers/dev"]["raw"], raws["answers/dev"]["abstained"], titles),
    }  # fmt: skip


def markdown(report: dict[str, Any]) -> str:
    """The report for people: held-out next to dev and the baseline, targets, typo modes, tags, misses."""
    c = report["configs"]
    lines = [
        "# Objection answers on the independent set (issue 20)",
        "",
        f"Run {report['run']['at']}, embedder `{report['run']['embedder']}`; {report['run']['scripts']} published "
        f"scripts loaded through ingest in {report['run']['load_s']} s; set `{report['run']['set']}` "
        "(written blind, half held out). Recall is over grade-2 scripts, capped at k; "
        "a 无匹配话术 answer has no scripts.",
        "",
        "| configuration | split | recall@3 | recall@1 | short recall@3 | nDCG@3 | MRR | no-match right "
        "| false no-match | p50 / p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, per_split in c.items():
        for split in ("heldout", "dev"):
            m = per_split[split]
            a, short = m["all"], m.get("short", {})
            lines.append(
                f"| {name} | {split} | {a['recall@3']:.3f} | {a['recall@1']:.3f} | {short.get('recall@3', 0):.3f} "
                f"| {a['ndcg@3']:.3f} | {a['mrr']:.3f} | {a.get('no_match_right', 0):.3f} | {a['false_no_match']:.3f} "
                f"| {m['latency_ms']['p50']} / {m['latency_ms']['p95']} |"
            )
    held = c["answers"]["heldout"]["all"]
    short = c["answers"]["heldout"]["short"]["recall@3"]
    t = report["targets"]
    lines += ["", "Targets on held-out (issue 20):", ""]
    for label, value, target, better in (
        ("recall@3", held["recall@3"], t["recall@3"], "≥"),
        ("recall@1", held["recall@1"], t["recall@1"], "≥"),
        ("short recall@3", short, t["short_recall@3"], "≥"),
        ("no-match right", held.get("no_match_right", 0), t["no_match_right"], "≥"),
        ("false no-match", held["false_no_match"], t["false_no_match"], "≤"),
    ):
        met = value >= target if better == "≥" else value <= target
        lines.append(f"- {label}: {value:.3f} (target {better} {target}) — {'met' if met else 'NOT met'}")
    lines += ["", "By tag, held-out (`answers`):", ""]
    lines += ["| tag | n | recall@3 | recall@1 | false no-match | no-match right |", "|---|---:|---:|---:|---:|---:|"]
    for tag, m in c["answers"]["heldout"].items():
        if tag == "all" or not isinstance(m, dict) or "n" not in m:
            continue
        lines.append(f"| {tag} | {m['n']} | {m.get('recall@3', 0):.3f} | {m.get('recall@1', 0):.3f} "
                     f"| {m.get('false_no_match', 0):.3f} | {m.get('no_match_right', 0):.3f} |")  # fmt: skip
    lines += ["", "Typo tolerance, `typo` queries (a wrong or homophone character outside product names):", ""]
    for name in ("answers", "answers-ngram", "answers-no-typo"):
        for split in ("dev", "heldout"):
            m = c[name][split].get("typo", {})
            lines.append(
                f"- {name} ({split}): recall@3 {m.get('recall@3', 0):.3f}, recall@1 {m.get('recall@1', 0):.3f}"
            )
    cal = report["calibrated_on_dev"]
    lines += [
        "",
        f"Thresholds shipped (`copilot.objections.Thresholds`): {report['thresholds']}. The rule on dev picks "
        f"{cal['thresholds']} (no-match right {cal['no_match_right']}, false no-match {cal['false_no_match']} on dev).",
        "",
        f"Set counts (issue 20 asks at least {report['minimum_counts']}): {report['counts']}.",
        "",
        f"## Misses on dev ({len(report['dev_misses'])})",
        "",
        *(f"- {m}" for m in report["dev_misses"]),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run, write the reports, print the table (or JSON, or the calibration)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", type=Path, default=DATASET, help="Folder of the independent set.")
    p.add_argument("--out", type=Path, default=Path("eval/reports/answers"))
    p.add_argument("--embedder", choices=["use", "hashing"], default="use")
    p.add_argument("--cache", type=Path, help="Embedding cache file (re-runs embed nothing twice).")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument("--calibrate", action="store_true", help="Print the thresholds the rule picks on dev.")
    p.add_argument("--dev-only", action="store_true", help="Tuning: run the dev split only (no report written).")
    args = p.parse_args(argv)
    makers: dict[str, Callable[[], Embedder]] = {"use": UniversalSentenceEncoder, "hashing": HashingEmbedder}
    embedder: Embedder = makers[args.embedder]()
    if args.cache:
        embedder = _QueryCache(CachedEmbedder(embedder, args.cache))
    report = run(args.set, embedder, baseline=not args.no_baseline, splits_run=("dev",) if args.dev_only else
                 ("dev", "heldout"))  # fmt: skip
    if args.dev_only:
        sys.stdout.write(json.dumps({k: v["dev"]["all"] for k, v in report["configs"].items()}, indent=1) + "\n")
        sys.stdout.write(json.dumps(report["calibrated_on_dev"], indent=1) + "\n")
        sys.stdout.write("\n".join(report["dev_misses"]) + "\n")
        return report
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "answers_eval.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (args.out / "answers_eval.md").write_text(markdown(report), encoding="utf-8")
    if args.calibrate:
        sys.stdout.write(json.dumps(report["calibrated_on_dev"], indent=2) + "\n")
    sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n" if args.json else markdown(report))
    return report


if __name__ == "__main__":
    main()
