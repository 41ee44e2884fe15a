"""Quote lines from a file (``ingest.quotes.read_quote_lines``): the ingest readers and validation, not Python's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from ingest.errors import FormatError, ValidationFailed
from ingest.formats import FILE_TYPES_BY_NAME, QUOTE_LINES
from ingest.pipeline import detect_file_type
from ingest.quotes import QuoteLineRow, read_quote_lines
from ingest.readers import read_table


def test_csv_with_chinese_headers_defaults_and_thousands(tmp_path: Path) -> None:
    f = tmp_path / "报价.csv"
    f.write_text(
        '客户编码,商品编码,单价,数量,单位,日期,备注\nC-1,SKU-1,"1,280.50",10,盒,2026/11/3,急\nC-2,SKU-2,12.8元,,,,\n',
        encoding="gbk",
    )
    assert read_quote_lines(f) == [
        QuoteLineRow("C-1", "SKU-1", 1280.5, 10.0, "盒", dt.date(2026, 11, 3)),
        QuoteLineRow("C-2", "SKU-2", 12.8, 1.0, None, None),
    ]


def test_english_headers_and_xlsx(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["customer_id", "sku", "unit_price", "quantity", "unit", "date"])
    ws.append(["C-1", "SKU-1", 35.5, 100, "片", dt.datetime(2026, 11, 25)])
    wb.save(tmp_path / "quote.xlsx")
    assert read_quote_lines(str(tmp_path / "quote.xlsx")) == [
        QuoteLineRow("C-1", "SKU-1", 35.5, 100.0, "片", dt.date(2026, 11, 25))
    ]


def test_a_bad_price_is_a_row_error_not_python_text(tmp_path: Path) -> None:
    f = tmp_path / "quote.csv"
    f.write_text("customer_id,sku,unit_price,qty\nC-HZ-00001,SKU-ATV20-LPT,很贵,10\nC-1,SKU-1,0,-2\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as e:
        read_quote_lines(f)
    found = [(err.file, err.row, err.column, err.code, err.reason) for err in e.value.errors]
    assert found == [
        (str(f), 2, "unit_price", "not_a_number", "无法读取为数字：'很贵'"),
        (str(f), 3, "qty", "not_above_minimum", "应 > 0：'-2'"),
        (str(f), 3, "unit_price", "not_above_minimum", "应 > 0：'0'"),
    ]
    assert "could not convert" not in str(e.value) and f"{f} row 2 column 'unit_price'" in str(e.value)


def test_missing_column_header_only_and_no_file(tmp_path: Path) -> None:
    f = tmp_path / "quote.csv"
    f.write_text("客户编码,单价\nC-1,12\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as e:
        read_quote_lines(f)
    assert [err.code for err in e.value.errors] == ["missing_column"] and "商品编码/sku" in e.value.errors[0].reason
    f.write_text("customer_id,sku,unit_price\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as e:
        read_quote_lines(f)
    assert [(err.code, err.reason) for err in e.value.errors] == [("no_data_rows", "文件没有数据行（只有表头）")]
    with pytest.raises(FormatError):
        read_quote_lines(tmp_path / "missing.csv")


def test_the_quote_format_takes_no_part_in_file_type_detection(tmp_path: Path) -> None:
    assert QUOTE_LINES.name not in FILE_TYPES_BY_NAME
    f = tmp_path / "orders.csv"
    f.write_text("订单号,行号,客户编码,商品编码,订单日期,数量,单价\nN-1,1,C-1,S-1,2025-09-01,10,30\n", encoding="utf-8")
    assert detect_file_type(read_table(f)).name == "orders"
