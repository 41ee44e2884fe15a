"""Before/after figures of the [Structure] issue: case suggestions and entry writes, through the API in process.

Both are measured through the ``/v1`` routes (FastAPI ``TestClient``, no network), so the same script times the code
before the issue (whole-table reads per suggestion, a re-index after each write) and after it (targeted port reads,
write-through services):

- ``cases``: ``POST /v1/case-suggestions`` for the labelled deal drafts of ``eval/datasets/cases_zh.jsonl`` on the
  demo at ``--scale`` (1 ≈ 100k order lines, 20 ≈ 2M); p50 / p95 after a warm-up.
- ``writes``: the demo plus synthetic entries up to ``--entries`` in one tenant; ``PATCH /v1/entries/{id}`` (an
  edit, with the re-index it triggers), and ``POST /v1/ingest`` of a one-row entries file (a load and the index
  update it triggers).

Usage::

    python -m eval.bench_structure cases --data-dir /tmp/skg-s20 --scale 20
    python -m eval.bench_structure writes --data-dir /tmp/skg-10k --entries 10000

A data folder is filled on first use and reused by later runs (so the same store serves the before and after runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app, open_state
from api.settings import Settings
from graph.embedded import EmbeddedGraphStore
from graph.frames import models_to_table
from graph.model import AboutProduct, Entry, Product
from graph.ports import ChangeDraft

AS_OF = dt.date(2026, 11, 25)
TENANT = "hz-pharma"
DEALS = Path(__file__).parent / "datasets" / "cases_zh.jsonl"


def _load_demo(data_dir: Path, scale: int) -> None:
    try:
        from demo.load import load_demo
    except ImportError:  # the code before the issue
        from ingest.demo_load import load_demo  # type: ignore[import-not-found,no-redef,unused-ignore]
    store = EmbeddedGraphStore(data_dir / "graph", buffer_pool_mb=2048)
    try:
        if not store.counts(TENANT).get(TENANT):
            load_demo(store, scale=scale, as_of=AS_OF)
    finally:
        store.close()


def _pcts(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2),
    }


def _timed(call: Callable[[], Any], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
    return out


def _client(data_dir: Path) -> tuple[TestClient, dict[str, str], Any]:
    settings = Settings(data_dir=data_dir, buffer_pool_mb=2048, embedder="use")
    state = open_state(settings)
    admin = state.keys.create(TENANT, "admin", "bench admin")[1]
    rep = state.keys.create(TENANT, "rep", "bench rep")[1]
    client = TestClient(create_app(settings, state=state, preload=True), raise_server_exceptions=True)
    return client, {"admin": admin, "rep": rep}, state


def bench_cases(data_dir: Path, scale: int, rounds: int) -> dict[str, Any]:
    """p50 / p95 of ``POST /v1/case-suggestions`` over the labelled deals of the tenant."""
    _load_demo(data_dir, scale)
    deals = [json.loads(line) for line in DEALS.read_text(encoding="utf-8").splitlines() if line.strip()]
    deals = [d for d in deals if d["tenant"] == TENANT]
    client, keys, state = _client(data_dir)
    with client:
        headers = {"X-API-Key": keys["rep"]}
        bodies = [{"customer_id": d["customer_id"], "skus": d["skus"], "text": d["text"], "k": 3} for d in deals]
        for body in bodies[:5]:  # warm-up: indexes built, caches filled
            client.post("/v1/case-suggestions", json=body, headers=headers).raise_for_status()
        samples: list[float] = []
        for r in range(rounds):
            body = bodies[r % len(bodies)]
            t0 = time.perf_counter()
            client.post("/v1/case-suggestions", json=body, headers=headers).raise_for_status()
            samples.append(time.perf_counter() - t0)
    state.close()
    return {"scale": scale, "deals": len(deals), "case_suggestion": _pcts(samples)}


def _fill_entries(data_dir: Path, total: int) -> None:
    store = EmbeddedGraphStore(data_dir / "graph", buffer_pool_mb=2048)
    try:
        have = len(store.entries(TENANT))
        skus = [p.sku for p in store.list_nodes(TENANT, Product, limit=1000)]
        missing = total - have
        if missing <= 0:
            return
        subjects = ("价格", "医保", "疗效", "副作用", "竞品", "库存", "账期", "陈列", "会员", "培训")
        entries = [
            Entry(
                tenant=TENANT,
                id=f"BENCH-{i:06d}",
                kind="product_note",
                status="published",
                title=f"{subjects[i % 10]}问题第{i}条：顾客关心{subjects[(i * 7) % 10]}",
                body=f"第{i}条说明。店员可以先确认顾客的{subjects[(i * 3) % 10]}顾虑，"
                f"再介绍{subjects[i % 10]}方面的要点。编号{i}的补充：按说明书用药，注意随访。",
            )  # fmt: skip
            for i in range(missing)
        ]
        about = [AboutProduct(tenant=TENANT, entry_id=e.id, sku=skus[i % len(skus)]) for i, e in enumerate(entries)]
        store.load_batch(
            TENANT,
            [(Entry, models_to_table(Entry, entries)), (AboutProduct, models_to_table(AboutProduct, about))],
            change=ChangeDraft("bench_entries", actor="bench"),
        )
    finally:
        store.close()


def bench_writes(data_dir: Path, total: int, rounds: int) -> dict[str, Any]:
    """p50 / p95 of an entry edit and of a one-row entries upload at ``total`` entries in the tenant."""
    _load_demo(data_dir, 1)
    _fill_entries(data_dir, total)
    client, keys, state = _client(data_dir)
    out: dict[str, Any] = {"entries": total}
    with client:
        headers = {"X-API-Key": keys["admin"]}
        entry_id = "BENCH-000001"
        version = client.get(f"/v1/entries/{entry_id}", headers=headers).json()["version"]
        n = [0]

        def edit() -> None:
            nonlocal version
            n[0] += 1
            body = {"version": version, "body": f"修改第{n[0]}次：先确认顾客顾虑，再介绍要点。"}
            reply = client.patch(f"/v1/entries/{entry_id}", json=body, headers=headers)
            reply.raise_for_status()
            version = reply.json()["version"]

        edit()
        out["entry_edit"] = _pcts(_timed(edit, rounds))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "entries.csv"

            def upload() -> None:
                n[0] += 1
                path.write_text(
                    f"id,kind,title,body,status\nBENCH-UP-{n[0]:04d},faq,上传条目{n[0]},上传的说明{n[0]}。,published\n",
                    encoding="utf-8",
                )
                with path.open("rb") as f:
                    reply = client.post("/v1/ingest", files={"file": ("entries.csv", f, "text/csv")}, headers=headers)
                reply.raise_for_status()

            upload()
            out["entry_upload"] = _pcts(_timed(upload, max(3, rounds // 5)))
    state.close()
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run one benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("cases", "writes"))
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if args.what == "cases":
        result = bench_cases(args.data_dir, args.scale, args.rounds)
    else:
        result = bench_writes(args.data_dir, args.entries, args.rounds)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result


if __name__ == "__main__":
    main()
