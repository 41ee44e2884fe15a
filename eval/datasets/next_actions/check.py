"""Check and count the next-action labels of the demo (issue 24) for the evaluation seeds and dates.

``python -m eval.datasets.next_actions.check`` builds the demo for each seed and date, checks that every planted
situation is labelled, that no near miss is, and that the labels recomputed from the tables alone (objections read
from the texts, not from the generator's flags) are the stored ones, then prints the per-trigger counts as a
Markdown table (the README's). Exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter

from demo import build_demo
from demo.task_truth import TRIGGERS, task_labels

SEEDS = {7: "development", 11: "held out"}
DATES = (dt.date(2025, 2, 15), dt.date(2025, 6, 30))
"""The main evaluation date (45 days after NRDL-2024 took effect) and one with no edition within its window."""

OBJECTION_MARKS = (
    "希望降价", "价格偏高", "医保结算", "账期", "询问处理办法", "断货", "疗效有疑问", "集采后价格下调", "进价比",
    "超限定支付范围", "报销限制", "效果不如预期", "后出现", "暂无更换打算", "集采落地后",
)  # fmt: skip
"""The objection wordings the generator writes; a summary with none of them records no objection."""


def main(argv: list[str] | None = None) -> int:
    """Build, check, print the counts; 1 when a check fails."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, action="append", help="seeds (default: 7 and 11)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, action="append", help="dates (default: both)")
    args = parser.parse_args(argv)
    failures: list[str] = []
    ambiguous: list[tuple[int, dt.date, str, Counter[str]]] = []
    print("| seed | D | tenant | " + " | ".join(TRIGGERS) + " | all | near misses | ambiguous |")
    print("|---" * (len(TRIGGERS) + 6) + "|")
    for seed in args.seed or sorted(SEEDS):
        for day in args.as_of or DATES:
            data = build_demo(seed=seed, scale=1, as_of=day)
            for tenant, truth in data.truth.items():
                tasks, planted, near = set(truth["tasks"]), set(truth["task_planted"]), set(truth["task_near_misses"])
                where = f"seed {seed} {day} {tenant}"
                if planted - tasks:
                    failures.append(f"{where}: planted but not labelled: {sorted(planted - tasks)[:5]}")
                if near & tasks:
                    failures.append(f"{where}: near miss labelled: {sorted(near & tasks)[:5]}")
                t = data.tenants[tenant]
                talk = t["Interaction"]
                said = zip(talk.column("id").to_pylist(), talk.column("summary").to_pylist(), strict=True)
                objections = {i for i, s in said if any(m in s for m in OBJECTION_MARKS)}
                again = set(task_labels(t, day, objections=objections, anomalies=truth["quote_anomalies"]).tasks)
                if again != tasks:
                    failures.append(f"{where}: recomputed labels differ: {sorted(again ^ tasks)[:5]}")
                ambiguous.append((seed, day, tenant, Counter(x[0] for x in truth["task_ambiguous"])))
                count = Counter(x[0] for x in tasks)
                cells = [f"{count[k]} ({sum(1 for x in planted if x[0] == k)})" for k in TRIGGERS]
                print(f"| {seed} | {day} | {tenant} | " + " | ".join(cells) + f" | {len(tasks)} | {len(near)} | "
                      f"{len(truth['task_ambiguous'])} |")  # fmt: skip
    print("\nAmbiguous labels (`task_ambiguous`, positives under one reading only) per trigger:\n")
    print("| seed | D | tenant | " + " | ".join(TRIGGERS) + " |")
    print("|---" * (len(TRIGGERS) + 3) + "|")
    for seed, day, tenant, count in ambiguous:
        print(f"| {seed} | {day} | {tenant} | " + " | ".join(str(count[k]) for k in TRIGGERS) + " |")
    for f in failures:
        print("FAIL", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
