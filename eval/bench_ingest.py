"""Benchmark of file ingest: order-line CSVs of several sizes → validated → embedded store, end to end.

Each size runs in a fresh subprocess (its own peak RSS). Usage::

    python -m eval.bench_ingest --sizes 100000 1000000 2000000

Writes ``bench_ingest.json`` and ``bench_ingest.md`` to ``--out`` (default ``eval/reports/ingest``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv

from eval import synthetic
from graph.embedded import EmbeddedGraphStore
from ingest.pipeline import ingest_paths

TENANT = "bench"


def run_one(n: int, tmp: str | None) -> dict[str, Any]:
    """Write an n-line orders CSV (with its products and customers) and ingest it twice; return timings."""
    with tempfile.TemporaryDirectory(dir=tmp) as d:
        folder = Path(d) / "files"
        folder.mkdir()
        prods = synthetic.products()
        custs = synthetic.customers(max(300, n // 700))
        orders = synthetic.purchases(n, custs.column("id").to_pylist(), prods.column("sku").to_pylist())
        pacsv.write_csv(prods, folder / "products.csv")
        pacsv.write_csv(custs, folder / "customers.csv")
        pacsv.write_csv(orders, folder / "orders.csv")
        size_mb = (folder / "orders.csv").stat().st_size / 2**20
        del orders
        store = EmbeddedGraphStore(Path(d) / "graph", buffer_pool_mb=1024)
        t0 = time.perf_counter()
        report = ingest_paths(store, TENANT, [folder])
        first = time.perf_counter() - t0
        assert report.writes["Purchased"].created == n
        t0 = time.perf_counter()
        again = ingest_paths(store, TENANT, [folder])
        second = time.perf_counter() - t0
        assert again.writes["Purchased"].created == 0 and again.writes["Purchased"].updated == 0
        store.close()
    return {
        "order_lines": n,
        "csv_mib": round(size_mb, 1),
        "ingest_s": round(first, 2),
        "lines_per_s": round(n / first),
        "reingest_unchanged_s": round(second, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run_nrdl(nrdl_dir: Path, tmp: str | None) -> dict[str, Any]:
    """Parse the full official 2024 list and apply it to the demo catalogue (127 SKUs) of one tenant."""
    from demo.load import load_demo
    from ingest.formulary import apply_edition, load_edition

    with tempfile.TemporaryDirectory(dir=tmp) as d:
        store = EmbeddedGraphStore(Path(d) / "graph", buffer_pool_mb=512)
        load_demo(store, as_of=dt.date(2026, 11, 25))
        t0 = time.perf_counter()
        drugs = load_edition([nrdl_dir / "nrdl-2024.xlsx"], "NRDL-2024-official")
        parse_s = time.perf_counter() - t0
        report = apply_edition(store, "hz-pharma", drugs, edition_id="NRDL-2024-official", name="2024")
        total_s = time.perf_counter() - t0
        store.close()
    return {
        "drug_rows": len(drugs),
        "parse_s": round(parse_s, 2),
        "parse_and_apply_s": round(total_s, 2),
        "products": report.products,
        "tagged": report.tagged,
        "review": len(report.review),
    }


def run_demo(scale: int, tmp: str | None) -> dict[str, Any]:
    """Generate and load the demo dataset at ``scale`` into a fresh store."""
    from demo.load import load_demo

    with tempfile.TemporaryDirectory(dir=tmp) as d:
        store = EmbeddedGraphStore(Path(d) / "graph", buffer_pool_mb=1024)
        report = load_demo(store, scale=scale, as_of=dt.date(2026, 11, 25))
        lines = sum(w["Purchased"].received for w in report.writes.values())
        store.close()
    return {
        "scale": scale,
        "order_lines": lines,
        "generate_s": round(report.generate_s, 2),
        "load_s": round(report.load_s, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Run each size in a subprocess and write the report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 2_000_000])
    p.add_argument("--tmp", default=None)
    p.add_argument("--out", type=Path, default=Path("eval/reports/ingest"))
    p.add_argument("--nrdl", type=Path, default=None, help="Folder of the official NRDL files (optional).")
    p.add_argument("--demo-scales", type=int, nargs="*", default=[1, 20])
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    p.add_argument("--one-demo", type=int, help=argparse.SUPPRESS)
    p.add_argument("--one-nrdl", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.tmp)))
        return
    if args.one_demo:
        print(json.dumps(run_demo(args.one_demo, args.tmp)))
        return
    if args.one_nrdl:
        print(json.dumps(run_nrdl(args.one_nrdl, args.tmp)))
        return
    tmp_args = ["--tmp", args.tmp] if args.tmp else []

    def child(*extra: str) -> dict[str, Any]:
        out = subprocess.run(
            [sys.executable, "-m", "eval.bench_ingest", *extra, *tmp_args], check=True, capture_output=True, text=True
        ).stdout
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        print(json.dumps(result), file=sys.stderr)
        return result

    results = [child("--one", str(n)) for n in args.sizes]
    demos = [child("--one-demo", str(s)) for s in args.demo_scales]
    nrdl = child("--one-nrdl", str(args.nrdl)) if args.nrdl and args.nrdl.is_dir() else None
    given = list(argv if argv is not None else sys.argv[1:])
    report: dict[str, Any] = {
        "run_at": dt.datetime.now().isoformat(timespec="seconds"),
        "argv": given,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "results": results,
        "demo": demos,
        "nrdl": nrdl,
    }
    lines = [
        "# Ingest benchmark",
        "",
        f"Run {report['run_at']} · `python -m eval.bench_ingest {' '.join(given)}`",
        "",
        "Orders CSV (with its products and customers files) → read, type detection, validation, reference checks, "
        "load into a fresh embedded store; then the same files again (nothing changes).",
        "",
        "| order lines | CSV MiB | ingest s | lines/s | unchanged re-ingest s | peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['order_lines']:,} | {r['csv_mib']} | {r['ingest_s']} | {r['lines_per_s']:,} "
            f"| {r['reingest_unchanged_s']} | {r['peak_rss_mib']} |"
        )
    lines += ["", "Demo dataset (`salescopilot demo --scale N`), generated and loaded into a fresh store:", ""]
    lines += ["| scale | order lines | generate s | load s | peak RSS MiB |", "|---:|---:|---:|---:|---:|"]
    for r in demos:
        lines.append(
            f"| {r['scale']} | {r['order_lines']:,} | {r['generate_s']} | {r['load_s']} | {r['peak_rss_mib']} |"
        )
    if nrdl:
        lines += [
            "",
            f"Official NRDL 2024 workbook: {nrdl['drug_rows']:,} drug rows parsed in {nrdl['parse_s']} s; "
            "parse + apply "
            f"to the demo catalogue ({nrdl['products']} SKUs, {nrdl['tagged']} tagged, {nrdl['review']} left for "
            f"review) {nrdl['parse_and_apply_s']} s.",
        ]
    lines += [
        "",
        "Targets (issue 4): 2M order lines ≤ 30 s end to end and peak RSS ≤ 4 GiB; NRDL parse + apply ≤ 60 s.",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_ingest.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "bench_ingest.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
