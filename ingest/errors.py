"""Errors of the ingest layer: every one names where the problem is (file, sheet, row, column)."""

from __future__ import annotations

from dataclasses import dataclass

from graph.errors import SalesCopilotError


class IngestError(SalesCopilotError):
    """Root of ingest failures."""

    code = "ingest_error"


@dataclass(frozen=True)
class RowError:
    """One problem in an input file; ``row`` is 1-based as a spreadsheet shows it (the header is row 1)."""

    file: str
    row: int | None
    column: str | None
    reason: str
    sheet: str | None = None
    row_kind: str = "row"

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


class LayoutError(FormatError):
    """A file opens but is not laid out as expected (e.g. not an NRDL list); ``where`` names file/sheet/row/column."""

    code = "layout_error"

    def __init__(self, where: RowError) -> None:
        super().__init__(str(where), details=dict(where.__dict__))
        self.where = where
