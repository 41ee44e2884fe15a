"""The product-master name parser and the list matcher's rules, on names written here (no real list needed)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolution.dosage_forms import Fit, row_form_fit
from resolution.drug_names import parse_name, salt_keys
from resolution.nrdl_match import FormularyMatcher


@pytest.mark.parametrize(
    ("name", "drug", "generic", "base", "form", "brand", "maker", "variant"),
    [
        (
            "立普妥 阿托伐他汀钙片 20mg×7片 辉瑞",
            "阿托伐他汀钙片",
            "阿托伐他汀钙",
            "阿托伐他汀",
            "片",
            "立普妥",
            "辉瑞",
            None,
        ),
        ("拜新同(硝苯地平控释片)30mg*7片", "硝苯地平控释片", "硝苯地平", "硝苯地平", "控释片", "拜新同", None, None),
        ("二甲双胍片 0.5g×20片×3板（格华止）", "二甲双胍片", "二甲双胍", "二甲双胍", "片", "格华止", None, None),
        ("施维雅·吲达帕胺缓释片·1.5mgX30片", "吲达帕胺缓释片", "吲达帕胺", "吲达帕胺", "缓释片", None, "施维雅", None),
        (
            "【OTC】对乙酰氨基酚片0.5g*12片/盒 中美史克",
            "对乙酰氨基酚片",
            "对乙酰氨基酚",
            "对乙酰氨基酚",
            "片",
            None,
            "中美史克",
            None,
        ),
        (
            "盐酸二甲双胍缓释片（Ⅲ）　０．５ｇ×３０片",
            "盐酸二甲双胍缓释片",
            "盐酸二甲双胍",
            "二甲双胍",
            "缓释片",
            None,
            None,
            "III",
        ),
        ("力生-呋塞米片-20mgX100片", "呋塞米片", "呋塞米", "呋塞米", "片", None, "力生", None),
        (
            "注射用头孢哌酮钠舒巴坦钠 1.5g×1瓶",
            "注射用头孢哌酮钠舒巴坦钠",
            "头孢哌酮钠舒巴坦钠",
            "头孢哌酮舒巴坦",
            "注射用",
            None,
            None,
            None,
        ),
        (
            "德谷胰岛素注射液3ml:300单位*1支 诺和诺德(中国)制药有限公司",
            "德谷胰岛素注射液",
            "德谷胰岛素",
            "德谷胰岛素",
            "注射液",
            None,
            "诺和诺德中国制药有限公司",
            None,
        ),
    ],
)
def test_parse_product_master_names(
    name: str, drug: str, generic: str, base: str, form: str, brand: str | None, maker: str | None, variant: str | None
) -> None:
    p = parse_name(name)
    assert (p.drug, p.generic, p.base, p.form, p.brand, p.manufacturer, p.variant) == (
        drug,
        generic,
        base,
        form,
        brand,
        maker,
        variant,
    )


def test_notes_qualifiers_scope_and_specs() -> None:
    p = parse_name("(进口)多潘立酮混悬液 1ml:1mgx100ml")
    assert p.imported and "进口" in p.notes and p.form == "混悬液"
    p = parse_name("牛黄清心丸(局方)(天然牛黄) 3gX6丸 同仁堂")
    assert p.qualifiers == ("局方",) and p.scope == ("天然牛黄",)
    p = parse_name("肠内营养混悬液（ＴＰＦ）５００ｍｌ×１瓶")
    assert p.qualifiers == ("TPF",) and p.strength == "500ml"
    p = parse_name("阿托伐他汀片 10mg×7片×2板 嘉林")
    assert (p.strength, p.pack) == ("10mg", "7片×2板")
    assert parse_name("保列治 5mg*10片").generic == "非那雄胺"  # a name that is only a brand


def test_salt_readings_never_make_another_drug() -> None:
    assert salt_keys("苯磺酸左旋氨氯地平")[-1] == "左旋氨氯地平"
    assert "头孢哌酮舒巴坦" in salt_keys("头孢哌酮钠舒巴坦钠")
    assert "氯沙坦氢氯噻嗪" in salt_keys("氯沙坦钾氢氯噻嗪")
    for whole in ("碳酸钙", "氯化钠", "葡萄糖酸钙锌", "硫酸亚铁"):
        assert salt_keys(whole) == [whole]


def test_form_groups_follow_the_fanli() -> None:
    assert row_form_fit("肠溶片", "口服常释剂型") == Fit.GROUP
    assert row_form_fit("分散片", "口服常释剂型(不含分散片)") == Fit.NONE
    assert row_form_fit("咀嚼片", "口服常释剂型") == Fit.NONE
    assert row_form_fit("咀嚼片", "咀嚼片") == Fit.SPECIFIC
    assert row_form_fit("乳膏", "软膏剂") == Fit.GROUP
    assert row_form_fit("缓释胶囊", "缓释控释剂型") == Fit.GROUP


_CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=2, max_size=6)


@given(core=_CJK, strength=st.integers(1, 999), pack=st.integers(1, 99), maker=_CJK)
def test_strength_pack_and_maker_never_leak_into_the_generic(core: str, strength: int, pack: int, maker: str) -> None:
    name = f"{core}片 {strength}mg×{pack}片 {maker}制药有限公司"
    p = parse_name(name)
    assert p.form == "片" and str(strength) not in p.generic and "制药" not in p.generic
    assert p.generic.endswith(core[-1]) or p.generic == core


@given(core=_CJK)
def test_width_and_brackets_do_not_change_the_parse(core: str) -> None:
    half = parse_name(f"{core}胶囊 0.5g*20粒(新包装)")
    full = parse_name(f"{core}胶囊　０．５ｇ＊２０粒（新包装）")
    assert (half.generic, half.form, half.strength) == (full.generic, full.form, full.strength)


@dataclass(frozen=True)
class Row:
    edition: str
    section: str
    number: str | None
    name: str
    alternative_names: tuple[str, ...]
    dosage_form: str | None
    category: str | None
    restriction: str | None = None
    payment_standard: str | None = None
    payment_standard_confidential: bool = False


ROWS = [
    Row("E", "西药部分", "407", "氨氯地平", ("氨氯地平",), "口服常释剂型", "甲"),
    Row("E", "西药部分", "419", "左氨氯地平(左旋氨氯地平)", ("左氨氯地平(左旋氨氯地平)",), "口服常释剂型", "乙"),
    Row("E", "西药部分", "209", "阿司匹林", ("阿司匹林",), "口服常释剂型(不含分散片)", "甲"),
    Row("E", "西药部分", "129", "二甲双胍、二甲双胍Ⅱ", ("二甲双胍", "二甲双胍Ⅱ"), "口服常释剂型", "甲"),
    Row("E", "西药部分", "★(129)", "二甲双胍、二甲双胍Ⅱ", ("二甲双胍", "二甲双胍Ⅱ"), "缓释控释剂型", "乙"),
    Row("E", "西药部分", "1243", "孟鲁司特", ("孟鲁司特",), "口服常释剂型", "乙"),
    Row("E", "西药部分", "★(1243)", "孟鲁司特", ("孟鲁司特",), "咀嚼片", "乙"),
    Row("E", "西药部分", "★(3)", "克霉唑", ("克霉唑",), "栓剂", "甲"),
    Row("E", "协议西药", "97", "克霉唑阴道膨胀栓", ("克霉唑阴道膨胀栓",), None, "乙", payment_standard="9.9元"),
    Row("E", "中成药部分", "615", "逍遥丸(颗粒)", ("逍遥丸", "逍遥颗粒"), None, "甲"),
    Row("E", "西药部分", "1256", "缓解感冒症状的复方OTC制剂", ("缓解感冒症状的复方OTC制剂",), None, "乙", "◇"),
    Row("E", "西药部分", "410", "硝苯地平", ("硝苯地平",), "口服常释剂型", "甲"),
]


@pytest.fixture(scope="module")
def matcher() -> FormularyMatcher:
    return FormularyMatcher(ROWS)


@pytest.mark.parametrize(
    ("name", "state", "number"),
    [
        ("苯磺酸氨氯地平片 5mg×7片", "matched", "407"),  # salt (凡例七)
        ("马来酸左旋氨氯地平片 2.5mg", "matched", "419"),  # isomer: its own row, by its bracketed alias
        ("阿司匹林肠溶片 100mg", "matched", "209"),
        ("阿司匹林分散片 0.1g", "not_listed", None),  # the row excludes 分散片
        ("盐酸二甲双胍缓释片 0.5g", "matched", "★(129)"),
        ("格华止 盐酸二甲双胍片(Ⅱ) 0.5g", "matched", "129"),
        ("二甲双胍片(Ⅲ) 0.5g", "not_listed", None),  # numeral not named by the row
        ("孟鲁司特钠咀嚼片 4mg", "matched", "★(1243)"),  # special oral form: its own row only
        ("克霉唑阴道膨胀栓 0.15g", "matched", "97"),  # negotiated row first
        ("逍遥丸(浓缩丸) 200丸", "matched", "615"),
        ("逍遥片 0.35g", "not_listed", None),  # TCM forms not merged (凡例九)
        ("新康泰克 复方盐酸伪麻黄碱缓释胶囊 10粒", "matched", "1256"),  # ◇ class row (凡例十)
        ("硝苯低平片 10mg×100片", "matched", "410"),  # homophone typo
        ("汤臣倍健 维生素C咀嚼片 60片", "not_listed", None),
        ("云南白药-创可贴-100片", "not_listed", None),
    ],
)
def test_matching_rules(matcher: FormularyMatcher, name: str, state: str, number: str | None) -> None:
    d = matcher.match_name(name)
    assert d.state == state, d.explanation
    assert (d.row.number if d.row else None) == number


def test_no_form_goes_to_review_with_candidates(matcher: FormularyMatcher) -> None:
    d = matcher.match_name("孟鲁司特钠 10mg")
    assert d.state == "review" and {c.row.number for c in d.candidates} == {"1243", "★(1243)"}
