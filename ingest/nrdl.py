"""The official National Reimbursement Drug List (NRDL, 国家医保药品目录): loaders and a diff of two editions.

Layouts are recognised by content, never by file name (see ``docs/nrdl.md`` for the measured counts):

* the 2024 workbook: one sheet per section (西药部分, 中成药部分, 协议西药, 协议中成药, 竞价药品部分), a title row,
  a header row, then classification rows (``XA``, ``XA01`` …) interleaved with drug rows;
* the 2022 workbooks: the printed list, one sheet per page, the header repeated on every page, a page footer
  (``第 1 页，共 74 页``) and the classification context running on from one page to the next;
* the official PDF, from the text ``pypdf`` extracts (one table row per line, long cells wrapped onto more lines).

A row of a workbook is blank, a title, a header, a page footer, a classification row or a drug row. Anything else
raises `LayoutError` naming the file, sheet, row and column, so no drug row can be dropped silently.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ingest.errors import FormatError, LayoutError, RowError

Kind = Literal["western", "tcm"]
Category = Literal["甲", "乙"]

SECTION_WESTERN = "西药部分"
SECTION_TCM = "中成药部分"
SECTION_NEGOTIATED_WESTERN = "协议西药"
SECTION_NEGOTIATED_TCM = "协议中成药"
SECTION_BIDDING = "竞价药品部分"

WRAP_FULL = 0.6
"""A line break after a line at least this share of the column's widest line is a wrap, not a new name."""

# 中成药 dosage forms, as they appear inside brackets of alternative forms: 六味地黄片(胶囊、颗粒、口服液).
TCM_FORMS: tuple[str, ...] = tuple(
    sorted(
        {
            "丸", "水丸", "蜜丸", "水蜜丸", "浓缩丸", "滴丸", "微丸", "片", "分散片", "肠溶片", "泡腾片", "含片",
            "咀嚼片", "缓释片", "薄膜衣片", "胶囊", "软胶囊", "肠溶胶囊", "颗粒", "口服液", "口服乳液", "合剂",
            "糖浆", "散", "膏", "煎膏", "软膏", "乳膏", "贴膏", "橡胶膏", "凝胶", "酊", "液", "水", "露", "酒",
            "茶", "丹", "锭", "栓", "气雾剂", "喷雾剂", "注射液", "滴眼液", "搽剂", "洗剂",
        },
        key=lambda s: (-len(s), s),
    )
)  # fmt: skip

# Western dosage forms printed in the 剂型 column (the 凡例's merged forms and the unmerged ones seen in 2022/2024).
# Only the PDF reader needs them: there the 剂型 column is not a column any more, just the next word on the line.
WESTERN_FORMS: frozenset[str] = frozenset(
    {
        "口服常释剂型", "缓释控释剂型", "口服液体剂", "丸剂", "颗粒剂", "口服散剂", "外用散剂", "软膏剂", "贴剂",
        "外用液体剂", "硬膏剂", "凝胶剂", "涂剂", "栓剂", "滴眼剂", "滴耳剂", "滴鼻剂", "吸入剂", "注射剂",
        "散剂", "片剂", "醑剂", "锭剂", "乳剂", "咀嚼片", "滴丸剂", "灌肠剂", "封管液", "冲洗剂", "溶液剂",
        "乳膏剂", "阴道片", "喷雾剂", "贴膏剂", "液体剂", "胶浆剂", "气雾剂", "粉雾剂", "泡腾片", "眼膏剂",
        "植入剂", "舌下片剂", "阴道胶囊", "巴布膏剂", "口服乳剂", "气体剂型", "透皮贴剂", "口服粉剂",
        "混悬凝胶剂", "口服溶液剂", "肠溶缓释片", "阴道泡腾片", "阴道软胶囊", "微球注射剂", "凝胶贴膏剂",
        "吸入溶液剂", "口腔崩解片", "鼻用喷雾剂", "缓释混悬剂", "眼用凝胶剂", "口服混悬剂", "局部用散剂",
        "缓控释颗粒剂", "外用冻干制剂", "脂质体注射剂", "肠溶缓释胶囊", "吸入用溶液剂", "放射密封籽源",
        "缓释微球注射剂", "双释放肠溶胶囊", "口服常释剂型(不含分散片)",
    }
)  # fmt: skip

_HEADERS: dict[str, str] = {
    "药品分类代码": "code",
    "药品分类": "class_name",
    "编号": "number",
    "药品名称": "name",
    "剂型": "dosage_form",
    "备注": "remark",
    "医保支付标准": "payment",
    "支付标准": "payment",
    "协议有效期": "period",
    "支付标准有效期": "period",
}
_REQUIRED_HEADERS = ("code", "number", "name")
_HEADER_SEARCH_ROWS = 20

