"""Benchmark: ``formulary apply`` of the full 2024 NRDL to a 10,000-product master (target ≤ 60 s).

The master is the blind set's 760 ERP names, repeated with other SKUs, pack sizes and makers until it has the size
asked for, loaded into a fresh embedded store. Timed: reading the official workbook, building the matcher, and the
apply itself (matching every product and writing every state in one transaction). Usage::

    python -m eval.bench_formulary [--products 10000] [--nrdl DIR]

Writes ``eval/reports/formulary/bench_formulary.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.eval_formulary import DEFAULT_NRDL, load_set
from graph.embedded import EmbeddedGraphStore
from graph.model import Product
from ingest.formulary import apply_edition, load_edition

MAKERS = ("石药集团", "华润双鹤", "扬子江药业", "齐鲁制药", "上海医药", "国药集团", "复星医药", "科伦药业")


def master(n: int) -> list[Product]:
    """``n`` products: the set's names, then variants with another pack and maker."""
    base, _ = load_set()
    out: list[Product] = []
    i = 0
    while len(out) < n:
        p = base[i % len(base)]
        round_ = i // len(base)
        name = p.name if round_ == 0 else f"{p.name} ×{round_ + 1}盒 {MAKERS[round_ % len(MAKERS)]}"
        out.append(Product(tenant="bench", sku=f"B-{i:06d}", name=name, spec=p.spec, manufacturer=p.manufacturer))
        i += 1
    return out


def run(n: int, nrdl_dir: Path) -> dict[str, Any]:
    """Load the master, apply the edition twice (the second run is the idempotent re-apply), return timings."""
    products = master(n)
    with tempfile.TemporaryDirectory() as tmp, EmbeddedGraphStore(Path(tmp) / "g", buffer_pool_mb=512) as store:
        store.upsert_nodes("bench", products)
        t0 = time.perf_counter()
        drugs = load_edition([nrdl_dir / "nrdl-2024.xlsx"], "NRDL-2024")
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = apply_edition(store, "bench", drugs, edition_id="NRDL-2024", name="2024")
        apply_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        apply_edition(store, "bench", drugs, edition_id="NRDL-2024", name="2024")
        again_s = time.perf_counter() - t0
    return {
        "products": n,
        "rows": len(drugs),
        "load_list_s": round(load_s, 2),
        "apply_s": round(apply_s, 2),
        "reapply_s": round(again_s, 2),
        "total_s": round(load_s + apply_s, 2),
        "states": report.states,
        "target_s": 60,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run and write the report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--products", type=int, default=10_000)
    p.add_argument("--nrdl", type=Path, default=DEFAULT_NRDL)
    p.add_argument("--out", type=Path, default=Path("eval/reports/formulary"))
    args = p.parse_args(argv)
    if not (args.nrdl / "nrdl-2024.xlsx").is_file():
        sys.stderr.write(f"official NRDL workbook not found at {args.nrdl}; nothing measured\n")
        return {}
    r = run(args.products, args.nrdl)
    md = (
        f"# formulary apply benchmark\n\n{r['products']:,} products, {r['rows']:,} list rows (NRDL 2024): list read in "
        f"{r['load_list_s']} s, apply (match + write every state) {r['apply_s']} s, total {r['total_s']} s "
        f"(target ≤ {r['target_s']} s); idempotent re-apply {r['reapply_s']} s. States: {r['states']}.\n"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_formulary.json").write_text(json.dumps(r, indent=2, ensure_ascii=False), encoding="utf-8")
    (args.out / "bench_formulary.md").write_text(md, encoding="utf-8")
    sys.stdout.write(md)
    return r


if __name__ == "__main__":
    main()
