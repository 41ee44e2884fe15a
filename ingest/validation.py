"""Column-wise validation of an input table against its file type.

Checks run on whole columns (pandas/numpy) rather than row by row, so two million order lines validate in seconds;
the rules themselves come from the graph model's field types and constraints. Every problem becomes a ``RowError``
naming file, row and column.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types as at
import numpy as np
import pandas as pd

from graph.frames import required_fields
from graph.model import Edge, Node, PropType
from ingest.errors import RowError, ValidationFailed, row_reason
from ingest.formats import ENUM_ALIASES, Column, FileType, Kind, alias_table, header_key
from ingest.readers import RawTable

MAX_CELL_CHARS = 32_767
"""The longest text a cell may hold: Excel's own limit; longer text is a document (ingest it as a PDF)."""
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
"""Control characters that never belong in text (tab and line breaks do)."""
MIN_YEAR, MAX_YEAR = 1900, 2100
"""Dates outside these years are typing or export errors (0001-01-01, 9999-12-31), refused with their row."""
LIST_SPLIT = re.compile(r"\s*[|;；、,，]\s*")
TRUE = {"true", "t", "yes", "y", "1", "是", "有", "√", "✓"}
FALSE = {"false", "f", "no", "n", "0", "否", "无", "×", "✗"}
MAX_SHOWN = 20
PER_REASON = 1000


@dataclass(frozen=True)
class Rule:
    """What a column must hold."""

    kind: Kind
    required: bool
    choices: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    max_len: int | None = None


@dataclass
class Validated:
    """A validated table: canonical typed columns, each row's source position, and the problems found."""

    raw: RawTable
    file_type: FileType
    frame: pd.DataFrame
    errors: list[RowError] = field(default_factory=list)
    bad: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    ignored_columns: list[str] = field(default_factory=list)

    def source_row(self, i: int) -> int:
        """Row number (as the user sees it) of positional row ``i``."""
        return self.raw.rows[i]

    def error(self, i: int | None, column: str | None, code: str, **values: object) -> None:
        """Record a problem on positional row ``i`` (``None``: the whole file).

        ``code`` is a key of ``ingest.errors.REASONS``; ``values`` fill in its text.
        """
        row = None if i is None else self.source_row(i)
        header = self.headers.get(column or "", column)
        reason = row_reason(code, **values)
        self.errors.append(RowError(self.raw.file, row, header, reason, self.raw.sheet, self.raw.row_kind, code))
        if i is not None:
            self.bad[i] = True

    headers: dict[str, str] = field(default_factory=dict)
    uncounted: int = 0

    @property
    def error_count(self) -> int:
        """All problems found, including those past the per-reason cap that have no message."""
        return len(self.errors) + self.uncounted

    def raise_if_invalid(self) -> None:
        """Reject the file when it has any problem."""
        if self.error_count:
            ordered = sorted(self.errors, key=lambda e: (e.row is not None, e.row or 0, e.column or ""))
            raise ValidationFailed(self.raw.file, ordered[:MAX_SHOWN], self.error_count)


def column_label(col: Column) -> str:
    """A column as a person would look for it in a header: its first Chinese alias and its name (单价/unit_price)."""
    zh = next((a for a in col.aliases if not a.isascii()), None)
    return f"{zh}/{col.name}" if zh else col.name


def rule_for(col: Column) -> Rule:
    """The rule of a column, from its model field when it has one."""
    if col.source is None:
        assert col.kind is not None
        return Rule(col.kind, bool(col.required), gt=col.gt)
    model, name = col.source
    info = model.model_fields[name]
    prop = model.property_types()[name]
    keys = _key_fields(model)
    kind: Kind = {
        PropType.STRING: "key" if name in keys else "text",
        PropType.INT64: "int",
        PropType.DOUBLE: "float",
        PropType.BOOLEAN: "bool",
        PropType.DATE: "date",
        PropType.TIMESTAMP: "datetime",
        PropType.STRING_LIST: "list",
    }[prop]
    choices = _literal_choices(info.annotation)
    if choices and kind != "list":
        kind = "enum"
    rule: dict[str, Any] = {}
    for meta in info.metadata:
        if isinstance(meta, at.Ge):
            rule["ge"] = float(meta.ge)  # type: ignore[arg-type]
        elif isinstance(meta, at.Gt):
            rule["gt"] = float(meta.gt)  # type: ignore[arg-type]
        elif isinstance(meta, at.Le):
            rule["le"] = float(meta.le)  # type: ignore[arg-type]
        elif isinstance(meta, at.MaxLen):
            rule["max_len"] = int(meta.max_length)
    required = name in required_fields(model) if col.required is None else col.required
    return Rule(kind, required, choices, **rule)


