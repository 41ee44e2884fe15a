"""Visit briefing pack on the demo data: facts traceable to nodes, gaps, formulary changes, contracts, renderers."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from copilot.briefing import BriefingPack, build_briefing
from copilot.render import to_markdown, to_pdf
from copilot.safety import set_status
from demo.load import load_demo
from graph.embedded import EmbeddedGraphStore
from graph.errors import NotFoundError
from graph.model import SafetyReport
from pricing_guard.index import PriceIndex

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    store = EmbeddedGraphStore(tmp_path_factory.mktemp("demo") / "graph", buffer_pool_mb=256)
    load_demo(store, as_of=TODAY)
    yield store, PriceIndex.from_store(store, "hz-pharma", as_of=TODAY)
    store.close()


def test_pack_has_every_section_with_node_ids(demo) -> None:  # type: ignore[no-untyped-def]
    store, index = demo
    pack = build_briefing(store, "hz-pharma", "C-HZ-00001", today=TODAY, price_index=index)
    assert pack.profile[0].node_id == "C-HZ-00001" and "连锁" in pack.profile[0].text
    assert 0 <= pack.health.score <= 100 and pack.health.factors
    assert pack.interactions and all(f.node_id.startswith("I-") for f in pack.interactions)
    assert any(g.kind == "overdue" for g in pack.purchase_gaps)
    assert any("调出" in c.detail or "限定支付范围" in c.detail for c in pack.formulary_changes)
    assert pack.likely_objections and pack.matching_cases
    assert all(0 <= int(f.text.split("还剩 ")[1].split(" ")[0]) <= 90 for f in pack.contracts_ending)
    with pytest.raises(NotFoundError):
        build_briefing(store, "hz-pharma", "NOPE", today=TODAY)
    with pytest.raises(NotFoundError):  # another tenant's customer
        build_briefing(store, "sh-pharma", "C-HZ-00001", today=TODAY)


def test_markdown_and_pdf_render_chinese(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, index = demo
    pack = build_briefing(store, "hz-pharma", "C-HZ-00001", today=TODAY, price_index=index)
    md = to_markdown(pack)
    assert md.startswith("# 拜访简报") and "## 客户健康度" in md and "[I-HZ-" in md
    pdf = to_pdf(pack)
    assert pdf.startswith(b"%PDF") and b"NotoSansCJK" in pdf and len(pdf) < 2_000_000


def test_peer_gaps_rank_by_share_not_by_its_text() -> None:
    """ "100%" once sorted after "60%" as text and was cut first; gaps are ranked by the share itself."""
    from copilot.briefing import PEER_GAPS, _peer_shares
    from graph.model import Customer, Product, Purchased

    t = "t"
    index = PriceIndex(t)
    peers = [Customer(tenant=t, id=f"C-{i:02d}", name=f"药房{i}", type="chain", region="华东") for i in range(11)]
    index.set_customers(peers)
    shares = {"S100": 10, "S90": 9, "S80": 8, "S70": 7, "S60": 6, "S50": 5, "S40": 4}
    index.set_products([Product(tenant=t, sku=s, name=s) for s in shares])
    lines = [
        Purchased(
            tenant=t,
            customer_id=f"C-{i:02d}",
            sku=sku,
            order_id=f"O-{sku}-{i}",
            line=1,
            at=TODAY - dt.timedelta(days=10),
            qty=1,
            unit_price=10.0,
        )  # fmt: skip
        for sku, n in shares.items()
        for i in range(1, n + 1)
    ]
    index.add_order_lines(lines)
    found = _peer_shares(index, "C-00", bought=set())
    assert [sku for sku, _ in found] == ["S100", "S90", "S80", "S70", "S60"][:PEER_GAPS]
    assert found[0][1] == 1.0
    assert [sku for sku, _ in _peer_shares(index, "C-00", bought={"S100"})][0] == "S90"


def test_peer_gaps_counted_per_segment_are_those_of_every_buyer_set(demo) -> None:  # type: ignore[no-untyped-def]
    """The per-segment counts the briefing reads give the shares of the sets of buyers, for every customer."""
    from copilot.briefing import MIN_PEERS, PEER_GAPS, PEER_SHARE, _peer_shares
    from graph.model import Purchased

    store, index = demo
    buyers = index.buyers()
    for cid in sorted(index.customers):
        me = index.customers[cid]
        peers = index.customers_in(type=me.type, region=me.region) - {cid}
        bought = {sku for i, sku in enumerate(sorted(buyers)) if cid in buyers[sku] and i % 2}  # bought in the year
        if len(peers) < MIN_PEERS:
            assert _peer_shares(index, cid, bought) == [], cid
            continue
        shares = [(sku, len(peers & who) / len(peers)) for sku, who in buyers.items() if sku not in bought]
        expected = sorted([x for x in shares if x[1] >= PEER_SHARE], key=lambda s: (-s[1], s[0]))[:PEER_GAPS]
        assert _peer_shares(index, cid, bought) == expected, cid
    some = sorted(index.customers)[0]
    sku = sorted(index.lines)[0]
    members, before = index.segment_buyers(type=index.customers[some].type, region=index.customers[some].region)
    new = Purchased(tenant="hz-pharma", customer_id=some, sku=sku, order_id="O-PEER", at=TODAY, qty=1, unit_price=1)
    copy = PriceIndex.from_store(store, "hz-pharma", as_of=TODAY)
    copy.segment_buyers(type=index.customers[some].type, region=index.customers[some].region)
    copy.add_order_lines([new])  # a new buyer: the segment's counts are made again
    _, after = copy.segment_buyers(type=index.customers[some].type, region=index.customers[some].region)
    assert after[sku] == before[sku] + (not index.bought(some, sku)) and copy.bought(some, sku) and some in members


def test_urgent_facts_come_first_and_lower_the_health(demo) -> None:  # type: ignore[no-untyped-def]
    """A contract ending soon without renewal and unconfirmed follow-ups are the first section and cost health."""
    store, index = demo
    packs = [build_briefing(store, "hz-pharma", f"C-HZ-{i:05d}", today=TODAY, price_index=index) for i in range(1, 13)]
    ending = [p for p in packs if any(f.text.startswith("合同 ") for f in p.urgent)]
    assert ending, "the demo has contracts ending within 30 days"
    for p in ending:
        # after open drug-safety reports (their own test below), the contract is the most urgent fact
        first = next(f for f in p.urgent if not f.text.startswith("药物警戒："))
        assert first.text.startswith("合同 ") and "天后到期" in first.text
        days = int(first.text.split(" ")[2].split("天")[0])
        factor = next(f for f in p.health.factors if f.name == "合同即将到期未续")
        assert factor.points == (-20 if days <= 7 else -10)
        md = to_markdown(p)
        assert md.index("## 紧急事项") < md.index("## 客户概况") < md.index("## 客户健康度")
    for p in packs:
        unconfirmed = list(p.open_next_steps)
        penalty = next((f.points for f in p.health.factors if f.name == "逾期未完成跟进"), 0)
        assert penalty <= 0 and (penalty == 0 or unconfirmed)
        assert 0 <= p.health.score <= 100


def test_scripts_and_cases_carry_their_key_sentence(demo) -> None:  # type: ignore[no-untyped-def]
    from copilot.briefing import CASE_MARKERS, SCRIPT_MARKERS, _key_sentence

    store, index = demo
    pack = build_briefing(store, "hz-pharma", "C-HZ-00002", today=TODAY, price_index=index)
    assert all("：" in f.text for f in pack.likely_objections + pack.matching_cases)
    body = "【客户异议】“太贵了。”\n【参考话术】“您的担心可以理解。先看疗效。”"
    assert _key_sentence(body, SCRIPT_MARKERS) == "您的担心可以理解。"
    assert _key_sentence("情况：断货。做法：分批。结果：销量增长36%。后续。", CASE_MARKERS) == "销量增长36%。"
    assert _key_sentence("没有标记的第一句。第二句。", CASE_MARKERS) == "没有标记的第一句。"


def test_pdf_has_a_title_and_page_numbers(demo) -> None:  # type: ignore[no-untyped-def]
    import io

    from pypdf import PdfReader

    store, index = demo
    pack = build_briefing(store, "hz-pharma", "C-HZ-00002", today=TODAY, price_index=index)
    reader = PdfReader(io.BytesIO(to_pdf(pack)))
    assert reader.metadata is not None and (reader.metadata.title or "").startswith("拜访简报")
    pages = len(reader.pages)
    assert pages >= 2
    for n, page in enumerate(reader.pages, start=1):
        # the CJK glyphs of a subset font do not extract cleanly; the footer's numbers do: 第 n / pages 页, last line
        footer = page.extract_text().replace("\x00", "").splitlines()[-1]
        assert re.search(rf"(?<!\d){n}(?!\d).*(?<!\d){pages}(?!\d)", footer), footer


# ------------------------------------------------------------------------------------ 统方: no per-doctor figure

T = "t-rx"
PER_DOCTOR = {"D-1": 4111, "D-2": 4222, "D-3": 4333, "D-4": 4999}
"""Each doctor's own prescription count: none of these numbers may reach a briefing."""


