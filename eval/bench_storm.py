"""Latency isolation: price checks at a fixed rate while 50 trainers edit entries as fast as they can.

The quote screen calls the price check on every keystroke; curation writes (versioned save, audit, re-index) run in
the same service. This benchmark serves demo data, measures the price check open loop alone, then again during a
storm of concurrent edits (GET the entry, PATCH it with its version, retry on 409), and reports both, with the
edits acknowledged and whether every acknowledged edit is in the history.

    python -m eval.bench_storm [--rate 100] [--seconds 20] [--trainers 50] [--out eval/reports/storm]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil

from api.app import open_state
from api.keys import KeyStore
from api.settings import Settings
from eval.bench_api import Demo, _free_port, bare_requests, machine, open_loop, prepare, serve
from eval.http_load import HttpError, Pool
from eval.stats import percentiles
from graph.embedded import EmbeddedGraphStore

TENANT = "hz-pharma"
ENTRIES = ("KB-HZ-OS-0020", "KB-HZ-OS-0021", "KB-HZ-OS-0022", "KB-HZ-OS-0023", "KB-HZ-OS-0024")


async def storm(url: str, keys: list[str], seconds: float) -> dict[str, Any]:
    """Each trainer edits the entries in turn until ``seconds`` have passed; returns counts and edit latencies."""
    host, port = url.removeprefix("http://").split(":")
    acked: list[tuple[str, int]] = []
    examples: list[str] = []  # the first unexpected answers, so that a failed storm says why
    conflicts = errors = 0
    latency: list[float] = []
    end = time.perf_counter() + seconds

    async def trainer(n: int, key: str) -> None:
        nonlocal conflicts, errors
        pool = Pool(host, int(port), 1, {"X-API-Key": key})
        i = n
        try:
            while time.perf_counter() < end:
                entry = ENTRIES[i % len(ENTRIES)]
                i += 1
                try:
                    status, data = await pool.request("GET", f"/v1/entries/{entry}", None)
                    if status != 200:
                        errors += 1
                        examples.append(f"GET {status} {data[:200]!r}")
                        continue
                    current = json.loads(data)
                    body = {"version": current["version"], "body": current["body"][:300] + f"（修订 {n}-{i}）"}
                    t0 = time.perf_counter()
                    status, data = await pool.request("PATCH", f"/v1/entries/{entry}", body)
                    latency.append((time.perf_counter() - t0) * 1000)
                except HttpError as e:
                    errors += 1
                    examples.append(f"{type(e).__name__}: {e}")
                    continue
                if status == 200:
                    acked.append((entry, json.loads(data)["version"]))
                elif status == 409:
                    conflicts += 1
                else:
                    errors += 1
                    examples.append(f"PATCH {status} {data[:200]!r}")
        finally:
            await pool.close()

    await asyncio.gather(*(trainer(n, k) for n, k in enumerate(keys)))
    edit_ms = percentiles(latency, (50, 99), 1) if latency else {}
    return {
        "acked": acked,
        "conflicts": conflicts,
        "errors": errors,
        "edit_ms": edit_ms,
        "error_examples": examples[:5],
    }


async def during(url: str, key: str, make: Any, rate: float, seconds: float, keys: list[str]) -> dict[str, Any]:
    """The price-check open loop and the storm at the same time."""
    checks, edits = await asyncio.gather(open_loop(url, key, make, 20, rate, seconds), storm(url, keys, seconds))
    return {"price_checks": checks, "storm": edits}


def wait_ready(url: str, timeout_s: float = 600) -> float:
    """Wait until ``/v1/ready`` says ready (indexes built, feed caught up); returns the seconds waited.

    ``/v1/health`` answers while start-up still builds the retrieval index on a thread; measuring then timed the
    build (an edit waited 91 s for it at load 7), not the service.
    """
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/v1/ready", timeout=5).status_code == 200:
                return round(time.monotonic() - t0, 1)
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout_s:g} s")


@contextlib.contextmanager
def profiled(pid: int, out: Path | None, seconds: float, gil: bool = False) -> Iterator[None]:
    """Sample the server's threads with py-spy (when ``out`` is given) while the body runs.

    Writes ``out`` as collapsed stacks (one ``thread;frame;…;frame count`` line per stack); ``--nonblocking`` reads
    the process without pausing it, so the profile does not add to the latencies it explains. ``gil``: sample only
    the thread holding the GIL (who keeps the event loop from running), else every thread, idle ones included.
    """
    if out is None:
        yield
        return
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise RuntimeError(f"--profile needs py-spy ({spy}): pip install py-spy")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--output", str(out), "--rate", "200",
           "--threads", "--nonblocking", "--gil" if gil else "--idle", "--duration", str(int(seconds) + 1)]  # fmt: skip
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    try:
        yield
    finally:
        process.wait(timeout=seconds + 60)


def _phase(proc: psutil.Process, work: Any) -> tuple[Any, dict[str, Any]]:
    """Run ``work()`` and return its result with the server's CPU seconds and the machine load around it."""
    cpu0, load0 = _cpu_s(proc), os.getloadavg()[0]
    result = work()
    return result, {"server_cpu_s": round(_cpu_s(proc) - cpu0, 2), "load_1min": [round(load0, 1),
                    round(os.getloadavg()[0], 1)]}  # fmt: skip


