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


def test_a_tall_wrapped_name_does_not_reach_the_next_cards_price() -> None:
    # card 1: a name wrapped over two lines plus its spec (a block three lines high); card 2 below, its price level
    # with its name's lower half and its spec centred under the name
    cards = [
        line("拜阿司匹灵阿", 180, 445, 520, 500),
        line("零售价¥24.5", 590, 470, 810, 520),
        line("司匹林肠溶片", 180, 505, 520, 560),
        line("16.5", 680, 530, 840, 600),
        line("100mg×30片", 210, 590, 490, 650),
        line("原价¥179", 610, 990, 790, 1035),
        line("汤臣倍健鱼油软胶囊", 185, 1015, 520, 1060),
        line("125", 700, 1045, 840, 1125),
        line("100粒", 290, 1065, 425, 1120),
        line("活动价", 570, 1080, 650, 1130),
    ]
    items = {it.name: it for it in read_items(cards, today=TODAY, known_names={"汤臣倍健"}).items}
    assert items["拜阿司匹灵阿司匹林肠溶片"].current == Decimal("16.5")
    assert items["汤臣倍健鱼油软胶囊"].current == Decimal("125")


def test_notes_under_a_price_are_not_names() -> None:
    # 可与第二件半价同享 and 到手均价¥17/盒 under a price block must not take the next row's price
    rows = [
        line("思密达牌蒙脱石散", 630, 1235, 890, 1273),
        line("活动价22.5", 1014, 1214, 1156, 1275),
        line("3g×10袋", 711, 1277, 804, 1312),
        line("可与第二件半价同享", 1030, 1307, 1126, 1328),
        line("原价¥42.9", 1050, 1351, 1100, 1367),
        line("敏使朗甲钴胺片", 630, 1370, 855, 1410),
        line("现价33", 1026, 1366, 1113, 1415),
        line("0.5mg×20片", 674, 1413, 801, 1448),
        line("到手均价¥17/盒", 1031, 1442, 1095, 1462),
    ]
    reading = read_items(rows, today=TODAY)
    assert "name" not in reading.kinds[3] and "name" not in reading.kinds[8]
    items = {it.name: it for it in reading.items}
    assert set(items) == {"思密达牌蒙脱石散", "敏使朗甲钴胺片"}
    assert items["思密达牌蒙脱石散"].current == Decimal("22.5")
    assert items["敏使朗甲钴胺片"].current == Decimal("33")


def test_a_tightly_set_wrapped_name_is_joined() -> None:
    # the second line's padded box starts inside the first's; the brand on the first line, the generic below
    card = [
        line("汤臣倍健牌", 455, 834, 569, 867),
        line("鱼油软胶囊", 458, 862, 568, 889),
        line("100粒", 491, 887, 535, 907),
        line("门右价5", 474, 901, 553, 926),  # 门店价 misread: a caption, never a name
        line("¥125", 494, 924, 584, 967),
        line("活动价", 443, 936, 489, 972),
    ]
    (item,) = read_items(card, today=TODAY, known_names={"汤臣倍健"}).items
    assert item.text == "汤臣倍健牌鱼油软胶囊 100粒" and item.current == Decimal("125")


def test_a_brand_on_its_own_line_above_the_generic_is_joined() -> None:
    card = [
        line("东阿阿胶", 990, 1904, 1357, 2018),
        line("门店价119元", 1912, 1948, 2241, 2030),
        line("复方阿胶浆", 942, 2026, 1387, 2135),
        line("84.9元", 1946, 2030, 2394, 2231),
        line("活动价", 1769, 2115, 1960, 2198),
        line("20ml×12支", 999, 2146, 1320, 2227),
    ]
    (item,) = read_items(card, today=TODAY, known_names={"东阿阿胶", "复方阿胶浆"}).items
    assert item.text == "东阿阿胶复方阿胶浆 20ml×12支"
    assert (item.current, item.original) == (Decimal("84.9"), Decimal("119"))


