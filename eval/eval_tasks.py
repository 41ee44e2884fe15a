"""Task triggers (今日待办) against the situations planted in the demo: precision and recall per trigger.

Usage::

    python -m eval.eval_tasks --seed 7 --scale 1 --as-of 2025-02-15 [--misses N]

Builds the demo with ``demo.generator.build_demo``, loads it into a temporary embedded store, computes every rep's
task list as of the date (``copilot.tasks.build_tasks``, price flags included) and compares the union of the reps'
tasks with ``DemoDataset.truth[tenant]["tasks"]`` — tuples ``(trigger, customer_id, subject, detail)`` written by a
helper that never saw the trigger code (the shared definition: docs/decisions/2026-12-07-next-actions.md). A task
counts by (trigger, customer_id, subject); the detail (a contract's 7 / 30 / 90 band) is checked separately. Customers
nobody owns have no rep, hence no task: labels of such customers are reported apart, not as misses.

Held-out: the customers are split in two by a hash of their id (``dev`` / ``heldout``); only ``--split dev`` prints
misses, and the held-out figure is the one to report. Without labels in the demo it says so and exits 0.
Writes ``eval/reports/tasks/eval_tasks.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from copilot.safety import reports_of_tables, reports_table
from copilot.tasks import TRIGGER_NAMES, build_tasks, details_of, label_tuples
from demo.generator import build_demo
from graph.embedded import EmbeddedGraphStore
from graph.model import Owns, Rep
from graph.ports import ChangeDraft, GraphStore
from ingest.pipeline import load_tables
from pricing_guard.index import PriceIndex

TARGET = 0.95
Key = tuple[str, str, str]


def split_of(customer_id: str) -> str:
    """``dev`` or ``heldout``: a fixed half of the customers by a hash of the id (no tuning reads held-out misses)."""
    return "dev" if hashlib.sha256(customer_id.encode()).digest()[0] % 2 == 0 else "heldout"


def _load(store: GraphStore, tables: dict[str, Any], tenant: str) -> None:
    tables = dict(tables)
    tables["SafetyReport"] = reports_table(reports_of_tables(tenant, tables))
    load_tables(store, tenant, tables, change=ChangeDraft("demo_loaded", actor="eval"))


def found_tasks(store: GraphStore, tenant: str, as_of: dt.date) -> tuple[set[Key], dict[Key, str], set[str]]:
    """Every rep's tasks as (trigger, customer, subject), their details, and the customers some rep owns."""
    index = PriceIndex.from_store(store, tenant, as_of=as_of)
    found: set[Key] = set()
    details: dict[Key, str] = {}
    owned: set[str] = set()
    for rep in store.search_nodes(tenant, Rep, limit=10_000).items:
        owned |= {e.customer_id for e in store.edges_of(tenant, Owns, sources=[rep.id])}
        items = build_tasks(store, tenant, rep.id, as_of=as_of, price_index=index).items
        found |= label_tuples(items)
        details.update(details_of(items))
    return found, details, owned


def _in(keys: set[Key], split: str) -> set[Key]:
    return {k for k in keys if split == "all" or split_of(k[1]) == split}


