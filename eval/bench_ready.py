"""Start-up to readiness: ``salescopilot serve`` from its saved snapshots, timed process start → ``/v1/ready`` 200.

Issue 22 item 4: each worker starts from a persisted index snapshot plus the change log since it; target ready
≤ 10 s on demo data and ≤ 60 s at demo scale 20. On a data folder that holds a loaded store (``salescopilot demo``):

1. if no snapshot exists yet, the service is started once and stopped (SIGINT, a clean stop saves the snapshots):
   that first start is reported as ``first_start`` (it builds the indexes from the store);
2. ``--runs`` starts from the snapshots with nothing written since (``snapshot``);
3. ``--runs`` starts after a few writes made while the service was stopped (``catch_up``): each round writes
   ``--lines`` new order lines and one new draft entry per tenant through the ingest pipeline (as the CLI does),
   which the next start reads from the change log on top of its snapshots.

Per run: wall seconds from ``Popen`` to the first 200 of ``/v1/ready`` (polled every 0.1 s), the process's CPU
seconds by then, and the service's own breakdown (``/v1/ready``'s ``startup``: imports, store, keys, embedder, model,
per tenant prices / competitors / retrieval with where each came from, catch_up). Median and max per phase.
The machine is shared, so the CPU seconds (and the load average printed with each figure) matter more than the wall.

Usage::

    python -m eval.bench_ready --data-dir /tmp/demo1 --runs 5            # a demo store (scale 1)
    python -m eval.bench_ready --data-dir /tmp/s20 --runs 3 --label s20   # a copy of a scale-20 store
    python -m eval.bench_ready --data-dir /tmp/demo1 --runs 5 --baseline-exe /old/checkout/.venv/bin/salescopilot

``--baseline-exe`` starts another checkout's service from the same snapshots before each run (interleaved, so both
see the same load) and reports both, with the ratio of the medians.

Writes ``eval/reports/ready/bench_ready[_LABEL].{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil

from eval.bench_api import machine

REPORT_DIR = Path(__file__).parent / "reports" / "ready"
POLL_S = 0.1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(args: argparse.Namespace) -> list[str]:
    return ["env", f"SKG_DATA_DIR={args.data_dir}", f"SKG_EMBEDDER={args.embedder}", "HF_HUB_OFFLINE=1"]


def start_once(args: argparse.Namespace, log_name: str, exe: str | None = None) -> dict[str, Any]:
    """Start the service, time it to ready, stop it cleanly (the stop saves the snapshots); the run's figures.

    ``exe``: the ``salescopilot`` to start (default: this environment's; ``--baseline-exe`` names another checkout's).
    """
    port = _free_port()
    exe = exe or str(Path(sys.executable).parent / "salescopilot")
    log_path = args.data_dir.parent / f"{args.data_dir.name}-{log_name}.log"
    with log_path.open("wb") as log:
        t0 = time.monotonic()
        server = subprocess.Popen([*_env(args), exe, "serve", "--port", str(port), "--log-level", "info"],
                                  stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    proc = psutil.Process(server.pid)
    try:
        body: dict[str, Any] = {}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"the service exited ({server.returncode}); see {log_path}")
                if time.monotonic() - t0 > args.timeout_s:
                    raise SystemExit(f"not ready within {args.timeout_s} s; see {log_path}")
                try:
                    r = client.get("/v1/ready")
                    if r.status_code == 200:
                        wall = time.monotonic() - t0
                        cpu = proc.cpu_times()
                        body = r.json()
                        break
                except httpx.TransportError:
                    pass
                time.sleep(POLL_S)
        return {"wall_s": round(wall, 2), "cpu_s": round(cpu.user + cpu.system, 2),
                "startup": body.get("startup", {}), "feed": body.get("feed", {}),
                "load_avg": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=300)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _has_snapshots(data_dir: Path) -> bool:
    return any((data_dir / "index").glob("*/feed.json"))


def write_while_stopped(data_dir: Path, lines: int, round_no: int) -> dict[str, int]:
    """Write while the service is stopped: per tenant ``lines`` new order lines and one new draft entry.

    The lines name existing customers and SKUs; they are ingested as the CLI ingests them, so each batch lands in the
    tenant's change log, which the next start reads on top of its snapshots.
    """
    from graph.embedded import EmbeddedGraphStore
    from ingest.pipeline import ingest_paths

    written: dict[str, int] = {}
    store = EmbeddedGraphStore(data_dir / "graph", buffer_pool_mb=512)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ready-") as tmp:
            for tenant in store.tenants():
                skus = [p.sku for p in store.catalogue(tenant).products][:5]
                customers = [c.id for c in store.customers(tenant)][:5]
                if not skus or not customers:
                    continue
                tag = uuid.uuid4().hex[:8]
                folder = Path(tmp) / tenant
                folder.mkdir()
                rows = ["order_id,line,customer_id,sku,at,qty,unit_price,unit"]
                for i in range(lines):
                    rows.append(f"SO-BR-{tag},{i + 1},{customers[i % len(customers)]},{skus[i % len(skus)]},"
                                f"2025-02-10,{10 + i},{20 + i % 7}.50,")  # fmt: skip
                (folder / "orders.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
                entry = {"id": f"E-BR-{tag}", "kind": "异议话术", "title": f"基准第{round_no}轮：顾客问包装{tag}",
                         "body": "先认同顾客的关注，再说明药品本身的价值。", "status": "草稿", "version": 1,
                         "author": "基准", "updated_at": "2025-02-10 09:00", "skus": skus[:1]}  # fmt: skip
                (folder / "entries.json").write_text(json.dumps([entry], ensure_ascii=False), encoding="utf-8")
                ingest_paths(store, tenant, [folder / "orders.csv", folder / "entries.json"])
                written[tenant] = lines + 1
    finally:
        store.close()
    return written


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    if not runs:
        return {}
    walls, cpus = [r["wall_s"] for r in runs], [r["cpu_s"] for r in runs]
    stages: dict[str, list[float]] = {}
    for r in runs:
        for name, value in r["startup"].items():
            if isinstance(value, int | float):
                stages.setdefault(name, []).append(float(value))
            elif name == "tenants":
                for tenant, figures in value.items():
                    for stage, v in figures.items():
                        if isinstance(v, int | float):
                            stages.setdefault(f"{tenant}.{stage}", []).append(float(v))
    return {
        "runs": len(runs), "wall_s": {"median": round(statistics.median(walls), 2), "max": max(walls)},
        "cpu_s": {"median": round(statistics.median(cpus), 2), "max": max(cpus)},
        "stages_median_s": {k: round(statistics.median(v), 3) for k, v in stages.items()},
    }  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The three phases (first start if needed, snapshot starts, catch-up starts)."""
    report: dict[str, Any] = {"data_dir": str(args.data_dir), "embedder": args.embedder, "label": args.label}
    if not _has_snapshots(args.data_dir):
        report["first_start"] = start_once(args, "first")
        print("first start (no snapshot):", report["first_start"]["wall_s"], "s", flush=True)
    snapshot, baseline = [], []
    for i in range(args.runs):
        if args.baseline_exe is not None:  # interleaved: both see the same load, run by run
            baseline.append(start_once(args, f"baseline-{i}", str(args.baseline_exe)))
            print(f"baseline start {i}: {baseline[-1]['wall_s']} s wall, {baseline[-1]['cpu_s']} s CPU", flush=True)
        snapshot.append(start_once(args, f"snapshot-{i}"))
        print(f"snapshot start {i}: {snapshot[-1]['wall_s']} s wall, {snapshot[-1]['cpu_s']} s CPU", flush=True)
    if baseline:
        report["baseline"] = {"exe": str(args.baseline_exe), "summary": _summary(baseline), "runs": baseline}
    catch_up = []
    for i in range(args.catch_up_runs):
        written = write_while_stopped(args.data_dir, args.lines, i)
        catch_up.append({**start_once(args, f"catch-up-{i}"), "written": written})
        print(f"catch-up start {i}: {catch_up[-1]['wall_s']} s wall, {catch_up[-1]['cpu_s']} s CPU", flush=True)
    report.update({
        "snapshot": {"summary": _summary(snapshot), "runs": snapshot},
        "catch_up": {"summary": _summary(catch_up), "runs": catch_up, "lines_per_tenant": args.lines},
        "machine": machine(),
    })  # fmt: skip
    return report