_CLASS_CODE = re.compile(r"[XZ][A-Z](\d\d([A-Z]{1,2})?)?")
_NUMBER = re.compile(r"(\d+)|★\((\d+)\)")
_PAGE_FOOTER = re.compile(r"第\s*\d+\s*页(\s*[,，]\s*共\s*\d+\s*页)?")
_OPEN, _CLOSE = "([（【", ")]）】"
# A name never starts with a bracket, punctuation or a Roman numeral, nor ends with an opening bracket or a joiner.
_WRAP_STARTS = frozenset(_CLOSE + _OPEN + "、，,；;：:/-—·.。ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ")
_WRAP_ENDS = frozenset(_OPEN + "-—/、，,+&")


@dataclass(frozen=True)
class NrdlDrug:
    """One drug row of an NRDL edition, as printed, with whitespace from line wrapping removed.

    ``alternative_names`` lists every individual name the row covers: the names of a cell that holds several
    (``二甲双胍`` and ``二甲双胍Ⅱ``) and the expansions of bracketed alternative forms (``六味地黄片(胶囊、颗粒)`` gives
    ``六味地黄片``, ``六味地黄胶囊``, ``六味地黄颗粒``); a row with one plain name lists just that name.
    ``restriction`` is the 备注 column verbatim (a ``限…`` restriction, ``◇`` for a class of drugs, or for some
    negotiated TCM drugs the approved indication). ``payment_standard`` is ``None`` when it is confidential (``*``;
    then ``payment_standard_confidential`` is true) or when the section has none. ``agreement_period`` is 协议有效期
    (or 支付标准有效期 in 竞价药品部分). ``source`` is ``file:sheet:row`` with the 1-based row a spreadsheet shows
    (``file:p<page>`` for the PDF).
    """

    edition: str
    section: str
    kind: Kind
    number: str | None
    classification_code: str | None
    classification_name: str | None
    category: Category | None
    name: str
    alternative_names: tuple[str, ...]
    dosage_form: str | None
    restriction: str | None
    payment_standard: str | None
    payment_standard_confidential: bool
    agreement_period: str | None
    source: str

    @property
    def entry_number(self) -> int | None:
        """The entry number as an integer: ``15`` for both ``15`` and ``★(15)`` (a further form of entry 15)."""
        if self.number is None:
            return None
        m = _NUMBER.fullmatch(self.number)
        return int(m.group(1) or m.group(2)) if m else None

    @property
    def is_repeat(self) -> bool:
        """True for a ``★(n)`` row: the same entry as number ``n`` printed again (another form or class)."""
        return self.number is not None and self.number.startswith("★")

    @property
    def match_key(self) -> tuple[str, str]:
        """Name and dosage form normalised for matching rows across editions (see `match_text`)."""
        return match_text(self.name), match_text(self.dosage_form or "")

    @property
    def name_keys(self) -> frozenset[str]:
        """Every individual name of the row, normalised for matching (see `match_text`)."""
        return frozenset(match_text(n) for n in self.alternative_names)


@dataclass(frozen=True)
class DrugChange:
    """One drug listed in both editions: its row in the old one and in the new one."""

    old: NrdlDrug
    new: NrdlDrug