def _clinic(store: EmbeddedGraphStore, departments: dict[str, str]) -> None:
    from graph.model import Customer, Doctor, Had, Interaction, InteractionWith, Prescribes, Product, Rep, WorksAt

    store.upsert_nodes(T, [Customer(tenant=T, id="C-RX", name="仁和医院", type="hospital")])
    store.upsert_nodes(T, [Product(tenant=T, sku="SKU-A", name="阿托伐他汀钙片", brand="立普妥"),
                           Product(tenant=T, sku="SKU-B", name="瑞舒伐他汀钙片", brand="可定")])  # fmt: skip
    names = {"D-1": "张伟", "D-2": "刘洋", "D-3": "陈静", "D-4": "王磊"}
    store.upsert_nodes(T, [Doctor(tenant=T, id=d, name=names[d], department=dept, title="主任医师")
                           for d, dept in departments.items()])  # fmt: skip
    store.upsert_edges(T, [WorksAt(tenant=T, doctor_id=d, customer_id="C-RX") for d in departments])
    store.upsert_edges(T, [Prescribes(tenant=T, doctor_id=d, sku="SKU-A", share=0.37 + i / 100, count=PER_DOCTOR[d])
                           for i, d in enumerate(departments)])  # fmt: skip
    store.upsert_edges(T, [Prescribes(tenant=T, doctor_id="D-1", sku="SKU-B", share=0.29, count=1717)])
    store.upsert_nodes(T, [Rep(tenant=T, id="R-1", name="李娜")])
    store.upsert_nodes(T, [Interaction(tenant=T, id="I-1", at=dt.datetime(2026, 11, 20, 10), channel="拜访",
                                       summary="拜访心内科；张伟主任关注他汀类药物的肝功能监测；送文献")])  # fmt: skip
    store.upsert_edges(T, [Had(tenant=T, rep_id="R-1", interaction_id="I-1")])
    store.upsert_edges(T, [InteractionWith(tenant=T, interaction_id="I-1", customer_id="C-RX")])


