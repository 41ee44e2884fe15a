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

Usage::

    python -m eval.bench_api                       # demo scale 1, 100 clients, 60 s open loop
    python -m eval.bench_api --scales 1 5 --seconds 30

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
def serve(cmd: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start a server command and wait until it answers."""
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)  # noqa: S603
    server = Server(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/v1/health", timeout=1).status_code in (200, 404, 405):
                break
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
    cpu = server.cpu_seconds()
    saturation = asyncio.run(closed_loop(server.url, key, make, args.clients, args.saturation_seconds))
    saturation["server_cpu_ms_per_request"] = _per_request(server.cpu_seconds() - cpu, saturation)
    rate = rate or max(1.0, saturation["all"]["rps"] * args.rate_fraction)
    cpu = server.cpu_seconds()
    fixed = asyncio.run(open_loop(server.url, key, make, args.clients, rate, args.seconds))
    fixed["server_cpu_ms_per_request"] = _per_request(server.cpu_seconds() - cpu, fixed)
    brief = {k: {m: v.get(m) for m in ("p50", "p99", "errors")} for k, v in fixed.items() if isinstance(v, dict)}
    print(f"  {name}: saturation {saturation['all']['rps']} req/s; open loop at {rate:.0f} req/s: {brief}", flush=True)
    return {"saturation": saturation, "open_loop": fixed}


def run_scale(scale: int, args: Any) -> dict[str, Any]:
    """The copilot server (mixed load, then price checks alone) and the bare baseline, on demo data at ``scale``."""
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
        with serve(cmd, port, env) as server:
            started = time.perf_counter() - t0
            time.sleep(1)  # a few RSS samples before any load
            idle_rss = server.peak_rss
            mix = (
                None
                if args.skip_mix
                else run_target("copilot mix", server, demo.rep_key, copilot_requests(demo.territory, skus, 1), args)
            )
            price = run_target(
                "copilot price checks", server, demo.service_key, bare_requests(customers, skus, 2), args,
                rate=args.price_rate,
            )  # fmt: skip
            answer = sample_answer(server.url, demo.service_key, customers, skus)
        peak_rss = server.peak_rss
        rate = price["open_loop"]["offered_rps"]
        (Path(tmp) / "bare_app.py").write_text(BARE_APP, encoding="utf-8")
        (Path(tmp) / "answer.json").write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
        port = _free_port()
        bare_cmd = [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", tmp, "--port", str(port),
                    "--log-level", "warning"]  # fmt: skip
        with serve(bare_cmd, port) as server:
            bare = run_target(
                "bare FastAPI", server, demo.service_key, bare_requests(customers, skus, 2), args, rate=rate
            )
    return {"scale": scale, "customers": len(customers), "startup_s": round(started, 1),
            "embedder": args.embedder or "default",
            "idle_rss_mib": round(idle_rss / 2**20, 1), "peak_rss_mib": round(peak_rss / 2**20, 1),
            "copilot_mix": mix, "copilot_price_checks": price, "bare_fastapi": bare}  # fmt: skip


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "ram_gib": round(psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
            "load_avg": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables per scale."""
    lines = ["# API load benchmark", "", f"Machine: {report['machine']}; load average at the end "
             f"{report.get('load_avg_end')}", "", f"Command: `{report['command']}`", "",
             f"{report['clients']} connections. Saturation: {report['saturation_seconds']} s closed loop with no think "
             f"time. Then {report['seconds']} s open loop at a fixed offered rate ({report['rate_fraction']:.0%} of "
             "the saturation, or the `--price-rate` given for price checks; the bare baseline at the same rate as the "
             "copilot's price checks). Latency in ms from "
             "the scheduled send; the load generator shares the machine's cores with the server.", ""]  # fmt: skip
    for r in report["results"]:
        mix, price, bare = r["copilot_mix"], r["copilot_price_checks"], r["bare_fastapi"]
        lines += [f"## Demo scale {r['scale']} ({r['customers']} customers per tenant)", "",
                  f"Server start {r['startup_s']} s; RSS idle {r['idle_rss_mib']} MiB, peak {r['peak_rss_mib']} MiB.",
                  "", "| load | saturation req/s |", "|---|---|",
                  f"| copilot mix (70/20/10 % price checks/objections/briefings) | "
                  f"{mix['saturation']['all']['rps'] if mix else 'not run'} |",
                  f"| copilot price checks only | {price['saturation']['all']['rps']} |",
                  f"| bare FastAPI, same request and response models | {bare['saturation']['all']['rps']} |", "",
                  "Server CPU per price check (saturation): copilot "
                  f"{price['saturation'].get('server_cpu_ms_per_request')} ms, bare "
                  f"{bare['saturation'].get('server_cpu_ms_per_request')} ms — on a shared machine the ratio of these "
                  "is the steadier form of the throughput ratio.", "",
                  "| load | endpoint | offered req/s | done | errors | p50 | p95 | p99 |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for target, res in (("copilot mix", mix), ("copilot price checks", price), ("bare FastAPI", bare)):
            if res is None:
                continue
            ol = res["open_loop"]
            for name, s in ol.items():
                if isinstance(s, dict) and (name != "all" or target == "copilot mix"):
                    lines.append(f"| {target} | {name} | {ol['offered_rps']} | {s['count']} | {s['errors']} | "
                                 f"{s.get('p50', '-')} | {s.get('p95', '-')} | {s.get('p99', '-')} |")  # fmt: skip
        cp, bp = price["open_loop"]["price_check"], bare["open_loop"]["price_check"]
        lines += ["", "Price checks against the bare baseline at the same offered rate: "
                      f"p50 {cp['p50'] / bp['p50']:.2f}×, "
                      f"p99 {cp['p99'] / bp['p99']:.2f}×; saturation throughput "
                      f"{price['saturation']['all']['rps'] / bare['saturation']['all']['rps']:.2f}×.", ""]  # fmt: skip
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
    parser.add_argument("--data-dir", type=Path, default=None, help="Keep (and reuse) the demo data here.")
    parser.add_argument("--embedder", default=None, help="The server's embedder (SKG_EMBEDDER), e.g. hashing.")
    parser.add_argument("--tmp", default=None, help="Folder for the temporary data.")
    parser.add_argument("--out", type=Path, default=REPORT_DIR)
    args = parser.parse_args(argv)
    report = {"machine": machine(), "command": " ".join(["python -m eval.bench_api", *(argv or sys.argv[1:])]),
              "clients": args.clients, "seconds": args.seconds,
              "saturation_seconds": args.saturation_seconds, "rate_fraction": args.rate_fraction,
              "results": [run_scale(s, args) for s in args.scales]}  # fmt: skip
    report["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_api.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (args.out / "bench_api.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
