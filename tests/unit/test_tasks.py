"""The task triggers one by one, on hand-made facts (the shared definition's edges), and the stable task ids."""

from __future__ import annotations

import datetime as dt

from copilot import tasks
from copilot.briefing import PurchaseSummary
from graph.model import Contract, Customer, Interaction, Product, Task

D = dt.date(2026, 6, 15)
P = tasks.PARAMS


def _day(n: int) -> dt.date:
    return D - dt.timedelta(days=n)


def _facts(**kw: object) -> tasks.CustomerFacts:
    f = tasks.CustomerFacts(Customer(tenant="t", id="C-1", name="康邻大药房", type="chain"))
    for k, v in kw.items():
        setattr(f, k, v)
    return f


def _data(f: tasks.CustomerFacts, **kw: object) -> tasks.TerritoryData:
    products = {"SKU-A": Product(tenant="t", sku="SKU-A", name="氨氯地平片", generic_name="氨氯地平")}
    data = tasks.TerritoryData(D, {"C-1": f}, products, {}, {})
    for k, v in kw.items():
        setattr(data, k, v)
    return data


def _contract(cid: str, start: dt.date, end: dt.date) -> Contract:
    return Contract(tenant="t", id=cid, start_date=start, end_date=end)


def test_contract_bands_and_renewal() -> None:
    for left, band in ((0, "7"), (7, "7"), (8, "30"), (30, "30"), (31, "90"), (90, "90")):
        f = _facts(contracts=[_contract("K-1", _day(300), D + dt.timedelta(days=left))])
        (x,) = tasks.contract_ending(f, _data(f), P)
        assert (x.subject, x.detail) == ("K-1", band) and "K-1" in x.reason
    end = D + dt.timedelta(days=20)
    assert not tasks.contract_ending(_facts(contracts=[_contract("K-1", _day(300), D + dt.timedelta(days=91))]),
                                     _data(_facts()), P)  # fmt: skip
    renewed = _facts(
        contracts=[
            _contract("K-1", _day(300), end),
            _contract("K-2", end + dt.timedelta(days=1), end + dt.timedelta(days=365)),
        ]
    )
    assert [x.subject for x in tasks.contract_ending(renewed, _data(renewed), P)] == []
    gap = _facts(
        contracts=[
            _contract("K-1", _day(300), end),
            _contract("K-2", end + dt.timedelta(days=2), end + dt.timedelta(days=365)),
        ]
    )
    assert [x.subject for x in tasks.contract_ending(gap, _data(gap), P)] == [
        "K-1"
    ]  # starts 2 days after: not a renewal
    ended = _facts(contracts=[_contract("K-1", _day(300), _day(1))])
    assert not tasks.contract_ending(ended, _data(ended), P)


def test_silent_needs_four_order_days_and_one_and_a_half_intervals() -> None:
    days = [_day(100), _day(80), _day(60), _day(40)]  # usual interval 20 days; 40 > 30: silent
    f = _facts(order_days=days, sku_days={"SKU-A": days}, sku_value={"SKU-A": 1000.0})
    (x,) = tasks.silent_customer(f, _data(f), P)
    assert x.subject == "" and x.value == 1000.0 and "20 天" in x.reason
    assert not tasks.basket_drop(f, _data(f), P)  # a silent customer's SKUs are not basket drops
    on_time = _facts(order_days=[_day(90), _day(70), _day(50), _day(30)])
    assert not tasks.silent_customer(on_time, _data(on_time), P)  # 30 = 1.5 × 20: not more than
    three = _facts(order_days=[_day(300), _day(200), _day(100)])
    assert not tasks.silent_customer(three, _data(three), P)


def test_basket_drop_takes_the_interval_as_at_least_21_days() -> None:
    sku_days = {"SKU-A": [_day(60), _day(50), _day(40)], "SKU-B": [_day(40), _day(30), _day(20)]}
    order_days = sorted({d for ds in sku_days.values() for d in ds} | {_day(5), _day(2)})
    f = _facts(order_days=order_days, sku_days=sku_days)
    found = tasks.basket_drop(f, _data(f), P)
    assert [x.skus for x in found] == [("SKU-A",)]  # 40 > 1.5 × 21; SKU-B: 20 ≤ 31.5


