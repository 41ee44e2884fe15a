"""Pricing guard: policy, the reference hierarchy, dirt, promotions, price events, units, updates and properties."""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from graph.model import Customer, ListedIn, PriceEvent, Product, Promotion, Purchased
from pricing_guard.bands import robust_center
from pricing_guard.guard import CustomerProfile, QuoteLine, check_line, check_quote
from pricing_guard.index import PriceIndex, day
from pricing_guard.policy import payment_standard_per_pack

T = "t"
TODAY = dt.date(2026, 11, 1)
START = TODAY - dt.timedelta(days=360)
BASE = {"ATV": 40.0, "AML": 30.0, "MET": 20.0, "OTC": 25.0}
TYPE_FACTOR = {"chain": 0.96, "hospital": 1.0, "single_pharmacy": 1.05, "clinic": 1.06}


def customers(tenant: str = T) -> list[Customer]:
    """12 chains, 2 key accounts (10 % under), 6 hospitals, 4 single pharmacies, 1 new chain without lines."""
    out = [Customer(tenant=tenant, id=f"C{i:02d}", name=f"连锁{i}", type="chain", tier="B", region="华东", city="杭州")
           for i in range(12)]  # fmt: skip
    out += [Customer(tenant=tenant, id=f"KA{i}", name=f"重点连锁{i}", type="chain", tier="A", region="华东",
                     city="杭州") for i in (1, 2)]  # fmt: skip
    out += [Customer(tenant=tenant, id=f"H{i:02d}", name=f"医院{i}", type="hospital", tier="B", region="华东",
                     city="杭州") for i in range(6)]  # fmt: skip
    out += [Customer(tenant=tenant, id=f"S{i:02d}", name=f"单体{i}", type="single_pharmacy", tier="B", region="华东",
                     city="杭州") for i in range(4)]  # fmt: skip
    out.append(Customer(tenant=tenant, id="NEW", name="新连锁", type="chain", tier="B", region="华东", city="杭州"))
    return out


def contract_price(c: Customer, sku: str, at: dt.date, scale: float = 1.0) -> float:
    """A customer's agreed price: segment × its own factor, renegotiated once (day 180), fixed to the cent."""
    own = 1 + ((sum(map(ord, c.id)) * 37 + sum(map(ord, sku)) * 11) % 21 - 10) / 1000  # ±1 %, fixed per pair
    level = 0.9 if c.id.startswith("KA") else 1.0
    drift = 1.01 if (at - START).days >= 180 and sum(map(ord, c.id)) % 2 else 1.0
    return round(BASE[sku] * scale * TYPE_FACTOR[c.type] * own * level * drift, 2)


