"""Benchmark of the graph store: bulk load of purchase lines and price-history latency at several sizes.

Each size runs in a fresh subprocess so that its peak RSS is its own. Usage::

    python -m eval.bench_graph --sizes 1000000 2000000
    python -m eval.bench_graph --sizes 100000 --neo4j-uri bolt://127.0.0.1:7687 --neo4j-user neo4j --neo4j-password …

Writes ``bench_graph.json`` and ``bench_graph.md`` to ``--out`` (default ``eval/reports/graph``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from copilot.briefing import build_briefing
from eval import synthetic
from eval.stats import percentiles
from graph.base import CypherGraphStore
from graph.model import Customer, Product, Purchased
from graph.ports import PriceHistoryFilter
from pricing_guard.index import PriceIndex

BRIEFING_DAY = dt.date(2025, 11, 23)
"""The day after the synthetic order lines end (2024-06-01 + 540 days)."""


def _open(args: argparse.Namespace, data_dir: Path) -> CypherGraphStore:
    if args.backend == "neo4j":
        from graph.neo4j_store import Neo4jGraphStore

        return Neo4jGraphStore(
            args.neo4j_uri,
            args.neo4j_user,
            args.neo4j_password,
            batch_size=args.batch_size,
            load_threads=args.load_threads,
        )
    from graph.embedded import EmbeddedGraphStore

    return EmbeddedGraphStore(data_dir, buffer_pool_mb=args.buffer_pool_mb)


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    return percentiles(samples_ms, (50, 90, 99)) | {"n": len(samples_ms)}


def run_one(args: argparse.Namespace) -> dict[str, Any]:
    """Load ``args.one`` purchase lines into a fresh store and time it; return the measurements."""
    n = args.one
    n_customers = max(300, n // 700)
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        store = _open(args, Path(tmp) / "graph")
        if args.backend == "neo4j":
            store.delete_tenant(args.tenant)
        prods, custs = synthetic.products(), synthetic.customers(n_customers)
        store.bulk_load(args.tenant, Product, prods)
        store.bulk_load(args.tenant, Customer, custs)
        t0 = time.perf_counter()
        table = synthetic.purchases(n, custs.column("id").to_pylist(), prods.column("sku").to_pylist())
        gen_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = store.bulk_load(args.tenant, Purchased, table)
        load_s = time.perf_counter() - t0
        assert result.created == n, result
        t0 = time.perf_counter()
        again = store.bulk_load(args.tenant, Purchased, table)
        reload_s = time.perf_counter() - t0
        assert again.created == 0 and again.updated == 0, again
        rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        rng = np.random.default_rng(11)
        skus = prods.column("sku").to_pylist()
        peer_ms: list[float] = []
        peer_rows: list[int] = []
        for _ in range(args.queries):
            start = dt.date(2024, 6, 1) + dt.timedelta(days=int(rng.integers(0, 360)))
            f = PriceHistoryFilter(
                customer_type=synthetic.CUSTOMER_TYPES[int(rng.integers(0, 5))],
                tier=synthetic.TIERS[int(rng.integers(0, 3))],
                region=synthetic.REGIONS[int(rng.integers(0, 7))],
                date_from=start,
                date_to=start + dt.timedelta(days=180),
            )
            sku = skus[int(rng.integers(0, len(skus)))]
            t0 = time.perf_counter()
            rows = store.price_history(args.tenant, sku, f)
            peer_ms.append((time.perf_counter() - t0) * 1000)
            peer_rows.append(len(rows))
        full_ms: list[float] = []
        full_rows: list[int] = []
        for i in range(max(args.queries // 10, 20)):
            t0 = time.perf_counter()
            rows = store.price_history(args.tenant, skus[i % len(skus)])
            full_ms.append((time.perf_counter() - t0) * 1000)
            full_rows.append(len(rows))
        briefing: dict[str, Any] = {}
        if args.briefings:
            briefing = _briefings(store, args.tenant, custs.column("id").to_pylist(), args.briefings)
        if args.backend == "neo4j":
            store.delete_tenant(args.tenant)
        store.close()
    return {
        "backend": args.backend,
        "load_threads": args.load_threads if args.backend == "neo4j" else None,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "purchase_lines": n,
        "customers": n_customers,
        "products": prods.num_rows,
        "generate_s": round(gen_s, 3),
        "bulk_load_s": round(load_s, 3),
        "bulk_load_rows_per_s": round(n / load_s),
        "reload_unchanged_s": round(reload_s, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_after_load_mib": round(rss_after_load, 1),
        "price_history_peer_filter_ms": _percentiles(peer_ms) | {"median_rows": int(np.median(peer_rows))},
        "price_history_full_sku_ms": _percentiles(full_ms) | {"median_rows": int(np.median(full_rows))},
        **briefing,
    }


def _briefings(store: CypherGraphStore, tenant: str, customer_ids: list[str], n: int) -> dict[str, Any]:
    """The price index a worker builds at start (time), then ``n`` briefing packs as JSON for random customers.

    The synthetic tenant has customers, products and order lines only: the pack's purchase history, gaps and peer
    shares are at full size; interactions, doctors, contracts and entries are empty.
    """
    gc.collect()
    rss = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    index = PriceIndex.from_store(store, tenant, as_of=BRIEFING_DAY)
    index_s = time.perf_counter() - t0
    gc.collect()
    index_mib = (psutil.Process().memory_info().rss - rss) / 2**20
    rng = np.random.default_rng(4)
    json_ms: list[float] = []
    for _ in range(n):
        customer_id = customer_ids[int(rng.integers(0, len(customer_ids)))]
        t0 = time.perf_counter()
        build_briefing(store, tenant, customer_id, today=BRIEFING_DAY, price_index=index).model_dump_json()
        json_ms.append((time.perf_counter() - t0) * 1000)
    return {
        "price_index_build_s": round(index_s, 1),
        "price_index_rss_growth_mib": round(index_mib, 1),
        "briefing_json_ms": percentiles(json_ms, (50, 95), 1) | {"n": n},
    }


def _machine() -> dict[str, Any]:
    import ladybug
    import neo4j
    import psutil

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cores": psutil.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "ladybug": getattr(ladybug, "__version__", "?"),
        "neo4j_driver": neo4j.__version__,
    }


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Graph store benchmark",
        "",
        f"Run {report['run_at']} · `python -m eval.bench_graph {' '.join(report['argv'])}`",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in report["machine"].items()),
        "",
        "| backend | purchase lines | bulk load s | rows/s | unchanged reload s | peak RSS MiB "
        "| peer query p50 / p99 ms (median rows) | full SKU history p50 / p99 ms (median rows) "
        "| price index build s | briefing JSON p50 / p95 ms | load avg |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---|---:|",
    ]
    for r in report["results"]:
        q, f = r["price_history_peer_filter_ms"], r["price_history_full_sku_ms"]
        b = r.get("briefing_json_ms", {"p50": "-", "p95": "-"})
        lines.append(
            f"| {r['backend']} | {r['purchase_lines']:,} | {r['bulk_load_s']} | {r['bulk_load_rows_per_s']:,} "
            f"| {r['reload_unchanged_s']} | {r['peak_rss_mib']} | {q['p50']} / {q['p99']} ({q['median_rows']}) "
            f"| {f['p50']} / {f['p99']} ({f['median_rows']}) | {r.get('price_index_build_s', '-')} "
            f"| {b['p50']} / {b['p95']} | {r.get('load_avg_1m', '-')} |"
        )
    lines += [
        "",
        "Peer query: one SKU, customer type + tier + region, a 180-day window (the pricing guard's peer lookup).",
        "Full SKU history: every order line of one SKU. Peak RSS is the whole benchmark process for that size.",
        "Targets (issue 3): bulk load ≥ 200k relationships/s; price-history p99 ≤ 20 ms at 2M lines; peak RSS ≤ 4 GiB.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark sizes in subprocesses and write the report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 2_000_000])
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--backend", choices=["embedded", "neo4j"], default="embedded")
    p.add_argument("--neo4j-uri")
    p.add_argument("--neo4j-user", default="neo4j")
    p.add_argument("--neo4j-password")
    p.add_argument("--neo4j-sizes", type=int, nargs="+", default=[100_000])
    p.add_argument("--buffer-pool-mb", type=int, default=1024)
    p.add_argument("--briefings", type=int, default=0, help="Briefing packs (JSON) to time after the price queries.")
    p.add_argument("--tenant", default="bench", help="Tenant of the benchmark's data (deleted before and after).")
    p.add_argument("--batch-size", type=int, default=10_000, help="Neo4j: rows per transaction.")
    p.add_argument("--load-threads", type=int, default=2, help="Neo4j: transactions at once in an initial load.")
    p.add_argument("--tmp", default=None, help="Folder for the temporary stores.")
    p.add_argument("--out", type=Path, default=Path("eval/reports/graph"))
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args)))
        return
    plan = [("embedded", s) for s in args.sizes]
    if args.neo4j_uri:
        plan += [("neo4j", s) for s in args.neo4j_sizes]
    results = []
    for backend, size in plan:
        cmd = [
            sys.executable,
            "-m",
            "eval.bench_graph",
            "--one",
            str(size),
            "--backend",
            backend,
            "--queries",
            str(args.queries),
            "--buffer-pool-mb",
            str(args.buffer_pool_mb),
            "--tenant",
            args.tenant,
            "--briefings",
            str(args.briefings),
            "--batch-size",
            str(args.batch_size),
            "--load-threads",
            str(args.load_threads),
        ]
        if args.tmp:
            cmd += ["--tmp", args.tmp]
        if backend == "neo4j":
            cmd += [
                "--neo4j-uri",
                args.neo4j_uri,
                "--neo4j-user",
                args.neo4j_user,
                "--neo4j-password",
                args.neo4j_password,
            ]
        print(f"… {backend} {size:,} lines", file=sys.stderr)
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr)
    given = list(argv if argv is not None else sys.argv[1:])
    argv_shown = ["***" if i and given[i - 1] == "--neo4j-password" else a for i, a in enumerate(given)]
    report = {
        "run_at": dt.datetime.now().isoformat(timespec="seconds"),
        "argv": argv_shown,
        "machine": _machine(),
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_graph.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (args.out / "bench_graph.md").write_text(_markdown(report), encoding="utf-8")
    print(_markdown(report))


if __name__ == "__main__":
    main()
