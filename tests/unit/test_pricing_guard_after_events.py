"""Pricing guard after price events: how pharmacies follow a 集采 award, list changes nobody bought under, old SKUs.

The world here is small and written from the rules, not from any evaluation set: hospitals switch to the award price
on the award day; pharmacies re-price 20 days later by 30 % of their eventual cut and reach it 100 days after that;
each pharmacy's eventual cut is 90 % of the institutions' cut *of its own price*, so a key account that bought 15 %
under its segment before the award ends about 15 % under the other pharmacies after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pytest

from graph.model import Customer, PriceEvent, Product, Purchased
from pricing_guard.guard import QuoteLine, check_line
from pricing_guard.index import PriceIndex

T = "t"
TODAY = dt.date(2026, 11, 1)
AWARD = TODAY - dt.timedelta(days=200)
HOSPITAL_BEFORE, AWARD_PRICE = 30.0, 15.0
"""Hospitals bought AML at 30 and pay the award price 15 after the award (−50 %)."""
CHAIN = 0.96
"""Chains buy at 96 % of the hospitals' price."""
PHARMACY_SHARE = 0.9
"""Pharmacies end 90 % of the institutions' cut under their own price before the award."""


@dataclass(frozen=True)
class Buyer:
    """A customer of the small world: its type, its level against its segment, and when it bought AML."""

    id: str
    type: str
    level: float = 1.0
    aml_from: int = -360
    aml_until: int = -1
    """Days relative to TODAY of its first and last AML purchase."""


BUYERS = [
    *[Buyer(f"H{i}", "hospital") for i in range(6)],
    *[Buyer(f"C{i}", "chain") for i in range(8)],
    Buyer("KA1", "chain", 0.85, aml_until=-150),  # a key account whose last AML line is mid-glide
    Buyer("KA2", "chain", 0.85, aml_from=-160, aml_until=-150),  # a key account that began AML mid-glide
    Buyer("PRE", "chain", aml_until=(AWARD - TODAY).days - 10),  # bought AML only before the award
    Buyer("OLD", "chain", aml_until=-150),  # an ordinary chain whose last AML line is mid-glide
    Buyer("KA3", "chain", 0.85, aml_from=1, aml_until=0),  # a key account that never bought AML
]


def glide(days_after_award: int) -> float:
    """Share of its eventual cut a pharmacy has made this many days after the award."""
    if days_after_award < 20:
        return 0.0
    return min(1.0, 0.3 + 0.7 * (days_after_award - 20) / 100)


def price(b: Buyer, sku: str, at: dt.date, award: dt.date = AWARD) -> float:
    """The customer's agreed price (its type, its level; AML after the award: the award, or its own glide)."""
    base = {"AML": HOSPITAL_BEFORE, "ATV": 40.0, "MET": 20.0}[sku]
    before = base * (CHAIN if b.type == "chain" else 1.0) * b.level
    if sku != "AML" or at < award:
        return round(before, 2)
    if b.type == "hospital":
        return AWARD_PRICE
    cut = PHARMACY_SHARE * (1 - AWARD_PRICE / HOSPITAL_BEFORE)
    return round(before * (1 - cut * glide((at - award).days)), 2)


def full_glide(b: Buyer) -> float:
    """Where a pharmacy ends after the award."""
    return round(HOSPITAL_BEFORE * CHAIN * b.level * (1 - PHARMACY_SHARE * (1 - AWARD_PRICE / HOSPITAL_BEFORE)), 2)


def world(
    *,
    pharmacies_after_award: bool = True,
    filed: bool = True,
    sparse_hospitals: bool = False,
    award: dt.date = AWARD,
    hospitals_after_award: bool = True,
) -> PriceIndex:
    """Everyone buys ATV and MET every 15 days; AML within each buyer's dates.

    Options: no pharmacy line after the award; the award not filed; hospitals hardly buying AML (one line of one
    hospital, after the award).
    """
    index = PriceIndex(T)
    index.as_of = TODAY
    index.set_customers([Customer(tenant=T, id=b.id, name=b.id, type=b.type, tier="B", region="华东")
                         for b in BUYERS])  # fmt: skip
    index.set_products([Product(tenant=T, sku=s, name=s, unit="盒", floor_price=6.0) for s in ("AML", "ATV", "MET")])
    if filed:
        index.set_price_events([PriceEvent(tenant=T, id="VBP", sku="AML", effective_date=award, kind="vbp",
                                           customer_types=["hospital", "clinic"], new_list_price=AWARD_PRICE * 1.12,
                                           new_floor_price=AWARD_PRICE * 0.9)])  # fmt: skip
    lines = []
    for k, b in enumerate(BUYERS):
        for d in range(-360 + k % 15, 0, 15):
            at = TODAY + dt.timedelta(days=d)
            for sku in ("AML", "ATV", "MET"):
                if sku == "AML" and not b.aml_from <= d <= b.aml_until:
                    continue
                if sku == "AML" and b.type == "chain" and at >= award and not pharmacies_after_award:
                    continue
                if sku == "AML" and b.type == "hospital" and at >= award and not hospitals_after_award:
                    continue
                if sku == "AML" and b.type == "hospital" and sparse_hospitals and not (b.id == "H0" and -60 <= d < -45):
                    continue
                lines.append(Purchased(tenant=T, customer_id=b.id, sku=sku, order_id=f"O{len(lines)}", line=1,
                                       at=at, qty=10.0, unit_price=price(b, sku, at, award)))  # fmt: skip
    index.add_order_lines(lines)
    index.prepare()
    return index