def _cell(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def score(truth: set[Key], found: set[Key], triggers: list[str]) -> dict[str, Any]:
    """Per trigger: labels, found, true positives, precision, recall (``None`` when a side is empty)."""
    out: dict[str, Any] = {}
    for t in triggers:
        gold = {k for k in truth if k[0] == t}
        got = {k for k in found if k[0] == t}
        tp = len(gold & got)
        out[t] = {
            "labels": len(gold),
            "found": len(got),
            "tp": tp,
            "precision": round(tp / len(got), 4) if got else None,
            "recall": round(tp / len(gold), 4) if gold else None,
        }
    return out


def run(seed: int, scale: int, as_of: dt.date, tmp: str | None) -> dict[str, Any]:
    """Build, load, compute and score every tenant; the report as a dict."""
    demo = build_demo(seed=seed, scale=scale, as_of=as_of)
    report: dict[str, Any] = {"seed": seed, "scale": scale, "as_of": as_of.isoformat(), "tenants": {}}
    with tempfile.TemporaryDirectory(dir=tmp) as d:
        store = EmbeddedGraphStore(Path(d) / "graph", buffer_pool_mb=1024)
        for tenant, tables in demo.tenants.items():
            labels = [tuple(str(x) for x in t) for t in demo.truth.get(tenant, {}).get("tasks", [])]
            if not labels:
                report["tenants"][tenant] = {"labels": 0}
                continue
            _load(store, tables, tenant)
            found, details, owned = found_tasks(store, tenant, as_of)
            gold_detail = {(t, c, s): det for t, c, s, det in labels}
            unowned = {k for k in gold_detail if k[1] not in owned}
            truth = set(gold_detail) - unowned
            triggers = sorted(set(TRIGGER_NAMES))
            per_split = {}
            for split in ("dev", "heldout", "all"):
                per_split[split] = score(_in(truth, split), _in(found, split), triggers)
            # labels one defensible reading of the definition adds or removes (the labeller lists them): left out of
            # both sides, so a trigger is judged only where the definition is unambiguous
            unclear = {(t, c, s) for t, c, s, *_ in demo.truth.get(tenant, {}).get("task_ambiguous", [])}
            per_split["clear"] = score(truth - unclear, found - unclear, triggers)
            bands = [k for k in truth & found if k[0] == "contract_ending"]
            report["tenants"][tenant] = {
                "labels": len(labels),
                "unowned_labels": len(unowned),
                "splits": per_split,
                "contract_band_agreement": {
                    "both": len(bands),
                    "same": sum(1 for k in bands if gold_detail[k] == details.get(k)),
                },
                "dev_misses": sorted(k for k in truth - found if split_of(k[1]) == "dev"),
                "dev_false": sorted(k for k in found - truth if split_of(k[1]) == "dev"),
            }
        store.close()
    return report


def markdown(report: dict[str, Any]) -> list[str]:
    """The report as Markdown lines: one table per tenant, held-out next to dev."""
    lines = [
        "# Task triggers against the demo's planted situations",
        "",
        f"`python -m eval.eval_tasks --seed {report['seed']} --scale {report['scale']} --as-of {report['as_of']}`",
        "",
    ]
    for tenant, r in report["tenants"].items():
        lines.append(f"## {tenant}")
        if not r["labels"]:
            lines += ["", "No task labels in this demo (`truth[tenant]['tasks']` is empty): nothing to score.", ""]
            continue
        lines += [
            "",
            f"{r['labels']} labels; {r['unowned_labels']} of customers no rep owns (no task list holds them).",
            "",
            "| trigger | held-out labels | held-out P | held-out R | dev P | dev R | all P | all R | unambiguous P "
            "| unambiguous R |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for t in sorted(r["splits"]["all"]):
            h, dv, a, c = (r["splits"][s][t] for s in ("heldout", "dev", "all", "clear"))
            lines.append(
                f"| {t} | {h['labels']} | {_cell(h['precision'])} | {_cell(h['recall'])} | {_cell(dv['precision'])} "
                f"| {_cell(dv['recall'])} | {_cell(a['precision'])} | {_cell(a['recall'])} | {_cell(c['precision'])} "
                f"| {_cell(c['recall'])} |"
            )
        b = r["contract_band_agreement"]
        lines += ["", f"Contract bands (7/30/90): {b['same']} of {b['both']} found contracts in the labelled band.", ""]
    lines.append(
        f"Target (issue 24): precision and recall ≥ {TARGET} per trigger, on held-out data: seed 11 is the held-out "
        "demo (eval/datasets/next_actions/README.md), seed 7 the development one; within a seed, held-out / dev "
        "split the customers by a hash of the id. Unambiguous: the labels the labeller marked as depending on the "
        "reading of the definition (`task_ambiguous`) left out of both sides."
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    """Run, print, write the report; ``--misses N`` prints dev misses and false tasks (never held-out ones)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", type=int, default=1)
    p.add_argument(
        "--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 2, 15), help="the labels' evaluation date D"
    )
    p.add_argument("--misses", type=int, default=0)
    p.add_argument("--tmp", default=None)
    p.add_argument("--out", type=Path, default=Path("eval/reports/tasks"))
    args = p.parse_args(argv)
    report = run(args.seed, args.scale, args.as_of, args.tmp)
    if not any(r["labels"] for r in report["tenants"].values()):
        print(
            "The demo holds no task labels (truth[tenant]['tasks'] is empty for every tenant): "
            "no precision or recall to report. Labels come from the demo generator's planted situations."
        )
        sys.exit(0)
    lines = markdown(report)
    print("\n".join(lines))
    if args.misses:
        by: dict[str, list[Any]] = defaultdict(list)
        for tenant, r in report["tenants"].items():
            for k in r.get("dev_misses", []):
                by["miss"].append((tenant, *k))
            for k in r.get("dev_false", []):
                by["false"].append((tenant, *k))
        for kind, rows in by.items():
            print(f"\n{kind} (dev half):")
            for row in rows[: args.misses]:
                print("  ", row)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval_tasks.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (args.out / "eval_tasks.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
