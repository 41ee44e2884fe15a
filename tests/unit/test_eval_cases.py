"""The demo case-suggestion evaluation: its metrics, its labelled deals against the demo, and a run on a subset."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from eval.datasets import build_cases_zh
from eval.eval_cases_demo import load_deals, markdown, metrics, paired, run, summarise
from retrieval.embedders import HashingEmbedder


def test_metrics_count_the_first_relevant_case() -> None:
    assert metrics(["a", "b", "c"], {"a"}) == {"hit@1": 1.0, "hit@3": 1.0, "mrr": 1.0}
    assert metrics(["x", "y", "b", "a"], {"a", "b"}) == {"hit@1": 0.0, "hit@3": 1.0, "mrr": pytest.approx(1 / 3)}
    assert metrics(["x", "y", "z", "a"], {"a"}) == {"hit@1": 0.0, "hit@3": 0.0, "mrr": 0.25}
    assert metrics([f"x{i}" for i in range(10)] + ["a"], {"a"})["mrr"] == 0.0  # beyond MRR_DEPTH
    assert metrics([], {"a"}) == {"hit@1": 0.0, "hit@3": 0.0, "mrr": 0.0}
    s = summarise([metrics(["a"], {"a"}), metrics(["x"], {"a"})])
    assert s == {"n": 2, "hit@1": 0.5, "hit@3": 0.5, "mrr": 0.5}


def test_paired_sign_test() -> None:
    assert paired([1, 1, 0, 1], [1, 0, 0, 1]) == {"full_only": 1, "baseline_only": 0, "sign_test_p": 1.0}
    p = paired([1.0] * 10, [0.0] * 10)
    assert p["full_only"] == 10 and p["sign_test_p"] == pytest.approx(2 / 1024, abs=1e-4)
    assert paired([1, 0], [1, 0])["sign_test_p"] == 1.0


def test_dataset_is_large_deterministic_and_labelled_by_the_scenario_rule() -> None:
    deals = load_deals()
    assert len(deals) >= 100
    assert len({d["id"] for d in deals}) == len(deals)
    assert all(set(d) == set(build_cases_zh.FIELDS) for d in deals)
    # the committed file is what the build script makes from the demo today (ids stable, labels not hand-edited)
    assert build_cases_zh.build() == deals
    assert all(d["seed_case"] in d["relevant"] for d in deals)
    assert Counter(d["split"] for d in deals).keys() == {"tune", "test"}
    assert {d["variant"] for d in deals} == {"same_product", "same_indication"}
    assert len({d["theme"] for d in deals}) >= 10 and {d["tenant"] for d in deals} == {"hz-pharma", "sh-pharma"}


def test_labels_follow_the_rule_on_the_demo_tables() -> None:
    """Re-derived from the demo tables apart from the build script: the labels are exactly the published cases of the
    deal's tenant, theme and customer type sharing a product or an indication with the deal; the customer fits."""
    from demo import build_demo

    demo = build_demo(seed=build_cases_zh.DEMO_SEED, scale=1, as_of=build_cases_zh.AS_OF)
    facts: dict[str, tuple[Any, ...]] = {}
    for tenant, t in demo.tenants.items():
        about_p: dict[str, set[str]] = {}
        for r in t["AboutProduct"].to_pylist():
            about_p.setdefault(r["entry_id"], set()).add(r["sku"])
        about_i: dict[str, set[str]] = {}
        for r in t["AboutIndication"].to_pylist():
            about_i.setdefault(r["entry_id"], set()).add(r["indication"])
        treats: dict[str, set[str]] = {}
        for r in t["Treats"].to_pylist():
            treats.setdefault(r["sku"], set()).add(r["indication"])
        facts[tenant] = (
            {e["id"]: e for e in t["Entry"].to_pylist()},
            {c["id"]: c["type"] for c in t["Customer"].to_pylist()},
            {r["entry_id"]: r["customer_id"] for r in t["CaseOf"].to_pylist()},
            about_p,
            about_i,
            treats,
        )
    for d in load_deals():
        entries, ctype, case_of, about_p, about_i, treats = facts[d["tenant"]]
        deal_ind = {i for s in d["skus"] for i in treats[s]}
        assert ctype[d["customer_id"]] == d["customer_type"] == ctype[case_of[d["seed_case"]]]
        assert d["customer_id"] != case_of[d["seed_case"]]
        expected = {
            e
            for e, entry in entries.items()
            if entry["kind"] == "case_study"
            and entry["status"] == "published"
            and build_cases_zh.THEMES[entry["tags"][3]] == d["theme"]
            and ctype[case_of[e]] == d["customer_type"]
            and (about_p[e] & set(d["skus"]) or about_i[e] & deal_ind)
        }
        assert set(d["relevant"]) == expected, d["id"]


@pytest.mark.slow
def test_a_run_on_a_subset_gives_sane_numbers() -> None:
    deals = load_deals()[::5]
    report = run(HashingEmbedder(), deals)
    assert report["deals"] == len(deals)
    for name in ("full", "text_only", "graph_only"):
        m = report["rankings"][name]
        assert m["n"] == len(deals)
        assert 0.0 <= m["hit@1"] <= m["mrr"] <= 1.0 and m["hit@1"] <= m["hit@3"] <= 1.0
        assert 0 < m["p50_ms"] <= m["p95_ms"]
    r = report["rankings"]
    # a deal quoting the seed case's own product finds it through the product overlap alone
    assert r["graph_only"]["by_variant"]["same_product"]["hit@3"] == 1.0
    # the problem part alone reads the rep's words without product names (those count in the products part)
    assert r["full"]["hit@3"] >= 0.8 and r["text_only"]["hit@3"] >= 0.35
    assert "vs_full" in r["text_only"] and "vs_full" not in r["full"]
    json.dumps(report)
    assert "| full |" in markdown(report)
