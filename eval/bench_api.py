"""Load benchmark of the API server on 127.0.0.1: saturation throughput, then latency at a fixed offered rate.

The server (``salescopilot serve``) runs in its own process on demo data; the load generator is a lean asyncio
HTTP/1.1 client (`eval.http_load`, keep-alive connections) in this process, on the same machine, sharing its cores.
Two phases per target:

1. **Saturation**: ``--clients`` concurrent clients with no think time for ``--saturation-seconds``: the throughput
   the server sustains. (With N clients and no think time, latency is just N / throughput, so these latencies are
   not reported as the server's.)
2. **Open loop**: requests sent on a fixed schedule at ``--rate-fraction`` of that throughput for ``--seconds``,
   whatever the server's speed, each timed from its scheduled send time (no coordinated omission), with up to
   ``--clients`` connections: p50/p95/p99 per endpoint, errors, and the server's peak RSS.

The mix is 70 % price checks (one quote line), 20 % objection answers, 10 % briefing packs (JSON), sent with a rep
key (bound to the rep owning the first demo customer) for the customers of its territory. Price checks alone are sent
with a ``service`` key (what a quote screen holds) for any customer of the tenant. The baseline is a bare FastAPI app
with the same request and response models for price checks, answering with a real answer of the copilot (the same
size, evidence included) built through the response model on every request, served by the same uvicorn in the same
way: the ratio says what the copilot adds over the framework. ``--price-rate`` runs the price-check open loops (the
copilot's and the baseline's) at a fixed rate, e.g. 500 req/s.

The copilot is loaded only once ``/v1/ready`` says its indexes are built (``serve`` answers ``/v1/health`` at once and
builds them in the background; a load sent earlier measures the build). Price checks run side by side: both servers
up, ``--rounds`` saturation rounds each with one phase per server (the first alternating), so both see the same
minutes of a shared machine; the report gives the throughput ratio and the ratio of server CPU per request per round
and their medians.

Usage::

    python -m eval.bench_api                       # demo scale 1, 100 clients, 60 s open loop
    python -m eval.bench_api --scales 1 5 --seconds 30
    python -m eval.bench_api --skip-mix --price-rate 500 --seconds 20 --data-dir /tmp/bench-api  # issue 22 item 6

Writes ``eval/reports/api/bench_api.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx  # health polling only
import psutil

from api.keys import KeyStore
from copilot.territory import Territory
from demo.load import load_demo
from eval.http_load import HttpError, Pool
from eval.stats import percentiles
from graph.embedded import EmbeddedGraphStore
from graph.model import Owns

TENANT = "hz-pharma"
MIX = (("price_check", 0.7), ("objection", 0.2), ("briefing", 0.1))
OBJECTIONS = ("店长说这个药太贵了，隔壁药房便宜", "顾客担心副作用大", "医生说集采以后不想再用原研", "医保报不了怎么办",
              "库存压力大不想多进货", "竞品给的返利更高")  # fmt: skip
REPORT_DIR = Path(__file__).parent / "reports" / "api"

BARE_APP = """
import json
from pathlib import Path

from fastapi import FastAPI
from api.routes.pricing import PriceCheckRequest, PriceCheckResponse

ANSWER = json.loads((Path(__file__).parent / "answer.json").read_text(encoding="utf-8"))
app = FastAPI()


@app.post("/v1/price-checks")
async def price_checks(body: PriceCheckRequest) -> PriceCheckResponse:
    return PriceCheckResponse.model_validate(ANSWER)
"""
"""The baseline: the same request and response models, a real answer of the copilot (``answer.json``)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A server process and what was learned about it."""

    process: subprocess.Popen[bytes]
    url: str
    peak_rss: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def watch(self) -> threading.Thread:
        """Sample the server's RSS (process and children) every 0.2 s until stopped."""

        def run() -> None:
            proc = psutil.Process(self.process.pid)
            while not self._stop.is_set():
                with contextlib.suppress(psutil.Error):
                    rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
                    self.peak_rss = max(self.peak_rss, rss)
                time.sleep(0.2)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        """Stop sampling and the process."""
        self._stop.set()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@contextlib.contextmanager
