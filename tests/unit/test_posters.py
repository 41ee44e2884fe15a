"""Reading competitor posters: notation (prices, mechanics, dates), effective prices, layout grouping, photos."""

from __future__ import annotations

import datetime as dt
import io
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from ingest.posters.effective import effective_unit_price, member_unit_price
from ingest.posters.errors import NotAnImageError, NoTextError, PhotoTooLargeError
from ingest.posters.items import read_items
from ingest.posters.notation import read_dates, read_mechanics, split_run, tokens
from ingest.posters.ocr import OcrLine, ScriptedOcrEngine, line
from ingest.posters.photo import decode_photo
from ingest.posters.photo_store import PhotoStore
from ingest.posters.reader import read_photo

TODAY = dt.date(2026, 12, 1)


def prices(text: str) -> list[tuple[str, str | None]]:
    return [(str(t.price.value), t.price.role) for t in tokens(text, TODAY) if t.price is not None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¥29.8", [("29.8", None)]),
        ("29.8元/盒", [("29.8", None)]),
        ("零售价￥62.9", [("62.9", "current")]),
        ("原价v25.9", [("25.9", "original")]),  # ¥ read as v after a caption
        ("会员价：59.8", [("59.8", "member")]),
        ("17￥11.5", [("17", None), ("11.5", None)]),  # two table cells read as one line
        ("15.8010.00", [("15.80", None), ("10.00", None)]),
        ("20.913.9元", [("20.9", None), ("13.9", None)]),
        ("0.3g*20粒", []),
        ("送药电话：15059011213", []),
        ("24小时营业", []),
    ],
)
def test_prices_in_a_line(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert prices(text) == expected


@pytest.mark.parametrize(
    ("text", "kind", "params"),
    [
        ("第二件半价", "second_half", {"n": 2, "rate": Decimal("0.5")}),
        ("买一盒第二盒半价", "second_half", {"n": 2, "rate": Decimal("0.5")}),
        ("第2盒7折", "nth_discount", {"n": 2, "rate": Decimal("0.7")}),
        ("第3盒半价", "nth_discount", {"n": 3, "rate": Decimal("0.5")}),
        ("02件半价", "second_half", {"n": 2, "rate": Decimal("0.5")}),  # 第 read as 0
        ("第二盒9.9元", "nth_fixed_price", {"n": 2, "price": Decimal("9.9")}),
        ("买三送一", "buy_n_get_m", {"buy": 3, "get": 1}),
        ("买3盒送1盒", "buy_n_get_m", {"buy": 3, "get": 1}),
        ("两盒39.8", "multi_buy", {"qty": 2, "price": Decimal("39.8")}),
        ("¥22.9/2盒", "multi_buy", {"qty": 2, "price": Decimal("22.9")}),
        ("2盒到手25.9", "multi_buy", {"qty": 2, "price": Decimal("25.9")}),
        ("任选2盒8.5折", "qty_discount", {"qty": 2, "rate": Decimal("0.85")}),
        ("加1元换购同款1盒", "add_on", {"add_price": Decimal("1"), "target": None, "same_item": True}),
        ("买2盒送保温杯", "gift", {"gift": "保温杯", "min_qty": 2}),
        ("每人限购2盒", "limit", {"max_qty": 2}),
        ("每满100减10", "spend_x_off_y", {"threshold": 100, "off": 10, "stackable": True}),
        ("满100元立减15元", "spend_x_off_y", {"threshold": 100, "off": 15, "stackable": False}),
        ("每周三会员日 全场95折", "member_discount", {"rate": Decimal("0.95"), "when": "每周三"}),
        ("会员再享9折", "member_discount", {"rate": Decimal("0.9"), "when": None}),
    ],
)
def test_mechanics(text: str, kind: str, params: dict[str, object]) -> None:
    (m,), _ = read_mechanics(text)
    assert (m.type, m.params) == (kind, params)


def test_a_rule_banner_says_whether_it_excludes_special_offers() -> None:
    (m,), _ = read_mechanics("满150减25（特价商品除外）")
    assert m.scope == "poster" and m.excludes_special


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("活动时间：2月24日-3月10日", dt.date(2027, 2, 24), dt.date(2027, 3, 10)),
        ("12月26日-1月5日", dt.date(2026, 12, 26), dt.date(2027, 1, 5)),  # across New Year
        ("即日起至12月31日", None, dt.date(2026, 12, 31)),
        ("2026.03.16-2026.04.15", dt.date(2026, 3, 16), dt.date(2026, 4, 15)),
    ],
)
def test_validity_dates(text: str, start: dt.date | None, end: dt.date) -> None:
    found = read_dates(text, TODAY)
    assert found is not None and found[:2] == (start, end)


