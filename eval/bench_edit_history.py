"""Edit cost against history length: the median of a single uncontended edit at ~10 and at ~1,000 versions.

A trainer's save is a versioned write (the old text kept as a version, an audit record, a change-log record) plus
re-indexing the entry for retrieval. Seen in the hardening probe: an edit went from 66 ms to 92–114 ms median after
1,200 edits of three entries and stayed there after a restart. This benchmark serves the demo in process (the API
as a trainer calls it), edits one entry ``--samples`` times near version 10, pushes it to ``--versions``, edits it
again, then restarts the service on the same data and edits it once more; it reports wall and CPU medians and the
ratios (an edit's cost should not grow with the entry's version count: ratio ≈ 1).

    python -m eval.bench_edit_history [--versions 1000] [--samples 30] [--cache DIR] [--out eval/reports/edit_history]

The CPU time is the process's (the edit is the only work in flight); the machine is shared, so the CPU ratio is the
figure to read, the wall ratio the one a trainer feels.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app, open_state
from api.settings import Settings
from eval.bench_api import machine
from eval.bench_storm import TENANT, prepared

ENTRY = "KB-HZ-OS-0020"


def _edit(client: TestClient, key: str, n: int) -> tuple[float, float]:
    """One edit at the entry's current version; returns (wall ms, process CPU ms)."""
    headers = {"X-API-Key": key}
    current = client.get(f"/v1/entries/{ENTRY}", headers=headers).json()
    body = {"version": current["version"], "body": current["body"][:300] + f"（修订 {n}）"}
    w0, c0 = time.perf_counter(), time.process_time()
    reply = client.patch(f"/v1/entries/{ENTRY}", headers=headers, json=body)
    wall, cpu = (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000
    if reply.status_code != 200:
        raise RuntimeError(f"edit failed: {reply.status_code} {reply.text[:300]}")
    return wall, cpu


def _sample(client: TestClient, key: str, samples: int, start: int) -> dict[str, Any]:
    runs = [_edit(client, key, start + i) for i in range(samples)]
    version = client.get(f"/v1/entries/{ENTRY}", headers={"X-API-Key": key}).json()["version"]
    return {
        "version_after": version,
        "wall_ms_median": round(statistics.median(r[0] for r in runs), 1),
        "cpu_ms_median": round(statistics.median(r[1] for r in runs), 1),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Serve the demo in process and time edits at ~10 versions, at ``--versions``, and after a restart."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", buffer_pool_mb=1024, tenants=[TENANT])
        prepared(settings.data_dir, args.cache)
        out: dict[str, Any] = {"machine": machine(), "entry": ENTRY, "load_1min": [round(os.getloadavg()[0], 1)]}

        def serve() -> tuple[Any, TestClient, str]:
            state = open_state(settings)
            key = state.keys.create(TENANT, "trainer", "bench edit history")[1]
            return state, TestClient(create_app(settings, state=state)), key

        state, client, key = serve()
        with client:
            for n in range(10 - 1):  # the demo entry is at version 1
                _edit(client, key, n)
            out["near_10"] = _sample(client, key, args.samples, 100)
            done = out["near_10"]["version_after"]
            for n in range(max(args.versions - done, 0)):
                _edit(client, key, 10_000 + n)
            out["near_n"] = _sample(client, key, args.samples, 20_000)
        state.close()
        state, client, key = serve()
        with client:
            out["after_restart"] = _sample(client, key, args.samples, 30_000)
        state.close()
        out["load_1min"].append(round(os.getloadavg()[0], 1))
    for name in ("near_n", "after_restart"):
        for unit in ("wall", "cpu"):
            base = out["near_10"][f"{unit}_ms_median"]
            out[f"{name}_{unit}_ratio"] = round(out[name][f"{unit}_ms_median"] / base, 2) if base else None
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run and write ``edit_history.json`` / ``.md`` under ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("eval/reports/edit_history"))
    parser.add_argument("--cache", type=Path, help="Prepared demo, shared with eval.bench_storm --cache.")
    args = parser.parse_args(argv)
    report = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "edit_history.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [
        "# Edit cost against history length",
        "",
        f"One entry ({report['entry']}) edited through the API in process, {args.samples} edits per row; "
        f"machine load {report['load_1min']} (1 min, before / after).",
        "",
        "| when | version | wall median ms | CPU median ms | wall ratio | CPU ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, label in (("near_10", "~10 versions"), ("near_n", f"~{args.versions} versions"),
                        ("after_restart", "after a restart")):  # fmt: skip
        r = report[name]
        ratios = ("1", "1") if name == "near_10" else (report[f"{name}_wall_ratio"], report[f"{name}_cpu_ratio"])
        lines.append(f"| {label} | {r['version_after']} | {r['wall_ms_median']} | {r['cpu_ms_median']} "
                     f"| {ratios[0]} | {ratios[1]} |")  # fmt: skip
    (args.out / "edit_history.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return report


if __name__ == "__main__":
    main()
