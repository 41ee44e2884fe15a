"""Initial load of order lines into an empty Neo4j database with ``neo4j-admin database import full``.

The other way to fill an empty Neo4j quickly (besides the store's batched transactions, measured by
``eval/bench_graph.py``): the offline importer writes the store files directly. This benchmark writes the synthetic
products, customers and order lines of ``bench_graph`` as the importer's CSV files — the same labels, relationship
type, ``uid`` / ``tenant`` properties and values the Neo4j store writes (``graph.frames``) — and imports them into a
scratch database under ``--work`` with a configuration of its own, so a running server is never touched.

Usage::

    python -m eval.bench_neo4j_import --lines 2000000 --neo4j-home /opt/neo4j --work /tmp/n4j-import
        [--neo4j-admin PATH]

Prints and writes ``bench_neo4j_import.{json,md}`` to ``--out`` (default ``eval/reports/graph``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from eval import synthetic
from graph.cypher import rel
from graph.frames import DST, SRC, UID, edge_frame, node_frame
from graph.model import Customer, Edge, Node, Product, Purchased
from graph.neo4j_bulk import import_header

TENANT = "bench-import"
DATABASE = "skgimport"


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column the CSV writer takes (lists joined with the importer's array delimiter ``;``)."""
    if pa.types.is_list(column.type):
        return pc.binary_join(column.cast(pa.list_(pa.string())), ";")
    return column


def write_nodes(path: Path, model: type[Node], table: pa.Table, tenant: str) -> int:
    """The node CSV of ``model`` (``uid`` is the import id)."""
    frame = node_frame(model, table, tenant)
    names = [f"{UID}:ID" if n == UID else import_header(n, frame.schema.field(n).type) for n in frame.column_names]
    out = pa.table([_plain(frame.column(n)) for n in frame.column_names], names=names)
    pacsv.write_csv(out, path)
    return int(frame.num_rows)


def write_edges(path: Path, model: type[Edge], table: pa.Table, tenant: str) -> int:
    """The relationship CSV of ``model`` (start and end by node ``uid``)."""
    frame = edge_frame(model, table, tenant)
    props = list(model.stored_properties())
    columns = [frame.column(SRC), frame.column(DST), frame.column(UID), *(frame.column(p) for p in props)]
    names = [":START_ID", ":END_ID", UID, *(import_header(p, frame.schema.field(p).type) for p in props)]
    pacsv.write_csv(pa.table([_plain(c) for c in columns], names=names), path)
    return int(frame.num_rows)


def run(lines: int, neo4j_home: Path, work: Path, admin: Path | None = None) -> dict[str, Any]:
    """Write the CSV files and import them into a scratch database; the times of each step."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "csv").mkdir(parents=True)
    conf = work / "conf"
    conf.mkdir()
    (conf / "neo4j.conf").write_text(
        f"server.directories.data={work / 'data'}\nserver.directories.logs={work / 'logs'}\n"
        f"server.directories.import={work / 'csv'}\n",
        encoding="utf-8",
    )
    t0 = time.perf_counter()
    prods, custs = synthetic.products(), synthetic.customers(max(300, lines // 700))
    table = synthetic.purchases(lines, custs.column("id").to_pylist(), prods.column("sku").to_pylist())
    generate_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    csv = work / "csv"
    n_prod = write_nodes(csv / "product.csv", Product, prods, TENANT)
    n_cust = write_nodes(csv / "customer.csv", Customer, custs, TENANT)
    n_lines = write_edges(csv / "purchased.csv", Purchased, table, TENANT)
    csv_s, csv_cpu = time.perf_counter() - t0, time.process_time() - c0
    cmd = [
        str(admin or neo4j_home / "bin" / "neo4j-admin"),
        "database",
        "import",
        "full",
        f"--nodes={Product.label}={csv / 'product.csv'}",
        f"--nodes={Customer.label}={csv / 'customer.csv'}",
        f"--relationships={rel(Purchased.rel_type).strip('`')}={csv / 'purchased.csv'}",
        "--overwrite-destination=true",
        f"--report-file={work / 'import.report'}",
        DATABASE,
    ]
    env = {**os.environ, "NEO4J_HOME": str(neo4j_home), "NEO4J_CONF": str(conf)}  # noqa: TID251 (the tool's own)
    t0, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    import_s, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    import_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"neo4j-admin import failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return {
        "lines": n_lines,
        "products": n_prod,
        "customers": n_cust,
        "generate_s": round(generate_s, 1),
        "csv_s": round(csv_s, 1),
        "import_s": round(import_s, 1),
        "csv_cpu_s": round(csv_cpu, 1),
        "import_cpu_s": round(import_cpu, 1),
        "import_lines_per_s": round(n_lines / import_s),
        "lines_per_cpu_s": round(n_lines / (csv_cpu + import_cpu)),
        "csv_and_import_lines_per_s": round(n_lines / (csv_s + import_s)),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "tool_reported": (m.group(1) if (m := re.search(r"IMPORT DONE in ([^.\n]+)", done.stdout)) else None),
        "tool_output_tail": done.stdout[-600:],
    }


def main(argv: list[str] | None = None) -> None:
    """Run and write the report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lines", type=int, nargs="+", default=[2_000_000])
    p.add_argument("--neo4j-home", type=Path, required=True, help="The Neo4j distribution (its lib/ and bin/).")
    p.add_argument(
        "--neo4j-admin", type=Path, default=None, help="The neo4j-admin launcher (default: NEO4J_HOME/bin/neo4j-admin)."
    )
    p.add_argument("--work", type=Path, required=True, help="Scratch folder (deleted and refilled).")
    p.add_argument("--out", type=Path, default=Path("eval/reports/graph"))
    args = p.parse_args(argv)
    results = [run(n, args.neo4j_home, args.work, args.neo4j_admin) for n in args.lines]
    shutil.rmtree(args.work, ignore_errors=True)
    lines = [
        "# Neo4j initial load with neo4j-admin database import",
        "",
        f"Run {dt.datetime.now().isoformat(timespec='seconds')} · `python -m eval.bench_neo4j_import "
        f"--lines {' '.join(map(str, args.lines))}` · {os.cpu_count()} cores",
        "",
        "| order lines | customers | CSV write s | import s (wall, JVM start included) | importer's own time "
        "| lines/s (import) | lines/s (CSV + import) | CPU s (CSV + importer) | lines per CPU s | load avg |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['lines']:,} | {r['customers']:,} | {r['csv_s']} | {r['import_s']} | {r['tool_reported']} "
            f"| {r['import_lines_per_s']:,} "
            f"| {r['csv_and_import_lines_per_s']:,} | {r['csv_cpu_s']} + {r['import_cpu_s']} "
            f"| {r['lines_per_cpu_s']:,} | {r['load_avg']} |"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_neo4j_import.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (args.out / "bench_neo4j_import.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
