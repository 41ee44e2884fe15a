r"""The product's bulk path into an empty Neo4j database, stage by stage (issue 22 item 5: ≥ 50k order lines/s).

``salescopilot export --neo4j-import`` then ``salescopilot --backend neo4j bulk-load`` on a real store (e.g. the
demo at scale 20): this benchmark runs the same code (``graph.neo4j_bulk``) and times every stage with the machine's
load next to it — reading the store's Arrow tables, converting the columns, writing the CSV files, stopping the
server, the importer (its JVM start and its own four phases as it reports them), starting the server, the schema
(constraints built and checked, indexes created), the indexes coming online and the count check. It runs the load
once per ``--variant`` (the importer's flags and the schema creation, old and new way) into the same files, so
the variants are compared on the same machine in the same run.

It REPLACES the database of the server it is given: point it only at a server of its own (the first load refuses
a database holding anything but the schema version record, as ``bulk_load`` does), e.g. a second instance on
other ports. Usage::

    python -m eval.bench_neo4j_bulk --data-dir /tmp/s20 --neo4j-home /opt/neo4j-bench \
        --neo4j-uri bolt://127.0.0.1:7688 --neo4j-password … --work /tmp/bulk [--variant old new]

Writes ``bench_neo4j_bulk.{json,md}`` to ``--out`` (default ``eval/reports/graph``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import shutil
import time
from pathlib import Path
from typing import Any

from graph.embedded import EmbeddedGraphStore
from graph.neo4j_bulk import import_arguments, read_manifest, run_launcher, write_import_files
from graph.neo4j_store import Neo4jGraphStore, schema_statements

PHASES = ("Node import", "Relationship import", "Relationship linking", "Post processing")
VARIANTS: dict[str, dict[str, Any]] = {
    "old": {"multiline": "every file", "importer": [], "schema": "one transaction per statement"},
    "new": {"multiline": "files with a line break", "importer": [], "schema": "indexes in one transaction"},
    "new-threads4": {
        "multiline": "files with a line break",
        "importer": ["--threads=4"],
        "schema": "indexes in one transaction",
    },
}
"""How each load runs. ``old``: as the product did before — every file read as if values spanned lines
(``--multiline-fields=true``: no parallel parsing) and each index and constraint created in its own auto-commit
transaction; ``new``: only the files holding a line break read that way, the indexes created in one transaction
(the store's start); ``importer``: extra flags of the importer."""


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _seconds(text: str) -> float:
    """``1m 2s 345ms`` → 62.345."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return round(sum(float(n) * units[u] for n, u in re.findall(r"(\d+)(ms|h|m|s)\b", text)), 3)


def importer_phases(output: str) -> dict[str, float]:
    """The importer's own seconds per phase and in all (``IMPORT DONE in``), from its output."""
    out = {p: _seconds(m.group(1)) for p in PHASES if (m := re.search(rf"{p} COMPLETED in ([^\n]+)", output))}
    if done := re.search(r"IMPORT DONE in ([^.\n]+)", output):
        out["importer total"] = _seconds(done.group(1))
    return out


def export(data_dir: Path, files: Path) -> dict[str, Any]:
    """Write the import files of every tenant of the embedded store in ``data_dir`` (timed by stage)."""
    t0, c0 = time.perf_counter(), time.process_time()
    with EmbeddedGraphStore(data_dir / "graph", read_only=True) as store:
        opened = time.perf_counter() - t0
        written = write_import_files(store, files)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "open_s": round(opened, 1),
        **{f"{k}_s": round(v, 1) for k, v in written.seconds.items()},
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "bytes": sum(p.stat().st_size for p in files.iterdir()),
        "load": _load(),
    }


def _connect(args: argparse.Namespace) -> Neo4jGraphStore:
    return Neo4jGraphStore(args.neo4j_uri, args.neo4j_user, args.neo4j_password)


