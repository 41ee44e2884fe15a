"""The adverse-event rule on sentences written for these tests (the independent set lives outside the repo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.adverse_events import detect
from eval.eval_adverse_events import main as eval_main
from eval.eval_adverse_events import scores

REPORTS = [
    "顾客吃了立普妥后肌肉酸痛",  # direct
    "店员反馈有顾客服用安博维后出现头晕，询问处理办法",  # the demo's wording
    "老人说自从吃了这个药，腿有点肿",  # body part + sensation, hedged
    "吃了洛汀新后头运得厉害",  # pinyin typo of 头晕
    "吃阿托伐他汀没事，换了依折麦布以后起了疹子",  # one drug denied, another reported
    "停药后头晕好了，之前吃了一直头晕",  # a reaction that resolved after stopping is still a report
    "患者服药后出现跟腱疼痛",  # onset: what began after taking it
]
NOT_REPORTS = [
    "没有不良反应",
    "担心会头晕",
    "老顾客长期服用，没有头晕乏力之类的不舒服",  # one negation over a list
    "本品常见不良反应为头痛、恶心",  # label information
    "吃了安眠药还是睡不着",  # the disease persists: efficacy
    "头痛来买布洛芬",  # the reason for buying
    "沟通过敏性鼻炎诊疗指南更新，安排下月科室会",  # a disease name and a guideline
    "参加社区卫生服务中心季度供应商沟通会",  # 中心季度 sounds like 心悸 across two words
    "店长反映立普妥价格高于竞品",
]


@pytest.mark.parametrize("text", REPORTS)
def test_reports_are_flagged(text: str) -> None:
    finding = detect(text)
    assert finding is not None and finding.symptoms and finding.sentence in text


@pytest.mark.parametrize("text", NOT_REPORTS)
def test_denials_worries_labels_and_diseases_are_not(text: str) -> None:
    assert detect(text) is None


def test_eval_scores_and_skips_without_the_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = [{"text": t, "label": "report", "category": "r", "split": "dev"} for t in REPORTS[:2]]
    items += [{"text": t, "label": "not_report", "category": "n", "split": "heldout"} for t in NOT_REPORTS[:2]]
    s = scores(items)
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (2, 0, 0, 2) and s["precision"] == s["recall"] == 1.0
    assert eval_main(["--set", str(tmp_path / "absent.jsonl")]) is None
    assert "not found" in capsys.readouterr().out
    labelled = tmp_path / "sentences.jsonl"
    labelled.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items), encoding="utf-8")
    report = eval_main(["--set", str(labelled), "--out", str(tmp_path / "out")])
    assert report is not None and report["heldout"]["tn"] == 2 and (tmp_path / "out" / "adverse_events.md").exists()