def test_a_generic_under_another_items_fuller_name_is_its_own_product() -> None:
    # 香雪抗病毒口服液 and, a row below, 999's 抗病毒口服液 (its brand printed apart): two products, not a pack print
    rows = [
        line("香雪抗病毒口服液", 340, 2050, 1040, 2150),
        line("56.5元", 1610, 2040, 1950, 2160),
        line("10ml×12支", 530, 2170, 830, 2270),
        line("两盒装", 1480, 2180, 1630, 2260),  # a deal word, never a name
        line("999", 560, 2370, 720, 2450),
        line("抗病毒口服液", 360, 2430, 890, 2530),
        line("23.8元", 1530, 2420, 1860, 2540),
        line("10ml×10支", 460, 2540, 750, 2630),
    ]
    items = {it.text: it for it in read_items(rows, today=TODAY, known_names={"999", "抗病毒口服液"}).items}
    assert set(items) == {"香雪抗病毒口服液 10ml×12支", "抗病毒口服液 10ml×10支"}
    assert items["抗病毒口服液 10ml×10支"].current == Decimal("23.8")


def test_a_price_a_tilted_photo_lifts_off_its_row_still_finds_its_name() -> None:
    # perspective left the price block on the right a line higher than its name on the left
    rows = [
        line("金嗓子喉片", 860, 1610, 1300, 1700),
        line("8.5元", 2040, 1570, 2300, 1710),
        line("2g×12片", 970, 1700, 1190, 1780),
        line("葵花护肝片", 850, 2560, 1290, 2670),
        line("32.9元", 2020, 2480, 2260, 2590),
        line("0.35g×100片", 900, 2650, 1240, 2740),
    ]
    items = {it.text: it for it in read_items(rows, today=TODAY).items}
    assert items["葵花护肝片 0.35g×100片"].current == Decimal("32.9")
    assert items["金嗓子喉片 2g×12片"].current == Decimal("8.5")


