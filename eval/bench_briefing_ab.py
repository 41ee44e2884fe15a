r"""Briefing JSON A/B: another version of ``copilot/briefing.py`` against this one, alternating, on the same store.

Loads the other version's module from a file (e.g. main's, before a change), builds the price index once (or reads
a pickled one), then builds the pack of each sampled customer with both versions in alternating order and checks
that both give the same JSON. Wall and client CPU milliseconds per pack; the machine's load.

Usage::

    python -m eval.bench_briefing_ab --before /work/main/copilot/briefing.py --embedded DATA_DIR/graph \\
        [--neo4j-uri bolt://127.0.0.1:7688 --neo4j-password …] [--index-pickle FILE] --packs 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import pickle
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from copilot import briefing as after
from eval.stats import percentiles
from graph.base import CypherGraphStore
from pricing_guard.index import PriceIndex


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("briefing_before", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["briefing_before"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def ab(store: CypherGraphStore, before: ModuleType, index: PriceIndex, tenant: str, as_of: dt.date, packs: int
       ) -> dict[str, Any]:  # fmt: skip
    """Both versions' packs for ``packs`` sampled customers, alternating which goes first."""
    ids = sorted(c.id for c in store.customers(tenant))
    rng = np.random.default_rng(7)
    picks = [ids[int(rng.integers(0, len(ids)))] for _ in range(packs)]
    versions = {"before": before, "after": after}
    for m in versions.values():  # warm-up (catalogue caches, the server's pages), not counted
        m.build_briefing(store, tenant, picks[0], today=as_of, price_index=index).model_dump_json()
    wall: dict[str, list[float]] = {k: [] for k in versions}
    cpu: dict[str, list[float]] = {k: [] for k in versions}
    differ = []
    for i, cid in enumerate(picks):
        out = {}
        for name in ("before", "after") if i % 2 else ("after", "before"):
            t0, c0 = time.perf_counter(), time.thread_time()
            out[name] = versions[name].build_briefing(store, tenant, cid, today=as_of, price_index=index)
            out[name] = out[name].model_dump_json()
            wall[name].append((time.perf_counter() - t0) * 1000)
            cpu[name].append((time.thread_time() - c0) * 1000)
        if out["before"] != out["after"]:
            differ.append(cid)
    return {
        "backend": store.backend,
        "packs": packs,
        "same_json": not differ,
        "differing": differ,
        **{f"{k}_wall_ms": percentiles(v, (50, 95), 1) for k, v in wall.items()},
        **{f"{k}_client_cpu_ms": percentiles(v, (50, 95), 1) for k, v in cpu.items()},
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    """Run and print a Markdown table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", type=Path, required=True, help="The other version's copilot/briefing.py.")
    p.add_argument("--embedded", type=Path, help="The embedded store (graph folder).")
    p.add_argument("--neo4j-uri")
    p.add_argument("--neo4j-user", default="neo4j")
    p.add_argument("--neo4j-password", default="")
    p.add_argument("--index-pickle", type=Path, help="Read the price index from here (written there when absent).")
    p.add_argument("--tenant", default="hz-pharma")
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 2, 15))
    p.add_argument("--packs", type=int, default=30)
    args = p.parse_args(argv)
    before = _module(args.before)
    stores: list[CypherGraphStore] = []
    if args.neo4j_uri:
        from graph.neo4j_store import Neo4jGraphStore

        stores.append(Neo4jGraphStore(args.neo4j_uri, args.neo4j_user, args.neo4j_password))
    if args.embedded:
        from graph.embedded import EmbeddedGraphStore

        stores.append(EmbeddedGraphStore(args.embedded, read_only=True))
    if not stores:
        raise SystemExit("give --embedded and/or --neo4j-uri")
    if args.index_pickle and args.index_pickle.exists():
        index = pickle.loads(args.index_pickle.read_bytes())  # noqa: S301 - written by this tool
    else:
        index = PriceIndex.from_store(stores[-1], args.tenant, as_of=args.as_of)
        if args.index_pickle:
            args.index_pickle.write_bytes(pickle.dumps(index))
    print("| backend | version | briefing JSON wall p50 / p95 ms | client CPU p50 / p95 ms | same JSON | load avg |")
    print("|---|---|---|---|---|---|")
    for store in stores:
        r = ab(store, before, index, args.tenant, args.as_of, args.packs)
        for k in ("before", "after"):
            w, c = r[f"{k}_wall_ms"], r[f"{k}_client_cpu_ms"]
            same = "yes" if r["same_json"] else f"NO: {r['differing']}"
            print(f"| {r['backend']} | {k} | {w['p50']} / {w['p95']} | {c['p50']} / {c['p95']} | {same} "
                  f"| {r['load_avg']} |")  # fmt: skip
        store.close()


if __name__ == "__main__":
    main()