@pytest.fixture(scope="module")
def vbp() -> PriceIndex:
    return world()


def buyer(cid: str) -> Buyer:
    return next(b for b in BUYERS if b.id == cid)


def test_a_key_account_glides_to_its_own_cut_below_the_award_price(vbp: PriceIndex) -> None:
    ka = buyer("KA1")
    end = full_glide(ka)
    assert end < AWARD_PRICE * 0.94  # under the award price institutions pay, and still clean
    at_end = check_line(vbp, QuoteLine("KA1", "AML", end, 10, TODAY))
    assert at_end.verdict == "ok" and at_end.reference == "own"
    below_own_cut = HOSPITAL_BEFORE * CHAIN * ka.level * (AWARD_PRICE / HOSPITAL_BEFORE) * 0.85
    assert check_line(vbp, QuoteLine("KA1", "AML", below_own_cut, 10, TODAY)).verdict == "low"


def test_a_pharmacy_that_began_buying_after_the_award_is_placed_by_its_level(vbp: PriceIndex) -> None:
    ka = buyer("KA2")
    check = check_line(vbp, QuoteLine("KA2", "AML", full_glide(ka), 10, TODAY))
    assert check.verdict == "ok" and check.reference == "own" and "集采后逐步降价中" in check.explanation


def test_a_key_account_that_never_bought_the_sku_may_be_as_far_under_the_award_as_under_its_segment(
    vbp: PriceIndex,
) -> None:
    early = world(award=TODAY - dt.timedelta(days=80))  # pharmacies part of the way down
    near_end = full_glide(buyer("KA3")) * 0.95
    assert near_end < AWARD_PRICE * 0.94 * 0.92
    check = check_line(early, QuoteLine("KA3", "AML", near_end, 10, TODAY))
    assert check.verdict == "ok" and check.reference == "level" and "按该客户水平折算" in check.explanation
    assert check_line(early, QuoteLine("KA3", "AML", near_end * 0.85, 10, TODAY)).verdict == "low"


def test_a_gliding_pharmacys_old_price_is_stale_once_the_others_moved_on(vbp: PriceIndex) -> None:
    old = buyer("OLD")
    then = price(old, "AML", TODAY - dt.timedelta(days=150))
    assert then > full_glide(old) * 1.15
    stale = check_line(vbp, QuoteLine("OLD", "AML", then, 10, TODAY))
    assert stale.verdict == "high" and "按近期药店集采后降幅" in stale.explanation
    now = check_line(vbp, QuoteLine("OLD", "AML", full_glide(old), 10, TODAY))
    assert now.verdict == "ok" and now.reference_price == pytest.approx(full_glide(old), rel=0.02)
    fresh = check_line(vbp, QuoteLine("C3", "AML", full_glide(buyer("C3")), 10, TODAY))  # its latest line is recent
    assert fresh.verdict == "ok" and "按近期药店" not in fresh.explanation


def test_a_pharmacy_is_judged_between_its_price_and_its_cut_before_any_pharmacy_moved() -> None:
    index = world(pharmacies_after_award=False)
    pre = price(buyer("PRE"), "AML", AWARD - dt.timedelta(days=20))
    partly = check_line(index, QuoteLine("PRE", "AML", pre * 0.8, 10, TODAY))  # part of the way down
    assert partly.verdict == "ok" and partly.reference == "own" and "尚无可比成交" in partly.explanation
    assert check_line(index, QuoteLine("PRE", "AML", pre, 10, TODAY)).verdict == "ok"  # not re-priced yet
    assert check_line(index, QuoteLine("PRE", "AML", pre * 0.4, 10, TODAY)).verdict == "low"  # past its own cut
    assert check_line(index, QuoteLine("PRE", "AML", pre * 1.2, 10, TODAY)).verdict == "high"