def test_a_customers_dropped_skus_are_one_task_scored_per_sku() -> None:
    sku_days = {"SKU-A": [_day(90), _day(70), _day(50)], "SKU-B": [_day(80), _day(60), _day(45)],
                "SKU-C": [_day(30), _day(10), _day(3)]}  # fmt: skip
    order_days = sorted({d for ds in sku_days.values() for d in ds})
    f = _facts(order_days=order_days, sku_days=sku_days, sku_value={"SKU-A": 10.0, "SKU-B": 30.0})
    (x,) = tasks.basket_drop(f, _data(f), P)
    assert x.subject == "" and x.skus == ("SKU-B", "SKU-A")  # the larger spend first
    assert "（SKU-A）" in x.reason and "（SKU-B）" in x.reason and "SKU-C" not in x.reason
    item = tasks.TaskItem(
        id="T-1", trigger="basket_drop", trigger_name="常购品种断档", customer_id="C-1", customer_name="c", subject="",
        detail=x.detail, skus=list(x.skus), reason=x.reason, priority=2, due=D,
    )  # fmt: skip
    assert tasks.label_tuples([item]) == {("basket_drop", "C-1", "SKU-A"), ("basket_drop", "C-1", "SKU-B")}
    done = Task(tenant="t", id="T-1", trigger="basket_drop", customer_id="C-1", detail="SKU-A,SKU-B", reason="r",
                due=D, state="done", rep_id="R-1", updated_by="R-1", updated_at=dt.datetime(2026, 5, 1))  # fmt: skip
    kept = item.model_copy()
    tasks._state_of(kept, done, D)
    assert kept.state == "done"
    more = item.model_copy(update={"skus": ["SKU-A", "SKU-B", "SKU-D"]})
    tasks._state_of(more, done, D)
    assert more.state == "open"  # a SKU dropped since the task was closed: open again


def test_refill_gap_needs_three_consecutive_months_and_35_to_100_days() -> None:
    monthly = [dt.date(2026, 1, 10), dt.date(2026, 2, 9), dt.date(2026, 3, 11)]  # last: 96 days before D
    f = _facts(order_days=monthly + [_day(3)], sku_days={"SKU-A": monthly, "SKU-X": [_day(3)]})
    data = _data(f, chronic={"SKU-A": "高血压"})
    (x,) = tasks.refill_gap(f, data, P)
    assert x.subject == "SKU-A" and "高血压" in x.reason
    assert not tasks.basket_drop(f, data, P)  # reported as a refill gap, not as a drop too
    assert not tasks.refill_gap(f, _data(f), P)  # not a chronic-disease SKU
    skipped = [dt.date(2026, 1, 10), dt.date(2026, 3, 11), dt.date(2026, 4, 11)]
    g = _facts(sku_days={"SKU-A": skipped})
    assert not tasks.refill_gap(g, _data(g, chronic={"SKU-A": "高血压"}), P)
    old = [dt.date(2025, 12, 1), dt.date(2026, 1, 2), dt.date(2026, 2, 3)]  # 132 days: a plain drop
    h = _facts(sku_days={"SKU-A": old})
    assert not tasks.refill_gap(h, _data(h, chronic={"SKU-A": "高血压"}), P)


def test_tiers_and_tier_changes() -> None:
    assert [tasks.tier_of(s) for s in (86, 85, 65, 45, 44, 30, 29)] == ["VIP", "—", "教育", "教育", "—", "—", "挽留"]
    # no purchases, no visits now; a month ago a fresh order and a visit: the score fell into the retention tier
    visit = Interaction(tenant="t", id="I-1", at=dt.datetime.combine(_day(40), dt.time(10)), summary="拜访")
    f = _facts(interactions=[visit], health_then=PurchaseSummary(_day(35), 100.0, 100.0),
               health_now=PurchaseSummary(_day(35), 0.0, 100.0))  # fmt: skip
    (x,) = tasks.health_tier(f, _data(f), P)
    assert x.subject == "挽留" and x.priority == 1 and "挽留任务" in x.reason


