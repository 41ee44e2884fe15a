"""Case suggestions on the demo data: published cases only, ranked by a transparent mix, each with reasons."""

from __future__ import annotations

import datetime as dt

import pytest

from copilot.cases import TEXT_WEIGHTS, WEIGHTS, CustomerProfile, suggest_cases
from copilot.errors import CaseProfileError
from demo.load import load_demo
from graph.embedded import EmbeddedGraphStore
from graph.model import AboutProduct, Entry
from retrieval.embedders import HashingEmbedder
from retrieval.hybrid import open_index

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    store = EmbeddedGraphStore(tmp_path_factory.mktemp("cases") / "graph", buffer_pool_mb=256)
    load_demo(store, as_of=TODAY)
    yield store
    store.close()


def test_suggestions_share_products_and_say_why(demo) -> None:  # type: ignore[no-untyped-def]
    store = demo
    assert sum(WEIGHTS.values()) == pytest.approx(1.0) and sum(TEXT_WEIGHTS.values()) == pytest.approx(1.0)
    case = store.entries("hz-pharma", kind="case_study", status="published")[0]
    skus = [e.sku for page in store.iter_edges("hz-pharma", AboutProduct) for e in page if e.entry_id == case.id]
    assert skus
    index = open_index(store, "hz-pharma", HashingEmbedder())
    got = suggest_cases(store, "hz-pharma", customer_id="C-HZ-00002", skus=skus[:1], text=case.title, index=index, k=3)
    assert len(got) == 3 and got[0].score >= got[1].score >= got[2].score
    assert any(s.entry_id == case.id for s in got)
    assert all(s.why for s in got) and got[0].parts["products"] == 1.0
    published = {e.id for e in store.entries("hz-pharma", kind="case_study", status="published")}
    assert {s.entry_id for s in got} <= published


def test_other_tenants_cases_are_never_suggested(demo) -> None:  # type: ignore[no-untyped-def]
    got = suggest_cases(demo, "sh-pharma", customer_id="C-SH-00002", skus=["SKU-ATV20-LPT"], k=10)
    assert got and all(s.entry_id.startswith("KB-SH-") for s in got)
    assert isinstance(demo.get_node("sh-pharma", Entry, got[0].entry_id), Entry)


def test_outcome_is_the_result_sentence() -> None:
    from copilot.cases import _outcome

    body = "【客户背景】断货11天。\n【我们的做法】1. 分批到货；2. 增长目标30%。\n"
    body += "【结果】本季度销量增长36%，断货为0。【可复制】提前备货。"
    assert _outcome(body) == "本季度销量增长36%，断货为0。"
    assert _outcome("复购率从37%提升到51%。后续继续跟进。") == "复购率从37%提升到51%。"
    assert _outcome("没有数字。") == ""


def test_candidates_rank_exactly_as_every_case(demo) -> None:  # type: ignore[no-untyped-def]
    """Ranking the candidates the graph finds gives the same top k as ranking every published case study."""
    import json
    from pathlib import Path

    from copilot.cases import _candidates, _deal, _ranked, _text_hits
    from graph.model import Customer

    index = open_index(demo, "hz-pharma", HashingEmbedder())
    path = Path(__file__).parents[2] / "eval" / "datasets" / "cases_zh.jsonl"
    deals = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    deals = [d for d in deals if d["tenant"] == "hz-pharma"][:25]
    deals.append({"customer_id": "C-HZ-NONE", "skus": [], "text": ""})  # nothing to go on
    for d in deals:
        for k in (1, 3, 10):
            got = suggest_cases(demo, "hz-pharma", customer_id=d["customer_id"], skus=d["skus"], text=d["text"],
                                index=index, k=k)  # fmt: skip
            customer = demo.get_node("hz-pharma", Customer, d["customer_id"])
            deal = _deal(demo, "hz-pharma", customer, d["skus"], d["text"], index)
            w = TEXT_WEIGHTS if deal.describes_problem else WEIGHTS
            hits = _text_hits(index, deal)
            every = _ranked(_candidates(demo, "hz-pharma", deal, hits, index, every=True), deal, index, w)[:k]
            assert got == every, d.get("id")


def test_a_new_customer_profile_stands_for_a_customer(demo) -> None:  # type: ignore[no-untyped-def]
    """A deal for a customer with no id yet is ranked by its profile: same-type cases say so in their reasons."""
    index = open_index(demo, "hz-pharma", HashingEmbedder())
    case = demo.entries("hz-pharma", kind="case_study", status="published")[0]
    skus = [e.sku for page in demo.iter_edges("hz-pharma", AboutProduct) for e in page if e.entry_id == case.id]
    profile = CustomerProfile(type="chain", tier="A")
    got = suggest_cases(demo, "hz-pharma", profile=profile, skus=skus[:1], index=index)
    assert got and got[0].parts["products"] == 1.0
    assert any("同客户类型：连锁" in w for s in got for w in s.why) or all(s.parts["segment"] < 1 for s in got)
    again = suggest_cases(demo, "hz-pharma", profile=profile, skus=skus[:1], index=index)
    assert [s.entry_id for s in got] == [s.entry_id for s in again]  # deterministic


def test_profile_errors_name_the_field() -> None:
    with pytest.raises(CaseProfileError) as e:
        CustomerProfile.parse({"type": "supermarket"})
    assert e.value.details == {"field": "profile.type"}
    with pytest.raises(CaseProfileError) as e:
        CustomerProfile.parse({"type": "chain", "store_count": "many"})
    assert e.value.details == {"field": "profile.store_count"}
    p = CustomerProfile.parse({"type": "hospital", "tier": "B", "size": "800床"})
    assert (p.type, p.tier, p.size, p.store_count) == ("hospital", "B", "800床", None)


def test_no_text_gives_no_text_reason(demo) -> None:  # type: ignore[no-untyped-def]
    """Reasons say only what is true: with no text there is no problem part and no reason about the situation."""
    index = open_index(demo, "hz-pharma", HashingEmbedder())
    got = suggest_cases(demo, "hz-pharma", customer_id="C-HZ-00002", skus=["SKU-ATV20-LPT"], text="", index=index, k=5)
    assert got
    for s in got:
        assert s.parts["problem"] == 0.0
        assert not any("情境" in w or "同类问题" in w for w in s.why)


def test_indication_hierarchy_and_synonyms() -> None:
    from retrieval.glossary import Glossary, indication_family, indications_meet

    assert indications_meet("糖尿病", "2型糖尿病") and indications_meet("2型糖尿病", "糖尿病")
    assert not indications_meet("骨关节炎", "类风湿关节炎")  # siblings under 关节炎 are not the same
    assert indication_family("2型糖尿病") == ("2型糖尿病", "糖尿病")
    assert "2型糖尿病" in Glossary().match("二型糖尿病的老人").indications


def test_a_weak_best_match_is_labelled() -> None:
    from copilot.cases import WEAK_BELOW, WEAK_LABEL, _confidence, _Deal

    deal = _Deal(None, frozenset({"S"}), {}, frozenset({"高血压"}), frozenset())
    weak = _confidence({"problem": 0.0, "products": 0.0, "indications": 0.0, "segment": 0.0}, deal)
    strong = _confidence({"problem": 0.0, "products": 1.0, "indications": 1.0, "segment": 0.0}, deal)
    assert weak < WEAK_BELOW <= strong
    assert WEAK_LABEL == "匹配度低"
