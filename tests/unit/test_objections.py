"""Objection answers: three levels side by side, the subject product, one embedding, stable ties, 无匹配话术."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from copilot.objections import ObjectionAnswerer, Thresholds
from retrieval.embedders import HashingEmbedder
from retrieval.hybrid import EntryDoc, KnowledgeIndex

OS = "objection_script"
DOCS = [
    EntryDoc("P-1", OS, "published", "立普妥太贵怎么办", "算日治疗费用，讲原研证据。", 3, ("ATV",), (), (), "price"),
    EntryDoc("P-2", OS, "published", "立普妥吃了肌肉疼", "问清部位，查肌酸激酶。", 1, ("ATV",), (), (), "side_effects"),
    EntryDoc("P-3", OS, "published", "可威颗粒价格贵", "讲儿童剂型的方便。", 1, ("OSK",), (), (), "price"),
    EntryDoc("I-1", OS, "published", "降压药太贵，要吃一辈子", "讲长期获益和医保。", 1, (), ("高血压",), (), "price"),
    EntryDoc("G-1", OS, "published", "客户一句太贵了", "先认同，再追问贵在哪里。", 1, (), (), (), "price"),
    EntryDoc("G-2", OS, "published", "客户抱怨缺货断货", "给出到货时间，推荐替代。", 1, (), (), (), "stock"),
    EntryDoc("G-3", OS, "published", "连锁要陈列费", "陈列费和动销挂钩。", 1, (), (), ("chain",), "margin_display"),
    EntryDoc("D-1", OS, "draft", "立普妥价格草稿", "未审核。", 1, ("ATV",), (), (), "price"),
    EntryDoc("C-1", "case_study", "published", "立普妥价格案例", "连锁门店案例。", 1, ("ATV",)),
]
NAMES = {
    "立普妥": ("ATV",),
    "阿托伐他汀": ("ATV",),
    "可威颗粒": ("OSK",),
    "可威": ("OSK",),
    "达菲": ("OSE",),
    "络活喜": ("AML",),
}


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    skus: tuple[str, ...]


def mentions(text: str) -> Sequence[_Mention]:
    """Product names in ``text`` by longest exact match (the real finder is ``resolution.mentions``)."""
    out: list[_Mention] = []
    i = 0
    while i < len(text):
        name = next((n for n in sorted(NAMES, key=len, reverse=True) if text.startswith(n, i)), None)
        if name:
            out.append(_Mention(i, i + len(name), NAMES[name]))
            i += len(name)
        else:
            i += 1
    return out


class CountingEmbedder(HashingEmbedder):
    """Counts query embeddings."""

    def __init__(self) -> None:
        super().__init__()
        self.queries = 0

    def embed_query(self, text: str) -> np.ndarray:
        self.queries += 1
        return super().embed_query(text)


def make(thresholds: Thresholds | None = None, docs: Sequence[EntryDoc] = DOCS) -> ObjectionAnswerer:
    index = KnowledgeIndex("t", CountingEmbedder(), user_words=list(NAMES), product_words=list(NAMES))
    index.build(list(docs))
    return ObjectionAnswerer(
        index,
        mentions=mentions,
        product_indications={"ATV": ["高胆固醇血症"], "AML": ["高血压"], "OSK": ["流行性感冒"]},
        thresholds=thresholds or Thresholds(0.0, 0.0, 0.0),
        cache_vectors=False,
    )


_SHARED: list[ObjectionAnswerer] = []


def shared() -> ObjectionAnswerer:
    """One answerer for the tests that only read (building jieba's dictionary takes seconds)."""
    if not _SHARED:
        _SHARED.append(make())
    return _SHARED[0]


def ids(answerer: ObjectionAnswerer, text: str, skus: Sequence[str] = (), **kw: object) -> list[str]:
    return [a.entry_id for a in answerer.answer(text, skus=skus, **kw).answers]  # type: ignore[arg-type]


def test_the_product_script_answers_when_the_product_is_at_hand_and_badges_say_the_level() -> None:
    a = shared()
    result = a.answer("立普妥太贵了", k=3)
    assert result.status == "answered" and result.answers[0].entry_id == "P-1"
    assert result.answers[0].badge == "本品" and result.reading.products == ("ATV",)
    selected = a.answer("太贵了", skus=["ATV"])
    assert selected.answers[0].entry_id == "P-1"
    assert {x.badge for x in selected.answers} <= {"本品", "通用"}


def test_a_productless_complaint_is_answered_by_the_general_script_never_a_product_script() -> None:
    a = shared()
    found = a.answer("太贵了", k=5).answers
    assert found[0].entry_id == "G-1" and found[0].badge == "通用"
    assert all(x.level == "general" for x in found)


def test_a_class_word_brings_the_indication_level_in() -> None:
    a = shared()
    found = a.answer("降压药太贵了").answers
    assert found[0].entry_id == "I-1" and found[0].badge == "同适应症"
    assert "高血压" in a.answer("降压药太贵了").reading.indications


def test_a_product_after_bi_is_the_comparison_not_the_subject() -> None:
    reading = shared().answer("可威颗粒比达菲便宜，顾客还嫌贵").reading
    assert reading.products == ("OSK",) and reading.compared == ("OSE",)


def test_the_selection_is_the_subject_and_a_named_other_product_a_comparison() -> None:
    reading = shared().answer("顾客说立普妥比络活喜贵", skus=["AML"]).reading
    assert reading.products == ("AML",) and reading.compared == ("ATV",)


def test_a_name_for_the_generic_copies_stays_in_the_words_compared_with_scripts() -> None:
    a = shared()
    qualified = a.answer("医院换国产阿托伐他汀了").reading
    assert qualified.products == ("ATV",) and "国产阿托伐他汀" in qualified.search_text
    twice = a.answer("阿托伐他汀到处都有，为啥要立普妥").reading
    assert "阿托伐他汀" in twice.search_text and "立普妥" in twice.search_text
    plain = a.answer("立普妥太贵了").reading
    assert "立普妥" not in plain.search_text


def test_drafts_and_other_kinds_never_come_back() -> None:
    found = {x.entry_id for x in make().answer("立普妥价格", k=20).answers}
    assert "D-1" not in found and "C-1" not in found


def test_one_embedding_per_request_whatever_the_levels() -> None:
    a = shared()
    embedder = a.index.embedder
    assert isinstance(embedder, CountingEmbedder)
    before = embedder.queries
    a.answer("立普妥太贵了，降压药也贵", skus=["AML"], k=5)
    assert embedder.queries - before == 1


def test_ties_are_broken_by_entry_id_and_answers_repeat() -> None:
    twins = [
        EntryDoc("G-B", OS, "published", "客户嫌贵", "同样的话术。", 1),
        EntryDoc("G-A", OS, "published", "客户嫌贵", "同样的话术。", 1),
    ]
    a = make(docs=twins)
    first = ids(a, "客户嫌贵", k=2)
    assert first == ["G-A", "G-B"]
    assert all(ids(a, "客户嫌贵", k=2) == first for _ in range(3))


def test_below_the_threshold_the_answer_is_no_match_with_the_nearest_general_scripts_labelled() -> None:
    a = make(Thresholds(0.0, 0.0, 0.99))
    result = a.answer("asdfgh")
    assert result.status == "no_match" and result.answers == () and result.can_request_script
    assert result.message is not None and result.message.startswith("无匹配话术")
    assert result.nearest_general and all(x.nearest and x.badge == "通用" for x in result.nearest_general)
    answered = make(Thresholds(0.0, 0.0, 0.0)).answer("asdfgh")
    assert answered.status == "answered" and not answered.can_request_script


@pytest.mark.parametrize(("typed", "read"), [("价隔太高", "价格"), ("老是断活", "断货")])
def test_a_homophone_typo_is_read_as_the_word_meant(typed: str, read: str) -> None:
    index_words = ["价格", "断货"]
    a = shared()
    a.index.corrector.add(index_words)
    reading = a.answer(typed).reading
    assert read in reading.corrected and reading.fixes


def test_jargon_is_read_through_the_glossary_and_its_category_prefers_scripts_of_that_category() -> None:
    a = shared()
    result = a.answer("OOS好几天了")
    assert "stock" in result.reading.categories and result.answers[0].entry_id == "G-2"
    assert "异议类别相同：库存/配送" in result.answers[0].why  # the category in the trainers' words, not its code


def test_category_filters_and_customer_type_boosts() -> None:
    a = shared()
    assert set(ids(a, "太贵了", k=10, category="stock")) == {"G-2"}
    plain = a.answer("要钱", k=3).answers
    chain = a.answer("要钱", k=3, customer_type="chain").answers
    score = {x.entry_id: x.score for x in plain}
    boosted = {x.entry_id: x.score for x in chain}
    assert boosted["G-3"] > score["G-3"]
    assert any("适用客户类型" in w for x in chain if x.entry_id == "G-3" for w in x.why)


def test_a_published_script_answers_at_once_and_a_retired_one_leaves() -> None:
    a = make()
    new = EntryDoc("G-9", OS, "published", "客户要求延长账期", "账期和回款信用挂钩。", 1, (), (), (), "payment_terms")
    a.index.upsert([new])
    assert ids(a, "账期能不能长一点", k=1) == ["G-9"]
    a.index.upsert([EntryDoc(**{**new.__dict__, "status": "retired"})])
    assert "G-9" not in ids(a, "账期能不能长一点", k=5)
