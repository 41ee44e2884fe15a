"""Competitor items to our SKUs: generic, brand and exact pack decide; corrections win; the matrix and price book."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copilot.competitor_prices import CompetitorPriceBook, is_price_objection
from graph.model import CompetitorObservation, Product
from ingest.competitor_prices import catalog_entries
from pricing_guard.competitor_matrix import OurPrice, competitor_matrix, matrix_csv
from resolution.sku_match import CatalogEntry, SkuMatcher, normalize_spec, spec_fit

CATALOG = [
    CatalogEntry("LPT20", "立普妥 阿托伐他汀钙片", "阿托伐他汀钙片", "立普妥", (), "20mg×7片"),
    CatalogEntry("LPT10", "立普妥 阿托伐他汀钙片", "阿托伐他汀钙片", "立普妥", (), "10mg×7片"),
    CatalogEntry("AL20", "阿乐 阿托伐他汀钙片", "阿托伐他汀钙片", "阿乐", (), "20mg×7片"),
    CatalogEntry("LHQW", "以岭 连花清瘟胶囊", "连花清瘟胶囊", "以岭", (), "0.35g×24粒"),
    CatalogEntry("MET-XR", "盐酸二甲双胍缓释片", "盐酸二甲双胍缓释片", None, ("二甲双胍缓释片",), "0.5g×30片"),
    CatalogEntry("KRT-T", "开瑞坦 氯雷他定片", "氯雷他定片", "开瑞坦", (), "10mg×6片"),
    CatalogEntry("KRT-S", "开瑞坦 氯雷他定糖浆", "氯雷他定糖浆", "开瑞坦", (), "1mg/ml×60ml"),
    CatalogEntry("LW", "仲景 六味地黄丸(浓缩丸)", "六味地黄丸(浓缩丸)", "仲景", ("六味地黄丸",), "200丸"),
    CatalogEntry("MEILIN", "美林 布洛芬混悬液", "布洛芬混悬液", "美林", (), "100ml×1瓶"),
    CatalogEntry("FBD", "芬必得 布洛芬缓释胶囊", "布洛芬缓释胶囊", "芬必得", (), "0.3g×20粒"),
    CatalogEntry("AMX", "阿莫仙 阿莫西林胶囊", "阿莫西林胶囊", "阿莫仙", (), "0.25g×24粒"),
    CatalogEntry("AMX-SY", "石药 阿莫西林胶囊", "阿莫西林胶囊", "石药", (), "0.25g×24粒"),
    CatalogEntry("YNBY", "云南白药气雾剂", "云南白药气雾剂", "云南白药", (), "85g+30g"),
    CatalogEntry("YNBY-S", "云南白药气雾剂", "云南白药气雾剂", "云南白药", (), "50g+60g"),
]


@pytest.mark.parametrize(
    ("text", "sku", "outcome"),
    [
        ("【立普妥】阿托伐他汀钙片 20mgx7片", "LPT20", "matched"),
        ("阿托伐他汀钙片(立普妥) 10mg*7片", "LPT10", "matched"),
        ("阿乐 阿托伐他汀钙片 20mg×7片", "AL20", "matched"),  # same generic and pack, another maker
        ("立普妥 阿托伐他汀钙片 40mg×7片", None, "not_carried"),  # never the nearest size
        ("以岭连花清瘟胶囊 0.35g*24粒", "LHQW", "matched"),
        ("以岭连花清瘟胶囊 0.35g*48粒/盒", None, "not_carried"),
        ("二甲双胍缓释片 0.5g×30片/盒", "MET-XR", "matched"),  # a short name with the salt dropped
        ("开瑞坦 10mg×6片", "KRT-T", "matched"),  # brand only: the pack tells tablets from syrup
        ("仲景六味地黄丸 200丸", "LW", "matched"),
        ("美林 布洛芬混悬液 100ml", "MEILIN", "matched"),  # a pack of one may be left out
        ("培菲康双歧杆菌三联活菌胶鞋 210mg×24粒", None, "not_carried"),  # not ours at all
        ("顺尔宁孟鲁司特钠片 10mg×5片", None, "not_carried"),
        ("阿托伐他汀钙片 20mg×7片", None, "review"),  # two brands sell it: the photo must show which
        ("布洛芬缓释胶囊 300mg*20粒", "FBD", "matched"),  # 300mg is 0.3g
        ("以岭连花清瘟胶囊 24粒", "LHQW", "matched"),  # the strength left out, the count and pack word agree
        ("阿托伐他汀钙片(立普妥) 7片", None, "review"),  # 10 and 20 mg both come in 7: only the strength tells
        ("阿莫西林胶囊 0.25g×24粒", None, "review"),  # 阿莫仙 is not read out of the generic 阿莫西林
        ("云南白药气雾剂 85g+30g", "YNBY", "matched"),  # a combination pack
        ("以岭连花清瘟胶囊半价 02件", "LHQW", "review"),  # 件 counts goods in a promotion, never a pack
    ],
)
def test_resolution(text: str, sku: str | None, outcome: str) -> None:
    r = SkuMatcher(CATALOG).resolve(text)
    assert (r.sku, r.outcome) == (sku, outcome), r.reason


def test_an_ocr_slip_in_the_name_is_forgiven_but_lowers_confidence() -> None:
    r = SkuMatcher(CATALOG).resolve("以岭连花清温胶囊 0.35g×24粒")
    assert r.sku == "LHQW" and r.confidence < 1


def test_low_ocr_confidence_goes_to_review_and_a_correction_wins_next_time() -> None:
    m = SkuMatcher(CATALOG)
    r = m.resolve("以岭连花清瘟胶囊 0.35g×24粒", ocr_confidence=0.6)
    assert (r.sku, r.outcome) == ("LHQW", "review")
    m.correct("阿托伐他汀钙片 20mg×7片", "AL20")
    again = m.resolve("阿托伐他汀钙片 20mg*7片")
    assert (again.sku, again.outcome) == ("AL20", "corrected")


@pytest.mark.parametrize(
    ("raw", "norm"),
    [("0.5gX20片/盒", "0.5g×20片"), ("3g/丸", "3g×1丸"), ("150ml/瓶", "150ml×1瓶"), ("64ug*120喷", "64μg×120喷")],
)
def test_normalize_spec(raw: str, norm: str) -> None:
    assert normalize_spec(raw) == norm


@given(st.sampled_from(["0.5gX20片/盒", "3g/丸", "10ml*10支", "200丸", "85g+30g", "64ug×120喷"]))
def test_normalize_spec_is_idempotent_and_fits_itself(raw: str) -> None:
    once = normalize_spec(raw)
    assert normalize_spec(once) == once
    assert spec_fit(once, once) == 1.0


def test_spec_fit_never_forgives_a_number() -> None:
    assert spec_fit("0.35g×48粒", "0.35g×24粒") == 0
    assert spec_fit("20mg×7片", "20g×7片") == 0
    assert spec_fit("0.3g×20位", "0.3g×20粒") == 0.9  # a misread pack word
    assert spec_fit("300mg×20粒", "0.3g×20粒") == 1.0  # one strength in two units
    assert spec_fit("50μg×100片", "0.05mg×100片") == 1.0
    assert spec_fit("24粒", "0.35g×24粒") == 0.85  # the strength left out
    assert spec_fit("24粒", "0.35g×36粒") == 0


def test_catalog_entries_from_products_use_the_form_with_a_short_name() -> None:
    (entry,) = catalog_entries(
        [Product(tenant="t", sku="X", name="盐酸二甲双胍缓释片", generic_name="二甲双胍", spec="0.5g*30片")]
    )
    assert entry.aliases == ("二甲双胍缓释片",) and entry.spec == "0.5g×30片"


def obs(i: int, sku: str | None, price: float, on: dt.date, *, competitor: str = "益丰大药房", city: str = "长沙",
        resolution: str = "matched") -> CompetitorObservation:  # fmt: skip
    return CompetitorObservation(
        tenant="t", id=f"p{i}-00", photo_id=f"p{i}", item_index=0, text="x", sku=sku, resolution=resolution,
        competitor=competitor, city=city, observed_on=on, current_price=price, effective_price=price,
        customer_id="C1" if i % 2 else None, quad="[[0,0],[1,0],[1,1],[0,1]]",
    )  # fmt: skip


def test_the_matrix_keeps_the_latest_price_per_cell_with_history_and_staleness() -> None:
    today = dt.date(2026, 12, 1)
    found = [
        obs(1, "A", 30.0, dt.date(2026, 10, 1)),
        obs(2, "A", 25.0, dt.date(2026, 11, 28)),
        obs(3, "A", 28.0, dt.date(2026, 11, 20), competitor="老百姓大药房"),
        obs(4, "A", 10.0, dt.date(2026, 11, 30), resolution="review"),  # not counted until a person confirms
        obs(5, None, 9.0, dt.date(2026, 11, 30), resolution="not_carried"),
        obs(6, "B", 40.0, dt.date(2026, 9, 1)),
    ]
    cells = competitor_matrix(found, product_names={"A": "甲"}, our_price=lambda s: OurPrice(30.0, "list"), today=today)
    assert [(c.sku, c.competitor, c.effective_price) for c in cells] == [
        ("A", "益丰大药房", 25.0), ("A", "老百姓大药房", 28.0), ("B", "益丰大药房", 40.0),
    ]  # fmt: skip
    a = cells[0]
    assert (a.seen, a.previous_price, a.gap_pct, a.stale, a.days_old) == (2, 30.0, 20.0, False, 3)
    assert cells[2].stale
    text = matrix_csv(cells)
    assert text.startswith("\ufeffSKU,商品,竞品门店") and "益丰大药房" in text


def test_the_price_book_answers_nearby_and_cheaper_without_a_query() -> None:
    today = dt.date(2026, 12, 1)
    book = CompetitorPriceBook(
        [obs(1, "A", 30.0, dt.date(2026, 11, 25)), obs(2, "A", 20.0, dt.date(2026, 11, 28), competitor="老百姓大药房"),
         obs(3, "A", 10.0, dt.date(2026, 10, 1), competitor="旧"), obs(4, "A", 5.0, today, city="北京")]
    )  # fmt: skip
    seen = book.sightings("A", city="长沙", customer_id=None, today=today)
    assert [s.competitor for s in seen] == ["老百姓大药房", "益丰大药房"]  # 30 days, this city, cheapest first
    cheaper = book.cheapest_below("A", 25.0, city="长沙", customer_id=None, today=today)
    assert cheaper is not None and cheaper.effective_price == 20.0
    assert book.cheapest_below("A", 15.0, city="长沙", customer_id=None, today=today) is None
    assert "比它低" in seen[0].text("甲", 18.0) and "到手 20.00 元/盒" in seen[0].text("甲")
    assert is_price_objection("隔壁药店卖得比你们便宜") and not is_price_objection("副作用大吗")


NEAR = [
    CatalogEntry("XZ-BLG", "修正 板蓝根颗粒", "板蓝根颗粒", "修正", (), "10g×20袋"),
    CatalogEntry("MSL", "敏使朗 甲钴胺片", "甲钴胺片", "敏使朗", (), "0.5mg×20片"),
    CatalogEntry("KH-HG", "葵花 护肝片", "护肝片", "葵花", (), "0.35g×100片"),
    CatalogEntry("ZJ-LW", "仲景 六味地黄丸(浓缩丸)", "六味地黄丸(浓缩丸)", "仲景", ("六味地黄丸",), "200丸"),
    CatalogEntry("NCA", "念慈菴 蜜炼川贝枇杷膏", "蜜炼川贝枇杷膏", "念慈菴", ("川贝枇杷膏",), "150ml"),
    CatalogEntry("XKTK", "新康泰克 复方盐酸伪麻黄碱缓释胶囊", "复方盐酸伪麻黄碱缓释胶囊", "新康泰克", (), "10粒"),
]


@pytest.mark.parametrize(
    ("text", "sku"),
    [
        ("白云山牌板蓝根颗粒 10g×20袋", None),  # our generic and pack, another maker's brand
        ("弥可保甲钴胺片 0.5mg×20片/盒", None),
        ("修正板蓝根颗粒 10g*20袋", "XZ-BLG"),
        ("板蓝根颗粒 10g×20袋", "XZ-BLG"),  # no brand printed: the only one we have
        ("莫花护肝片 0.35g*100片", "KH-HG"),  # 葵花 misread: half of the brand in place is a slip, not a maker
        ("仲景香砂养胃丸 200丸", None),  # our brand, another of its products
        ("仲景 200丸", "ZJ-LW"),  # brand and pack only: may be ours
        ("潘高寿牌川贝枇杷露 150ml", None),  # a syrup (露) is not a misread paste (膏)
        ("念慈菴川贝枇杷膏 150ml", "NCA"),
        ("伪麻黄碱级释胶囊 10粒", "XKTK"),  # 缓 misread 级: still a capsule, still ours
    ],
)
def test_near_misses_resolve_to_none_and_ours_still_resolve(text: str, sku: str | None) -> None:
    r = SkuMatcher(NEAR).resolve(text)
    assert r.sku == sku, r.reason


@pytest.mark.parametrize(
    ("text", "sku"),
    [
        ("芬必得布洛芬缓释胶囊 0.3X20粒", "FBD"),  # the g of 0.3g lost: every number still agrees
        ("芬必得布洛芬缓释胶囊 0.4X20粒", None),  # a number never is forgiven
        ("立普妥阿托伐他汀钙片 20mg7片", "LPT20"),  # the × between strength and count lost
        ("立普妥阿托伐他汀钙片 10mg7片", "LPT10"),
    ],
)
def test_a_spec_with_a_lost_unit_or_times_sign_still_fits(text: str, sku: str | None) -> None:
    r = SkuMatcher(CATALOG).resolve(text)
    assert r.sku == sku, r.reason