def _key_fields(model: type[Any]) -> set[str]:
    if isinstance(model, type) and issubclass(model, Node):
        return {model.key_field, *model.references}
    if isinstance(model, type) and issubclass(model, Edge):
        return {*model.endpoint_fields(), *model.identity}
    return set()


def _literal_choices(annotation: Any) -> tuple[str, ...]:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    for arg in typing.get_args(annotation):
        found = _literal_choices(arg)
        if found:
            return found
    return ()


def validate(raw: RawTable, file_type: FileType) -> Validated:
    """Map headers to canonical columns and check every cell; problems are collected, not raised.

    A file without data rows (a header alone, an empty JSON array) is an error of the whole file: loading nothing
    and calling it a success hides an export that went wrong.
    """
    aliases = alias_table(file_type)
    rename: dict[str, str] = {}
    v = Validated(raw, file_type, pd.DataFrame(index=raw.frame.index), bad=np.zeros(len(raw.frame), dtype=bool))
    if not len(raw.frame):
        v.error(None, None, "no_data_rows")
    for header in raw.frame.columns:
        canonical = aliases.get(header_key(header))
        if canonical is None:
            v.ignored_columns.append(header)
        elif canonical in rename.values():
            other = next(h for h, c in rename.items() if c == canonical)
            v.error(None, header, "duplicate_column", other=other, canonical=canonical)
        else:
            rename[header] = canonical
    v.headers = {c: h for h, c in rename.items()}
    frame = raw.frame.rename(columns=rename)
    for col in file_type.columns:
        rule = rule_for(col)
        if col.name not in frame.columns:
            if rule.required:
                accepted = "、".join(dict.fromkeys((col.name, *col.aliases)))
                v.error(None, col.name, "missing_column", name=column_label(col), accepted=accepted)
            continue
        v.frame[col.name] = _check(v, col.name, frame[col.name], rule)
    _check_duplicates(v)
    return v