def serve(cmd: list[str], port: int, env: dict[str, str] | None = None, *, ready: bool = False) -> Iterator[Server]:
    """Start a server command and wait until it answers (``ready``: until ``/v1/ready`` says its indexes are built).

    ``salescopilot serve`` answers ``/v1/health`` at once and builds the tenants' indexes in the background: a load
    sent before ``/v1/ready`` says 200 measures the build (requests wait for it), not the service. A server without
    that route (the bare baseline: 404) is ready when it answers.
    """
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)  # noqa: S603
    server = Server(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 600
    probe, accepted = ("/v1/ready", (200, 404)) if ready else ("/v1/health", (200, 404, 405))
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + probe, timeout=5).status_code in accepted:
                break
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server not ready after 600 s: {' '.join(cmd)}")
        time.sleep(0.5)
    watcher = server.watch()
    try:
        yield server
    finally:
        server.stop()
        watcher.join(timeout=2)


Request = tuple[str, str, str, dict[str, Any] | None]
"""(endpoint name, method, path, JSON body)."""


def copilot_requests(customers: list[str], skus: list[str], seed: int) -> Callable[[], Request]:
    """A generator of the mixed workload's requests (fixed seed)."""
    rng = random.Random(seed)
    names = [n for n, _ in MIX]
    weights = [w for _, w in MIX]

    def next_request() -> Request:
        kind = rng.choices(names, weights)[0]
        customer, sku = rng.choice(customers), rng.choice(skus)
        if kind == "price_check":
            line = {"customer_id": customer, "sku": sku, "unit_price": round(rng.uniform(5, 80), 2), "qty": 10}
            return kind, "POST", "/v1/price-checks", {"lines": [line]}
        if kind == "objection":
            return kind, "POST", "/v1/objection-answers", {"objection": rng.choice(OBJECTIONS), "skus": [sku]}
        return kind, "GET", f"/v1/customers/{customer}/briefing", None

    return next_request


def bare_requests(customers: list[str], skus: list[str], seed: int) -> Callable[[], Request]:
    """Price-check requests only (the bare baseline has no other endpoint)."""
    rng = random.Random(seed)

    def next_request() -> Request:
        line = {"customer_id": rng.choice(customers), "sku": rng.choice(skus), "unit_price": 20.0, "qty": 10}
        return "price_check", "POST", "/v1/price-checks", {"lines": [line]}

    return next_request


@dataclass
class Samples:
    """Latencies (ms) and errors per endpoint."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_examples: list[str] = field(default_factory=list)

    def record(self, name: str, ms: float, status: int | None, body: bytes = b"") -> None:
        """One finished request (``status`` None: it failed; ``body`` then says why)."""
        if status is not None and status < 400:
            self.latency[name].append(ms)
        else:
            self.errors[name] += 1
            if len(self.error_examples) < 5:
                self.error_examples.append(f"{status}: {body[:200].decode(errors='replace')}")

    def summary(self, seconds: float) -> dict[str, Any]:
        """Per endpoint and overall: count, throughput, percentiles, errors."""
        out: dict[str, Any] = {}
        everything: list[float] = []
        for name in sorted(set(self.latency) | set(self.errors)):
            lat = self.latency.get(name, [])
            everything += lat
            out[name] = {"count": len(lat), "errors": self.errors.get(name, 0), "rps": round(len(lat) / seconds, 1),
                         **(percentiles(lat, (50, 95, 99), 2) if lat else {})}  # fmt: skip
        total = sum(self.errors.values())
        out["all"] = {"count": len(everything), "errors": total, "rps": round(len(everything) / seconds, 1),
                      **(percentiles(everything, (50, 95, 99), 2) if everything else {})}  # fmt: skip
        if self.error_examples:
            out["error_examples"] = self.error_examples
        return out


async def _send(pool: Pool, request: Request, samples: Samples, t0: float) -> None:
    name, method, path, body = request
    try:
        status, data = await pool.request(method, path, body)
        samples.record(name, (time.perf_counter() - t0) * 1000, status, data)
    except HttpError as e:
        samples.record(name, 0.0, None, str(e).encode())


@contextlib.asynccontextmanager
async def _pool(url: str, key: str, clients: int) -> AsyncIterator[Pool]:
    host, port = url.removeprefix("http://").split(":")
    pool = Pool(host, int(port), clients, {"X-API-Key": key})
    try:
        yield pool
    finally:
        await pool.close()


async def closed_loop(url: str, key: str, make: Callable[[], Request], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` workers sending back-to-back for ``seconds``: the saturation throughput."""
    samples = Samples()
    end = time.perf_counter() + seconds
    async with _pool(url, key, clients) as pool:

        async def worker() -> None:
            while time.perf_counter() < end:
                await _send(pool, make(), samples, time.perf_counter())

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return samples.summary(elapsed)


