"""Evaluation of entity resolution (drug names and customers) on labelled pairs, against a plain-rapidfuzz baseline.

Usage::

    python -m eval.eval_er                      # table on the terminal, report files written
    python -m eval.eval_er --json               # the report as JSON on stdout
    python -m eval.eval_er --merge-threshold 80 --review-threshold 65

Each line of the dataset (``eval/datasets/er_pairs.jsonl``) is one pair ``{"kind", "a", "b", "same", "note"}``:

- ``drug``: ``a`` is a mention (text), ``b`` the catalogue product (a name, or an object with the `Product` fields
  ``name``, ``generic_name``, ``brand``, ``dosage_form``, ``spec``). The pair is resolved on its own: a
  `ProductResolver` over the single product ``b`` resolves ``a`` (the hardest setting: no other product competes).
- ``customer``: ``a`` and ``b`` are objects with ``name``, ``city`` and ``type``; `dedupe_customers` runs on the two.

How a decision counts: ``match`` is an automatic merge; **precision and recall are over automatic merges only**
(precision = correct merges / merges, recall = merged true pairs / true pairs). ``review`` is neither a merge nor a
rejection: it is counted separately as the review rate (share of all pairs sent to a person), with the share of true
pairs among them and the recall when a reviewer accepts every true pair (``recall_with_review``). The baseline is
``rapidfuzz.fuzz.ratio`` on the raw strings (``a`` and ``b``'s name) at a fixed threshold of 85, merging at or above
it; it has no review band.

The report (``er_eval.json`` and ``er_eval.md`` in ``--out``, default ``eval/reports/er``) also holds a threshold sweep
and the thresholds it suggests: the lowest merge threshold whose merges keep precision ≥ 0.98, then the lowest review
threshold that keeps the review rate ≤ 20 %. The defaults in `resolution.product_resolver` and
`resolution.customers` were set from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz

from graph.model import Customer, Product
from resolution.customers import CUSTOMER_MERGE_THRESHOLD, CUSTOMER_REVIEW_THRESHOLD, dedupe_customers
from resolution.product_resolver import DRUG_MERGE_THRESHOLD, DRUG_REVIEW_THRESHOLD, Decision, ProductResolver

DATASET = Path(__file__).parent / "datasets" / "er_pairs.jsonl"
OUT = Path(__file__).parent / "reports" / "er"
BASELINE_THRESHOLD = 85.0
"""Fixed threshold of the baseline (plain ``fuzz.ratio`` on raw strings), on rapidfuzz's 0–100 scale."""
TARGET_PRECISION = 0.98
MAX_REVIEW_RATE = 0.10
TENANT = "eval"
GRID: tuple[float, ...] = tuple(float(t) for t in range(50, 101))
"""Thresholds swept (0–100, step 1)."""
Kind = Literal["drug", "customer"]


class Pair(BaseModel):
    """One labelled pair of the dataset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    a: str | dict[str, Any]
    b: str | dict[str, Any]
    same: bool
    note: str = ""

    @property
    def category(self) -> str:
        """The tag before the first colon of the note (``salt``, ``brand``, ``hard_negative``…)."""
        return self.note.split(":", 1)[0].strip() or "other"

    def name(self, side: Literal["a", "b"]) -> str:
        """The raw name on one side (a string, or the ``name`` of an object)."""
        value = self.a if side == "a" else self.b
        return value if isinstance(value, str) else str(value["name"])


class Metrics(BaseModel):
    """Counts and rates of one method on one kind of pair."""

    n: int
    positives: int
    merged: int
    reviewed: int
    true_merges: int
    false_merges: int
    precision: float
    recall: float
    f1: float
    review_rate: float
    review_true_share: float | None
    recall_with_review: float


def load_pairs(path: Path = DATASET) -> list[Pair]:
    """The labelled pairs of a JSON-lines file; a bad line raises ValueError naming its number."""
    pairs: list[Pair] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            pairs.append(Pair.model_validate_json(line))
        except ValueError as e:
            raise ValueError(f"{path}:{number}: {e}") from e
    return pairs


def _product(value: str | dict[str, Any]) -> Product:
    fields = {"name": value} if isinstance(value, str) else value
    return Product(tenant=TENANT, sku="B", **fields)


def _customer(value: str | dict[str, Any], cid: str) -> Customer:
    fields = {"name": value, "type": "chain"} if isinstance(value, str) else value
    return Customer(tenant=TENANT, id=cid, **fields)


def drug_decision(pair: Pair, merge_threshold: float, review_threshold: float) -> Decision:
    """The resolver's decision on whether mention ``a`` is catalogue product ``b`` (alone in the catalogue)."""
    resolver = ProductResolver([_product(pair.b)], merge_threshold=merge_threshold, review_threshold=review_threshold)
    res = resolver.resolve(pair.name("a"))
    return res.decision if "B" in res.skus else "no_match"


