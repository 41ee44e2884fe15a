"""Adverse-event detection on independent labelled sets: precision and recall, dev and held-out apart.

Two set layouts, both written by helpers that never saw the detector (`copilot.adverse_events`; each README
explains the labels):

- a file (``sentences.jsonl``: ``text``, ``label`` report / not_report, ``category``, ``split`` dev / heldout) —
  /work/evalsets/adverse_events, single sentences;
- a folder with ``dev.jsonl`` and ``heldout.jsonl`` (``id``, ``text``, ``label`` reaction / no_reaction; the split is
  the file) — /work/evalsets/adverse_events2, whole visit notes as reps write them.

Rules may be tuned on the dev halves only: ``--misses`` prints dev misses and never held-out ones. The held-out half
is the figure that counts (issue 21's targets: recall ≥ 0.95, precision ≥ 0.90).

``python -m eval.eval_adverse_events [--set PATH ...] [--out DIR] [--misses]``; every set by default; a set that is
absent is skipped with a message (exit 0). Reports are written per set, named after the set's folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from copilot.adverse_events import detect

DEFAULT_SETS = (
    Path("/work/evalsets/adverse_events/sentences.jsonl"),
    Path("/work/evalsets/adverse_events2"),
)
POSITIVE = {"report", "reaction"}
"""Labels of the positive class in either layout."""
NEGATIVE = {"not_report", "no_reaction"}
TARGET_RECALL = 0.95
TARGET_PRECISION = 0.90


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load(path: Path) -> list[dict[str, Any]]:
    """The labelled items of a set in one shape: ``text``, ``label`` report / not_report, ``category``, ``split``.

    A folder is read as ``dev.jsonl`` + ``heldout.jsonl`` (the split is the file); a file carries its split per row.
    An unknown label is an error naming the file and row (a typo must not silently become a negative).
    """
    sources = [(path / f"{s}.jsonl", s) for s in ("dev", "heldout")] if path.is_dir() else [(path, None)]
    items: list[dict[str, Any]] = []
    for file, split in sources:
        for row_no, row in enumerate(_rows(file), 1):
            if row.get("label") not in POSITIVE | NEGATIVE:
                raise ValueError(
                    f"{file}: row {row_no}: label {row.get('label')!r} is not one of {sorted(POSITIVE | NEGATIVE)}"
                )
            label = "report" if row["label"] in POSITIVE else "not_report"
            items.append({**row, "label": label, "category": row.get("category", "uncategorised"),
                          "split": split or row["split"]})  # fmt: skip
    return items


def scores(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Confusion counts, precision, recall and F1 of ``detect`` on ``items`` (report is the positive class)."""
    tp = fp = fn = tn = 0
    by_category: Counter[str] = Counter()
    wrong_by_category: Counter[str] = Counter()
    for item in items:
        gold = item["label"] == "report"
        flagged = detect(item["text"]) is not None
        by_category[item["category"]] += 1
        if flagged != gold:
            wrong_by_category[item["category"]] += 1
        tp += gold and flagged
        fp += flagged and not gold
        fn += gold and not flagged
        tn += not gold and not flagged
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(items), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        "categories": {c: {"n": n, "wrong": wrong_by_category[c]} for c, n in sorted(by_category.items())},
    }  # fmt: skip


def run(path: Path) -> dict[str, Any]:
    """Scores per split and overall, with the targets and whether the held-out half meets them."""
    items = load(path)
    splits = {s: [i for i in items if i["split"] == s] for s in ("dev", "heldout")}
    report: dict[str, Any] = {
        "set": str(path),
        "items": len(items),
        "targets": {"recall": TARGET_RECALL, "precision": TARGET_PRECISION},
        "dev": scores(splits["dev"]),
        "heldout": scores(splits["heldout"]),
        "all": scores(items),
    }
    held = report["heldout"]
    report["heldout_meets"] = {
        "recall": held["recall"] >= TARGET_RECALL,
        "precision": held["precision"] >= TARGET_PRECISION,
    }
    return report


def dev_misses(path: Path) -> list[dict[str, Any]]:
    """The dev half's wrong answers (never the held-out half's), for reading before a rule changes."""
    out = []
    for item in load(path):
        if item["split"] != "dev":
            continue
        finding = detect(item["text"])
        if (finding is not None) != (item["label"] == "report"):
            out.append({**item, "flagged_clause": finding.sentence if finding else None,
                        "flagged_words": list(finding.symptoms) if finding else []})  # fmt: skip
    return out


def set_name(path: Path) -> str:
    """The set's name for its report files: its folder's name (adverse_events, adverse_events2)."""
    return path.name if path.is_dir() else path.parent.name or path.stem


def markdown(r: dict[str, Any]) -> str:
    """The report as Markdown: held-out next to the targets, then dev, then the categories."""
    lines = [
        "# Adverse-event detection (疑似不良反应)",
        "",
        f"Set: `{r['set']}` ({r['items']} items, written blind; how: the set's README.md). "
        "Detector: `copilot.adverse_events.detect`.",
        "Rules were read against and tuned on the **dev** half only; **held-out** is the figure that counts.",
        "Earlier held-out measurements and what changed between them: docs/decisions/2026-12-07-adverse-events.md.",
        "",
        "| split | n | precision | recall | F1 | TP | FP | FN | TN |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for split in ("heldout", "dev", "all"):
        s = r[split]
        lines.append(
            f"| {split} | {s['n']} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
            f"{s['tp']} | {s['fp']} | {s['fn']} | {s['tn']} |"
        )
    t, m = r["targets"], r["heldout_meets"]
    lines += [
        "",
        f"Targets on held-out: recall ≥ {t['recall']} — {'met' if m['recall'] else '**not met**'}; "
        f"precision ≥ {t['precision']} — {'met' if m['precision'] else '**not met**'}.",
        "",
        "## Wrong answers by category",
        "",
        "| category | held-out wrong / n | dev wrong / n |",
        "|---|---|---|",
    ]
    cats = sorted(set(r["heldout"]["categories"]) | set(r["dev"]["categories"]))
    for c in cats:
        h = r["heldout"]["categories"].get(c, {"n": 0, "wrong": 0})
        d = r["dev"]["categories"].get(c, {"n": 0, "wrong": 0})
        lines.append(f"| {c} | {h['wrong']} / {h['n']} | {d['wrong']} / {d['n']} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    """Run, write the reports (JSON + Markdown), print Markdown; ``--misses`` prints the dev misses instead."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument(
        "--set", type=Path, action="append", dest="sets",
        help="A labelled set: sentences.jsonl, or a folder with dev.jsonl + heldout.jsonl (repeatable; default both).",
    )  # fmt: skip
    p.add_argument("--out", type=Path, default=Path("eval/reports/adverse_events"))
    p.add_argument("--misses", action="store_true", help="Print the dev halves' misses (never held-out ones).")
    args = p.parse_args(argv)
    paths: list[Path] = args.sets or list(DEFAULT_SETS)
    reports: dict[str, Any] = {}
    for path in paths:
        if not (path.is_file() or (path / "dev.jsonl").is_file()):
            print(f"adverse-event set not found at {path}: skipped (give it with --set)")
            continue
        if args.misses:
            for miss in dev_misses(path):
                print(json.dumps(miss, ensure_ascii=False))
            continue
        report = run(path)
        name = set_name(path)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"{name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        md = markdown(report)
        (args.out / f"{name}.md").write_text(md, encoding="utf-8")
        print(md)
        reports[name] = report
    if not reports:
        return None
    return next(iter(reports.values())) if len(reports) == 1 else {"sets": reports}


if __name__ == "__main__":
    main()
    sys.exit(0)