def _wait_for_bolt(args: argparse.Namespace, timeout_s: float = 600) -> None:
    from neo4j import GraphDatabase

    deadline = time.monotonic() + timeout_s
    with GraphDatabase.driver(args.neo4j_uri, auth=(args.neo4j_user, args.neo4j_password)) as driver:
        while True:
            try:
                with driver.session() as session:
                    session.run("RETURN 1").consume()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)


def _old_schema(args: argparse.Namespace) -> None:
    """The schema as the store created it before: each statement in its own auto-commit transaction."""
    from neo4j import GraphDatabase

    with (
        GraphDatabase.driver(args.neo4j_uri, auth=(args.neo4j_user, args.neo4j_password)) as driver,
        driver.session() as session,
    ):
        for statement in schema_statements():
            session.run(statement).consume()


def load(args: argparse.Namespace, files: Path, variant: str) -> dict[str, Any]:
    """One load of the files into the database, stage by stage (the server is stopped, refilled, started)."""
    manifest = read_manifest(files)
    home, spec = args.neo4j_home, VARIANTS[variant]
    stages: dict[str, Any] = {}

    def stage(name: str, since: float, **extra: Any) -> float:
        now = time.perf_counter()
        stages[name] = {"s": round(now - since, 1), "load": _load(), **extra}
        return now

    t0 = time.perf_counter()
    run_launcher([str(home / "bin" / "neo4j"), "stop"], home, "stopping Neo4j")
    t0 = stage("stop", t0)
    cmd = import_arguments(
        files.resolve(),
        [tuple(n) for n in manifest["nodes"]],
        [tuple(r) for r in manifest["relationships"]],
        "neo4j",
        None if spec["multiline"] == "every file" else manifest["multiline"],
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = run_launcher([str(home / "bin" / "neo4j-admin"), *cmd[:-1], *spec["importer"], cmd[-1]], home, "import")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    phases = importer_phases(output)
    t0 = stage("import", t0, cpu_s=round(cpu, 1), phases=phases)
    run_launcher([str(home / "bin" / "neo4j"), "start"], home, "starting Neo4j")
    _wait_for_bolt(args)
    t0 = stage("start", t0)
    if spec["schema"] == "one transaction per statement":
        _old_schema(args)
    store = _connect(args)  # creates what is missing (everything, for "new"), checks the schema version
    try:
        t0 = stage("schema", t0)
        store.await_indexes(3_600)
        t0 = stage("indexes online", t0)
        counts = store.counts()
        heads = {t: store.change_head(t) for t in manifest["change_heads"]}
        stage("count check", t0)
    finally:
        store.close()
    expected = {t: dict(sorted(c.items())) for t, c in sorted(manifest["rows"].items())}
    if counts != expected or heads != manifest["change_heads"]:
        raise RuntimeError(f"counts after the load {counts} / {heads} differ from the files {expected}")
    return {"variant": variant, **spec, "stages": stages}


def main(argv: list[str] | None = None) -> None:
    """Export once, load once per variant, write the report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, required=True, help="Data folder of the embedded store (its graph/).")
    p.add_argument("--neo4j-home", type=Path, required=True, help="Installation of a Neo4j server of its own.")
    p.add_argument("--neo4j-uri", required=True)
    p.add_argument("--neo4j-user", default="neo4j")
    p.add_argument("--neo4j-password", required=True)
    p.add_argument("--work", type=Path, required=True, help="Scratch folder for the files (deleted and refilled).")
    p.add_argument("--variant", nargs="+", default=["old", "new"], choices=sorted(VARIANTS))
    p.add_argument("--out", type=Path, default=Path("eval/reports/graph"))
    args = p.parse_args(argv)

    first = _connect(args)
    try:
        if first.stored_node_count(limit=1):
            raise SystemExit(f"the database at {args.neo4j_uri} holds data: give a server of its own, emptied")
    finally:
        first.close()
    shutil.rmtree(args.work, ignore_errors=True)
    files = args.work / "files"
    exported = export(args.data_dir, files)
    print(json.dumps(exported), flush=True)
    manifest = read_manifest(files)
    lines = sum(c.get("PURCHASED", 0) for c in manifest["rows"].values())
    entities = sum(sum(c.values()) for c in manifest["rows"].values())
    loads = []
    for variant in args.variant:
        loads.append(load(args, files, variant))
        print(json.dumps(loads[-1]), flush=True)
    result = {
        "run": dt.datetime.now().isoformat(timespec="seconds"),
        "data_dir": str(args.data_dir),
        "order_lines": lines,
        "nodes_and_relationships": entities,
        "cores": os.cpu_count(),
        "export": exported,
        "loads": loads,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_neo4j_bulk.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (args.out / "bench_neo4j_bulk.md").write_text(report(result), encoding="utf-8")
    print(report(result))


def report(r: dict[str, Any]) -> str:
    """The Markdown report: the export's stages, each load's stages, and lines per second three ways."""
    e, lines = r["export"], r["order_lines"]
    out = [
        "# Neo4j bulk path at size, stage by stage (issue 22 item 5)",
        "",
        f"Run {r['run']} · `python -m eval.bench_neo4j_bulk` · store `{r['data_dir']}` · {lines:,} order lines, "
        f"{r['nodes_and_relationships']:,} nodes and relationships in all · {r['cores']} cores shared with other "
        "work (load average = 1/5/15 min after each stage)",
        "",
        "## Export from the embedded store (`export --neo4j-import`)",
        "",
        "| open s | read Arrow s | convert s | write CSV s | wall s | CPU s | MB written | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {e['open_s']} | {e.get('read_s', 0)} | {e.get('convert_s', 0)} | {e.get('write_s', 0)} | {e['wall_s']} "
        f"| {e['cpu_s']} | {e['bytes'] / 1e6:,.0f} | {e['load']} |",
        "",
        "## Loads (`bulk-load`), one per variant, from the same files",
        "",
        "| variant | multiline parsing | importer flags | schema | stop s | import s (CPU s) "
        "| importer's phases s (node / rel / link / post = total) | start s | schema s | indexes online s "
        "| count check s | loads |",
        "|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for v in r["loads"]:
        s = v["stages"]
        ph = s["import"]["phases"]
        phases = " / ".join(str(ph.get(p, "?")) for p in PHASES) + f" = {ph.get('importer total', '?')}"
        loads = "; ".join(f"{k} {x['load'][0]}" for k, x in s.items())
        out.append(
            f"| {v['variant']} | {v.get('multiline', 'every file')} | {' '.join(v['importer']) or 'defaults'} "
            f"| {v['schema']} "
            f"| {s['stop']['s']} "
            f"| {s['import']['s']} ({s['import']['cpu_s']}) | {phases} | {s['start']['s']} | {s['schema']['s']} "
            f"| {s['indexes online']['s']} | {s['count check']['s']} | {loads} |"
        )
    out += [
        "",
        "## Order lines per second",
        "",
        "| variant | from generated files: importer's own time | from generated files: import wall (JVM start "
        "included) | from the embedded store: export + import wall | the whole path to a serving database "
        "(export + stop + import + start + schema + indexes + count check) | per CPU-second of the importer |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for v in r["loads"]:
        s = v["stages"]
        own = s["import"]["phases"].get("importer total")
        whole = e["wall_s"] + sum(x["s"] for x in s.values())
        out.append(
            f"| {v['variant']} | {f'{lines / own:,.0f}' if own else '?'} | {lines / s['import']['s']:,.0f} "
            f"| {lines / (e['wall_s'] + s['import']['s']):,.0f} | {lines / whole:,.0f} "
            f"| {lines / s['import']['cpu_s']:,.0f} |"
        )
    out += [
        "",
        "Target (issue 22 item 5): an initial load into an empty database ≥ 50k order lines/s; the issue accepts a "
        "load from generated files (`neo4j-admin database import` from the files `export --neo4j-import` wrote).",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
