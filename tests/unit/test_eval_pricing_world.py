"""The pricing-world evaluation: loading a world through ingest, scoring guard and baseline, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.eval_pricing import markdown, run_world
from eval.pricing_world import evaluate_seed, read_quotes

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "pricing_world"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    misses = tmp_path_factory.mktemp("misses") / "misses.jsonl"
    found = evaluate_seed(SAMPLE / "seed1", misses=misses)
    found["_misses"] = misses
    return found


def test_quotes_are_read_with_only_what_a_checker_may_see() -> None:
    quotes = read_quotes(SAMPLE / "seed1" / "quotes.jsonl")
    assert len(quotes) == 14 and {q.tenant for q in quotes} == {"sub-x"}
    assert not hasattr(quotes[0], "truth_price") and quotes[0].line.at == quotes[0].date


def test_the_sample_world_is_scored_per_situation_beside_the_baseline(result: dict) -> None:  # type: ignore[type-arg]
    guard, base = result["guard"], result["baseline"]
    assert result["tenants"]["sub-x"]["order_lines"] == 502
    assert guard["quotes"] == base["quotes"] == 14
    assert guard["precision"] == guard["recall"] == guard["exact"] == 1.0 and guard["false_flag_rate"] == 0.0
    assert guard["no_history_where_sold"] == 0 and guard["by_situation"]["never_sold"]["verdicts"] == {"no_history": 1}
    assert base["false_flag_rate"] > guard["false_flag_rate"]  # the peer band knows no promotion, award or level
    assert result["guard_excluded"]["近效期清货"] == 5 and result["guard_excluded"]["赠品（0 元）"] == 1
    assert result["_misses"].read_text(encoding="utf-8") == ""  # every verdict as labelled: nothing to read


def test_the_report_shows_both_and_a_missing_world_is_skipped(result: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    world = {"path": str(SAMPLE), "seeds": {"seed1": {k: v for k, v in result.items() if k != "_misses"}}}
    demo = {"precision": 0.99, "recall": 0.99, "false_flag_rate": 0.01, "lines": 9, "anomalies": 3,
            "baselines": {"peer_band": {"precision": 0.9, "recall": 0.9, "false_flag_rate": 0.1, "by_type": {}}},
            "by_type": {}, "verdicts": {}, "check_ms": {"p50": 0.1, "p99": 0.2}, "world": world}  # fmt: skip
    text = markdown(demo)
    assert "### seed1: 14 labelled quotes" in text and "| precision | 1.000 |" in text
    assert "| in_promotion | 1 |" in text
    missing = run_world(tmp_path / "nowhere", None)
    assert "skipped" in missing and "no pricing world" in missing["skipped"]
    json.dumps(world, ensure_ascii=False)  # the report is plain data


def test_several_worlds_are_reported_together_held_out_first(result: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    own, generated = tmp_path / "world", tmp_path / "dev"
    (own / "seed202").mkdir(parents=True)
    (generated / "seed303").mkdir(parents=True)
    found = run_world([generated, own, tmp_path / "absent"], None)
    assert list(found["seeds"]) == ["seed202", "seed303"]  # no quotes.jsonl in either: both listed as skipped
    assert all("has no quotes.jsonl" in v["skipped"] for v in found["seeds"].values())
    assert list(run_world([own, generated], ["303"])["seeds"]) == ["seed303"]
    scored = {k: v for k, v in result.items() if k != "_misses"}
    demo = {"precision": 0.99, "recall": 0.99, "false_flag_rate": 0.01, "lines": 9, "anomalies": 3,
            "baselines": {"peer_band": {"precision": 0.9, "recall": 0.9, "false_flag_rate": 0.1, "by_type": {}}},
            "by_type": {}, "verdicts": {}, "check_ms": {"p50": 0.1, "p99": 0.2},
            "world": {"path": "x", "seeds": {"seed202": scored, "seed303": scored}}}  # fmt: skip
    text = markdown(demo)
    assert "| seed202 | held out | 1.000 (" in text and "| seed303 | development | 1.000 (" in text
