"""Formulary status of product-master names: the matcher against a blind labelled set, and a plain rapidfuzz baseline.

The set (``eval/datasets/formulary_names/``, 760 ERP names, see its README) was written by a helper session that never
read the code; half of it (``heldout``) is never used for tuning. For each split this reports:

* status accuracy: the right state, and for a listed product the right row (section + number + name + dosage form)
  and category;
* precision of ``matched``: of the products the matcher tagged, the share tagged with the right row and category;
* review rate: the share left to a person;

and the same for the baseline (best rapidfuzz ``WRatio`` of the raw name against every list name; matched at or above
a threshold chosen on ``dev`` for the best status accuracy, else not listed). Usage::

    python -m eval.eval_formulary [--split dev|heldout|all] [--nrdl DIR] [--json]   (also: python -m eval formulary)

Writes ``eval/reports/formulary/formulary_eval.{json,md}``. Needs the official 2024 workbook (``--nrdl``, default
``../shared/data/nrdl`` beside the repository); without it, it says so and writes nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from graph.model import Product
from ingest.formulary import load_edition
from ingest.nrdl import NrdlDrug
from resolution.nrdl_match import Decision, FormularyMatcher
from resolution.text import normalize, row_identity

DATASET = Path(__file__).resolve().parent / "datasets" / "formulary_names"
DEFAULT_NRDL = Path(__file__).resolve().parents[2] / "shared" / "data" / "nrdl"
TARGETS = {"status_accuracy": 0.97, "matched_precision": 0.99, "review_rate_max": 0.10}


def load_set(directory: Path = DATASET) -> tuple[list[Product], list[dict[str, Any]]]:
    """The product master (as `Product` nodes, the way an ingest reads it) and the labels, in file order."""
    products = []
    with (directory / "products.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            products.append(
                Product(
                    tenant="eval",
                    sku=row["商品编码"],
                    name=row["商品名称"],
                    spec=row["规格"] or None,
                    manufacturer=row["生产企业"] or None,
                    unit=row["单位"] or None,
                )
            )
    labels = [json.loads(line) for line in (directory / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    return products, labels


def label_identity(label: dict[str, Any]) -> str:
    """The labelled row's identity (section + number + name + form), normalised as the matcher normalises rows."""
    return row_identity(label["section"], label["number"], label["nrdl_name"], label["dosage_form"])


def is_right(state: str, identity: str | None, category: str | None, label: dict[str, Any]) -> bool:
    """Right state and, for a listed product, right row and category."""
    if state != label["expected_state"]:
        return False
    return state != "matched" or (identity == label_identity(label) and category == label["category"])


def score(outcomes: list[tuple[str, bool]]) -> dict[str, Any]:
    """Status accuracy, precision of matched, review rate over (state, right) pairs."""
    n = len(outcomes)
    matched = [ok for state, ok in outcomes if state == "matched"]
    return {
        "n": n,
        "status_accuracy": round(sum(ok for _, ok in outcomes) / n, 4) if n else 0.0,
        "matched_precision": round(sum(matched) / len(matched), 4) if matched else 0.0,
        "matched": len(matched),
        "review_rate": round(sum(state == "review" for state, _ in outcomes) / n, 4) if n else 0.0,
        "states": dict(Counter(state for state, _ in outcomes)),
    }


class Baseline:
    """Best rapidfuzz WRatio of the raw product name against every individual list name."""

    def __init__(self, drugs: list[NrdlDrug]) -> None:
        self.choices: list[str] = []
        self.rows: list[NrdlDrug] = []
        for d in drugs:
            for alt in d.alternative_names or (d.name,):
                self.choices.append(normalize(alt))
                self.rows.append(d)

    def best(self, name: str) -> tuple[float, NrdlDrug]:
        """The best-scoring list row for a name and its score (0–100)."""
        found = process.extractOne(normalize(name), self.choices, scorer=fuzz.WRatio)
        assert found is not None
        return float(found[1]), self.rows[found[2]]


def _identity(d: NrdlDrug) -> str:
    return row_identity(d.section, d.number, d.name, d.dosage_form)