def world(tenant: str = T, *, scale: float = 1.0, vbp: bool = False, list_change: bool = False,
          promotion: bool = False, dirt: bool = False, hidden_promotion: bool = False) -> PriceIndex:  # fmt: skip
    """A tenant whose customers buy every SKU about every 20 days at their agreed prices, with options for the
    situations a real distributor has: a 集采 award on AML (filed), a list change on MET (not filed), a promotion
    calendar for OTC, and dirty lines on ATV."""
    index = PriceIndex(tenant)
    index.as_of = TODAY
    cs = customers(tenant)
    index.set_customers(cs)
    index.set_products(
        [Product(tenant=tenant, sku=s, name=f"药品{s}", unit="盒", pack_size=7, case_size=40, spec="20mg*7片",
                 floor_price=round(b * scale * 0.4, 2), list_price=round(b * scale * 1.4, 2)) for s, b in BASE.items()],
        {"ATV": ListedIn(tenant=tenant, sku="ATV", edition_id="E", payment_standard=f"{9 * scale:.6f}元(20mg/片)")},
    )  # fmt: skip
    award_day = TODAY - dt.timedelta(days=150)
    change_day = TODAY - dt.timedelta(days=120)
    promo = (TODAY - dt.timedelta(days=10), TODAY + dt.timedelta(days=10))
    past_promo = (TODAY - dt.timedelta(days=200), TODAY - dt.timedelta(days=185))
    if vbp:
        index.set_price_events([PriceEvent(tenant=tenant, id="PE-1", sku="AML", effective_date=award_day, kind="vbp",
                                           customer_types=["hospital", "clinic"])])  # fmt: skip
    if promotion:
        index.set_promotions([
            Promotion(tenant=tenant, id="CX-11", name="双11健康节", start_date=promo[0], end_date=promo[1],
                      customer_types=["chain"], skus=["OTC"], min_discount=0.05, max_discount=0.10),
            Promotion(tenant=tenant, id="CX-618", name="618年中大促", start_date=past_promo[0],
                      end_date=past_promo[1], customer_types=["chain"], skus=["OTC"], min_discount=0.05,
                      max_discount=0.10),
        ])  # fmt: skip
    lines: list[Purchased] = []
    n = 0
    for k, c in enumerate(cs):
        if c.id == "NEW":
            continue
        for sku in BASE:
            if sku == "ATV" and c.id == "KA2":
                continue  # a key account that never bought ATV: judged by its level
            for d in range(k % 20, 360, 20):
                at = START + dt.timedelta(days=d)
                if at >= TODAY:
                    continue
                price = contract_price(c, sku, at, scale)
                if vbp and sku == "AML" and at >= award_day:
                    if c.type in ("hospital", "clinic"):
                        price = round(15.0 * scale, 2)
                    else:  # pharmacies glide: 30 % of the way at once, all of it 120 days later
                        done = min(1.0, 0.3 + 0.7 * (at - award_day).days / 120)
                        price = round(price * (1 - 0.4 * done), 2)
                if list_change and sku == "MET" and at >= change_day:
                    price = round(price * 0.92, 2)
                if (
                    promotion
                    and sku == "OTC"
                    and c.type == "chain"
                    and (promo[0] <= at <= promo[1] or past_promo[0] <= at <= past_promo[1])
                ):
                    price = round(price * 0.92, 2)
                hidden = (TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(days=28))
                if hidden_promotion and sku == "MET" and c.type == "chain":
                    if hidden[0] <= at <= hidden[1]:
                        price = round(price * 0.93, 2)  # a promotion nobody put in the calendar
                    elif at > hidden[1] and c.id in ("C01", "C02"):
                        continue  # customers whose last purchase was in it
                n += 1
                lines.append(Purchased(tenant=tenant, customer_id=c.id, sku=sku, order_id=f"O{n}", line=1, at=at,
                                       qty=20.0, unit_price=price))  # fmt: skip
    if dirt:
        c0 = next(c for c in cs if c.id == "C00")
        mid = START + dt.timedelta(days=100)
        good = contract_price(c0, "ATV", mid, scale)
        extra = [
            ("free", mid, 0.0, "盒", 2.0), ("x10", mid, good * 10, "盒", 20.0), ("div10", mid, good / 10, "盒", 20.0),
            ("case", mid, good * 40, "盒", 20.0),
        ]  # fmt: skip
        for i, (kind, at, price, unit, qty) in enumerate(extra):
            lines.append(Purchased(tenant=tenant, customer_id="C00", sku="ATV", order_id=f"D-{kind}", line=i + 1,
                                   at=at, qty=qty, unit_price=round(price, 2), unit=unit))  # fmt: skip
        for i in range(6):  # a clearance campaign: six chains, two weeks, 40 % off, three times the quantity
            c = cs[i + 1]
            at = START + dt.timedelta(days=240 + i * 2)
            cleared = round(contract_price(c, "ATV", at, scale) * 0.6, 2)
            lines.append(Purchased(tenant=tenant, customer_id=c.id, sku="ATV", order_id=f"QC-{i}", line=1, at=at,
                                   qty=60.0, unit_price=cleared))  # fmt: skip
    index.add_order_lines(lines)
    index.prepare()
    return index


