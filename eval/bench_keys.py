"""The API key check's cost per request, before and after the keys moved into the graph store (CPU time, in-process).

``python -m eval.bench_keys`` times ``KeyStore.verify`` — what every request (every price check) pays for its key —
for the old SQLite key store (``api/keys.py`` at ``--baseline-rev``, loaded from git) and the graph-store one, in
one process, in alternating rounds (A B B A …) so that the shared machine's load falls on both alike:

- ``hit``: a key verified again (the cache: what a quote screen's keystrokes pay);
- ``miss``: a key read from its store (first use, or the cache entry expired), old SQLite vs the embedded store;
- ``refresh``: the background re-read of ``--cached`` keys in use (every ``REFRESH_S`` in each worker; new only).

CPU time is ``time.thread_time`` of the timing thread; the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from api.keys import KeyStore
from graph.embedded import EmbeddedGraphStore

ROOT = Path(__file__).resolve().parents[1]


def _baseline(rev: str) -> ModuleType:
    """``api/keys.py`` as it was at ``rev`` (the SQLite key store), as a module of its own."""
    source = subprocess.run(["git", "show", f"{rev}:api/keys.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    path = Path(tempfile.mkdtemp(prefix="bench-keys-")) / "old_keys.py"
    path.write_text(source.stdout, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_keys", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_keys"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _per_call_us(work: Callable[[], object], n: int) -> float:
    t0 = time.thread_time()
    for _ in range(n):
        work()
    return (time.thread_time() - t0) / n * 1e6


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the rounds and print the per-call CPU microseconds (median of the rounds) of each variant."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-rev", default="2e682ec", help="git revision of the SQLite key store")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--hits", type=int, default=20_000, help="verifications of a cached key per round")
    parser.add_argument("--misses", type=int, default=300, help="verifications read from the store per round")
    parser.add_argument("--cached", type=int, default=1_000, help="keys in the cache for the refresh timing")
    args = parser.parse_args(argv)
    old = _baseline(args.baseline_rev)
    with tempfile.TemporaryDirectory() as tmp:
        old_keys = old.KeyStore(Path(tmp) / "keys.sqlite")
        store = EmbeddedGraphStore(Path(tmp) / "graph", buffer_pool_mb=256)
        new_keys = KeyStore(store)
        old_text = old_keys.create("hz-pharma", "service", "报价屏")[1]
        new_text = new_keys.create("hz-pharma", "service", "报价屏")[1]
        for _ in range(50):  # fill other keys, as a deployment has
            old_keys.create("hz-pharma", "trainer", "x")
            new_keys.create("hz-pharma", "trainer", "x")

        def old_miss() -> object:
            old_keys._cache.clear()
            return old_keys.verify(old_text)

        def new_miss() -> object:
            new_keys._cache.clear()
            return new_keys.verify(new_text)

        variants: dict[str, dict[str, Callable[[], object]]] = {
            "sqlite (before)": {"hit": lambda: old_keys.verify(old_text), "miss": old_miss},
            "graph store (after)": {"hit": lambda: new_keys.verify(new_text), "miss": new_miss},
        }
        names = list(variants)
        figures: dict[str, dict[str, list[float]]] = {n: {"hit": [], "miss": []} for n in names}
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                figures[name]["hit"].append(_per_call_us(variants[name]["hit"], args.hits))
                figures[name]["miss"].append(_per_call_us(variants[name]["miss"], args.misses))
        texts = [new_keys.create("hz-pharma", "service", f"屏{i}")[1] for i in range(args.cached)]
        for text in texts:
            new_keys.verify(text)
        refresh_ms = []
        for _ in range(args.rounds):
            t0 = time.thread_time()
            new_keys.reread()  # the background thread's round every REFRESH_S: all cached keys in one read
            refresh_ms.append((time.thread_time() - t0) * 1e3)
        old_keys.close()
        new_keys.close()
        store.close()

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        return round(ordered[len(ordered) // 2], 2)

    result = {
        "load_1min": round(os.getloadavg()[0], 1),
        "cpu_us_per_call": {n: {k: median(v) for k, v in f.items()} for n, f in figures.items()},
        "refresh_cpu_ms": {"cached_keys": args.cached + 1, "median": median(refresh_ms)},
        "rounds": args.rounds,
        "hits_per_round": args.hits,
        "misses_per_round": args.misses,
        "python": sys.version.split()[0],
    }
    hit_ratio = (
        result["cpu_us_per_call"]["graph store (after)"]["hit"] / result["cpu_us_per_call"]["sqlite (before)"]["hit"]
    )
    result["hit_after_over_before"] = round(hit_ratio, 3)
    print(json.dumps(result, ensure_ascii=False, indent=2))  # noqa: T201
    return result


if __name__ == "__main__":
    main()