def test_a_list_change_nobody_bought_under_yet_compares_with_the_prices_before_it(vbp: PriceIndex) -> None:
    index = world()
    change = TODAY  # every MET line is before it
    index.set_price_events([PriceEvent(tenant=T, id="LC", sku="MET", effective_date=change, kind="list_change")])
    before = price(buyer("C2"), "MET", TODAY)
    moved = check_line(index, QuoteLine("C2", "MET", before * 1.06, 10, TODAY))
    assert moved.verdict == "ok" and "调价后尚无成交" in moved.explanation and moved.event is not None
    assert "后只比较此后的成交" not in moved.explanation
    assert check_line(index, QuoteLine("C2", "MET", before * 1.4, 10, TODAY)).verdict == "high"
    assert check_line(vbp, QuoteLine("C2", "MET", before * 1.06, 10, TODAY)).explanation.find("调价") < 0


def test_a_sku_nobody_bought_for_over_a_year_is_judged_by_its_last_prices() -> None:
    index = PriceIndex(T)
    index.as_of = TODAY
    index.set_customers([Customer(tenant=T, id=f"H{i}", name="医院", type="hospital") for i in range(3)])
    index.set_products([Product(tenant=T, sku="RARE", name="罕用药", unit="盒")])
    long_ago = TODAY - dt.timedelta(days=430)
    index.add_order_lines([Purchased(tenant=T, customer_id=f"H{i}", sku="RARE", order_id=f"R{i}{k}", line=1,
                                     at=long_ago + dt.timedelta(days=40 * k), qty=5.0, unit_price=70.0 + i)
                           for i in range(3) for k in range(2)])  # fmt: skip
    index.prepare()
    own = check_line(index, QuoteLine("H1", "RARE", 71.0, 5, TODAY))
    assert own.verdict == "ok" and own.reference == "own"
    assert check_line(index, QuoteLine("H1", "RARE", 71.0 * 1.4, 5, TODAY)).verdict == "high"


def test_an_award_nobody_filed_shows_in_the_pharmacies_glide_and_a_single_hospital_line() -> None:
    """Hospitals hardly buy the SKU: one line, after the award. Pharmacies stepping down say that it was a cut."""
    index = world(filed=False, sparse_hospitals=True)
    h = index.history("AML")
    assert h is not None and any(e.kind == "detected" and e.is_vbp for e in h.events)
    award = check_line(index, QuoteLine("H1", "AML", AWARD_PRICE, 10, TODAY))  # H1 never bought AML
    assert award.verdict == "ok" and award.reference == "award"
    assert check_line(index, QuoteLine("H1", "AML", HOSPITAL_BEFORE, 10, TODAY)).verdict == "high"


def test_a_cut_at_the_end_of_the_history_is_no_clearance_when_hospitals_pay_it_too() -> None:
    """The last month: everybody 40 % lower. No line after it shows that it lasts, but hospitals get no clearance."""
    from pricing_guard.history import CLEARANCE, analyse

    rows = []
    for cust in range(14):  # 0–9 chains, 10–13 hospitals; monthly lines for a year, the last one 40 % lower
        for m in range(12):
            at = m * 30 + cust
            rows.append((cust, at, 20.0 * (0.6 if at >= 335 else 1.0)))
        rows.append((cust, 345 + cust, 12.0))
    cust_, day_, price_ = (np.array(x) for x in zip(*rows, strict=True))
    ctype = np.array([0] * 10 + [2] * 4, dtype=np.int8)
    n = len(rows)
    h = analyse(price_.astype(float), np.full(n, 10.0), day_.astype(np.int64), cust_.astype(np.int32),
                np.zeros(n, dtype=np.int8), ctype=ctype, institution=ctype == 2, case_size=None, pack_size=None,
                promos=[], known=[], norm=np.zeros(14))  # fmt: skip
    assert not (h.status == CLEARANCE).any() and h.events


def test_a_year_after_the_award_a_pharmacys_recent_price_may_be_renegotiated_up(vbp: PriceIndex) -> None:
    c3 = buyer("C3")
    settled = world(award=TODAY - dt.timedelta(days=330))
    up = full_glide(c3) * 1.06
    assert check_line(settled, QuoteLine("C3", "AML", up, 10, TODAY)).verdict == "ok"
    assert check_line(vbp, QuoteLine("C3", "AML", up, 10, TODAY)).verdict == "high"  # still gliding: only down


def test_before_any_institution_bought_since_a_filed_award_its_filed_prices_bound_it() -> None:
    index = world(hospitals_after_award=False)
    at_award = check_line(index, QuoteLine("H2", "AML", AWARD_PRICE, 10, TODAY))
    assert at_award.verdict == "ok" and at_award.reference == "award" and "尚无成交" in at_award.explanation
    assert check_line(index, QuoteLine("H2", "AML", HOSPITAL_BEFORE, 10, TODAY)).verdict == "high"  # the old price
    pharmacy = check_line(index, QuoteLine("C2", "AML", full_glide(buyer("C2")), 10, TODAY))
    assert pharmacy.verdict == "ok"


