"""The NRDL (国家医保药品目录) loaders and the edition diff.

Fixture tests always run; they read the tiny workbooks that ``tests/fixtures/nrdl/make_fixtures.py`` writes in the
official layouts. The tests on the real files read ``shared/data/nrdl`` beside the repository and skip when it is
absent; their numbers are the ones measured and written down in ``docs/nrdl.md``.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from ingest.errors import FormatError, IngestError, LayoutError
from ingest.nrdl import (
    SECTION_BIDDING,
    SECTION_NEGOTIATED_TCM,
    SECTION_NEGOTIATED_WESTERN,
    SECTION_TCM,
    SECTION_WESTERN,
    TCM_FORMS,
    NrdlDrug,
    clean_text,
    diff_editions,
    expand_alternative_forms,
    load_nrdl_pdf,
    load_nrdl_xlsx,
    match_text,
    parse_nrdl_pdf_text,
    split_names,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "nrdl"
REAL = (REPO / "../shared/data/nrdl").resolve()
REAL_SKIP = f"real NRDL files not found at {REAL} (put the shared data folder beside the repository to run these)"


def _fixture_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nrdl_make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = _fixture_module()


@pytest.fixture(scope="module")
def mini_2024() -> list[NrdlDrug]:
    return load_nrdl_xlsx(FIXTURES / MAKE.FILE_2024, "2024")


@pytest.fixture(scope="module")
def mini_2022() -> list[NrdlDrug]:
    return load_nrdl_xlsx(FIXTURES / MAKE.FILE_2022, "2022")


def _by_number(drugs: list[NrdlDrug], section: str) -> dict[str, NrdlDrug]:
    return {d.number or "": d for d in drugs if d.section == section}


def _drug(**kw: Any) -> NrdlDrug:
    base: dict[str, Any] = {
        "edition": "2024",
        "section": SECTION_WESTERN,
        "kind": "western",
        "number": "1",
        "classification_code": "XA02BC",
        "classification_name": "质子泵抑制剂",
        "category": "乙",
        "name": "奥美拉唑",
        "alternative_names": None,
        "dosage_form": "口服常释剂型",
        "restriction": None,
        "payment_standard": None,
        "payment_standard_confidential": False,
        "agreement_period": None,
        "source": "test",
    }
    base.update(kw)
    if base["alternative_names"] is None:
        base["alternative_names"] = (base["name"],)
    return NrdlDrug(**base)


# ------------------------------------------------------------------------------------------------- fixture files


def test_fixture_workbooks_are_what_the_script_writes(tmp_path: Path) -> None:
    for built in MAKE.build(tmp_path):
        committed = load_workbook(FIXTURES / built.name, read_only=True)
        fresh = load_workbook(built, read_only=True)
        assert committed.sheetnames == fresh.sheetnames
        for name in fresh.sheetnames:
            assert list(committed[name].iter_rows(values_only=True)) == list(fresh[name].iter_rows(values_only=True))


def test_2024_layout_loads_every_drug_row_of_every_section(mini_2024: list[NrdlDrug]) -> None:
    counts = collections.Counter(d.section for d in mini_2024)
    assert counts == {
        SECTION_WESTERN: 10,
        SECTION_TCM: 5,
        SECTION_NEGOTIATED_WESTERN: 4,
        SECTION_NEGOTIATED_TCM: 2,
        SECTION_BIDDING: 1,
    }
    assert {d.edition for d in mini_2024} == {"2024"}
    assert {d.kind for d in mini_2024 if d.section in (SECTION_TCM, SECTION_NEGOTIATED_TCM)} == {"tcm"}
    assert {d.kind for d in mini_2024 if d.section not in (SECTION_TCM, SECTION_NEGOTIATED_TCM)} == {"western"}


def test_source_is_file_sheet_and_the_row_a_spreadsheet_shows(mini_2024: list[NrdlDrug]) -> None:
    first = mini_2024[0]
    assert first.source == "nrdl-2024-mini.xlsx:西药部分:6"  # title row 1, header row 2, three classification rows
    assert len({d.source for d in mini_2024}) == len(mini_2024)


def test_rows_carry_the_classification_they_sit_under(mini_2024: list[NrdlDrug]) -> None:
    western = _by_number(mini_2024, SECTION_WESTERN)
    assert (western["15"].classification_code, western["15"].classification_name) == ("XA02BC", "质子泵抑制剂")
    assert (western["18"].classification_code, western["18"].classification_name) == ("XA10BA", "双胍类")
    assert _by_number(mini_2024, SECTION_TCM)["3"].classification_code == "ZA09"
    assert _by_number(mini_2024, SECTION_NEGOTIATED_WESTERN)["4"].classification_name == "其他诊断试剂"


def test_2022_pages_continue_the_classification_of_the_previous_page(mini_2022: list[NrdlDrug]) -> None:
    assert len(mini_2022) == 7
    repeat = mini_2022[1]
    assert repeat.source == "nrdl-2022-mini-western.xlsx:Sheet1:2"
    assert (repeat.number, repeat.classification_code) == ("★(15)", "XA02BC")
    assert {d.section for d in mini_2022} == {SECTION_WESTERN}  # no title row: named after the kind


def test_numbers_as_printed_and_as_integers(mini_2024: list[NrdlDrug], mini_2022: list[NrdlDrug]) -> None:
    western = _by_number(mini_2024, SECTION_WESTERN)
    assert "★(18)" in western  # printed ★（18） with full-width brackets
    assert western["★(18)"].entry_number == 18 and western["★(18)"].is_repeat
    assert western["15"].entry_number == 15 and not western["15"].is_repeat
    assert [d.number for d in mini_2022][:3] == ["15", "★(15)", "17"]  # 15.0 in the 2022 file


def test_categories(mini_2024: list[NrdlDrug]) -> None:
    western = _by_number(mini_2024, SECTION_WESTERN)
    assert western["15"].category == "甲" and western["★(15)"].category == "乙"
    assert {d.category for d in mini_2024} == {"甲", "乙"}


def test_wrapped_names_are_joined(mini_2024: list[NrdlDrug]) -> None:
    western = _by_number(mini_2024, SECTION_WESTERN)
    assert western["19"].name == "精蛋白人胰岛素混合(50R)(50/50混合重组人胰岛素)"
    assert western["19"].alternative_names == (western["19"].name,)
    assert western["20"].name == "缓解消化道不适症状的复方OTC制剂"
    assert western["22"].name == "二甲双胍恩格列净片(Ⅲ)"
    assert western["21"].dosage_form == "缓释控释剂型"


def test_several_names_in_one_cell(mini_2024: list[NrdlDrug]) -> None:
    western = _by_number(mini_2024, SECTION_WESTERN)
    assert western["★(18)"].name == "二甲双胍、二甲双胍Ⅱ"
    assert western["★(18)"].alternative_names == ("二甲双胍", "二甲双胍Ⅱ")
    assert western["21"].alternative_names == ("硝苯地平", "硝苯地平Ⅰ", "硝苯地平Ⅱ")
    tcm = _by_number(mini_2024, SECTION_TCM)
    assert tcm["★(1)"].alternative_names == ("双黄连注射液", "注射用双黄连(冻干)")


def test_bracketed_alternative_forms_are_expanded(mini_2024: list[NrdlDrug]) -> None:
    tcm = _by_number(mini_2024, SECTION_TCM)
    assert tcm["4"].name == "六味地黄片(胶囊、颗粒、口服液)"
    assert tcm["4"].alternative_names == ("六味地黄片", "六味地黄胶囊", "六味地黄颗粒", "六味地黄口服液")
    assert tcm["1"].alternative_names == ("双黄连片", "双黄连胶囊", "双黄连颗粒", "双黄连合剂", "双黄连口服液")
    assert tcm["2"].alternative_names == ("咳喘宁", "咳喘宁片", "咳喘宁胶囊", "咳喘宁颗粒")
    assert tcm["3"].alternative_names == ("生脉饮(党参方)", "生脉片(党参方)", "生脉颗粒(党参方)")


def test_remarks_lose_the_whitespace_of_printing(mini_2024: list[NrdlDrug]) -> None:
    western = _by_number(mini_2024, SECTION_WESTERN)
    assert western["★(15)"].restriction == "限：1.预防重症患者应激性溃疡出血；2.消化性溃疡出血。"
    assert western["20"].restriction == "◇"
    assert western["15"].restriction is None
    assert _by_number(mini_2024, SECTION_NEGOTIATED_TCM)["2"].restriction == "益气养血，润肠通便。"


def test_payment_standards_and_agreement_periods(mini_2024: list[NrdlDrug]) -> None:
    negotiated = _by_number(mini_2024, SECTION_NEGOTIATED_WESTERN)
    assert negotiated["1"].payment_standard == "63.00元(10mg/支)"
    assert negotiated["1"].agreement_period == "2024年1月1日至2025年12月31日"
    assert negotiated["2"].payment_standard is None and negotiated["2"].payment_standard_confidential
    assert negotiated["3"].payment_standard == "13.60元(1ml :12.5mg/支)；66.82元(5ml:100mg/支)"
    assert negotiated["4"].payment_standard == "65.00元(0.3ml/瓶)；96.11元(0.5ml/瓶)"
    bidding = mini_2024[-1]
    assert bidding.section == SECTION_BIDDING
    assert bidding.payment_standard == (
        "3.49元(磷酸西格列汀50mg (以C16H15F6N5O计)和盐酸二甲双胍500mg/片)；"
        "5.93元(磷酸西格列汀100mg (以C16H15F6N5O计)和盐酸二甲双胍1000mg/片)"
    )
    assert bidding.agreement_period == "2024年1月1日至2025年12月31日"  # its column is 支付标准有效期
    regular = [d for d in mini_2024 if d.section in (SECTION_WESTERN, SECTION_TCM)]
    assert all(d.payment_standard is None and not d.payment_standard_confidential for d in regular)


# ------------------------------------------------------------------------------------------------------ errors


def _workbook(tmp_path: Path, rows: list[list[Any]], title: str = "西药部分") -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for row in rows:
        ws.append(row)
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


HEADER = ["药品分类代码", "药品分类", None, None, None, None, "编号", "药品名称", "剂型", "备注"]
CLASS = ["XA02BC", None, None, None, "质子泵抑制剂"]


def test_a_workbook_that_is_not_an_nrdl_list_is_refused(tmp_path: Path) -> None:
    path = _workbook(tmp_path, [["sku", "name", "price"], ["A1", "奥美拉唑肠溶胶囊", 12.5]], title="products")
    with pytest.raises(LayoutError) as info:
        load_nrdl_xlsx(path, "2024")
    assert info.value.code == "layout_error"
    assert info.value.details["file"] == "book.xlsx" and info.value.details["sheet"] == "products"
    assert isinstance(info.value, IngestError)


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.xlsx"
    path.write_text("编号,药品名称\n1,奥美拉唑\n", encoding="utf-8")
    with pytest.raises(FormatError):
        load_nrdl_xlsx(path, "2024")


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ([None, None, None, None, None, "甲", 1, "奥美拉唑", "口服常释剂型", None, "多余"], "K", "unexpected text"),
        ([None, None, None, None, None, "丙", 1, "奥美拉唑", "口服常释剂型"], "F", "unexpected text"),
        ([None, None, None, None, None, "甲", "一", "奥美拉唑", "口服常释剂型"], "编号", "not an entry number"),
        ([None, None, None, None, None, None, None, "(50R)", "注射剂"], "编号", "without 编号"),
        (["说明：以下为西药"], "药品分类代码", "neither a drug nor a classification row"),
    ],
)
def test_a_row_that_is_not_understood_is_named(tmp_path: Path, row: list[Any], column: str, reason: str) -> None:
    path = _workbook(tmp_path, [HEADER, CLASS, [None, None, None, None, None, "甲", 1, "奥美拉唑", "注射剂"], row])
    with pytest.raises(LayoutError) as info:
        load_nrdl_xlsx(path, "2022")
    where = info.value.where
    assert (where.file, where.sheet, where.row, where.column) == ("book.xlsx", "西药部分", 4, column)
    assert reason in where.reason


def test_without_a_title_row_the_sheet_name_or_the_kind_names_the_section(tmp_path: Path) -> None:
    drug_row = [None, None, None, None, None, "乙", 1, "奥美拉唑", "注射剂"]
    named = load_nrdl_xlsx(_workbook(tmp_path, [HEADER, CLASS, drug_row], title="协议西药"), "2024")
    assert [d.section for d in named] == [SECTION_NEGOTIATED_WESTERN]
    paged = load_nrdl_xlsx(_workbook(tmp_path, [HEADER, CLASS, drug_row], title="第1页"), "2024")
    assert [d.section for d in paged] == [SECTION_WESTERN]


def test_an_unknown_header_column_is_named(tmp_path: Path) -> None:
    path = _workbook(tmp_path, [[*HEADER, "生产企业"], CLASS])
    with pytest.raises(LayoutError, match="生产企业"):
        load_nrdl_xlsx(path, "2022")


def test_a_sheet_without_a_header_is_named(tmp_path: Path) -> None:
    wb = Workbook()
    first = wb.active
    assert first is not None
    for row in (HEADER, CLASS, [None, None, None, None, None, "甲", 1, "奥美拉唑", "注射剂"]):
        first.append(row)
    wb.create_sheet("说明").append(["本目录自2025年1月1日起执行"])
    wb.create_sheet("empty")
    path = tmp_path / "book.xlsx"
    wb.save(path)
    with pytest.raises(LayoutError) as info:
        load_nrdl_xlsx(path, "2024")
    assert info.value.where.sheet == "说明"


# ------------------------------------------------------------------------------------------------ text helpers


def test_clean_text_examples() -> None:
    assert (
        clean_text("限：  1.预防重症患者应激性溃疡出\n血；  2.消化性溃疡出血。")
        == "限：1.预防重症患者应激性溃疡出血；2.消化性溃疡出血。"
    )
    assert clean_text("经检验确认存在EGFR\nT790M 突变阳性") == "经检验确认存在EGFR T790M突变阳性"
    assert clean_text("2024年1月1日至\n2025年12月31日") == "2024年1月1日至2025年12月31日"
    assert clean_text(" \n ") == ""


def test_split_names_tells_wraps_from_several_names() -> None:
    assert split_names("二甲双胍\n二甲双胍Ⅱ", 28) == ["二甲双胍", "二甲双胍Ⅱ"]
    assert split_names("茶碱\n茶碱Ⅱ", 28) == ["茶碱", "茶碱Ⅱ"]
    assert split_names("雷公藤片\n雷公藤多苷[甙]片", 28) == ["雷公藤片", "雷公藤多苷[甙]片"]
    assert split_names("双黄连注射液\n注射用双黄连(冻干)", 40) == ["双黄连注射液", "注射用双黄连(冻干)"]
    assert split_names("人粒细胞刺激因子(重组人粒细\n胞刺激因子)", 28) == ["人粒细胞刺激因子(重组人粒细胞刺激因子)"]
    assert split_names("精蛋白锌重组赖脯胰岛素混合\n(25R)", 28) == ["精蛋白锌重组赖脯胰岛素混合(25R)"]
    assert split_names("重组人Ⅱ型肿瘤坏死因子受体-\n抗体融合蛋白", 28) == ["重组人Ⅱ型肿瘤坏死因子受体-抗体融合蛋白"]
    assert split_names("注射用全氟丙烷人血白蛋白微\n球", 28) == ["注射用全氟丙烷人血白蛋白微球"]  # a full line wrapped
    assert split_names("注射用头孢地嗪钠/5%葡萄糖\n注射液", 28) == ["注射用头孢地嗪钠/5%葡萄糖注射液"]
    assert split_names("碳酸钙D3\nⅠ(碳酸钙D3)", 28) == ["碳酸钙D3Ⅰ(碳酸钙D3)"]
    assert split_names("", 28) == []


def test_expand_alternative_forms_only_for_forms() -> None:
    assert expand_alternative_forms("藿香正气水(丸、片、胶囊)") == [
        "藿香正气水",
        "藿香正气丸",
        "藿香正气片",
        "藿香正气胶囊",
    ]
    assert expand_alternative_forms("苦参软膏(凝胶)") == ["苦参软膏", "苦参凝胶"]
    assert expand_alternative_forms("消癌平颗粒(通关藤颗粒)") == ["消癌平颗粒(通关藤颗粒)"]
    assert expand_alternative_forms("注射用双黄连(冻干)") == ["注射用双黄连(冻干)"]
    assert expand_alternative_forms("奥美拉唑碳酸氢钠干混悬剂(Ⅱ)") == ["奥美拉唑碳酸氢钠干混悬剂(Ⅱ)"]
    assert expand_alternative_forms("复方氨基酸(18AA)") == ["复方氨基酸(18AA)"]


def test_match_key_ignores_width_spacing_and_numeral_style() -> None:
    a = _drug(name="丙戊酸钠、丙戊酸钠Ⅰ、丙戊酸钠II", dosage_form="缓释控释剂型")
    b = _drug(name="丙戊酸钠、丙戊酸钠 Ⅰ、丙戊酸钠Ⅱ", dosage_form="缓释控释 剂型")
    assert a.match_key == b.match_key
    assert _drug(dosage_form="注射剂").match_key != _drug(dosage_form="口服常释剂型").match_key


CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
TEXT = st.text(alphabet=st.one_of(CJK, st.sampled_from("AB12 ，。；()\n、：")), max_size=40)


@given(TEXT)
def test_clean_text_is_idempotent_and_single_line(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert "\n" not in cleaned and "  " not in cleaned and cleaned == cleaned.strip()
    assert match_text(cleaned) == match_text(text)  # cleaning never changes what is matched


NOT_IN_FORMS = CJK.filter(lambda c: all(c not in form for form in TCM_FORMS))


@given(st.text(alphabet=NOT_IN_FORMS, min_size=1, max_size=12), st.lists(st.sampled_from(TCM_FORMS), min_size=1))
def test_expanded_forms_share_the_stem(stem: str, forms: list[str]) -> None:
    name = f"{stem}片({'、'.join(forms)})"
    expanded = expand_alternative_forms(name)
    assert expanded == [f"{stem}片", *(stem + f for f in forms)]


@given(st.text(alphabet=CJK, min_size=2, max_size=10), st.integers(min_value=1, max_value=4))
def test_numbered_variants_on_lines_are_separate_names(stem: str, n: int) -> None:
    variants = [stem, *(stem + "ⅡⅢⅣⅤ"[i] for i in range(n))]
    assert split_names("\n".join(variants), 28) == variants


# -------------------------------------------------------------------------------------------------------- diff


def test_fixture_diff_2022_to_2024(mini_2022: list[NrdlDrug], mini_2024: list[NrdlDrug]) -> None:
    new = [d for d in mini_2024 if d.section == SECTION_WESTERN]
    diff = diff_editions(mini_2022, new)
    assert diff.counts() == {
        "added": 4,
        "removed": 1,
        "category_changed": 1,
        "restriction_changed": 1,
        "payment_standard_changed": 0,
        "section_changed": 0,
        "renamed": 1,
        "matched": 6,
    }
    assert [d.name for d in diff.removed] == ["茶碱"]
    assert [d.name for d in diff.added] == [
        "注射用右兰索拉唑",
        "精蛋白人胰岛素混合(50R)(50/50混合重组人胰岛素)",
        "缓解消化道不适症状的复方OTC制剂",
        "二甲双胍恩格列净片(Ⅲ)",
    ]
    (category,) = diff.category_changed
    assert (category.old.category, category.new.category, category.new.name) == ("乙", "甲", "奥美拉唑")
    (restriction,) = diff.restriction_changed  # 艾普拉唑 only gained a full stop and spaces: not a change
    assert restriction.old.restriction is None and restriction.new.dosage_form == "注射剂"
    (renamed,) = diff.renamed
    assert (renamed.old.name, renamed.new.name) == ("二甲双胍", "二甲双胍、二甲双胍Ⅱ")


def test_a_drug_moving_section_is_matched_not_added_and_removed() -> None:
    old = [_drug(section=SECTION_NEGOTIATED_WESTERN, name="利司那肽注射液", dosage_form=None, payment_standard="*")]
    old = [dataclasses.replace(old[0], payment_standard=None, payment_standard_confidential=True)]
    new = [_drug(name="利司那肽注射液", dosage_form=None, restriction="限2型糖尿病。")]
    diff = diff_editions(old, new)
    assert not diff.added and not diff.removed
    assert [c.new for c in diff.section_changed] == new
    assert [c.new for c in diff.payment_standard_changed] == new  # confidential standard gone with the agreement
    assert [c.new for c in diff.restriction_changed] == new


def test_one_name_in_two_dosage_forms_is_two_drugs() -> None:
    old = [_drug(dosage_form="口服常释剂型"), _drug(number="★(1)", dosage_form="注射剂")]
    new = [_drug(dosage_form="口服常释剂型"), _drug(number="★(1)", dosage_form="颗粒剂")]
    diff = diff_editions(old, new)
    assert [d.dosage_form for d in diff.removed] == ["注射剂"]
    assert [d.dosage_form for d in diff.added] == ["颗粒剂"]
    assert not diff.renamed  # sharing a name is not enough: the dosage form differs


def test_a_drug_printed_under_two_classes_pairs_by_class() -> None:
    old = [_drug(classification_code="XL01BA", category="甲"), _drug(classification_code="XL04AX", category="甲")]
    new = [_drug(classification_code="XL04AX", category="乙"), _drug(classification_code="XL01BA", category="甲")]
    diff = diff_editions(old, new)
    assert len(diff.matched) == 2 and not diff.added and not diff.removed
    (changed,) = diff.category_changed
    assert changed.old.classification_code == changed.new.classification_code == "XL04AX"


def test_payment_standard_changes() -> None:
    old = [
        _drug(name="甲", payment_standard="63.00元(10mg/支)"),
        _drug(name="乙", payment_standard=None, payment_standard_confidential=True),
        _drug(name="丙", payment_standard="4.15元(40mg/袋)"),
    ]
    new = [
        _drug(name="甲", payment_standard="58.00元(10mg/支)"),
        _drug(name="乙", payment_standard="3.10元(1g/袋)"),
        _drug(name="丙", payment_standard="4.15元(40mg /袋)"),
    ]
    diff = diff_editions(old, new)
    assert [c.new.name for c in diff.payment_standard_changed] == ["甲", "乙"]


# --------------------------------------------------------------------------------------------------- PDF text

PDF_PAGES = [
    "药品目录（2024 年）\n二、西药部分.......8\n",
    "西药部分\n药品分类代码 药品分类 编号 药品名称 剂型 备注\nXA 消化道和代谢方面的药物\nXA02BC 质子泵抑制剂\n"
    "甲 15 奥美拉唑 口服常释剂型\n"
    "乙 ★(15) 奥美拉唑 注射剂 限：1.预防重症患者应激性溃疡出 血；2.消化性溃疡出血。\n"
    "乙 143\n沙格列汀二甲双胍Ⅰ\n沙格列汀二甲双胍Ⅱ\n缓释控释剂型\n"
    "乙 161 利司那肽注射液\n限二甲双胍等口服降糖药或胰岛素控制效果不佳的BMI≥25的\n患者。\n第 8 页",
    "乙 ★（161）艾塞那肽注射液\nXB05BB 影响电解质平衡的\n溶液乙 300 复方电解质注射 液 注射剂\n第 9 页",
    "中成药部分\n药品分类代码 药品分类 编号 药品名称 备注\nZA 内科用药\n"
    "乙 ★(14) 双黄连注射液 注射用双黄连(冻干) 限二级及以上医疗机构。\n甲 374 六味地黄片(胶囊、颗粒、口服液)\n",
    "协议期内谈判药品部分\n（一）西药\n药品分\n类代码 药品分类 编号 药品名称 医保支付标准 备注 协议有效期\n"
    "XA04 止吐药和止恶心药\n"
    "乙 6 甲磺酸多拉司琼注射液 13.60元(1ml:12.5mg/支)； 66.82元(5ml:100mg/支) 2025年1月1日至 2026年12月31日\n"
    "乙 7 昂丹司琼口溶膜 * 限化疗。 2025年1月1日至 2026年12月31日\n"
    "乙 125 盐酸可洛派韦胶囊\n113.53元(60mg/粒)(协议有效期\n内,免费提供索磷布韦片)\n"
    "限基因 1、2 型成人慢性丙型\n肝炎。\n"
    "2024年1月1日至\n2025年12月31日\n"
    "备注1：企业申请价格保密的，医保支付标准一栏标识为*。\n规格（毫居） 阶梯内单价\n1-10 59.00 1毫居\n",
    "中药饮片部分\n甲 1 一枝黄花\n",
]


def test_pdf_text_rows() -> None:
    drugs = parse_nrdl_pdf_text(PDF_PAGES, "2024", "list.pdf")
    assert [(d.section, d.number) for d in drugs] == [
        (SECTION_WESTERN, "15"),
        (SECTION_WESTERN, "★(15)"),
        (SECTION_WESTERN, "143"),
        (SECTION_WESTERN, "161"),
        (SECTION_WESTERN, "★(161)"),
        (SECTION_WESTERN, "300"),
        (SECTION_TCM, "★(14)"),
        (SECTION_TCM, "374"),
        (SECTION_NEGOTIATED_WESTERN, "6"),
        (SECTION_NEGOTIATED_WESTERN, "7"),
        (SECTION_NEGOTIATED_WESTERN, "125"),
    ]
    by = {(d.section, d.number): d for d in drugs}
    assert by[(SECTION_WESTERN, "★(15)")].restriction == "限：1.预防重症患者应激性溃疡出血；2.消化性溃疡出血。"
    multi = by[(SECTION_WESTERN, "143")]
    assert (multi.name, multi.dosage_form) == ("沙格列汀二甲双胍Ⅰ、沙格列汀二甲双胍Ⅱ", "缓释控释剂型")
    assert by[(SECTION_WESTERN, "161")].restriction == "限二甲双胍等口服降糖药或胰岛素控制效果不佳的BMI≥25的患者。"
    assert by[(SECTION_WESTERN, "161")].source == "list.pdf:p2"
    assert by[(SECTION_WESTERN, "★(161)")].name == "艾塞那肽注射液"
    wrapped_class = by[(SECTION_WESTERN, "300")]
    assert (wrapped_class.classification_name, wrapped_class.name) == ("影响电解质平衡的溶液", "复方电解质注射液")
    assert by[(SECTION_TCM, "★(14)")].alternative_names == ("双黄连注射液", "注射用双黄连(冻干)")
    assert by[(SECTION_TCM, "374")].alternative_names[-1] == "六味地黄口服液"
    assert by[(SECTION_TCM, "374")].kind == "tcm"
    six = by[(SECTION_NEGOTIATED_WESTERN, "6")]
    assert six.payment_standard == "13.60元(1ml:12.5mg/支)；66.82元(5ml:100mg/支)"
    assert six.restriction is None and six.agreement_period == "2025年1月1日至2026年12月31日"
    seven = by[(SECTION_NEGOTIATED_WESTERN, "7")]
    assert seven.payment_standard_confidential and seven.restriction == "限化疗。"
    note = by[(SECTION_NEGOTIATED_WESTERN, "125")]
    assert note.payment_standard == "113.53元(60mg/粒)(协议有效期内,免费提供索磷布韦片)"
    assert note.restriction == "限基因1、2型成人慢性丙型肝炎。"  # the tier table after 备注1 is not read into it
    assert note.agreement_period == "2024年1月1日至2025年12月31日"


def test_pdf_text_without_drug_rows_is_refused() -> None:
    with pytest.raises(LayoutError):
        parse_nrdl_pdf_text(["凡例\n一、目录构成\n"], "2024", "other.pdf")


def test_a_file_that_is_not_a_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.pdf"
    path.write_bytes(b"not a pdf")
    with pytest.raises(FormatError):
        load_nrdl_pdf(path, "2024")


# --------------------------------------------------------------------------------------------------- real files


def _real(name: str) -> Path:
    path = REAL / name
    if not path.exists():
        pytest.skip(REAL_SKIP)
    return path


@pytest.fixture(scope="module")
def real_2024() -> list[NrdlDrug]:
    return load_nrdl_xlsx(_real("nrdl-2024.xlsx"), "2024")


@pytest.fixture(scope="module")
def real_2022_western() -> list[NrdlDrug]:
    return load_nrdl_xlsx(_real("nrdl-2022-western.xlsx"), "2022")


@pytest.fixture(scope="module")
def real_2022_tcm() -> list[NrdlDrug]:
    return load_nrdl_xlsx(_real("nrdl-2022-tcm.xlsx"), "2022")


def test_real_2024_rows_per_section(real_2024: list[NrdlDrug]) -> None:
    assert collections.Counter(d.section for d in real_2024) == {
        SECTION_WESTERN: 1957,
        SECTION_TCM: 1444,
        SECTION_NEGOTIATED_WESTERN: 346,
        SECTION_NEGOTIATED_TCM: 58,
        SECTION_BIDDING: 21,
    }


def test_real_2024_agrees_with_the_counts_its_own_notes_print(real_2024: list[NrdlDrug]) -> None:
    """凡例 (一)(二): 西药 1398, 中成药 1336, 谈判 425 (西药 367, 中成药 58); 甲类 西药 393, 中成药 246."""

    def entries(*sections: str, where: Callable[[NrdlDrug], bool] = lambda d: True) -> int:
        return len({(d.section, d.entry_number) for d in real_2024 if d.section in sections and where(d)})

    assert entries(SECTION_WESTERN) == 1398
    assert entries(SECTION_TCM) == 1336
    assert entries(SECTION_NEGOTIATED_WESTERN, SECTION_BIDDING) == 367
    assert entries(SECTION_NEGOTIATED_TCM) == 58
    assert entries(SECTION_WESTERN, where=lambda d: d.category == "甲") == 393
    assert entries(SECTION_TCM, where=lambda d: d.category == "甲") == 246
    first_rows = [d for d in real_2024 if not d.is_repeat]
    for section in {d.section for d in real_2024}:
        numbers = [d.entry_number for d in first_rows if d.section == section]
        assert numbers == list(range(1, len(numbers) + 1)), section


def test_real_2024_every_row_is_complete(real_2024: list[NrdlDrug]) -> None:
    assert all(d.name and d.number and d.category and d.classification_code for d in real_2024)
    assert len({d.source for d in real_2024}) == len(real_2024)
    negotiated = [d for d in real_2024 if d.section in (SECTION_NEGOTIATED_WESTERN, SECTION_NEGOTIATED_TCM)]
    negotiated += [d for d in real_2024 if d.section == SECTION_BIDDING]
    assert sum(d.payment_standard_confidential for d in negotiated) == 252
    assert sum(d.payment_standard is not None for d in negotiated) == 173
    assert all(
        d.agreement_period and re.fullmatch(r"\d{4}年\d+月\d+日至\d{4}年\d+月\d+日", d.agreement_period)
        for d in negotiated
    )
    assert all("\n" not in d.name and "  " not in d.name for d in real_2024)


def test_real_2024_tricky_rows(real_2024: list[NrdlDrug]) -> None:
    by = {d.source.split(":", 1)[1]: d for d in real_2024}
    assert by["西药部分:216"].alternative_names == ("二甲双胍", "二甲双胍Ⅱ")
    assert by["西药部分:1528"].name == "聚乙二醇化人粒细胞刺激因子(聚乙二醇化重组人粒细胞刺激因子)"
    assert by["中成药部分:35"].alternative_names == ("双黄连注射液", "注射用双黄连(冻干)")
    assert by["中成药部分:471"].alternative_names == ("六味地黄片", "六味地黄胶囊", "六味地黄颗粒", "六味地黄口服液")
    assert by["协议西药:9"].payment_standard_confidential
    assert by["竞价药品部分:7"].payment_standard is not None and "；5.93元" in by["竞价药品部分:7"].payment_standard


def test_real_2022_rows(real_2022_western: list[NrdlDrug], real_2022_tcm: list[NrdlDrug]) -> None:
    assert len(real_2022_western) == 1849 and {d.kind for d in real_2022_western} == {"western"}
    assert len(real_2022_tcm) == 1422 and {d.kind for d in real_2022_tcm} == {"tcm"}
    assert len({d.entry_number for d in real_2022_western}) == 1293
    assert len({d.entry_number for d in real_2022_tcm}) == 1311
    assert all(d.classification_code for d in [*real_2022_western, *real_2022_tcm])


def test_real_western_diff_2022_to_2024(real_2022_western: list[NrdlDrug], real_2024: list[NrdlDrug]) -> None:
    western_2024 = [d for d in real_2024 if d.kind == "western"]
    assert diff_editions(real_2022_western, western_2024).counts() == {
        "added": 495,
        "removed": 20,
        "category_changed": 0,
        "restriction_changed": 142,
        "payment_standard_changed": 0,
        "section_changed": 0,
        "renamed": 0,
        "matched": 1829,
    }
    regular = [d for d in real_2024 if d.section == SECTION_WESTERN]
    counts = diff_editions(real_2022_western, regular).counts()
    assert (counts["added"], counts["removed"], counts["matched"]) == (128, 20, 1829)


def test_real_tcm_diff_2022_to_2024(real_2022_tcm: list[NrdlDrug], real_2024: list[NrdlDrug]) -> None:
    diff = diff_editions(real_2022_tcm, [d for d in real_2024 if d.kind == "tcm"])
    assert diff.counts() == {
        "added": 90,
        "removed": 10,
        "category_changed": 0,
        "restriction_changed": 74,
        "payment_standard_changed": 0,
        "section_changed": 0,
        "renamed": 1,
        "matched": 1412,
    }


@pytest.mark.slow
def test_real_pdf_recovers_every_row_of_the_workbook(real_2024: list[NrdlDrug]) -> None:
    pdf = load_nrdl_pdf(_real("nrdl-2024-official.pdf"), "2024")
    assert len(pdf) == len(real_2024) == 3826
    assert collections.Counter(d.section for d in pdf) == collections.Counter(d.section for d in real_2024)

    def row(d: NrdlDrug) -> tuple[Any, ...]:
        # compared as matched: the workbook and the PDF differ in typography only (（Ⅱ） vs (Ⅱ), "0.36g (" vs "0.36g(")
        skip = {"edition", "source", "classification_name", "alternative_names"}
        values = [getattr(d, f.name) for f in dataclasses.fields(d) if f.name not in skip]
        return (*(match_text(v) if isinstance(v, str) else v for v in values), d.name_keys)

    pairs = list(zip(sorted(real_2024, key=_order), sorted(pdf, key=_order), strict=True))
    assert [x.source for x, p in pairs if row(x) != row(p)] == []
    # one classification name differs: the workbook lost the wrapped end of 影响电解质平衡的(溶液); the PDF has it
    assert [
        (x.classification_name, p.classification_name)
        for x, p in pairs
        if x.classification_name != p.classification_name
    ] == [("影响电解质平衡的", "影响电解质平衡的溶液")]


def _order(d: NrdlDrug) -> tuple[str, int, str]:
    return d.section, d.entry_number or 0, match_text(d.name + (d.dosage_form or ""))