def run(nrdl_dir: Path, splits: tuple[str, ...]) -> dict[str, Any]:
    """Evaluate the matcher and the baseline on the chosen splits (the baseline threshold always comes from dev)."""
    products, labels = load_set()
    t0 = time.perf_counter()
    drugs = load_edition([nrdl_dir / "nrdl-2024.xlsx"], "NRDL-2024")
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    matcher = FormularyMatcher(drugs)
    build_s = time.perf_counter() - t0
    baseline = Baseline(drugs)
    wanted = [(p, lab) for p, lab in zip(products, labels, strict=True) if lab["split"] in splits]
    dev = [(p, lab) for p, lab in zip(products, labels, strict=True) if lab["split"] == "dev"]
    # baseline threshold: best status accuracy on dev
    dev_best = [baseline.best(p.name) for p, _ in dev]
    best_t, best_acc = 0.0, -1.0
    for t in range(50, 101):
        acc = sum(
            is_right("matched" if s >= t else "not_listed", _identity(d), d.category, lab)
            for (s, d), (_, lab) in zip(dev_best, dev, strict=True)
        )
        if acc > best_acc:
            best_t, best_acc = float(t), acc
    t0 = time.perf_counter()
    decisions: list[Decision] = [matcher.match_product(p) for p, _ in wanted]
    match_s = time.perf_counter() - t0
    report: dict[str, Any] = {
        "dataset": str(DATASET.relative_to(Path(__file__).resolve().parents[1])),
        "edition": "NRDL 2024 (nrdl-2024.xlsx)",
        "rows": len(matcher.rows),
        "timing_s": {"load_list": round(load_s, 2), "build_matcher": round(build_s, 2), "match": round(match_s, 3)},
        "baseline_threshold": best_t,
        "targets": TARGETS,
        "splits": {},
    }
    for split in splits:
        idx = [i for i, (_, lab) in enumerate(wanted) if lab["split"] == split]
        if not idx:
            continue
        ours: list[tuple[str, bool]] = []
        base: list[tuple[str, bool]] = []
        by_trap: dict[str, list[bool]] = defaultdict(list)
        by_reason: Counter[str] = Counter()
        misses = []
        for i in idx:
            p, lab = wanted[i]
            d = decisions[i]
            ident = d.row.identity if d.row else None
            ok = is_right(d.state, ident, d.row.category if d.row else None, lab)
            ours.append((d.state, ok))
            by_trap[lab["trap"]].append(ok)
            if d.state == "not_listed" and lab["expected_state"] == "not_listed":
                by_reason["right" if d.reason == lab["reason"] else f"{lab['reason']}→{d.reason}"] += 1
            s, row = baseline.best(p.name)
            state = "matched" if s >= best_t else "not_listed"
            base.append((state, is_right(state, _identity(row), row.category, lab)))
            if not ok:
                misses.append(
                    {
                        "sku": p.sku,
                        "name": p.name,
                        "trap": lab["trap"],
                        "expected": lab["expected_state"]
                        + (
                            f" {lab['section']} {lab['number']} {lab['nrdl_name']} {lab['dosage_form'] or ''}"
                            f" {lab['category']}"
                            if lab["expected_state"] == "matched"
                            else f" ({lab['reason']})"
                        ),
                        "got": f"{d.state} {d.row.label() if d.row else ''} ({d.reason}: {d.explanation})",
                    }
                )
        report["splits"][split] = {
            "matcher": score(ours),
            "baseline": score(base),
            "not_listed_reasons": dict(by_reason),
            "by_trap": {t: {"n": len(v), "right": sum(v)} for t, v in sorted(by_trap.items())},
            "misses": misses,
        }
    return report


def markdown(r: dict[str, Any]) -> str:
    """The report as Markdown: targets first, then the baseline, the traps and every miss."""
    lines = [
        "# Formulary status of product-master names",
        "",
        f"{r['edition']}, {r['rows']:,} rows; set `{r['dataset']}` (blind, written without reading the code). "
        f"Baseline: best rapidfuzz WRatio of the raw name against every list name, matched at ≥ "
        f"{r['baseline_threshold']:.0f} (the threshold with the best status accuracy on dev).",
        "",
        "| split | n | status accuracy (≥ 0.97) | precision of matched (≥ 0.99) | review rate (≤ 10 %) "
        "| baseline accuracy | baseline precision |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for split, s in r["splits"].items():
        m, b = s["matcher"], s["baseline"]
        lines.append(
            f"| {split} | {m['n']} | {m['status_accuracy']:.3f} | {m['matched_precision']:.3f} ({m['matched']}) "
            f"| {m['review_rate']:.1%} | {b['status_accuracy']:.3f} | {b['matched_precision']:.3f} |"
        )
    t = r["timing_s"]
    lines += [
        "",
        f"Timing: list loaded in {t['load_list']} s, matcher built in {t['build_matcher']} s, "
        f"all products matched in {t['match']} s.",
    ]
    for split, s in r["splits"].items():
        lines += ["", f"## {split}: states {s['matcher']['states']}", ""]
        lines.append(f"Not-listed reasons (right, or label→ours): {s['not_listed_reasons']}")
        lines += ["", "| trap | n | right |", "|---|---:|---:|"]
        lines += [f"| {k} | {v['n']} | {v['right']} |" for k, v in s["by_trap"].items()]
        lines += [
            "",
            f"### Misses ({len(s['misses'])})",
            "",
            "| sku | name | trap | expected | got |",
            "|---|---|---|---|---|",
        ]
        for miss in s["misses"]:
            cells = [miss[k].replace("|", "/") for k in ("sku", "name", "trap", "expected", "got")]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run, write the reports, print Markdown or JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    p.add_argument("--nrdl", type=Path, default=DEFAULT_NRDL, help="Folder with nrdl-2024.xlsx.")
    p.add_argument("--json", action="store_true")
    p.add_argument("--out", type=Path, default=Path("eval/reports/formulary"))
    args = p.parse_args(argv)
    if not (args.nrdl / "nrdl-2024.xlsx").is_file():
        sys.stderr.write(f"official NRDL workbook not found at {args.nrdl / 'nrdl-2024.xlsx'}; nothing evaluated\n")
        return {}
    splits = ("dev", "heldout") if args.split == "all" else (args.split,)
    report = run(args.nrdl, splits)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.split == "all" else f"_{args.split}"
    (args.out / f"formulary_eval{suffix}.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    (args.out / f"formulary_eval{suffix}.md").write_text(markdown(report), encoding="utf-8")
    sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n" if args.json else markdown(report))
    return report


if __name__ == "__main__":
    main()