def _checks(phase: dict[str, Any]) -> dict[str, Any]:
    return {k: phase["price_check"].get(k) for k in ("count", "errors", "p50", "p95", "p99")} | {
        k: phase.get(k) for k in ("offered_rps", "drain_s")
    }


def measure(
    server_url: str,
    key: str,
    make: Any,
    args: argparse.Namespace,
    trainers: list[str],
    proc: psutil.Process,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Price checks alone, then during the storm, against one running server; and whether the storm lost edits.

    The server's CPU time over the phase alone, divided by the checks answered, is its CPU cost per price check.
    """
    asyncio.run(open_loop(server_url, key, make, 20, args.rate, 3))  # warm-up
    alone, alone_cost = _phase(proc, lambda: asyncio.run(open_loop(server_url, key, make, 20, args.rate, args.seconds)))
    with profiled(proc.pid, profile, args.seconds, getattr(args, "profile_gil", False)):
        both, both_cost = _phase(
            proc, lambda: asyncio.run(during(server_url, key, make, args.rate, args.seconds, trainers))
        )
    histories = {}
    for entry in ENTRIES:
        reply = httpx.get(f"{server_url}/v1/entries/{entry}/history", headers={"X-API-Key": trainers[0]}, timeout=60)
        histories[entry] = {v["version"] for v in reply.json()["versions"]}
    lost = [a for a in both["storm"]["acked"] if a[1] not in histories[a[0]]]
    answered = alone["price_check"].get("count") or 0
    return {
        "price_check_alone": _checks(alone) | alone_cost,
        "server_cpu_ms_per_price_check": round(alone_cost["server_cpu_s"] * 1000 / answered, 2) if answered else None,
        "price_check_during_storm": _checks(both["price_checks"]) | both_cost,
        "edits_acknowledged": len(both["storm"]["acked"]),
        "edit_conflicts": both["storm"]["conflicts"],
        "edit_errors": both["storm"]["errors"],
        "edit_latency_ms": both["storm"]["edit_ms"],
        "edit_error_examples": both["storm"]["error_examples"],
        "acknowledged_edits_missing_from_history": len(lost),
    }


def _cpu_s(proc: psutil.Process) -> float:
    """User and system CPU seconds of the service (``env`` execs it: the same process)."""
    t = proc.cpu_times()
    return float(t.user + t.system)


def variants(specs: list[str]) -> dict[str, dict[str, str]]:
    """``NAME:VAR=VALUE,VAR=VALUE`` → the service environment of each variant (``as_configured`` without any)."""
    out: dict[str, dict[str, str]] = {}
    for spec in specs or ["as_configured:"]:
        name, _, assignments = spec.partition(":")
        out[name] = dict(a.split("=", 1) for a in assignments.split(",") if a)
    return out


def build_indexes(data_dir: Path) -> None:
    """Build the benchmark tenant's retrieval index here, saved with its embeddings in the data folder.

    The server's start-up then loads it instead of embedding every entry (4–5 minutes per tenant at load 9-13); the
    server is started for that tenant only (``SKG_TENANTS``), the demo's other tenants are not used.
    """
    state = open_state(Settings(data_dir=data_dir, feed_poll_s=0, tenants=[TENANT]))
    try:
        _ = state.tenant(TENANT).retrieval
    finally:
        state.close()


def prepared(data_dir: Path, cache: Path | None) -> Demo:
    """Today's demo with its indexes in ``data_dir``: copied from ``cache`` when it holds today's, else made there.

    The cache keeps a run's preparation (demo load and index build, most of a run's time) for the next run; each run
    still starts from the same untouched copy.
    """
    today = dt.date.today()
    meta = cache / f"demo-{today.isoformat()}.json" if cache is not None else None
    if cache is not None and meta is not None and meta.exists():
        shutil.copytree(cache / "data", data_dir)
        return Demo(**json.loads(meta.read_text(encoding="utf-8")))
    demo = prepare(data_dir, 1, today)
    build_indexes(data_dir)
    if cache is not None and meta is not None:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(data_dir, cache / "data")
        meta.write_text(json.dumps(dataclasses.asdict(demo), ensure_ascii=False), encoding="utf-8")
    return demo


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Serve the demo, measure price checks alone and during the storm, and check the storm lost nothing.

    With several ``--variant``s (service settings, e.g. the GIL switch interval or the write slots) each is served
    in turn on the same data, ``--rounds`` times in the order A B B A …, so that drift of the shared machine's load
    and the entries' growing histories fall on every variant alike; each run's server CPU seconds are reported.
    """
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        demo = prepared(data_dir, getattr(args, "cache", None))
        customers, skus, key = demo.territory, demo.skus, demo.rep_key  # a rep's quote screen: its own customers
        with EmbeddedGraphStore(data_dir / "graph", buffer_pool_mb=512) as graph:
            keys = KeyStore(graph)
            trainers = [keys.create(TENANT, "trainer", f"培训师{i}")[1] for i in range(args.trainers)]
        cli = str(Path(sys.executable).parent / "salescopilot")
        make = bare_requests(customers, skus, 3)
        envs = variants(args.variant)
        names = list(envs)
        order = [n for r in range(args.rounds) for n in (names if r % 2 == 0 else names[::-1])]
        runs: list[dict[str, Any]] = []
        for i, name in enumerate(order):
            port = _free_port()
            profile = args.profile / f"{i}-{name}.txt" if getattr(args, "profile", None) else None
            # the variant's settings reach the service through `env` (this process reads no environment)
            env = {"SKG_TENANTS": json.dumps([TENANT])} | envs[name]
            cmd = ["env", *(f"{k}={v}" for k, v in env.items()), cli, "--data-dir", str(data_dir), "serve",
                   "--port", str(port), "--log-level", "warning"]  # fmt: skip
            with serve(cmd, port) as server:
                proc = psutil.Process(server.process.pid)
                ready_s = wait_ready(server.url)
                load0 = os.getloadavg()[0]
                result = measure(server.url, key, make, args, trainers, proc, profile)
                result["ready_after_s"] = ready_s
                result["load_avg_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
            runs.append({"variant": name, "env": envs[name], **result})
            print(json.dumps(runs[-1], ensure_ascii=False), file=sys.stderr)
        return {
            "machine": machine(),
            "rate": args.rate,
            "seconds": args.seconds,
            "trainers": args.trainers,
            "runs": runs,
            **{k: v for k, v in runs[0].items() if k not in ("variant", "env")},
        }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run and write ``storm.json`` and ``storm.md`` under ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--trainers", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("eval/reports/storm"))
    parser.add_argument(
        "--variant", action="append", default=[],
        help="NAME:SKG_VAR=VALUE,… service settings to compare (repeatable), e.g. gil5ms:SKG_SWITCH_INTERVAL_MS=5",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1, help="Rounds over the variants (A B, then B A, …).")
    parser.add_argument("--profile-gil", action="store_true", help="Profile only the thread holding the GIL.")
    parser.add_argument("--cache", type=Path, help="Keep the prepared demo and indexes here for the next run.")
    parser.add_argument("--profile", type=Path, help="Folder for py-spy's collapsed stacks of each run's storm phase.")
    args = parser.parse_args(argv)
    report = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "storm.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md = [
        "# Price checks during a curation storm",
        "",
        f"{report['trainers']} trainers editing {len(ENTRIES)} entries back to back while price checks arrive at "
        f"{report['rate']:g}/s (open loop, {report['seconds']:g} s each phase, no-storm phase first on the same "
        f"server). Shared 2-core machine: the load (1 min average) is given per run; latency is wall time seen by "
        "the client, server CPU is the service process's own.",
        "",
        "| variant | load | alone p50 / p95 / p99 ms | storm p50 / p95 / p99 ms | server CPU ms per check (alone) "
        "| edits acked / 409 | edit p50 ms | server CPU s (alone / storm) | lost edits |",
        "|---|---|---|---|---:|---|---:|---|---:|",
    ]
    for r in report["runs"]:
        a, b = r["price_check_alone"], r["price_check_during_storm"]
        md.append(
            f"| {r['variant']} {r['env'] or ''} | {r['load_avg_1min']} | {a['p50']} / {a['p95']} / {a['p99']} "
            f"| {b['p50']} / {b['p95']} / {b['p99']} | {r['server_cpu_ms_per_price_check']} "
            f"| {r['edits_acknowledged']} / {r['edit_conflicts']} | {r['edit_latency_ms'].get('p50')} "
            f"| {a['server_cpu_s']} / {b['server_cpu_s']} | {r['acknowledged_edits_missing_from_history']} |"
        )
    (args.out / "storm.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))
    return report


if __name__ == "__main__":
    main()