def customer_decision(pair: Pair, merge_threshold: float, review_threshold: float) -> Decision:
    """The dedupe decision on customers ``a`` and ``b``: merged, put on review, or left apart."""
    report = dedupe_customers(
        [_customer(pair.a, "A"), _customer(pair.b, "B")],
        merge_threshold=merge_threshold,
        review_threshold=review_threshold,
    )
    if report.merges:
        return "match"
    return "review" if report.review else "no_match"


def baseline_decision(pair: Pair, threshold: float = BASELINE_THRESHOLD) -> Decision:
    """The baseline: plain ``fuzz.ratio`` of the raw names at a fixed threshold, no normalisation, no review."""
    return "match" if fuzz.ratio(pair.name("a"), pair.name("b")) >= threshold else "no_match"


def metrics(pairs: Sequence[Pair], decisions: Sequence[Decision]) -> Metrics:
    """Precision and recall over automatic merges, with reviews counted apart (see the module docstring)."""
    positives = sum(p.same for p in pairs)
    merged = [p for p, d in zip(pairs, decisions, strict=True) if d == "match"]
    reviewed = [p for p, d in zip(pairs, decisions, strict=True) if d == "review"]
    tp = sum(p.same for p in merged)
    precision = tp / len(merged) if merged else 1.0
    recall = tp / positives if positives else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    reviewed_true = sum(p.same for p in reviewed)
    return Metrics(
        n=len(pairs),
        positives=positives,
        merged=len(merged),
        reviewed=len(reviewed),
        true_merges=tp,
        false_merges=len(merged) - tp,
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(f1, 4),
        review_rate=round(len(reviewed) / len(pairs), 4) if pairs else 0.0,
        review_true_share=round(reviewed_true / len(reviewed), 4) if reviewed else None,
        recall_with_review=round((tp + reviewed_true) / positives, 4) if positives else 1.0,
    )


Decider = Callable[[Pair, float, float], Decision]
DECIDERS: dict[Kind, Decider] = {"drug": drug_decision, "customer": customer_decision}
DEFAULTS: dict[Kind, tuple[float, float]] = {
    "drug": (DRUG_MERGE_THRESHOLD, DRUG_REVIEW_THRESHOLD),
    "customer": (CUSTOMER_MERGE_THRESHOLD, CUSTOMER_REVIEW_THRESHOLD),
}


def evaluate_kind(pairs: Sequence[Pair], kind: Kind, merge_threshold: float, review_threshold: float) -> dict[str, Any]:
    """Metrics of the resolver and of the baseline on one kind of pair, per category, and the pairs it got wrong."""
    subset = [p for p in pairs if p.kind == kind]
    decide = DECIDERS[kind]
    decisions = [decide(p, merge_threshold, review_threshold) for p in subset]
    baseline = [baseline_decision(p) for p in subset]
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p, d in zip(subset, decisions, strict=True):
        row = by_category[p.category]
        row["n"] += 1
        row[d] += 1
        row["correct"] += int((d == "match") == p.same and d != "review")
    errors = [
        {"a": p.name("a"), "b": p.name("b"), "same": p.same, "decision": d, "note": p.note}
        for p, d in zip(subset, decisions, strict=True)
        if (d == "match") != p.same
    ]
    return {
        "thresholds": {"merge": merge_threshold, "review": review_threshold},
        "resolver": metrics(subset, decisions).model_dump(),
        "baseline": metrics(subset, baseline).model_dump() | {"threshold": BASELINE_THRESHOLD},
        "by_category": {k: dict(v) for k, v in sorted(by_category.items())},
        "not_merged_or_wrongly_merged": errors,
    }


