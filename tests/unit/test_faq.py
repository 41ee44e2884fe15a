"""FAQ clustering: the extraction rule, clustering into proposals, drafts written once, quality on the demo data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from copilot.errors import CopilotError
from copilot.faq import (
    ANSWER_PLACEHOLDER,
    SOURCE_PREFIX,
    CatalogueNames,
    Question,
    about_skus,
    cluster_labels,
    cluster_questions,
    collect_questions,
    draft_id,
    extract_questions,
    propose_faqs,
    topic_of,
    topic_title,
    write_drafts,
)
from demo.load import load_demo
from eval.eval_faq import demo_theme, scores
from graph.embedded import EmbeddedGraphStore
from graph.model import AboutProduct, AuditEvent, Entry, Interaction, Mentions, Product
from graph.ports import GraphStore
from retrieval.embedders import HashingEmbedder, UniversalSentenceEncoder

T = "t1"
NOW = dt.datetime(2026, 11, 25, 9, 0)
PRODUCTS = [
    Product(tenant=T, sku="SKU-KD", name="瑞舒伐他汀钙片", generic_name="瑞舒伐他汀钙", brand="可定"),
    Product(tenant=T, sku="SKU-DW", name="缬沙坦胶囊", generic_name="缬沙坦", brand="代文"),
    Product(tenant=T, sku="SKU-LPT", name="阿托伐他汀钙片", generic_name="阿托伐他汀钙", brand="立普妥"),
]
THEMES = {
    "stockout": [
        "担心可定再次断货，要求保证供应",
        "担心代文再次断货，要求保证供应",
        "担心立普妥再次断货，要求保证供应",
        "店长担心可定断货，要求保证供货",
        "担心代文又断货，希望保证供应",
        "药房担心立普妥断货，要求保证供应",
    ],
    "settlement": [
        "反映部分顾客医保结算可定失败",
        "反映部分顾客医保结算可定失败",
        "反映顾客医保卡结算可定失败",
        "店长反映医保结算可定失败",
        "反映部分顾客医保结算可定失败",
        "反映有顾客医保结算代文失败",
    ],
    "terms": [
        "希望账期从30天延长到60天",
        "希望账期从45天延长到90天",
        "希望账期从30天延长到90天",
        "要求账期从45天延长到60天",
        "希望回款账期从30天延长到60天",
    ],
    "other": ["问下个月的会议地点在哪里"],
}


# ------------------------------------------------------------------------------------------------ extraction


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        # demo generator phrasing: opener; topic; objection; outcome
        (
            "上门拜访范老师（药房负责人）；复盘美卡素近三个月动销，月销量约13盒；担心美卡素再次断货，要求保证供应；"
            "已现场解答，客户满意。",
            ["担心美卡素再次断货，要求保证供应"],
        ),
        (
            "邓经理（区域经理）微信咨询；沟通蒲地蓝下月订货计划；反映部分顾客医保结算蒲地蓝消炎口服液失败；对方认可方案。",
            ["反映部分顾客医保结算蒲地蓝消炎口服液失败"],
        ),
        (
            "例行拜访望湖大药房，与毛经理面谈；店员反馈有顾客服用逍遥片后出现胃部不适，询问处理办法；需要内部协调后回复。",
            ["店员反馈有顾客服用逍遥片后出现胃部不适，询问处理办法"],
        ),
        (
            "微信跟进魏总；对方提出连花清瘟胶囊比疏风解毒胶囊贵约6%，希望降价；对方表示考虑后答复。",
            ["对方提出连花清瘟胶囊比疏风解毒胶囊贵约6%，希望降价"],
        ),
        # free rep phrasing: the question stops at the rep's own action, and takes in the situation before it
        ("拜访王店长，店长嫌立普妥太贵，要求促销支持，已报区域经理，下周回复。", ["店长嫌立普妥太贵，要求促销支持"]),
        ("朱经理说额度月中就用完了，不敢多进，问有没有办法。", ["朱经理说额度月中就用完了，不敢多进，问有没有办法"]),
        ("顾客问倍他乐克为什么医保只报一部分？", ["顾客问倍他乐克为什么医保只报一部分？"]),
        ("介绍新品；西乐葆吃多了伤不伤肾，关节炎老人问。", ["西乐葆吃多了伤不伤肾，关节炎老人问"]),
        ("Visited Dr. Li; she asked whether Crestor is still covered.", ["she asked whether Crestor is still covered"]),
        # no question: rep activity, an opener that asks nothing, a topic that mentions 反馈 / 访问
        ("例行拜访宁波市仁湾医院，了解临床对福善美的使用反馈，药剂科月用量约100盒；达成初步意向。", []),
        ("金经理微信咨询；介绍依叶的医保情况；对方认可方案。", []),
        ("访问3家门店，核对陈列，补签收货单。", []),
        ("Called the store manager to confirm next week's order.", []),
        ("", []),
    ],
)
def test_extraction_rule(summary: str, expected: list[str]) -> None:
    assert extract_questions(summary) == expected


def test_names_are_masked_and_found() -> None:
    names = CatalogueNames(PRODUCTS)
    assert names.mask("可定比立普妥贵约12%") == "某药比某药贵约N%"
    assert names.mask("瑞舒伐他汀钙片 断货") == "某药断货"
    assert names.named("可定和缬沙坦") == {"SKU-KD", "SKU-DW"}
    assert names.names["SKU-KD"] == "可定 瑞舒伐他汀钙片"


# ------------------------------------------------------------------------------------------------ clustering


def _questions() -> tuple[list[Question], list[str]]:
    names = CatalogueNames(PRODUCTS)
    out: list[Question] = []
    gold: list[str] = []
    for theme, texts in THEMES.items():
        for text in texts:
            out.append(Question(text, f"I-{len(out) + 1:03d}", skus=tuple(sorted(names.named(text)))))
            gold.append(theme)
    return out, gold


def test_handmade_questions_cluster_by_theme_with_the_real_embedder() -> None:
    questions, gold = _questions()
    names = CatalogueNames(PRODUCTS)
    report = cluster_questions(questions, UniversalSentenceEncoder(), names=names, min_size=3)
    assert len(report.proposals) == 3
    assert [p.size for p in report.proposals] == sorted((p.size for p in report.proposals), reverse=True)
    for k, p in enumerate(report.proposals):
        members = [i for i, lab in enumerate(report.labels) if lab == k]
        assert len({gold[i] for i in members}) == 1, p.title
        ids = {questions[i].interaction_id for i in members}
        assert set(p.interaction_ids) == ids and p.size == len(ids)
        assert p.medoid_interaction_id in ids and p.title.startswith(p.topic + "：")
        medoid = next(q.text for q in questions if q.interaction_id == p.medoid_interaction_id)
        assert topic_title(p.topic, names.mask(medoid), len(p.products)) == p.title  # topic, then the masked medoid
        assert not any(name in p.title for name in ("可定", "代文", "立普妥"))  # names masked: it speaks for all
        assert {e.interaction_id for e in p.examples} <= ids and p.examples[0].interaction_id == p.medoid_interaction_id
        assert p.id == draft_id(ids)
    settlement = next(p for p in report.proposals if "结算" in p.title)
    assert settlement.products[0].sku == "SKU-KD" and settlement.products[0].count == 5
    assert settlement.examples[0].same_wording == 3  # three questions worded 反映部分顾客医保结算某药失败
    assert report.labels[gold.index("other")] == -1  # a one-off question is dropped with its tiny cluster
    assert scores(gold, report.labels)["ari"] > 0.9


def test_tiny_clusters_are_dropped_and_algorithms_checked() -> None:
    questions, _ = _questions()
    report = cluster_questions(questions, HashingEmbedder(), names=CatalogueNames(PRODUCTS), min_size=7)
    assert report.proposals == [] and set(report.labels) == {-1} and report.clusters >= 3
    vecs = HashingEmbedder().embed_documents([q.text for q in questions])
    assert len(cluster_labels(vecs, algorithm="hdbscan", threshold=0.0, min_size=3)) == len(questions)
    assert cluster_labels(vecs[:1], algorithm="agglomerative", threshold=0.4, min_size=3).tolist() == [0]
    with pytest.raises(CopilotError):
        cluster_labels(vecs, algorithm="kmeans", threshold=0.4, min_size=3)  # type: ignore[arg-type]
    assert cluster_questions([], HashingEmbedder()).proposals == []


# ------------------------------------------------------------------------------------------------ drafts


def _load(store: GraphStore, texts: list[tuple[str, str]], start: int = 0) -> None:
    """One interaction per (question text, theme), with an opener and an outcome around the question."""
    names = CatalogueNames(PRODUCTS)
    its, mentions = [], []
    for k, (text, _) in enumerate(texts, start=start + 1):
        iid = f"I-{k:04d}"
        its.append(
            Interaction(
                tenant=T,
                id=iid,
                at=NOW - dt.timedelta(days=200 - k),
                channel="拜访",
                summary=f"上门拜访张店长（店长）；沟通下月订货计划；{text}；对方表示考虑后答复。",
            )  # fmt: skip
        )
        mentions += [Mentions(tenant=T, interaction_id=iid, sku=s) for s in sorted(names.named(text))]
    store.upsert_nodes(T, its)
    if mentions:
        store.upsert_edges(T, mentions)


def test_drafts_are_written_once_and_curated_ones_left_alone(tmp_path: Path) -> None:
    emb = HashingEmbedder()
    pairs = [(text, theme) for theme, texts in THEMES.items() for text in texts]
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        store.upsert_nodes(T, PRODUCTS)
        _load(store, pairs)
        questions, read = collect_questions(store, T, names=CatalogueNames.from_store(store, T))
        assert read == len(pairs) and len(questions) == len(pairs)
        assert {q.text for q in questions} == {t for t, _ in pairs}
        assert collect_questions(store, T, since=NOW - dt.timedelta(days=190))[1] == 9  # I-0010 … I-0018
        assert propose_faqs(store, T, emb, max_questions=10).truncated == len(pairs) - 10
        report = propose_faqs(store, T, emb, threshold=0.5, min_size=3)
        assert len(report.proposals) == 3 and all(p.draft_status == "new" for p in report.proposals)
        assert report.summary()["questions"] == len(pairs) and report.seconds["total"] > 0

        first = write_drafts(store, T, report.proposals, now=NOW)
        assert len(first.created) == 3 and not first.updated
        drafts = {e.id: e for e in store.entries(T, kind="faq")}
        assert set(drafts) == set(first.created)
        for p in report.proposals:
            e = drafts[p.id]
            assert e.status == "draft" and e.title == p.title and e.author == "faq-cluster"
            assert e.source == SOURCE_PREFIX + ",".join(p.interaction_ids)
            assert ANSWER_PLACEHOLDER in e.body and all(x.interaction_id in e.body for x in p.examples)
        about = {(a.entry_id, a.sku) for page in store.iter_edges(T, AboutProduct) for a in page}
        settlement = next(p for p in report.proposals if "结算" in p.title)
        stockout = next(p for p in report.proposals if "断货" in p.title)
        assert (settlement.id, "SKU-KD") in about  # 5 of its 6 questions name 可定
        assert {sku for eid, sku in about if eid == stockout.id} == {"SKU-KD", "SKU-DW", "SKU-LPT"}  # 2 of 6 each
        assert len(list(store.iter_nodes(T, AuditEvent))[0]) == 3

        counts = store.counts(T)
        again = propose_faqs(store, T, emb, threshold=0.5, min_size=3)
        assert all(p.draft_status == "drafted" for p in again.proposals)
        second = write_drafts(store, T, again.proposals, now=NOW + dt.timedelta(days=1))
        assert sorted(second.unchanged) == sorted(first.created) and not second.created and not second.updated
        assert store.counts(T) == counts

        # two more interactions about settlement: the same draft grows, no second one appears
        _load(store, [("反映部分顾客医保结算代文失败", ""), ("反映顾客医保结算立普妥失败", "")], start=100)
        grown = propose_faqs(store, T, emb, threshold=0.5, min_size=3)
        bigger = next(p for p in grown.proposals if "结算" in p.title)
        assert bigger.id == settlement.id and bigger.size == settlement.size + 2 and bigger.draft_status == "drafted"
        third = write_drafts(store, T, grown.proposals, now=NOW + dt.timedelta(days=2))
        assert third.updated == [settlement.id] and not third.created
        assert len(store.entries(T, kind="faq")) == 3
        updated = store.get_node(T, Entry, settlement.id)
        assert updated is not None and "I-0102" in (updated.source or "") and updated.version == 2
        assert [v.version for v in store.entry_versions(T, settlement.id)] == [1]  # the earlier draft is kept

        # a trainer takes the stockout draft over: it is never overwritten again
        taken = drafts[stockout.id].model_copy(update={"status": "in_review", "version": 2, "author": "trainer-li"})
        store.upsert_nodes(T, [taken])
        _load(store, [("担心可定再次断货，要求保证供应", "")], start=200)
        latest = propose_faqs(store, T, emb, threshold=0.5, min_size=3)
        assert next(p for p in latest.proposals if p.id == stockout.id).draft_status == "curated"
        fourth = write_drafts(store, T, latest.proposals, now=NOW + dt.timedelta(days=3))
        assert fourth.skipped_curated == [stockout.id]
        kept = store.get_node(T, Entry, stockout.id)
        assert kept is not None and kept.status == "in_review" and kept.author == "trainer-li"
        assert len(store.entries(T, kind="faq")) == 3


# ------------------------------------------------------------------------------------------------ demo


def test_demo_proposals_match_the_generator_themes(tmp_path: Path) -> None:
    """On the demo tenant the clusters agree with the objection templates the generator wrote (see eval_faq)."""
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        load_demo(store, as_of=NOW.date())
        report = propose_faqs(store, "hz-pharma", UniversalSentenceEncoder())
        gold = [demo_theme(q.text) for q in report.questions]
        assert report.interactions > 2000 and len(report.questions) > 1000 and None not in gold
        quality = scores(gold, report.labels)
        assert quality["ari"] > 0.9 and quality["purity"] > 0.9 and quality["coverage"] > 0.95
        assert 6 <= len(report.proposals) <= 10
        ids = {i.id for page in store.iter_nodes("hz-pharma", Interaction) for i in page}
        for p in report.proposals:
            assert set(p.interaction_ids) <= ids and p.products and p.closest_published is not None
            if len(p.products) > 20:  # raised about many products: a general FAQ, no ABOUT edge
                assert about_skus(p) == []
        answered = propose_faqs(store, "hz-pharma", UniversalSentenceEncoder(), skip_answered=True)
        assert answered.skipped_answered == sum(p.answered for p in report.proposals) > 0
        assert len(answered.proposals) == len(report.proposals) - answered.skipped_answered
        assert np.all(np.array(answered.labels) < len(answered.proposals))


def test_a_topic_is_the_category_most_questions_signal() -> None:
    assert topic_of(["顾客嫌某药太贵", "要求降价", "担心断货"]) == "价格"
    assert topic_of(["医保卡刷不了", "报销受限"]) == "医保报销"
    assert topic_of(["今天天气不错"]) == "其他问题"
    assert topic_title("库存/配送", "担心某药断货", 52) == "库存/配送：担心该药断货（涉及 52 个产品）"
    assert topic_title("价格", "某药太贵", 1) == "价格：该药太贵"


def test_questions_reporting_an_adverse_reaction_never_reach_the_faq(tmp_path: Path) -> None:
    """A suspected reaction (店员反馈顾客服用后头晕，询问处理办法) goes to drug safety, not into a cluster."""
    pairs = [
        ("店员反馈有顾客服用可定后出现头晕，询问处理办法", ""),
        ("顾客吃了立普妥后肌肉酸痛，问能不能换药", ""),
        ("担心可定再次断货，要求保证供应", ""),
        ("顾客担心吃立普妥会不会头晕，询问注意事项", ""),  # a worry, no report: an FAQ question
    ]
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        store.upsert_nodes(T, PRODUCTS)
        _load(store, pairs)
        questions, read = collect_questions(store, T, names=CatalogueNames.from_store(store, T))
        assert read == 4
        texts = [q.text for q in questions]
        assert not any("头晕，询问处理" in t or "肌肉酸痛" in t for t in texts)
        assert any("断货" in t for t in texts) and any("会不会头晕" in t for t in texts)