@dataclass
class FormularyDiff:
    """What changed from one edition to the next, row by row (see `diff_editions` for the matching rules)."""

    added: list[NrdlDrug] = field(default_factory=list)
    removed: list[NrdlDrug] = field(default_factory=list)
    category_changed: list[DrugChange] = field(default_factory=list)
    restriction_changed: list[DrugChange] = field(default_factory=list)
    payment_standard_changed: list[DrugChange] = field(default_factory=list)
    section_changed: list[DrugChange] = field(default_factory=list)
    renamed: list[DrugChange] = field(default_factory=list)
    matched: list[DrugChange] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The size of every list, for reports and logs."""
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "category_changed": len(self.category_changed),
            "restriction_changed": len(self.restriction_changed),
            "payment_standard_changed": len(self.payment_standard_changed),
            "section_changed": len(self.section_changed),
            "renamed": len(self.renamed),
            "matched": len(self.matched),
        }


# ---------------------------------------------------------------------------------------------------------- text


def match_text(text: str) -> str:
    """Text normalised for matching: NFKC (full-width → half-width, ``Ⅱ`` → ``II``), lower case, no whitespace.

    It is what makes ``丙戊酸钠II`` (2022) and ``丙戊酸钠 Ⅱ`` (2024) the same name.
    """
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def clean_text(text: str) -> str:
    r"""Cell text without the whitespace of printing: line breaks joined, stray spaces around CJK text dropped.

    A wrapped line is joined to the next without a space, except between two ASCII letters or digits
    (``EGFR\nT790M`` → ``EGFR T790M``); other runs of whitespace become one space between two ASCII characters and
    disappear next to CJK text or full-width punctuation (``限：  1.预防…出\n血；`` → ``限：1.预防…出血；``).
    """
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    joined = lines[0]
    for line in lines[1:]:
        a, b = joined[-1], line[0]
        joined += (" " if _ascii_word(a) and _ascii_word(b) else "") + line
    return re.sub(r"\s+", lambda m: _space(m, joined), joined)


def _ascii_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _space(m: re.Match[str], s: str) -> str:
    before = s[m.start() - 1] if m.start() > 0 else ""
    after = s[m.end()] if m.end() < len(s) else ""
    return " " if before.isascii() and after.isascii() and before and after else ""


def clean_name(text: str) -> str:
    """A drug name without printing whitespace, and without spaces next to brackets (``片 (Ⅲ)`` → ``片(Ⅲ)``)."""
    return re.sub(r"\s*([()\[\]（）【】])\s*", r"\1", clean_text(text))


def clean_payment_standard(text: str) -> str:
    """A payment standard without printing whitespace; also mends numbers the conversion split (``96. 11元``)."""
    return re.sub(r"(\d)\s*\.\s+(\d)|(\d)\s+\.\s*(\d)", lambda m: f"{m[1] or m[3]}.{m[2] or m[4]}", clean_text(text))


def display_width(text: str) -> int:
    """Printed width of a line: two units for a CJK (wide) character, one for any other."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _depth(text: str) -> int:
    depth = 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
    return depth


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _continues(name_so_far: str, last_line: str, line: str, wrap_width: int) -> bool:
    """Whether ``line`` continues the name being read (a wrap) rather than starting another name in the cell."""
    if _depth(name_so_far) > 0 or line[0] in _WRAP_STARTS or last_line[-1] in _WRAP_ENDS:
        return True
    a, b = match_text(last_line), match_text(line)
    if b.startswith(a) or _common_prefix(a, b) >= 3:
        return False  # 二甲双胍 / 二甲双胍Ⅱ, 雷公藤片 / 雷公藤多苷[甙]片: variants, one per line
    return display_width(last_line) >= WRAP_FULL * wrap_width


