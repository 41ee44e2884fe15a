"""Latency of a rep's task list (今日待办) for a rep with about 300 customers.

Usage::

    python -m eval.bench_tasks --scale 20 --customers 300 --runs 40

Loads the demo at ``--scale`` into a temporary embedded store, gives a benchmark rep (``R-BENCH``) the first
``--customers`` customers of one city (then of the tenant, by id) — the demo's own reps own about 28 each —, builds the
price index (taken out of the garbage collector's scans, as the service does: ``api.services._long_lived``), and
times ``copilot.tasks.build_tasks`` (every trigger, price flags included, the states read; no retrieval suggestions)
``--runs`` times after one warm-up, two ways interleaved: **cold**, the territory read and every rule run (no read
model: a rep's first list of the day, or the first after a write its rules read), and **warm**, with the read model
(``copilot.tasks.TaskCache``) current: the change log's head looked up, the stored states read, the price flags
worked out, the cached findings copied. Writes ``eval/reports/tasks/bench_tasks.{json,md}``.
``--store DIR`` keeps the loaded store in DIR and reuses it when DIR already holds one (scale 20 takes tens of
minutes to generate and load on a shared machine; the timed part is the same).
Target (issue 24): p95 ≤ 200 ms at demo scale 20.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from copilot.tasks import TaskCache, build_tasks
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
        gc.collect()
        gc.freeze()  # as the service keeps its price index (api.services._long_lived)
        first = build_tasks(store, TENANT, REP, as_of=TODAY, price_index=index)
        cache = TaskCache()
        warm_first = build_tasks(store, TENANT, REP, as_of=TODAY, price_index=index, cache=cache)
        if warm_first.model_dump() != first.model_dump():
            raise SystemExit("the read model's list differs from the list read afresh")
        times: list[float] = []
        cpu: list[float] = []
        warm_times: list[float] = []
        warm_cpu: list[float] = []
        load_before = os.getloadavg()[0]
        for _ in range(runs):
            for kept, wall, proc in ((None, times, cpu), (cache, warm_times, warm_cpu)):
                t0, c0 = time.perf_counter(), time.process_time()
                build_tasks(store, TENANT, REP, as_of=TODAY, price_index=index, cache=kept)
                wall.append((time.perf_counter() - t0) * 1000)
                proc.append((time.process_time() - c0) * 1000)
        if cache.misses != 1:
            raise SystemExit(f"the read model missed {cache.misses - 1} warm lists")
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
        "warm_ms": percentiles(warm_times, (50, 95, 99), 1),
        "warm_cpu_ms": percentiles(warm_cpu, (50, 95, 99), 1),
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
        "| list | demo scale | tenant customers | rep's customers | tasks | wall p50 / p95 / p99 ms | CPU p50 / p95 |",
        "|---|---:|---:|---:|---:|---|---|",
        *(
            f"| {name} | {r['scale']} | {r['tenant_customers']:,} | {r['rep_customers']} | {r['tasks']} | "
            f"{r[w]['p50']} / {r[w]['p95']} / {r[w]['p99']} | {r[c]['p50']} / {r[c]['p95']} |"
            for name, w, c in (
                ("cold (territory read)", "ms", "cpu_ms"),
                ("warm (read model)", "warm_ms", "warm_cpu_ms"),
            )
        ),
        "",
        "Target (issue 24): p95 ≤ 200 ms for a rep with about 300 customers at demo scale 20. Embedded store, price "
        "flags included, no retrieval suggestions (the API suggests for the first tasks only). Cold: no read model "
        "(a rep's first list of the day, or the first after a write of a fact the rules read); warm: the read model "
        "is current (the change log looked up; states, price flags read every time). Runs interleaved. CPU: the "
        "process's CPU time per list (all its threads), less sensitive than wall time to other work on a shared "
        "machine.",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if r["scale"] == 20 else f"_scale{r['scale']}"
    (args.out / f"bench_tasks{suffix}.json").write_text(json.dumps(r, indent=2), encoding="utf-8")
    (args.out / f"bench_tasks{suffix}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