def test_print_and_update_stamps_are_not_validity() -> None:
    assert read_dates("打印日期：2026-01-15", TODAY) is None
    assert read_dates("更新 11-03 09:33", TODAY) is None


@pytest.mark.parametrize(
    ("price", "deals", "expected"),
    [
        ("68", ["第二件半价", "满100减20"], "41.00"),  # the set's own worked example
        ("9.8", ["满100减20"], "7.84"),  # 11 boxes needed: a basket rule, shared in proportion (9.8 × 0.8)
        ("12.9", ["¥22.9/2盒", "每人限4件", "满150减25"], "9.54"),  # 4 boxes cannot reach 150: 11.45 × 125/150
        ("29.8", ["买二送一"], "19.87"),
        ("30", ["第二盒1元"], "15.50"),
        ("50", ["每满100减10"], "45.00"),
        ("20", ["买就送保温杯", "限购2盒"], "20.00"),
    ],
)
def test_effective_unit_price(price: str, deals: list[str], expected: str) -> None:
    mechanics = [m for text in deals for m in read_mechanics(text)[0]]
    assert effective_unit_price(Decimal(price), mechanics) == Decimal(expected)


def test_member_price_is_the_lowest_member_benefit() -> None:
    mechanics = read_mechanics("会员日全场9折")[0]
    assert member_unit_price(Decimal("30"), Decimal("28"), mechanics) == Decimal("27.00")


@given(st.lists(st.decimals(min_value=Decimal("0.1"), max_value=Decimal("999.99"), places=2), min_size=2, max_size=4))
def test_concatenated_cells_split_back(values: list[Decimal]) -> None:
    text = "".join(f"{v:.2f}" for v in values)
    if any(f"{v:.2f}".startswith("0") and v >= 1 for v in values):
        return
    assert split_run(text) == [f"{v:.2f}" for v in values]


@given(
    st.decimals(min_value=Decimal("0.5"), max_value=Decimal("9999"), places=1),
    st.sampled_from(["¥{}", "{}元", "￥{}", "{}元/盒", "现价¥{}"]),
)
def test_any_price_notation_reads_back(value: Decimal, pattern: str) -> None:
    assert [Decimal(v) for v, _ in prices(pattern.format(value))] == [value]


GRID = [
    line("益丰大药房(五一路店)", 40, 20, 400, 60),
    line("活动时间：11月20日-12月10日", 40, 70, 420, 100),
    line("满100减20", 460, 20, 700, 80),
    line("【立普妥】阿托伐他汀钙片", 50, 150, 350, 190),
    line("20mg×7片", 50, 195, 200, 225),
    line("第二件半价", 50, 230, 200, 260),
    line("¥49.8", 50, 270, 250, 340),
    line("原价¥58", 260, 285, 380, 310),
    line("格华止 盐酸二甲双胍片", 450, 150, 750, 190),
    line("0.5g×20片", 450, 195, 600, 225),
    line("会员价￥21", 620, 290, 740, 320),
    line("24", 450, 270, 560, 340),
    line("温馨提示：请按说明书使用", 40, 560, 500, 590),
]


def rotate(lines: list[OcrLine], degrees: float) -> list[OcrLine]:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)

    def r(p: tuple[float, float]) -> tuple[float, float]:
        return (p[0] * c - p[1] * s + 300, p[0] * s + p[1] * c + 100)

    return [
        OcrLine(ln.text, (r(ln.quad[0]), r(ln.quad[1]), r(ln.quad[2]), r(ln.quad[3])), ln.confidence) for ln in lines
    ]


@pytest.mark.parametrize("degrees", [0, 12, -15])
def test_a_grid_poster_reads_into_items_at_any_rotation(degrees: float) -> None:
    reading = read_items(rotate(GRID, degrees), today=TODAY, known_names={"立普妥", "格华止"})
    items = {it.text: it for it in reading.items}
    assert set(items) == {"【立普妥】阿托伐他汀钙片 20mg×7片", "格华止 盐酸二甲双胍片 0.5g×20片"}
    lipitor = items["【立普妥】阿托伐他汀钙片 20mg×7片"]
    assert (lipitor.original, lipitor.current, lipitor.member) == (Decimal("58"), Decimal("49.8"), None)
    assert lipitor.effective_unit_price == Decimal("32.35") and "第二件半价" in lipitor.rule
    metformin = items["格华止 盐酸二甲双胍片 0.5g×20片"]
    assert (metformin.current, metformin.member) == (Decimal("24"), Decimal("21"))
    assert metformin.effective_unit_price == Decimal("20.00")  # 5 boxes: (120 − 20) / 5
    assert (reading.shop, reading.branch) == ("益丰大药房", "五一路店")
    assert (reading.valid_from, reading.valid_to) == (dt.date(2026, 11, 20), dt.date(2026, 12, 10))
    assert abs(reading.angle_degrees - degrees) < 1


