"""Objection answers widen from product to indication to general scripts, published only."""

from __future__ import annotations

from copilot.objections import answer_objection
from retrieval.embedders import HashingEmbedder
from retrieval.hybrid import EntryDoc, KnowledgeIndex

DOCS = [
    EntryDoc("P-1", "objection_script", "published", "立普妥太贵", "算日治疗费用。", 3, ("ATV",), ("高血脂",)),
    EntryDoc("I-1", "objection_script", "published", "他汀类价格异议", "讲长期获益。", 1, ("RSV",), ("高血脂",)),
    EntryDoc("G-1", "objection_script", "published", "价格太贵的通用应对", "先问真实诉求。", 1),
    EntryDoc("D-1", "objection_script", "draft", "立普妥价格草稿", "未审核。", 1, ("ATV",), ("高血脂",)),
]


def test_answers_widen_and_cite_entry_and_version() -> None:
    index = KnowledgeIndex("t", HashingEmbedder(), user_words=["立普妥"])
    index.build(DOCS)
    answers = answer_objection(index, "客户说立普妥价格太贵", skus=["ATV"], k=3)
    assert [(a.entry_id, a.level) for a in answers] == [("P-1", "product"), ("I-1", "indication"), ("G-1", "general")]
    assert answers[0].version == 3 and "D-1" not in {a.entry_id for a in answers}
    assert [a.level for a in answer_objection(index, "太贵", k=2)] == ["general", "general"]