@pytest.fixture(scope="module")
def plain() -> PriceIndex:
    return world()


@pytest.fixture(scope="module")
def full() -> PriceIndex:
    return world(vbp=True, list_change=True, promotion=True, dirt=True)


def _price(index: PriceIndex, cid: str, sku: str) -> float:
    c = next(x for x in customers() if x.id == cid)
    return contract_price(c, sku, TODAY)


def test_policy_checks_come_first(plain: PriceIndex) -> None:
    below = check_line(plain, QuoteLine("C01", "ATV", 15.0, 10, TODAY))
    assert below.verdict == "below_floor" and below.severity == "critical" and "最低限价 16" in below.explanation
    above = check_line(plain, QuoteLine("C01", "ATV", 70.0, 10, TODAY))
    assert above.verdict == "above_payment_standard" and above.payment_standard == 63.0  # 9 元/片 × 7
    hospital = check_line(plain, QuoteLine("H01", "ATV", 70.0, 10, TODAY))  # the standard binds retail pharmacies
    assert hospital.verdict == "high" and hospital.payment_standard == 63.0
    assert "高于医保支付标准 63 元" in hospital.explanation
    unknown = check_line(plain, QuoteLine("C01", "NOPE", 1.0))
    assert unknown.verdict == "unknown_product" and unknown.band_low is None and unknown.flagged


def test_the_customers_own_agreed_price_decides_first(plain: PriceIndex) -> None:
    agreed = _price(plain, "C03", "ATV")
    ok = check_line(plain, QuoteLine("C03", "ATV", agreed, 20, TODAY))
    assert ok.verdict == "ok" and ok.reference == "own" and ok.reference_price == pytest.approx(agreed, abs=0.01)
    assert ok.explanation.startswith(f"与该客户10月协议价 {agreed:.2f} 一致")
    assert ok.evidence and all(e.customer_id == "C03" for e in ok.evidence) and 0 <= (ok.percentile or 0) <= 100
    high = check_line(plain, QuoteLine("C03", "ATV", agreed * 1.25, 20, TODAY))
    assert high.verdict == "high" and high.explanation.startswith("高于该客户10月协议价") and high.severity == "major"
    low = check_line(plain, QuoteLine("C03", "ATV", agreed * 0.8, 20, TODAY))
    assert low.verdict == "low" and "低于该客户10月协议价" in low.explanation


def test_a_key_account_is_judged_by_its_level_on_a_sku_it_never_bought(plain: PriceIndex) -> None:
    at_level = BASE["ATV"] * TYPE_FACTOR["chain"] * 0.9
    ok = check_line(plain, QuoteLine("KA2", "ATV", at_level, 20, TODAY))
    assert ok.verdict == "ok" and ok.reference == "level" and "该客户一贯水平（低于同类连锁客户 10%）" in ok.explanation
    segment_price = BASE["ATV"] * TYPE_FACTOR["chain"]
    assert check_line(plain, QuoteLine("KA1", "ATV", at_level, 20, TODAY)).verdict == "ok"  # its own price
    high = check_line(plain, QuoteLine("KA2", "ATV", segment_price * 1.15, 20, TODAY))
    assert high.verdict == "high" and "高于该客户一贯水平" in high.explanation


def test_a_customer_without_lines_and_a_prospect_are_judged_by_their_segment(plain: PriceIndex) -> None:
    segment_price = BASE["ATV"] * TYPE_FACTOR["chain"]
    new = check_line(plain, QuoteLine("NEW", "ATV", segment_price, 20, TODAY))
    assert new.verdict == "ok" and new.reference == "peers" and "同类连锁客户(B级, 华东)参考价" in new.explanation
    assert new.peer_count >= 10 and len(new.evidence) == 5
    prospect = CustomerProfile("chain", "B", "华东")
    low = check_line(plain, QuoteLine(None, "ATV", segment_price * 0.75, 20, TODAY, profile=prospect))
    assert low.verdict == "low" and low.checked_against == "profile"
    assert "按客户画像 连锁、B级、华东 核对" in low.explanation
    as_new = check_line(plain, QuoteLine("NEW", "ATV", segment_price * 0.75, 20, TODAY))
    assert (low.band_low, low.band_high) == (as_new.band_low, as_new.band_high)
    none = check_line(plain, QuoteLine(None, "ATV", 32.0, 50, TODAY))
    assert none.verdict == "unknown_customer" and "客户画像" in none.explanation