def test_a_table_row_takes_its_prices_from_the_column_headers() -> None:
    table = [
        line("品名", 40, 100, 120, 130),
        line(
            "原价 活动价 会员价",
            300,
            100,
            620,
            130,
        ),
        line("藿香正气水（太极） 10ml×10支", 40, 160, 280, 190),
        line("17", 300, 160, 360, 190),
        line("￥11.5", 420, 160, 500, 190),
        line("10.9", 540, 160, 600, 190),
    ]
    (item,) = read_items(table, today=TODAY).items
    assert (item.original, item.current, item.member) == (Decimal("17"), Decimal("11.5"), Decimal("10.9"))


def test_a_price_tag_with_field_captions() -> None:
    tag = [
        line("商品标价签", 300, 20, 500, 60),
        line("品名：对乙酰氨基酚混悬滴剂", 40, 100, 460, 140),
        line("规格：15mL/瓶", 40, 150, 250, 190),
        line("产地：上海强生制药有限公司", 40, 200, 400, 240),
        line("零售价：29.80", 40, 260, 360, 320),
        line("会员价：28.90", 40, 330, 300, 370),
        line("打印日期：2026-01-15", 40, 380, 300, 410),
    ]
    reading = read_items(tag, today=TODAY)
    (item,) = reading.items
    assert item.text == "对乙酰氨基酚混悬滴剂 15mL/瓶"
    assert (item.current, item.member) == (Decimal("29.80"), Decimal("28.90"))
    assert reading.valid_to is None


def test_brands_on_the_boxes_above_a_shelf_tag_are_not_its_product() -> None:
    tag = [
        line("可定", 400, 5, 460, 45),  # a box standing on the shelf, its brand larger than the tag's text
        line("扬子江", 640, 10, 730, 50),
        line("品名：", 40, 170, 100, 200),
        line("红霉素软膏", 100, 165, 260, 205),
        line("规格：10g", 40, 210, 160, 240),
        line("第二件半价", 40, 250, 170, 280),
        line("日常价￥3.5", 420, 290, 540, 320),
        line("促销价", 440, 325, 520, 350),
        line("2.8", 400, 330, 540, 400),
    ]
    (item,) = read_items(tag, today=TODAY, known_names=("可定", "红霉素软膏")).items
    assert item.text == "红霉素软膏 10g"
    assert (item.current, item.original) == (Decimal("2.8"), Decimal("3.5"))


def test_a_combination_pack_keeps_its_plus() -> None:
    card = [
        line("云南白药气雾剂", 100, 100, 380, 140),
        line("85g+30g", 100, 145, 220, 175),
        line("¥45.8", 100, 185, 220, 230),
    ]
    (item,) = read_items(card, today=TODAY).items
    assert item.text == "云南白药气雾剂 85g+30g"


def test_slogans_titles_and_drawn_package_brands_are_not_items() -> None:
    lines = [
        line("双11健康狂欢", 100, 10, 600, 80),
        line("新会员首单立减5元", 100, 90, 400, 120),
        line("立普妥", 20, 160, 80, 190),  # the brand on the drawn package, left of the card's text
        line("立普妥 阿托伐他汀钙片", 120, 150, 400, 190),
        line("20mg×7片", 120, 195, 240, 225),
        line("¥49.8", 120, 240, 300, 300),
    ]
    (item,) = read_items(lines, today=TODAY, known_names={"立普妥"}).items
    assert item.text == "立普妥 阿托伐他汀钙片 20mg×7片" and item.current == Decimal("49.8")


