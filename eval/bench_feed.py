"""Change-feed lag between API processes on one Neo4j database, measured while the reading process serves load.

Two ``salescopilot serve`` processes on one Neo4j database and one tenant of their own (the example files): A takes
the writes, B (``--workers`` processes behind one port) serves a closed-loop load of price checks and objection
answers from ``--clients`` threads. Each round publishes a new objection script through A (create, submit, publish
by a second trainer) and then asks B, every 50 ms, until ``--confirm`` answers in a row contain it: the lag is the
time from A's publish response to the first of those answers. The answers come from the worker the benchmark's
keep-alive connection reached; when each worker applied each publish is read from B's log (``applied_lag_ms``).
The price index follows the same log (re-reading the SKUs a change names); it is not timed here.

Usage (Neo4j 5 server needed; the tenant is deleted afterwards)::

    python -m eval.bench_feed --neo4j-uri bolt://127.0.0.1:7687 --neo4j-user neo4j --neo4j-password … --rounds 20

Writes ``eval/reports/feed/bench_feed.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from api.keys import KeyStore
from eval.bench_api import machine
from eval.stats import percentiles

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REPORT_DIR = Path(__file__).parent / "reports" / "feed"
LOAD_QUERIES = ("店长说这个药太贵了，隔壁药房便宜", "顾客担心副作用大", "医保报不了怎么办")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(client: httpx.Client, timeout_s: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        try:
            if client.get("/v1/ready").status_code == 200:
                return time.monotonic() - t0
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{client.base_url} not ready within {timeout_s:.0f} s")


def _answers(client: httpx.Client, title: str) -> dict[str, Any]:
    """B's objection answers for ``title``.

    Asked again when the server closed an idle keep-alive connection just as the request went out (uvicorn closes
    them after 5 s; a publish through A can take longer than that on a busy machine).
    """
    for attempt in range(3):
        try:
            body: dict[str, Any] = client.post(
                "/v1/objection-answers", json={"objection": title, "skus": ["SKU-ATV-20"]}
            ).json()
            return body
        except (httpx.RemoteProtocolError, httpx.ReadError):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class Load:
    """Closed-loop requests to B from ``clients`` threads until stopped: price checks and objection answers."""

    def __init__(self, url: str, key: str, clients: int) -> None:
        self.url, self.key, self.clients = url, key, clients
        self.done = 0
        self.errors = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]
        self._lock = threading.Lock()

    def _run(self, i: int) -> None:
        with httpx.Client(base_url=self.url, headers={"X-API-Key": self.key}, timeout=30) as client:
            n = 0
            while not self._stop.is_set():
                n += 1
                if n % 5:
                    line = {"customer_id": "C-002", "sku": "SKU-ATV-20", "unit_price": 25 + (n % 20), "qty": 10}
                    r = client.post("/v1/price-checks", json={"lines": [line]})
                else:
                    q = LOAD_QUERIES[(n + i) % len(LOAD_QUERIES)]
                    r = client.post("/v1/objection-answers", json={"objection": q, "skus": ["SKU-ATV-20"]})
                with self._lock:
                    self.done += 1
                    self.errors += r.status_code >= 400

    def start(self) -> Load:
        """Start the client threads."""
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        """Stop and wait for the client threads."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)


APPLIED = re.compile(r"^(\S+ \S+) INFO api\.services change feed applied tenant=(\S+) pid=(\d+) seq=(\d+)-(\d+)")
"""A worker's log line for one pass of its change-feed follower (time, tenant, worker, records applied)."""