def test_no_history_only_for_a_sku_never_sold() -> None:
    empty = PriceIndex(T)
    empty.set_products([Product(tenant=T, sku="X", name="新品")])
    empty.set_customers([Customer(tenant=T, id="C1", name="药房1", type="chain")])
    none = check_line(empty, QuoteLine("C1", "X", 10.0, 1, TODAY))
    assert none.verdict == "no_history" and "尚无该商品" in none.explanation and not none.flagged


def test_dirty_lines_are_left_out_and_counted(full: PriceIndex) -> None:
    counts = full.exclusions("ATV")
    assert counts["赠品（0 元）"] == 1 and counts["单价录成 10 倍"] == 1 and counts["单价录成 1/10"] == 1
    assert counts["整件价录在单盒行"] == 1 and counts["近效期清货"] == 6
    agreed = _price(full, "C02", "ATV")
    check = check_line(full, QuoteLine("C02", "ATV", agreed, 20, TODAY))
    assert check.verdict == "ok" and "已排除 6 笔近效期清货" in check.explanation and check.excluded == counts
    assert full.skipped_lines >= 10


def test_two_clearance_campaigns_of_a_sparse_sku_are_both_found() -> None:
    """The deeper campaign drags the price outside the other one down: the search repeats without it."""
    index = world()
    cs = {c.id: c for c in customers()}
    index.set_products([Product(tenant=T, sku="SPR", name="少量品种", unit="盒", floor_price=5.0)])
    start = START + dt.timedelta(days=200)
    rows = [(cid, start + dt.timedelta(days=d), 1.0) for cid in ("C00", "C01", "C02", "H00") for d in (-120, 100)]
    rows += [(cid, start + dt.timedelta(days=3 * i), 0.68) for i, cid in enumerate(["C03", "C04", "C05", "C06",
                                                                                   "C07", "C08"])]  # fmt: skip
    rows += [(cid, start + dt.timedelta(days=40 + 3 * i), 0.5) for i, cid in enumerate(["C09", "C10", "C11", "S00",
                                                                                        "S01", "S02"])]  # fmt: skip
    index.add_order_lines([Purchased(tenant=T, customer_id=cid, sku="SPR", order_id=f"S{i}", line=1, at=at, qty=30.0,
                                     unit_price=round(20.0 * TYPE_FACTOR[cs[cid].type] * depth, 2))
                           for i, (cid, at, depth) in enumerate(rows)])  # fmt: skip
    index.prepare()
    assert index.exclusions("SPR") == {"近效期清货": 12}
    new = check_line(index, QuoteLine("NEW", "SPR", 20.0 * TYPE_FACTOR["chain"], 20, TODAY))
    assert new.verdict == "ok" and "已排除 12 笔近效期清货" in new.explanation


def test_a_quote_inside_a_running_promotion_is_judged_against_it(full: PriceIndex) -> None:
    agreed = _price(full, "C04", "OTC")
    promoted = check_line(full, QuoteLine("C04", "OTC", agreed * 0.92, 20, TODAY))
    assert promoted.verdict == "ok" and promoted.promotion_id == "CX-11"
    assert "促销「双11健康节」进行中（折扣 5%–10%）" in promoted.explanation
    assert promoted.reference_price == pytest.approx(agreed, abs=0.01)  # promotion lines are not the agreed price
    too_deep = check_line(full, QuoteLine("C04", "OTC", agreed * 0.7, 20, TODAY))
    assert too_deep.verdict == "low"
    hospital = _price(full, "H02", "OTC")  # not eligible: no promotion, and its own price decides
    assert check_line(full, QuoteLine("H02", "OTC", hospital * 0.88, 20, TODAY)).verdict == "low"
    assert full.exclusions("OTC")["促销价（促销日历）"] > 0