def _all_text(pack: object) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    assert isinstance(pack, BriefingPack)
    pdf_text = "".join(page.extract_text() for page in PdfReader(BytesIO(to_pdf(pack))).pages)
    return "\n".join([pack.model_dump_json(), to_markdown(pack), pdf_text])


def _no_doctor_figure(text: str) -> None:
    for n in [*PER_DOCTOR.values(), 1717]:
        assert str(n) not in text
    for share in ("37%", "38%", "39%", "40%", "29%", "0.37", "0.29"):
        assert share not in text


def test_briefing_keeps_preferences_and_shows_no_per_doctor_figure(tmp_path: Path) -> None:
    """Three cardiologists and one endocrinologist: the cardiology total, no per-doctor or differencing figure."""
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        _clinic(store, {"D-1": "心内科", "D-2": "心内科", "D-3": "心内科", "D-4": "内分泌科"})
        pack = build_briefing(store, T, "C-RX", today=TODAY)
        text = _all_text(pack)
        _no_doctor_figure(text)
        zhang = next(f for f in pack.doctors if f.node_id == "D-1")
        assert "立普妥 阿托伐他汀钙片" in zhang.text and "可定" in zhang.text  # the preference, in words
        assert "肝功能监测" in zhang.text  # the interest, from the visit note
        (cardiology,) = pack.prescription_summary  # the customer total would reveal 内分泌科's one doctor
        assert cardiology.text.startswith("心内科（3 位医生汇总）") and str(4111 + 4222 + 4333) in cardiology.text
        assert "可定" not in cardiology.text  # one cardiologist prescribes it: that figure would be his own
        assert str(4111 + 4222 + 4333) in text


