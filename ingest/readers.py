"""Readers: a CSV, XLSX or JSON file becomes a table of text cells with the row number a person would look for.

Every reader returns a ``RawTable``: pandas string columns (empty cells as missing) and, per row, the 1-based row
as a spreadsheet shows it (header = row 1) or the JSON Lines line number / JSON array position.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from charset_normalizer import from_bytes

from ingest.errors import FormatError, RowError, ValidationFailed, row_reason

MAX_ROWS = 5_000_000
"""Rows of one file; a larger export is split (it would not fit one transaction on a small machine anyway)."""
MAX_COLUMNS = 1_000
"""Header cells read from a sheet."""

TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}


@dataclass
class RawTable:
    """Cells as text, the source file, and where each row sits in it."""

    file: str
    frame: pd.DataFrame
    rows: list[int]
    row_kind: str = "row"
    sheet: str | None = None
    encoding: str | None = None


def decode_text(data: bytes, file: str) -> tuple[str, str]:
    """Decode a text file: UTF-8 (with or without BOM) or the GB family (read as GB18030).

    A file that is UTF-8 in places and something else elsewhere (two exports pasted together) is rejected naming
    the first bad line, rather than decoded into mojibake.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data, "utf-8-sig", file), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    utf8_lines, bad_lines = 0, []
    for n, line_bytes in enumerate(data.split(b"\n"), start=1):
        if max(line_bytes, default=0) < 128:
            continue
        try:
            line_bytes.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            bad_lines.append(n)
    if utf8_lines > len(bad_lines):
        line = bad_lines[0]
        raise ValidationFailed(
            file,
            [RowError(file, line, None, row_reason("mixed_encoding"), None, "line", "mixed_encoding")],
            1,
        )
    best = from_bytes(data[:2_000_000]).best()
    encoding = best.encoding if best is not None else "gb18030"
    if encoding.lower().replace("-", "").replace("_", "") in {"gb2312", "gbk", "gb18030", "cp936", "hz", "big5"}:
        encoding = "gb18030"
    return _strict(data, encoding, file), encoding


def _strict(data: bytes, encoding: str, file: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ValidationFailed(
            file,
            [RowError(file, line, None, row_reason("bad_encoding", encoding=encoding), None, "line", "bad_encoding")],
            1,
        ) from e


def _finish(file: str, frame: pd.DataFrame, rows: list[int], **kw: Any) -> RawTable:
    frame.columns = [str(c).strip() for c in frame.columns]
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    if dupes:
        raise FormatError(f"{file}: duplicate column(s) {', '.join(dupes)} in the header")
    frame = frame.apply(lambda col: col.str.strip()).replace("", None)
    return RawTable(file=file, frame=frame, rows=rows, **kw)


def read_csv(path: Path) -> RawTable:
    """Read a CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; delimiter sniffed among , ; tab."""
    text, encoding = decode_text(path.read_bytes(), str(path))
    first = text.split("\n", 1)[0]
    sep = max([",", "\t", ";"], key=first.count)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise FormatError(f"{path}: not a readable CSV file: {e}") from e
    return _finish(str(path), frame, list(range(2, len(frame) + 2)), encoding=encoding)


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(path: Path, sheet: str | None = None) -> RawTable:
    """Read the first (or the named) sheet of a workbook; row 1 is the header."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a broken file
        raise FormatError(f"{path}: not a readable XLSX workbook: {e}") from e
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        # Only the header's columns are read: a stray cell in column XFD would otherwise make every row 16,384
        # cells wide (80 s of CPU for a 5 MB file of empty rows).
        header = next(ws.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), None)
        if header is None:
            raise FormatError(f"{path}: sheet '{ws.title}' is empty")
        width = max((i + 1 for i, h in enumerate(header) if h is not None), default=0)
        names = [_cell_text(h) or f"column_{i + 1}" for i, h in enumerate(header[:width])]
        records: list[list[str | None]] = []
        rows: list[int] = []
        for n, values in enumerate(ws.iter_rows(min_row=2, max_col=max(width, 1), values_only=True), start=2):
            cells = [_cell_text(v) for v in values[:width]]
            if any(c not in (None, "") for c in cells):
                records.append(cells + [None] * (width - len(cells)))
                rows.append(n)
                if len(records) > MAX_ROWS:
                    raise FormatError(f"{path}: more than {MAX_ROWS:,} rows; split the file")
        title = ws.title
    finally:
        wb.close()
    frame = pd.DataFrame(records, columns=names, dtype=object).astype("string").astype(object)
    frame = frame.where(frame.notna(), "")
    return _finish(str(path), frame, rows, sheet=title)


def read_json(path: Path) -> RawTable:
    """Read a JSON array of objects, an object with a ``rows`` array, or JSON Lines."""
    text, encoding = decode_text(path.read_bytes(), str(path))
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    kind = "line"
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" and stripped[:1] in "[{":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise FormatError(f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e
        except RecursionError as e:
            raise FormatError(f"{path}: JSON nested too deeply (expected an array of flat objects)") from e
        items = doc.get("rows") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise FormatError(f'{path}: expected a JSON array of objects (or {{"rows": [...]}})')
        kind = "item"
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise FormatError(f"{path}: $[{i}] is not an object")
            records.append(item)
            rows.append(i)  # reported as the JSON path $[i]
    else:
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as e:
                raise FormatError(f"{path}: line {n}: invalid JSON: {e.msg}") from e
            except RecursionError as e:
                raise FormatError(f"{path}: line {n}: JSON nested too deeply (expected a flat object)") from e
            if not isinstance(item, dict):
                raise FormatError(f"{path}: line {n}: not a JSON object")
            records.append(item)
            rows.append(n)
    flat = [{k: _json_text(v) for k, v in r.items()} for r in records]
    frame = pd.DataFrame(flat, dtype=object)
    frame = frame.where(frame.notna(), "")
    return _finish(
        str(path), frame.astype(str) if len(frame.columns) else frame, rows, row_kind=kind, encoding=encoding
    )


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(path: Path) -> RawTable:
    """Read any supported tabular file, chosen by its suffix."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_csv(path)
    if suffix in XLSX_SUFFIXES:
        return read_xlsx(path)
    if suffix in JSON_SUFFIXES:
        return read_json(path)
    raise FormatError(f"{path}: unsupported file type '{suffix}' (CSV, XLSX, JSON, JSON Lines or PDF)")