def test_after_a_vbp_award_only_later_prices_compare(full: PriceIndex) -> None:
    award = check_line(full, QuoteLine("H03", "AML", 15.0, 20, TODAY))
    assert award.verdict == "ok" and award.event == f"{TODAY - dt.timedelta(days=150)} 集采"
    before = _price(full, "H03", "AML")  # the hospital's contract price before the award
    pre = check_line(full, QuoteLine("H03", "AML", before, 20, TODAY))
    assert pre.verdict == "high" and pre.severity == "critical"
    chain = _price(full, "C05", "AML")
    glide = check_line(full, QuoteLine("C05", "AML", chain * 0.6, 20, TODAY))  # pharmacies follow the award
    assert glide.verdict == "ok" and glide.reference == "own" and "集采后逐步降价中" in glide.explanation
    assert check_line(full, QuoteLine("C05", "AML", chain, 20, TODAY)).verdict == "high"


def test_a_list_change_left_out_of_the_file_is_found_in_the_history(full: PriceIndex) -> None:
    h = full.history("MET")
    assert h is not None
    (event,) = h.events
    assert event.kind == "detected" and abs(event.day - day(TODAY - dt.timedelta(days=120))) <= 20
    assert event.step["pharmacy"] == pytest.approx(np.log(0.92), abs=0.01)
    now = _price(full, "C06", "MET") * 0.92
    assert check_line(full, QuoteLine("C06", "MET", now, 20, TODAY)).verdict == "ok"
    assert check_line(full, QuoteLine("C06", "MET", now / 0.92 * 1.1, 20, TODAY)).verdict == "high"


def test_a_promotion_missing_from_the_calendar_is_found_by_its_dates_and_depth() -> None:
    index = world(hidden_promotion=True)
    h = index.history("MET")
    assert h is not None and h.events == []  # a dip that ends is no price event
    assert index.exclusions("MET")["临时低价（疑似未登记促销）"] >= 10
    for cid in ("C01", "C02"):  # their last purchase was at the promotion price: the agreed price is the one before
        check = check_line(index, QuoteLine(cid, "MET", _price(index, cid, "MET"), 20, TODAY))
        assert check.verdict == "ok" and check.reference_price == pytest.approx(_price(index, cid, "MET"), abs=0.01)


def test_incremental_update_moves_the_reference_without_rebuild(plain: PriceIndex) -> None:
    index = world()
    agreed = _price(index, "C07", "ATV")
    before = check_line(index, QuoteLine("C07", "ATV", agreed * 1.2, 20, TODAY))
    assert before.verdict == "high"
    new = [Purchased(tenant=T, customer_id="C07", sku="ATV", order_id=f"N{i}", line=1,
                     at=TODAY - dt.timedelta(days=3 - i), qty=20.0, unit_price=round(agreed * 1.2, 2))
           for i in range(2)]  # fmt: skip
    index.add_order_lines(new)
    after = check_line(index, QuoteLine("C07", "ATV", agreed * 1.2, 20, TODAY))
    assert after.verdict == "ok" and after.reference_price == pytest.approx(agreed * 1.2, abs=0.01)
    assert plain.lines["ATV"].price.size < index.lines["ATV"].price.size


