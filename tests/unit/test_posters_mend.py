"""Prices the OCR cut apart or misread, mended before the poster is parsed (`ingest.posters.ocr.mend_prices`)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from ingest.posters.items import read_items
from ingest.posters.ocr import OcrLine, line, mend_prices

TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("活动价￥1 7", "活动价￥17"),  # a space read into a large, widely spaced number
        ("促销价￥ 1 3.9", "促销价￥ 13.9"),
        ("特价￥11. 9", "特价￥11.9"),  # a space after the decimal point
        ("售价*37.5", "售价￥37.5"),  # the ¥ sign read as * after a price word
        ("活动价 ×86.5", "活动价 ￥86.5"),
        ("秒杀价*129", "秒杀价￥129"),
        ("售价*37.5元/盒", "售价￥37.5元/盒"),
        ("*24.5", "￥24.5"),  # a lone price with decimals
        ("促销价× 1 3.9", "促销价￥ 13.9"),
        # left as read
        ("10ml*10支", "10ml*10支"),  # a spec's ×
        ("0.25g×12片", "0.25g×12片"),
        ("单价×2盒", "单价×2盒"),  # a count, not a price
        ("*185", "*185"),  # a lone whole number: could be a pack count
        ("买2 送1", "买2 送1"),
        ("￥12 3盒", "￥12 3盒"),  # a price and a count
        ("12.90 15", "12.90 15"),  # two table cells
        ("25.90", "25.90"),
    ],
)
def test_prices_misread_inside_a_line(text: str, expected: str) -> None:
    (mended,) = mend_prices([line(text, 0, 0, 200, 40)])
    assert mended.text == expected


def test_the_character_boxes_follow_a_dropped_space() -> None:
    text = "￥1 7"
    chars = tuple(((10.0 * i, 0.0), (10.0 * i + 9, 0.0), (10.0 * i + 9, 40.0), (10.0 * i, 40.0)) for i in range(4))
    (mended,) = mend_prices([OcrLine(text, line(text, 0, 0, 40, 40).quad, 0.9, chars)])
    assert mended.text == "￥17"
    assert mended.chars == (chars[0], chars[1], chars[3])


def rotated(ln: OcrLine, degrees: float) -> OcrLine:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    q = [(x * c - y * s + 300, x * s + y * c + 100) for x, y in ln.quad]
    return OcrLine(ln.text, (q[0], q[1], q[2], q[3]), ln.confidence)


@pytest.mark.parametrize("degrees", [0, 12, -15])
def test_cents_found_as_a_box_of_their_own_join_their_price(degrees: float) -> None:
    head = rotated(line("25.", 400, 300, 650, 510), degrees)
    cents = rotated(line(".90", 610, 350, 770, 480), degrees)  # smaller and raised, overlapping the point
    (joined,) = mend_prices([head, cents])
    assert joined.text == "25.90"
    assert joined.confidence == pytest.approx(0.99)
    assert max(x for x, _ in joined.quad) >= max(x for x, _ in cents.quad) - 1


@pytest.mark.parametrize(
    ("head", "tail", "box"),
    [
        ("25.", ".90", (900, 350, 1060, 480)),  # far to the right: another column's number
        ("25.", ".90", (610, 560, 770, 690)),  # the row below
        ("25.", ".90", (610, 280, 770, 560)),  # taller than the price
        ("25", "90", (610, 350, 770, 480)),  # no decimal point: the parser decides (a raised 90 or a count)
        ("25.", "900", (610, 350, 770, 480)),  # three digits are not cents
        ("现价", ".90", (610, 350, 770, 480)),  # no number to finish
    ],
)
def test_boxes_that_are_not_one_price_stay_apart(head: str, tail: str, box: tuple[int, int, int, int]) -> None:
    lines = [line(head, 400, 300, 650, 510), line(tail, *box)]
    assert [ln.text for ln in mend_prices(lines)] == [head, tail]


def test_a_card_with_a_split_price_and_a_misread_yuan_sign_reads_its_prices() -> None:
    card = [
        line("999感冒灵颗粒", 40, 40, 400, 100),
        line("10g×9袋", 40, 110, 200, 150),
        line("门店价*32.50", 40, 170, 300, 210),
        line("售价￥", 40, 260, 150, 320),
        line("25.", 160, 230, 300, 340),
        line(".90", 285, 250, 360, 320),
    ]
    (item,) = read_items(card, today=TODAY, known_names={"999"}).items
    assert item.text == "999感冒灵颗粒 10g×9袋"
    assert (item.original, item.current) == (Decimal("32.50"), Decimal("25.90"))
