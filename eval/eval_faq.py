"""FAQ clustering quality and speed: question extraction, cluster agreement with known themes, time on the demo.

Three labelled sets:

- ``demo``: the questions extracted from tenant ``hz-pharma``'s ~2.7k demo interactions. The generator
  (``demo/interactions.py``) writes each objection from one of eight templates; ``DEMO_THEMES`` recognises
  them here (test-only, mirroring the templates), which gives the true theme of every summary and every question.
  Templated text is the easy case: it measures the pipeline, not robustness to phrasing.
- ``objections``: the 352 rep-written queries of ``eval/datasets/objections_zh.jsonl`` (written for retrieval, by
  someone else, in varied real phrasing), labelled with the objection kind of their scripts (the payment kind split
  into terms / card / quota); the queries raising several kinds are left out. Clustered as questions directly.
- ``summaries``: ``eval/datasets/faq_summaries_zh.jsonl``, 50 handmade visit summaries (34 with one objection,
  16 with none), for extraction precision/recall on summary-style text. Written together with the extraction rule,
  so its figures are optimistic.

Metrics: extraction precision / recall; adjusted Rand index (noise and dropped clusters count as singletons),
purity (share of clustered questions in their cluster's majority theme), inverse purity (share of each theme in its
largest cluster: low when a theme is split), coverage (share of questions in a proposal), number of proposals.
Usage::

    python -m eval.eval_faq [--json] [--embedder use --embedder hashing]

Writes ``eval/reports/faq/faq_eval.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score  # type: ignore[import-untyped]

from copilot.faq import (
    DEFAULT_THRESHOLD,
    Algorithm,
    CatalogueNames,
    FaqReport,
    Question,
    cluster_questions,
    extract_questions,
    propose_faqs,
)
from demo.load import load_demo
from graph.embedded import EmbeddedGraphStore
from graph.model import Entry
from retrieval.embedders import CachedEmbedder, Embedder, make_embedder

AS_OF = dt.date(2026, 11, 25)
TENANT = "hz-pharma"
DATASETS = Path(__file__).parent / "datasets"
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
DEMO_THEMES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(p))
    for name, p in (
        ("price_vs_competitor", r"比.+贵约\d+%，希望降价|进价比.+高出不少"),
        ("price_high", r"价格偏高，(希望增加政策支持|患者嫌贵)"),
        ("insurance_settlement", r"医保结算.+失败|刷医保卡.+超限定支付范围"),
        ("formulary_restriction", r"医保目录的报销限制"),
        ("payment_terms", r"账期从\d+天延长到\d+天|账期资金压力大"),
        ("adverse_reaction", r"服用.+后出现.+(询问处理办法|有顾虑)"),
        ("stockout", r"再次断货，要求保证供应|断货多日"),
        ("efficacy_doubt", r"疗效有疑问|效果不如预期"),
        ("vbp_price_cut", r"集采(后|落地后)价格下调"),
        ("incumbent", r"已长期使用.+暂无更换打算"),
    )
)
"""The objection templates of ``demo/interactions.py`` (``objections`` in ``_summary``) and of the next-action
objections ``demo/task_plants.py`` plants (``objection_note``)."""
THEME_KIND = {
    "price_vs_competitor": "价格异议", "price_high": "价格异议", "vbp_price_cut": "价格异议",
    "insurance_settlement": "医保卡与回款", "payment_terms": "医保卡与回款", "adverse_reaction": "不良反应",
    "stockout": "缺货断货", "efficacy_doubt": "疗效质疑", "formulary_restriction": "医保报销",
}  # fmt: skip
"""The objection-script kind (its tag) that answers each demo theme, to judge the closest published match."""
KINDS = ("价格异议", "医保报销", "疗效质疑", "不良反应", "缺货断货", "医保卡与回款", "患者依从性", "DTP与处方外流")


def demo_theme(text: str) -> str | None:
    """The demo template a text was written from, or ``None``."""
    found = [name for name, p in DEMO_THEMES if p.search(text)]
    return found[0] if len(found) == 1 else None


def scores(gold: Sequence[str | None], labels: Sequence[int]) -> dict[str, Any]:
    """ARI, purity, inverse purity, coverage of predicted ``labels`` (-1 = unclustered) against ``gold`` themes."""
    truth = [g if g is not None else f"none-{i}" for i, g in enumerate(gold)]
    pred = [str(lab) if lab >= 0 else f"noise-{i}" for i, lab in enumerate(labels)]
    clusters: dict[int, Counter[str]] = defaultdict(Counter)
    themes: dict[str, Counter[int]] = defaultdict(Counter)
    for g, lab in zip(truth, labels, strict=True):
        themes[g][lab] += 1
        if lab >= 0:
            clusters[lab][g] += 1
    clustered = sum(sum(c.values()) for c in clusters.values())
    named = [g for g in themes if not g.startswith("none-")]
    return {
        "questions": len(gold),
        "ari": round(float(adjusted_rand_score(truth, pred)), 4),
        "purity": round(sum(c.most_common(1)[0][1] for c in clusters.values()) / clustered, 4) if clustered else 0.0,
        "inverse_purity": round(
            sum(max((n for lab, n in themes[g].items() if lab >= 0), default=0) for g in named)
            / max(1, sum(sum(themes[g].values()) for g in named)),
            4,
        ),
        "coverage": round(clustered / len(gold), 4) if gold else 0.0,
        "proposals": len(clusters),
        "themes": len(named),
    }


def separation(vectors: np.ndarray, gold: Sequence[str | None]) -> dict[str, float]:
    """Mean cosine distance between questions of the same theme and of different themes (unlabelled ones left out).

    When the two are close, no clustering algorithm can recover the themes from these vectors: the embedder is the
    limit, not the algorithm.
    """
    keep = [i for i, g in enumerate(gold) if g is not None]
    v = vectors[keep]
    labels = np.array([gold[i] for i in keep])
    same = np.equal.outer(labels, labels)
    off = ~np.eye(len(keep), dtype=bool)
    dist = 1.0 - v @ v.T
    return {
        "within": round(float(dist[same & off].mean()), 4) if (same & off).any() else 0.0,
        "between": round(float(dist[~same].mean()), 4) if (~same).any() else 0.0,
    }


def extraction_scores(items: Sequence[tuple[str, str | None, str]]) -> dict[str, Any]:
    """Summary-level extraction: (summary, theme or None, substring the question must contain)."""
    tp = fp = fn = 0
    misses: list[str] = []
    false_alarms: list[str] = []
    for summary, theme, expect in items:
        got = extract_questions(summary)
        if theme is None:
            fp += len(got)
            false_alarms += got
        elif any(expect in q for q in got):
            tp += 1
            fp += len(got) - 1
        else:
            fn += 1
            fp += len(got)
            misses.append(summary)
    return {
        "summaries": len(items),
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "missed": misses[:10],
        "false_alarms": false_alarms[:10],
    }


def demo_extraction(summaries: Sequence[str]) -> dict[str, Any]:
    """Extraction on the demo summaries: a question is right when it is exactly one template's clause."""
    tp = fp = fn = 0
    wrong: list[str] = []
    for s in summaries:
        gold = {t for clause in s.split("；") if (t := demo_theme(clause))}
        got = extract_questions(s)
        found = {demo_theme(q) for q in got}
        tp += len(gold & found)
        fn += len(gold - found)
        bad = [q for q in got if demo_theme(q) not in gold]
        fp += len(bad)
        wrong += bad
    return {
        "summaries": len(summaries),
        "with_objection": sum(1 for s in summaries if any(demo_theme(c) for c in s.split("；"))),
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "false_alarms": wrong[:10],
    }