def test_an_update_frees_the_dropped_analysis_at_the_skus_next_check_and_no_snapshot_carries_it() -> None:
    index = world()
    agreed = _price(index, "C07", "ATV")
    old = index.history("ATV")
    for i in range(2):  # two updates before any check: the analysis of the build is the one kept aside, once
        at = TODAY - dt.timedelta(days=2 - i)
        line = Purchased(tenant=T, customer_id="C07", sku="ATV", order_id=f"U{i}", line=1, at=at, qty=20.0,
                         unit_price=agreed)  # fmt: skip
        index.add_order_lines([line])
        assert index._stale == {"ATV": old}
    copy = pickle.loads(pickle.dumps(index))  # a snapshot: the same fields as a new index, nothing dropped in it
    assert copy._stale == {} and set(vars(copy)) == set(vars(PriceIndex(T)))
    assert check_line(index, QuoteLine("C07", "ATV", agreed, 20, TODAY)).verdict == "ok"
    assert index._stale == {} and index.history("ATV") is not old


def test_payment_standard_parsing() -> None:
    assert payment_standard_per_pack("5.39元(75mg/片)", pack_size=7, spec="75mg*7片") is not None
    assert payment_standard_per_pack("479.00元/盒(30片)", pack_size=30, spec="x").per_pack == 479.0  # type: ignore[union-attr]
    assert payment_standard_per_pack("*", pack_size=7, spec=None) is None
    assert payment_standard_per_pack("40.36", pack_size=28, spec="10mg*28片").per_pack == 40.36  # type: ignore[union-attr]
    assert payment_standard_per_pack("39.24元/盒", pack_size=7, spec=None).per_pack == 39.24  # type: ignore[union-attr]
    each = payment_standard_per_pack("3.45元(每片含阿托伐他汀20mg)", pack_size=7, spec="20mg*7片")
    assert each is not None and each.per_pack == 24.15
    two = "3.49元(50mg/片)；5.93元(100mg/片)"
    assert payment_standard_per_pack(two, pack_size=10, spec="100mg*10片").per_pack == 59.3  # type: ignore[union-attr]
    assert payment_standard_per_pack(two, pack_size=10, spec="25mg*10片") is None


@settings(max_examples=15, deadline=None)
@given(st.floats(0.3, 30.0), st.floats(-0.5, 0.5), st.sampled_from(["C03", "KA2", "NEW", "H01"]))
def test_scaling_prices_scales_the_band(scale: float, shift: float, cid: str) -> None:
    base, scaled = _SCALED.setdefault(1.0, world()), _SCALED.setdefault(scale, world(scale=scale))
    price = BASE["ATV"] * (1 + shift)
    a = check_line(base, QuoteLine(cid, "ATV", price, 20, TODAY))
    b = check_line(scaled, QuoteLine(cid, "ATV", price * scale, 20, TODAY))
    assert a.verdict == b.verdict or abs(price * scale - (b.band_low or 0)) < 0.02 * scale  # cents rounding
    if a.band_low is not None and b.band_low is not None:
        assert b.band_low == pytest.approx(a.band_low * scale, rel=2e-3)  # prices are kept to the cent


_SCALED: dict[float, PriceIndex] = {}


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 1.0), st.sampled_from(["C03", "KA2", "NEW", "S01", "H02"]))
@example(1.0, "C03")  # the band's upper edge itself (38.48 × 1.08 = 41.5584 computed as 41.558400000000006)
def test_a_price_inside_the_band_is_never_flagged(position: float, cid: str) -> None:
    index = _SCALED.setdefault(1.0, world())
    probe = check_line(index, QuoteLine(cid, "ATV", 40.0, 20, TODAY))
    assert probe.band_low is not None and probe.band_high is not None
    inside = probe.band_low + position * (probe.band_high - probe.band_low)
    if 16.0 <= inside <= 63.0 or cid == "H02":  # within the floor and (for pharmacies) the payment standard
        assert not check_line(index, QuoteLine(cid, "ATV", inside, 20, TODAY)).flagged


@settings(max_examples=10, deadline=None)
@given(st.floats(0.3, 3.0), st.floats(20.0, 80.0))
def test_verdict_never_depends_on_another_tenants_data(scale: float, price: float) -> None:
    mine = _SCALED.setdefault(1.0, world())
    other = world("b", scale=scale)  # another tenant with other prices
    line = QuoteLine("C03", "ATV", price, 20, TODAY)
    assert check_line(mine, line) == check_line(world("a"), line)
    assert other.tenant == "b" and check_quote(mine, [line])[0].verdict == check_line(mine, line).verdict