def test_a_maker_or_deal_word_read_with_a_product_name_keeps_the_name() -> None:
    card = [
        line("白云山制药板蓝根颗粒", 40, 100, 400, 140),
        line("10g×20袋", 60, 145, 200, 175),
        line("¥15.9", 450, 100, 560, 150),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.text == "白云山制药板蓝根颗粒 10g×20袋"


def test_a_price_under_a_cards_name_is_that_cards_even_when_level_with_the_left_cards_name() -> None:
    # two cards side by side; the left card's name sits lower, level with the right card's price
    grid = [
        line("迪巧维D钙咀嚼片", 507, 549, 766, 582),
        line("易蒙停", 256, 598, 427, 658),
        line("300mg×60片/盒", 505, 594, 772, 634),
        line("原价¥109", 549, 642, 736, 682),
        line("盐酸洛哌丁胺胶囊", 208, 667, 473, 710),
        line("75.5", 612, 697, 776, 775),
        line("2mg×6粒", 255, 712, 427, 763),
        line("售价¥", 505, 732, 607, 774),
        line("29.9", 312, 773, 473, 847),
        line("满2盒减10元", 523, 809, 765, 857),  # the deal's 10 is no price of the item
    ]
    items = {it.name: it for it in read_items(grid, today=TODAY, known_names={"易蒙停"}).items}
    calcium = items["迪巧维D钙咀嚼片"]
    assert (calcium.current, calcium.original) == (Decimal("75.5"), Decimal("109"))
    assert items["易蒙停盐酸洛哌丁胺胶囊"].current == Decimal("29.9")


def test_a_reference_price_heading_a_price_block_above_the_name_is_that_names() -> None:
    rows = [
        line("门店价¥110", 1910, 1015, 2210, 1100),
        line("迪巧维D钙咀嚼片", 890, 1113, 1650, 1220),
        line("86.9", 1950, 1110, 2200, 1260),
        line("300mg×60片", 1000, 1230, 1400, 1300),
        line("门店价¥170", 1870, 1510, 2240, 1590),  # ends a little above the next name's top
        line("汇仁牌肾宝片", 910, 1600, 1630, 1710),
        line("149", 1950, 1600, 2200, 1750),
        line("0.7g×126片", 1000, 1720, 1400, 1790),
    ]
    items = {it.name: it for it in read_items(rows, today=TODAY).items}
    assert (items["迪巧维D钙咀嚼片"].current, items["迪巧维D钙咀嚼片"].original) == (Decimal("86.9"), Decimal("110"))
    assert (items["汇仁牌肾宝片"].current, items["汇仁牌肾宝片"].original) == (Decimal("149"), Decimal("170"))


def test_a_brand_marked_with_pai_and_a_name_broken_at_a_plus_are_joined() -> None:
    cards = [
        line("汤臣倍健牌", 324, 1186, 427, 1214),
        line("鱼油软胶霜", 324, 1212, 426, 1243),  # 囊 misread: no dosage form word left to tell a wrapped name
        line("130", 350, 1292, 428, 1336),
        line("三诺牌安稳", 645, 1186, 747, 1216),
        line("+血糖试条", 646, 1214, 739, 1243),
        line("128", 663, 1292, 737, 1338),
    ]
    items = {it.name: it.current for it in read_items(cards, today=TODAY, known_names={"汤臣倍健", "三诺"}).items}
    assert items == {"汤臣倍健牌鱼油软胶霜": Decimal("130"), "三诺牌安稳+血糖试条": Decimal("128")}


def test_a_shopping_apps_sales_count_is_not_a_product() -> None:
    # a mini-program row: name+spec, then 已售…+ 好评率…% under it, then the price block; the sales line must not
    # become an item and take the row's price from the product above it
    rows = [
        line("安必素阿莫西林胶囊0.25g×36粒/盒", 372, 245, 1022, 287),
        line("已售8千+好评率99%", 372, 298, 614, 329),
        line("秒杀价￥15.8", 372, 482, 746, 546),
        line("零售价￥16.5", 762, 493, 916, 524),
        line("开瑞坦氯雷他定片10mgx12片", 371, 638, 912, 684),
        line("已售975+好评率98%", 372, 692, 617, 722),
        line("促销价￥39.9", 373, 877, 757, 940),
    ]
    items = {it.text: it for it in read_items(rows, today=TODAY).items}
    assert set(items) == {"安必素阿莫西林胶囊 0.25g×36粒/盒", "开瑞坦氯雷他定片 10mgx12片"}
    assert items["安必素阿莫西林胶囊 0.25g×36粒/盒"].current == Decimal("15.8")
    assert items["开瑞坦氯雷他定片 10mgx12片"].current == Decimal("39.9")


def test_a_pack_deal_under_an_everyday_price_is_the_price_on_offer() -> None:
    # two cards: the left offers the pack (门店价 per box, 两盒装 under it); the right has its own 特价 per box
    cards = [
        line("仲景香砂养胃丸", 40, 100, 300, 150),
        line("200丸", 120, 160, 200, 200),
        line("门店价20.8", 100, 230, 250, 270),
        line("两盒装30.9", 60, 280, 290, 340),
        line("快克复方氨酚烷胺胶囊", 500, 100, 800, 150),
        line("10粒", 620, 160, 680, 200),
        line("门店价14.9", 560, 230, 720, 270),
        line("特价¥12.9", 540, 280, 760, 340),
        line("两盒装¥24", 560, 350, 740, 390),
    ]
    items = {it.name: it for it in read_items(cards, today=TODAY).items}
    pack = items["仲景香砂养胃丸"]
    assert (pack.current, pack.original) == (Decimal("30.9"), Decimal("20.8"))
    assert pack.effective_unit_price == Decimal("15.45")
    single = items["快克复方氨酚烷胺胶囊"]
    assert (single.current, single.original) == (Decimal("12.9"), Decimal("14.9"))


def test_a_pack_that_is_no_deal_does_not_replace_the_price() -> None:
    # 两盒 at more than two boxes' price is not an offer read right (another card's number, a misread): keep per box
    card = [
        line("修正板蓝根颗粒", 40, 100, 300, 150),
        line("10g×20袋", 100, 160, 240, 200),
        line("原价15.8", 100, 230, 250, 270),
        line("两盒装45.5", 60, 280, 290, 340),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.current == Decimal("15.8") and item.original is None


def test_a_card_that_prints_only_a_pack_price_is_an_item() -> None:
    # a hero card: name, spec, then only 三盒¥77.9 (no per-box price): the pack price is what is on offer
    card = [
        line("今日特价", 110, 290, 450, 410),
        line("以岭连花清瘟胶囊", 105, 410, 736, 551),
        line("0.35gx48粒", 106, 560, 453, 600),
        line("三盒￥77.9", 105, 610, 640, 774),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.text == "以岭连花清瘟胶囊 0.35gx48粒"
    assert item.current == Decimal("77.9") and item.effective_unit_price == Decimal("25.97")


def test_a_name_with_only_a_plain_deal_badge_is_not_an_item() -> None:
    # 第二件半价 names no price: a name with only that badge under it is still no item
    card = [
        line("以岭连花清瘟胶囊", 105, 410, 736, 551),
        line("0.35gx48粒", 106, 560, 453, 600),
        line("第二件半价", 105, 610, 640, 774),
    ]
    assert read_items(card, today=TODAY).items == ()


def test_a_spec_pack_count_with_a_price_glued_on_is_no_pack_deal() -> None:
    # a table row read as one line: 10ml×10支 (spec) run into the price cell is not "10 boxes for 16.8";
    # the spec stays whole (so the SKU resolves) and the glued decimal is the row's first price (原价 column)
    row = [
        line("原价", 837, 317, 929, 353),
        line("活动价", 920, 316, 1014, 351),
        line("哈药双黄连口服液10mlx10支16.8", 433, 400, 905, 438),
        line("12.9", 914, 396, 1016, 439),
    ]
    (item,) = read_items(row, today=TODAY).items
    assert item.text == "哈药双黄连口服液 10mlx10支" and not item.mechanics
    assert (item.current, item.original) == (Decimal("12.9"), Decimal("16.8"))


def test_a_plaster_spec_with_its_size_is_no_pack_deal() -> None:
    card = [
        line("云南白药膏", 209, 1580, 599, 1676),
        line("6.5cmx10cmx8贴 ￥39.90 ￥36.80", 619, 1579, 1156, 1648),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.spec == "6.5cmx10cmx8贴" and not item.mechanics


def test_a_spec_whose_times_sign_was_lost_is_still_a_spec() -> None:
    # 3g15袋 under the name is 3g×15袋: the pack count decides the SKU (another pack of ours is not ours)
    card = [
        line("思密达蒙脱石散", 532, 462, 711, 492),
        line("3g15袋", 534, 503, 628, 544),
        line("250.9元", 715, 477, 841, 514),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.spec == "3g×15袋"


def test_a_member_price_read_into_the_tags_footer_line_is_still_the_member_price() -> None:
    tag = [
        line("品名", 77, 509, 146, 554),
        line("敏使朗甲钴胺片", 156, 524, 397, 598),
        line("0.5mg*20片", 149, 563, 307, 619),
        line("零售价", 359, 656, 455, 708),
        line("￥29.80", 315, 694, 512, 776),
        line("物价员：陈监督电话：1231会员价￥28.80", 37, 754, 503, 840),
    ]
    (item,) = read_items(tag, today=TODAY).items
    assert (item.current, item.member) == (Decimal("29.80"), Decimal("28.80"))


def test_a_price_inside_boilerplate_stays_boilerplate() -> None:
    # the shop's delivery note holds a number with 元 but no caption: still no price
    card = [
        line("敏使朗甲钴胺片", 156, 524, 397, 598),
        line("0.5mg*20片", 149, 563, 307, 619),
        line("￥29.80", 315, 620, 512, 700),
        line("满39元免配送费", 150, 710, 500, 760),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.current == Decimal("29.80") and item.member is None and item.original is None


def test_a_members_pack_price_is_the_member_price_when_no_other_is_printed() -> None:
    card = [
        line("葵花护肝片", 918, 1389, 1220, 1511),
        line("0.35gX100片", 901, 1477, 1201, 1588),
        line("原价￥29.5", 932, 1555, 1145, 1643),
        line("两盒￥43.5", 874, 1613, 1172, 1734),
        line("会员两盒￥39", 853, 1720, 1152, 1832),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert (item.original, item.current, item.member) == (Decimal("29.5"), Decimal("43.5"), Decimal("39"))
    assert item.effective_member_price == Decimal("19.50")  # still counted per box


def test_the_posters_this_period_header_is_not_a_name() -> None:
    # 本期特价商品 over the cards: 本期 ("this period") is no product and must not take the cards' deal badges
    poster = [
        line("本期特价商品", 1297, 20, 2215, 193),
        line("新康泰克复方盐酸伪麻黄碱缓释胶囊", 595, 421, 1272, 480),
        line("开瑞坦氯雷他定片", 1435, 433, 2079, 517),
        line("10粒", 877, 506, 988, 572),
        line("10mg×6片", 1609, 534, 1908, 616),
        line("零售价22.9元", 814, 744, 1056, 801),
        line("活动价20.8元", 652, 824, 1221, 920),
        line("原价23.9元", 1632, 846, 1897, 912),
        line("会员日95折", 825, 930, 1045, 987),
        line("促销价20.9元", 1435, 942, 2099, 1054),
        line("可与第二件半价同享", 762, 996, 1108, 1056),
        line("第二件半价", 823, 1049, 1048, 1109),
        line("每人限购2盒", 1631, 1074, 1899, 1136),
    ]
    items = {it.name: it for it in read_items(poster, today=TODAY).items}
    assert set(items) == {"新康泰克复方盐酸伪麻黄碱缓释胶囊", "开瑞坦氯雷他定片"}
    assert items["新康泰克复方盐酸伪麻黄碱缓释胶囊"].effective_member_price == Decimal("14.82")  # 20.8 × 0.95 × 0.75


def test_a_deal_read_into_the_tags_promotion_period_line_still_counts() -> None:
    tag = [
        line("品名联邦阿莫西林胶囊", 20, 808, 476, 945),
        line("规格0.5g*24粒", 12, 867, 290, 963),
        line("原价￥20.00", 375, 961, 579, 1042),
        line("促销价", 360, 1019, 487, 1085),
        line("￥15.50", 309, 1069, 559, 1174),
        line("促销期：2026.11.21-2026.12.5第2件半价", 0, 1147, 544, 1279),
    ]
    reading = read_items(tag, today=TODAY)
    (item,) = reading.items
    assert item.current == Decimal("15.50") and item.effective_unit_price == Decimal("11.63")
    assert (reading.valid_from, reading.valid_to) == (dt.date(2026, 11, 21), dt.date(2026, 12, 5))


def test_a_small_price_beside_a_pack_price_is_the_per_box_original() -> None:
    # an app row: 两盒装¥54.5 in big red, the struck per-box ¥39.9 small beside it
    row = [
        line("开瑞坦氯雷他定片10mgx12片", 371, 638, 912, 684),
        line("两盒装¥54.5", 373, 877, 757, 940),
        line("￥39.9", 776, 886, 859, 916),
    ]
    (item,) = read_items(row, today=TODAY).items
    assert (item.current, item.original) == (Decimal("54.5"), Decimal("39.9"))
    # the same with its ¥ misread (两盒装?54.5: a pack caption and its price, not a deal badge)
    row[1] = line("两盒装?54.5", 373, 877, 757, 940)
    (item,) = read_items(row, today=TODAY).items
    assert (item.current, item.original) == (Decimal("54.5"), Decimal("39.9"))