def test_objection_and_follow_up_read_the_latest_interaction_only() -> None:
    said = "介绍新品；店长认为氨氯地平价格偏高，希望增加政策支持；对方表示考虑后答复。"
    recent = Interaction(tenant="t", id="I-2", at=dt.datetime.combine(_day(3), dt.time(9)), summary=said,
                         next_step="提交特价申请")  # fmt: skip
    older = Interaction(tenant="t", id="I-1", at=dt.datetime.combine(_day(30), dt.time(9)), summary="例行拜访。",
                        next_step="下周送样")  # fmt: skip
    f = _facts(interactions=[recent, older])
    (x,) = tasks.objection_no_followup(f, _data(f), P)
    assert x.subject == "I-2" and "价格" in x.reason
    assert not tasks.followup_overdue(f, _data(f), P)  # I-1 was followed by I-2; I-2 is 3 days old
    g = _facts(interactions=[older])
    assert [y.subject for y in tasks.followup_overdue(g, _data(g), P)] == ["I-1"]
    assert not tasks.objection_no_followup(g, _data(g), P)
    calm = Interaction(
        tenant="t", id="I-3", at=dt.datetime.combine(_day(2), dt.time(9)), summary="送货到店，核对发票。"
    )
    assert not tasks.objection_no_followup(_facts(interactions=[calm]), _data(_facts()), P)
    stale = Interaction(tenant="t", id="I-4", at=dt.datetime.combine(_day(15), dt.time(9)), summary="对方担心断货")
    assert not tasks.objection_no_followup(_facts(interactions=[stale]), _data(_facts()), P)


def test_objection_categories() -> None:
    assert tasks.objection_in("反映部分顾客医保结算氨氯地平失败")[0] == "医保报销"  # type: ignore[index]
    assert tasks.objection_in("希望账期从30天延长到60天")[0] == "账期/付款"  # type: ignore[index]
    assert tasks.objection_in("店员反馈有顾客服用后出现头晕，询问处理办法")[0] == "不良反应"  # type: ignore[index]
    assert tasks.objection_in("解读2024版医保目录对氨氯地平的调整；已现场解答，客户满意") is None


def test_objection_words_under_a_negation_or_an_accepted_answer_are_no_objection() -> None:
    assert tasks.objection_in("核对月度订单，客户对价格和账期均无异议") is None
    assert tasks.objection_in("店长说这次没有什么顾虑，照常进货") is None
    assert tasks.objection_in("对方仍有异议，要求再议") is not None  # the cue itself, not negated
    assert tasks.objection_in("上次申请的折扣已批，对方接受新的价格，恢复正常订货") is None
    assert tasks.objection_in("对方不接受新的价格，嫌进价高于别家") is not None


def test_objections_without_a_category_word() -> None:
    """A price higher than an alternative, an incumbent kept, efficacy below expectation: objections in plain words."""
    assert tasks.objection_in("老板说我们的采购价比别家高出一截")[0] == "价格"  # type: ignore[index]
    assert tasks.objection_in("科室一直用进口原研，暂不考虑更换")[0] == "竞品/现有供应商"  # type: ignore[index]
    assert tasks.objection_in("药师觉得疗效不如预期")[0] == "疗效"  # type: ignore[index]
    assert tasks.objection_in("门店说下月起减少进货")[0] == "减量/停购"  # type: ignore[index]
    assert tasks.objection_in("客户一直使用本品，反馈良好") is None


