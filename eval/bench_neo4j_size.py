r"""Reads at size on Neo4j: whole-SKU price history and the briefing JSON pack on a database already loaded.

Issue 22 item 5 asks for whole-SKU price history p99 ≤ 20 ms and briefing JSON p95 ≤ 300 ms at 2M order lines on
Neo4j. Loading 2M lines through transactions takes hours on a small machine, so this benchmark reads a database
filled beforehand — e.g. the demo at scale 20 written with ``salescopilot export --neo4j-import`` and loaded with
``salescopilot --backend neo4j bulk-load`` — and, with ``--embedded``, the embedded store it came from, in the same
run (an A/B on the same machine load). Wall and client CPU milliseconds per call; the server's CPU is its own.

Usage::

    python -m eval.bench_neo4j_size --neo4j-uri bolt://127.0.0.1:7688 --neo4j-password … \\
        --tenant hz-pharma --as-of 2025-02-15 [--embedded DATA_DIR/graph]

Writes ``bench_neo4j_size.{json,md}`` to ``--out`` (default ``eval/reports/graph``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from copilot.briefing import build_briefing
from eval.stats import percentiles
from graph.base import CypherGraphStore
from graph.model import Product
from pricing_guard.index import PriceIndex


def _timed(calls: list[Any], work: Any) -> tuple[list[float], list[float], list[int]]:
    """Wall and CPU milliseconds of ``work(call)`` for each call, and the rows each returned."""
    wall, cpu, rows = [], [], []
    for call in calls:
        t0, c0 = time.perf_counter(), time.thread_time()
        n = work(call)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        rows.append(n)
    return wall, cpu, rows


def _progress(n: int) -> int:
    print(".", end="", flush=True, file=sys.stderr)
    return n


def _rows_bytes(index: PriceIndex) -> int:
    """Bytes the index holds for whole-SKU histories (`SkuRows`)."""
    arrays = ("cust", "order", "line", "day", "qty", "price", "unit")
    return sum(sum(getattr(r, a).nbytes for a in arrays) for r in index.rows.values())


def measure(store: CypherGraphStore, tenant: str, as_of: dt.date, histories: int, packs: int) -> dict[str, Any]:
    """Whole-SKU histories from the store and from the price index, then ``packs`` briefing packs.

    Histories over every SKU by turns, read from the store, then the price index built from it and the same
    histories from the index (each compared with the store's answer), then packs for random customers.
    """
    skus = sorted(store.node_table(tenant, Product).column("sku").to_pylist())
    # A short warm-up (a server that has just started reads its pages from disk), not counted.
    for s in skus[:5]:
        store.price_history(tenant, s)
    lines = store.counts(tenant)[tenant].get("PURCHASED", 0)
    calls = [skus[i % len(skus)] for i in range(histories)]
    h_wall, h_cpu, h_rows = _timed(calls, lambda s: store.price_history(tenant, s).table.num_rows)
    t0 = time.perf_counter()
    index = PriceIndex.from_store(store, tenant, as_of=as_of)
    index_s = time.perf_counter() - t0
    gc.collect()  # as the service does with a built index (`api.services._long_lived`): out of the collector's scans
    gc.freeze()
    for s in calls[:5]:  # the first read of a SKU sorts its rows once (after the build or an update); not counted
        index.price_history(s)
    i_wall, i_cpu, i_rows = _timed(calls, lambda s: _answered(index, s).table.num_rows)
    differ = [
        s for s in sorted(set(calls)) if not store.price_history(tenant, s).table.equals(_answered(index, s).table)
    ]
    ids = sorted(c.id for c in store.customers(tenant))
    rng = np.random.default_rng(4)
    picks = [ids[int(rng.integers(0, len(ids)))] for _ in range(packs)]

    def pack(cid: str) -> int:
        return len(build_briefing(store, tenant, cid, today=as_of, price_index=index).model_dump_json())

    pack(picks[0])  # warm-up (the first pack loads the catalogue caches), not counted
    b_wall, b_cpu, _ = _timed(picks, lambda cid: _progress(pack(cid)))
    return {
        "backend": store.backend,
        "tenant": tenant,
        "order_lines_of_tenant": lines,
        "skus": len(skus),
        "customers": len(ids),
        "history_wall_ms": percentiles(h_wall, (50, 90, 99), 2) | {"n": len(h_wall)},
        "history_client_cpu_ms": percentiles(h_cpu, (50, 99), 2),
        "history_rows": {"median": int(np.median(h_rows)), "max": int(max(h_rows))},
        "index_history_wall_ms": percentiles(i_wall, (50, 90, 99), 2) | {"n": len(i_wall)},
        "index_history_client_cpu_ms": percentiles(i_cpu, (50, 99), 2),
        "index_history_rows_same": i_rows == h_rows,
        "index_history_skus_differing": differ,
        "index_rows_mb": round(_rows_bytes(index) / 2**20, 1),
        "price_index_build_s": round(index_s, 1),
        "briefing_json_wall_ms": percentiles(b_wall, (50, 95), 1) | {"n": len(b_wall)},
        "briefing_json_client_cpu_ms": percentiles(b_cpu, (50, 95), 1),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def _answered(index: PriceIndex, sku: str) -> Any:
    found = index.price_history(sku)
    if found is None:
        raise SystemExit(f"the price index cannot answer {sku} exactly (a customer it does not hold)")
    return found


def main(argv: list[str] | None = None) -> None:
    """Run and write the report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--neo4j-uri", help="The Neo4j server to measure (without it: the embedded store only).")
    p.add_argument("--neo4j-user", default="neo4j")
    p.add_argument("--neo4j-password")
    p.add_argument("--neo4j-database", default="neo4j")
    p.add_argument("--embedded", type=Path, help="The embedded store (graph folder) to measure beside it.")
    p.add_argument("--before", action="store_true", help="Also time the reads through the old row conversion.")
    p.add_argument("--tenant", default="hz-pharma")
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 2, 15))
    p.add_argument("--histories", type=int, default=1000)
    p.add_argument("--packs", type=int, default=100)
    p.add_argument("--out", type=Path, default=Path("eval/reports/graph"))
    args = p.parse_args(argv)
    results = []
    if args.neo4j_uri:
        from graph.neo4j_store import Neo4jGraphStore

        with Neo4jGraphStore(args.neo4j_uri, args.neo4j_user, args.neo4j_password or "",
                             database=args.neo4j_database) as neo:  # fmt: skip
            total = sum(c.get("PURCHASED", 0) for c in neo.counts().values())
            results.append(measure(neo, args.tenant, args.as_of, args.histories, args.packs) | {"order_lines": total})
            if args.before:  # the same reads through the row-by-row conversion the store used before (A/B, same run)
                neo._query_arrow = functools.partial(CypherGraphStore._query_arrow, neo)  # type: ignore[method-assign]
                before = measure(neo, args.tenant, args.as_of, args.histories, args.packs)
                results.append(before | {"order_lines": total, "backend": "neo4j (rows → dicts, before)"})
    if args.embedded:
        from graph.embedded import EmbeddedGraphStore

        with EmbeddedGraphStore(args.embedded, read_only=True) as emb:
            total = sum(c.get("PURCHASED", 0) for c in emb.counts().values())
            results.append(measure(emb, args.tenant, args.as_of, args.histories, args.packs) | {"order_lines": total})
    lines = [
        "# Reads at size on Neo4j (issue 22 item 5)",
        "",
        f"Run {dt.datetime.now().isoformat(timespec='seconds')} · `python -m eval.bench_neo4j_size --tenant "
        f"{args.tenant} --as-of {args.as_of} --histories {args.histories} --packs {args.packs}"
        f"{' --embedded …' if args.embedded else ''}` · {os.cpu_count()} cores · warm-up pass not counted",
        "",
        "| backend | history served from | order lines (all tenants / tenant) | whole-SKU history wall p50 / p90 / "
        "p99 ms | client CPU p50 / p99 ms | rows median / max | briefing JSON wall p50 / p95 ms | client CPU p50 / "
        "p95 ms | price index build s | load avg |",
        "|---|---|---|---|---|---|---|---|---:|---|",
    ]
    for r in results:
        h, hc, b, bc = (
            r["history_wall_ms"],
            r["history_client_cpu_ms"],
            r["briefing_json_wall_ms"],
            r["briefing_json_client_cpu_ms"],
        )
        ih, ic = r["index_history_wall_ms"], r["index_history_client_cpu_ms"]
        rows = f"{r['history_rows']['median']:,} / {r['history_rows']['max']:,}"
        lines.append(
            f"| {r['backend']} | the store (query) | {r['order_lines']:,} / {r['order_lines_of_tenant']:,} "
            f"| {h['p50']} / {h['p90']} / {h['p99']} | {hc['p50']} / {hc['p99']} | {rows} | {b['p50']} / {b['p95']} "
            f"| {bc['p50']} / {bc['p95']} | {r['price_index_build_s']} | {r['load_avg']} |"
        )
        same = (
            "same rows as the store"
            if r["index_history_rows_same"] and not r["index_history_skus_differing"]
            else (f"DIFFERS from the store on {r['index_history_skus_differing']}")
        )
        lines.append(
            f"| {r['backend']} | the worker's price index ({same}; {r['index_rows_mb']} MB of rows held) | ″ "
            f"| {ih['p50']} / {ih['p90']} / {ih['p99']} | {ic['p50']} / {ic['p99']} | {rows} | ″ | ″ | ″ | ″ |"
        )
    lines += [
        "",
        "Targets (issue 22 item 5, Neo4j): whole-SKU history p99 ≤ 20 ms, briefing JSON p95 ≤ 300 ms. The briefing "
        "reads the customer's neighbourhood from the store and its peer gaps and price flags from the price index.",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_neo4j_size.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (args.out / "bench_neo4j_size.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