def _stage_rows(summary: dict[str, Any]) -> list[str]:
    stages = summary.get("stages_median_s", {})
    return [f"| {k} | {v} | {stages.get(f'{k}_cpu', '')} |" for k, v in stages.items() if not k.endswith("_cpu")]


def _ratios(new: dict[str, Any], old: dict[str, Any]) -> str:
    """This checkout against the baseline, medians of the interleaved runs: imports and ready, wall and CPU."""
    a, b = new["stages_median_s"], old["stages_median_s"]
    parts = [f"{name} {b[name]} → {a[name]} s (×{a[name] / b[name]:.2f})"
             for name in ("imports", "imports_cpu", "ready", "ready_cpu") if b.get(name) and name in a]  # fmt: skip
    return "Against the baseline (medians, baseline → this): " + "; ".join(parts) + "."


def markdown(r: dict[str, Any]) -> str:
    """The report as a short Markdown page."""
    lines = [f"# Start-up to `/v1/ready` from snapshots ({r['label']})", "",
             f"Data folder `{r['data_dir']}`, embedder `{r['embedder']}`. Wall: `Popen` → first 200 of `/v1/ready`; "
             "CPU: the service process's user + system seconds by then. Machine: "
             f"{r['machine']} (load average at the end).", ""]  # fmt: skip
    if "first_start" in r:
        f = r["first_start"]
        lines += [f"First start (no snapshot; builds the indexes): {f['wall_s']} s wall, {f['cpu_s']} s CPU, "
                  f"load {f['load_avg']}.", ""]  # fmt: skip
    phases = [("snapshot", "From the snapshots, nothing written since"),
              ("catch_up", "After writes made while stopped (read from the change log)")]  # fmt: skip
    if "baseline" in r:
        phases.insert(1, ("baseline", f"Baseline: `{r['baseline']['exe']}` from the same snapshots, run by run "
                                      "before each start above"))  # fmt: skip
        lines += [_ratios(r["snapshot"]["summary"], r["baseline"]["summary"]), ""]
    for phase, title in phases:
        s = r[phase]["summary"]
        if not s:
            continue
        lines += [f"## {title}", "", f"{s['runs']} runs: wall median **{s['wall_s']['median']} s**, max "
                  f"{s['wall_s']['max']} s; CPU median {s['cpu_s']['median']} s, max {s['cpu_s']['max']} s; load "
                  f"per run {[x['load_avg'][0] for x in r[phase]['runs']]}.", "", "| stage (median) | wall s | CPU s |",
                  "|---|---|---|", *_stage_rows(s), ""]  # fmt: skip
    lines += [
        "Stages: imports = the service's first import → the app's start (modules, uvicorn); store, keys, "
        "embedder = opening each; model = the first embedding (weights load); detectors = the adverse-reaction "
        "reader's typo pass; per tenant prices / competitors "
        "/ retrieval (with `*_from`: snapshot plus the log since it, or built from the store); catch_up = the "
        "change log read once after the indexes; ready = the service's first import → ready as it saw it. CPU: the "
        "thread's CPU seconds in the stage (imports and ready: the process's CPU seconds by then)."
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: measure, write the report, print it."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="A loaded store (salescopilot demo).")
    parser.add_argument("--runs", type=int, default=5, help="Starts from the snapshots.")
    parser.add_argument("--catch-up-runs", type=int, default=3, help="Starts after writes made while stopped.")
    parser.add_argument("--lines", type=int, default=20, help="Order lines written per tenant before a catch-up run.")
    parser.add_argument("--embedder", default="use", help="SKG_EMBEDDER of the service (the default: use).")
    parser.add_argument("--timeout-s", type=float, default=900)
    parser.add_argument("--label", default="demo")
    parser.add_argument("--baseline-exe", type=Path, help="Another checkout's salescopilot, started before each run.")
    parser.add_argument("--out", type=Path, default=REPORT_DIR)
    args = parser.parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    report = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.label == "demo" else f"_{args.label}"
    (args.out / f"bench_ready{suffix}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2),
                                                        encoding="utf-8")  # fmt: skip
    (args.out / f"bench_ready{suffix}.md").write_text(markdown(report) + "\n", encoding="utf-8")
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