def sweep(pairs: Sequence[Pair], kind: Kind, grid: Sequence[float]) -> dict[str, Any]:
    """Precision/recall per merge threshold, review rate per review threshold, and the thresholds they suggest.

    Merge: among the thresholds whose merges keep precision ≥ `TARGET_PRECISION`, those with the best recall form a
    plateau; its middle (lower median) is suggested, so that the threshold is not sitting on the score of one pair.
    Review: among review thresholds whose queue stays within `MAX_REVIEW_RATE` of all pairs, the highest one that
    still catches the most true pairs. Automatic merges do not depend on the review threshold, so merges are swept
    with review = merge, and the review threshold is swept below the suggested merge threshold.
    """
    subset = [p for p in pairs if p.kind == kind]
    decide = DECIDERS[kind]
    merges = {t: metrics(subset, [decide(p, t, t) for p in subset]) for t in grid}
    ok = {t: m for t, m in merges.items() if m.precision >= TARGET_PRECISION}
    best_recall = max((m.recall for m in ok.values()), default=None)
    plateau = sorted(t for t, m in ok.items() if m.recall == best_recall)
    merge = plateau[(len(plateau) - 1) // 2] if plateau else max(grid)
    reviews = {r: metrics(subset, [decide(p, merge, r) for p in subset]) for r in grid if r <= merge}
    within = {r: m for r, m in reviews.items() if m.review_rate <= MAX_REVIEW_RATE}
    best_caught = max((m.recall_with_review for m in within.values()), default=None)
    review = max((r for r, m in within.items() if m.recall_with_review == best_caught), default=merge)
    return {
        "merge_sweep": [
            {"merge": t, "precision": m.precision, "recall": m.recall, "f1": m.f1} for t, m in merges.items()
        ],
        "review_sweep": [
            {
                "review": r,
                "review_rate": m.review_rate,
                "recall_with_review": m.recall_with_review,
                "review_true_share": m.review_true_share,
            }
            for r, m in reviews.items()
        ],  # fmt: skip
        "suggested": {"merge": merge, "review": review},
    }


def run(
    dataset: Path = DATASET,
    *,
    merge_threshold: float | None = None,
    review_threshold: float | None = None,
    with_sweep: bool = True,
    grid: Sequence[float] = GRID,
) -> dict[str, Any]:
    """Evaluate both kinds at the given thresholds (each kind's defaults when None) and return the report."""
    pairs = load_pairs(dataset)
    report: dict[str, Any] = {
        "dataset": _shown(dataset),
        "pairs": len(pairs),
        "counting": "precision/recall over automatic merges; review counted separately (review_rate)",
        "baseline": f"rapidfuzz fuzz.ratio on raw strings >= {BASELINE_THRESHOLD:g}",
    }
    kinds: tuple[Kind, ...] = ("drug", "customer")
    for kind in kinds:
        merge, review = DEFAULTS[kind]
        merge = merge if merge_threshold is None else merge_threshold
        review = review if review_threshold is None else review_threshold
        report[kind] = evaluate_kind(pairs, kind, merge, review)
        if with_sweep:
            report[kind]["sweep"] = sweep(pairs, kind, grid)
    return report


def _shown(path: Path) -> str:
    """A path relative to the repository when it is inside it, so that reports do not name one machine's folders."""
    root = Path(__file__).resolve().parents[1]
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def to_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: headline table, per-category table, sweeps, and the pairs it gets wrong."""
    lines = [
        "# Entity resolution: evaluation",
        "",
        f"Dataset `{report['dataset']}` ({report['pairs']} labelled pairs). Counting: {report['counting']}. "
        f"Baseline: {report['baseline']}. Scores are 0–100.",
        "",
        "| kind | method | merge / review | precision | recall | F1 | review rate | recall with review | pairs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in ("drug", "customer"):
        r = report[kind]
        t = r["thresholds"]
        for method, m, th in (
            ("resolver", r["resolver"], f"{t['merge']:g} / {t['review']:g}"),
            ("baseline", r["baseline"], f"{r['baseline']['threshold']:g} / –"),
        ):
            lines.append(
                f"| {kind} | {method} | {th} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                f"{m['review_rate']:.3f} | {m['recall_with_review']:.3f} | {m['n']} |"
            )
    for kind in ("drug", "customer"):
        r = report[kind]
        lines += [
            "",
            f"## {kind}: by category",
            "",
            "| category | pairs | match | review | no_match | decided right (review not counted) |",
        ]
        lines.append("|---|---|---|---|---|---|")
        for cat, row in r["by_category"].items():
            lines.append(
                f"| {cat} | {row.get('n', 0)} | {row.get('match', 0)} | {row.get('review', 0)} | "
                f"{row.get('no_match', 0)} | {row.get('correct', 0)} |"
            )
        if "sweep" in r:
            s = r["sweep"]
            lines += [
                "",
                f"### {kind}: merge-threshold sweep",
                "",
                "| merge | precision | recall | F1 |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {x['merge']:g} | {x['precision']:.3f} | {x['recall']:.3f} | {x['f1']:.3f} |"
                for x in s["merge_sweep"]
            ]
            lines += ["", f"### {kind}: review-threshold sweep (merge {s['suggested']['merge']:g})", ""]
            lines += ["| review | review rate | recall with review | true share of reviews |", "|---|---|---|---|"]
            for x in s["review_sweep"]:
                share = "–" if x["review_true_share"] is None else f"{x['review_true_share']:.3f}"
                lines.append(f"| {x['review']:g} | {x['review_rate']:.3f} | {x['recall_with_review']:.3f} | {share} |")
            lines += ["", f"Suggested: merge {s['suggested']['merge']:g}, review {s['suggested']['review']:g} "
                      f"(lowest merge threshold with precision ≥ {TARGET_PRECISION}, then lowest review threshold "
                      f"with review rate ≤ {MAX_REVIEW_RATE:.0%})."]  # fmt: skip
        lines += ["", f"### {kind}: pairs not merged though the same, or merged though different", ""]
        lines += ["| a | b | same | decision | note |", "|---|---|---|---|---|"]
        for e in r["not_merged_or_wrongly_merged"]:
            lines.append(f"| {e['a']} | {e['b']} | {e['same']} | {e['decision']} | {e['note']} |")
    return "\n".join(lines) + "\n"


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Entity resolution on {report['pairs']} labelled pairs (precision/recall of automatic merges)")
    for col in ("kind", "method", "merge/review", "precision", "recall", "F1", "review rate", "recall w/ review"):
        table.add_column(col, justify="right" if col not in ("kind", "method") else "left")
    for kind in ("drug", "customer"):
        r = report[kind]
        t = r["thresholds"]
        for method, m, th in (
            ("resolver", r["resolver"], f"{t['merge']:g}/{t['review']:g}"),
            ("baseline", r["baseline"], f"{r['baseline']['threshold']:g}/–"),
        ):
            table.add_row(kind, method, th, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                          f"{m['review_rate']:.3f}", f"{m['recall_with_review']:.3f}")  # fmt: skip
    console = Console()
    console.print(table)
    for kind in ("drug", "customer"):
        if "sweep" in report[kind]:
            s = report[kind]["sweep"]["suggested"]
            console.print(f"{kind}: suggested thresholds merge {s['merge']:g}, review {s['review']:g}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: evaluate, write ``er_eval.json`` and ``er_eval.md``, print a table or the JSON."""
    parser = argparse.ArgumentParser(prog="python -m eval.eval_er", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--out", type=Path, default=OUT, help="folder for er_eval.json and er_eval.md")
    parser.add_argument("--merge-threshold", type=float, default=None, help="0–100, both kinds (default: each kind's)")
    parser.add_argument("--review-threshold", type=float, default=None, help="0–100, both kinds (default: each kind's)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the threshold sweep")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    args = parser.parse_args(argv)
    report = run(
        args.dataset,
        merge_threshold=args.merge_threshold,
        review_threshold=args.review_threshold,
        with_sweep=not args.no_sweep,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "er_eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (args.out / "er_eval.md").write_text(to_markdown(report), encoding="utf-8")
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