def _check(v: Validated, name: str, values: pd.Series, rule: Rule) -> pd.Series:
    missing = values.isna().to_numpy()
    if rule.required and missing.any():
        for i in np.flatnonzero(missing)[:PER_REASON]:
            v.error(int(i), name, "required")
        _count_more(v, name, int(missing.sum()) - min(int(missing.sum()), PER_REASON), "required")
    present = ~missing
    text = values.astype("str")  # Arrow-backed strings: a fraction of the memory of Python objects
    out: pd.Series
    if rule.kind in ("text", "key", "list"):
        length = text.fillna("").str.len().to_numpy()
        long = present & (length > MAX_CELL_CHARS)
        for i in np.flatnonzero(long)[:PER_REASON]:
            v.error(int(i), name, "text_too_long", limit=MAX_CELL_CHARS, length=int(length[i]))
        _count_more(v, name, int(long.sum()) - min(int(long.sum()), PER_REASON), "text_too_long")
        v.bad[long] = True
        if rule.kind != "key":
            control = present & ~long & text.fillna("").str.contains(CONTROL, regex=True).to_numpy()
            _flag(v, name, control, "text_control_character", values)
    if rule.kind in ("text", "key"):
        out = text
        if rule.kind == "key":
            bad = present & text.fillna("").str.contains(r"[\x00-\x1f]", regex=True).to_numpy()
            _flag(v, name, bad, "control_character")
            too_long = present & (text.fillna("").str.len().to_numpy() > 200)
            _flag(v, name, too_long, "too_long")
    elif rule.kind in ("int", "float"):
        cleaned = text.where(~present, text.fillna("").str.replace(r"[,，\s¥￥元]", "", regex=True))
        num = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)
        _flag(v, name, present & np.isnan(num), "not_an_integer" if rule.kind == "int" else "not_a_number", values)
        _flag(v, name, present & ~np.isfinite(num) & ~np.isnan(num), "not_finite", values)
        ok = present & np.isfinite(num)
        if rule.kind == "int":
            _flag(v, name, ok & (np.floor(num) != num), "not_whole", values)
        if rule.ge is not None:
            _flag(v, name, ok & (num < rule.ge), "below_minimum", values, bound=f"{rule.ge:g}")
        if rule.gt is not None:
            _flag(v, name, ok & (num <= rule.gt), "not_above_minimum", values, bound=f"{rule.gt:g}")
        if rule.le is not None:
            _flag(v, name, ok & (num > rule.le), "above_maximum", values, bound=f"{rule.le:g}")
        out = pd.Series(num, index=values.index)
        if rule.kind == "int":
            out = out.round().astype("Int64")
    elif rule.kind in ("date", "datetime"):
        parsed, ambiguous, out_of_range = _parse_dates(text)
        _flag(v, name, present & ambiguous, "ambiguous_date", values)
        _flag(v, name, present & out_of_range, "date_out_of_range", values)
        unreadable = present & ~ambiguous & ~out_of_range & parsed.isna().to_numpy()
        _flag(v, name, unreadable, f"not_a_{rule.kind}", values)
        out = parsed.dt.date if rule.kind == "date" else parsed
        out = out.where(parsed.notna(), None)
    elif rule.kind == "bool":
        low = text.fillna("").str.lower()
        is_true, is_false = low.isin(TRUE).to_numpy(), low.isin(FALSE).to_numpy()
        _flag(v, name, present & ~is_true & ~is_false, "not_yes_no", values)
        flags: list[bool | None] = [
            True if t else False if f_ else None for t, f_ in zip(is_true, is_false, strict=True)
        ]
        out = pd.Series(flags, index=values.index, dtype=object)
    elif rule.kind == "enum":
        mapping = _enum_mapping(name, rule.choices)
        mapped = text.map(lambda s: mapping.get(header_key(s)) if isinstance(s, str) else None)
        choices = _choices_text(name, rule.choices)
        _flag(v, name, present & mapped.isna().to_numpy(), "not_a_choice", values, choices=choices)
        out = mapped
    else:  # list
        out = text.map(lambda s: [p for p in LIST_SPLIT.split(s) if p] if isinstance(s, str) else [])
        if rule.choices:  # a list of enum values (customer types…): each item through the aliases
            mapping = _enum_mapping(name, rule.choices)
            mapped = out.map(lambda items: [mapping.get(header_key(i)) for i in items])
            bad = mapped.map(lambda items: None in items).to_numpy(dtype=bool)
            choices = _choices_text(name, rule.choices)
            _flag(v, name, present & bad, "not_a_choice_item", values, choices=choices)
            out = mapped.map(lambda items: list(dict.fromkeys(i for i in items if i is not None)))
    return out


def _enum_mapping(name: str, choices: tuple[str, ...]) -> dict[str, str]:
    """Normalised spelling → canonical value, for the aliases of column ``name`` and the choices themselves."""
    mapping = {header_key(k): val for k, val in ENUM_ALIASES.get(name, {}).items() if val in choices}
    mapping.update({header_key(c): c for c in choices})
    return mapping


_YEAR_FIRST = r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
_YEAR_LAST = r"^(?P<a>\d{1,2})-(?P<b>\d{1,2})-(?P<y>\d{4})"
_TIME = r"(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?$"


