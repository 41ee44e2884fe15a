"""The long fault suite: kill -9 during ingests (CLI and API), hostile files, and a curation storm.

    python -m eval.fault_suite [--customers 50000] [--kill-points 24] [--out eval/reports/faults]

The smallest run that still covers every part: ``--customers 2000 --kill-points 4`` (6 kill points over the CLI
and the API, the hostile files, a 15 s storm).

1. **Kill points.** A multi-type folder (reps, customers with their reps, products, order lines) is ingested by the
   CLI and uploaded to a running server; the process is killed (SIGKILL) at evenly spread moments of a complete run.
   After each kill the store is opened as the service opens it and must hold either nothing of the ingest or all of
   it. Reported: kill points tried, partial loads found.
2. **Hostile files.** Each file of ``eval.hostile_files`` is sent through the CLI and through the API; a 5xx, a
   crash, or a server that then fails a valid one-line upload or its health check counts as a failure.
3. **Storm.** ``eval.bench_storm``: price-check p99 alone and during 50 trainers' edits.

Nothing here is a timed test; the figures go to ``faults.md`` / ``faults.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from api.keys import KeyStore
from eval.bench_api import _free_port, machine, serve
from graph.embedded import EmbeddedGraphStore

TENANT = "fault"
EXE = str(Path(sys.executable).parent / "salescopilot")


def write_folder(folder: Path, customers: int) -> dict[str, int]:
    """A folder that fills five graph types; returns the counts a complete ingest stores."""
    folder.mkdir(parents=True)
    reps, products, lines = 50, 100, customers * 2
    with (folder / "reps.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["代表编码", "姓名"])
        w.writerows([f"R{i}", f"代表{i}"] for i in range(reps))
    with (folder / "customers.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["客户编码", "客户名称", "客户类型", "城市", "负责代表"])
        w.writerows([f"C{i:07d}", f"康宁药房{i}号店", "连锁", f"城{i % 40}", f"R{i % reps}"] for i in range(customers))
    with (folder / "products.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["商品编码", "品名"])
        w.writerows([f"P{i}", f"药品{i}"] for i in range(products))
    with (folder / "orders.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["订单号", "行号", "客户编码", "商品编码", "订单日期", "数量", "单价"])
        w.writerows(
            [f"SO{i}", 1, f"C{i % customers:07d}", f"P{i % products}", "2026-01-05", 10, 12.5] for i in range(lines)
        )
    return {"Customer": customers, "OWNS": customers, "PURCHASED": lines, "Product": products, "Rep": reps}


def state_of(data_dir: Path, full: dict[str, int]) -> str:
    """``before``, ``after`` or ``PARTIAL …`` for the store in ``data_dir``."""
    with EmbeddedGraphStore(data_dir / "graph", buffer_pool_mb=512) as store:
        counts = {k: v for k, v in store.counts(TENANT).get(TENANT, {}).items() if k != "Change"}
    if not counts:
        return "before"
    if counts == full:
        return "after"
    return f"PARTIAL {counts}"


def cli_kills(folder: Path, full: dict[str, int], points: int, work: Path) -> list[dict[str, Any]]:
    """Kill ``salescopilot ingest`` at evenly spread moments of a complete run."""
    t0 = time.monotonic()
    subprocess.run([EXE, "--data-dir", str(work / "complete"), "ingest", str(folder), "--tenant", TENANT],
                   capture_output=True, check=True)  # fmt: skip
    duration = time.monotonic() - t0
    out = []
    for k in range(points):
        at = duration * (k + 0.5) / points
        data = work / f"cli-{k}"
        process = subprocess.Popen(
            [EXE, "--data-dir", str(data), "ingest", str(folder), "--tenant", TENANT],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(at)
        process.send_signal(signal.SIGKILL)
        process.wait()
        out.append({"via": "cli", "kill_at_s": round(at, 2), "state": state_of(data, full)})
        shutil.rmtree(data, ignore_errors=True)
    return out


def api_kills(folder: Path, full: dict[str, int], points: int, work: Path) -> list[dict[str, Any]]:
    """Kill the server at spread moments of an upload of a file that fills several graph types.

    The API takes one file per upload; a customers file with a rep column fills customers and the OWNS links to
    their reps, which a crash must never separate.
    """
    out = []
    source = folder / "customers.csv"
    reps = folder / "reps.csv"
    full_api = {"Customer": full["Customer"], "OWNS": full["OWNS"], "Rep": full["Rep"]}
    durations: list[float] = []
    for k in range(points + 1):
        data = work / f"api-{k}"
        subprocess.run([EXE, "--data-dir", str(data), "ingest", str(reps), "--tenant", TENANT],
                       capture_output=True, check=True)  # fmt: skip
        with EmbeddedGraphStore(data / "graph", buffer_pool_mb=512) as store:
            admin = KeyStore(store).create(TENANT, "admin", "fault suite")[1]
        port = _free_port()
        cmd = [EXE, "--data-dir", str(data), "serve", "--port", str(port), "--log-level", "warning"]
        with serve(cmd, port) as server:
            files = {"file": (source.name, source.read_bytes(), "text/csv")}
            if k == 0:  # the complete run that times the others
                t0 = time.monotonic()
                reply = httpx.post(f"{server.url}/v1/ingest", headers={"X-API-Key": admin}, files=files, timeout=600)
                durations.append(time.monotonic() - t0)
                assert reply.status_code == 200, reply.text
                continue
            at = durations[0] * (k - 0.5) / points

            def upload(url: str = server.url, body: dict[str, Any] = files, key: str = admin) -> None:
                try:
                    httpx.post(f"{url}/v1/ingest", headers={"X-API-Key": key}, files=body, timeout=600)
                except httpx.HTTPError:
                    pass

            thread = threading.Thread(target=upload, daemon=True)
            thread.start()
            time.sleep(at)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            thread.join(timeout=10)
        with EmbeddedGraphStore(data / "graph", buffer_pool_mb=512) as store:
            counts = {k2: v for k2, v in store.counts(TENANT).get(TENANT, {}).items() if k2 != "Change"}
        state = "before" if counts == {"Rep": full["Rep"]} else "after" if counts == full_api else f"PARTIAL {counts}"
        out.append({"via": "api", "kill_at_s": round(at, 2), "state": state})
        shutil.rmtree(data, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the kill points (CLI and API), the hostile files and the storm; write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--kill-points", type=int, default=24)
    parser.add_argument("--skip-storm", action="store_true")
    parser.add_argument("--trainers", type=int, default=50, help="Trainers editing during the storm.")
    parser.add_argument("--storm-rate", type=float, default=50.0, help="Price checks per second (open loop).")
    parser.add_argument("--storm-seconds", type=float, default=15.0, help="Seconds of each storm phase.")
    parser.add_argument("--storm-cache", type=Path, help="Prepared demo for the storm (see eval.bench_storm --cache).")
    parser.add_argument("--out", type=Path, default=Path("eval/reports/faults"))
    args = parser.parse_args(argv)
    from eval import bench_storm, hostile_files

    report: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        full = write_folder(work / "upload", args.customers)
        kills = cli_kills(work / "upload", full, args.kill_points, work)
        kills += api_kills(work / "upload", full, max(args.kill_points // 2, 4), work)
        report["kills"] = kills
        report["kill_points"] = len(kills)
        report["partial_loads"] = sum(k["state"].startswith("PARTIAL") for k in kills)
        report["hostile"] = hostile_files.run(work / "hostile")
    if not args.skip_storm:
        storm = argparse.Namespace(rate=args.storm_rate, seconds=args.storm_seconds, trainers=args.trainers,
                                   variant=[], rounds=1, cache=args.storm_cache, profile=None)  # fmt: skip
        report["storm"] = bench_storm.run(storm)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "faults.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    hostile = report["hostile"]
    lines = [
        "# Fault suite",
        "",
        f"Machine: {report['machine']}.",
        "",
        "| check | tried | failures |",
        "|---|---:|---:|",
        f"| kill -9 during an ingest (CLI and API): partial loads | {report['kill_points']} | "
        f"{report['partial_loads']} |",
        f"| hostile files (CLI and API): 5xx, crash or degraded server | {hostile['tried']} | {hostile['failures']} |",
    ]
    if "storm" in report:
        s = report["storm"]
        lines += [
            "",
            f"Price check p99 alone {s['price_check_alone']['p99']} ms, during a storm of {s['trainers']} trainers' "
            f"edits {s['price_check_during_storm']['p99']} ms ({s['rate']:g} checks/s open loop; "
            f"{s['edits_acknowledged']} edits acknowledged, {s['acknowledged_edits_missing_from_history']} missing "
            f"from the history; machine load {s['load_avg_1min']}).",
        ]
    lines += ["", "| file | via | outcome |", "|---|---|---|"]
    lines += [f"| {h['file']} | {h['via']} | {h['outcome']} |" for h in hostile["results"]]
    (args.out / "faults.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return report


if __name__ == "__main__":
    main()
