"""Crash safety: a process killed at any point of a multi-type ingest leaves the store as before or as after it.

A child process ingests a folder that fills five graph types and kills itself (SIGKILL, no clean-up of any kind) at
one point: before the k-th statement the store sends to the database, or a few milliseconds into a ``COMMIT`` or
``CHECKPOINT``. The parent then opens the store the way the service does and checks that it holds either nothing of
the ingest or all of it — never customers without their reps, or a change record without its rows.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from graph.embedded import EmbeddedGraphStore

T = "fault"
CUSTOMERS = 3_000

CHILD = r"""
import os, signal, sys, threading
from pathlib import Path
from graph.embedded import EmbeddedGraphStore
from ingest.pipeline import ingest_paths

data, folder, mode, arg = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
store = EmbeddedGraphStore(data, buffer_pool_mb=128)
run = store._run
calls = [0]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def patched(statement, params=None):
    calls[0] += 1
    if mode == "before" and calls[0] == int(arg):
        die()
    if mode == "during" and statement.split()[0] in ("COMMIT", "CHECKPOINT") and calls[0] > 1:
        threading.Timer(float(arg) / 1000, die).start()
    return run(statement, params)

store._run = patched
print("statements so far", calls[0], flush=True)
ingest_paths(store, "fault", [Path(folder)])
print("done", calls[0], flush=True)
"""


def _folder(root: Path) -> Path:
    folder = root / "upload"
    folder.mkdir()
    with (folder / "reps.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["代表编码", "姓名"])
        w.writerows([f"R{i}", f"代表{i}"] for i in range(20))
    with (folder / "customers.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["客户编码", "客户名称", "客户类型", "城市", "负责代表"])
        w.writerows([f"C{i:05d}", f"康宁药房{i}号店", "连锁", f"城{i % 30}", f"R{i % 20}"] for i in range(CUSTOMERS))
    with (folder / "products.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["商品编码", "品名"])
        w.writerows([f"P{i}", f"药品{i}"] for i in range(50))
    with (folder / "orders.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["订单号", "行号", "客户编码", "商品编码", "订单日期", "数量", "单价"])
        w.writerows([f"SO{i}", 1, f"C{i % CUSTOMERS:05d}", f"P{i % 50}", "2026-01-05", 10, 12.5] for i in range(6_000))
    return folder


def _child(data: Path, folder: Path, mode: str, arg: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), str(folder), mode, arg],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return done.stdout


def _state(data: Path) -> dict[str, int]:
    with EmbeddedGraphStore(data, buffer_pool_mb=128) as store:
        return store.counts(T).get(T, {})


FULL = {"Change": 1, "Customer": CUSTOMERS, "OWNS": CUSTOMERS, "PURCHASED": 6_000, "Product": 50, "Rep": 20}


@pytest.fixture(scope="module")
def statements(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The folder, and how many statements a complete ingest of it sends (the kill points to try)."""
    root = tmp_path_factory.mktemp("faults")
    folder = _folder(root)
    out = _child(root / "complete", folder, "none", "0")
    assert "done" in out, out
    assert _state(root / "complete") == FULL
    return folder, int(out.split()[-1])


@pytest.mark.slow
def test_a_kill_before_any_statement_of_an_ingest_leaves_before_or_after(
    statements: tuple[Path, int], tmp_path: Path
) -> None:
    folder, total = statements
    seen = set()
    for k in range(1, total + 1):
        data = tmp_path / f"k{k}"
        _child(data, folder, "before", str(k))
        state = _state(data)
        assert state in ({}, FULL), (k, state)
        seen.add("after" if state else "before")
    assert seen == {"before", "after"}  # the kill points span the load: some before its commit, some after


@pytest.mark.slow
@pytest.mark.parametrize("ms", [0, 2, 10, 40, 150])
def test_a_kill_during_commit_or_checkpoint_leaves_before_or_after(
    statements: tuple[Path, int], tmp_path: Path, ms: int
) -> None:
    folder, _ = statements
    _child(tmp_path / "d", folder, "during", str(ms))
    assert _state(tmp_path / "d") in ({}, FULL)


def test_the_store_and_key_files_are_private(tmp_path: Path) -> None:
    from api.keys import KeyStore

    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=128) as store:
        keys = KeyStore(store)  # the keys' digests live in the store (schema 9)
        keys.create("t", "rep", "王", rep_id="R-001")
        keys.close()
    assert (tmp_path / "graph").stat().st_mode & 0o777 == 0o700
    for path in (tmp_path / "graph").iterdir():
        assert path.stat().st_mode & 0o077 == 0, path


def test_a_failed_commit_leaves_nothing_readable_and_the_next_ingest_succeeds(
    statements: tuple[Path, int], tmp_path: Path
) -> None:
    """The 150 MB-cell case: the engine fails at commit ("buffer pool is full"); the store must not stay degraded."""
    from graph.errors import GraphError
    from ingest.errors import IngestError
    from ingest.pipeline import ingest_paths

    folder, _ = statements
    store = EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=128)
    run = store._run
    failed = []

    def failing(statement: str, params: dict[str, object] | None = None) -> object:
        if statement == "COMMIT" and not failed:
            failed.append(statement)
            run(statement, params)  # it commits, then the engine reports a failure after the commit
            raise GraphError("Transaction committed successfully, but the post-commit checkpoint failed")
        return run(statement, params)

    store._run = failing  # type: ignore[method-assign]
    with pytest.raises(IngestError):
        ingest_paths(store, T, [folder])
    assert failed and store.counts(T).get(T, {}) == {}  # what the failed ingest wrote is not readable
    store._run = run  # type: ignore[method-assign]
    ok = folder.parent / "ok.csv"
    ok.write_text("客户编码,客户名称,客户类型\nC-OK-1,正常药房,连锁\n", encoding="utf-8")
    report = ingest_paths(store, T, [ok])
    assert report.writes["Customer"].created == 1
    store.close()
    assert _state(tmp_path / "graph") == {"Change": 1, "Customer": 1}
