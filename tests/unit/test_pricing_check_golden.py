"""The price check's verdicts, texts, bands and evidence stay exactly what they were before the check path was sped up.

A generated tenant with what makes the reference hierarchy branch — contract-price runs and renegotiations, key
accounts, a 集采 award that hospitals take at once and pharmacies glide to, a list change nobody has bought under yet,
a promotion of the calendar, near-expiry clearance and a unit mistake, customers without history and prospects — is
checked on quote lines of several dates and prices. Every field of every check is compared with
``data/pricing_checks_golden.json``, written by the check path before the speed-up (the commit before
"Price check: precomputed own-price blocks"); the expected values come from that code, not from this test.

Only a deliberate change of a price rule may change the file: regenerate it with
``python -m tests.unit.test_pricing_check_golden`` and say in the commit which rule changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from graph.model import Customer, PriceEvent, Product, Promotion, Purchased
from pricing_guard import references as refs
from pricing_guard.events import TYPE_CODE
from pricing_guard.guard import CustomerProfile, QuoteCheck, QuoteLine, check_line
from pricing_guard.index import PriceIndex, day

T = "golden"
TODAY = dt.date(2026, 6, 30)
GOLDEN = Path(__file__).parent / "data" / "pricing_checks_golden.json"
TYPES = ("hospital", "clinic", "chain", "single_pharmacy", "dtp")
SKUS = {"VBP": 40.0, "LST": 25.0, "PRM": 60.0, "STD": 12.0, "SPR": 90.0, "CAS": 8.0}
"""SKU → base price: a 集采 SKU, a list change, a promotion, a plain one, a sparse one, one sold in cases."""
AWARD = TODAY - dt.timedelta(days=150)
LIST_CHANGE = TODAY - dt.timedelta(days=3)


def world() -> PriceIndex:
    """The generated tenant (fixed seed: the same lines on every run)."""
    rng = np.random.default_rng(20261207)
    index = PriceIndex(T)
    index.as_of = TODAY
    customers = []
    for i in range(60):
        kind = TYPES[i % len(TYPES)]
        customers.append(Customer(tenant=T, id=f"C{i:03d}", name=f"客户{i:03d}", type=kind, tier="AB"[i % 2],
                                  region=("华东", "华南")[i % 3 == 0]))  # fmt: skip
    index.set_customers(customers)
    index.set_products([
        Product(tenant=T, sku=s, name=s, unit="盒", pack_size=10, case_size=20 if s == "CAS" else None,
                floor_price=round(p * 0.3, 2), list_price=p)
        for s, p in SKUS.items()
    ])  # fmt: skip
    index.set_price_events([
        PriceEvent(tenant=T, id="E-VBP", sku="VBP", effective_date=AWARD, kind="vbp",
                   customer_types=["hospital", "clinic"], new_list_price=24.0, new_floor_price=18.0),
        PriceEvent(tenant=T, id="E-LST", sku="LST", effective_date=LIST_CHANGE, kind="list_change"),
    ])  # fmt: skip
    index.set_promotions([
        Promotion(tenant=T, id="P-1", name="年中冲量", start_date=TODAY - dt.timedelta(days=20),
                  end_date=TODAY + dt.timedelta(days=10), customer_types=["chain", "single_pharmacy"], skus=["PRM"],
                  min_discount=0.05, max_discount=0.1),
        Promotion(tenant=T, id="P-0", name="双11", start_date=TODAY - dt.timedelta(days=230),
                  end_date=TODAY - dt.timedelta(days=216), skus=["PRM", "STD"], min_discount=0.04, max_discount=0.08),
    ])  # fmt: skip
    offset = {"hospital": 1.0, "clinic": 1.03, "chain": 0.95, "single_pharmacy": 1.05, "dtp": 0.98}
    lines: list[Purchased] = []
    for c in customers[:52]:  # the last eight customers have no history
        level = 0.88 if c.id in ("C002", "C007", "C013") else float(rng.normal(1.0, 0.03))
        for sku, base in SKUS.items():
            if sku == "SPR" and rng.random() < 0.8:
                continue
            price = base * offset[c.type] * level
            d = -700 + int(rng.integers(0, 40))
            while d < -1:
                at = TODAY + dt.timedelta(days=d)
                if rng.random() < 0.08:  # a renegotiation
                    price *= float(rng.choice([0.97, 1.03, 1.05]))
                p = price
                if sku == "VBP" and at >= AWARD:
                    share = (
                        1.0 if c.type in ("hospital", "clinic") else min(1.0, max(0.0, ((at - AWARD).days - 20) / 100))
                    )
                    p = price * (1 - 0.45 * share)
                if sku == "LST" and at >= LIST_CHANGE:
                    p = price * 1.05
                qty, unit = float(rng.integers(5, 50)), None
                roll = rng.random()
                if roll < 0.01:
                    p *= 0.6  # near-expiry clearance, in larger quantities
                    qty *= 4
                elif roll < 0.015:
                    p *= 10  # a unit mistake
                if sku == "CAS" and rng.random() < 0.3:
                    p, qty, unit = p * 20, 1.0, "件"
                lines.append(Purchased(tenant=T, customer_id=c.id, sku=sku, order_id=f"SO-{len(lines)}", line=1,
                                       at=at, qty=qty, unit_price=round(p, 2), unit=unit))  # fmt: skip
                d += int(rng.integers(10, 45))
    index.add_order_lines(lines)
    index.prepare()
    return index


def quotes() -> list[QuoteLine]:
    """Quote lines over every customer and SKU, prospects' profiles, several dates and prices (fixed seed)."""
    rng = np.random.default_rng(7)
    out = []
    dates = (TODAY, TODAY - dt.timedelta(days=1), TODAY - dt.timedelta(days=100), TODAY - dt.timedelta(days=160),
             TODAY - dt.timedelta(days=400), TODAY + dt.timedelta(days=200))  # fmt: skip
    for i in range(60):
        for sku, base in SKUS.items():
            on = dates[int(rng.integers(0, len(dates)))]
            factor = float(rng.choice([0.55, 0.8, 0.93, 1.0, 1.0, 1.04, 1.2, 1.6]))
            unit = "件" if sku == "CAS" and rng.random() < 0.3 else None
            price = round(base * factor * (20 if unit else 1), 2)
            out.append(QuoteLine(f"C{i:03d}", sku, price, 10.0, on, unit))
    for kind in TYPES:
        for sku, base in SKUS.items():
            out.append(
                QuoteLine(None, sku, round(base * 0.97, 2), 5.0, TODAY, None, CustomerProfile(kind, "A", "华东"))
            )
    return out


