"""Which OCR lines make items, and which do not: makers, deal fragments, misread ¥ and ml, wrapped names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ingest.posters.items import read_items
from ingest.posters.ocr import line

TODAY = dt.date(2026, 12, 1)


def test_the_maker_on_a_tag_is_not_the_product() -> None:
    # the 产地 caption and its value read as two lines: the company must not become the item (nor drop the name)
    tag = [
        line("品名", 40, 100, 100, 140),
        line("以岭连花清瘟胶囊", 130, 100, 450, 140),
        line("零售价", 520, 110, 620, 150),
        line("规格", 40, 150, 100, 190),
        line("0.35g×36粒", 130, 150, 330, 190),
        line("40", 520, 160, 640, 230),
        line("产地", 40, 200, 100, 240),
        line("石家庄以岭药业股份有限公司", 130, 200, 500, 240),
    ]
    (item,) = read_items(tag, today=TODAY, known_names={"以岭", "连花清瘟胶囊"}).items
    assert item.text == "以岭连花清瘟胶囊 0.35g×36粒" and item.current == Decimal("40")


def test_deal_words_left_after_the_numbers_are_not_names() -> None:
    # a list row: name and spec on the left, price block on the right with a 满减 badge and a 折合 note under it
    rows = [
        line("康恩贝肠炎宁片", 40, 100, 280, 140),
        line("单盒¥18.9", 500, 95, 640, 145),
        line("0.42g×24片", 60, 145, 200, 175),
        line("满2盒减10元", 510, 150, 600, 175),
        line("折合¥16.4/盒", 510, 180, 600, 200),
        line("云南白药气雾剂", 40, 240, 280, 280),
        line("售价¥37.5", 500, 235, 640, 285),
        line("85g+30g", 60, 285, 160, 315),
    ]
    items = {it.text: it for it in read_items(rows, today=TODAY).items}
    assert set(items) == {"康恩贝肠炎宁片 0.42g×24片", "云南白药气雾剂 85g+30g"}
    assert items["康恩贝肠炎宁片 0.42g×24片"].current == Decimal("18.9")
    assert items["云南白药气雾剂 85g+30g"].current == Decimal("37.5")


def test_a_yuan_sign_read_as_a_star_is_still_a_price() -> None:
    card = [
        line("钙尔奇碳酸钙D3片", 40, 100, 300, 140),
        line("现价*84.8", 400, 95, 560, 150),
        line("600mg*60片/盒", 60, 145, 240, 175),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.current == Decimal("84.8") and item.spec == "600mg*60片/盒"  # the spec's * stays a times sign


def test_ml_read_as_m1_is_still_a_spec() -> None:
    card = [
        line("念慈菴蜜炼川贝枇杷膏", 40, 100, 300, 140),
        line("促销价¥35", 400, 95, 560, 150),
        line("150m1", 60, 145, 140, 175),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.spec == "150ml"


def test_a_name_wrapped_before_its_form_word_and_a_bracketed_note_is_joined() -> None:
    card = [
        line("原价¥41", 420, 90, 520, 110),
        line("仲景牌六味地黄", 40, 95, 280, 135),
        line("31.8", 430, 115, 540, 160),
        line("丸(浓缩丸)", 60, 138, 230, 178),
        line("200丸/盒", 80, 180, 180, 210),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.text == "仲景牌六味地黄丸(浓缩丸) 200丸/盒"
    assert (item.current, item.original) == (Decimal("31.8"), Decimal("41"))


def test_a_wrapped_name_whose_first_line_is_unsure_becomes_an_item_once_joined() -> None:
    # 念慈牌蜜炼 alone is only plausible; with 川贝枇杷膏 it has a dosage form, so it is an item even without a spec
    card = [
        line("念慈牌蜜炼", 40, 100, 240, 140),
        line("促销价¥35", 400, 110, 560, 170),
        line("川贝枇杷膏", 50, 142, 230, 182),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.name == "念慈牌蜜炼川贝枇杷膏" and item.current == Decimal("35")
