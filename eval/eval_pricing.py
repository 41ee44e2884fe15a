"""Price-flag quality: hold out the last months of demo order lines, inject anomalies, check every held-out line.

Anomaly types (fixed seed): price ±25–60 %, unit mistakes ×7 / ×10 / ×30 and ÷10, the price of another SKU, below
the floor price. Compared with a naive baseline (list price ± 20 %) and a non-widening baseline (the narrowest peer
group only). Usage::

    python -m eval.eval_pricing [--json]      (also: salescopilot eval pricing)

Writes ``eval/reports/pricing/pricing_eval.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc

from demo import build_demo
from eval.stats import percentiles
from graph.model import Customer, ListedIn, Product
from pricing_guard.guard import QuoteLine, check_line
from pricing_guard.index import PriceIndex

AS_OF = dt.date(2026, 11, 25)
TENANT = "hz-pharma"
TYPES = ("up", "down", "x7", "x10", "x30", "div10", "other_sku", "below_floor")


def build(holdout_days: int = 60, seed: int = 11) -> tuple[PriceIndex, list[dict[str, Any]], dict[str, Product]]:
    """The index over lines before the cut, and the held-out lines after it."""
    demo = build_demo(seed=7, scale=1, as_of=AS_OF).tenants[TENANT]
    cut = AS_OF - dt.timedelta(days=holdout_days)
    index = PriceIndex(TENANT)
    index.set_customers(Customer(tenant=TENANT, **r) for r in demo["Customer"].to_pylist())
    products = {r["sku"]: Product(tenant=TENANT, **r) for r in demo["Product"].to_pylist()}
    listed = {
        r["sku"]: ListedIn(tenant=TENANT, **r) for r in demo["ListedIn"].to_pylist() if r["edition_id"] == "NRDL-2024"
    }
    index.set_products(products.values(), listed)
    lines = demo["Purchased"]
    index.add_table(lines.filter(pc.less(lines.column("at"), cut)))
    held = lines.filter(pc.greater_equal(lines.column("at"), cut)).to_pylist()
    rng = np.random.default_rng(seed)
    return index, [held[i] for i in rng.permutation(len(held))[:3000]], products


def inject(lines: list[dict[str, Any]], products: dict[str, Product], seed: int = 12) -> list[dict[str, Any]]:
    """A third of the lines get one anomaly each (type round-robin); the rest stay clean (``kind`` = clean)."""
    rng = np.random.default_rng(seed)
    medians: dict[str, float] = {}
    for line in lines:
        medians.setdefault(line["sku"], line["unit_price"])
    out = []
    for i, line in enumerate(lines):
        row = dict(line, kind="clean")
        if i % 3 == 0:
            kind = TYPES[(i // 3) % len(TYPES)]
            p = line["unit_price"]
            if kind == "up":
                p *= 1 + rng.uniform(0.25, 0.60)
            elif kind == "down":
                p *= 1 - rng.uniform(0.25, 0.60)
            elif kind in ("x7", "x10", "x30"):
                p *= int(kind[1:])
            elif kind == "div10":
                p /= 10
            elif kind == "other_sku":
                others = [v for s, v in medians.items() if s != line["sku"] and not 0.75 <= v / p <= 1.33]
                if not others:
                    out.append(row)
                    continue
                p = others[int(rng.integers(0, len(others)))]
            else:
                floor = products[line["sku"]].floor_price
                if not floor:
                    out.append(row)
                    continue
                p = floor * rng.uniform(0.5, 0.95)
            row.update(unit_price=round(p, 2), kind=kind)
        out.append(row)
    return out


def score(flags: list[bool], kinds: list[str]) -> dict[str, Any]:
    """Precision, recall, false-flag rate on clean lines, and recall per anomaly type."""
    anomalies = [k != "clean" for k in kinds]
    tp = sum(f and a for f, a in zip(flags, anomalies, strict=True))
    flagged = sum(flags)
    clean = len(kinds) - sum(anomalies)
    by_type = {}
    for t in (*TYPES, "clean"):
        sel = [f for f, k in zip(flags, kinds, strict=True) if k == t]
        if sel:
            key = "false_flag_rate" if t == "clean" else "recall"
            by_type[t] = {"n": len(sel), key: round(sum(sel) / len(sel), 4)}
    return {
        "precision": round(tp / flagged, 4) if flagged else 0.0,
        "recall": round(tp / max(sum(anomalies), 1), 4),
        "false_flag_rate": round((flagged - tp) / max(clean, 1), 4),
        "by_type": by_type,
    }


def run() -> dict[str, Any]:
    """Guard, non-widening guard and list-price baseline over the same injected lines."""
    index, held, products = build()
    rows = inject(held, products)
    kinds = [r["kind"] for r in rows]
    guard, narrow, naive, times = [], [], [], []
    verdicts: dict[str, int] = {}
    for r in rows:
        q = QuoteLine(r["customer_id"], r["sku"], r["unit_price"], r["qty"], r["at"])
        t0 = time.perf_counter()
        c = check_line(index, q)
        times.append((time.perf_counter() - t0) * 1000)
        verdicts[c.verdict] = verdicts.get(c.verdict, 0) + 1
        guard.append(c.flagged)
        narrow.append(check_line(index, q, widen=False).flagged)
        lp = products[r["sku"]].list_price
        naive.append(bool(lp) and not 0.8 * lp <= r["unit_price"] <= 1.2 * lp)  # type: ignore[operator]
    report = score(guard, kinds)
    report.update(
        lines=len(rows),
        anomalies=sum(k != "clean" for k in kinds),
        verdicts=verdicts,
        check_ms=percentiles(times, (50, 99)),
        baselines={"list_price_20pct": score(naive, kinds), "non_widening": score(narrow, kinds)},
    )
    return report


def markdown(r: dict[str, Any]) -> str:
    """The report as Markdown."""
    lines = [
        "# Price-flag evaluation",
        "",
        f"{r['lines']:,} held-out order lines of the demo tenant `{TENANT}` (last 60 days), {r['anomalies']:,} with an "
        "injected anomaly; the index holds only the lines before the cut.",
        "",
        "| method | precision | recall | false-flag rate (clean) |",
        "|---|---:|---:|---:|",
        f"| guard | {r['precision']:.3f} | {r['recall']:.3f} | {r['false_flag_rate']:.3%} |",
    ]
    for name, b in r["baselines"].items():
        lines.append(f"| {name} | {b['precision']:.3f} | {b['recall']:.3f} | {b['false_flag_rate']:.3%} |")
    lines += ["", "| anomaly | n | guard recall | list ± 20 % | non-widening |", "|---|---:|---:|---:|---:|"]
    for t, v in r["by_type"].items():
        key = "false_flag_rate" if t == "clean" else "recall"
        b1, b2 = r["baselines"]["list_price_20pct"]["by_type"][t], r["baselines"]["non_widening"]["by_type"][t]
        lines.append(f"| {t} ({key}) | {v['n']} | {v[key]:.3f} | {b1[key]:.3f} | {b2[key]:.3f} |")
    lines += [
        "",
        f"Verdicts: {r['verdicts']}; check latency p50 {r['check_ms']['p50']} ms, p99 {r['check_ms']['p99']} ms.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run, write the reports, print Markdown or JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", type=Path, default=Path("eval/reports/pricing"))
    args = p.parse_args(argv)
    report = run()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pricing_eval.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "pricing_eval.md").write_text(markdown(report), encoding="utf-8")
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.json else markdown(report))
    return report


if __name__ == "__main__":
    main()
