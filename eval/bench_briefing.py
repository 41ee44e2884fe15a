"""Latency of the visit briefing pack (JSON and PDF) at demo scale 1 and 20.

Usage::

    python -m eval.bench_briefing --scales 1 20

Writes ``eval/reports/briefing/bench_briefing.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from copilot.briefing import build_briefing
from copilot.render import to_pdf
from demo.load import load_demo
from eval.stats import percentiles
from graph.embedded import EmbeddedGraphStore
from pricing_guard.index import PriceIndex

TODAY = dt.date(2026, 11, 25)
TENANT = "hz-pharma"


def run(scale: int, n: int, tmp: str | None) -> dict[str, Any]:
    """Build ``n`` packs for random customers of a demo store at ``scale``."""
    with tempfile.TemporaryDirectory(dir=tmp) as d:
        store = EmbeddedGraphStore(Path(d) / "graph", buffer_pool_mb=1024)
        loaded = load_demo(store, scale=scale, as_of=TODAY)
        order_lines = sum(w["Purchased"].received for w in loaded.writes.values())
        index = PriceIndex.from_store(store, TENANT, as_of=TODAY)
        ids = [c.id for c in store.customers(TENANT)]
        rng = np.random.default_rng(4)
        json_ms, pdf_ms = [], []
        for i in range(n):
            cid = ids[int(rng.integers(0, len(ids)))]
            t0 = time.perf_counter()
            pack = build_briefing(store, TENANT, cid, today=TODAY, price_index=index)
            pack.model_dump_json()
            json_ms.append((time.perf_counter() - t0) * 1000)
            if i < 10:
                t0 = time.perf_counter()
                to_pdf(pack)
                pdf_ms.append((time.perf_counter() - t0) * 1000 + json_ms[-1])
        store.close()
    return {
        "scale": scale,
        "customers": len(ids),
        "order_lines": order_lines,
        "json_ms": percentiles(json_ms, (50, 95), 1),
        "pdf_ms": percentiles(pdf_ms, (50, 95), 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Run and write the report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scales", type=int, nargs="+", default=[1, 20])
    p.add_argument("--packs", type=int, default=100)
    p.add_argument("--tmp", default=None)
    p.add_argument("--out", type=Path, default=Path("eval/reports/briefing"))
    args = p.parse_args(argv)
    results = [run(s, args.packs, args.tmp) for s in args.scales]
    lines = [
        "# Briefing pack benchmark",
        "",
        f"Run {dt.datetime.now().isoformat(timespec='seconds')} (2 cores).",
        "",
        "| demo scale | customers | JSON pack p50 / p95 ms | PDF (incl. pack) p50 / p95 ms |",
        "|---:|---:|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['scale']} | {r['customers']:,} | {r['json_ms']['p50']} / {r['json_ms']['p95']} "
                     f"| {r['pdf_ms']['p50']} / {r['pdf_ms']['p95']} |")  # fmt: skip
    lines += ["", "Targets (issue 10): JSON pack ≤ 300 ms p95; PDF ≤ 2 s."]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_briefing.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (args.out / "bench_briefing.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