def test_robust_center_ignores_a_few_wild_prices() -> None:
    logs = np.log(np.array([10.0] * 20 + [100.0, 1.0]))
    center, spread = robust_center(logs, np.ones(len(logs)))
    assert np.exp(center) == pytest.approx(10.0) and spread == 0.0


def test_lines_in_another_unit_are_normalised_to_the_selling_unit(plain: PriceIndex) -> None:
    boxes = plain.lines["ATV"]
    tablets = PriceIndex(T)
    tablets.as_of = TODAY
    tablets.set_customers(customers())
    tablets.set_products([Product(tenant=T, sku="ATV", name="阿托伐他汀钙片", unit="盒", pack_size=7, case_size=40,
                                  floor_price=16.0)])  # fmt: skip
    dates = [dt.date(2000, 1, 1) + dt.timedelta(days=int(d)) for d in boxes.day]
    per_tablet = [
        Purchased(tenant=T, customer_id=c, sku="ATV", order_id=f"T{i}", line=1, at=at, qty=q * 7,
                  unit_price=round(p / 7, 4), unit="片")
        for i, (c, q, p, at) in enumerate(zip(boxes.customer, boxes.qty, boxes.price, dates, strict=True))
    ]  # fmt: skip
    per_tablet.append(per_tablet[0].model_copy(update={"order_id": "BAD", "unit": "桶"}))
    tablets.add_order_lines(per_tablet)
    tablets.prepare()
    assert tablets.exclusions("ATV") == {"单位无法换算": 1}  # counted, never silent
    assert np.allclose(np.sort(tablets.lines["ATV"].price), np.sort(boxes.price), atol=0.01)
    agreed = _price(plain, "C03", "ATV")
    as_box = check_line(tablets, QuoteLine("C03", "ATV", agreed * 0.8, 50, TODAY))
    as_tablet = check_line(tablets, QuoteLine("C03", "ATV", agreed * 0.8 / 7, 350, TODAY, unit="片"))
    as_case = check_line(tablets, QuoteLine("C03", "ATV", agreed * 0.8 * 40, 1, TODAY, unit="件"))
    assert as_box.verdict == as_tablet.verdict == as_case.verdict == "low"
    assert "按盒折算" in as_tablet.explanation and as_tablet.band_low == as_box.band_low == as_case.band_low
    assert as_box.excluded == {"单位无法换算": 1} and "已排除 1 笔单位无法换算" in as_box.explanation
    barrel = check_line(tablets, QuoteLine("C03", "ATV", 1.0, 1, TODAY, unit="桶"))
    assert barrel.verdict == "unknown_unit" and barrel.band_low is None
    assert barrel.suggestions[0] == "盒" and any(s.startswith("件（40盒）") for s in barrel.suggestions)


def test_a_case_unit_without_a_case_size_is_a_line_verdict_not_a_failed_quote() -> None:
    index = PriceIndex(T)
    index.set_customers(customers())
    index.set_products([Product(tenant=T, sku="ATV", name="阿托伐他汀钙片")])
    index.add_order_lines([Purchased(tenant=T, customer_id="C01", sku="ATV", order_id="O1", at=TODAY, qty=5,
                                     unit_price=40.0)])  # fmt: skip
    lines = [QuoteLine("C01", "ATV", 1600.0, 1, TODAY, unit="件"), QuoteLine("C01", "ATV", 40.0, 50, TODAY)]
    case, box = check_quote(index, lines)
    assert case.verdict == "unknown_unit" and "件" in case.explanation and not case.evidence
    assert box.verdict == "ok"