def test_formulary_change_needs_a_purchase_in_180_days() -> None:
    change = {"SKU-A": [("NRDL-2026", "NRDL-2025", D + dt.timedelta(days=20), "乙类 → 甲类")]}
    f = _facts(sku_days={"SKU-A": [_day(170)]})
    (x,) = tasks.formulary_change(f, _data(f, formulary=change), P)
    assert x.subject == "SKU-A" and "NRDL-2026" in x.reason
    g = _facts(sku_days={"SKU-A": [_day(181)]})
    assert not tasks.formulary_change(g, _data(g, formulary=change), P)


def test_task_ids_are_stable_and_distinct() -> None:
    a = tasks.task_id("basket_drop", "C-1", "SKU-A")
    assert a == tasks.task_id("basket_drop", "C-1", "SKU-A") and a.startswith("T-")
    assert len({a, tasks.task_id("basket_drop", "C-1", "SKU-B"), tasks.task_id("refill_gap", "C-1", "SKU-A")}) == 3


def test_a_script_is_suggested_only_on_the_tasks_topic() -> None:
    """A contract about to end gets a renewal script, or none: never the nearest price script."""
    from retrieval.embedders import HashingEmbedder
    from retrieval.hybrid import EntryDoc, KnowledgeIndex

    price = EntryDoc("OS-1", "objection_script", "published", "合同到期前客户嫌价格贵", "续签前先算清价格账。",
                     category="price")  # fmt: skip
    renewal = EntryDoc("OS-2", "objection_script", "published", "合同一周内到期怎么谈续约", "回顾合作，提出新方案。",
                       category="contract_renewal")  # fmt: skip
    query, kinds = tasks.SUGGESTION_QUERIES["contract_ending"]
    allowed = tasks.SCRIPT_CATEGORIES["contract_ending"]
    index = KnowledgeIndex("t", HashingEmbedder())
    index.build([price])
    assert tasks.retrieval_suggester(index)(query, kinds, (), allowed) is None
    assert tasks.retrieval_suggester(index)(query, kinds, (), frozenset()) is not None  # no cut-off: the price one
    index.build([price, renewal])
    found = tasks.retrieval_suggester(index)(query, kinds, (), allowed)
    assert found is not None and found.entry_id == "OS-2"


def test_a_suspected_adverse_reaction_names_the_safety_report_and_suggests_no_script() -> None:
    """An objection task on a note in the drug-safety queue says where it went and what to do; never a script."""
    from graph.model import SafetyReport

    said = "有患者服用通心络胶囊后出现胃部不适，对方对继续推荐有顾虑"
    it = Interaction(tenant="t", id="I-9", at=dt.datetime.combine(_day(4), dt.time(9)), summary=said)
    f = _facts(interactions=[it])
    report = SafetyReport(tenant="t", id="SAFE-I-9", source="interaction", source_id="I-9", at=it.at, text=said,
                          sentence=said, status="forwarded")  # fmt: skip
    (x,) = tasks.objection_no_followup(f, _data(f, safety={"I-9": report}), P)
    assert x.subject == "I-9" and x.safety_report == "SAFE-I-9" and x.no_script and not x.query
    assert "SAFE-I-9" in x.reason and "已转药物警戒" in x.reason and "配合药物警戒部门随访" in x.reason
    assert "SAFE-I-9" in x.fact_ids
    (y,) = tasks.objection_no_followup(f, _data(f), P)  # detected, not queued yet: report it today
    assert y.no_script and y.safety_report is None and "尚未进入药物警戒队列" in y.reason and y.due_days == 0
    price = Interaction(tenant="t", id="I-8", at=it.at, summary="店长认为氨氯地平价格偏高")
    g = _facts(interactions=[price])
    (z,) = tasks.objection_no_followup(g, _data(g), P)
    assert not z.no_script and z.safety_report is None and z.query
    old = Interaction(tenant="t", id="I-7", at=dt.datetime.combine(_day(20), dt.time(9)), summary=said,
                      next_step="下周回访")  # fmt: skip
    h = _facts(interactions=[old])
    queued = report.model_copy(update={"id": "SAFE-I-7", "source_id": "I-7", "status": "new"})
    (w,) = tasks.followup_overdue(h, _data(h, safety={"I-7": queued}), P)
    assert w.no_script and w.safety_report == "SAFE-I-7" and "待药物警戒处理" in w.reason