def split_names(cell: str, wrap_width: int) -> list[str]:
    """The names a name cell holds: its lines re-joined where a line was wrapped, then split at top-level ``、``.

    A line break is a wrap when the text before it has an open bracket, when the next line starts with a bracket or
    punctuation, or when the line was full (at least `WRAP_FULL` of ``wrap_width``, the widest line of the column);
    it separates two names when the lines share a stem (``二甲双胍`` / ``二甲双胍Ⅱ``) or the line was short.
    """
    lines = [line.strip() for line in cell.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return []
    groups: list[list[str]] = [[lines[0]]]
    for line in lines[1:]:
        current = groups[-1]
        if _continues("".join(current), current[-1], line, wrap_width):
            current.append(line)
        else:
            groups.append([line])
    names: list[str] = []
    for group in groups:
        names.extend(n for n in _split_top_level(clean_name("\n".join(group))) if n)
    return names


def _split_top_level(text: str, separators: str = "、") -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in separators and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def expand_alternative_forms(name: str) -> list[str]:
    """The names a bracket of alternative forms stands for: ``六味地黄片(胶囊、颗粒)`` → 六味地黄片, 六味地黄胶囊 ….

    Only a bracket whose every item is a dosage form (`TCM_FORMS`) is expanded, and only when the text before it
    ends in a form too, which is replaced; any text after the bracket is kept (``生脉片(颗粒)(党参方)`` →
    生脉片(党参方), 生脉颗粒(党参方)). Aliases and qualifiers (``(通关藤颗粒)``, ``(冻干)``) are left as they are.
    """
    depth, start = 0, -1
    for i, ch in enumerate(name):
        if ch in _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif ch in _CLOSE and depth > 0:
            depth -= 1
            if depth == 0:
                items = [item.strip() for item in re.split(r"[、，,]", name[start + 1 : i])]
                prefix, suffix = name[:start], name[i + 1 :]
                stem = _form_stem(prefix)
                if stem and items and all(item in TCM_FORMS for item in items):
                    return [prefix + suffix, *(stem + item + suffix for item in items)]
    return [name]


def _form_stem(prefix: str) -> str | None:
    for form in TCM_FORMS:
        if prefix.endswith(form) and len(prefix) > len(form):
            return prefix[: -len(form)]
    return None


def _names(cell: str, wrap_width: int) -> tuple[str, tuple[str, ...]]:
    names = split_names(cell, wrap_width)
    expanded: dict[str, None] = {}
    for n in names:
        for alt in expand_alternative_forms(n):
            expanded.setdefault(alt, None)
    return "、".join(names), tuple(expanded)


def _number(raw: str) -> str | None:
    text = "".join(unicodedata.normalize("NFKC", raw).split())
    return text if _NUMBER.fullmatch(text) else None


def _kind_of(code: str | None, section: str) -> Kind | None:
    if code:
        return "western" if code.startswith("X") else "tcm"
    if "中成药" in section:
        return "tcm"
    if "西药" in section:
        return "western"
    return None


def _default_section(kind: Kind) -> str:
    return SECTION_WESTERN if kind == "western" else SECTION_TCM


def _payment(raw: str | None) -> tuple[str | None, bool]:
    if raw is None:
        return None, False
    text = clean_payment_standard(raw)
    if unicodedata.normalize("NFKC", text) == "*":
        return None, True
    return text or None, False


# ---------------------------------------------------------------------------------------------------------- xlsx


@dataclass(frozen=True)
class _Header:
    row: int  # 0-based index of the header row in the sheet
    columns: dict[str, int]  # field → 0-based column
    signature: tuple[tuple[int, str], ...]
    title: str | None


def _cell(value: object) -> str | None:
    """A cell as text, ``None`` when empty or blank; whole floats (``15.0``) print as integers."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _header_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _find_header(file: str, sheet: str, rows: list[list[str | None]]) -> _Header | None:
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        keys = {i: _header_key(c) for i, c in enumerate(row) if c is not None}
        if "编号" not in keys.values() or "药品名称" not in keys.values():
            continue
        columns: dict[str, int] = {}
        for i, key in keys.items():
            name = _HEADERS.get(key)
            if name is None:
                raise LayoutError(RowError(file, index + 1, key, f"unknown column '{key}' in the header", sheet))
            columns.setdefault(name, i)
        missing = [h for h in _REQUIRED_HEADERS if h not in columns]
        if missing:
            raise LayoutError(RowError(file, index + 1, None, f"header lacks {', '.join(missing)}", sheet))
        titles = [c.strip() for r in rows[:index] for c in r if c is not None]
        return _Header(index, columns, tuple(sorted(keys.items())), clean_text(" ".join(titles)) or None)
    return None


def load_nrdl_xlsx(path: Path, edition: str) -> list[NrdlDrug]:
    """Every drug row of an official NRDL workbook (2024 one-sheet-per-section or 2022 one-sheet-per-page layout).

    Raises `FormatError` for a file openpyxl cannot read and `LayoutError` (naming file, sheet, row and column)
    for a workbook that is not laid out as an NRDL list or has a row that is neither a drug nor a known non-drug row.
    """
    from openpyxl import load_workbook

    file = path.name
    with warnings.catch_warnings():
        # The official 2022 files carry no default style; openpyxl warns and then reads them correctly.
        warnings.filterwarnings("ignore", "Workbook contains no default style", UserWarning)
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many types for a broken or foreign file
            raise FormatError(f"{path}: not a readable XLSX workbook: {e}") from e
        try:
            sheets = [(ws.title, [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]) for ws in wb]
        finally:
            wb.close()

    headers: list[tuple[str, list[list[str | None]], _Header]] = []
    for title, rows in sheets:
        header = _find_header(file, title, rows)
        if header is None:
            if any(c is not None for row in rows for c in row):
                raise LayoutError(
                    RowError(file, None, None, "no NRDL header row (编号, 药品名称) in this sheet", title)
                )
            continue
        headers.append((title, rows, header))
    if not headers:
        raise LayoutError(RowError(file, None, None, "not an NRDL list: no sheet has a header with 编号 and 药品名称"))

    widths: dict[tuple[tuple[tuple[int, str], ...], int], int] = defaultdict(int)
    for _, rows, header in headers:
        col = header.columns["name"]
        for row in rows[header.row + 1 :]:
            text = row[col] if col < len(row) else None
            for line in (text or "").splitlines():
                key = (header.signature, col)
                widths[key] = max(widths[key], display_width(line.strip()))

    drugs: list[NrdlDrug] = []
    context: dict[str, tuple[str, str] | None] = {}
    for title, rows, header in headers:
        # the title row names the section; else a sheet named like one (西药部分, 协议西药); else (pages) the kind
        section_label = header.title or (title if "药" in title or "部分" in title else "")
        width = widths[(header.signature, header.columns["name"])]
        parser = _SheetParser(file, title, edition, header, section_label, width)
        parser.classification = context.get(section_label)
        for index, row in enumerate(rows[header.row + 1 :], start=header.row + 2):
            drug = parser.parse(index, row)
            if drug is not None:
                drugs.append(drug)
        context[section_label] = parser.classification
    return drugs


class _SheetParser:
    """Reads the rows of one sheet below its header, keeping the classification the rows sit under."""

    def __init__(self, file: str, sheet: str, edition: str, header: _Header, section: str, wrap_width: int) -> None:
        self.file, self.sheet, self.edition, self.header = file, sheet, edition, header
        self.section, self.wrap_width = section, wrap_width
        self.classification: tuple[str, str] | None = None
        self.mapped = set(header.columns.values())

    def _error(self, row: int, column: int | None, reason: str) -> LayoutError:
        name = None
        if column is not None:
            name = next((key for col, key in self.header.signature if col == column), None) or _column_letter(column)
        return LayoutError(RowError(self.file, row, name, reason, self.sheet))

    def parse(self, row_number: int, row: list[str | None]) -> NrdlDrug | None:
        """The drug on this row, or ``None`` for a blank, header, footer or classification row."""
        filled = {i: c for i, c in enumerate(row) if c is not None}
        if not filled:
            return None
        if {(i, _header_key(c)) for i, c in filled.items()} <= set(self.header.signature):
            return None  # the header repeated
        cols = self.header.columns

        def get(name: str) -> str | None:
            i = cols.get(name)
            return filled.get(i) if i is not None else None

        if get("name") is None:
            code = get("code")
            others = {i: c for i, c in filled.items() if i != cols["code"]}
            if code is not None and _CLASS_CODE.fullmatch(code.strip()) and len(others) == 1:
                if cols["number"] in others:
                    raise self._error(row_number, cols["number"], "a classification row has a number")
                self.classification = (code.strip(), clean_text(next(iter(others.values()))))
                return None
            if len(filled) == 1 and _PAGE_FOOTER.fullmatch(clean_text(next(iter(filled.values())))):
                return None
            first = min(filled)
            raise self._error(row_number, first, f"neither a drug nor a classification row: {filled[first]!r}")
        return self._drug(row_number, filled, get)

    def _drug(self, row_number: int, filled: dict[int, str], get: Callable[[str], str | None]) -> NrdlDrug:
        cols = self.header.columns
        if get("code") is not None:
            raise self._error(row_number, cols["code"], "a drug row has a classification code")
        category: Category | None = None
        for i, text in filled.items():
            if i in self.mapped:
                continue
            value = unicodedata.normalize("NFKC", text).strip()
            if i < cols["number"] and category is None and value in ("甲", "乙"):
                category = "甲" if value == "甲" else "乙"
            else:
                raise self._error(row_number, i, f"unexpected text in a drug row: {text!r}")
        raw_number = get("number")
        if raw_number is None:
            raise self._error(row_number, cols["number"], "a drug row without 编号 (a name continued from a page?)")
        number = _number(raw_number)
        if number is None:
            raise self._error(row_number, cols["number"], f"not an entry number: {raw_number!r}")
        code, class_name = self.classification or (None, None)
        kind = _kind_of(code, self.section)
        if kind is None:
            raise self._error(row_number, cols["name"], "cannot tell a western from a TCM drug: no classification")
        name, alternatives = _names(get("name") or "", self.wrap_width)
        payment, confidential = _payment(get("payment"))
        form, remark, period = (get(k) for k in ("dosage_form", "remark", "period"))
        return NrdlDrug(
            edition=self.edition,
            section=self.section or _default_section(kind),
            kind=kind,
            number=number,
            classification_code=code,
            classification_name=class_name,
            category=category,
            name=name,
            alternative_names=alternatives,
            dosage_form=_optional(clean_name, form),
            restriction=_optional(clean_text, remark),
            payment_standard=payment,
            payment_standard_confidential=confidential,
            agreement_period=_optional(clean_text, period),
            source=f"{self.file}:{self.sheet}:{row_number}",
        )


def _optional(clean: Callable[[str], str], text: str | None) -> str | None:
    return (clean(text) or None) if text is not None else None


def _column_letter(index: int) -> str:
    letters, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


# ----------------------------------------------------------------------------------------------------------- pdf

_PDF_SECTIONS: dict[str, str | None] = {
    "西药部分": SECTION_WESTERN,
    "中成药部分": SECTION_TCM,
    "(一)西药": SECTION_NEGOTIATED_WESTERN,
    "(二)中成药": SECTION_NEGOTIATED_TCM,
    "竞价药品部分": SECTION_BIDDING,
    "中药饮片部分": None,  # herbal pieces: a different list, not read
}
_PDF_DRUG = re.compile(r"([甲乙])\s+(\d+|★\s*[(（]\s*\d+\s*[)）])(?:\s*(.*))?")
_PDF_DRUG_AFTER_WRAP = re.compile(r"(\S+?)((?:甲|乙)\s+(?:\d+|★\s*[(（]\s*\d+\s*[)）])\s.*)")
_PDF_CLASS = re.compile(r"([XZ][A-Z](?:\d\d(?:[A-Z]{1,2})?)?)\s+(\S.*)")
_PDF_SKIP = re.compile(r"药品分类代码.*|药品分|类代码.*|第\s*\d+\s*页|协议期内谈判药品部分")
_PDF_NOTE = re.compile(r"(备注\s*\d*|注)\s*[:：].*")
_PDF_PERIOD = re.compile(
    r"\s*(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*至\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*$"
)
_PDF_PAYMENT_START = re.compile(r"(?<=\s)(?:[*＊](?=\s|$)|\d+(?:\.\s?\d+)?\s*元|见备注)")
_PDF_AMOUNT = re.compile(r"\s*(?:\d+(?:\.\s?\d+)?\s*元(?:/[^\s(（]+)?|见备注\s*\d*)\s*")


@dataclass
class _PdfRecord:
    section: str
    page: int
    category: str
    number: str
    classification: tuple[str, str] | None
    text: list[str] = field(default_factory=list)


def load_nrdl_pdf(path: Path, edition: str) -> list[NrdlDrug]:
    """The drug rows of an official NRDL PDF: the text ``pypdf`` extracts, read by `parse_nrdl_pdf_text`.

    Raises `FormatError` for a file pypdf cannot read and `LayoutError` when its text has no NRDL drug rows.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        pages = [page.extract_text() or "" for page in PdfReader(path).pages]
    except (PdfReadError, OSError, ValueError) as e:
        raise FormatError(f"{path}: not a readable PDF: {e}") from e
    return parse_nrdl_pdf_text(pages, edition, path.name)


def parse_nrdl_pdf_text(pages: Sequence[str], edition: str, file: str) -> list[NrdlDrug]:
    """The drug rows in the extracted text of an NRDL PDF, one string per page (best effort; see ``docs/nrdl.md``).

    Each table row starts with a line ``甲|乙 <编号> …``; the lines up to the next row, classification or section
    heading are its wrapped cells. The 剂型 column is recognised by its vocabulary (`WESTERN_FORMS`), the 备注 by
    its opening (``限``, ``◇``) or sentence punctuation, the payment standard by its amounts (``…元(…)``, ``*``) and
    the agreement period by its dates. Sections are named as in the 2024 workbook (协议西药 for 协议期内谈判药品部分
    (一)西药, …) so that rows can be compared with it; the herbal pieces list (中药饮片部分) is not read.
    ``source`` is ``file:p<page>``, the page where the row starts.
    """
    records = _pdf_records(pages)
    if not records:
        raise LayoutError(RowError(file, None, None, "not an NRDL list: no drug rows in the PDF text"))
    widths: dict[str, int] = defaultdict(int)
    parts = [_pdf_fields(r) for r in records]
    for record, (name, *_) in zip(records, parts, strict=True):
        for token in name.split():
            widths[record.section] = max(widths[record.section], display_width(token))
    drugs = []
    for record, (name_text, form, remark, payment_text, period) in zip(records, parts, strict=True):
        code, class_name = record.classification or (None, None)
        kind = _kind_of(code, record.section)
        if kind is None:
            where = RowError(file, None, None, f"p{record.page}: cannot tell a western from a TCM drug")
            raise LayoutError(where)
        name, alternatives = _names("\n".join(name_text.split()), widths[record.section])
        payment, confidential = _payment(payment_text)
        drugs.append(
            NrdlDrug(
                edition=edition,
                section=record.section,
                kind=kind,
                number=_number(record.number),
                classification_code=code,
                classification_name=class_name,
                category="甲" if record.category == "甲" else "乙",
                name=name,
                alternative_names=alternatives,
                dosage_form=form,
                restriction=_optional(clean_text, remark),
                payment_standard=payment,
                payment_standard_confidential=confidential,
                agreement_period=_optional(clean_text, period),
                source=f"{file}:p{record.page}",
            )
        )
    return drugs


def _pdf_records(pages: Sequence[str]) -> list[_PdfRecord]:
    """Group the lines of the PDF text into table rows, tracking section and classification."""
    records: list[_PdfRecord] = []
    section: str | None = None
    classification: tuple[str, str] | None = None
    current: _PdfRecord | None = None
    in_note = after_class = False
    for page_number, text in enumerate(pages, start=1):
        for raw in text.splitlines():
            line = raw.strip()
            key = _header_key(line)
            if not line or _PDF_SKIP.fullmatch(line):
                continue
            if key in _PDF_SECTIONS:
                section, classification, current, in_note = _PDF_SECTIONS[key], None, None, False
                continue
            if section is None:
                continue
            wrapped = _PDF_DRUG_AFTER_WRAP.fullmatch(line) if after_class else None
            if wrapped and classification is not None and not _PDF_DRUG.fullmatch(line):
                # the end of a wrapped classification name printed on the same line as the next drug row
                classification = (classification[0], classification[1] + clean_text(wrapped[1]))
                line = wrapped[2]
            drug = _PDF_DRUG.fullmatch(line)
            after_class = False
            if drug:
                current = _PdfRecord(section, page_number, drug[1], drug[2], classification)
                current.text.append(drug[3] or "")
                records.append(current)
                in_note = False
                continue
            klass = _PDF_CLASS.fullmatch(line)
            if klass:
                classification, current, in_note = (klass[1], clean_text(klass[2])), None, False
                after_class = True
                continue
            if _PDF_NOTE.fullmatch(line):
                current, in_note = None, True
                continue
            if current is not None and not in_note:
                current.text.append(line)
    return records


def _pdf_fields(record: _PdfRecord) -> tuple[str, str | None, str | None, str | None, str | None]:
    """Name, dosage form, remark, payment standard and agreement period of one PDF row."""
    body = " ".join(t for t in record.text if t)
    if record.section in (SECTION_WESTERN, SECTION_TCM):
        tokens = body.split()
        form_at = _form_token(tokens) if record.section == SECTION_WESTERN else None
        if form_at is not None:
            first, last = form_at
            form = "".join(tokens[first:last])
            return " ".join(tokens[:first]), form, " ".join(tokens[last:]) or None, None, None
        remark_at = next((i for i, t in enumerate(tokens) if i > 0 and _opens_remark(t)), len(tokens))
        return " ".join(tokens[:remark_at]), None, " ".join(tokens[remark_at:]) or None, None, None
    period = None
    m = _PDF_PERIOD.search(body)
    if m:
        period, body = m[1], body[: m.start()]
    payment_at = _PDF_PAYMENT_START.search(" " + body)
    if payment_at is None:
        return body, None, None, None, period
    name, rest = body[: payment_at.start() - 1], body[payment_at.start() - 1 :]
    end = _payment_end(rest)
    return name, None, rest[end:].strip() or None, rest[:end].strip(), period


def _form_token(tokens: Sequence[str]) -> tuple[int, int] | None:
    for i in range(1, len(tokens)):
        if i + 1 < len(tokens) and tokens[i] + tokens[i + 1] in WESTERN_FORMS:
            return i, i + 2  # a form the extraction split: 口服常释剂型 (不含分散片)
        if tokens[i] in WESTERN_FORMS:
            return i, i + 1
    return None


def _opens_remark(token: str) -> bool:
    return token.startswith(("限", "◇")) or any(p in token for p in "。，；")


def _payment_end(text: str) -> int:
    """Where the payment standard at the start of ``text`` ends: ``*``, or amounts with bracketed units.

    Each amount (``63.00元``) is followed by its unit in brackets and possibly by a note in brackets (``(协议有效期内,
    谈判企业负责…)``), which the workbook keeps in the same cell; amounts are separated by ``；``.
    """
    stripped = text.lstrip()
    if stripped[:1] in "*＊":
        return len(text) - len(stripped) + 1
    pos = 0
    while m := _PDF_AMOUNT.match(text, pos):
        pos = m.end()
        while opening := re.match(r"\s*[(（]", text[pos:]):
            pos = _bracket_end(text, pos + opening.end() - 1)
        sep = re.match(r"\s*[；;]\s*", text[pos:])
        if not sep:
            break
        pos += sep.end()
    return pos


def _bracket_end(text: str, start: int) -> int:
    """The index just after the bracket that closes the one at ``start`` (the end of ``text`` if none does)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] in _OPEN:
            depth += 1
        elif text[i] in _CLOSE:
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


# ---------------------------------------------------------------------------------------------------------- diff


def _comparable(text: str | None) -> str:
    """Text compared between editions: `match_text` without trailing punctuation (``…用药`` equals ``…用药。``)."""
    return match_text(text or "").rstrip("。.;；,，")


def diff_editions(old: Sequence[NrdlDrug], new: Sequence[NrdlDrug]) -> FormularyDiff:
    """Compare two editions row by row: what was added, removed, and what changed for drugs listed in both.

    Rows are matched by `NrdlDrug.match_key` (normalised name + dosage form), so one name in two dosage forms is two
    drugs. The section is not part of the key: a drug that moves (协议西药 → 西药部分 when its agreement ends) is
    matched, listed in ``section_changed``, and its other changes are reported as usual (its payment standard
    usually disappears with the move). When a key has several rows on a side (the same drug printed under two
    classes), rows pair up by same section and class first. Rows left over are then matched when they share an
    individual name (`NrdlDrug.alternative_names`) and the dosage form, one to one (``renamed``: e.g. a new
    numbered variant added to a multi-name cell). Restrictions and payment standards are compared without
    whitespace, case, full-/half-width differences and trailing punctuation; the change items keep the raw text.
    """
    diff = FormularyDiff()
    old_by_key: dict[tuple[str, str], list[NrdlDrug]] = defaultdict(list)
    new_by_key: dict[tuple[str, str], list[NrdlDrug]] = defaultdict(list)
    for d in old:
        old_by_key[d.match_key].append(d)
    for d in new:
        new_by_key[d.match_key].append(d)
    pairs: list[DrugChange] = []
    left_old: list[NrdlDrug] = []
    left_new: list[NrdlDrug] = []
    for key, olds in old_by_key.items():
        matched, rest_old, rest_new = _pair(olds, new_by_key.get(key, []))
        pairs.extend(matched)
        left_old.extend(rest_old)
        left_new.extend(rest_new)
    for key, news in new_by_key.items():
        if key not in old_by_key:
            left_new.extend(news)
    renamed = _pair_by_name(left_old, left_new)
    paired_old = {id(c.old) for c in renamed}
    paired_new = {id(c.new) for c in renamed}
    unmatched_old = {id(d) for d in left_old} - paired_old
    unmatched_new = {id(d) for d in left_new} - paired_new
    diff.removed = [d for d in old if id(d) in unmatched_old]
    diff.added = [d for d in new if id(d) in unmatched_new]
    diff.renamed = renamed
    order = {id(d): i for i, d in enumerate(new)}
    diff.matched = sorted([*pairs, *renamed], key=lambda c: order[id(c.new)])
    for change in diff.matched:
        o, n = change.old, change.new
        if o.category != n.category:
            diff.category_changed.append(change)
        if _comparable(o.restriction) != _comparable(n.restriction):
            diff.restriction_changed.append(change)
        if (_comparable(o.payment_standard), o.payment_standard_confidential) != (
            _comparable(n.payment_standard),
            n.payment_standard_confidential,
        ):
            diff.payment_standard_changed.append(change)
        if o.section != n.section:
            diff.section_changed.append(change)
    return diff


def _pair(olds: list[NrdlDrug], news: list[NrdlDrug]) -> tuple[list[DrugChange], list[NrdlDrug], list[NrdlDrug]]:
    free_old, free_new = list(olds), list(news)
    pairs: list[DrugChange] = []

    def score(o: NrdlDrug, n: NrdlDrug) -> int:
        return 2 * (o.classification_code == n.classification_code) + (o.section == n.section)

    for wanted in (3, 2, 1, 0):
        for n in list(free_new):
            o = next((o for o in free_old if score(o, n) == wanted), None)
            if o is not None:
                pairs.append(DrugChange(o, n))
                free_old.remove(o)
                free_new.remove(n)
    return pairs, free_old, free_new


def _pair_by_name(olds: Iterable[NrdlDrug], news: Iterable[NrdlDrug]) -> list[DrugChange]:
    def form(d: NrdlDrug) -> str:
        return match_text(d.dosage_form or "")

    old_list, new_list = list(olds), list(news)
    candidates = {id(n): [o for o in old_list if form(o) == form(n) and o.name_keys & n.name_keys] for n in new_list}
    claimed: dict[int, int] = defaultdict(int)
    for found in candidates.values():
        for o in found:
            claimed[id(o)] += 1
    pairs = []
    for n in new_list:
        found = candidates[id(n)]
        if len(found) == 1 and claimed[id(found[0])] == 1:
            pairs.append(DrugChange(found[0], n))
    return pairs