def applied_lags(log_text: str, tenant: str, publishes: list[tuple[int, float]]) -> list[dict[str, Any]]:
    """Per publish ``(seq, epoch seconds of A's response)``: when each of B's workers applied it, from B's log.

    The feed's own lag, without the answer's time in B's queue: a worker has applied ``seq`` at its first pass whose
    last record is at or after it. ``lag_ms`` is the slowest worker's (the write is in every worker's answers then).
    """
    passes: dict[int, list[tuple[float, int]]] = {}
    for line in log_text.splitlines():
        m = APPLIED.match(line)
        if m and m.group(2) == tenant:
            at = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            passes.setdefault(int(m.group(3)), []).append((at, int(m.group(5))))
    out = []
    for seq, published in publishes:
        per_worker = {pid: min((at for at, last in rows if last >= seq), default=None) for pid, rows in passes.items()}
        times = [t for t in per_worker.values() if t is not None]
        out.append({"seq": seq, "workers": len(times),
                    "lag_ms": round((max(times) - published) * 1000, 1) if times else None})  # fmt: skip
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start A and B, measure ``args.rounds`` publishes' lag under load, stop them, delete the tenant."""
    from graph.neo4j_store import Neo4jGraphStore
    from ingest.pipeline import ingest_paths

    uri, user, password = args.neo4j_uri, args.neo4j_user, args.neo4j_password
    tenant = f"bench-feed-{uuid.uuid4().hex[:8]}"
    store = Neo4jGraphStore(uri, user, password)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-feed-"))
    servers: list[subprocess.Popen[bytes]] = []
    try:
        ingest_paths(store, tenant, [EXAMPLES])
        keys = KeyStore(store)
        trainer, reviewer, reader = (keys.create(tenant, r, n)[1] for r, n in
                                     (("trainer", "甲"), ("trainer", "乙"), ("admin", "负载")))  # fmt: skip
        env = ["env", "SKG_BACKEND=neo4j", f"SKG_NEO4J_URI={uri}", f"SKG_NEO4J_USER={user}",
               f"SKG_NEO4J_PASSWORD={password}", f"SKG_DATA_DIR={data_dir}", f"SKG_EMBEDDER={args.embedder}",
               f"SKG_TENANTS={json.dumps([tenant])}", f"SKG_FEED_POLL_S={args.poll_s}", "HF_HUB_OFFLINE=1"]  # fmt: skip
        exe = str(Path(sys.executable).parent / "salescopilot")
        port_a, port_b = _free_port(), _free_port()
        for port, extra in ((port_a, []), (port_b, ["--workers", str(args.workers)])):
            log = (data_dir / f"serve-{port}.log").open("wb")
            command = [*env, exe, "serve", "--port", str(port), "--log-level", args.log_level, *extra]
            servers.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        a = httpx.Client(base_url=f"http://127.0.0.1:{port_a}", timeout=60)
        b = httpx.Client(base_url=f"http://127.0.0.1:{port_b}", headers={"X-API-Key": reader}, timeout=60)
        ready = {"a_s": round(_wait_ready(a, 600), 1), "b_s": round(_wait_ready(b, 600), 1)}
        load = Load(f"http://127.0.0.1:{port_b}", reader, args.clients).start()
        time.sleep(2)
        lags: list[float] = []
        traces: list[dict[str, Any]] = []
        publishes: list[tuple[int, float]] = []
        """Per round, every answer B gave while the lag was measured (status, ids; to see a slow round's cause)."""
        t_start, done_start = time.monotonic(), load.done
        for i in range(args.rounds):
            title = f"基准第{i}号异议：顾客说包装盒颜色{uuid.uuid4().hex[:4]}不好看"
            made = a.post("/v1/entries", headers={"X-API-Key": trainer}, json={
                "kind": "objection_script", "title": title, "body": "先认同顾客感受，再介绍药品本身的价值。",
                "skus": ["SKU-ATV-20"]}).json()  # fmt: skip
            sub = a.post(f"/v1/entries/{made['id']}/submit", headers={"X-API-Key": trainer},
                         json={"version": made["version"]}).json()  # fmt: skip
            pub = a.post(f"/v1/entries/{made['id']}/publish", headers={"X-API-Key": reviewer},
                         json={"version": sub["version"]})  # fmt: skip
            pub.raise_for_status()
            t0 = time.monotonic()
            seen, first = 0, None
            polls: list[dict[str, Any]] = []
            while seen < args.confirm:
                body = _answers(b, title)
                ids = [x["entry_id"] for x in body.get("answers", [])]
                polls.append({"s": round(time.monotonic() - t0, 3), "status": body.get("status"),
                              "found": made["id"] in ids, "answers": ids,
                              "nearest": [x["entry_id"] for x in body.get("nearest_general", [])]})  # fmt: skip
                if made["id"] in ids:
                    first = first if first is not None else time.monotonic()
                    seen += 1
                else:
                    seen, first = 0, None
                    time.sleep(0.05)
                if time.monotonic() - t0 > 120:
                    raise SystemExit(f"round {i}: B never answered with {made['id']}")
            assert first is not None
            lags.append((first - t0) * 1000)
            published_at = round(time.time() - (time.monotonic() - t0), 3)
            publishes.append((store.change_head(tenant), published_at))
            traces.append({"round": i, "entry": made["id"], "published_at": published_at, "polls": polls})
            print(
                f"round {i}: {made['id']} published at {time.time() - (time.monotonic() - t0):.3f}, "
                f"lag {lags[-1]:.0f} ms",
                flush=True,
            )
        seconds = time.monotonic() - t_start
        served = load.done - done_start
        load.stop()
        q = percentiles(lags, (50, 99), digits=1)
        time.sleep(2 * args.poll_s + 1)  # B's log lines of the last publish
        applied = applied_lags((data_dir / f"serve-{port_b}.log").read_text(encoding="utf-8", errors="replace"),
                               tenant, publishes)  # fmt: skip
        feed = [a["lag_ms"] for a in applied if a["lag_ms"] is not None and a["workers"] == args.workers]
        return {
            "rounds": args.rounds, "workers_b": args.workers, "load_clients": args.clients, "poll_s": args.poll_s,
            "embedder": args.embedder, "lag_ms": {**q, "max": round(max(lags), 1)},
            "applied_lag_ms": {**percentiles(feed, (50, 99), digits=1), "max": max(feed), "rounds": len(feed)}
            if feed else None, "applied": applied,
            "lags_ms": [round(x, 1) for x in lags], "b_requests_per_s": round(served / seconds, 1),
            "b_errors": load.errors, "ready_after_start_s": ready, "machine": machine(), "polls": traces,
        }  # fmt: skip
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
        if args.keep_logs is not None:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            for log_file in data_dir.glob("serve-*.log"):
                shutil.copy(log_file, args.keep_logs / log_file.name)
        store.delete_tenant(tenant)
        store.close()