def test_a_safety_task_gets_no_suggestion_in_the_list() -> None:
    """``build_tasks`` asks retrieval nothing for a task flagged ``no_script`` (merged findings included)."""
    from graph.model import SafetyReport

    said = "有患者服用通心络胶囊后出现胃部不适，对方对继续推荐有顾虑"
    it = Interaction(tenant="t", id="I-9", at=dt.datetime.combine(_day(4), dt.time(9)), summary=said)
    f = _facts(interactions=[it])
    report = SafetyReport(tenant="t", id="SAFE-I-9", source="interaction", source_id="I-9", at=it.at, text=said,
                          sentence=said)  # fmt: skip
    data = _data(f, safety={"I-9": report})
    asked: list[str] = []

    def suggest(query: str, kinds: tuple[str, ...], skus: tuple[str, ...], cats: frozenset[str]) -> tasks.Suggestion:
        asked.append(query)
        return tasks.Suggestion(entry_id="OS-SIDE", kind="objection_script", title="副作用话术")

    class _Store:
        def edges_of(self, *a: object, **k: object) -> list[object]:
            return []

        def nodes_by_keys(self, *a: object, **k: object) -> list[object]:
            return []

    original = tasks.load_territory
    tasks.load_territory = lambda *a, **k: data  # type: ignore[assignment]
    try:
        listed = tasks.build_tasks(_Store(), "t", "R-1", as_of=D, suggest=suggest)  # type: ignore[arg-type]
    finally:
        tasks.load_territory = original  # type: ignore[assignment]
    (item,) = [t for t in listed.items if t.trigger == "objection_no_followup"]
    assert item.safety_report_id == "SAFE-I-9" and item.suggestion is None and said not in asked


def test_a_product_task_never_suggests_another_products_script() -> None:
    """A price flag on SKU-A gets SKU-A's price script, else a general one (通用), never SKU-B's."""
    from retrieval.embedders import HashingEmbedder
    from retrieval.hybrid import EntryDoc, KnowledgeIndex

    other = EntryDoc("OS-B", "objection_script", "published", "瑞舒伐他汀钙片比竞品贵7%，采购要求降价怎么回应",
                     "先认同，再讲日治疗费用。", skus=("SKU-B",), category="price")  # fmt: skip
    general = EntryDoc("OS-G", "objection_script", "published", "客户嫌价格太贵要求降价", "把比较拉回到综合收益。",
                       category="price")  # fmt: skip
    own = EntryDoc("OS-A", "objection_script", "published", "保和丸价格贵怎么谈", "讲清价值。", skus=("SKU-A",),
                   category="price")  # fmt: skip
    query, kinds = tasks.SUGGESTION_QUERIES["price_flag_open_deal"]
    allowed = tasks.SCRIPT_CATEGORIES["price_flag_open_deal"]
    index = KnowledgeIndex("t", HashingEmbedder())
    index.build([other])
    assert tasks.retrieval_suggester(index)(query, kinds, ("SKU-A",), allowed) is None
    assert tasks.retrieval_suggester(index)(query, kinds, (), allowed) is None  # no product named: general only
    index.build([other, general])
    found = tasks.retrieval_suggester(index)(query, kinds, ("SKU-A",), allowed)
    assert found is not None and found.entry_id == "OS-G" and found.badge == "通用"
    index.build([other, general, own])
    found = tasks.retrieval_suggester(index)(query, kinds, ("SKU-A",), allowed)
    assert found is not None and found.entry_id == "OS-A" and found.badge == "本品"
    found = tasks.retrieval_suggester(index)(query, kinds, ("SKU-B",), allowed)
    assert found is not None and found.entry_id == "OS-B" and found.badge == "本品"