def png(width: int = 64, height: int = 48, exif_date: str | None = None, fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", (width, height), (255, 255, 255))
    out = io.BytesIO()
    if exif_date:
        exif = Image.Exif()
        exif[0x0132] = exif_date
        image.save(out, format=fmt, exif=exif)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def test_decode_photo_checks_format_and_size_and_reads_the_exif_date() -> None:
    photo = decode_photo(png(fmt="JPEG", exif_date="2026:11:30 09:15:00"))
    assert photo.media_type == "image/jpeg" and photo.taken_at == dt.datetime(2026, 11, 30, 9, 15)
    assert (photo.width, photo.height) == (64, 48)
    with pytest.raises(NotAnImageError):
        decode_photo(b"%PDF-1.7 not a photo")
    with pytest.raises(NotAnImageError):
        decode_photo(png()[:40])  # a cut-off file
    with pytest.raises(PhotoTooLargeError):
        decode_photo(png(), max_bytes=10)
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    with pytest.raises(NotAnImageError, match="GIF"):
        decode_photo(gif.getvalue())


def test_a_photo_without_text_is_refused() -> None:
    with pytest.raises(NoTextError):
        read_photo(png(), ScriptedOcrEngine([]))
    reading = read_photo(png(), ScriptedOcrEngine([line("Hello", 1, 1, 30, 10)]))
    assert reading.reading.items == ()


def test_the_photo_store_is_content_addressed_per_tenant_and_prunes_old_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = PhotoStore(tmp_path, max_bytes=10_000, retention_days=30)
    data = png()
    sha, new = store.put("t1", data, "image/png")
    assert new and store.put("t1", data, "image/png") == (sha, False)
    assert store.get("t1", sha, "image/png") == data
    assert store.get("t2", sha, "image/png") is None  # another tenant's folder
    with pytest.raises(PhotoTooLargeError):
        store.put("t1", b"x" * 10_001, "image/png")
    assert store.prune(dt.datetime.now() + dt.timedelta(days=10)) == 0
    assert store.prune(dt.datetime.now() + dt.timedelta(days=31)) == 1
    assert store.get("t1", sha, "image/png") is None
    with pytest.raises(ValueError):
        store.path("t1", "../../etc/passwd", "image/png")


def test_the_cli_prunes_photo_files_past_retention(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from typer.testing import CliRunner

    from api.cli import app

    store = PhotoStore(tmp_path / "photos")
    sha, _ = store.put("t1", png(), "image/png")
    old = store.path("t1", sha, "image/png")
    os.utime(old, (0, 0))  # written in 1970
    fresh, _ = store.put("t1", png(32, 32), "image/png")
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "photos", "prune"])
    assert result.exit_code == 0, result.output
    assert not old.exists() and store.get("t1", fresh, "image/png") is not None


def test_a_photo_dated_after_today_is_seen_on_the_date_given_or_the_upload_day() -> None:
    """A phone with a wrong clock writes a future EXIF date; the observation must not be "-13 days old"."""
    from ingest.competitor_prices import observed_on

    now = dt.datetime(2026, 12, 7, 20, 0)  # UTC
    future = dt.datetime(2026, 12, 20, 10, 0)
    assert observed_on(future, dt.date(2026, 12, 6), now) == dt.date(2026, 12, 6)
    assert observed_on(future, None, now) == dt.date(2026, 12, 7)
    assert observed_on(dt.datetime(2026, 12, 8, 4, 0), None, now) == dt.date(2026, 12, 8)  # China is UTC+8
    assert observed_on(dt.datetime(2026, 11, 30, 9, 0), dt.date(2026, 12, 6), now) == dt.date(2026, 11, 30)
    assert observed_on(None, None, now) == dt.date(2026, 12, 7)


def test_a_chain_name_misread_by_one_character_is_the_chain() -> None:
    """One chain must stay one matrix column when the OCR misreads a character of its name."""
    from ingest.posters.chains import chain_in, mend_chain

    assert mend_chain("每王星辰健康药房") == "海王星辰健康药房"
    assert mend_chain("海王星乐健康药房") == "海王星辰健康药房"
    assert mend_chain("漱王平民大药房") == "漱玉平民大药房"
    assert mend_chain("五丰大药房") == "五丰大药房"  # the chain's own part (益丰) is too short to tell
    assert mend_chain("益丰大药房") == "益丰大药房"
    assert mend_chain("大参堂药房") == "大参堂药房"  # three characters one off: as likely another shop
    assert mend_chain("百姓康大药房") == "百姓康大药房"  # 百姓缘 one off, but as likely a shop of its own
    assert chain_in(["全场满99减10", "大参林", "感冒灵颗粒"]) == "大参林"
    assert chain_in(["本周会员日大参林全场商品满199元立减30元"]) is None  # a sentence, not the shop's name
    assert chain_in(["感冒灵颗粒 10g*9袋"]) is None


def test_the_shop_of_a_poster_is_read_with_its_chain_mended_or_found() -> None:
    lines = [line("每王星辰健康药房", 0, 0, 400, 40), line("感冒灵颗粒 10g×9袋", 0, 100, 300, 140),
             line("¥15.9", 0, 150, 120, 200)]  # fmt: skip
    assert read_items(lines, today=dt.date(2026, 12, 1)).shop == "海王星辰健康药房"
    logo = [line("大参林", 0, 0, 200, 60), *lines[1:]]
    assert read_items(logo, today=dt.date(2026, 12, 1)).shop == "大参林"
