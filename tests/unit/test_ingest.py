"""Ingest of company files: formats, encodings, validation errors that name row and column, idempotency."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook

from graph.embedded import EmbeddedGraphStore
from graph.model import Customer, Entry, Product, Purchased
from ingest.errors import REASONS, FormatError, UnknownFileTypeError, ValidationFailed
from ingest.pipeline import ingest_paths
from ingest.readers import read_table

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T = "hz"


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256)  # one transaction touching every table
    yield s
    s.close()


@pytest.fixture
def loaded(store: EmbeddedGraphStore) -> EmbeddedGraphStore:
    ingest_paths(store, T, [EXAMPLES])
    return store


def test_examples_load_and_reingest_changes_nothing(loaded: EmbeddedGraphStore) -> None:
    before = loaded.counts(T)
    assert before[T]["Product"] == 4 and before[T]["PURCHASED"] == 6 and before[T]["Customer"] == 4
    tablets = [p for p in loaded.price_history(T, "SKU-ATV-20") if p.order_id == "SO-1005"]
    assert [(p.unit, p.unit_price) for p in tablets] == [("片", 4.8)]
    report = ingest_paths(loaded, T, [EXAMPLES])
    assert all(w.created == 0 and w.updated == 0 for w in report.writes.values())
    assert loaded.counts(T) == before
    entry = loaded.get_node(T, Entry, "E-001")
    assert entry is not None and entry.kind == "objection_script" and entry.status == "published"
    customer = loaded.get_node(T, Customer, "C-001")
    assert customer is not None and customer.type == "chain" and customer.insurance_designated is True


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


ORDERS = "order_id,line,customer_id,sku,at,qty,unit_price\n"


def test_wrong_type_in_a_column_names_row_and_column(loaded: EmbeddedGraphStore, tmp_path: Path) -> None:
    before = loaded.counts(T)
    f = _write(
        tmp_path / "orders.csv",
        ORDERS + "N-1,1,C-001,SKU-ATV-20,2025-09-01,10,30\nN-2,1,C-001,SKU-ATV-20,2025-09-02,十盒,30\n",
    )
    with pytest.raises(ValidationFailed) as e:
        ingest_paths(loaded, T, [f])
    (err,) = e.value.errors
    assert (err.row, err.column, err.code) == (3, "qty", "not_a_number") and err.reason == "无法读取为数字：'十盒'"
    assert "row 3 column 'qty'" in str(e.value)
    assert loaded.counts(T) == before


def test_missing_column_is_named(loaded: EmbeddedGraphStore, tmp_path: Path) -> None:
    before = loaded.counts(T)
    f = _write(tmp_path / "orders.csv", "订单号,客户编码,商品编码,订单日期,数量\nN-1,C-001,SKU-ATV-20,2025-09-01,10\n")
    with pytest.raises(ValidationFailed, match="unit_price"):
        ingest_paths(loaded, T, [f], file_type="orders")
    assert loaded.counts(T) == before


def test_unknown_sku_is_an_error_and_nothing_is_written(loaded: EmbeddedGraphStore, tmp_path: Path) -> None:
    before = loaded.counts(T)
    f = _write(
        tmp_path / "orders.csv",
        ORDERS + "N-1,1,C-001,SKU-ATV-20,2025-09-01,10,30\nN-2,1,C-001,SKU-NOPE,2025-09-02,5,30\n",
    )
    with pytest.raises(ValidationFailed) as e:
        ingest_paths(loaded, T, [f])
    (err,) = e.value.errors
    assert (err.row, err.column, err.code) == (3, "sku", "unknown_reference")
    assert err.reason == "未知商品 'SKU-NOPE'（本次导入和库中都没有）"
    assert loaded.counts(T) == before


def test_first_20_errors_and_total(loaded: EmbeddedGraphStore, tmp_path: Path) -> None:
    rows = "".join(f"N-{i},1,C-001,SKU-ATV-20,2025-13-{i % 28 + 1:02d},1,-5\n" for i in range(30))
    with pytest.raises(ValidationFailed) as e:
        ingest_paths(loaded, T, [_write(tmp_path / "orders.csv", ORDERS + rows)])
    assert e.value.total == 60 and len(e.value.errors) == 20
    assert "… and 40 more" in str(e.value)


def test_encodings_gbk_and_bom(store: EmbeddedGraphStore, tmp_path: Path) -> None:
    text = (EXAMPLES / "customers.csv").read_text(encoding="utf-8")
    for enc in ("gbk", "gb18030", "utf-8-sig"):
        raw = read_table(_write(tmp_path / f"customers-{enc}.csv", text, enc))
        assert raw.frame.iloc[0]["客户名称"] == "康邻大药房(人民路店)", enc


def test_mixed_encoding_is_rejected_naming_the_line(tmp_path: Path) -> None:
    good = "客户编码,客户名称,客户类型\nC-1,同沐堂,连锁\n".encode()
    bad = "C-2,北辰健康药房,连锁\n".encode("gbk")
    f = tmp_path / "customers.csv"
    f.write_bytes(good + bad)
    with pytest.raises(ValidationFailed) as e:
        read_table(f)
    assert e.value.errors[0].row == 3 and "line 3" in str(e.value)


def test_skip_invalid_loads_good_rows_and_writes_rejects(loaded: EmbeddedGraphStore, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "orders.csv",
        ORDERS + "N-1,1,C-001,SKU-ATV-20,2025-09-01,10,30\nN-2,1,C-001,SKU-NOPE,2025-09-02,5,30\n"
        "N-3,1,C-001,SKU-ATV-20,2025-09-03,abc,30\n",
    )
    report = ingest_paths(loaded, T, [f], skip_invalid=True, rejects_dir=tmp_path / "rejects")
    assert (report.files[0].rows_loaded, report.files[0].rows_skipped) == (1, 2)
    rejects = (tmp_path / "rejects" / "orders.rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rejects) == 3 and rejects[1].startswith("3,sku: 未知商品 'SKU-NOPE'")
    assert rejects[2].startswith("4,qty: 无法读取为数字：'abc'")
    history = loaded.price_history(T, "SKU-ATV-20")
    assert "N-1" in history.column("order_id") and "N-3" not in history.column("order_id")


def test_xlsx_with_chinese_headers_and_dates(store: EmbeddedGraphStore, tmp_path: Path) -> None:
    import datetime as dt

    shutil.copy(EXAMPLES / "products.csv", tmp_path / "products.csv")
    shutil.copy(EXAMPLES / "customers.csv", tmp_path / "customers.csv")
    shutil.copy(EXAMPLES / "reps.csv", tmp_path / "reps.csv")
    wb = Workbook()
    ws = wb.active
    ws.append(["订单号", "行号", "客户编码", "商品编码", "订单日期", "数量", "单价", "备注"])
    ws.append(["X-1", 1, "C-002", "SKU-AML-5", dt.datetime(2025, 8, 3), 12, 27.5, "加急"])
    ws.append([None] * 8)
    ws.append(["X-2", 1, "C-002", "SKU-AML-5", "2025年8月9日", "1,200", "¥26.80", None])
    wb.save(tmp_path / "订单.xlsx")
    report = ingest_paths(store, T, [tmp_path])
    orders = next(f for f in report.files if f.file.endswith(".xlsx"))
    assert orders.file_type == "orders" and orders.ignored_columns == ["备注"]
    lines = list(store.price_history(T, "SKU-AML-5"))
    assert [(p.order_id, p.at, p.qty, p.unit_price) for p in lines] == [
        ("X-1", dt.date(2025, 8, 3), 12.0, 27.5),
        ("X-2", dt.date(2025, 8, 9), 1200.0, 26.8),
    ]


def test_json_array_errors_use_json_paths(loaded: EmbeddedGraphStore, tmp_path: Path) -> None:
    items = [{"id": "E-9", "kind": "异议话术", "title": "x"}, {"id": "E-10", "kind": "笑话", "title": "y"}]
    f = tmp_path / "entries.json"
    f.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationFailed) as e:
        ingest_paths(loaded, T, [f])
    assert "$[1] column 'kind'" in str(e.value)


def test_type_detection_and_unknown_header(tmp_path: Path, store: EmbeddedGraphStore) -> None:
    f = _write(tmp_path / "misc.csv", "foo,bar\n1,2\n")
    with pytest.raises(UnknownFileTypeError, match="没有一列是认识的列名") as e:
        ingest_paths(store, T, [f])
    assert "--type" not in e.value.message


def test_a_header_typo_names_the_closest_type_and_the_missing_column(tmp_path: Path, store: EmbeddedGraphStore) -> None:
    f = _write(tmp_path / "x.csv", "订单号,行号,客户编码,商品编码,订单日期,数量,单格\nN-1,1,C-1,S-1,2025-09-01,10,30\n")
    with pytest.raises(UnknownFileTypeError) as e:
        ingest_paths(store, T, [f])
    assert e.value.message.startswith(f"{f}: 看起来像订单行文件（orders），但缺少必填列 单价/unit_price（表头：")
    assert e.value.details == {"file": str(f), "closest": "orders", "missing": ["单价/unit_price"]}
    assert "--type" not in e.value.message
    same = _write(tmp_path / "people.csv", "id,name\nR-1,张三\n")
    with pytest.raises(UnknownFileTypeError) as e:
        ingest_paths(store, T, [same])
    assert e.value.details["candidates"] == ["competitors", "doctors", "reps"] and "--type" not in e.value.message


def test_a_file_is_not_read_as_the_type_that_ignores_most_of_its_header(
    tmp_path: Path, store: EmbeddedGraphStore
) -> None:
    # customers with their id column named 客户号 (not an accepted header): 'name' alone fits indications, which would
    # load every customer name as an indication; the customers type explains more of the header
    f = _write(tmp_path / "new.csv", "客户号,name,type,city\nC-NEW-1,新客户药房,chain,杭州\n")
    with pytest.raises(UnknownFileTypeError) as e:
        ingest_paths(store, T, [f])
    assert e.value.message.startswith(f"{f}: 看起来像客户文件（customers），但缺少必填列 ")
    assert e.value.details["closest"] == "customers" and e.value.details["fits"] == "indications"
    assert "Indication" not in store.counts(T)[T]
    # customer_id, the name every other file gives the customer's code, is accepted in a customers file
    g = _write(tmp_path / "new2.csv", "customer_id,name,type\nC-NEW-1,新客户药房,chain\n")
    assert ingest_paths(store, T, [g]).files[0].file_type == "customers"
    # a file that names an indication and describes it is still an indications file
    h = _write(tmp_path / "ind.csv", "name,description\n高血压,血压持续升高\n")
    assert ingest_paths(store, T, [h]).files[0].file_type == "indications"


def test_pdf_passages_become_draft_entries_citing_page(store: EmbeddedGraphStore, tmp_path: Path) -> None:
    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(_tiny_pdf(["Atorvastatin lowers LDL cholesterol. Take once daily.", "Store below 25 C."]))
    report = ingest_paths(store, T, [pdf])
    assert report.files[0].file_type == "entries"
    entries = store.entries(T, status="draft")
    assert [e.source for e in entries] == ["guide.pdf p.1", "guide.pdf p.2"]
    assert "LDL" in entries[0].body
    again = ingest_paths(store, T, [pdf])
    assert again.writes["Entry"].created == 0


def _tiny_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        content = f"BT /F1 12 Tf 50 700 Td ({text}) Tj ET".encode()
        objs.append(f"<< /Length {len(content)} >>\nstream\n{content.decode()}\nendstream")
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {len(objs)} 0 R "
            f"/Resources << /Font << /F1 {len(pages) * 2 + 3} 0 R >> >> >>"
        )
        kids.append(f"{len(objs)} 0 R")
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    objs.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_orders_keyed_by_order_and_line(loaded: EmbeddedGraphStore, tmp_path: Path) -> None:
    f = _write(tmp_path / "orders.csv", ORDERS + "SO-1001,1,C-001,SKU-ATV-20,2025-03-01,100,31.00\n")
    report = ingest_paths(loaded, T, [f])
    assert (report.writes["Purchased"].created, report.writes["Purchased"].updated) == (0, 1)
    assert Purchased  # the model behind the orders file


def test_formats_doc_is_generated_from_the_column_table() -> None:
    from ingest.format_docs import formats_markdown

    doc = (EXAMPLES.parent / "docs" / "formats.md").read_text(encoding="utf-8")
    assert doc == formats_markdown(), "docs/formats.md is stale: run `python -m ingest.format_docs > docs/formats.md`"


def test_every_file_type_has_an_example() -> None:
    from ingest.formats import FILE_TYPES

    stems = {p.stem for p in EXAMPLES.iterdir()}
    assert {t.name for t in FILE_TYPES} <= stems


def test_mentions_found_in_summaries_when_no_products_column(store: EmbeddedGraphStore, tmp_path: Path) -> None:
    for name in ("products.csv", "customers.csv", "reps.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    rows = [
        {
            "id": "I-9",
            "at": "2025-09-01 10:30",
            "summary": "店长说立普妥比瑞舒伐他汀贵，络活喜卖得好",
            "customer_id": "C-001",
        },
        {"id": "I-10", "at": "2025-09-02", "summary": "讨论了会员活动", "customer_id": "C-002"},
    ]
    (tmp_path / "interactions.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    report = ingest_paths(store, T, [tmp_path])
    assert next(f for f in report.files if f.file_type == "interactions").mentions_linked == 2
    ctx = store.customer_context(T, "C-001")
    assert ctx.interactions[0].mentioned_skus == ("SKU-AML-5", "SKU-ATV-20")


def test_duplicate_customers_are_reported_not_merged(store: EmbeddedGraphStore, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "customers.csv",
        "客户编码,客户名称,客户类型,城市\nA1,康邻大药房(人民路店),连锁,杭州\n"
        "A2,康邻大药房人民路店,连锁,杭州\nA3,康邻大药房(解放路店),连锁,杭州\nA4,康邻大药房(人民路店),连锁,宁波\n",
    )
    report = ingest_paths(store, T, [f])
    assert report.duplicates is not None
    assert [(m.kept_id, m.merged_id) for m in report.duplicates.merges] == [("A1", "A2")]
    assert store.counts(T)[T]["Customer"] == 4


SHARED_PDF = EXAMPLES.parents[1] / "shared" / "data" / "nrdl" / "nrdl-2024-official.pdf"


@pytest.mark.skipif(not SHARED_PDF.exists(), reason=f"real Chinese PDF not found at {SHARED_PDF}")
def test_chinese_pdf_is_split_on_chinese_punctuation(store: EmbeddedGraphStore, tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(SHARED_PDF).pages[2:4]:  # two pages of the 凡例 (explanatory notes): running Chinese text
        writer.add_page(page)
    pdf = tmp_path / "目录凡例.pdf"
    with pdf.open("wb") as f:
        writer.write(f)
    ingest_paths(store, T, [pdf])
    entries = store.entries(T, status="draft")
    assert len(entries) >= 2
    assert not any(e.body.startswith("第") and "页" in e.body[:6] for e in entries)  # page numbers dropped
    assert {e.source for e in entries} == {"目录凡例.pdf p.1", "目录凡例.pdf p.2"}
    assert all(len(e.body) <= 500 for e in entries)
    assert sum(e.body.endswith(("。", "；", "！", "？")) for e in entries) >= len(entries) // 2
    assert any("药品" in e.body for e in entries)


def test_case_units_convert_and_unconvertible_lines_are_reported(loaded: EmbeddedGraphStore, tmp_path: Path) -> None:
    from pricing_guard.index import PriceIndex

    products = _write(
        tmp_path / "商品.csv",
        "商品编码,品名,单位,包装数量,件装量\nSKU-ATV-20,阿托伐他汀钙片,盒,7,40\nSKU-AML-5,苯磺酸氨氯地平片,盒,7,\n",
    )
    orders = _write(
        tmp_path / "订单.csv",
        "订单号,行号,客户编码,商品编码,订单日期,数量,单价,单位\n"
        "SO-9001,1,C-001,SKU-ATV-20,2025-03-02,2,1240,件\n"  # 2 cases of 40 boxes at 31.00 a box
        "SO-9001,2,C-001,SKU-AML-5,2025-03-02,1,1100,件\n"  # no case size: cannot convert
        "SO-9001,3,C-001,SKU-AML-5,2025-03-02,5,26,盒\n",
    )
    report = ingest_paths(loaded, T, [products, orders])
    [order_file] = [f for f in report.files if f.file_type == "orders"]
    assert order_file.rows_loaded == 3 and order_file.unconvertible_units == 1
    assert order_file.unit_examples == ["第 3 行：SKU-AML-5 的单位 '件'"]
    product = loaded.get_node(T, Product, "SKU-ATV-20")
    assert product is not None and product.case_size == 40
    index = PriceIndex.from_store(loaded, T)
    atv = index.lines["SKU-ATV-20"]
    assert 31.0 in atv.price.tolist() and 80.0 in atv.qty.tolist()  # the case line, in boxes
    assert index.exclusions("SKU-AML-5") == {"单位无法换算": 1}


def test_row_errors_are_chinese_with_a_stable_code(store: EmbeddedGraphStore, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "customers.csv",
        "客户编码,客户名称,客户类型,医保定点,门店数\n"
        "A1,,连锁,是,3\nA2,乙药房,超市,是,3\nA3,丙药房,连锁,也许,3\nA4,丁药房,连锁,是,很多\nA4,戊药房,连锁,是,2\n",
    )
    with pytest.raises(ValidationFailed) as e:
        ingest_paths(store, T, [f])
    found = {(err.row, err.code): err.reason for err in e.value.errors}
    assert found == {
        (2, "required"): "必填值为空",
        (3, "not_a_choice"): "不是可选的值（连锁/chain、单体药店/single_pharmacy、医院/hospital、诊所/clinic、"
        "dtp药房/dtp）：'超市'",
        (4, "not_yes_no"): "无法读取为是/否（是/否、true/false、1/0）：'也许'",
        (5, "not_an_integer"): "无法读取为整数：'很多'",
        (6, "duplicate_key"): "客户编码 重复：A4（首次出现在第 5 行）",
    }
    assert all(err.code in REASONS for err in e.value.errors)
    header = "订单号,行号,客户编码,商品编码,订单日期,数量\n"
    missing = _write(tmp_path / "orders.csv", header + "N-1,1,C-1,S-1,2025-09-01,10\n")
    with pytest.raises(ValidationFailed) as e:
        ingest_paths(store, T, [missing], file_type="orders")
    [err] = e.value.errors
    assert err.code == "missing_column" and err.reason.startswith("缺少必填列 单价/unit_price（可用的表头：")


def test_hostile_cells_dates_and_formulas(store: EmbeddedGraphStore, tmp_path: Path) -> None:
    """Huge cells, NUL bytes, ambiguous or absurd dates are row errors; rejects files never carry a live formula."""
    customers = _write(
        tmp_path / "customers.csv",
        "客户编码,客户名称,客户类型\n"
        f"H1,{'药' * 40_000},连锁\n"
        "H2,药房\x00名,连锁\n"
        'H3,"=HYPERLINK(""http://x"",""点我"")",超市\n'
        "H4,正常药房,连锁\n",
    )
    with pytest.raises(ValidationFailed) as e:
        ingest_paths(store, T, [customers])
    codes = {(err.row, err.code) for err in e.value.errors}
    assert codes == {(2, "text_too_long"), (3, "text_control_character"), (4, "not_a_choice")}
    assert all(len(err.reason) < 200 for err in e.value.errors)  # the 40,000 characters are not repeated
    assert "\\x00" in next(err.reason for err in e.value.errors if err.code == "text_control_character")
    report = ingest_paths(store, T, [customers], skip_invalid=True, rejects_dir=tmp_path / "rejects")
    assert report.files[0].rows_loaded == 1
    rejects = (tmp_path / "rejects" / "customers.rejects.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in rejects and ",=HYPERLINK" not in rejects

    contracts = _write(
        tmp_path / "contracts.csv",
        "合同编号,客户编码,开始日期,结束日期\n"
        "K1,H4,13/01/2026,2026-12-31\n"  # day first: there is no month 13
        "K2,H4,01/02/2026,2026-12-31\n"  # 1 February or 2 January: refused
        "K3,H4,0001-01-01,9999-12-31\n",
    )
    with pytest.raises(ValidationFailed) as e:
        ingest_paths(store, T, [contracts])
    codes = {(err.row, err.column, err.code) for err in e.value.errors}
    assert codes == {
        (3, "开始日期", "ambiguous_date"),
        (4, "开始日期", "date_out_of_range"),
        (4, "结束日期", "date_out_of_range"),
    }


def test_xlsx_with_a_runaway_used_range_reads_only_the_header_columns(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.create_sheet("客户", 0)
    ws.append(["客户编码", "客户名称", "客户类型"])
    ws.append(["X1", "正常药房", "连锁"])
    ws.cell(row=200_000, column=16_384, value="x")  # XFD200000
    path = tmp_path / "customers.xlsx"
    wb.save(path)
    raw = read_table(path)
    assert list(raw.frame.columns) == ["客户编码", "客户名称", "客户类型"] and raw.rows == [2]


def test_deeply_nested_json_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "entries.json"
    path.write_text('{"rows": ' + "[" * 50_000 + "]" * 50_000 + "}", encoding="utf-8")
    with pytest.raises(FormatError, match="nested too deeply"):
        read_table(path)


def test_promotions_and_price_events_load_with_types_in_either_language(loaded: EmbeddedGraphStore) -> None:
    from graph.model import PriceEvent, Promotion

    promotion = loaded.get_node(T, Promotion, "CX-2025-11")
    assert promotion is not None and promotion.customer_types == ["chain", "single_pharmacy"]
    assert promotion.tiers == ["A", "B"] and promotion.skus == ["SKU-ATV-20", "SKU-AML-5"]
    assert (promotion.min_discount, promotion.max_discount) == (0.05, 0.10)
    assert promotion.customer_ids == [] and promotion.covers("SKU-ATV-20", "C-009", "chain", "A")
    assert not promotion.covers("SKU-ATV-20", "C-009", "hospital", "A")
    key_accounts = loaded.get_node(T, Promotion, "CX-2025-KA")
    assert key_accounts is not None and key_accounts.customer_types == [] and key_accounts.customer_ids == ["C-001"]
    vbp = loaded.get_node(T, PriceEvent, "PE-2025-01")
    assert vbp is not None and vbp.kind == "vbp" and vbp.customer_types == ["hospital", "clinic"]
    change = loaded.get_node(T, PriceEvent, "PE-2025-02")
    assert change is not None and change.kind == "list_change" and change.customer_types == []


def test_promotion_customer_types_may_mix_languages_and_a_bad_one_is_named(
    loaded: EmbeddedGraphStore, tmp_path: Path
) -> None:
    from graph.model import Promotion

    header = "促销编号,促销名称,开始日期,结束日期,适用客户类型,适用商品,最低折扣,最高折扣\n"
    row = "CX-9,年终冲量,2025-12-01,2025-12-31,连锁|single_pharmacy|DTP药房,,0.04,0.12\n"
    good = _write(tmp_path / "promotions.csv", header + row, "utf-8-sig")
    ingest_paths(loaded, T, [good])
    promotion = loaded.get_node(T, Promotion, "CX-9")
    assert promotion is not None and promotion.customer_types == ["chain", "single_pharmacy", "dtp"]
    assert promotion.skus == []  # empty list = every SKU
    bad = _write(tmp_path / "promotions.csv", header + "CX-10,春节,2026-01-10,2026-02-01,连锁|药店,,0.04,0.12\n")
    with pytest.raises(ValidationFailed) as e:
        ingest_paths(loaded, T, [bad])
    (err,) = e.value.errors
    assert (err.row, err.column) == (2, "适用客户类型") and "药店" in err.reason


def test_a_price_event_of_an_unknown_sku_or_kind_is_rejected(loaded: EmbeddedGraphStore, tmp_path: Path) -> None:
    header = "事件编号,商品编码,生效日期,事件类型,新零售价,新底价,适用客户类型\n"
    unknown_sku = _write(tmp_path / "price_events.csv", header + "PE-9,SKU-NOPE,2025-09-01,集采,10,8,医院\n")
    with pytest.raises(ValidationFailed, match="未知商品 'SKU-NOPE'"):
        ingest_paths(loaded, T, [unknown_sku])
    unknown_kind = _write(tmp_path / "price_events.csv", header + "PE-9,SKU-ATV-20,2025-09-01,涨价,10,8,\n")
    with pytest.raises(ValidationFailed, match="event_type|事件类型"):
        ingest_paths(loaded, T, [unknown_kind])
