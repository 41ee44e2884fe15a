"""Quote lines from a file: what ``salescopilot price-check --csv`` checks, read and validated like any ingest file.

A quote is checked, never written to the graph, so its format (``ingest.formats.QUOTE_LINES``, documented in
``docs/formats.md``) is not one of the file types an ingest infers from a header. Reading goes through the same
readers (CSV in UTF-8 or GBK, XLSX, JSON) and the same column validation, so a bad line is reported as every ingest
error is: a ``RowError`` naming file, row, column and reason, with a stable code — never a Python exception's text.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import FormatError
from ingest.formats import QUOTE_LINES
from ingest.readers import read_table
from ingest.validation import validate


@dataclass(frozen=True)
class QuoteLineRow:
    """One quote line as the file gives it.

    ``qty`` is 1 when the file leaves it out; ``unit`` None means the product's selling unit, ``date`` None the day of
    the check.
    """

    customer_id: str
    sku: str
    unit_price: float
    qty: float
    unit: str | None
    date: dt.date | None


def read_quote_lines(path: Path | str) -> list[QuoteLineRow]:
    """The quote lines of a CSV, XLSX or JSON file, in file order.

    Raises ``ValidationFailed`` (every bad row, with file, row, column and reason) when any line is invalid or the
    file has no line at all, and ``FormatError`` when the file cannot be read as a table.
    """
    path = Path(path)
    try:
        raw = read_table(path)
    except OSError as e:
        raise FormatError(f"{path}: 无法读取（{e.strerror or e}）", details={"file": str(path)}) from e
    v = validate(raw, QUOTE_LINES)
    v.raise_if_invalid()
    frame = v.frame
    return [
        QuoteLineRow(
            customer_id=str(frame["customer_id"].iloc[i]),
            sku=str(frame["sku"].iloc[i]),
            unit_price=float(frame["unit_price"].iloc[i]),
            qty=_number(_cell(frame, "qty", i), default=1.0),
            unit=_text(_cell(frame, "unit", i)),
            date=_date(_cell(frame, "date", i)),
        )
        for i in range(len(frame))
    ]


def _cell(frame: Any, column: str, i: int) -> Any:
    return frame[column].iloc[i] if column in frame.columns else None


def _number(value: Any, *, default: float) -> float:
    return default if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _date(value: Any) -> dt.date | None:
    return value if isinstance(value, dt.date) else None
