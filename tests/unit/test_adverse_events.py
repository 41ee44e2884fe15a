"""The adverse-event rule on sentences written for these tests (the independent set lives outside the repo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.adverse_events import detect
from eval.eval_adverse_events import load, scores
from eval.eval_adverse_events import main as eval_main

REPORTS = [
    "顾客吃了立普妥后肌肉酸痛",  # direct
    "店员反馈有顾客服用安博维后出现头晕，询问处理办法",  # the demo's wording
    "老人说自从吃了这个药，腿有点肿",  # body part + sensation, hedged
    "吃了洛汀新后头运得厉害",  # pinyin typo of 头晕
    "吃阿托伐他汀没事，换了依折麦布以后起了疹子",  # one drug denied, another reported
    "停药后头晕好了，之前吃了一直头晕",  # a reaction that resolved after stopping is still a report
    "患者服药后出现跟腱疼痛",  # onset: what began after taking it
    "吃了保济丸后心慌气短，以前喝水剂没事",  # a "没事" about another time contrasts, it does not deny
    "吃了止泻药以后肚子胀得不行",  # 止/抗 + symptom is an indication, but not with a 后 in between
    "给孩子喝了止咳糖浆后一整天昏昏沉沉，叫都叫不醒",  # lay wording of drowsiness
    "用多西他赛的病人手脚发麻",  # exposure: the patients on a drug
    "婆婆吃了头孢起了一身疹子，现在已经好了",  # a reaction that has run its course is still a report
    "大哥说吃了降压药以后性功能不行了",  # a body function with 不行
    "患者打胰岛素后出冷汗、手抖",  # exposure: 打…后
]
NOT_REPORTS = [
    "没有不良反应",
    "担心会头晕",
    "老顾客长期服用，没有头晕乏力之类的不舒服",  # one negation over a list
    "本品常见不良反应为头痛、恶心",  # label information
    "顾客说这个降压药的锌铜配比口感太差想换别的牌子",  # 口感 (taste) is a common word, not a typo of 口干
    "吃了安眠药还是睡不着",  # the disease persists: efficacy
    "头痛来买布洛芬",  # the reason for buying
    "沟通过敏性鼻炎诊疗指南更新，安排下月科室会",  # a disease name and a guideline
    "参加社区卫生服务中心季度供应商沟通会",  # 中心季度 sounds like 心悸 across two words
    "店长反映立普妥价格高于竞品",
    "吃了奥美拉唑以后胃不疼了",  # a body part whose sensation is denied: efficacy
    "孩子发烧39度，喝了布洛芬混悬液一会儿就退了",  # the disease went away with the drug
    "她说头晕是因为颈椎病引起的，平时在吃降压药",  # put down to another cause
    "拉肚子是因为吃了剩饭，平时的降压药照常吃",  # put down to another cause (food), the drug taken as usual
    "抗过敏药这个月走得快",  # the drug's class, not a reaction
    "她听说吃了维生素B2尿是黄的，自己还没开始吃",  # nobody has taken it yet
    "注射液冷链到货温度不合格，药剂科拒收了",  # 拒收了 sounds like 瘦了: no typo fix to an "X了" word
    "来了好多咳嗽、流鼻涕的顾客，买急支糖浆和感冒颗粒",  # describes who comes in with the disease
    "对方提出西乐葆比塞来昔布胶囊贵约60%",  # 比塞 sounds like 鼻塞 inside a drug name
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
    labelled = tmp_path / "adverse_events" / "sentences.jsonl"
    labelled.parent.mkdir()
    labelled.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items), encoding="utf-8")
    report = eval_main(["--set", str(labelled), "--out", str(tmp_path / "out")])
    assert report is not None and report["heldout"]["tn"] == 2 and (tmp_path / "out" / "adverse_events.md").exists()


def test_eval_reads_a_set_split_into_dev_and_heldout_files(tmp_path: Path) -> None:
    """The second layout: a folder with dev.jsonl and heldout.jsonl, labels reaction / no_reaction."""
    folder = tmp_path / "notes_set"
    folder.mkdir()
    rows = {
        "dev": [
            {"id": "a", "text": REPORTS[0], "label": "reaction"},
            {"id": "b", "text": NOT_REPORTS[0], "label": "no_reaction"},
        ],
        "heldout": [{"id": "c", "text": REPORTS[1], "label": "reaction"}],
    }
    for split, items in rows.items():
        text = "\n".join(json.dumps(i, ensure_ascii=False) for i in items)
        (folder / f"{split}.jsonl").write_text(text, encoding="utf-8")
    old = tmp_path / "old" / "sentences.jsonl"
    old.parent.mkdir()
    row = {"text": NOT_REPORTS[1], "label": "not_report", "category": "n", "split": "heldout"}
    old.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    both = eval_main(["--set", str(old), "--set", str(folder), "--out", str(tmp_path / "out")])
    assert both is not None and set(both["sets"]) == {"old", "notes_set"}
    new = both["sets"]["notes_set"]
    assert (new["dev"]["tp"], new["dev"]["tn"], new["heldout"]["tp"]) == (1, 1, 1)
    assert (tmp_path / "out" / "notes_set.md").exists() and (tmp_path / "out" / "old.md").exists()


def test_eval_refuses_an_unknown_label_naming_file_and_row(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "dev.jsonl").write_text(
        '{"text": "x", "label": "reaction"}\n{"text": "y", "label": "reacton"}', encoding="utf-8"
    )
    (folder / "heldout.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dev\.jsonl: row 2: label 'reacton'"):
        load(folder)
