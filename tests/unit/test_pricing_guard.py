"""Pricing guard: policy checks, peer widening, bands, incremental index, and properties (hypothesis)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.model import Customer, ListedIn, Product, Purchased
from pricing_guard.bands import robust_band
from pricing_guard.guard import CustomerProfile, QuoteLine, check_line, check_quote
from pricing_guard.index import PriceIndex
from pricing_guard.peers import MIN_PEERS
from pricing_guard.policy import payment_standard_per_pack

T = "t"
TODAY = dt.date(2026, 11, 1)


def make_index(tenant: str = T, scale: float = 1.0, n: int = 40, seed: int = 0) -> PriceIndex:
    rng = np.random.default_rng(seed)
    index = PriceIndex(tenant)
    customers = [Customer(tenant=tenant, id=f"C{i}", name=f"药房{i}", type="chain" if i % 2 else "clinic", tier="A",
                          region="浙北", city="杭州") for i in range(10)]  # fmt: skip
    index.set_customers(customers)
    index.set_products(
        [Product(tenant=tenant, sku="ATV", name="阿托伐他汀钙片", list_price=58 * scale, floor_price=30 * scale,
                 pack_size=7, spec="20mg*7片")],
        {"ATV": ListedIn(tenant=tenant, sku="ATV", edition_id="E", payment_standard=f"{9 * scale:.6f}元(20mg/片)")},
    )  # fmt: skip
    lines = [
        Purchased(tenant=tenant, customer_id=f"C{i % 10}", sku="ATV", order_id=f"O{i}", line=1,
                  at=TODAY - dt.timedelta(days=int(rng.integers(1, 200))), qty=float(rng.integers(10, 100)),
                  unit_price=(40 if i % 2 else 50) * scale * float(rng.normal(1, 0.03)))
        for i in range(n)
    ]  # fmt: skip
    index.add_order_lines(lines)
    return index


def test_policy_checks_come_first() -> None:
    index = make_index()
    assert check_line(index, QuoteLine("C1", "ATV", 25.0, 10, TODAY)).verdict == "below_floor"
    above = check_line(index, QuoteLine("C1", "ATV", 70.0, 10, TODAY))
    assert above.verdict == "above_payment_standard" and above.payment_standard == 63.0  # 9 元/片 × 7
    unknown = check_line(index, QuoteLine("C1", "NOPE", 1.0))
    assert unknown.verdict == "unknown_product" and unknown.band_low is None and unknown.flagged


def test_band_verdicts_with_evidence_and_chinese_explanation() -> None:
    index = make_index()
    ok = check_line(index, QuoteLine("C1", "ATV", 40.0, 50, TODAY))
    assert ok.verdict == "ok" and ok.peer_count >= MIN_PEERS and 0 <= (ok.percentile or 0) <= 100
    low = check_line(index, QuoteLine("C1", "ATV", 32.0, 50, TODAY))
    assert low.verdict == "low" and low.explanation.startswith("低于同类连锁客户") and "%" in low.explanation
    assert len(low.evidence) == 5 and low.evidence[0].customer_id == "C1"  # nearest first: the customer itself
    high = check_line(index, QuoteLine("C2", "ATV", 60.0, 50, TODAY))
    assert high.verdict == "high" and high.severity in ("major", "critical")


def test_widening_is_reported_and_no_history_says_why() -> None:
    index = make_index(n=12)
    check = check_line(index, QuoteLine("C1", "ATV", 40.0, 50, TODAY))
    assert check.level is not None and check.level > 0 and check.level_name
    empty = PriceIndex(T)
    empty.set_products([Product(tenant=T, sku="X", name="新品")])
    empty.set_customers([Customer(tenant=T, id="C1", name="药房1", type="chain")])
    none = check_line(empty, QuoteLine("C1", "X", 10.0, 1, TODAY))
    assert none.verdict == "no_history" and "少于" in none.explanation and not none.flagged


def test_incremental_update_moves_the_band_without_rebuild() -> None:
    index = make_index()
    before = check_line(index, QuoteLine("C1", "ATV", 45.0, 50, TODAY))
    new = [Purchased(tenant=T, customer_id=f"C{i % 10}", sku="ATV", order_id=f"N{i}", line=1, at=TODAY,
                     qty=50.0, unit_price=46.0) for i in range(1, 200, 2)]  # fmt: skip
    index.add_order_lines(new)
    after = check_line(index, QuoteLine("C1", "ATV", 45.0, 50, TODAY))
    assert after.band_high is not None and before.band_high is not None and after.band_high > before.band_high


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


@settings(max_examples=40, deadline=None)
@given(st.floats(0.3, 30.0), st.floats(-0.5, 0.5), st.integers(0, 10_000))
def test_scaling_prices_scales_the_band(scale: float, shift: float, seed: int) -> None:
    base = make_index(seed=seed)
    scaled = make_index(scale=scale, seed=seed)
    line = QuoteLine("C1", "ATV", 40.0 * (1 + shift), 50, TODAY)
    a = check_line(base, line)
    b = check_line(scaled, QuoteLine("C1", "ATV", line.unit_price * scale, 50, TODAY))
    assert a.verdict == b.verdict
    if a.band_low is not None and b.band_low is not None:
        assert b.band_low == pytest.approx(a.band_low * scale, rel=1e-4)  # bands are reported to 4 decimals


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 1.0), st.integers(0, 10_000))
def test_a_price_inside_the_band_is_never_flagged(position: float, seed: int) -> None:
    index = make_index(seed=seed)
    probe = check_line(index, QuoteLine("C1", "ATV", 40.0, 50, TODAY))
    assert probe.band_low is not None and probe.band_high is not None
    inside = probe.band_low + position * (probe.band_high - probe.band_low)
    if inside >= 30.0:  # above the floor
        assert not check_line(index, QuoteLine("C1", "ATV", inside, 50, TODAY)).flagged


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(20.0, 80.0))
def test_verdict_never_depends_on_another_tenants_data(seed: int, price: float) -> None:
    mine = make_index("a", seed=1)
    other = make_index("b", seed=seed, scale=3.0)  # another tenant with wildly different prices
    line = QuoteLine("C1", "ATV", price, 50, TODAY)
    assert check_line(mine, line) == check_line(make_index("a", seed=1), line)
    assert check_quote(mine, [line])[0].verdict == check_line(mine, line).verdict
    assert other.tenant == "b" and mine.lines["ATV"].price.max() < 80


def test_robust_band_ignores_a_few_wild_prices() -> None:
    prices = np.array([10.0] * 20 + [100.0, 1.0])
    band = robust_band(prices, np.ones(len(prices)))
    assert band.low < 10 < band.high < 12


def test_lines_in_another_unit_are_normalised_to_the_selling_unit() -> None:
    boxes = make_index()
    tablets = PriceIndex(T)
    tablets.set_customers(
        Customer(tenant=T, id=c, name=i.name, type=i.type, tier=i.tier, region=i.region, city=i.city)  # type: ignore[arg-type]
        for c, i in boxes.customers.items()
    )
    tablets.set_products(
        [Product(tenant=T, sku="ATV", name="阿托伐他汀钙片", unit="盒", pack_size=7, case_size=40, floor_price=30.0)]
    )
    src = boxes.lines["ATV"]
    per_tablet = [
        Purchased(tenant=T, customer_id=c, sku="ATV", order_id=f"T{i}", line=1, at=TODAY - dt.timedelta(days=1),
                  qty=q * 7, unit_price=p / 7, unit="片")
        for i, (c, q, p) in enumerate(zip(src.customer, src.qty, src.price, strict=True))
    ]  # fmt: skip
    per_tablet.append(per_tablet[0].model_copy(update={"order_id": "BAD", "unit": "桶"}))
    tablets.add_order_lines(per_tablet)
    assert tablets.skipped_lines == 1 and tablets.exclusions("ATV") == {"单位无法换算": 1}  # counted, never silent
    assert np.allclose(np.sort(tablets.lines["ATV"].price), np.sort(src.price))
    as_box = check_line(tablets, QuoteLine("C1", "ATV", 32.0, 50, TODAY))
    as_tablet = check_line(tablets, QuoteLine("C1", "ATV", 32.0 / 7, 350, TODAY, unit="片"))
    as_case = check_line(tablets, QuoteLine("C1", "ATV", 32.0 * 40, 1, TODAY, unit="件"))
    assert as_box.verdict == as_tablet.verdict == as_case.verdict == "low"
    assert "按盒折算" in as_tablet.explanation and as_tablet.band_low == as_box.band_low == as_case.band_low
    assert as_box.excluded == {"单位无法换算": 1} and "已排除 1 笔单位无法换算的订单行" in as_box.explanation
    barrel = check_line(tablets, QuoteLine("C1", "ATV", 1.0, 1, TODAY, unit="桶"))
    assert barrel.verdict == "unknown_unit" and barrel.band_low is None
    assert barrel.suggestions[0] == "盒" and any(s.startswith("件（40盒）") for s in barrel.suggestions)


def test_a_case_unit_without_a_case_size_is_a_line_verdict_not_a_failed_quote() -> None:
    index = make_index()  # ATV has no case size
    lines = [QuoteLine("C1", "ATV", 1600.0, 1, TODAY, unit="件"), QuoteLine("C1", "ATV", 40.0, 50, TODAY)]
    case, box = check_quote(index, lines)
    assert case.verdict == "unknown_unit" and "件" in case.explanation and not case.evidence
    assert box.verdict == "ok"


def test_unknown_customers_and_skus_get_line_verdicts_with_did_you_mean() -> None:
    index = make_index()
    index.set_customers([Customer(tenant=T, id="C-HZ-00001", name="仁和堂大药房(湖滨店)", type="chain", tier="A",
                                  region="浙北", city="杭州")])  # fmt: skip
    lines = [
        QuoteLine("C-HZ-0001", "ATV", 40.0, 50, TODAY),  # one digit short
        QuoteLine("'; DROP TABLE x;--", "ATV", 40.0, 50, TODAY),
        QuoteLine("C1", "ATV-20", 40.0, 50, TODAY),
        QuoteLine("C1", "ATV", 40.0, 50, TODAY),
        QuoteLine("仁和堂大药房湖滨店", "ATV", 40.0, 50, TODAY),  # a name typed where the id goes
    ]
    short, injected, sku, good, by_name = check_quote(index, lines)
    assert short.verdict == "unknown_customer" and short.suggestions[0] == "C-HZ-00001"
    assert short.band_low is None and short.peer_count == 0 and "C-HZ-00001" in short.explanation
    assert injected.verdict == "unknown_customer" and injected.suggestions == ()
    assert sku.verdict == "unknown_product" and sku.suggestions == ("ATV",)
    assert good.verdict == "ok" and good.checked_against == "customer"
    assert by_name.verdict == "unknown_customer" and by_name.suggestions[0] == "C-HZ-00001"


def test_another_tenants_customer_is_unknown() -> None:
    mine, other = make_index("a"), make_index("b")
    other.set_customers([Customer(tenant="b", id="C-SH-00001", name="外公司客户", type="chain")])
    check = check_line(mine, QuoteLine("C-SH-00001", "ATV", 40.0, 50, TODAY))
    assert check.verdict == "unknown_customer" and check.band_low is None


def test_a_prospect_is_checked_against_an_explicit_profile_and_says_so() -> None:
    index = make_index()
    chain = CustomerProfile("chain", "A", "浙北")
    low = check_line(index, QuoteLine(None, "ATV", 32.0, 50, TODAY, profile=chain))
    assert low.verdict == "low" and low.checked_against == "profile"
    assert "按客户画像 连锁、A级、浙北 核对" in low.explanation
    customer = check_line(index, QuoteLine("C1", "ATV", 32.0, 50, TODAY))
    assert (low.band_low, low.band_high) == (customer.band_low, customer.band_high)  # C1 is such a chain
    none = check_line(index, QuoteLine(None, "ATV", 32.0, 50, TODAY))
    assert none.verdict == "unknown_customer" and "客户画像" in none.explanation