async def open_loop(
    url: str, key: str, make: Callable[[], Request], clients: int, rate: float, seconds: float
) -> dict[str, Any]:
    """Requests on a fixed schedule of ``rate`` per second, each timed from when it was due."""
    samples = Samples()
    n = int(rate * seconds)
    async with _pool(url, key, clients) as pool:
        start = time.perf_counter()
        tasks = []
        for i in range(n):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_send(pool, make(), samples, due)))
        await asyncio.gather(*tasks)
        elapsed = max(time.perf_counter() - start, seconds)
    out = samples.summary(elapsed)
    out["offered_rps"] = round(rate, 1)
    late = time.perf_counter() - (start + n / rate)
    out["drain_s"] = round(late, 2)
    return out


@dataclass
class Demo:
    """What the load is made of: the tenant's customers and SKUs, a rep's territory and the two keys."""

    customers: list[str]
    skus: list[str]
    territory: list[str]
    rep_key: str
    service_key: str


def prepare(data_dir: Path, scale: int, as_of: dt.date) -> Demo:
    """Demo data at ``scale`` in ``data_dir``, a rep key (the owner of the first customer) and a service key."""
    store = EmbeddedGraphStore(data_dir / "graph", buffer_pool_mb=1024)
    load_demo(store, scale=scale, as_of=as_of)
    customers = [c.id for c in store.customers(TENANT)]
    skus = [p.sku for p in store.catalogue(TENANT).products]
    rep = next(e.rep_id for e in store.edges_of(TENANT, Owns, targets=[customers[0]]))
    territory = sorted(Territory.of_rep(store, TENANT, rep).customer_ids or ())
    keys = KeyStore(store)
    rep_key = keys.create(TENANT, "rep", "bench", rep_id=rep)[1]
    service_key = keys.create(TENANT, "service", "bench quote screen")[1]
    store.close()
    return Demo(customers, skus, territory, rep_key, service_key)


def sample_answer(url: str, key: str, customers: list[str], skus: list[str]) -> dict[str, Any]:
    """A real price-check answer of the copilot with the most evidence among a few lines (the baseline's answer)."""
    best: dict[str, Any] = {}
    rng = random.Random(3)
    for _ in range(20):
        line = {"customer_id": rng.choice(customers), "sku": rng.choice(skus), "unit_price": 20.0, "qty": 10}
        answer: dict[str, Any] = httpx.post(
            url + "/v1/price-checks", json={"lines": [line]}, headers={"X-API-Key": key}, timeout=30
        ).json()
        if not best or len(answer["lines"][0]["evidence"]) > len(best["lines"][0]["evidence"]):
            best = answer
    return best


def _per_request(cpu_s: float, phase: dict[str, Any]) -> float | None:
    """The server's CPU milliseconds per answered request in a phase (robust to other jobs on the machine)."""
    count = phase["all"]["count"]
    return round(cpu_s * 1000 / count, 3) if count else None


def run_target(
    name: str, server: Server, key: str, make: Callable[[], Request], args: Any, rate: float | None = None
) -> dict[str, Any]:
    """Saturation, then the open loop at ``rate`` (default: a fraction of the saturation), against one server."""
    asyncio.run(closed_loop(server.url, key, make, args.clients, 3))  # warm-up
    saturation = _saturation(server, key, make, args)
    rate = rate or max(1.0, saturation["all"]["rps"] * args.rate_fraction)
    fixed = _open(server, key, make, args, rate)
    _print(name, saturation, fixed)
    return {"saturation": saturation, "open_loop": fixed}