def _applied_rows(r: dict[str, Any]) -> list[str]:
    a = r.get("applied_lag_ms")
    if not a:
        return ["Applied in B's workers: not in B's log (run with `--log-level info`).", ""]
    return [f"Applied in every worker of B (from B's log, `change feed applied`; {a['rounds']} publishes): "
            f"p50 **{a['p50']} ms**, p99 **{a['p99']} ms**, max {a['max']} ms — the feed's own lag, from A's "
            "publish response to the slowest worker's index update.", ""]  # fmt: skip


def markdown(r: dict[str, Any]) -> str:
    """The report as a short Markdown page."""
    return "\n".join([
        "# Change-feed lag between API processes (Neo4j)", "",
        f"Writer A (1 process) and reader B ({r['workers_b']} workers) on one Neo4j database; B under a closed-loop "
        f"load of {r['load_clients']} clients ({r['b_requests_per_s']} req/s served, {r['b_errors']} errors). "
        f"Poll interval {r['poll_s']} s; embedder {r['embedder']}; {r['rounds']} publishes.", "",
        "| lag p50 | lag p99 | max |", "|---|---|---|",
        f"| {r['lag_ms']['p50']} ms | {r['lag_ms']['p99']} ms | {r['lag_ms']['max']} ms |", "",
        f"Lag: from A's publish response to the first of {r.get('confirm', 3)} answers in a row from B that contain "
        "the script (the answer's arrival: it includes the time the answer waited and ran in B). Target: ≤ 2 s.", "",
        *_applied_rows(r),
        f"Machine: {r['machine']} (load average at the end: {r['machine']['load_avg']}); B ready "
        f"{r['ready_after_start_s']['b_s']} s after start.",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: measure, write the report, print the summary."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="Worker processes of B.")
    parser.add_argument("--clients", type=int, default=4, help="Closed-loop load clients on B.")
    parser.add_argument("--confirm", type=int, default=3, help="Answers in a row that must contain the script.")
    parser.add_argument("--poll-s", type=float, default=1.0, help="SKG_FEED_POLL_S of both servers.")
    parser.add_argument("--embedder", default="hashing", help="SKG_EMBEDDER of both servers.")
    parser.add_argument(
        "--log-level",
        default="info",
        help="Of both servers (their logs: the data folder; info: "
        "B's workers log each change they apply, which the applied lag is read from).",
    )
    parser.add_argument("--keep-logs", type=Path, help="Copy the servers' logs into this folder at the end.")
    parser.add_argument("--out", type=Path, default=REPORT_DIR)
    parser.add_argument("--neo4j-uri", required=True)
    parser.add_argument("--neo4j-user", required=True)
    parser.add_argument("--neo4j-password", required=True)
    args = parser.parse_args(argv)
    report = {**run(args), "confirm": args.confirm}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_feed.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (args.out / "bench_feed.md").write_text(markdown(report) + "\n", encoding="utf-8")
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