def test_unknown_customers_and_skus_get_line_verdicts_with_did_you_mean(plain: PriceIndex) -> None:
    index = world()
    index.set_customers([Customer(tenant=T, id="C-HZ-00001", name="仁和堂大药房(湖滨店)", type="chain", tier="A",
                                  region="浙北", city="杭州")])  # fmt: skip
    lines = [
        QuoteLine("C-HZ-0001", "ATV", 40.0, 50, TODAY),  # one digit short
        QuoteLine("'; DROP TABLE x;--", "ATV", 40.0, 50, TODAY),
        QuoteLine("C03", "ATV-20", 40.0, 50, TODAY),
        QuoteLine("C03", "ATV", _price(plain, "C03", "ATV"), 50, TODAY),
        QuoteLine("仁和堂大药房湖滨店", "ATV", 40.0, 50, TODAY),  # a name typed where the id goes
    ]
    short, injected, sku, good, by_name = check_quote(index, lines)
    assert short.verdict == "unknown_customer" and short.suggestions[0] == "C-HZ-00001"
    assert short.band_low is None and short.peer_count == 0 and "C-HZ-00001" in short.explanation
    assert injected.verdict == "unknown_customer" and injected.suggestions == ()
    assert sku.verdict == "unknown_product" and sku.suggestions == ("ATV",)
    assert good.verdict == "ok" and good.checked_against == "customer"
    assert by_name.verdict == "unknown_customer" and by_name.suggestions[0] == "C-HZ-00001"


def test_another_tenants_customer_is_unknown(plain: PriceIndex) -> None:
    other = world("b")
    other.set_customers([Customer(tenant="b", id="C-SH-00001", name="外公司客户", type="chain")])
    check = check_line(plain, QuoteLine("C-SH-00001", "ATV", 40.0, 50, TODAY))
    assert check.verdict == "unknown_customer" and check.band_low is None


@settings(max_examples=40, deadline=None)
@given(st.floats(0.5, 2000.0), st.sampled_from([20, 40, 60, 100, 200]), st.sampled_from(["x10", "div10", "case"]),
       st.integers(0, 10_000))  # fmt: skip
def test_a_unit_mistake_is_named_whatever_the_price_level(price: float, case: int, kind: str, seed: int) -> None:
    from pricing_guard.history import CASE_ON_BOX, DIV10, X10, analyse

    rng = np.random.default_rng(seed)
    n = 30
    days = np.sort(rng.integers(0, 360, n)).astype(np.int64)
    prices = np.full(n, round(price, 2))
    wrong = int(rng.integers(5, n - 5))
    prices[wrong] = {"x10": price * 10, "div10": price / 10, "case": price * case}[kind]
    cust = np.zeros(n, dtype=np.int32)
    h = analyse(prices, np.full(n, 10.0), days, cust, np.zeros(n, dtype=np.int8), ctype=np.array([0], dtype=np.int8),
                institution=np.array([False]), case_size=case, pack_size=None, promos=[], known=[])  # fmt: skip
    expected = {"x10": X10, "div10": DIV10, "case": CASE_ON_BOX}[kind]
    assert h.status[wrong] == expected and (h.status == expected).sum() == 1


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_staggered_renegotiations_are_no_price_event(seed: int) -> None:
    from pricing_guard.events import detect_events

    rng = np.random.default_rng(seed)
    rows = []
    for c in range(40):  # each customer renegotiates on its own dates, by a small drift either way
        price, start = 30.0 * rng.uniform(0.9, 1.1), int(rng.integers(0, 20))
        renegotiate = set(rng.choice(np.arange(60, 540), size=3, replace=False).tolist())
        for d in range(start, 540, 20):
            if any(d - 20 < r <= d for r in renegotiate):
                price = round(price * (1 + rng.normal(0, 0.015)), 2)
            rows.append((c, d, np.log(price)))
    cust, day_, logp = (np.array(x) for x in zip(*rows, strict=True))
    events = detect_events(day_.astype(np.int64), logp, cust.astype(np.int32), np.ones(len(rows), dtype=bool),
                           ctype=np.zeros(40, dtype=np.int8), known=[])  # fmt: skip
    assert events == []
