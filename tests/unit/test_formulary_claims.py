"""Formulary impact by claims: which sentences a change makes false (withdraw) or incomplete (review), and which not.

Each case is a rule of how a regulator reads a reimbursement claim, on hand-written text (not the demo's phrasing).
"""

from __future__ import annotations

import pytest

from copilot.formulary_impact import Change, Facts, Impact, assess, sentences, status_words
from graph.model import Entry

SKU = "SKU-X"
NAMES = {SKU: {"安宁片", "安宁"}, "SKU-Y": {"康泰胶囊"}}
LISTED_B_RESTRICTED = Facts(True, "乙", "限二线用药", None)
LISTED_B_FREE = Facts(True, "乙", None, None)
NOT_LISTED = Facts(False)


def _assess(text: str, old: Facts, new: Facts, *, about: bool = False, title: str = "安宁片话术") -> Impact | None:
    entry = Entry(tenant="t", id="E-1", kind="objection_script", title=title, body=text)
    change = Change(sku=SKU, name="安宁片", old_edition="A", new_edition="B", detail="变化")
    return assess(
        entry, [SKU], changed={SKU: change}, old={SKU: old}, new={SKU: new},
        about=[SKU] if about else [], names=NAMES, edition="B",
    )  # fmt: skip


def test_a_script_quoting_a_removed_restriction_is_withdrawn_with_its_sentence() -> None:
    text = "【政策要点】安宁片为旧版目录乙类。\n【参考话术】“阿姨，安宁片是医保乙类药，医保规定限二线用药才能报销。”"
    impact = _assess(text, LISTED_B_RESTRICTED, LISTED_B_FREE)
    assert impact is not None and impact.severity == "withdraw"
    assert "限二线用药才能报销" in impact.sentence and impact.skus == (SKU,)
    assert impact.reason.startswith("医保目录 B：安宁片")


def test_the_script_that_explains_the_change_is_not_touched() -> None:
    text = "与2022年版相比，2024年版目录取消了“限二线用药”的限定，自2025年1月1日起，参保患者使用安宁片均可由医保支付。"
    assert _assess(text, LISTED_B_RESTRICTED, LISTED_B_FREE) is None


def test_naming_a_product_is_no_claim() -> None:
    assert _assess("安宁片复购率提升14个百分点，会员客单价提高8元。", LISTED_B_RESTRICTED, NOT_LISTED) is None


@pytest.mark.parametrize(
    "text",
    ["安宁片是医保乙类药，可以报销。", "安宁片可以刷医保。", "顾客拿医保卡就能报销安宁片。"],
)
def test_a_listing_claim_of_a_delisted_product_is_withdrawn(text: str) -> None:
    impact = _assess(text, LISTED_B_FREE, NOT_LISTED)
    assert impact is not None and impact.severity == "withdraw"


def test_history_of_a_delisting_stays_true() -> None:
    text = "安宁片在2022年版目录中为乙类，2024年版目录未再收录，参保人需全额自费。以前可以报销，现在不能报销。"
    assert _assess(text, LISTED_B_FREE, NOT_LISTED) is None


def test_a_self_pay_claim_of_a_newly_listed_product_is_withdrawn_but_a_customers_words_are_not() -> None:
    claim = _assess("安宁片是自费药，不能报销。", NOT_LISTED, LISTED_B_FREE)
    assert claim is not None and claim.severity == "withdraw" and "自费药" in claim.sentence
    words = "【客户异议】“安宁片不能报销吧？上次别家说是自费的。”\n【参考话术】安宁片已列入2024年版目录乙类。"
    assert _assess(words, NOT_LISTED, LISTED_B_FREE) is None


def test_conditional_self_pay_is_no_claim_of_not_listed() -> None:
    text = "安宁片是医保乙类药，符合条件可以按医保结算；不符合的话需要自费。"
    assert _assess(text, NOT_LISTED, LISTED_B_FREE) is None


def test_a_new_restriction_leaves_a_plain_listing_claim_true_but_incomplete() -> None:
    impact = _assess("安宁片可以医保报销，放心推荐。", LISTED_B_FREE, LISTED_B_RESTRICTED)
    assert impact is not None and impact.severity == "review"
    stated = _assess("安宁片可以医保报销，医保支付限二线用药。", LISTED_B_FREE, LISTED_B_RESTRICTED)
    assert stated is None  # it already says the new restriction


def test_a_changed_category_makes_the_old_one_false_and_a_plain_listing_incomplete() -> None:
    old, new = Facts(True, "乙", None, None), Facts(True, "甲", None, None)
    wrong = _assess("安宁片是医保乙类药。", old, new)
    assert wrong is not None and wrong.severity == "withdraw"
    plain = _assess("安宁片在医保目录内，可以报销。", old, new)
    assert plain is not None and plain.severity == "review"
    assert _assess("安宁片现为医保甲类药。", old, new) is None


def test_a_changed_payment_standard_makes_a_quoted_amount_false() -> None:
    old, new = Facts(True, "乙", None, "5.39元(75mg/片)"), Facts(True, "乙", None, "4.80元(75mg/片)")
    impact = _assess("安宁片医保支付标准5.39元，顾客自付很少。", old, new)
    assert impact is not None and impact.severity == "withdraw" and "5.39" in impact.sentence
    assert _assess("安宁片医保支付标准4.80元。", old, new) is None


def test_an_entry_linked_to_the_product_makes_claims_without_naming_it() -> None:
    text = "本品是医保乙类药，限二线用药。"
    assert _assess(text, LISTED_B_RESTRICTED, LISTED_B_FREE, title="降糖话术") is None  # not linked: not about it
    impact = _assess(text, LISTED_B_RESTRICTED, LISTED_B_FREE, about=True, title="降糖话术")
    assert impact is not None and impact.severity == "withdraw"
    other = "康泰胶囊是医保乙类药，限二线用药。"  # names another product: not a claim about this one
    assert _assess(other, LISTED_B_RESTRICTED, LISTED_B_FREE, about=True, title="降糖话术") is None


def test_sentences_keep_quoted_terms_whole_and_split_speech() -> None:
    text = "限定支付范围为“限：1.十二指肠溃疡；2.反流性食管炎”。【参考话术】“您好，是乙类药。可以报。”"
    assert sentences(text) == [
        "限定支付范围为“限：1.十二指肠溃疡；2.反流性食管炎”。",
        "【参考话术】“您好，是乙类药。",
        "可以报。",
    ]


def test_status_words() -> None:
    assert status_words(NOT_LISTED) == "未列入目录"
    assert status_words(Facts(True, "乙", "限二线用药。", "5.39元")) == "乙类，限二线用药，支付标准5.39元"
    assert status_words(Facts(True, "甲", None, "*")) == "甲类，无限定支付范围"


def test_an_indication_that_was_the_restriction_is_no_restriction_claim() -> None:
    old, new = Facts(True, "乙", "限骨质疏松", None), Facts(True, "乙", None, None)
    text = "组织科室会，邀请专家解读骨质疏松诊疗指南。安宁片月用量增长42%。"
    assert _assess(text, old, new, about=True) is None
    quoted = _assess("安宁片医保只报骨质疏松患者，即限骨质疏松。", old, new)
    assert quoted is not None and quoted.severity == "withdraw"