def _saturation(server: Server, key: str, make: Callable[[], Request], args: Any) -> dict[str, Any]:
    """One closed-loop phase, with the server's CPU per answered request."""
    cpu = server.cpu_seconds()
    saturation = asyncio.run(closed_loop(server.url, key, make, args.clients, args.saturation_seconds))
    saturation["server_cpu_ms_per_request"] = _per_request(server.cpu_seconds() - cpu, saturation)
    saturation["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return saturation


def _open(server: Server, key: str, make: Callable[[], Request], args: Any, rate: float) -> dict[str, Any]:
    """One open-loop phase at ``rate``, with the server's CPU per answered request."""
    cpu = server.cpu_seconds()
    fixed = asyncio.run(open_loop(server.url, key, make, args.clients, rate, args.seconds))
    fixed["server_cpu_ms_per_request"] = _per_request(server.cpu_seconds() - cpu, fixed)
    fixed["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return fixed


def _print(name: str, saturation: dict[str, Any], fixed: dict[str, Any]) -> None:
    brief = {k: {m: v.get(m) for m in ("p50", "p99", "errors")} for k, v in fixed.items() if isinstance(v, dict)}
    print(f"  {name}: saturation {saturation['all']['rps']} req/s; open loop at {fixed['offered_rps']:.0f} req/s: "
          f"{brief}", flush=True)  # fmt: skip


def _median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median throughput (the lower middle one of an even count)."""
    ranked = sorted(rounds, key=lambda r: float(r["all"]["rps"]))
    return ranked[(len(ranked) - 1) // 2]


def _median(values: list[float]) -> float:
    ranked = sorted(values)
    mid = len(ranked) // 2
    return ranked[mid] if len(ranked) % 2 else (ranked[mid - 1] + ranked[mid]) / 2


def side_by_side(
    copilot: Server, bare: Server, key: str, make: Callable[[], Request], args: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Price checks against the copilot and the bare baseline, both servers up, phases in alternating order.

    On a shared machine the load changes from minute to minute: measured one after the other, the two servers would
    each get a different machine. Here each round runs a saturation phase against each server (the first of the two
    alternates), so both see the same minutes; the throughput ratio and the ratio of server CPU per request are
    given per round and as their medians. Then one open loop each at the same offered rate (copilot first).
    """
    targets = {"copilot": copilot, "bare": bare}
    for server in targets.values():
        asyncio.run(closed_loop(server.url, key, make, args.clients, 3))  # warm-up
    rounds: dict[str, list[dict[str, Any]]] = {"copilot": [], "bare": []}
    for i in range(args.rounds):
        order = ("copilot", "bare") if i % 2 == 0 else ("bare", "copilot")
        for name in order:
            rounds[name].append(_saturation(targets[name], key, make, args))
        c, b = rounds["copilot"][-1], rounds["bare"][-1]
        print(f"  round {i + 1}: copilot {c['all']['rps']} req/s ({c['server_cpu_ms_per_request']} ms CPU), bare "
              f"{b['all']['rps']} req/s ({b['server_cpu_ms_per_request']} ms CPU), load {c['load_avg_1m']}",
              flush=True)  # fmt: skip
    throughput = [
        round(c["all"]["rps"] / b["all"]["rps"], 3) if b["all"]["rps"] else 0.0
        for c, b in zip(rounds["copilot"], rounds["bare"], strict=True)
    ]
    cpu = [
        round(b["server_cpu_ms_per_request"] / c["server_cpu_ms_per_request"], 3)
        for c, b in zip(rounds["copilot"], rounds["bare"], strict=True)
        if c["server_cpu_ms_per_request"] and b["server_cpu_ms_per_request"]
    ]
    copilot_sat, bare_sat = _median_round(rounds["copilot"]), _median_round(rounds["bare"])
    rate = args.price_rate or max(1.0, copilot_sat["all"]["rps"] * args.rate_fraction)
    results = {}
    for name, saturation in (("copilot", copilot_sat), ("bare", bare_sat)):
        fixed = _open(targets[name], key, make, args, rate)
        _print(f"{name} price checks", saturation, fixed)
        results[name] = {"saturation": saturation, "rounds": rounds[name], "open_loop": fixed}
    ratio = {"throughput_per_round": throughput, "throughput_median": round(_median(throughput), 3),
             "cpu_per_request_per_round": cpu,
             "cpu_per_request_median": round(_median(cpu), 3) if cpu else None}  # fmt: skip
    return results["copilot"], results["bare"], ratio


def run_scale(scale: int, args: Any) -> dict[str, Any]:
    """The copilot server (mixed load, then price checks side by side with the bare baseline) on demo data."""
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        data_dir = args.data_dir / f"scale{scale}" if args.data_dir else Path(tmp) / "data"
        t0 = time.perf_counter()
        saved = data_dir / "bench_demo.json"
        if saved.exists():  # a data folder of an earlier run (its indexes saved by that run's server)
            demo = Demo(**json.loads(saved.read_text(encoding="utf-8")))
        else:
            demo = prepare(data_dir, scale, dt.date.today())
            if args.data_dir:
                saved.write_text(json.dumps(demo.__dict__), encoding="utf-8")
        customers, skus = demo.customers, demo.skus
        print(f"scale {scale}: demo ready in {time.perf_counter() - t0:.1f} s ({len(customers)} customers)", flush=True)
        port = _free_port()
        cli = str(Path(sys.executable).parent / "salescopilot")
        cmd = [cli, "--data-dir", str(data_dir), "serve", "--port", str(port), "--log-level", "warning"]
        t0 = time.perf_counter()
        # the server's setting, passed the way an operator sets it (the server reads it, not this process)
        env = {**os.environ, "SKG_EMBEDDER": args.embedder} if args.embedder else None  # noqa: TID251
        with serve(cmd, port, env, ready=True) as server:
            started = time.perf_counter() - t0
            time.sleep(1)  # a few RSS samples before any load
            idle_rss = server.peak_rss
            mix = (
                None
                if args.skip_mix
                else run_target("copilot mix", server, demo.rep_key, copilot_requests(demo.territory, skus, 1), args)
            )
            answer = sample_answer(server.url, demo.service_key, customers, skus)
            (Path(tmp) / "bare_app.py").write_text(BARE_APP, encoding="utf-8")
            (Path(tmp) / "answer.json").write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
            bare_port = _free_port()
            bare_cmd = [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", tmp, "--port", str(bare_port),
                        "--log-level", "warning"]  # fmt: skip
            with serve(bare_cmd, bare_port) as bare_server:
                price, bare, ratio = side_by_side(
                    server, bare_server, demo.service_key, bare_requests(customers, skus, 2), args
                )
        peak_rss = server.peak_rss
    return {"scale": scale, "customers": len(customers), "ready_s": round(started, 1),
            "embedder": args.embedder or "default",
            "idle_rss_mib": round(idle_rss / 2**20, 1), "peak_rss_mib": round(peak_rss / 2**20, 1),
            "copilot_mix": mix, "copilot_price_checks": price, "bare_fastapi": bare,
            "price_check_ratio": ratio}  # fmt: skip


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "ram_gib": round(psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
            "load_avg": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables per scale."""
    lines = ["# API load benchmark", "", f"Machine: {report['machine']}; load average at the end "
             f"{report.get('load_avg_end')}", "", f"Command: `{report['command']}`", "",
             f"{report['clients']} connections. The copilot is measured once `/v1/ready` says its indexes are built. "
             f"Saturation: {report['saturation_seconds']} s closed loop with no think time; for price checks "
             f"{report.get('rounds', 1)} rounds, each one phase against the copilot and one against the bare baseline "
             "(both servers up, the first of the two alternating). Then "
             f"{report['seconds']} s open loop at a fixed offered rate ({report['rate_fraction']:.0%} of "
             "the saturation, or the `--price-rate` given for price checks; the bare baseline at the same rate as the "
             "copilot's price checks). Latency in ms from "
             "the scheduled send; the load generator shares the machine's cores with the server.", ""]  # fmt: skip
    for r in report["results"]:
        mix, price, bare = r["copilot_mix"], r["copilot_price_checks"], r["bare_fastapi"]
        ratio = r.get("price_check_ratio") or {}
        lines += [f"## Demo scale {r['scale']} ({r['customers']} customers per tenant)", "",
                  f"Server ready {r.get('ready_s', r.get('startup_s'))} s after start; RSS idle {r['idle_rss_mib']} "
                  f"MiB, peak {r['peak_rss_mib']} MiB.",
                  "", "| load | saturation req/s |", "|---|---|",
                  f"| copilot mix (70/20/10 % price checks/objections/briefings) | "
                  f"{mix['saturation']['all']['rps'] if mix else 'not run'} |",
                  f"| copilot price checks only (median round) | {price['saturation']['all']['rps']} |",
                  f"| bare FastAPI, same request and response models (median round) | "
                  f"{bare['saturation']['all']['rps']} |", ""]  # fmt: skip
        if price.get("rounds"):
            lines += ["| round | copilot req/s | copilot CPU ms/req | bare req/s | bare CPU ms/req | "
                      "throughput ratio | CPU ratio (bare/copilot) | load 1 min |",
                      "|---|---|---|---|---|---|---|---|"]  # fmt: skip
            cpu = iter(ratio.get("cpu_per_request_per_round", []))
            for i, (c, b) in enumerate(zip(price["rounds"], bare["rounds"], strict=True)):
                tr = ratio["throughput_per_round"][i]
                cr = next(cpu, None) if c["server_cpu_ms_per_request"] and b["server_cpu_ms_per_request"] else None
                lines.append(f"| {i + 1} | {c['all']['rps']} | {c['server_cpu_ms_per_request']} | {b['all']['rps']} | "
                             f"{b['server_cpu_ms_per_request']} | {tr:.2f}× | "
                             f"{f'{cr:.2f}×' if cr is not None else '-'} | {c.get('load_avg_1m')} |")  # fmt: skip
            lines += ["", f"Median throughput ratio **{ratio['throughput_median']:.2f}×**, median CPU-per-request "
                      f"ratio **{ratio['cpu_per_request_median']:.2f}×** (target ≥ 0.6×). On a shared machine the CPU "
                      "ratio is the steadier form of the throughput ratio.", ""]  # fmt: skip
        lines += ["| load | endpoint | offered req/s | done | errors | p50 | p95 | p99 | server CPU ms/req "
                  "| load 1 min |",
                  "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for target, res in (("copilot mix", mix), ("copilot price checks", price), ("bare FastAPI", bare)):
            if res is None:
                continue
            ol = res["open_loop"]
            for name, s in ol.items():
                if isinstance(s, dict) and (name != "all" or target == "copilot mix"):
                    lines.append(f"| {target} | {name} | {ol['offered_rps']} | {s['count']} | {s['errors']} | "
                                 f"{s.get('p50', '-')} | {s.get('p95', '-')} | {s.get('p99', '-')} | "
                                 f"{ol.get('server_cpu_ms_per_request')} | {ol.get('load_avg_1m', '-')} |")  # fmt: skip
        cp, bp = price["open_loop"].get("price_check"), bare["open_loop"].get("price_check")
        if cp and bp and "p50" in cp and "p50" in bp:
            lines += ["", "Price checks against the bare baseline at the same offered rate: "
                          f"p50 {cp['p50'] / bp['p50']:.2f}×, p99 {cp['p99'] / bp['p99']:.2f}× (open-loop p99 "
                          f"target ≤ 15 ms at 500 req/s: copilot {cp['p99']} ms at {price['open_loop']['offered_rps']} "
                          "req/s).", ""]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--saturation-seconds", type=float, default=20)
    parser.add_argument("--rate-fraction", type=float, default=0.5)
    parser.add_argument("--price-rate", type=float, default=None, help="Fixed rate of the price-check open loops.")
    parser.add_argument("--skip-mix", action="store_true", help="Price checks and the baseline only.")
    parser.add_argument(
        "--rounds", type=int, default=3, help="Saturation rounds of price checks, copilot and baseline in turn."
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="Keep (and reuse) the demo data here.")
    parser.add_argument("--embedder", default=None, help="The server's embedder (SKG_EMBEDDER), e.g. hashing.")
    parser.add_argument("--tmp", default=None, help="Folder for the temporary data.")
    parser.add_argument("--out", type=Path, default=REPORT_DIR)
    args = parser.parse_args(argv)
    report = {"machine": machine(), "command": " ".join(["python -m eval.bench_api", *(argv or sys.argv[1:])]),
              "clients": args.clients, "seconds": args.seconds,
              "saturation_seconds": args.saturation_seconds, "rate_fraction": args.rate_fraction,
              "rounds": args.rounds, "results": [run_scale(s, args) for s in args.scales]}  # fmt: skip
    report["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_api.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (args.out / "bench_api.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
