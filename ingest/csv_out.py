"""CSV the product writes (rejected rows, formulary status) made safe to open in a spreadsheet."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel or WPS read a cell as a formula (CSV injection: ``=HYPERLINK(…)``, ``@SUM``)."""


def csv_cell(value: object) -> str:
    """The value as CSV text; text starting like a formula gets a leading apostrophe, so it shows as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
