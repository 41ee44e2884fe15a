"""Latency of a rep's task list (今日待办) for a rep with about 300 customers.

Usage::

    python -m eval.bench_tasks --scale 20 --customers 300 --runs 40

Loads the demo at ``--scale`` into a temporary embedded store, gives a benchmark rep (``R-BENCH``) the first
``--customers`` customers of one city (then of the tenant, by id) — the demo's own reps own about 28 each —, builds the
price index, and times ``copilot.tasks.build_tasks`` (every trigger, price flags included, the states read; no
retrieval suggestions) ``--runs`` times after one warm-up. Writes ``eval/reports/tasks/bench_tasks.{json,md}``.
``--store DIR`` keeps the loaded store in DIR and reuses it when DIR already holds one (scale 20 takes tens of
minutes to generate and load on a shared machine; the timed part is the same).
Target (issue 24): p95 ≤ 200 ms at demo scale 20.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from copilot.tasks import build_tasks
from demo.load import load_demo
from eval.stats import percentiles
from graph.embedded import EmbeddedGraphStore
from graph.model import Owns, Rep
from pricing_guard.index import PriceIndex

TODAY = dt.date(2026, 11, 25)
TENANT = "hz-pharma"
REP = "R-BENCH"


def run(scale: int, customers: int, runs: int, tmp: str | None, keep: Path | None = None) -> dict[str, Any]:
    """Load (or reuse the store in ``keep``), assign the benchmark rep, time the task list."""
    with tempfile.TemporaryDirectory(dir=tmp) as d:
        where = (keep or Path(d)) / "graph"
        reuse = where.exists()
        store = EmbeddedGraphStore(where, buffer_pool_mb=2048)
        t0 = time.perf_counter()
        if not reuse:
            load_demo(store, scale=scale, as_of=TODAY)
        load_s = None if reuse else time.perf_counter() - t0
        everyone = store.customers(TENANT)
        city = Counter(c.city for c in everyone if c.city).most_common(1)[0][0]
        chosen = [c.id for c in everyone if c.city == city][:customers]
        chosen += [c.id for c in everyone if c.id not in set(chosen)][: customers - len(chosen)]
        store.upsert_nodes(TENANT, [Rep(tenant=TENANT, id=REP, name="基准代表", territory=f"{city}（基准）")])
        store.upsert_edges(TENANT, [Owns(tenant=TENANT, rep_id=REP, customer_id=c) for c in chosen])
        index = PriceIndex.from_store(store, TENANT, as_of=TODAY)
        first = build_tasks(store, TENANT, REP, as_of=TODAY, price_index=index)
        times, cpu = [], []
        load_before = os.getloadavg()[0]
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            build_tasks(store, TENANT, REP, as_of=TODAY, price_index=index)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        n_customers = len(everyone)
        store.close()
    return {
        "scale": scale,
        "tenant_customers": n_customers,
        "rep_customers": first.customers,
        "tasks": len(first.items),
        "load_s": None if load_s is None else round(load_s, 1),
        "runs": runs,
        "ms": percentiles(times, (50, 95, 99), 1),
        "cpu_ms": percentiles(cpu, (50, 95, 99), 1),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }


def main(argv: list[str] | None = None) -> None:
    """Run and write the report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=int, default=20)
    p.add_argument("--customers", type=int, default=300)
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--tmp", default=None)
    p.add_argument("--store", type=Path, default=None, help="keep the loaded store here; reuse it if there")
    p.add_argument("--out", type=Path, default=Path("eval/reports/tasks"))
    args = p.parse_args(argv)
    r = run(args.scale, args.customers, args.runs, args.tmp, args.store)
    lines = [
        "# Task list benchmark",
        "",
        f"Run {dt.datetime.now().isoformat(timespec='seconds')} on {os.cpu_count()} cores shared with other work "
        f"(load average {r['load_average'][0]} before the timed runs, {r['load_average'][1]} after).",
        f"Command: `python -m eval.bench_tasks --scale {r['scale']} --customers {args.customers} --runs {r['runs']}`.",
        "",
        "| demo scale | tenant customers | rep's customers | tasks | wall p50 / p95 / p99 ms | CPU p50 / p95 ms |",
        "|---:|---:|---:|---:|---|---|",
        f"| {r['scale']} | {r['tenant_customers']:,} | {r['rep_customers']} | {r['tasks']} | {r['ms']['p50']} / "
        f"{r['ms']['p95']} / {r['ms']['p99']} | {r['cpu_ms']['p50']} / {r['cpu_ms']['p95']} |",
        "",
        "Target (issue 24): p95 ≤ 200 ms for a rep with about 300 customers at demo scale 20. Embedded store, price "
        "flags included, no retrieval suggestions (the API suggests for the first tasks only). CPU: the process's CPU "
        "time per list (all its threads), less sensitive than wall time to other work on a shared machine.",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if r["scale"] == 20 else f"_scale{r['scale']}"
    (args.out / f"bench_tasks{suffix}.json").write_text(json.dumps(r, indent=2), encoding="utf-8")
    (args.out / f"bench_tasks{suffix}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