def test_the_award_price_is_read_from_hospitals_when_clinics_bought_clearance() -> None:
    """Two hospitals pay the award; three clinics' only lines since are near-expiry stock at 40 % under it."""
    index = PriceIndex(T)
    index.as_of = TODAY
    who = {"H0": "hospital", "H1": "hospital", "K0": "clinic", "K1": "clinic", "K2": "clinic", "K3": "clinic"}
    index.set_customers([Customer(tenant=T, id=k, name=k, type=v, region="华东") for k, v in who.items()])
    index.set_products([Product(tenant=T, sku="AML", name="AML", unit="盒", floor_price=6.0)])
    index.set_price_events([PriceEvent(tenant=T, id="VBP", sku="AML", effective_date=AWARD, kind="vbp",
                                       customer_types=["hospital", "clinic"])])  # fmt: skip
    lines = []
    for k, (cid, kind) in enumerate(who.items()):
        for d in range(-360 + k, 0, 30):
            at = TODAY + dt.timedelta(days=d)
            if at < AWARD:
                p = HOSPITAL_BEFORE * (1.0 if kind == "hospital" else 1.05)
            elif kind == "hospital":
                p = AWARD_PRICE
            elif d > -60 and cid != "K3":
                p = AWARD_PRICE * 0.6  # clearance
            else:
                continue
            lines.append(Purchased(tenant=T, customer_id=cid, sku="AML", order_id=f"O{len(lines)}", line=1, at=at,
                                   qty=10.0, unit_price=round(p, 2)))  # fmt: skip
    index.add_order_lines(lines)
    index.prepare()
    check = check_line(index, QuoteLine("K3", "AML", AWARD_PRICE, 10, TODAY))  # K3: no line since the award
    assert check.verdict == "ok" and check.reference == "award" and "华东医疗机构" in check.explanation


def test_near_expiry_stock_sold_after_an_award_is_clearance_too() -> None:
    """Five chains, fully glided, buy extra boxes at 45 % off within ten days; pharmacies are compared with theirs."""
    index = world()
    extra = [Purchased(tenant=T, customer_id=f"C{i}", sku="AML", order_id=f"QC{i}", line=1,
                       at=TODAY - dt.timedelta(days=60 - 2 * i), qty=40.0,
                       unit_price=round(full_glide(buyer(f"C{i}")) * 0.55, 2)) for i in range(5)]  # fmt: skip
    index.add_order_lines(extra)
    index.prepare()
    assert index.exclusions("AML").get("近效期清货") == 5
    assert check_line(index, QuoteLine("C1", "AML", full_glide(buyer("C1")), 10, TODAY)).verdict == "ok"


def test_clearance_after_an_award_deeper_than_any_glide_is_found_at_the_end_of_the_history() -> None:
    """No line after the window shows that prices came back (nor larger orders), but no glide goes that deep."""
    index = world()
    extra = [Purchased(tenant=T, customer_id=f"C{i}", sku="AML", order_id=f"QC{i}", line=1,
                       at=TODAY - dt.timedelta(days=5 - i), qty=10.0,
                       unit_price=round(full_glide(buyer(f"C{i}")) * 0.6, 2)) for i in range(5)]  # fmt: skip
    index.add_order_lines(extra)
    index.prepare()
    assert index.exclusions("AML").get("近效期清货") == 5


def test_an_award_nobody_filed_shows_in_pharmacies_stepping_down_on_their_own_dates() -> None:
    """Twenty pharmacies each step down 25 % on its own day in the half year after the award (no common day for the
    paired method); three hospitals, four lines in all (too few for Pettitt's test): two before, two at half price."""
    from pricing_guard.events import detect_events

    rng = np.random.default_rng(5)
    rows = []
    for cust in range(20):
        step_day = 400 + int(rng.integers(20, 180))
        rows += [(cust, d, np.log(30.0 * (0.75 if d >= step_day else 1.0))) for d in range(cust % 25, 720, 25)]
    rows += [(20, 150, np.log(31.0)), (21, 330, np.log(30.5)), (21, 450, np.log(15.0)), (22, 560, np.log(15.0))]
    rows.sort()
    cust_, day_, logp = (np.array(x) for x in zip(*rows, strict=True))
    ctype = np.array([0] * 20 + [2] * 3, dtype=np.int8)
    events = detect_events(day_.astype(np.int64), logp, cust_.astype(np.int32), np.ones(len(rows), dtype=bool),
                           ctype=ctype, known=[])  # fmt: skip
    (event,) = events
    assert event.is_vbp and event.applies(2) and not event.applies(0) and 400 < event.day <= 450