def digest(check: QuoteCheck) -> dict[str, Any]:
    """Every field of a check as JSON data (the line it judged left out: it is the input)."""
    out = {f.name: getattr(check, f.name) for f in dataclasses.fields(check) if f.name != "line"}
    out["evidence"] = [[*dataclasses.astuple(e)[:2], e.at.isoformat(), *dataclasses.astuple(e)[3:]]
                       for e in check.evidence]  # fmt: skip
    out["suggestions"] = list(check.suggestions)
    return out


def run() -> list[dict[str, Any]]:
    index = world()
    return [digest(check_line(index, q, today=TODAY)) for q in quotes()]


def test_every_check_is_what_it_was() -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(run(), ensure_ascii=False))
    assert len(got) == len(expected)
    kinds = {c["reference"] for c in expected}
    assert {"own", "award", "level", "peers"} <= kinds  # the set reaches every reference
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert g == e, f"check {i} differs"


def test_the_own_price_from_kept_blocks_equals_the_one_from_the_lines() -> None:
    """The fast path of `own` (per-customer blocks made at analysis) and the path through the lines agree."""
    index = world()
    compared = 0
    for sku in SKUS:
        h = index.history(sku)
        assert h is not None
        for info in index.customers.values():
            tc = TYPE_CODE[info.type]
            for back in (0, 1, 30, 100, 300):
                on = day(TODAY) - back
                fast = refs.own(index, h, info.code, tc, on)
                slow = refs._own_from_lines(index, h, info.code, tc, on, refs._last_event(h, tc, on))
                assert (fast is None) == (slow is None)
                if fast is not None and slow is not None:
                    a, b = dataclasses.asdict(fast), dataclasses.asdict(slow)
                    assert [float(x) for x in a.pop("sample")] == [float(x) for x in b.pop("sample")]
                    assert a == b
                    compared += 1
    assert compared > 500


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(run(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    sys.stderr.write(f"wrote {GOLDEN}\n")