def _parse_dates(text: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Dates by one documented rule: the parsed values (NaT when not read), which were ambiguous, which out of range.

    Year first is read as written: ``2025-09-01``, ``2025/9/1``, ``2025.9.1``, ``20250901``, ``2025年9月1日``, with an
    optional time ``HH:MM[:SS]``. A date with the year last is read only when it cannot be misread: ``13/01/2026`` is
    13 January (there is no month 13), ``01/13/2026`` 13 January too, but ``01/02/2026`` — 1 February in China,
    2 January in an American export — is refused as ambiguous, with its row named, rather than guessed. Years outside
    1900–2100 (``0001-01-01``, ``9999-12-31``) are refused too.
    """
    norm = (
        text.fillna("")
        .str.replace(r"[年/.]", "-", regex=True)
        .str.replace("月", "-", regex=False)
        .str.replace(r"[日号]", "", regex=True)
        .str.replace("T", " ", regex=False)
        .str.strip()
    )
    compact = norm.str.fullmatch(r"\d{8}")
    norm = norm.where(~compact, norm.str[:4] + "-" + norm.str[4:6] + "-" + norm.str[6:])
    first = norm.str.extract(_YEAR_FIRST + _TIME)
    last = norm.str.extract(_YEAR_LAST + _TIME)
    a = pd.to_numeric(last["a"], errors="coerce")
    b = pd.to_numeric(last["b"], errors="coerce")
    day_first = ((a > 12) & (b <= 12)) | (a == b)
    month_first = (b > 12) & (a <= 12)
    ambiguous = last["y"].notna() & first["y"].isna() & ~day_first & ~month_first & (a <= 12) & (b <= 12)
    parts = pd.DataFrame(
        {
            "year": pd.to_numeric(first["y"].fillna(last["y"]), errors="coerce"),
            "month": pd.to_numeric(first["m"], errors="coerce").fillna(b.where(day_first, a)),
            "day": pd.to_numeric(first["d"], errors="coerce").fillna(a.where(day_first, b)),
            "hour": pd.to_numeric(first["H"].fillna(last["H"]), errors="coerce").fillna(0),
            "minute": pd.to_numeric(first["M"].fillna(last["M"]), errors="coerce").fillna(0),
            "second": pd.to_numeric(first["S"].fillna(last["S"]), errors="coerce").fillna(0),
        }
    )
    complete = parts[["year", "month", "day"]].notna().all(axis=1) & ~ambiguous
    in_range = parts["year"].between(MIN_YEAR, MAX_YEAR)
    readable = complete & in_range
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if readable.any():
        parsed.loc[readable] = pd.to_datetime(parts[readable], errors="coerce")
    return parsed, ambiguous.to_numpy(), (complete & ~in_range).to_numpy()


def _choices_text(name: str, choices: tuple[str, ...]) -> str:
    """The allowed values of an enum column as a person would type them (连锁/chain、单体药店/single_pharmacy…)."""
    shown = []
    for choice in choices:
        alias = next(
            (k for k, val in ENUM_ALIASES.get(name, {}).items() if val == choice and k != choice and not k.isascii()),
            None,
        )
        shown.append(f"{alias}/{choice}" if alias else choice)
    return "、".join(shown)


def _flag(
    v: Validated, name: str, mask: np.ndarray, code: str, values: pd.Series | None = None, **extra: object
) -> None:
    idx = np.flatnonzero(mask)
    for i in idx[:PER_REASON]:
        shown = {"value": values.iloc[int(i)]} if values is not None else {}
        v.error(int(i), name, code, **shown, **extra)
    _count_more(v, name, len(idx) - min(len(idx), PER_REASON), code)
    if len(idx):
        v.bad[idx] = True


def _count_more(v: Validated, name: str, n: int, reason: str) -> None:  # noqa: ARG001
    """Keep the error count exact without materialising millions of messages."""
    v.uncounted += n


def _check_duplicates(v: Validated) -> None:
    keys = [k for k in v.file_type.keys if k in v.frame.columns]
    if not keys or not len(v.frame):
        return
    dup_all = v.frame.duplicated(subset=keys, keep=False).to_numpy()
    if dup_all.any():
        positions = np.flatnonzero(dup_all)
        sub = v.frame[keys].iloc[positions].astype(str)
        first: dict[tuple[str, ...], int] = {}
        for i, key in zip(positions.tolist(), map(tuple, sub.to_numpy()), strict=True):
            if key in first:
                first_row = v.source_row(first[key])
                names = "/".join(v.headers.get(k, k) for k in keys)
                v.error(i, keys[0], "duplicate_key", keys=names, key="/".join(key), first=first_row)
            first.setdefault(key, i)
