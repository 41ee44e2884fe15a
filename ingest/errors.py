"""Errors of the ingest layer: every one names where the problem is (file, sheet, row, column)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graph.errors import SalesCopilotError


class IngestError(SalesCopilotError):
    """Root of ingest failures."""

    code = "ingest_error"


REASONS: dict[str, str] = {
    # the file or a whole column
    "no_data_rows": "文件没有数据行（只有表头）",
    "missing_column": "缺少必填列 {name}（可用的表头：{accepted}）",
    "duplicate_column": "与列 '{other}' 重复（两列都表示 {canonical}）",
    "mixed_encoding": "这一行含非 UTF-8 字节，而文件其余部分是 UTF-8（可能是两份导出拼在了一起）",
    "bad_encoding": "含无法按 {encoding} 解码的字节",
    # one cell
    "required": "必填值为空",
    "control_character": "编码中含控制字符",
    "too_long": "编码超过 200 个字符",
    "not_a_number": "无法读取为数字：'{value}'",
    "not_an_integer": "无法读取为整数：'{value}'",
    "not_finite": "不是有限的数字：'{value}'",
    "not_whole": "应为整数，不能有小数：'{value}'",
    "below_minimum": "应 ≥ {bound}：'{value}'",
    "not_above_minimum": "应 > {bound}：'{value}'",
    "above_maximum": "应 ≤ {bound}：'{value}'",
    "not_a_date": "无法读取为日期（请用 YYYY-MM-DD）：'{value}'",
    "ambiguous_date": "日和月的顺序不明确（请用 YYYY-MM-DD）：'{value}'",
    "date_out_of_range": "日期不在 1900–2100 年之间：'{value}'",
    "text_too_long": "超过 {limit:,} 个字符（Excel 单元格的上限），共 {length:,} 个字符",
    "text_control_character": "含控制字符（如 NUL）：'{value}'",
    "not_a_datetime": "无法读取为日期时间（请用 YYYY-MM-DD HH:MM）：'{value}'",
    "not_yes_no": "无法读取为是/否（是/否、true/false、1/0）：'{value}'",
    "not_a_choice": "不是可选的值（{choices}）：'{value}'",
    "not_a_choice_item": "列表中有不可选的值（每项应为 {choices} 之一）：'{value}'",
    # between rows, or against the store
    "duplicate_key": "{keys} 重复：{key}（首次出现在第 {first} 行）",
    "unknown_reference": "未知{label} '{key}'（本次导入和库中都没有）",
}
"""The reason of every ``RowError`` ingest reports, by its stable English ``code`` (what a program branches on); the
text (Chinese, what a person reads in the console or the CLI) is filled in with the values named in braces."""

LABELS_ZH: dict[str, str] = {
    "Product": "商品", "Indication": "适应症", "FormularyEdition": "医保目录版本", "CompetitorProduct": "竞品",
    "Customer": "客户", "Doctor": "医生", "Rep": "销售代表", "Interaction": "拜访记录", "Deal": "商机",
    "Contract": "合同", "Entry": "知识条目",
}  # fmt: skip
"""Chinese names of the graph's node labels, for reasons that name a kind of record."""


def row_reason(code: str, **values: object) -> str:
    """The reason text of ``code`` with its values filled in (a node label in ``label`` is named in Chinese)."""
    if "label" in values:
        values["label"] = LABELS_ZH.get(str(values["label"]), str(values["label"]))
    shown = values.get("value")
    if isinstance(shown, str):
        if len(shown) > SHOWN_VALUE:  # a 150 MB cell stays out of the message
            shown = shown[:SHOWN_VALUE] + "…"
        values["value"] = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", shown)  # a NUL shown as \x00
    return REASONS[code].format(**values)


SHOWN_VALUE = 60
"""Characters of a bad value a message repeats."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class RowError:
    """One problem in an input file; ``row`` is 1-based as a spreadsheet shows it (the header is row 1).

    ``reason`` is for a person (Chinese first); ``code`` is the stable English name of the reason for a program (the
    keys of ``REASONS`` for ingest's own checks).
    """

    file: str
    row: int | None
    column: str | None
    reason: str
    sheet: str | None = None
    row_kind: str = "row"
    code: str = "invalid"

    def __str__(self) -> str:
        where = self.file
        if self.sheet:
            where += f" [{self.sheet}]"
        if self.row is not None:
            where += f" $[{self.row}]" if self.row_kind == "item" else f" {self.row_kind} {self.row}"
        if self.column:
            where += f" column '{self.column}'"
        return f"{where}: {self.reason}"


class ValidationFailed(IngestError):
    """A file was rejected: the first errors (up to 20) and the total count; nothing was written."""

    code = "validation_failed"

    def __init__(self, file: str, errors: list[RowError], total: int) -> None:
        shown = "\n".join(f"  - {e}" for e in errors)
        more = f"\n  … and {total - len(errors)} more" if total > len(errors) else ""
        super().__init__(
            f"{file}: rejected, {total} error(s); nothing was written\n{shown}{more}",
            details={"file": file, "total": total, "errors": [e.__dict__ for e in errors]},
        )
        self.file = file
        self.errors = errors
        self.total = total


class FormatError(IngestError):
    """A file cannot be read at all: unknown type, bad encoding, unreadable layout."""

    code = "format_error"


class UnknownFileTypeError(FormatError):
    """The header fits no file type (``details``: the closest type and its missing columns) or several of them.

    The message says what is missing in words; how to choose a type by hand is the caller's to say (a command-line
    option, a form field), since ingest does not know who is asking.
    """

    code = "unknown_file_type"


class LayoutError(FormatError):
    """A file opens but is not laid out as expected (e.g. not an NRDL list); ``where`` names file/sheet/row/column."""

    code = "layout_error"

    def __init__(self, where: RowError) -> None:
        super().__init__(str(where), details=dict(where.__dict__))
        self.where = where