def test_small_departments_are_only_counted_in_the_customer_total(tmp_path: Path) -> None:
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        _clinic(store, {"D-1": "心内科", "D-2": "内分泌科", "D-3": "老年科", "D-4": "全科"})
        pack = build_briefing(store, T, "C-RX", today=TODAY)
        _no_doctor_figure(_all_text(pack))
        (total,) = pack.prescription_summary
        assert total.node_id == "C-RX" and "4 位医生汇总" in total.text and str(sum(PER_DOCTOR.values())) in total.text


def test_fewer_than_three_prescribers_show_no_figure_at_all(tmp_path: Path) -> None:
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        _clinic(store, {"D-1": "心内科", "D-2": "心内科"})
        pack = build_briefing(store, T, "C-RX", today=TODAY)
        _no_doctor_figure(_all_text(pack))
        assert pack.prescription_summary == [] and len(pack.doctors) == 2


def test_an_open_drug_safety_report_is_the_first_urgent_fact_until_closed(demo) -> None:  # type: ignore[no-untyped-def]
    """A suspected adverse reaction on a visit: the briefing names its report and what to do, once, with no script.

    Runs last in this module: it closes a report of the shared demo store.
    """
    store, index = demo
    recent = [
        r for r in store.list_nodes("hz-pharma", SafetyReport, limit=10_000)
        if r.status != "closed" and r.source == "interaction" and r.customer_id
        and TODAY - dt.timedelta(days=300) < r.at.date() <= TODAY
    ]  # fmt: skip
    customer = recent[0].customer_id or ""
    report = max((r for r in recent if r.customer_id == customer), key=lambda r: (r.at, r.id))
    pack = build_briefing(store, "hz-pharma", customer, today=TODAY, price_index=index)
    safety = [f for f in pack.urgent if f.text.startswith("药物警戒：")]
    assert pack.urgent[: len(safety)] == safety, "drug-safety facts come first"
    assert safety[0].node_id == report.id and report.id in safety[0].text  # the latest report first
    assert "配合药物警戒部门随访" in safety[0].text and "不用销售话术" in safety[0].text
    assert all("不用销售话术" not in f.text for f in safety[1:]), "what to do is said once"
    assert len([f for f in safety if f.node_id.startswith("SAFE-")]) <= 3
    assert report.id in to_markdown(pack)
    set_status(store, "hz-pharma", report.id, status="closed", actor="test-safety", note="已结案")
    after = build_briefing(store, "hz-pharma", customer, today=TODAY, price_index=index)
    assert all(f.node_id != report.id for f in after.urgent)
