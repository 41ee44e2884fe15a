"""The sales glossary and typo tolerance: jargon read as plain words, homophone typos put right, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolution.mentions import QueryProductMatcher
from retrieval.glossary import Glossary, IndicationCue, Term
from retrieval.keyword_index import ChineseTokenizer
from retrieval.typos import PinyinCorrector, char_ngrams, readings

G = Glossary()


@pytest.mark.parametrize(
    ("text", "word", "category"),
    [
        ("MOQ太高了", "起订量", "stock"),
        ("能不能给net 60", "账期", "payment_terms"),
        ("rebate拖了半年", "返利", "payment_terms"),
        ("COD不干", "先款后货", "payment_terms"),
        ("动销慢怕压货", "动销", "margin_display"),
        ("VBP之后原研没人买", "集采", "vbp"),
        ("O2O上比店里便宜", "外卖平台", "price"),
        ("端架要收钱", "陈列费", "margin_display"),
    ],
)
def test_jargon_and_english_are_read_as_the_plain_words_scripts_use(text: str, word: str, category: str) -> None:
    found = G.match(text)
    assert word in found.expansion and category in found.categories


def test_ascii_terms_match_whole_words_only_and_case_insensitively() -> None:
    assert "连锁 大客户" not in G.match("kaiser").expansion
    assert G.match("MOQ").forms == G.match("moq").forms == ("moq",)
    assert G.match("今天天气不错") == G.match("今天天气不错") and not G.match("今天天气不错").forms


def test_class_words_point_to_indications() -> None:
    assert G.match("降压药太贵了").indications == ("高血压",)
    assert set(G.match("PPI长期吃安全吗").indications) == {"反流性食管炎", "胃溃疡"}


def test_a_tenant_can_bring_its_own_terms() -> None:
    own = Glossary([Term(("冲量",), "年底冲量 压货", "stock")], [IndicationCue(("降尿酸",), ("痛风",))])
    found = own.match("年底冲量，降尿酸的药")
    assert found.categories == {"stock"} and found.indications == ("痛风",)


_TOKENIZER: list[ChineseTokenizer] = []


def _corrector() -> PinyinCorrector:
    if not _TOKENIZER:
        _TOKENIZER.append(ChineseTokenizer())  # jieba's dictionary loads once per module
    words = ["价格", "效果", "断货", "医保", "肌肉", "起订量", "近效期", "便宜", "副作用", "不良反应"]
    return PinyinCorrector(words, products=["代文", "耐信", "可威", "格华止"], common_word=_TOKENIZER[0].frequency)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("价隔太高", "价格太高"),
        ("效过不好", "效果不好"),
        ("板蓝根断活了", "板蓝根断货了"),
        ("刷一保", "刷医保"),
        ("吃了鸡肉疼", "吃了肌肉疼"),
        ("起定量太大", "起订量太大"),
        ("网上便易", "网上便宜"),
        ("带文价格高", "代文价格高"),
        ("可为缺货", "可威缺货"),
        ("格化止贵", "格华止贵"),
    ],
)
def test_homophone_typos_are_put_right(typed: str, meant: str) -> None:
    corrected, fixes = _corrector().correct(typed)
    assert corrected == meant and fixes


@pytest.mark.parametrize("text", ["价格太高", "顾客没耐心", "医保能报吗", "今天天气不错", "asdfgh", ""])
def test_right_text_and_common_words_are_left_alone(text: str) -> None:
    assert _corrector().correct(text) == (text, ())


def test_a_word_counted_out_no_longer_corrects() -> None:
    c = _corrector()
    c.add(["账期"])
    assert c.correct("帐期")[0] == "账期"
    c.remove(["账期"])
    assert c.correct("帐期")[0] == "帐期"


def test_polyphonic_characters_have_all_their_readings() -> None:
    assert "bian yi" in readings("便宜") and "pian yi" in readings("便宜")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="价隔格效过果断活货医一保abc ，。", max_size=12))
def test_correction_keeps_length_and_is_idempotent(text: str) -> None:
    c = _corrector()
    once, _ = c.correct(text)
    assert len(once) == len(text) and c.correct(once)[0] == once


def test_char_ngrams_are_bigrams_of_han_runs_and_ascii_words_whole() -> None:
    assert char_ngrams("效过不好 moq") == ["效过", "过不", "不好", "moq"]


def test_product_mentions_carry_their_offsets() -> None:
    from graph.model import Product

    products = [
        Product(tenant="t", sku="ATV", name="阿托伐他汀钙片", generic_name="阿托伐他汀钙", brand="立普妥"),
        Product(tenant="t", sku="AML", name="苯磺酸氨氯地平片", generic_name="苯磺酸氨氯地平", brand="络活喜"),
    ]
    m = QueryProductMatcher(products)
    text = "立普妥比络活喜贵"
    found = m.mentions(text)
    assert [(text[x.start : x.end], x.skus) for x in found] == [("立普妥", ("ATV",)), ("络活喜", ("AML",))]
    assert m(text) == ["AML", "ATV"]