def objection_questions() -> tuple[list[Question], list[str]]:
    """The single-kind queries of objections_zh.jsonl as questions, with their kind (payment split by subtype)."""
    questions: list[Question] = []
    gold: list[str] = []
    for line in (DATASETS / "objections_zh.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        kinds = [k for k in KINDS if k in row["note"]]
        if len(kinds) != 1:
            continue
        label = row["note"].split()[0].rstrip(";")
        questions.append(Question(row["query"], row["id"]))
        gold.append(label)
    return questions, gold


def summary_items() -> list[tuple[str, str | None, str]]:
    """The handmade summaries: (summary, theme or None, expected substring)."""
    rows = [json.loads(x) for x in (DATASETS / "faq_summaries_zh.jsonl").read_text(encoding="utf-8").splitlines()]
    return [(r["summary"], r["theme"], r["expect"]) for r in rows]


def _configs() -> list[tuple[Algorithm, float]]:
    return [("agglomerative", t) for t in THRESHOLDS] + [("hdbscan", 0.0)]


def _closest_ok(report: FaqReport, gold: Sequence[str | None], published: dict[str, Entry]) -> list[dict[str, Any]]:
    """For each proposal: its majority theme, its closest published entry, and whether that entry's tags fit."""
    rows = []
    for k, p in enumerate(report.proposals):
        themes = Counter(g for g, lab in zip(gold, report.labels, strict=True) if lab == k)
        theme = themes.most_common(1)[0][0] if themes else None
        m = p.closest_published
        tags = published[m.entry_id].tags if m and m.entry_id in published else []
        rows.append(
            {
                "title": p.title,
                "size": p.size,
                "theme": theme,
                "closest": m.entry_id if m else None,
                "closest_title": m.title if m else None,
                "similarity": m.similarity if m else None,
                "answered": p.answered,
                "fits": bool(theme and THEME_KIND.get(theme) in tags),
            }
        )
    return rows


def run(embedders: Sequence[str] = ("use", "hashing")) -> dict[str, Any]:
    """Every set, every embedder, every clustering configuration; timings of the default on the demo tenant."""
    out: dict[str, Any] = {"as_of": AS_OF.isoformat(), "tenant": TENANT, "default_threshold": DEFAULT_THRESHOLD}
    items = summary_items()
    out["extraction"] = {"summaries": extraction_scores(items)}
    oq, ogold = objection_questions()
    out["extraction"]["objections_queries"] = {
        "queries": len(oq),
        "with_question": sum(1 for q in oq if extract_questions(q.text)),
        "note": "search queries, many of them keywords (瑞舒 双通道): a floor for recall, not a summary-level figure",
    }
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedGraphStore(Path(tmp) / "graph", buffer_pool_mb=512)
        try:
            load_demo(store, as_of=AS_OF)
            summaries = [r.interaction.summary for r in store.interactions(TENANT)]
            out["extraction"]["demo"] = demo_extraction(summaries)
            names = CatalogueNames.from_store(store, TENANT)
            published = {
                e.id: e
                for kind in ("faq", "objection_script")
                for e in store.entries(TENANT, status="published", kind=kind)
            }
            hand = [
                (Question(q, f"s{i}"), theme) for i, (s, theme, _) in enumerate(items) for q in extract_questions(s)
            ]
            hand = [(q, t) for q, t in hand if t is not None]
            results: dict[str, Any] = {}
            for name in embedders:
                inner: Embedder = make_embedder(name)
                t0 = time.perf_counter()
                first = propose_faqs(store, TENANT, inner)
                wall = time.perf_counter() - t0
                emb = CachedEmbedder(inner)
                per: dict[str, Any] = {
                    "timing_default": {**first.summary(), "wall_s": round(wall, 3)},
                    "answered_check": _closest_ok(first, [demo_theme(q.text) for q in first.questions], published),
                    "configs": [],
                    "separation": {
                        "demo": separation(
                            emb.embed_documents([names.mask(q.text) for q in first.questions]),
                            [demo_theme(q.text) for q in first.questions],
                        ),
                        "objections": separation(emb.embed_documents([names.mask(q.text) for q in oq]), ogold),
                    },
                }
                for algorithm, threshold in _configs():
                    row: dict[str, Any] = {"algorithm": algorithm, "threshold": threshold}
                    demo = propose_faqs(store, TENANT, emb, algorithm=algorithm, threshold=threshold)
                    row["demo"] = scores([demo_theme(q.text) for q in demo.questions], demo.labels)
                    obj = cluster_questions(oq, emb, names=names, algorithm=algorithm, threshold=threshold)
                    row["objections"] = scores(ogold, obj.labels)
                    hs = cluster_questions(
                        [q for q, _ in hand], emb, names=names, algorithm=algorithm, threshold=threshold, min_size=2
                    )
                    row["summaries"] = scores([t for _, t in hand], hs.labels)
                    per["configs"].append(row)
                results[name] = per
            out["embedders"] = results
        finally:
            store.close()
    return out


def markdown(r: dict[str, Any]) -> str:
    """The report as Markdown."""
    ex = r["extraction"]
    lines = [
        "# FAQ clustering evaluation",
        "",
        f"Demo as of {r['as_of']}, tenant `{r['tenant']}`; default: agglomerative, cosine distance threshold "
        f"{r['default_threshold']}, min size 5. Reproduce: `python -m eval.eval_faq`.",
        "",
        "## Question extraction",
        "",
        "| set | summaries | precision | recall |",
        "|---|---:|---:|---:|",
        f"| demo ({ex['demo']['with_objection']} with an objection) | {ex['demo']['summaries']} | "
        f"{ex['demo']['precision']:.3f} | {ex['demo']['recall']:.3f} |",
        f"| handmade summaries | {ex['summaries']['summaries']} | {ex['summaries']['precision']:.3f} | "
        f"{ex['summaries']['recall']:.3f} |",
        "",
        f"objections_zh queries with at least one question extracted: {ex['objections_queries']['with_question']} of "
        f"{ex['objections_queries']['queries']} ({ex['objections_queries']['note']}).",
        "",
    ]
    for name, per in r["embedders"].items():
        t = per["timing_default"]
        lines += [
            f"## Embedder `{name}`",
            "",
            f"Default configuration on the demo tenant: {t['interactions']} interactions, {t['questions']} questions, "
            f"{t['proposals']} proposals, {t['wall_s']:.2f} s in all (seconds per step: "
            + ", ".join(f"{k} {v:.2f}" for k, v in t["seconds"].items())
            + ").",
            "",
            "| algorithm | threshold | demo ARI | purity | inv. purity | coverage | proposals | objections ARI | "
            "purity | inv. purity | coverage | proposals | summaries ARI | proposals |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        sep = per["separation"]
        for row in per["configs"]:
            d, o, s = row["demo"], row["objections"], row["summaries"]
            thr = f"{row['threshold']:.2f}" if row["algorithm"] == "agglomerative" else "–"
            lines.append(
                f"| {row['algorithm']} | {thr} | {d['ari']:.3f} | {d['purity']:.3f} | {d['inverse_purity']:.3f} | "
                f"{d['coverage']:.3f} | {d['proposals']} | {o['ari']:.3f} | {o['purity']:.3f} | "
                f"{o['inverse_purity']:.3f} | {o['coverage']:.3f} | {o['proposals']} | {s['ari']:.3f} | "
                f"{s['proposals']} |"
            )
        lines += [
            "",
            "Mean cosine distance of questions of the same theme / of different themes: demo "
            f"{sep['demo']['within']:.2f} / {sep['demo']['between']:.2f}, objections "
            f"{sep['objections']['within']:.2f} / {sep['objections']['between']:.2f}.",
            "",
            "Closest published entry of each default proposal (fits = its tags name the objection kind of the "
            "proposal's majority theme):",
            "",
            "| size | proposal | theme | closest published | similarity | answered | fits |",
            "|---:|---|---|---|---:|---|---|",
        ]
        for c in per["answered_check"]:
            lines.append(
                f"| {c['size']} | {c['title']} | {c['theme']} | {c['closest']} {c['closest_title']} | "
                f"{c['similarity']:.3f} | {'yes' if c['answered'] else 'no'} | {'yes' if c['fits'] else 'no'} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run, write the reports, print Markdown or JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--json", action="store_true", help="Print the full report as JSON.")
    p.add_argument("--embedder", action="append", help="Embedders to compare (repeatable): use, minilm, m3e, hashing.")
    p.add_argument("--out", type=Path, default=Path("eval/reports/faq"))
    args = p.parse_args(argv)
    report = run(tuple(args.embedder or ("use", "hashing")))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "faq_eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md = markdown(report)
    (args.out / "faq_eval.md").write_text(md, encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else md)
    return report


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
